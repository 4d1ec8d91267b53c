"""CPU contraction benchmark: Kestrel's generated GEMM/GEMV kernels
(kestrel-cpu-contraction, no BLAS) against NumPy's OpenBLAS, measured in the
same run on this machine.

    python3 bench/cpu/bench_gemm.py [--threads 2] [--repeat 5]
                                    [--sizes 256,512,1024,2048]
                                    [--decode-n 4096] [--out FILE.md]

Rows:
- square f32 GEMMs C = A B (A, B runtime inputs, so Kestrel packs B in
  the timed call like BLAS does): GFLOP/s of both and the ratio ours/peer;
- decode C = x W, x [M, 4096], W a [4096, 4096] constant (the weights of a
  compiled model: packed at compile time), M = 1, 4, 16, f32 and bf16: GB/s
  of weight traffic against a memory copy (NumPy `np.copyto` of 256 MiB,
  read + write counted) measured in the same run. The NumPy peer multiplies
  by the same W in f32 (NumPy has no bf16 GEMM).

Both sides run with 2 threads (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS set
before NumPy loads); OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are removed so
OpenBLAS picks its own kernel. Each timed contender starts 0.5 s after the
previous one, once the other's thread pool has stopped spinning (as
bench_models.py separates contenders by processes). Outputs are checked
against NumPy first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def setup_env(threads: int):
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)


# Seconds to wait before each timed contender: libomp's team (Kestrel)
# spins KMP_BLOCKTIME = 200 ms after a parallel region and OpenBLAS's
# threads spin ~0.1 s after a call; without the pause the next contender's
# threads share the two cores with the previous one's spinning threads
# (measured: Kestrel's M=1 GEMV 1.2 ms alone, 2.6-4.0 ms right after
# NumPy's matmul; OpenBLAS 256^3 0.18 ms alone, 16 ms right after Kestrel).
SETTLE_S = 0.5


def times_ms(fn, repeat):
    time.sleep(SETTLE_S)
    fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(1e3 * (time.perf_counter() - start))
    return sorted(out)[len(out) // 2]


def to_bf16_bits(x):
    import numpy as np
    u = np.ascontiguousarray(x, np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(b):
    import numpy as np
    return (b.astype(np.uint32) << 16).view(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="256,512,1024,2048")
    ap.add_argument("--decode-n", type=int, default=4096)
    ap.add_argument("--rotate", type=int, default=10,
                    help="M=1 f32 decode over this many distinct weights in "
                         "turn (more bytes than the last-level cache); 0: skip")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    setup_env(args.threads)
    import numpy as np
    sys.path.insert(0, str(REPO / "python"))
    from kestrel.compiler import kestrelc
    from kestrel.runtime import CpuLibrary

    tmp = Path(tempfile.mkdtemp(prefix="bench_gemm_"))
    rng = np.random.default_rng(0)
    lines = []

    def emit(s=""):
        print(s, flush=True)
        lines.append(s)

    def build(name, text):
        out = tmp / f"{name}.so"
        start = time.perf_counter()
        kestrelc(text, out, "--target=cpu", "--emit=so")
        return CpuLibrary(out), time.perf_counter() - start

    emit(f"threads = {args.threads}, median of {args.repeat}")
    emit()
    emit("| GEMM f32 (M=N=K) | Kestrel ms | GFLOP/s | OpenBLAS ms | GFLOP/s "
         "| ours / OpenBLAS | compile s |")
    emit("| --- | --- | --- | --- | --- | --- | --- |")
    for n in [int(s) for s in args.sizes.split(",")]:
        t = f"tensor<{n}x{n}xf32>"
        lib, ct = build(f"gemm{n}", f"""
func.func @f(%a: {t}, %b: {t}) -> {t} {{
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : {t}
  %c = linalg.fill ins(%z : f32) outs(%e : {t}) -> {t}
  %r = linalg.matmul ins(%a, %b : {t}, {t}) outs(%c : {t}) -> {t}
  return %r : {t}
}}""")
        a = rng.standard_normal((n, n), np.float32)
        b = rng.standard_normal((n, n), np.float32)
        (got,) = lib.f(a, b)
        want = a @ b
        err = np.abs(got - want).max() / np.abs(want).max()
        assert err < 1e-5, f"gemm {n}: relative error {err}"
        ours = times_ms(lambda: lib.f(a, b), args.repeat)
        peer = times_ms(lambda: a @ b, args.repeat)
        flop = 2.0 * n ** 3
        emit(f"| {n} | {ours:.2f} | {flop / ours / 1e6:.1f} | {peer:.2f} | "
             f"{flop / peer / 1e6:.1f} | {peer / ours:.2f} | {ct:.2f} |")

    src = np.empty(64 << 20, np.float32)
    src[:] = 1.0
    dst = np.empty_like(src)
    copy_ms = times_ms(lambda: np.copyto(dst, src), args.repeat)
    copy_gbs = 2 * src.nbytes / copy_ms / 1e6
    emit()
    emit(f"memory copy (np.copyto, 256 MiB, read + write): {copy_gbs:.1f} GB/s")
    emit()
    emit("| decode x[M,K] W[K,N] | dtype | Kestrel ms | weight GB/s | "
         "% of copy | OpenBLAS f32 ms | OpenBLAS / ours | compile s |")
    emit("| --- | --- | --- | --- | --- | --- | --- | --- |")
    K = N = args.decode_n
    w = (rng.standard_normal((K, N)) / np.sqrt(K)).astype(np.float32)
    wb = to_bf16_bits(w)
    wb32 = from_bf16_bits(wb)
    for dt in ("f32", "bf16"):
        # The weight constant goes through a raw file-free dense literal: hex
        # of the little-endian bytes keeps the text exact and fast to parse.
        raw = (w if dt == "f32" else wb).tobytes().hex()
        for M in (1, 4, 16):
            xt = f"tensor<{M}x{K}x{dt}>"
            wt = f"tensor<{K}x{N}x{dt}>"
            ot = f"tensor<{M}x{N}x{dt}>"
            body = "%p = arith.mulf %x, %y : f32\n    %s = arith.addf %o, %p : f32"
            if dt == "bf16":
                body = ("%x1 = arith.extf %x : bf16 to f32\n"
                        "    %y1 = arith.extf %y : bf16 to f32\n"
                        "    %p = arith.mulf %x1, %y1 : f32\n"
                        "    %s = arith.addf %o, %p : f32")
            ft = f"tensor<{M}x{N}xf32>"
            lib, ct = build(f"dec{dt}{M}", f"""
func.func @f(%a: {xt}) -> {ft} {{
  %b = arith.constant dense<"0x{raw}"> : {wt}
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : {ft}
  %c = linalg.fill ins(%z : f32) outs(%e : {ft}) -> {ft}
  %r = linalg.generic {{indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
      affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
      iterator_types = ["parallel", "parallel", "reduction"]}}
      ins(%a, %b : {xt}, {wt}) outs(%c : {ft}) {{
  ^bb0(%x: {dt}, %y: {dt}, %o: f32):
    {body}
    linalg.yield %s : f32
  }} -> {ft}
  return %r : {ft}
}}""")
            del ot
            x = rng.standard_normal((M, K), np.float32)
            xin = x if dt == "f32" else to_bf16_bits(x)
            x32 = x if dt == "f32" else from_bf16_bits(xin)
            (got,) = lib.f(xin)
            want = x32.astype(np.float64) @ (w if dt == "f32" else wb32)
            err = np.abs(got - want).max() / np.abs(want).max()
            assert err < 1e-5, f"decode {dt} M={M}: relative error {err}"
            ours = times_ms(lambda: lib.f(xin), args.repeat * 4)
            peer = times_ms(lambda: x @ w, args.repeat * 4)
            gbs = K * N * (4 if dt == "f32" else 2) / ours / 1e6
            emit(f"| M={M}, {K}x{N} | {dt} | {ours:.3f} | {gbs:.1f} | "
                 f"{100 * gbs / copy_gbs:.0f}% | {peer:.3f} | "
                 f"{peer / ours:.2f} | {ct:.2f} |")
    if args.rotate:
        # The table above reads one 64 MiB weight per row, which stays in a
        # large last-level cache between calls (480 MiB on some VMs); here
        # every call reads another of `rotate` weights (rotate x 64 MiB in
        # all), as a decode step through a whole model does.
        K = N = args.decode_n
        ws = [(rng.standard_normal((K, N)) / np.sqrt(K)).astype(np.float32)
              for _ in range(args.rotate)]
        libs = []
        for i, wi in enumerate(ws):
            raw = wi.tobytes().hex()
            lib, _ = build(f"rot{i}", f"""
func.func @f(%a: tensor<1x{K}xf32>) -> tensor<1x{N}xf32> {{
  %b = arith.constant dense<"0x{raw}"> : tensor<{K}x{N}xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x{N}xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<1x{N}xf32>) -> tensor<1x{N}xf32>
  %r = linalg.matmul ins(%a, %b : tensor<1x{K}xf32>, tensor<{K}x{N}xf32>) outs(%c : tensor<1x{N}xf32>) -> tensor<1x{N}xf32>
  return %r : tensor<1x{N}xf32>
}}""")
            libs.append(lib)
        x = rng.standard_normal((1, K), np.float32)
        for lib, wi in zip(libs, ws):
            (got,) = lib.f(x)
            want = x.astype(np.float64) @ wi
            assert np.abs(got - want).max() / np.abs(want).max() < 1e-5
        turn = {"ours": 0, "peer": 0}

        def ours_call():
            turn["ours"] = (turn["ours"] + 1) % len(libs)
            libs[turn["ours"]].f(x)

        def peer_call():
            turn["peer"] = (turn["peer"] + 1) % len(ws)
            x @ ws[turn["peer"]]

        ours = times_ms(ours_call, args.rotate * 4)
        peer = times_ms(peer_call, args.rotate * 4)
        gbs = K * N * 4 / ours / 1e6
        emit()
        emit(f"| M=1, {K}x{N}, {args.rotate} weights in turn "
             f"({args.rotate * K * N * 4 >> 20} MiB) | f32 | {ours:.3f} | "
             f"{gbs:.1f} | {100 * gbs / copy_gbs:.0f}% | {peer:.3f} | "
             f"{peer / ours:.2f} | |")
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
