"""Contractions compiled for the CPU by kestrel-cpu-contraction (packed,
register-tiled micro-kernels, docs/pipelines.md) against NumPy in float64
on the same (rounded) inputs.

Shapes cover ragged M/N/K (not multiples of the 8x32 tile or of kc = 256),
M = 1..16 (the GEMV path), batch matmul, broadcast batch (importer form),
transposed operands, constant and runtime B, and fused epilogues (bias,
residual, SiLU, SiLU(gate)·up).

Tolerances: |out - ref| <= rtol · (|A| |B|)_ij (+ the consumer's terms) +
atol, i.e. relative to the sum of magnitudes of the products:
- f32: rtol 1e-5 (f32 accumulation over K <= 600: ~sqrt(K) · 6e-8 typical,
  the bound leaves room for the worst case), atol 1e-6;
- bf16 inputs with f32 accumulation: rtol 1e-5 against the oracle on the
  bf16-rounded inputs; with a bf16 result one more rounding: rtol 8e-3
  (two half ulps of bf16), atol 1e-4.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import storage, value_of

DIMS = "d0, d1, d2, d3, d4"


def ttype(shape, dtype):
    return f"tensor<{'x'.join(str(s) for s in shape)}x{dtype}>"


def amap(rank, exprs):
    return f"affine_map<({DIMS[:4 * rank - 2]}) -> ({', '.join(exprs)})>"


def dense(x: np.ndarray, dtype: str) -> str:
    def rows(a):
        if a.ndim == 1:
            return "[" + ", ".join(f"{v:.9e}" for v in a) + "]"
        return "[" + ", ".join(rows(r) for r in a) + "]"
    return f"dense<{rows(x)}> : {ttype(x.shape, dtype)}"


def contraction(a_shape, b_shape, out_shape, maps, dt="f32", out_dt=None,
                b_const=None, epilogue=None):
    """MLIR text of a linalg.generic contraction (importer form) and an
    optional elementwise consumer. `maps` are the expression lists of A, B
    and C over (outer.., m, n, k); `epilogue` = (extra arg types, extra
    maps, body lines using %c (contraction) and %e0.. (extras), result)."""
    out_dt = out_dt or dt
    rank = len(out_shape) + 1
    iters = ", ".join(['"parallel"'] * (rank - 1) + ['"reduction"'])
    at, bt, ct = ttype(a_shape, dt), ttype(b_shape, dt), ttype(out_shape, out_dt)
    args = [f"%a: {at}"]
    b_def = ""
    if b_const is None:
        args.append(f"%b: {bt}")
    else:
        b_def = f"  %b = arith.constant {dense(b_const, dt)}\n"
    mul = "%p = arith.mulf %x, %y : " + dt
    if out_dt != dt:
        mul = (f"%x1 = arith.extf %x : {dt} to {out_dt}\n"
               f"    %y1 = arith.extf %y : {dt} to {out_dt}\n"
               f"    %p = arith.mulf %x1, %y1 : {out_dt}")
    body = f"""
  %z = arith.constant 0.0 : {out_dt}
  %e = tensor.empty() : {ct}
  %f = linalg.fill ins(%z : {out_dt}) outs(%e : {ct}) -> {ct}
  %c = linalg.generic {{indexing_maps = [{amap(rank, maps[0])}, {amap(rank, maps[1])}, {amap(rank, maps[2])}],
                       iterator_types = [{iters}]}}
      ins(%a, %b : {at}, {bt}) outs(%f : {ct}) {{
  ^bb0(%x: {dt}, %y: {dt}, %o: {out_dt}):
    {mul}
    %s = arith.addf %o, %p : {out_dt}
    linalg.yield %s : {out_dt}
  }} -> {ct}
"""
    result = "%c"
    if epilogue is not None:
        types, emaps, lines = epilogue
        r = len(out_shape)
        ident = amap(r, [f"d{i}" for i in range(r)])
        for i, t in enumerate(types):
            args.append(f"%e{i}: {t}")
        ins = ", ".join(["%c"] + [f"%e{i}" for i in range(len(types))])
        in_types = ", ".join([ct] + list(types))
        bargs = ", ".join([f"%v: {out_dt}"] + [f"%w{i}: {out_dt}"
                                               for i in range(len(types))])
        all_maps = ", ".join([ident] + [amap(r, m) for m in emaps] + [ident])
        par = ", ".join(['"parallel"'] * r)
        body += f"""
  %e2 = tensor.empty() : {ct}
  %g = linalg.generic {{indexing_maps = [{all_maps}], iterator_types = [{par}]}}
      ins({ins} : {in_types}) outs(%e2 : {ct}) {{
  ^bb0({bargs}, %u: {out_dt}):
{lines}
  }} -> {ct}
"""
        result = "%g"
    return (f"func.func @f({', '.join(args)}) -> {ct} {{\n{b_def}{body}"
            f"  return {result} : {ct}\n}}\n")


def check(got, want, scale, rtol, atol):
    assert np.isfinite(got).all()
    excess = np.abs(got - want) - (atol + rtol * scale)
    assert excess.max() <= 0, \
        f"max error {np.abs(got - want).max():.3g} beyond tolerance"


MK, KN, MN = ["d0", "d2"], ["d2", "d1"], ["d0", "d1"]

SHAPES = [(1, 64, 48), (1, 300, 100), (4, 96, 130), (7, 33, 17),
          (16, 128, 64), (17, 70, 45), (64, 64, 64), (100, 70, 90),
          (13, 300, 45), (40, 513, 70), (129, 257, 33)]


@pytest.mark.parametrize("M,K,N", SHAPES)
@pytest.mark.parametrize("const_b", [False, True])
def test_matmul_f32(compile_cpu, M, K, N, const_b):
    rng = np.random.default_rng(M * 1000 + K * 10 + N)
    a = rng.uniform(-1, 1, (M, K)).astype(np.float32)
    b = rng.uniform(-1, 1, (K, N)).astype(np.float32)
    lib = compile_cpu(contraction((M, K), (K, N), (M, N), [MK, KN, MN],
                                  b_const=b if const_b else None))
    (out,) = lib.f(a) if const_b else lib.f(a, b)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    check(out, a64 @ b64, np.abs(a64) @ np.abs(b64), 1e-5, 1e-6)


@pytest.mark.parametrize("M,K,N", [(1, 80, 70), (9, 65, 40), (50, 300, 33)])
@pytest.mark.parametrize("const_b", [False, True])
def test_transposed_weights(compile_cpu, M, K, N, const_b):
    """B stored [N, K] (Linear / Gemm transB) read through a transposed map."""
    rng = np.random.default_rng(M + K + N)
    a = rng.uniform(-1, 1, (M, K)).astype(np.float32)
    bt = rng.uniform(-1, 1, (N, K)).astype(np.float32)
    lib = compile_cpu(contraction((M, K), (N, K), (M, N),
                                  [MK, ["d1", "d2"], MN],
                                  b_const=bt if const_b else None))
    (out,) = lib.f(a) if const_b else lib.f(a, bt)
    a64, b64 = a.astype(np.float64), bt.T.astype(np.float64)
    check(out, a64 @ b64, np.abs(a64) @ np.abs(b64), 1e-5, 1e-6)


def test_transposed_a(compile_cpu):
    rng = np.random.default_rng(5)
    at = rng.uniform(-1, 1, (70, 45)).astype(np.float32)  # [K, M]
    b = rng.uniform(-1, 1, (70, 50)).astype(np.float32)
    lib = compile_cpu(contraction((70, 45), (70, 50), (45, 50),
                                  [["d2", "d0"], KN, MN]))
    (out,) = lib.f(at, b)
    a64, b64 = at.T.astype(np.float64), b.astype(np.float64)
    check(out, a64 @ b64, np.abs(a64) @ np.abs(b64), 1e-5, 1e-6)


@pytest.mark.parametrize("Bt,M,K,N", [(3, 20, 37, 50), (2, 1, 64, 40),
                                      (4, 33, 300, 70)])
def test_batch_matmul(compile_cpu, Bt, M, K, N):
    rng = np.random.default_rng(Bt * M)
    a = rng.uniform(-1, 1, (Bt, M, K)).astype(np.float32)
    b = rng.uniform(-1, 1, (Bt, K, N)).astype(np.float32)
    lib = compile_cpu(contraction(
        (Bt, M, K), (Bt, K, N), (Bt, M, N),
        [["d0", "d1", "d3"], ["d0", "d3", "d2"], ["d0", "d1", "d2"]]))
    (out,) = lib.f(a, b)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    check(out, a64 @ b64, np.abs(a64) @ np.abs(b64), 1e-5, 1e-6)


@pytest.mark.parametrize("const_b", [False, True])
def test_broadcast_batch_weights(compile_cpu, const_b):
    """[2, 5, K] x [K, N] as the importer emits it (B without batch dim), and
    A broadcast over B's batch with a constant-0 map."""
    rng = np.random.default_rng(11)
    a = rng.uniform(-1, 1, (2, 5, 48)).astype(np.float32)
    b = rng.uniform(-1, 1, (48, 36)).astype(np.float32)
    lib = compile_cpu(contraction(
        (2, 5, 48), (48, 36), (2, 5, 36),
        [["d0", "d1", "d3"], ["d3", "d2"], ["d0", "d1", "d2"]],
        b_const=b if const_b else None))
    (out,) = lib.f(a) if const_b else lib.f(a, b)
    want = a.astype(np.float64) @ b.astype(np.float64)
    check(out, want, np.abs(a).astype(np.float64) @ np.abs(b), 1e-5, 1e-6)

    a1 = rng.uniform(-1, 1, (1, 20, 24)).astype(np.float32)
    b3 = rng.uniform(-1, 1, (3, 24, 40)).astype(np.float32)
    lib = compile_cpu(contraction(
        (1, 20, 24), (3, 24, 40), (3, 20, 40),
        [["0", "d1", "d3"], ["d0", "d3", "d2"], ["d0", "d1", "d2"]]))
    (out,) = lib.f(a1, b3)
    want = a1.astype(np.float64) @ b3.astype(np.float64)
    check(out, want, np.abs(a1).astype(np.float64) @ np.abs(b3), 1e-5, 1e-6)


EPILOGUES = {
    # name: (extra shapes given (M, N), maps, body, numpy of (c, extras))
    "bias": ([lambda M, N: (N,)], [["d1"]],
             "    %r = arith.addf %v, %w0 : f32\n    linalg.yield %r : f32",
             lambda c, e: c + e[0]),
    "residual": ([lambda M, N: (M, N)], [["d0", "d1"]],
                 "    %r = arith.addf %w0, %v : f32\n    linalg.yield %r : f32",
                 lambda c, e: c + e[0]),
    "silu": ([], [],
             "    %one = arith.constant 1.0 : f32\n"
             "    %n = arith.negf %v : f32\n    %x = math.exp %n : f32\n"
             "    %d = arith.addf %one, %x : f32\n"
             "    %r = arith.divf %v, %d : f32\n    linalg.yield %r : f32",
             lambda c, e: c / (1 + np.exp(-c))),
    "silu_gate_times_up": ([lambda M, N: (M, N)], [["d0", "d1"]],
                           "    %one = arith.constant 1.0 : f32\n"
                           "    %n = arith.negf %v : f32\n"
                           "    %x = math.exp %n : f32\n"
                           "    %d = arith.addf %one, %x : f32\n"
                           "    %s = arith.divf %v, %d : f32\n"
                           "    %r = arith.mulf %s, %w0 : f32\n"
                           "    linalg.yield %r : f32",
                           lambda c, e: c / (1 + np.exp(-c)) * e[0]),
}


@pytest.mark.parametrize("name", list(EPILOGUES))
@pytest.mark.parametrize("M,K,N", [(1, 96, 70), (37, 300, 90)])
def test_fused_epilogue(compile_cpu, name, M, K, N):
    shapes, maps, body, fn = EPILOGUES[name]
    rng = np.random.default_rng(len(name) + M)
    a = rng.uniform(-1, 1, (M, K)).astype(np.float32)
    b = rng.uniform(-1, 1, (K, N)).astype(np.float32)
    extras = [rng.uniform(-1, 1, s(M, N)).astype(np.float32) for s in shapes]
    text = contraction((M, K), (K, N), (M, N), [MK, KN, MN], b_const=b,
                       epilogue=([ttype(s(M, N), "f32") for s in shapes],
                                 maps, body))
    (out,) = compile_cpu(text).f(a, *extras)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    c = a64 @ b64
    want = fn(c, [e.astype(np.float64) for e in extras])
    # silu'(c) <= 1.1 and |up| <= 1: the product's error bound carries over.
    check(out, want, np.abs(a64) @ np.abs(b64) + np.abs(want), 1e-5, 1e-6)


@pytest.mark.parametrize("M,K,N", [(1, 128, 96), (5, 70, 33), (45, 300, 70)])
@pytest.mark.parametrize("out_dt", ["bf16", "f32"])
@pytest.mark.parametrize("const_b", [False, True])
def test_bf16(compile_cpu, M, K, N, out_dt, const_b):
    """bf16 operands, f32 accumulation; result bf16 (body in bf16) or f32
    (body widening with arith.extf, as the reference lowerings)."""
    rng = np.random.default_rng(M * 7 + K)
    a, a64 = storage(rng.uniform(-1, 1, (M, K)), "bf16")
    b, b64 = storage(rng.uniform(-1, 1, (K, N)), "bf16")
    text = contraction((M, K), (K, N), (M, N), [MK, KN, MN], dt="bf16",
                       out_dt=out_dt, b_const=b64 if const_b else None)
    lib = compile_cpu(text)
    (out,) = lib.f(a) if const_b else lib.f(a, b)
    rtol, atol = (8e-3, 1e-4) if out_dt == "bf16" else (1e-5, 1e-6)
    want = a64 @ b64
    check(value_of(out, out_dt), want,
          np.abs(a64) @ np.abs(b64) if out_dt == "f32" else np.abs(want),
          rtol, atol)
