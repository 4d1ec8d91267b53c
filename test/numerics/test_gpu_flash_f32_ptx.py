"""The f32 SIMT flash attention kernel (kestrel-gpu-flash-attention on f32
storage) for every variant it covers: PTX that ptxas assembles for sm_90a,
one kernel of FFMA (no mma), no spills, and no buffer of T x S scores in
the compiled program.

CI has no GPU, so this checks the kernels are well formed and the memory
plan; their numerics are checked on the device by
bench/gpu/check_f32_attention.py (results in bench/results/)."""

import re
import subprocess

import pytest

from conftest import PTXAS


def attention(B, H, Hkv, T, S, D, Dv, attrs, lse=False):
    q = f"tensor<{B}x{H}x{T}x{D}xf32>"
    k = f"tensor<{B}x{Hkv}x{S}x{D}xf32>"
    v = f"tensor<{B}x{Hkv}x{S}x{Dv}xf32>"
    o = f"tensor<{B}x{H}x{T}x{Dv}xf32>"
    if lse:
        l = f"tensor<{B}x{H}x{T}xf32>"
        return f"""
func.func @attention(%q: {q}, %k: {k}, %v: {v}) -> ({o}, {l}) {{
  %o, %l = kestrel.attention %q, %k, %v {attrs} : {q}, {k}, {v} -> {o}, {l}
  return %o, %l : {o}, {l}
}}
"""
    return f"""
func.func @attention(%q: {q}, %k: {k}, %v: {v}) -> {o} {{
  %o = kestrel.attention %q, %k, %v {attrs} : {q}, {k}, {v} -> {o}
  return %o : {o}
}}
"""


# (B, H, Hkv, T, S, D, Dv, attrs, lse)
CASES = {
    "d64": (1, 4, 4, 128, 128, 64, 64, "", False),
    "d64_causal_gqa": (1, 8, 2, 2048, 2048, 64, 64, "causal", False),
    "d128_causal_big": (4, 16, 16, 4096, 4096, 128, 128, "causal", False),
    "d64_offset_lse": (1, 8, 2, 33, 90, 64, 64, "causal", True),
    "d128_window_sinks": (1, 4, 1, 300, 300, 128, 128,
                          "causal window = 64 sinks = 4", False),
    "d32_softcap_scale": (1, 2, 2, 64, 64, 32, 32,
                          "scale = 0.125 softcap = 30.0", False),
    "d64_decode": (4, 8, 8, 1, 500, 64, 64, "causal", True),
    "d256_dv128_causal": (1, 4, 2, 200, 200, 256, 128, "causal", False),
    "d64_block_sparse": (1, 4, 2, 130, 130, 64, 64,
                         "causal block_size = [32, 64] block_map = "
                         "dense<[[true, false, false], [true, true, false],"
                         " [false, true, false], [true, false, true],"
                         " [true, true, true]]> : tensor<5x3xi1>", False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_f32_flash_kernel_ptx(check_ptx, case):
    ptx = check_ptx(attention(*CASES[case]))
    # One kernel, of f32 FMAs: not split into naive element kernels, no
    # tensor-core instruction.
    assert ptx.count(".entry") == 1
    assert "fma.rn.f32" in ptx
    assert "mma.sync" not in ptx and "ldmatrix" not in ptx
    # K/V tiles arrive by cp.async and are read with 16-byte shared loads.
    assert "cp.async.cg.shared.global" in ptx
    assert re.search(r"ld\.shared\.v4\.(f32|b32)", ptx)
    assert "ex2.approx.ftz.f32" in ptx


@pytest.mark.parametrize("case", ["d64_causal_gqa", "d128_causal_big",
                                  "d256_dv128_causal", "d64_offset_lse"])
def test_f32_flash_kernel_does_not_spill(check_ptx, tmp_path, case):
    """ptxas's resource report: these kernels fit in registers."""
    ptx = check_ptx(attention(*CASES[case]))
    path = tmp_path / "k.ptx"
    path.write_text(ptx)
    report = subprocess.run([PTXAS, "-arch=sm_90a", "-v", str(path), "-o",
                             str(tmp_path / "k.cubin")], capture_output=True,
                            text=True, check=True).stderr
    assert "0 bytes spill stores" in report, report


def manifest_launches(tmp_path, mlir, name):
    from kestrel.compiler import kestrelc
    out = tmp_path / f"{name}.ptx"
    kestrelc(mlir, out, "--target=cuda:sm_90a")
    text = out.with_suffix(".manifest").read_text()
    return text, [line for line in text.splitlines()
                  if line.startswith("launch ")]


def test_f32_flash_kernel_shared_memory(tmp_path):
    """The launch asks for padded Q, K, V and P tiles (floats, rows padded
    by 4) as dynamic shared memory: 32 query rows x 64 keys at D = 64 for
    the small GQA case, 64 rows x 32 keys at D = 128 for the big one."""
    expect = {
        "d64_causal_gqa": 4 * ((32 + 64) * 68 + 64 * 68 + 32 * 68),
        "d128_causal_big": 4 * ((64 + 32) * 132 + 32 * 132 + 64 * 36),
    }
    for case, smem in expect.items():
        _, launches = manifest_launches(tmp_path, attention(*CASES[case]),
                                        case)
        assert len(launches) == 1 and f" smem {smem} " in launches[0], \
            (case, launches)


def temp_bytes(manifest: str):
    """Sizes of the device buffers the compiled function allocates besides
    its inputs and outputs (the manifest's `temp <id> <bytes>` lines)."""
    return [int(line.split()[2]) for line in manifest.splitlines()
            if line.startswith("temp ")]


@pytest.mark.parametrize("case", ["d64_causal_gqa", "d128_window_sinks",
                                  "d64_offset_lse"])
def test_cuda_pipeline_has_no_score_buffer(tmp_path, case):
    """What the CUDA pipeline emits for an f32 attention (PTX + launch
    manifest) allocates no buffer of T x S f32 scores: no temporary device
    buffer at all, one kernel whose shared memory holds tiles. The reference lowering, compiled the same way, does allocate the
    B x H x T x S score buffer (so the check can see one)."""
    B, H, Hkv, T, S, D, Dv = CASES[case][:7]
    mlir = attention(*CASES[case])
    text, launches = manifest_launches(tmp_path, mlir, case)
    assert temp_bytes(text) == [], text
    assert len(launches) == 1
    smem = int(launches[0].split(" smem ")[1].split()[0])
    assert smem <= 227 * 1024, smem  # tiles (sizes: the test above)
    from kestrel.compiler import kestrelc
    ref = tmp_path / f"{case}_ref.ptx"
    kestrelc(mlir, ref, "--target=cuda:sm_90a", "--reference-lowering")
    temps = temp_bytes(ref.with_suffix(".manifest").read_text())
    assert max(temps) >= 4 * B * H * T * S, temps
