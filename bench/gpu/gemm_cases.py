"""The GEMM benchmark's cases: writes CASE.mlir + CASE.json (shapes, kind,
the kestrelc flags it is compiled with) into a folder. Run here, by
bench/gpu/stage_gemm.sh; bench/gpu/check_gemm.py reads the JSON there.

    python3 bench/gpu/gemm_cases.py OUT_DIR
"""

import json
import sys
from pathlib import Path


def matmul(M, N, K, dtype, out_dtype=None, transpose_b=False, batch=None,
           transpose_a=False):
    """C = A @ B (or A^T / B^T stored, or batched) as a linalg.generic
    contraction, the form the ONNX importer gives a MatMul."""
    out_dtype = out_dtype or dtype
    lead = [batch] if batch else []
    a = "x".join(map(str, lead + ([K, M] if transpose_a else [M, K])))
    b = "x".join(map(str, lead + ([N, K] if transpose_b else [K, N])))
    c = "x".join(map(str, lead + [M, N]))
    d = "d0, " if batch else ""
    dims = (["d0"] if batch else []) + ["m", "n", "k"]
    args = ", ".join(dims)
    bmap = f"({d}n, k)" if transpose_b else f"({d}k, n)"
    amap = f"({d}k, m)" if transpose_a else f"({d}m, k)"
    iters = ", ".join(['"parallel"'] * (len(dims) - 1) + ['"reduction"'])
    body_a = f"%xf = arith.extf %x : {dtype} to {out_dtype}" if dtype != out_dtype else ""
    body_b = f"%yf = arith.extf %y : {dtype} to {out_dtype}" if dtype != out_dtype else ""
    xa = "%xf" if body_a else "%x"
    yb = "%yf" if body_b else "%y"
    return f"""
func.func @gemm(%a: tensor<{a}x{dtype}>, %b: tensor<{b}x{dtype}>) -> tensor<{c}x{out_dtype}> {{
  %zero = arith.constant 0.0 : {out_dtype}
  %e = tensor.empty() : tensor<{c}x{out_dtype}>
  %f = linalg.fill ins(%zero : {out_dtype}) outs(%e : tensor<{c}x{out_dtype}>) -> tensor<{c}x{out_dtype}>
  %r = linalg.generic {{indexing_maps = [affine_map<({args}) -> {amap}>,
                                        affine_map<({args}) -> {bmap}>,
                                        affine_map<({args}) -> ({d}m, n)>],
                       iterator_types = [{iters}]}}
      ins(%a, %b : tensor<{a}x{dtype}>, tensor<{b}x{dtype}>) outs(%f : tensor<{c}x{out_dtype}>) {{
  ^bb0(%x: {dtype}, %y: {dtype}, %acc: {out_dtype}):
    {body_a}
    {body_b}
    %p = arith.mulf {xa}, {yb} : {out_dtype}
    %s = arith.addf %acc, %p : {out_dtype}
    linalg.yield %s : {out_dtype}
  }} -> tensor<{c}x{out_dtype}>
  return %r : tensor<{c}x{out_dtype}>
}}
"""


def tile(*t):
    return ["--extra-passes=func.func(kestrel-gpu-gemm{tile=" +
            ",".join(map(str, t)) + "})"]


def wgmma(tm, tn, stages):
    """The sm_90a wgmma kernel with a tile_m x tile_n x 64 plan."""
    return ["--extra-passes=func.func(kestrel-gpu-gemm{mma=wgmma tile=" +
            f"{tm},{tn},64,{tm // 16},1,{stages}" + "})"]


# The mma.sync kernel with its default plan (on sm_90a the pipeline picks
# the wgmma kernel for M > 64).
SYNC = ["--extra-passes=func.func(kestrel-gpu-gemm{mma=sync})"]


def sync_tile(*t):
    """The mma.sync kernel with a tile_m,tile_n,tile_k,warps_m,warps_n,stages
    plan."""
    return ["--extra-passes=func.func(kestrel-gpu-gemm{mma=sync tile=" +
            ",".join(map(str, t)) + "})"]

# name: (M, N, K, dtype, options, flags, timed)
CASES = {
    # The timed table: bf16 (default plan: wgmma on sm_90a), the mma.sync
    # kernel's default, wgmma tile variants, then mma.sync tile variants.
    "bf16_4096": (4096, 4096, 4096, "bf16", {}, [], True),
    "bf16_4096_sync": (4096, 4096, 4096, "bf16", {}, SYNC, True),
    "bf16_4096_wg128x128s4": (4096, 4096, 4096, "bf16", {}, wgmma(128, 128, 4), True),
    "bf16_4096_wg128x128s5": (4096, 4096, 4096, "bf16", {}, wgmma(128, 128, 5), True),
    "bf16_4096_wg256x128s4": (4096, 4096, 4096, "bf16", {}, wgmma(256, 128, 4), True),
    "bf16_4096_bt": (4096, 4096, 4096, "bf16", {"transpose_b": True}, [], True),
    "bf16_8192_sync": (8192, 8192, 8192, "bf16", {}, SYNC, True),
    # mma.sync plans beyond the default (128 x 256 x 32, 2 x 4 warps, 4
    # stages): 16 warps of 64 x 32, 256 x 128, two 128 x 128 blocks per SM.
    "bf16_4096_sync_128x256w16": (4096, 4096, 4096, "bf16", {}, sync_tile(128, 256, 32, 4, 4, 4), True),
    "bf16_4096_sync_256x128": (4096, 4096, 4096, "bf16", {}, sync_tile(256, 128, 32, 4, 2, 4), True),
    "bf16_4096_sync_128x128w4s4": (4096, 4096, 4096, "bf16", {}, sync_tile(128, 128, 32, 2, 2, 4), True),
    "bf16_4096_sync_128x256k64s3": (4096, 4096, 4096, "bf16", {}, sync_tile(128, 256, 64, 2, 4, 3), True),
    "bf16_8192_wg256x128s4": (8192, 8192, 8192, "bf16", {}, wgmma(256, 128, 4), True),
    # The Llama d2048 block's MLP projections at T 4096.
    "bf16_llama_up": (4096, 5632, 2048, "bf16", {}, [], True),
    "bf16_llama_up_sync": (4096, 5632, 2048, "bf16", {}, SYNC, True),
    "bf16_llama_down": (4096, 2048, 5632, "bf16", {}, [], True),
    "bf16_llama_down_sync": (4096, 2048, 5632, "bf16", {}, SYNC, True),
    "bf16_llama_down_wg128x128s4": (4096, 2048, 5632, "bf16", {}, wgmma(128, 128, 4), True),
    "bf16_8192": (8192, 8192, 8192, "bf16", {}, [], True),
    "bf16_decode_m1": (1, 14336, 4096, "bf16", {}, [], True),
    "bf16_decode_m16": (16, 14336, 4096, "bf16", {}, [], True),
    # f32 (precision=f32: the FFMA kernel) beside torch.matmul f32 (no tf32).
    "f32_4096": (4096, 4096, 4096, "f32", {}, [], True),
    "f32_8192": (8192, 8192, 8192, "f32", {}, [], True),
    "f32_decode_m1": (1, 14336, 4096, "f32", {}, [], True),
    "f32_decode_m16": (16, 14336, 4096, "f32", {}, [], True),
    # Numerics: ragged edges, transposed B, batch, f16, f32 in bf16.
    "bf16_ragged_bt": (200, 300, 72, "bf16", {"transpose_b": True}, [], False),
    "f16_batch_ragged": (100, 88, 136, "f16", {"batch": 3}, [], False),
    "bf16_m16_ragged": (16, 1000, 520, "bf16", {}, [], False),
    "bf16_to_f32_bt": (130, 260, 96, "bf16", {"transpose_b": True, "out_dtype": "f32"}, [], False),
    "f32_ragged_bt": (200, 300, 72, "f32", {"transpose_b": True}, [], False),
    "f32_batch_ragged": (100, 88, 136, "f32", {"batch": 3}, [], False),
    "f32_as_bf16": (384, 512, 256, "f32", {}, ["--precision=bf16"], True),
    "f32_as_f16": (384, 512, 256, "f32", {}, ["--precision=f16"], False),
    # precision=tf32: f32 in memory, mma.sync m16n8k8 on tf32 (peer: cuBLAS
    # with allow_tf32). B [K, N] is read by 4-byte loads, B [N, K] (bt) and
    # A by ldmatrix; ta: A [K, M] by 4-byte loads too.
    "tf32_4096": (4096, 4096, 4096, "f32", {}, ["--precision=tf32"], True),
    "tf32_4096_bt": (4096, 4096, 4096, "f32", {"transpose_b": True}, ["--precision=tf32"], True),
    "tf32_8192": (8192, 8192, 8192, "f32", {}, ["--precision=tf32"], True),
    "tf32_llama_up": (4096, 5632, 2048, "f32", {}, ["--precision=tf32"], True),
    "tf32_decode_m16": (16, 14336, 4096, "f32", {}, ["--precision=tf32"], True),
    "tf32_ragged": (200, 300, 72, "f32", {}, ["--precision=tf32"], False),
    "tf32_ta_bt_ragged": (130, 260, 96, "f32", {"transpose_a": True, "transpose_b": True}, ["--precision=tf32"], False),
    "tf32_ta_batch": (100, 88, 136, "f32", {"transpose_a": True, "batch": 3}, ["--precision=tf32"], False),
    "tf32_m1": (1, 4096, 520, "f32", {}, ["--precision=tf32"], False),
    # The wgmma kernel's operand layouts and edges: M-major A, K-major B,
    # K not a multiple of 64, M and N not multiples of the tile.
    "bf16_wg_ta": (320, 192, 128, "bf16", {"transpose_a": True}, wgmma(128, 128, 3), False),
    "bf16_wg_ta_bt_ragged": (200, 300, 72, "bf16", {"transpose_a": True, "transpose_b": True}, wgmma(128, 256, 4), False),
    "f16_wg_ragged": (130, 260, 136, "f16", {}, wgmma(64, 128, 3), False),
    "bf16_wg_m96_f32out": (96, 520, 200, "bf16", {"out_dtype": "f32"}, wgmma(64, 256, 5), False),
}


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, (M, N, K, dtype, opts, flags, timed) in CASES.items():
        (out / f"{name}.mlir").write_text(matmul(M, N, K, dtype, **opts))
        meta = {"M": M, "N": N, "K": K, "dtype": dtype,
                "out_dtype": opts.get("out_dtype", dtype),
                "transpose_b": opts.get("transpose_b", False),
                "transpose_a": opts.get("transpose_a", False),
                "batch": opts.get("batch"), "flags": flags, "timed": timed,
                "precision": next((f.split("=")[1] for f in flags
                                   if f.startswith("--precision")), None)}
        (out / f"{name}.json").write_text(json.dumps(meta))
        print(name)


if __name__ == "__main__":
    main()
