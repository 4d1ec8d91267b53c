"""The tensor-core attention kernel (kestrel-gpu-flash-attention) for every
variant it covers: PTX that ptxas assembles for sm_90a, with mma.sync and
ldmatrix in it and without the naive per-element kernels.

CI has no GPU, so this checks the kernels are well formed; their numerics
are checked on an H100 by bench/gpu/attention.sh (bench/gpu/cases-flash,
results in bench/results/)."""

import subprocess

import pytest

from conftest import PTXAS


def attention(B, H, Hkv, T, S, D, dtype, attrs):
    q = f"tensor<{B}x{H}x{T}x{D}x{dtype}>"
    kv = f"tensor<{B}x{Hkv}x{S}x{D}x{dtype}>"
    return f"""
func.func @attention(%q: {q}, %k: {kv}, %v: {kv}) -> {q} {{
  %o = kestrel.attention %q, %k, %v {attrs} : {q}, {kv}, {kv} -> {q}
  return %o : {q}
}}
"""


CASES = {
    "bf16_d64": (1, 4, 4, 128, 128, 64, "bf16", ""),
    "bf16_d128_causal": (2, 8, 2, 100, 100, 128, "bf16", "causal"),
    "f16_d64_gqa_offset": (1, 8, 2, 33, 90, 64, "f16", "causal"),
    "bf16_d128_window_sinks": (1, 4, 1, 300, 300, 128, "bf16",
                               "causal window = 64 sinks = 4"),
    "f16_d128_softcap_scale": (1, 2, 2, 64, 64, 128, "f16",
                               "scale = 0.125 softcap = 30.0"),
    "bf16_d64_decode": (4, 8, 8, 1, 500, 64, "bf16", "causal"),
    "bf16_d256_causal_gqa": (1, 4, 2, 200, 200, 256, "bf16", "causal"),
    "bf16_d64_block_sparse": (1, 4, 2, 130, 130, 64, "bf16",
                              "causal block_size = [32, 64] block_map = "
                              "dense<[[true, false, false], [true, true, false],"
                              " [false, true, false], [true, false, true],"
                              " [true, true, true]]> : tensor<5x3xi1>"),
    # Big enough for two row tiles per warp (Q in shared memory at D=128).
    "bf16_d128_prefill": (1, 16, 16, 2048, 2048, 128, "bf16", "causal"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_flash_kernel_ptx(check_ptx, case):
    dtype = CASES[case][6]
    ptx = check_ptx(attention(*CASES[case]))
    # One kernel: the attention is not split into naive element kernels.
    assert ptx.count(".entry") == 1
    assert f"mma.sync.aligned.m16n8k16.row.col.f32.{dtype}.{dtype}.f32" in ptx
    assert "ldmatrix.sync.aligned.m8n8.x4.shared.b16" in ptx
    assert "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16" in ptx
    # Shared tiles are 16-byte aligned for the vector stores and ldmatrix.
    assert ".shared .align 16" in ptx


@pytest.mark.parametrize("case", ["bf16_d64", "bf16_d256_causal_gqa",
                                  "f16_d128_softcap_scale"])
def test_flash_kernel_does_not_spill(check_ptx, tmp_path, case):
    """ptxas's resource report: these kernels fit in registers."""
    ptx = check_ptx(attention(*CASES[case]))
    path = tmp_path / "k.ptx"
    path.write_text(ptx)
    report = subprocess.run([PTXAS, "-arch=sm_90a", "-v", str(path), "-o",
                             str(tmp_path / "k.cubin")], capture_output=True,
                            text=True, check=True).stderr
    assert "0 bytes spill stores" in report, report


def test_flash_kernel_dynamic_shared_memory(tmp_path):
    """The launch asks for the padded tiles as dynamic shared memory: Q, K
    and V tiles at D = 128 with two row tiles per warp (above the 48 KiB of
    static shared memory), K and V only at D = 64, Q + K + V of 64 rows at
    D = 256."""
    from kestrel.compiler import kestrelc
    expect = {"bf16_d128_prefill": (128 + 64 + 64) * (128 + 8) * 2,
              "bf16_d64": (64 + 64) * (64 + 8) * 2,
              "bf16_d256_causal_gqa": (64 + 64 + 64) * (256 + 8) * 2}
    for case, smem in expect.items():
        out = tmp_path / f"{case}.ptx"
        kestrelc(attention(*CASES[case]), out, "--target=cuda:sm_90a")
        launches = [line for line in out.with_suffix(".manifest").read_text()
                    .splitlines() if line.startswith("launch ")]
        assert len(launches) == 1 and f" smem {smem} " in launches[0], \
            (case, launches)


def test_reference_lowering_keeps_naive_kernels(tmp_path):
    """--reference-lowering on cuda: no tensor-core kernel."""
    from kestrel.compiler import kestrelc
    out = tmp_path / "ref.ptx"
    kestrelc(attention(*CASES["bf16_d64"]), out, "--target=cuda:sm_90a",
             "--reference-lowering")
    ptx = out.read_text()
    assert "mma.sync" not in ptx and ptx.count(".entry") > 1
