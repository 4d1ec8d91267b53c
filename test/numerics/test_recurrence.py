"""kestrel.gated_recurrence compiled for the CPU against the NumPy oracle.

The oracle (python/kestrel/reference/recurrence.py, recurrent form, float64)
runs on the same rounded inputs. Tolerances (max absolute error, outputs and
final states of magnitude up to ~10): f32 1e-4, which leaves room for the f32
accumulation over T steps of a state that is never renormalized; f16 and bf16
storage 5e-3 and 5e-2 relative to max(1, |expected|), i.e. a few units in the
last place of the storage type (11 and 8 bits of mantissa) after f32
arithmetic and one final rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.reference.recurrence import GATE_KINDS, chunked, recurrent

TOLERANCE = {"f32": 1e-4, "f16": 5e-3, "bf16": 5e-2}


def recurrence_mlir(gate, B, H, Hkv, T, Dk, Dv, dtype, with_state,
                    scale=None, side=None) -> str:
    """The MLIR of one function @rec(q, k, v, [g], [beta], [s0]); log-gates,
    beta and the states in `side` (default: dtype)."""
    side = side or dtype
    t = lambda *shape, d=dtype: f"tensor<{'x'.join(map(str, shape))}x{d}>"  # noqa
    qt, kt, vt = t(B, H, T, Dk), t(B, Hkv, T, Dk), t(B, Hkv, T, Dv)
    ot, st = t(B, H, T, Dv), t(B, H, Dk, Dv, d=side)
    args = [f"%q: {qt}", f"%k: {kt}", f"%v: {vt}"]
    clauses = []
    if gate in ("scalar", "gated_delta", "vector"):
        gt = t(B, H, T, Dk, d=side) if gate == "vector" else t(B, H, T, d=side)
        args.append(f"%g: {gt}")
        clauses.append(f"log_gate(%g : {gt})")
    if gate in ("delta", "gated_delta"):
        bt = t(B, H, T, d=side)
        args.append(f"%b: {bt}")
        clauses.append(f"beta(%b : {bt})")
    if with_state:
        args.append(f"%s0: {st}")
        clauses.append(f"initial_state(%s0 : {st})")
    if scale is not None:
        clauses.append(f"scale = {float(scale)!r}")
    return f"""
func.func @rec({', '.join(args)}) -> ({ot}, {st}) {{
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = {gate} {' '.join(clauses)}
      : {qt}, {kt}, {vt} -> {ot}, {st}
  return %o, %s : {ot}, {st}
}}
"""


def run_case(compile_cpu, gate, B, H, Hkv, T, Dk, Dv, dtype="f32",
             with_state=True, scale=None, seed=0, oracle=recurrent, side=None):
    rng = np.random.default_rng(seed)
    inputs, exact = [], {}
    side = side or dtype

    def add(name, x):
        stored, value = storage(x, dtype if name in "qkv" else side)
        inputs.append(stored)
        exact[name] = value

    add("q", rng.uniform(-1, 1, (B, H, T, Dk)))
    # Unit-norm keys, as DeltaNet uses: the delta rule stays a contraction.
    k = rng.normal(size=(B, Hkv, T, Dk))
    add("k", k / np.linalg.norm(k, axis=-1, keepdims=True))
    add("v", rng.uniform(-1, 1, (B, Hkv, T, Dv)))
    if gate in ("scalar", "gated_delta"):
        add("log_gate", rng.uniform(-0.5, 0.0, (B, H, T)))
    elif gate == "vector":
        add("log_gate", rng.uniform(-0.5, 0.0, (B, H, T, Dk)))
    if gate in ("delta", "gated_delta"):
        add("beta", rng.uniform(0.0, 1.0, (B, H, T)))
    if with_state:
        add("initial_state", rng.uniform(-1, 1, (B, H, Dk, Dv)))

    lib = compile_cpu(recurrence_mlir(gate, B, H, Hkv, T, Dk, Dv, dtype,
                                      with_state, scale, side))
    out, state = lib.rec(*inputs)
    q, k, v = exact.pop("q"), exact.pop("k"), exact.pop("v")
    o_ref, s_ref = oracle(q, k, v, gate,
                             scale=1.0 if scale is None else scale, **exact)
    for got, want, dt in ((out, o_ref, dtype), (state, s_ref, side)):
        got = value_of(got, dt)
        assert np.isfinite(got).all()
        err = np.abs(got - want)
        if dt != "f32":
            err = err / np.maximum(1.0, np.abs(want))
        assert err.max() <= TOLERANCE[dt], f"max error {err.max():.3g}"


@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("gate", GATE_KINDS)
def test_gate_kinds(compile_cpu, gate, with_state):
    run_case(compile_cpu, gate, 2, 4, 4, 9, 8, 6, with_state=with_state,
             scale=0.5)


@pytest.mark.parametrize("gate", GATE_KINDS)
def test_single_step(compile_cpu, gate):
    """T = 1: the decode step, state in and state out."""
    run_case(compile_cpu, gate, 1, 2, 2, 1, 16, 16)


@pytest.mark.parametrize("H,Hkv", [(4, 1), (6, 3), (3, 3)])
@pytest.mark.parametrize("gate", ["scalar", "gated_delta"])
def test_shared_kv_heads(compile_cpu, gate, H, Hkv):
    """Hkv = 1 (all heads share k, v), a group of 2, and no sharing."""
    run_case(compile_cpu, gate, 1, H, Hkv, 7, 4, 5)


def test_long_sequence(compile_cpu):
    run_case(compile_cpu, "gated_delta", 1, 2, 2, 64, 16, 8, scale=0.25)


@pytest.mark.parametrize("gate", GATE_KINDS)
def test_against_chunked_oracle(compile_cpu, gate):
    """The compiled recurrent form also matches the oracle's chunked form
    (chunk 8 not dividing T = 27)."""
    run_case(compile_cpu, gate, 1, 2, 1, 27, 8, 4, scale=0.5,
             oracle=lambda *a, **kw: chunked(*a, chunk=8, **kw))


@pytest.mark.parametrize("gate", ["vector", "gated_delta"])
def test_bf16(compile_cpu, gate):
    run_case(compile_cpu, gate, 1, 2, 1, 12, 8, 8, dtype="bf16")


def test_f16(compile_cpu):
    run_case(compile_cpu, "delta", 1, 2, 1, 12, 8, 8, dtype="f16")


@pytest.mark.parametrize("gate", GATE_KINDS)
@pytest.mark.parametrize("dtype", ["bf16", "f16"])
def test_f32_state_and_gates(compile_cpu, gate, dtype):
    """q/k/v in 16 bits, log-gates, beta and the states in f32: the output
    keeps v's type (its tolerance), the final state f32's."""
    run_case(compile_cpu, gate, 1, 4, 2, 12, 8, 8, dtype=dtype, side="f32")


# --- The chunked form (kestrel-fuse-io-aware) against the recurrent ones. ---
#
# The default CPU pipeline lowers gated_recurrence in chunked form (chunk 64
# unless told otherwise; --extra-passes sets a smaller kestrel.chunk so that
# short sequences span several chunks). Each case is checked against the
# oracle's recurrent form (float64) with the f32 tolerance above, and against
# our reference lowering (`--reference-lowering`: recurrent form in f32) with
# CHUNKED_VS_REFERENCE: both are f32 computations of the same values in
# different orders, outputs and states of magnitude up to ~10.

CHUNKED_VS_REFERENCE = 1e-4


def compile_flags(tmp_path, mlir, *flags):
    from kestrel.compiler import kestrelc
    from kestrel.runtime import CpuLibrary
    out = tmp_path / f"lib{abs(hash((mlir, flags)))}.so"
    kestrelc(mlir, out, "--target=cpu", "--emit=so", *flags)
    return CpuLibrary(out)


def chunked_case(tmp_path, gate, B, H, Hkv, T, Dk, Dv, chunk=None,
                 with_state=True, scale=0.5, seed=1, gate_low=-0.5):
    rng = np.random.default_rng(seed)
    q = rng.uniform(-1, 1, (B, H, T, Dk)).astype(np.float32)
    k = rng.normal(size=(B, Hkv, T, Dk))
    k = (k / np.linalg.norm(k, axis=-1, keepdims=True)).astype(np.float32)
    v = rng.uniform(-1, 1, (B, Hkv, T, Dv)).astype(np.float32)
    inputs, extra = [q, k, v], {}
    if gate in ("scalar", "gated_delta"):
        extra["log_gate"] = rng.uniform(gate_low, 0.0,
                                        (B, H, T)).astype(np.float32)
    elif gate == "vector":
        extra["log_gate"] = rng.uniform(gate_low, 0.0,
                                        (B, H, T, Dk)).astype(np.float32)
    if gate in ("delta", "gated_delta"):
        extra["beta"] = rng.uniform(0.0, 1.0, (B, H, T)).astype(np.float32)
    if with_state:
        extra["initial_state"] = rng.uniform(-1, 1,
                                             (B, H, Dk, Dv)).astype(np.float32)
    inputs += list(extra.values())
    text = recurrence_mlir(gate, B, H, Hkv, T, Dk, Dv, "f32", with_state,
                           scale)
    flags = ([f"--extra-passes=func.func(kestrel-tile{{chunk-size={chunk}}})"]
             if chunk else [])
    fast_in = [x.copy() for x in inputs]
    fast = compile_flags(tmp_path, text, *flags).rec(*fast_in)
    for x, y in zip(fast_in, inputs):
        np.testing.assert_array_equal(x, y)  # inputs are left alone
    ref_in = [x.copy() for x in inputs]
    ref = compile_flags(tmp_path, text, "--reference-lowering").rec(*ref_in)
    for x, y in zip(ref_in, inputs):
        np.testing.assert_array_equal(x, y)  # the reference lowering too
    want = recurrent(q, k, v, gate, scale=scale, **extra)
    for got, r, w in zip(fast, ref, want):
        assert np.isfinite(got).all()
        assert np.abs(got - w).max() <= TOLERANCE["f32"], \
            f"vs oracle: {np.abs(got - w).max():.3g}"
        assert np.abs(got - r).max() <= CHUNKED_VS_REFERENCE, \
            f"vs reference lowering: {np.abs(got - r).max():.3g}"


@pytest.mark.parametrize("gate", GATE_KINDS)
@pytest.mark.parametrize("T,chunk", [(23, 8), (5, 8), (1, 8), (150, None)])
def test_chunked_form(tmp_path, gate, T, chunk):
    """T not divisible by C (tail chunk), T < C, T = 1, and the default
    chunk (64) with a tail; GQA group 2, initial state."""
    chunked_case(tmp_path, gate, 1, 4, 2, T, 8, 6, chunk=chunk)


@pytest.mark.parametrize("gate", GATE_KINDS)
def test_chunked_form_no_state_wide(tmp_path, gate):
    """No initial state, B = 2, head dims that the register tile divides
    (the products are vectorized) and T = 48 divisible by the chunk 16."""
    chunked_case(tmp_path, gate, 2, 2, 1, 48, 16, 32, chunk=16,
                 with_state=False, scale=0.25)


@pytest.mark.parametrize("gate_low", [-0.5, -6.0])
def test_chunked_vector_sub_blocks(tmp_path, gate_low):
    """Vector gates, chunk 24: sub-blocks of 16 and 8 rows, then a tail.
    Log-gates down to -0.5 keep every diagonal block's gate span under 20
    (the factored product); down to -6 most blocks exceed it (the exact
    per-term exponent) and decays reach e^-100 across a chunk."""
    chunked_case(tmp_path, "vector", 1, 2, 2, 50, 8, 6, chunk=24,
                 gate_low=gate_low)


def test_chunked_vector_square(tmp_path):
    """Vector gates with C = Dk = Dv = 32: the intra-chunk score matrix has
    the shape of the state and of the products' zero fills (it must not share
    their buffer), two sub-blocks per chunk, and a tail of 8."""
    chunked_case(tmp_path, "vector", 1, 2, 1, 40, 32, 32, chunk=32)
