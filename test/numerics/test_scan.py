"""kestrel.selective_scan and kestrel.causal_conv1d compiled for the CPU
against the NumPy oracles (python/kestrel/reference/scan.py, float64).

The oracles run on the same rounded inputs. Tolerances, as max error relative
to max(1, |expected|) (outputs of magnitude up to ~10):
- selective_scan y: f32 1e-4, room for the f32 accumulation of a state
  carried over T steps; f16 4e-3 and bf16 3e-2, about four units in the last
  place of the storage type (11 and 8 bits of mantissa) after f32 arithmetic
  and one final rounding. The final state is f32 whatever the activations'
  storage, so it is held to 1e-4 always.
- causal_conv1d y: f32 1e-5 (K products summed once), f16 4e-3, bf16 3e-2.
  new_state is a copy of inputs and must be exact.
Decode chains (T calls with T = 1, state threaded through) must match one
prefill call over T steps to 1e-5 in f32.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.reference.scan import causal_conv1d, selective_scan

Y_TOLERANCE = {"f32": 1e-4, "f16": 4e-3, "bf16": 3e-2}
CONV_TOLERANCE = {"f32": 1e-5, "f16": 4e-3, "bf16": 3e-2}
STATE_TOLERANCE = 1e-4


def _t(dtype, *shape):
    return f"tensor<{'x'.join(map(str, shape))}x{dtype}>"


def _check(got, want, tol, what, dtype="f32"):
    got = value_of(got, dtype)
    assert got.shape == want.shape, f"{what}: shape {got.shape}"
    assert np.isfinite(got).all(), f"{what}: non-finite values"
    err = np.abs(got - want) / np.maximum(1.0, np.abs(want))
    assert err.max() <= tol, f"{what}: max error {err.max():.3g} > {tol}"


# ---------------------------------------------------------------------------
# selective_scan
# ---------------------------------------------------------------------------

SCAN_OPTIONS = ("D", "z", "delta_bias", "delta_softplus", "initial_state")


def scan_func(name, B, C, T, N, dtype, opts) -> str:
    """One function @name(x, delta, A, Bm, Cm, [D], [z], [bias], [h0])."""
    act, bc = _t(dtype, B, C, T), _t(dtype, B, N, T)
    a, vec, st = _t("f32", C, N), _t("f32", C), _t("f32", B, C, N)
    args = [f"%x: {act}", f"%dt: {act}", f"%a: {a}", f"%b: {bc}", f"%c: {bc}"]
    clauses = []
    for opt, arg, ty in (("D", "%d", vec), ("z", "%z", act),
                         ("delta_bias", "%db", vec),
                         ("initial_state", "%h0", st)):
        if opt in opts:
            args.append(f"{arg}: {ty}")
            clauses.append(f"{opt}({arg} : {ty})")
    if "delta_softplus" in opts:
        clauses.append("delta_softplus")
    return f"""
func.func @{name}({', '.join(args)}) -> ({act}, {st}) {{
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c {' '.join(clauses)}
      : {act}, {act}, {a}, {bc}, {bc} -> {act}, {st}
  return %y, %h : {act}, {st}
}}
"""


def scan_inputs(rng, B, C, T, N, dtype, opts):
    """(arrays to pass, keyword arguments of the oracle on exact values)."""
    inputs, exact = [], {}

    def add(name, x, dt=dtype):
        stored, value = storage(x, dt)
        inputs.append(stored)
        exact[name] = value

    softplus = "delta_softplus" in opts
    add("x", rng.uniform(-1, 1, (B, C, T)))
    # Raw Δ around 0 under softplus; already positive steps without it.
    add("delta", rng.uniform(-2.0, 1.0, (B, C, T)) if softplus
        else rng.uniform(0.05, 0.6, (B, C, T)))
    add("A", -rng.uniform(0.1, 2.0, (C, N)), "f32")   # decaying, as in Mamba
    add("Bm", rng.uniform(-1, 1, (B, N, T)))
    add("Cm", rng.uniform(-1, 1, (B, N, T)))
    if "D" in opts:
        add("D", rng.uniform(-1, 1, C), "f32")
    if "z" in opts:
        add("z", rng.uniform(-3, 3, (B, C, T)))
    if "delta_bias" in opts:
        add("delta_bias", rng.uniform(-0.5, 0.5, C) if softplus
            else rng.uniform(0.0, 0.3, C), "f32")
    if "initial_state" in opts:
        add("initial_state", rng.uniform(-1, 1, (B, C, N)), "f32")
    return inputs, exact


def scan_oracle(exact, opts):
    return selective_scan(exact["x"], exact["delta"], exact["A"], exact["Bm"],
                          exact["Cm"], D=exact.get("D"), z=exact.get("z"),
                          delta_bias=exact.get("delta_bias"),
                          delta_softplus="delta_softplus" in opts,
                          initial_state=exact.get("initial_state"))


def check_scan(lib, name, rng, B, C, T, N, dtype, opts):
    inputs, exact = scan_inputs(rng, B, C, T, N, dtype, opts)
    before = [a.copy() for a in inputs]
    y, h = getattr(lib, name)(*inputs)
    y_ref, h_ref = scan_oracle(exact, opts)
    what = f"{name} {sorted(opts)} B={B} C={C} T={T} N={N} {dtype}"
    _check(y, y_ref, Y_TOLERANCE[dtype], f"{what}: y", dtype)
    _check(h, h_ref, STATE_TOLERANCE, f"{what}: final_state")
    # The caller's arrays (the initial state above all) are left alone.
    for a, b in zip(inputs, before):
        assert np.array_equal(a, b), f"{what}: an input was overwritten"


def _subsets(options):
    return [frozenset(c) for r in range(len(options) + 1)
            for c in itertools.combinations(options, r)]


@pytest.mark.parametrize("softplus,with_state", [(False, False), (False, True),
                                                 (True, False), (True, True)])
def test_scan_options(compile_cpu, softplus, with_state):
    """Every combination of the optional operands and delta_softplus: the
    eight subsets of (D, z, delta_bias) share one module per test."""
    B, C, T, N = 2, 3, 7, 5
    extra = {o for o, on in (("delta_softplus", softplus),
                             ("initial_state", with_state)) if on}
    cases = [s | extra for s in _subsets(("D", "z", "delta_bias"))]
    lib = compile_cpu("".join(scan_func(f"scan{i}", B, C, T, N, "f32", opts)
                              for i, opts in enumerate(cases)))
    rng = np.random.default_rng(len(extra) + 10 * softplus)
    for i, opts in enumerate(cases):
        check_scan(lib, f"scan{i}", rng, B, C, T, N, "f32", opts)


@pytest.mark.parametrize("seed", range(3))
def test_scan_random_shapes(compile_cpu, seed):
    """Shapes drawn at random (the unit sizes included), all options on."""
    rng = np.random.default_rng(100 + seed)
    B, C, T, N = (int(rng.integers(1, 4)), int(rng.integers(1, 9)),
                  int(rng.integers(1, 25)), int(rng.choice([1, 4, 16])))
    opts = frozenset(SCAN_OPTIONS)
    lib = compile_cpu(scan_func("scan", B, C, T, N, "f32", opts))
    check_scan(lib, "scan", rng, B, C, T, N, "f32", opts)


def test_scan_single_step(compile_cpu):
    """T = 1, the decode step: state in, state out."""
    opts = frozenset(SCAN_OPTIONS)
    lib = compile_cpu(scan_func("scan", 2, 8, 1, 16, "f32", opts))
    check_scan(lib, "scan", np.random.default_rng(7), 2, 8, 1, 16, "f32",
               opts)


def test_scan_softplus_large_delta(compile_cpu):
    """Raw Δ beyond the softplus threshold (20) is taken as is, not
    overflowed through exp; A is small so the state stays finite."""
    B, C, T, N = 1, 2, 4, 3
    opts = frozenset({"delta_softplus"})
    lib = compile_cpu(scan_func("scan", B, C, T, N, "f32", opts))
    rng = np.random.default_rng(3)
    inputs, exact = scan_inputs(rng, B, C, T, N, "f32", opts)
    delta = np.array([[[19.5, 20.5, 60.0, 100.0], [-30.0, 0.0, 25.0, 90.0]]],
                     np.float32)
    a = np.full((C, N), -1e-3, np.float32)
    inputs[1], exact["delta"] = delta, delta.astype(np.float64)
    inputs[2], exact["A"] = a, a.astype(np.float64)
    y, h = lib.scan(*inputs)
    y_ref, h_ref = scan_oracle(exact, opts)
    _check(y, y_ref, Y_TOLERANCE["f32"], "y")
    _check(h, h_ref, STATE_TOLERANCE, "final_state")


@pytest.mark.parametrize("C,N,dtype", [(20, 33, "f32"), (16, 128, "f32"),
                                        (40, 64, "bf16")])
def test_scan_large_state(compile_cpu, C, N, dtype):
    """N above the 32 state rows kestrel-cpu-selective-scan keeps in
    registers: the state lives in an [N, 16] buffer walked by a loop over n
    (N = 33 just past the limit, Mamba2's 128, a masked channel block),
    every option and an initial state on."""
    opts = frozenset(SCAN_OPTIONS) | {"initial_state"}
    lib = compile_cpu(scan_func("scan", 2, C, 19, N, dtype, opts))
    check_scan(lib, "scan", np.random.default_rng(N), 2, C, 19, N, dtype,
               opts)


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_scan_half_storage(compile_cpu, dtype):
    B, C, T, N = 1, 4, 12, 16
    opts = frozenset(SCAN_OPTIONS)
    lib = compile_cpu(scan_func("scan", B, C, T, N, dtype, opts))
    check_scan(lib, "scan", np.random.default_rng(11), B, C, T, N, dtype,
               opts)


@pytest.mark.parametrize("C,T,N,dtype,lowering", [
    (16, 33, 16, "f32", "fast"), (40, 9, 16, "f32", "fast"),
    (64, 5, 3, "f32", "fast"), (20, 7, 16, "bf16", "fast"),
    (24, 6, 8, "f16", "fast"), (40, 9, 16, "f32", "reference"),
    (20, 7, 16, "bf16", "reference")])
def test_scan_channel_blocks(tmp_path, C, T, N, dtype, lowering):
    """Channel counts around the 16-lane blocks of kestrel-cpu-selective-scan
    (whole blocks, a masked last block, several blocks), all options on; the
    same cases through --reference-lowering (the serial loop over time), so
    both CPU lowerings stay checked against the oracle."""
    from conftest import CpuLibrary, kestrelc
    opts = frozenset(SCAN_OPTIONS)
    out = tmp_path / "scan.so"
    flags = ["--reference-lowering"] if lowering == "reference" else []
    kestrelc(scan_func("scan", 2, C, T, N, dtype, opts), out, "--target=cpu",
             "--emit=so", *flags)
    check_scan(CpuLibrary(out), "scan", np.random.default_rng(C + T + N), 2,
               C, T, N, dtype, opts)


def test_scan_decode_chain(compile_cpu):
    """T calls of one step each, the state threaded through, equal one
    prefill call over the T steps (and the oracle)."""
    B, C, T, N = 2, 4, 9, 16
    opts = frozenset(SCAN_OPTIONS)
    lib = compile_cpu(scan_func("prefill", B, C, T, N, "f32", opts)
                      + scan_func("step", B, C, 1, N, "f32", opts))
    inputs, exact = scan_inputs(np.random.default_rng(5), B, C, T, N, "f32",
                                opts)
    x, dt, a, bm, cm, d, z, db, h0 = inputs
    y_pre, h_pre = lib.prefill(*inputs)
    h, ys = h0, []
    for t in range(T):
        col = np.s_[:, :, t:t + 1]
        y_t, h = lib.step(x[col], dt[col], a, bm[col], cm[col], d, z[col], db,
                          h)
        ys.append(y_t)
    y_dec = np.concatenate(ys, axis=2)
    _check(y_dec, y_pre.astype(np.float64), 1e-5, "decode y vs prefill y")
    _check(h, h_pre.astype(np.float64), 1e-5, "decode vs prefill state")
    y_ref, h_ref = scan_oracle(exact, opts)
    _check(y_dec, y_ref, Y_TOLERANCE["f32"], "decode y vs oracle")
    _check(h, h_ref, STATE_TOLERANCE, "decode state vs oracle")


# ---------------------------------------------------------------------------
# causal_conv1d
# ---------------------------------------------------------------------------

def conv_func(name, B, C, T, K, dtype, with_bias, with_state,
              activation) -> str:
    """One function @name(x, w, [bias], [state])."""
    act, w = _t(dtype, B, C, T), _t(dtype, C, K)
    vec, st = _t(dtype, C), _t(dtype, B, C, K - 1)
    args, clauses = [f"%x: {act}", f"%w: {w}"], []
    if with_bias:
        args.append(f"%bias: {vec}")
        clauses.append(f"bias(%bias : {vec})")
    if with_state:
        args.append(f"%s0: {st}")
        clauses.append(f"state(%s0 : {st})")
    return f"""
func.func @{name}({', '.join(args)}) -> ({act}, {st}) {{
  %y, %s = kestrel.causal_conv1d %x, %w activation = {activation}
      {' '.join(clauses)} : {act}, {w} -> {act}, {st}
  return %y, %s : {act}, {st}
}}
"""


def conv_inputs(rng, B, C, T, K, dtype, with_bias, with_state):
    inputs, exact = [], {}
    for name, shape, on in (("x", (B, C, T), True), ("weight", (C, K), True),
                            ("bias", (C,), with_bias),
                            ("state", (B, C, K - 1), with_state)):
        if on:
            stored, value = storage(rng.uniform(-1, 1, shape), dtype)
            inputs.append(stored)
            exact[name] = value
    return inputs, exact


def check_conv(lib, name, rng, B, C, T, K, dtype, with_bias, with_state,
               activation):
    inputs, exact = conv_inputs(rng, B, C, T, K, dtype, with_bias, with_state)
    before = [a.copy() for a in inputs]
    y, s = getattr(lib, name)(*inputs)
    y_ref, s_ref = causal_conv1d(**exact, activation=activation)
    what = (f"{name} bias={with_bias} state={with_state} {activation} "
            f"B={B} C={C} T={T} K={K} {dtype}")
    _check(y, y_ref, CONV_TOLERANCE[dtype], f"{what}: y", dtype)
    # new_state holds stored inputs (or zeros): exact.
    assert np.array_equal(value_of(s, dtype), s_ref), f"{what}: new_state"
    for a, b in zip(inputs, before):
        assert np.array_equal(a, b), f"{what}: an input was overwritten"


@pytest.mark.parametrize("activation", ["none", "silu"])
def test_conv_options(compile_cpu, activation):
    """With and without bias and state, one module per activation."""
    B, C, T, K = 2, 5, 6, 4
    cases = list(itertools.product([False, True], [False, True]))
    lib = compile_cpu("".join(
        conv_func(f"conv{i}", B, C, T, K, "f32", bias, state, activation)
        for i, (bias, state) in enumerate(cases)))
    rng = np.random.default_rng(1 if activation == "silu" else 2)
    for i, (bias, state) in enumerate(cases):
        check_conv(lib, f"conv{i}", rng, B, C, T, K, "f32", bias, state,
                   activation)


@pytest.mark.parametrize("seed", range(3))
def test_conv_random_shapes(compile_cpu, seed):
    """Random shapes, T < K - 1 (the new state reaches into the old one)
    included."""
    rng = np.random.default_rng(200 + seed)
    B, C, T, K = (int(rng.integers(1, 4)), int(rng.integers(1, 9)),
                  int(rng.integers(1, 12)), int(rng.integers(2, 6)))
    lib = compile_cpu(conv_func("conv", B, C, T, K, "f32", True, True,
                                "silu"))
    check_conv(lib, "conv", rng, B, C, T, K, "f32", True, True, "silu")


def test_conv_short_input(compile_cpu):
    """T = 2 < K - 1 = 3: part of the old state survives into the new."""
    lib = compile_cpu(conv_func("conv", 1, 3, 2, 4, "f32", False, True,
                                "none"))
    check_conv(lib, "conv", np.random.default_rng(4), 1, 3, 2, 4, "f32",
               False, True, "none")


def test_conv_kernel_one(compile_cpu):
    """K = 1: a per-channel scale and bias. The state is empty, and entry
    points take no empty tensors, so the function returns y only."""
    B, C, T = 2, 3, 5
    act, w, vec = _t("f32", B, C, T), _t("f32", C, 1), _t("f32", C)
    lib = compile_cpu(f"""
func.func @conv(%x: {act}, %w: {w}, %bias: {vec}) -> {act} {{
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu
      bias(%bias : {vec}) : {act}, {w} -> {act}, {_t("f32", B, C, 0)}
  return %y : {act}
}}
""")
    inputs, exact = conv_inputs(np.random.default_rng(6), B, C, T, 1, "f32",
                                True, False)
    (y,) = lib.conv(*inputs)
    y_ref, _ = causal_conv1d(**exact, activation="silu")
    _check(y, y_ref, CONV_TOLERANCE["f32"], "y")


def test_conv_single_step(compile_cpu):
    """T = 1, the decode step: state in, state out."""
    lib = compile_cpu(conv_func("conv", 2, 8, 1, 4, "f32", True, True,
                                "silu"))
    check_conv(lib, "conv", np.random.default_rng(8), 2, 8, 1, 4, "f32",
               True, True, "silu")


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_conv_half_storage(compile_cpu, dtype):
    lib = compile_cpu(conv_func("conv", 1, 6, 9, 4, dtype, True, True,
                                "silu"))
    check_conv(lib, "conv", np.random.default_rng(9), 1, 6, 9, 4, dtype,
               True, True, "silu")


@pytest.mark.parametrize("C,T,K,dtype,lowering", [
    (16, 33, 4, "f32", "fast"), (40, 9, 4, "f32", "fast"),
    (64, 2, 4, "f32", "fast"), (20, 7, 3, "bf16", "fast"),
    (24, 6, 2, "f16", "fast"), (40, 9, 4, "f32", "reference"),
    (20, 7, 3, "bf16", "reference")])
def test_conv_channel_blocks(tmp_path, C, T, K, dtype, lowering):
    """Channel counts around the 16-lane blocks of kestrel-cpu-causal-conv
    (whole blocks, a masked last block, several blocks; T = 2 < K - 1 keeps
    part of the old state), bias, state and silu on; the same cases through
    --reference-lowering, so both CPU lowerings stay checked."""
    from conftest import CpuLibrary, kestrelc
    out = tmp_path / "conv.so"
    flags = ["--reference-lowering"] if lowering == "reference" else []
    kestrelc(conv_func("conv", 2, C, T, K, dtype, True, True, "silu"), out,
             "--target=cpu", "--emit=so", *flags)
    check_conv(CpuLibrary(out), "conv", np.random.default_rng(C + T + K), 2,
               C, T, K, dtype, True, True, "silu")


def test_conv_decode_chain(compile_cpu):
    """T one-step calls threading the state equal one prefill call."""
    B, C, T, K = 2, 4, 7, 4
    lib = compile_cpu(conv_func("prefill", B, C, T, K, "f32", True, True,
                                "silu")
                      + conv_func("step", B, C, 1, K, "f32", True, True,
                                  "silu"))
    inputs, exact = conv_inputs(np.random.default_rng(12), B, C, T, K, "f32",
                                True, True)
    x, w, bias, s0 = inputs
    y_pre, s_pre = lib.prefill(*inputs)
    s, ys = s0, []
    for t in range(T):
        y_t, s = lib.step(x[:, :, t:t + 1], w, bias, s)
        ys.append(y_t)
    y_dec = np.concatenate(ys, axis=2)
    _check(y_dec, y_pre.astype(np.float64), 1e-5, "decode y vs prefill y")
    assert np.array_equal(s, s_pre), "decode state differs from prefill"
    y_ref, s_ref = causal_conv1d(**exact, activation="silu")
    _check(y_dec, y_ref, CONV_TOLERANCE["f32"], "decode y vs oracle")
    assert np.array_equal(s, s_ref)


# ---------------------------------------------------------------------------
# The two together, as a Mamba mixer runs them
# ---------------------------------------------------------------------------

def mixer_func(name, B, C, T, K, N) -> str:
    """conv (silu) -> scan, both states in and out:
    @name(x, w, conv_bias, conv_state, dt, A, Bm, Cm, D, z, dt_bias, h0)
    -> (y, new_conv_state, final_state)."""
    f = lambda *s: _t("f32", *s)  # noqa: E731
    act, bc, cs, hs = f(B, C, T), f(B, N, T), f(B, C, K - 1), f(B, C, N)
    return f"""
func.func @{name}(%x: {act}, %w: {f(C, K)}, %cb: {f(C)}, %cs: {cs},
    %dt: {act}, %a: {f(C, N)}, %b: {bc}, %c: {bc}, %d: {f(C)}, %z: {act},
    %db: {f(C)}, %h0: {hs}) -> ({act}, {cs}, {hs}) {{
  %xc, %cs1 = kestrel.causal_conv1d %x, %w activation = silu
      bias(%cb : {f(C)}) state(%cs : {cs}) : {act}, {f(C, K)} -> {act}, {cs}
  %y, %h = kestrel.selective_scan %xc, %dt, %a, %b, %c D(%d : {f(C)})
      z(%z : {act}) delta_bias(%db : {f(C)}) initial_state(%h0 : {hs})
      delta_softplus : {act}, {act}, {f(C, N)}, {bc}, {bc} -> {act}, {hs}
  return %y, %cs1, %h : {act}, {cs}, {hs}
}}
"""


def test_mixer_decode_chain(compile_cpu):
    """conv -> scan over T tokens in one call, and token by token with both
    states threaded through, agree with each other and with the oracles."""
    B, C, T, K, N = 1, 6, 8, 4, 16
    lib = compile_cpu(mixer_func("prefill", B, C, T, K, N)
                      + mixer_func("step", B, C, 1, K, N))
    rng = np.random.default_rng(21)
    u = lambda lo, hi, *s: rng.uniform(lo, hi, s).astype(np.float32)  # noqa
    x, w, cb, cs = u(-1, 1, B, C, T), u(-1, 1, C, K), u(-1, 1, C), \
        u(-1, 1, B, C, K - 1)
    dt, a = u(-2, 1, B, C, T), -u(0.1, 2, C, N)
    bm, cm, d, z = u(-1, 1, B, N, T), u(-1, 1, B, N, T), u(-1, 1, C), \
        u(-3, 3, B, C, T)
    db, h0 = u(-0.5, 0.5, C), u(-1, 1, B, C, N)
    y_pre, cs_pre, h_pre = lib.prefill(x, w, cb, cs, dt, a, bm, cm, d, z, db,
                                       h0)
    ys, cs_t, h_t = [], cs, h0
    for t in range(T):
        col = np.s_[:, :, t:t + 1]
        y_t, cs_t, h_t = lib.step(x[col], w, cb, cs_t, dt[col], a, bm[col],
                                  cm[col], d, z[col], db, h_t)
        ys.append(y_t)
    y_dec = np.concatenate(ys, axis=2)
    _check(y_dec, y_pre.astype(np.float64), 1e-5, "decode y vs prefill y")
    _check(h_t, h_pre.astype(np.float64), 1e-5, "decode vs prefill state")
    assert np.array_equal(cs_t, cs_pre), "conv states differ"

    f64 = lambda v: v.astype(np.float64)  # noqa: E731
    xc, cs_ref = causal_conv1d(f64(x), f64(w), f64(cb), f64(cs), "silu")
    y_ref, h_ref = selective_scan(xc, f64(dt), f64(a), f64(bm), f64(cm),
                                  D=f64(d), z=f64(z), delta_bias=f64(db),
                                  delta_softplus=True, initial_state=f64(h0))
    _check(y_pre, y_ref, Y_TOLERANCE["f32"], "prefill y vs oracle")
    _check(h_pre, h_ref, STATE_TOLERANCE, "prefill state vs oracle")
    assert np.array_equal(cs_pre.astype(np.float64), cs_ref)
