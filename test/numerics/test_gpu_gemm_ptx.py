"""The tensor-core GEMM kernels (kestrel-gpu-gemm): bf16/f16 contractions
with ragged edges, decode rows (M = 1, 16), a batch, transposed weights and
an f32 model under --precision=bf16 (and tf32) compile to PTX that ptxas assembles for
sm_90a and sm_80, with cp.async, ldmatrix and mma.sync in it (on sm_90a,
for more than 64 rows, wgmma instead) and without the naive per-element
kernels; every wgmma tile plan the benchmark tries assembles without
ptxas serializing its wgmmas; f32 contractions (precision=f32) to the FFMA
kernel.

CI has no GPU, so this checks the kernels are well formed; their numerics
and speed are checked on an H200 by bench/gpu/gemm.sh (results in
bench/results/)."""

import pytest

from conftest import kestrelc
from kestrel.compiler import CompileError


def gemm(M, N, K, dtype, batch=None, transpose_b=False, out_dtype=None):
    out_dtype = out_dtype or dtype
    lead = [batch] if batch else []
    shape = lambda *s: "x".join(map(str, lead + list(s)))
    a, c = shape(M, K), shape(M, N)
    b = shape(N, K) if transpose_b else shape(K, N)
    d = "d0, " if batch else ""
    loops = "d0, m, n, k" if batch else "m, n, k"
    bmap = f"({d}n, k)" if transpose_b else f"({d}k, n)"
    iters = ", ".join(['"parallel"'] * (3 if batch else 2) + ['"reduction"'])
    ext = dtype != out_dtype
    x = "%xf" if ext else "%x"
    y = "%yf" if ext else "%y"
    casts = (f"%xf = arith.extf %x : {dtype} to {out_dtype}\n"
             f"    %yf = arith.extf %y : {dtype} to {out_dtype}") if ext else ""
    return f"""
func.func @gemm(%a: tensor<{a}x{dtype}>, %b: tensor<{b}x{dtype}>) -> tensor<{c}x{out_dtype}> {{
  %zero = arith.constant 0.0 : {out_dtype}
  %e = tensor.empty() : tensor<{c}x{out_dtype}>
  %f = linalg.fill ins(%zero : {out_dtype}) outs(%e : tensor<{c}x{out_dtype}>) -> tensor<{c}x{out_dtype}>
  %r = linalg.generic {{indexing_maps = [affine_map<({loops}) -> ({d}m, k)>,
                                        affine_map<({loops}) -> {bmap}>,
                                        affine_map<({loops}) -> ({d}m, n)>],
                       iterator_types = [{iters}]}}
      ins(%a, %b : tensor<{a}x{dtype}>, tensor<{b}x{dtype}>) outs(%f : tensor<{c}x{out_dtype}>) {{
  ^bb0(%x: {dtype}, %y: {dtype}, %acc: {out_dtype}):
    {casts}
    %p = arith.mulf {x}, {y} : {out_dtype}
    %s = arith.addf %acc, %p : {out_dtype}
    linalg.yield %s : {out_dtype}
  }} -> tensor<{c}x{out_dtype}>
  return %r : tensor<{c}x{out_dtype}>
}}
"""


CASES = {
    "bf16_square": dict(M=256, N=256, K=256, dtype="bf16"),
    "bf16_ragged": dict(M=200, N=300, K=72, dtype="bf16"),
    "f16_ragged_k": dict(M=130, N=96, K=40, dtype="f16"),
    "bf16_m1": dict(M=1, N=4096, K=512, dtype="bf16"),
    "f16_m16": dict(M=16, N=1000, K=520, dtype="f16"),
    "bf16_batch": dict(M=100, N=88, K=136, dtype="bf16", batch=3),
    "bf16_transposed_b": dict(M=128, N=320, K=256, dtype="bf16",
                              transpose_b=True),
    "f16_transposed_b_m1": dict(M=1, N=260, K=64, dtype="f16",
                                transpose_b=True),
    "bf16_in_f32_out": dict(M=64, N=96, K=128, dtype="bf16",
                            out_dtype="f32"),
}


@pytest.mark.parametrize("chip", ["sm_90a", "sm_80"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gemm_kernel_ptx(check_ptx, case, chip):
    spec = CASES[case]
    ptx = check_ptx(gemm(**spec), chip)
    # One kernel: the contraction is not split into naive element kernels.
    assert ptx.count(".entry") == 1
    d = spec["dtype"]
    if chip == "sm_90a" and spec["M"] > 64:
        # Hopper, more than 64 rows: the wgmma kernel (128 x 128 tiles for
        # these small shapes), no mma.sync.
        assert f"wgmma.mma_async.sync.aligned.m64n128k16.f32.{d}.{d}" in ptx
        assert "mma.sync" not in ptx
    else:
        assert f"mma.sync.aligned.m16n8k16.row.col.f32.{d}.{d}.f32" in ptx
        assert "ldmatrix.sync.aligned.m8n8.x4" in ptx
        assert "wgmma" not in ptx
    assert "cp.async" in ptx
    assert ".shared .align 16" in ptx or ".extern .shared .align 16" in ptx


F32_CASES = {
    "f32_square": dict(M=256, N=256, K=256, dtype="f32"),
    "f32_big": dict(M=1024, N=1024, K=128, dtype="f32"),
    "f32_ragged": dict(M=200, N=300, K=72, dtype="f32"),
    "f32_m1": dict(M=1, N=4096, K=512, dtype="f32"),
    "f32_batch": dict(M=100, N=88, K=136, dtype="f32", batch=3),
    "f32_transposed_b": dict(M=128, N=320, K=256, dtype="f32",
                             transpose_b=True),
}


@pytest.mark.parametrize("chip", ["sm_90a", "sm_80"])
@pytest.mark.parametrize("case", sorted(F32_CASES))
def test_f32_ffma_kernel_ptx(check_ptx, case, chip):
    """precision=f32 (the default): one FFMA kernel with cp.async tiles and
    16-byte shared loads, no tensor-core instruction."""
    ptx = check_ptx(gemm(**F32_CASES[case]), chip)
    assert ptx.count(".entry") == 1
    assert "fma.rn.f32" in ptx
    assert "ld.shared.v4" in ptx
    assert "cp.async" in ptx
    assert "mma.sync" not in ptx


def test_f32_precision_bf16_ptx(check_ptx):
    """--precision=bf16: an f32 matmul runs on bf16 tensor cores (after an
    elementwise rounding kernel per operand); the default keeps f32 (the
    FFMA kernel)."""
    src = gemm(M=64, N=128, K=96, dtype="f32")
    ptx = check_ptx(src, flags=["--precision=bf16"])
    assert "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32" in ptx
    default = check_ptx(src)
    assert "mma.sync" not in default


@pytest.mark.parametrize("chip", ["sm_90a", "sm_80"])
@pytest.mark.parametrize("case", sorted(F32_CASES))
def test_tf32_kernel_ptx(check_ptx, case, chip):
    """--precision=tf32 on the f32 cases: f32 contractions on tensor cores
    (mma.sync m16n8k8 on tf32, every operand register rounded by cvt.rna),
    f32 kept in memory (no rounding kernel: one kernel), B [K, N] read by
    4-byte shared loads and [N, K] by ldmatrix; ptxas assembles it without
    spills."""
    spec = F32_CASES[case]
    ptx, log = check_ptx(gemm(**spec), chip, flags=["--precision=tf32"],
                         with_log=True)
    assert ptx.count(".entry") == 1
    assert "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32" in ptx
    assert "cvt.rna.tf32.f32" in ptx
    assert "fma.rn.f32" not in ptx and "wgmma" not in ptx
    assert "ldmatrix.sync.aligned.m8n8.x4.shared.b16" in ptx
    if not spec.get("transpose_b"):
        assert "ld.shared.u32" in ptx or "ld.shared.b32" in ptx
    assert " 0 bytes spill stores" in log


def test_precision_rejects_unknown_and_cpu(tmp_path):
    src = gemm(M=16, N=16, K=16, dtype="f32")
    with pytest.raises(CompileError, match="unknown precision 'fp8'"):
        kestrelc(src, tmp_path / "x.ptx", "--target=cuda:sm_90a",
                 "--emit=ptx", "--precision=fp8")
    with pytest.raises(CompileError, match="needs a cuda target"):
        kestrelc(src, tmp_path / "x.so", "--target=cpu", "--precision=bf16")


# (M, N, K, dtype, transpose_a, transpose_b) x the wgmma plans of
# bench/gpu/gemm_cases.py (tile_m, tile_n, stages).
# (192, 128, 4): 384 threads, B's copies do not divide over them.
WGMMA_PLANS = [(128, 256, 4), (128, 256, 3), (128, 128, 3), (128, 128, 5),
               (256, 128, 4), (64, 256, 4), (64, 256, 5), (64, 128, 3),
               (192, 128, 4)]
WGMMA_LAYOUTS = {
    "nn": dict(M=512, N=512, K=256, dtype="bf16"),
    "nt_f16": dict(M=200, N=320, K=72, dtype="f16", transpose_b=True),
    "tn": dict(M=256, N=256, K=128, dtype="bf16", transpose_a=True),
}


def gemm_ta(M, N, K, dtype, transpose_a=False, transpose_b=False):
    """gemm() with A stored [K, M] when transpose_a."""
    src = gemm(M, N, K, dtype, transpose_b=transpose_b)
    if not transpose_a:
        return src
    return (src.replace(f"%a: tensor<{M}x{K}x{dtype}>",
                        f"%a: tensor<{K}x{M}x{dtype}>")
               .replace(f"tensor<{M}x{K}x{dtype}>, tensor",
                        f"tensor<{K}x{M}x{dtype}>, tensor")
               .replace("affine_map<(m, n, k) -> (m, k)>",
                        "affine_map<(m, n, k) -> (k, m)>"))


@pytest.mark.parametrize("layout", sorted(WGMMA_LAYOUTS))
@pytest.mark.parametrize("plan", WGMMA_PLANS, ids=lambda p: "x".join(map(str, p)))
def test_wgmma_plans_assemble(tmp_path, layout, plan):
    """Every wgmma plan (mma=wgmma with a tile override) compiles to PTX
    that ptxas assembles for sm_90a with its wgmmas pipelined: ptxas warns
    when it has to serialize them (accumulators touched in flight), and
    such a warning fails the test; no register spills."""
    import subprocess
    from conftest import PTXAS
    tm, tn, stages = plan
    spec = WGMMA_LAYOUTS[layout]
    out = tmp_path / "w.ptx"
    kestrelc(gemm_ta(**spec), out, "--target=cuda:sm_90a", "--emit=ptx",
             "--extra-passes=func.func(kestrel-gpu-gemm{mma=wgmma tile="
             f"{tm},{tn},64,{tm // 16},1,{stages}" + "})")
    ptx = out.read_text()
    d = spec["dtype"]
    ta = "1" if spec.get("transpose_a") else "0"
    tb = "0" if spec.get("transpose_b") else "1"
    # 4 k16 steps per K tile (LLVM may unroll or peel the K loop).
    n = ptx.count(f"wgmma.mma_async.sync.aligned.m64n{tn}k16.f32.{d}.{d}")
    assert n >= 4 and n % 4 == 0
    assert f"p, 1, 1, {ta}, {tb};" in ptx
    # One wgmma group stays in flight across a K tile's end for 128 x 256
    # (and 256 x 128) tiles, none for smaller ones (docs/pipelines.md).
    in_flight = 1 if tm * tn >= 128 * 256 else 0
    assert f"wgmma.wait_group.sync.aligned {in_flight};" in ptx
    if PTXAS is None:
        pytest.skip("ptxas not installed: PTX generated but not assembled")
    log = subprocess.run([PTXAS, "-arch=sm_90a", "-v", str(out), "-o",
                          str(tmp_path / "w.cubin")], check=True,
                         capture_output=True, text=True).stderr
    assert "warning" not in log, log
    assert " 0 bytes spill stores" in log, log
