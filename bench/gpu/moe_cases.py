"""The kestrel.moe cases of bench/gpu/bench_moe.sh: one MLIR function per
case (`@moe(x, indices, weights, w1, w3, w2 [, s1, s3, s2]) -> out`, every
weight a runtime input) and its meta JSON. Numerics cases are small and
cover the edges (an empty expert, k = E, N not a tile multiple, i64
indices with out-of-range entries and zero weights, f32 on the FFMA
kernel, shared experts); bench cases are the shapes of issue 16.

    python3 bench/gpu/moe_cases.py DEST
"""

import json
import sys
from pathlib import Path

# name: N, d, F, E, k, shared Fs (0: none), dtype, index dtype, timed, edge
CASES = {
    "bf16_empty_expert": (256, 128, 256, 8, 2, 0, "bf16", "i32", False, "empty"),
    "bf16_k_eq_e": (130, 64, 128, 4, 4, 0, "bf16", "i32", False, ""),
    "bf16_shared": (256, 128, 64, 16, 4, 128, "bf16", "i32", False, ""),
    "bf16_i64_dropped": (100, 64, 96, 8, 2, 0, "bf16", "i64", False, "dropped"),
    "f16_small": (64, 64, 64, 4, 2, 0, "f16", "i32", False, ""),
    "f32_ragged": (200, 64, 128, 8, 2, 0, "f32", "i32", False, "empty"),
    "f32_shared_k_eq_e": (96, 64, 64, 4, 4, 64, "f32", "i32", False, ""),
    # More than 64 rows per expert: the grouped GEMMs run on the sm_90a
    # wgmma kernel (an empty expert; dropped pairs with K and N edges off
    # the 64 / 128 tiles in f16; shared experts through the fused GEMMs).
    "bf16_wgmma_empty": (1024, 256, 384, 8, 2, 0, "bf16", "i32", False, "empty"),
    "f16_wgmma_dropped": (600, 200, 200, 4, 2, 0, "f16", "i64", False, "dropped"),
    "bf16_wgmma_shared": (512, 128, 256, 8, 4, 256, "bf16", "i32", False, ""),
    "mixtral_t4096_d4096": (4096, 4096, 14336, 8, 2, 0, "bf16", "i32", True, ""),
    "fine_t4096_d2048_e64": (4096, 2048, 1408, 64, 6, 2 * 1408, "bf16", "i32",
                             True, ""),
}


# kestrel.route cases (kestrel-gpu-route): name: N, E, k, score, bias, dtype
ROUTES = {
    "route_softmax_e8_k2": (1000, 8, 2, "softmax", False, "f32"),
    "route_sigmoid_bias_e64_k6": (517, 64, 6, "sigmoid", True, "bf16"),
    "route_softmax_e256_k8": (300, 256, 8, "softmax", False, "f32"),
}


def route_mlir(N, E, k, score, bias, dt):
    b = f" selection_bias(%b : tensor<{E}xf32>)" if bias else ""
    args = f"%l: tensor<{N}x{E}x{dt}>" + (f", %b: tensor<{E}xf32>" if bias else "")
    res = f"tensor<{N}x{k}xi32>, tensor<{N}x{k}xf32>"
    return (f"func.func @route({args}) -> ({res}) {{\n"
            f"  %i, %w = kestrel.route %l score = {score} k = {k}{b} renormalize\n"
            f"      : tensor<{N}x{E}x{dt}> -> {res}\n"
            f"  return %i, %w : {res}\n}}\n")


def mlir(N, d, F, E, k, fs, dt, it):
    t = lambda *s: "tensor<" + "x".join(map(str, s)) + "x" + dt + ">"  # noqa: E731
    args = [f"%x: {t(N, d)}", f"%idx: tensor<{N}x{k}x{it}>",
            f"%w: tensor<{N}x{k}xf32>", f"%w1: {t(E, d, F)}", f"%w3: {t(E, d, F)}",
            f"%w2: {t(E, F, d)}"]
    shared = ""
    if fs:
        args += [f"%s1: {t(d, fs)}", f"%s3: {t(d, fs)}", f"%s2: {t(fs, d)}"]
        shared = (f" shared(%s1, %s3, %s2 : {t(d, fs)}, {t(d, fs)}, "
                  f"{t(fs, d)})")
    return (f"func.func @moe({', '.join(args)}) -> {t(N, d)} {{\n"
            f"  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2){shared}\n"
            f"      : {t(N, d)}, tensor<{N}x{k}x{it}>, tensor<{N}x{k}xf32>, "
            f"{t(E, d, F)}, {t(E, d, F)}, {t(E, F, d)} -> {t(N, d)}\n"
            f"  return %y : {t(N, d)}\n}}\n")


def main(dest):
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name, (N, d, F, E, k, fs, dt, it, timed, edge) in CASES.items():
        (dest / f"{name}.mlir").write_text(mlir(N, d, F, E, k, fs, dt, it))
        (dest / f"{name}.json").write_text(json.dumps(dict(
            N=N, d=d, F=F, E=E, k=k, Fs=fs, dtype=dt, index=it, timed=timed,
            edge=edge)))
        print(name)
    for name, (N, E, k, score, bias, dt) in ROUTES.items():
        (dest / f"{name}.mlir").write_text(route_mlir(N, E, k, score, bias, dt))
        (dest / f"{name}.json").write_text(json.dumps(dict(
            kind="route", N=N, E=E, k=k, score=score, bias=bias, dtype=dt)))
        print(name)


if __name__ == "__main__":
    main(sys.argv[1])
