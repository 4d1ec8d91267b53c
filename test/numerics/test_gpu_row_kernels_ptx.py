"""The row kernels (kestrel-gpu-row-kernels): RMSNorm, softmax and SiLU·up
in f32 and bf16, and the committed exported Llama block, compile to PTX
that ptxas assembles for sm_90a and sm_80, with warp shuffles for the row
reductions, 16-byte global accesses, and no kernel of fewer than 32
threads per block (the launch manifest says each block's size).

CI has no GPU: the numerics of these kernels are checked on an H200 by
bench/gpu/bench_models.sh against the PyTorch modules in f64
(bench/results/2026-12-03-H200-models.md); the CPU pipeline runs the same
kestrel-fuse-elementwise, checked by the CPU numerics tests."""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import PTXAS, kestrelc

ROOT = Path(__file__).resolve().parents[2]


def rms_norm(t, d, ty):
    return f"""
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @rms(%x: tensor<{t}x{d}x{ty}>, %w: tensor<{d}x{ty}>) -> tensor<{t}x{d}x{ty}> {{
  %zero = arith.constant 0.0 : f32
  %n = arith.constant {float(d)} : f32
  %eps = arith.constant 1.0e-6 : f32
  %e1 = tensor.empty() : tensor<{t}xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e1 : tensor<{t}xf32>) -> tensor<{t}xf32>
  %ss = linalg.generic {{indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}}
      ins(%x : tensor<{t}x{d}x{ty}>) outs(%f : tensor<{t}xf32>) {{
  ^bb0(%a: {ty}, %acc: f32):
    {"%af = arith.extf %a : bf16 to f32" if ty == "bf16" else "%af = arith.addf %a, %zero : f32"}
    %sq = arith.mulf %af, %af : f32
    %s = arith.addf %sq, %acc : f32
    linalg.yield %s : f32
  }} -> tensor<{t}xf32>
  %e = tensor.empty() : tensor<{t}x{d}x{ty}>
  %y = linalg.generic {{indexing_maps = [#id, #row, #col, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%x, %ss, %w : tensor<{t}x{d}x{ty}>, tensor<{t}xf32>, tensor<{d}x{ty}>) outs(%e : tensor<{t}x{d}x{ty}>) {{
  ^bb0(%a: {ty}, %s: f32, %g: {ty}, %o: {ty}):
    %m = arith.divf %s, %n : f32
    %me = arith.addf %m, %eps : f32
    %rs = math.rsqrt %me : f32
    %t = arith.mulf %a, %g : {ty}
    {"%tf = arith.extf %t : bf16 to f32" if ty == "bf16" else "%tf = arith.addf %t, %zero : f32"}
    %u = arith.mulf %tf, %rs : f32
    {"%uo = arith.truncf %u : f32 to bf16" if ty == "bf16" else "%uo = arith.addf %u, %zero : f32"}
    linalg.yield %uo : {ty}
  }} -> tensor<{t}x{d}x{ty}>
  return %y : tensor<{t}x{d}x{ty}>
}}
"""


SOFTMAX = """
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @softmax(%x: tensor<64x2048xf32>) -> tensor<64x2048xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<64xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<64xf32>) -> tensor<64xf32>
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<64x2048xf32>) outs(%fm : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.maximumf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %e = tensor.empty() : tensor<64x2048xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<64x2048xf32>, tensor<64xf32>) outs(%e : tensor<64x2048xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %x2 = math.exp %d : f32
    linalg.yield %x2 : f32
  } -> tensor<64x2048xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%e1 : tensor<64xf32>) -> tensor<64xf32>
  %s = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%p : tensor<64x2048xf32>) outs(%fs : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %a, %acc : f32
    linalg.yield %t : f32
  } -> tensor<64xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %s : tensor<64x2048xf32>, tensor<64xf32>) outs(%e : tensor<64x2048xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %q = arith.divf %a, %b : f32
    linalg.yield %q : f32
  } -> tensor<64x2048xf32>
  return %y : tensor<64x2048xf32>
}
"""


def silu_mul(ty):
    return f"""
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @silu_mul(%g: tensor<512x1408x{ty}>, %u: tensor<512x1408x{ty}>) -> tensor<512x1408x{ty}> {{
  %e = tensor.empty() : tensor<512x1408x{ty}>
  %a = linalg.generic {{indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%g : tensor<512x1408x{ty}>) outs(%e : tensor<512x1408x{ty}>) {{
  ^bb0(%x: {ty}, %o: {ty}):
    %n = arith.negf %x : {ty}
    %x2 = math.exp %n : {ty}
    %one = arith.constant 1.0 : {ty}
    %d = arith.addf %x2, %one : {ty}
    %s = arith.divf %x, %d : {ty}
    linalg.yield %s : {ty}
  }} -> tensor<512x1408x{ty}>
  %y = linalg.mul ins(%a, %u : tensor<512x1408x{ty}>, tensor<512x1408x{ty}>) outs(%e : tensor<512x1408x{ty}>) -> tensor<512x1408x{ty}>
  return %y : tensor<512x1408x{ty}>
}}
"""


def compile_ptx(tmp_path, src, chip, *flags):
    """MLIR text -> PTX assembled by ptxas, and each launch's threads per
    block from the manifest."""
    out = tmp_path / f"m_{chip}.ptx"
    kestrelc(src, out, f"--target=cuda:{chip}", "--emit=ptx", *flags)
    if PTXAS is None:
        pytest.skip("ptxas not installed: PTX generated but not assembled")
    subprocess.run([PTXAS, f"-arch={chip}", str(out), "-o", os.devnull],
                   check=True, capture_output=True, text=True)
    manifest = out.with_suffix(".manifest").read_text().splitlines()
    blocks = [int(l.split()[l.split().index("block") + 1]) *
              int(l.split()[l.split().index("block") + 2]) *
              int(l.split()[l.split().index("block") + 3])
              for l in manifest if l.startswith("launch ")]
    return out.read_text(), blocks


@pytest.mark.parametrize("chip", ["sm_90a", "sm_80"])
@pytest.mark.parametrize("ty", ["f32", "bf16"])
def test_rms_norm_one_row_kernel(tmp_path, chip, ty):
    ptx, blocks = compile_ptx(tmp_path, rms_norm(256, 2048, ty), chip)
    # The sum of squares and the scaling: one kernel, one block per row.
    assert len(blocks) == 1 and blocks[0] >= 64
    assert "shfl.sync.bfly" in ptx
    assert "ld.global.v4" in ptx or "ld.global.nc.v4" in ptx
    assert "st.global.v4" in ptx


@pytest.mark.parametrize("chip", ["sm_90a", "sm_80"])
def test_softmax_one_row_kernel(tmp_path, chip):
    ptx, blocks = compile_ptx(tmp_path, SOFTMAX, chip)
    assert len(blocks) == 1 and blocks[0] >= 64
    # Two block-wide reductions (max, sum), each over warp shuffles.
    assert ptx.count("shfl.sync.bfly") >= 10


@pytest.mark.parametrize("ty", ["f32", "bf16"])
def test_silu_mul_fused_wide(tmp_path, ty):
    ptx, blocks = compile_ptx(tmp_path, silu_mul(ty), "sm_90a")
    # SiLU and the product fused into one elementwise kernel of 256 threads.
    assert blocks == [256]
    assert "st.global.v4" in ptx


@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_llama_block_no_narrow_kernels(tmp_path, precision):
    """The committed exported Llama block: every kernel has at least 32
    threads per block."""
    out = tmp_path / "llama.ptx"
    kestrelc(ROOT / "test/onnx/models/llama_block.onnx", out,
             "--target=cuda:sm_90a", "--emit=ptx", f"--precision={precision}")
    if PTXAS is None:
        pytest.skip("ptxas not installed: PTX generated but not assembled")
    subprocess.run([PTXAS, "-arch=sm_90a", str(out), "-o", os.devnull],
                   check=True, capture_output=True, text=True)
    launches = [l.split() for l in out.with_suffix(".manifest").read_text()
                .splitlines() if l.startswith("launch ")]
    sizes = [int(l[l.index("block") + 1]) * int(l[l.index("block") + 2]) *
             int(l[l.index("block") + 3]) for l in launches]
    assert sizes and min(sizes) >= 32
    # Rows of 64 (d = 64) are under min-row: serial reductions, 16-byte
    # elementwise kernels.
    assert "st.global.v4" in out.read_text()
