"""kestrel.route and kestrel.moe compiled for the CPU against the NumPy
oracle (python/kestrel/reference/routing.py).

Selections (indices) must match exactly. The op selects in f32, the oracle
in float64, so random cases are drawn until every comparison that decides a
selection (selection keys per token, group scores, scores per expert in
expert choice) has a relative gap |a - b| / (|a| + |b|) of at least 1e-5,
far above the few f32 ulps of error in the compiled scores; logits lie on a 1/4 grid, so
they are exact in f16 and bf16 and both sides see the same inputs. Exact
ties are tested with repeated logits, which give bit-identical scores on
both sides.

Tolerances, |got - expected| <= atol + rtol * |expected| with the oracle in
float64 on the rounded inputs:
- route weights: f32 rtol 1e-5, atol 1e-6 (a few f32 ulps of exp and the
  division); f16 rtol 1e-3, bf16 rtol 8e-3 (two half ulps of the storage
  type), atol 1e-6.
- moe outputs: f32 rtol 1e-4; f16 rtol 2e-3; bf16 rtol 1.6e-2; atol is the
  same factor times max |expected|, since every output sums d·ff + E·ff
  products of mixed signs (f32 accumulation, inputs rounded to storage).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.reference import routing as ref

ROUTE_TOL = {"f32": (1e-5, 1e-6), "f16": (1e-3, 1e-6), "bf16": (8e-3, 1e-6)}
MOE_TOL = {"f32": 1e-4, "f16": 2e-3, "bf16": 1.6e-2}


def ttype(shape, dtype):
    return f"tensor<{'x'.join(str(s) for s in shape)}x{dtype}>"


def check(got, expected, rtol, atol):
    assert np.isfinite(got).all()
    excess = np.abs(got - expected) - (atol + rtol * np.abs(expected))
    assert excess.max() <= 0, \
        f"max error {np.abs(got - expected).max():.3g} beyond tolerance"


def min_gap(rows: np.ndarray) -> float:
    """Smallest relative difference |a - b| / (|a| + |b|) between two
    entries of the same row."""
    srt = np.sort(rows, axis=-1)
    if srt.shape[-1] < 2:
        return 1.0
    scale = np.abs(srt[..., 1:]) + np.abs(srt[..., :-1]) + 1e-300
    return float((np.diff(srt, axis=-1) / scale).min())


def grid_logits(rng, n, e, skew=None):
    """Distinct logits per row on a 1/4 grid (exact in f16 and bf16)."""
    rows = [rng.permutation(np.arange(-2 * e, 2 * e))[:e] * 0.25
            for _ in range(n)]
    logits = np.array(rows, dtype=np.float64)
    if skew is not None:
        logits[:, skew] += 4.0   # most tokens want this expert first
    return logits


def route_mlir(n, e, k, dtype, idx_type, w_dtype, attrs, bias_dtype=None):
    lt = ttype((n, e), dtype)
    mode_ec = "expert_choice" in attrs
    rows, cols = (e, attrs_capacity(attrs, n, e, k)) if mode_ec else (n, k)
    it, wt = ttype((rows, cols), idx_type), ttype((rows, cols), w_dtype)
    args = f"%l: {lt}"
    bias = ""
    if bias_dtype:
        bt = ttype((e,), bias_dtype)
        args += f", %b: {bt}"
        bias = f"selection_bias(%b : {bt}) "
    return f"""
func.func @route({args}) -> ({it}, {wt}) {{
  %i, %w = kestrel.route %l score = {attrs['score']} k = {k} {bias}{attrs_text(attrs)}
      : {lt} -> {it}, {wt}
  return %i, %w : {it}, {wt}
}}"""


def attrs_capacity(attrs, n, e, k):
    if "capacity" in attrs:
        return attrs["capacity"]
    return min(n, math.ceil(attrs["capacity_factor"] * n * k / e))


def attrs_text(attrs):
    parts = []
    if attrs.get("renormalize"):
        parts.append("renormalize")
    if "n_groups" in attrs:
        parts.append(f"n_groups = {attrs['n_groups']} "
                     f"topk_groups = {attrs['topk_groups']}")
    if "capacity_factor" in attrs:
        parts.append(f"capacity_factor = {attrs['capacity_factor']!r}")
    if "expert_choice" in attrs:
        parts.append("mode = expert_choice")
    if "capacity" in attrs:
        parts.append(f"capacity = {attrs['capacity']}")
    return " ".join(parts)


def oracle_route(logits, bias, k, attrs):
    if "expert_choice" in attrs:
        return ref.route_expert_choice(
            logits, score=attrs["score"], k=k,
            capacity=attrs.get("capacity"),
            capacity_factor=attrs.get("capacity_factor"))
    return ref.route(logits, score=attrs["score"], k=k, bias=bias,
                     renormalize=attrs.get("renormalize", False),
                     n_groups=attrs.get("n_groups"),
                     topk_groups=attrs.get("topk_groups"),
                     capacity_factor=attrs.get("capacity_factor"))


def well_posed(logits, bias, attrs):
    """Every comparison deciding the selection has a relative gap >= 1e-5."""
    s = ref.scores(logits, attrs["score"])
    if "expert_choice" in attrs:
        return min_gap(s.T) >= 1e-5
    u = s + (0.0 if bias is None else bias)
    if min_gap(u) < 1e-5:
        return False
    if "n_groups" in attrs:
        g = attrs["n_groups"]
        top2 = np.sort(u.reshape(u.shape[0], g, -1), axis=-1)[..., -2:]
        return min_gap(top2.sum(-1)) >= 1e-5
    return True


def run_route(compile_cpu, logits, k, attrs, *, dtype="f32", idx_type="i32",
              w_dtype=None, bias=None, bias_dtype="f32"):
    n, e = logits.shape
    w_dtype = w_dtype or dtype
    stored, exact = storage(logits, dtype)
    inputs = [stored]
    bias_exact = None
    if bias is not None:
        b_stored, bias_exact = storage(bias, bias_dtype)
        inputs.append(b_stored)
    lib = compile_cpu(route_mlir(n, e, k, dtype, idx_type, w_dtype, attrs,
                                 bias_dtype if bias is not None else None))
    idx, w = lib.route(*inputs)
    exp_idx, exp_w = oracle_route(exact, bias_exact, k, attrs)
    assert idx.dtype == (np.int32 if idx_type == "i32" else np.int64)
    assert idx.tolist() == exp_idx.tolist()
    rtol, atol = ROUTE_TOL[w_dtype]
    check(value_of(w, w_dtype), exp_w, rtol, atol)
    return idx, value_of(w, w_dtype), exp_w


def draw(seed, n_range, e_choices, attrs, *, with_bias=False, skew=None):
    """A well-posed random case: (logits, bias). Expert choice compares
    tokens per expert, so there the logits are distinct per column."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(*n_range))
    e = int(rng.choice(e_choices))
    for _ in range(200):
        if "expert_choice" in attrs:
            logits = grid_logits(rng, e, n).T.copy()
        else:
            logits = grid_logits(rng, n, e, skew)
        bias = rng.integers(-8, 9, e) / 64.0 if with_bias else None
        if well_posed(logits, bias, attrs):
            return logits, bias
    raise AssertionError("no well-posed case drawn")


# ------------------------------------------------------------ token choice

TOKEN_CASES = {
    # name: (attrs, k, dtype, idx_type, w_dtype, with_bias)
    "softmax_top2_renorm": ({"score": "softmax", "renormalize": True}, 2,
                            "f32", "i32", "f32", False),
    "softmax_top1_i64": ({"score": "softmax"}, 1, "f32", "i64", "f32", False),
    "sigmoid_bias_renorm": ({"score": "sigmoid", "renormalize": True}, 3,
                            "f32", "i32", "f32", True),
    "sigmoid_bias_f16": ({"score": "sigmoid"}, 2, "f16", "i64", "f16", True),
    "softmax_bf16_f32_weights": ({"score": "softmax", "renormalize": True}, 2,
                                 "bf16", "i32", "f32", False),
}


@pytest.mark.parametrize("name", list(TOKEN_CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_route_token_choice(compile_cpu, name, seed):
    attrs, k, dtype, idx_type, w_dtype, with_bias = TOKEN_CASES[name]
    logits, bias = draw(seed * 7 + len(name), (1, 24), [4, 6, 8, 12], attrs,
                        with_bias=with_bias)
    run_route(compile_cpu, logits, k, attrs, dtype=dtype, idx_type=idx_type,
              w_dtype=w_dtype, bias=bias)


def test_route_k_equals_e(compile_cpu):
    logits, _ = draw(3, (5, 9), [6], {"score": "softmax"})
    idx, w, _ = run_route(compile_cpu, logits, 6,
                          {"score": "softmax", "renormalize": True})
    assert sorted(idx[0].tolist()) == list(range(6))
    assert np.allclose(w.sum(-1), 1.0, atol=1e-6)


def test_route_single_token(compile_cpu):
    logits, bias = draw(4, (1, 2), [8], {"score": "sigmoid"}, with_bias=True)
    assert logits.shape[0] == 1
    run_route(compile_cpu, logits, 2, {"score": "sigmoid"}, bias=bias)


def test_route_ties_to_lower_expert(compile_cpu):
    logits = np.array([[1.0, 3.0, 3.0, 3.0, 0.0],
                       [2.0, 2.0, 2.0, 2.0, 2.0],
                       [0.5, -1.0, 0.5, 4.0, 0.5]])
    idx, _, _ = run_route(compile_cpu, logits, 2, {"score": "softmax"})
    assert idx.tolist() == [[1, 2], [0, 1], [3, 0]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_route_group_limited(compile_cpu, seed):
    """DeepSeek-V3 style: sigmoid, bias, 4 groups of which 2 stay."""
    attrs = {"score": "sigmoid", "renormalize": True, "n_groups": 4,
             "topk_groups": 2}
    logits, bias = draw(10 + seed, (2, 16), [8, 16], attrs, with_bias=True)
    idx, _, _ = run_route(compile_cpu, logits, 3, attrs, bias=bias)
    # The group limit must matter: some token's choice differs from the
    # ungrouped one.
    free, _ = ref.route(logits, score="sigmoid", k=3, bias=bias)
    assert (idx != free).any()


@pytest.mark.parametrize("dtype,cf", [("f32", 0.5), ("f32", 1.0),
                                      ("bf16", 0.75)])
def test_route_capacity_overflow(compile_cpu, dtype, cf):
    attrs = {"score": "softmax", "renormalize": True, "capacity_factor": cf}
    logits, _ = draw(20, (10, 20), [4, 6], attrs, skew=0)
    n, e = logits.shape
    idx, w, _ = run_route(compile_cpu, logits, 2, attrs, dtype=dtype)
    cap = ref.capacity(cf, n, 2, e)
    # The skew overflows expert 0: some assignments must have been dropped,
    # and no expert keeps more than its capacity.
    assert (w == 0).any()
    for x in range(e):
        assert ((idx == x) & (w != 0)).sum() <= cap


# ----------------------------------------------------------- expert choice

@pytest.mark.parametrize("attrs,k,dtype,idx_type", [
    ({"score": "softmax", "expert_choice": True, "capacity": 3}, 1, "f32",
     "i64"),
    ({"score": "sigmoid", "expert_choice": True, "capacity_factor": 1.25}, 2,
     "bf16", "i32"),
    ({"score": "softmax", "expert_choice": True, "capacity_factor": 4.0}, 2,
     "f16", "i32"),   # c clamps to N
])
@pytest.mark.parametrize("seed", [0, 1])
def test_route_expert_choice(compile_cpu, attrs, k, dtype, idx_type, seed):
    logits, _ = draw(30 + seed, (4, 14), [4, 6], attrs)
    run_route(compile_cpu, logits, k, attrs, dtype=dtype, idx_type=idx_type)


def test_route_expert_choice_ties_to_lower_token(compile_cpu):
    logits = np.array([[3.0, 0.0], [1.0, 1.0], [0.0, 3.0], [2.0, 2.0]])
    idx, _, _ = run_route(compile_cpu, logits, 1,
                          {"score": "softmax", "expert_choice": True,
                           "capacity": 2}, idx_type="i64")
    assert idx.tolist() == [[0, 1], [2, 1]]


# --------------------------------------------------------------------- moe

def moe_mlir(n, d, e, ff, rows, cols, dtype, idx_type, w_dtype, shared_fs,
             expert_choice):
    xt = ttype((n, d), dtype)
    it, wt = ttype((rows, cols), idx_type), ttype((rows, cols), w_dtype)
    t1, t2 = ttype((e, d, ff), dtype), ttype((e, ff, d), dtype)
    args = f"%x: {xt}, %i: {it}, %w: {wt}, %w1: {t1}, %w3: {t1}, %w2: {t2}"
    shared = ""
    if shared_fs:
        s1, s2 = ttype((d, shared_fs), dtype), ttype((shared_fs, d), dtype)
        args += f", %s1: {s1}, %s3: {s1}, %s2: {s2}"
        shared = f" shared(%s1, %s3, %s2 : {s1}, {s1}, {s2})"
    mode = " mode = expert_choice" if expert_choice else ""
    return f"""
func.func @moe({args}) -> {xt} {{
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2){shared}{mode}
      : {xt}, {it}, {wt}, {t1}, {t1}, {t2} -> {xt}
  return %y : {xt}
}}"""


def run_moe(compile_cpu, rng, n, d, e, ff, indices, weights, *, dtype="f32",
            idx_type="i32", w_dtype="f32", shared_fs=0, expert_choice=False,
            w2_override=None):
    x, xv = storage(rng.uniform(-1, 1, (n, d)), dtype)
    w1, w1v = storage(rng.uniform(-0.5, 0.5, (e, d, ff)), dtype)
    w3, w3v = storage(rng.uniform(-0.5, 0.5, (e, d, ff)), dtype)
    w2_raw = rng.uniform(-0.5, 0.5, (e, ff, d))
    if w2_override is not None:
        w2_raw = w2_override(w2_raw)
    w2, w2v = storage(w2_raw, dtype)
    rw, rwv = storage(weights, w_dtype)
    idx = indices.astype(np.int32 if idx_type == "i32" else np.int64)
    inputs = [x, idx, rw, w1, w3, w2]
    shared = None
    if shared_fs:
        s = [storage(rng.uniform(-0.5, 0.5, shp), dtype)
             for shp in ((d, shared_fs), (d, shared_fs), (shared_fs, d))]
        inputs += [a for a, _ in s]
        shared = tuple(v for _, v in s)
    rows, cols = indices.shape
    lib = compile_cpu(moe_mlir(n, d, e, ff, rows, cols, dtype, idx_type,
                               w_dtype, shared_fs, expert_choice))
    (out,) = lib.moe(*inputs)
    expected = ref.moe(xv, indices, rwv, w1v, w3v, w2v, shared=shared,
                       expert_choice=expert_choice)
    tol = MOE_TOL[dtype]
    check(value_of(out, dtype), expected, tol, tol * np.abs(expected).max())
    return value_of(out, dtype), expected


@pytest.mark.parametrize("dtype,idx_type,shared_fs", [
    ("f32", "i32", 0), ("f32", "i64", 24), ("f16", "i32", 16),
    ("bf16", "i64", 32)])
def test_moe_token_choice(compile_cpu, dtype, idx_type, shared_fs):
    rng = np.random.default_rng(hash((dtype, shared_fs)) % 2**32)
    n, d, e, ff, k = int(rng.integers(1, 10)), 16, 4, 12, 2
    logits = grid_logits(rng, n, e)
    indices, weights = ref.route(logits, k=k, renormalize=True)
    run_moe(compile_cpu, rng, n, d, e, ff, indices, weights, dtype=dtype,
            idx_type=idx_type, shared_fs=shared_fs)


def test_moe_expert_choice(compile_cpu):
    rng = np.random.default_rng(5)
    n, d, e, ff = 9, 8, 3, 10
    indices, weights = ref.route_expert_choice(grid_logits(rng, n, e),
                                               capacity=4)
    run_moe(compile_cpu, rng, n, d, e, ff, indices, weights, dtype="f16",
            idx_type="i64", w_dtype="f16", expert_choice=True, shared_fs=8)


def test_moe_dropped_and_out_of_range_contribute_nothing(compile_cpu):
    """Expert 2 has infinite down-projection weights, but only weight-0
    (dropped) assignments and an index of -1 point at or past it."""
    rng = np.random.default_rng(6)
    n, d, e, ff = 4, 8, 3, 6
    indices = np.array([[0, 2], [1, 2], [-1, 0], [1, 3]])
    weights = np.array([[0.7, 0.0], [0.4, 0.0], [0.9, 0.6], [0.5, 0.5]])

    def poison(w2):
        w2[2] = np.inf
        return w2
    out, expected = run_moe(compile_cpu, rng, n, d, e, ff, indices, weights,
                            w2_override=poison)
    assert np.isfinite(out).all()


def test_route_then_moe(compile_cpu):
    """The two ops composed, with a capacity drop, against the composed
    oracle."""
    rng = np.random.default_rng(7)
    n, d, e, ff, k = 12, 16, 4, 8, 2
    attrs = {"score": "softmax", "renormalize": True, "capacity_factor": 0.75}
    for _ in range(200):
        logits = grid_logits(rng, n, e, skew=1)
        if well_posed(logits, None, attrs):
            break
    x = rng.uniform(-1, 1, (n, d)).astype(np.float32)
    w1 = rng.uniform(-0.5, 0.5, (e, d, ff)).astype(np.float32)
    w3 = rng.uniform(-0.5, 0.5, (e, d, ff)).astype(np.float32)
    w2 = rng.uniform(-0.5, 0.5, (e, ff, d)).astype(np.float32)
    lt, xt = ttype((n, e), "f32"), ttype((n, d), "f32")
    it, wt = ttype((n, k), "i32"), ttype((n, k), "f32")
    t1, t2 = ttype((e, d, ff), "f32"), ttype((e, ff, d), "f32")
    lib = compile_cpu(f"""
func.func @layer(%l: {lt}, %x: {xt}, %w1: {t1}, %w3: {t1}, %w2: {t2}) -> {xt} {{
  %i, %w = kestrel.route %l score = softmax k = {k} renormalize capacity_factor = 0.75
      : {lt} -> {it}, {wt}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      : {xt}, {it}, {wt}, {t1}, {t1}, {t2} -> {xt}
  return %y : {xt}
}}""")
    (out,) = lib.layer(logits.astype(np.float32), x, w1, w3, w2)
    idx, w = ref.route(logits, k=k, renormalize=True, capacity_factor=0.75)
    assert (w == 0).any()   # the skew made the capacity drop something
    expected = ref.moe(x, idx, w, w1, w3, w2)
    check(out.astype(np.float64), expected, 1e-4,
          1e-4 * np.abs(expected).max())


# ------------------------------------------- moe: both CPU pipelines

# The default pipeline rewrites kestrel.moe with kestrel-moe-dispatch
# (counting-sort dispatch, packed register-tiled experts, scatter-add); the
# reference lowering computes every expert on every token. Both must match
# the oracle on the same cases. Sizes make the dispatch meet ragged expert
# loads (row tiles of 6 with a partial last tile), several column panels
# (d, ff multiples of 16) and narrower panels (shared fs = 40 -> panels of 8).
PIPELINES = {"dispatch": (), "reference": ("--reference-lowering",)}


@pytest.fixture
def compile_pipeline(tmp_path):
    from kestrel.compiler import kestrelc
    from kestrel.runtime import CpuLibrary
    counter = iter(range(1 << 30))

    def run(pipeline):
        def compile_one(mlir):
            out = tmp_path / f"p{next(counter)}.so"
            kestrelc(mlir, out, "--target=cpu", "--emit=so",
                     *PIPELINES[pipeline])
            return CpuLibrary(out)
        return compile_one
    return run


def skewed_route(rng, n, e, k, *, favourite=None, never=None,
                 capacity_factor=None):
    """Oracle routing of grid logits (softmax, renormalized): `favourite`
    is wanted first by most tokens (ragged loads), `never` by no token."""
    logits = grid_logits(rng, n, e)
    if favourite is not None:
        logits[:, favourite] += 3.0
    if never is not None:
        logits[:, never] = -100.0
    return ref.route(logits, k=k, renormalize=True,
                     capacity_factor=capacity_factor)


MOE_CASES = {
    # name: (n, d, e, ff, k, route kwargs, run_moe kwargs)
    "ragged_loads": (37, 32, 5, 48, 2, {"favourite": 1}, {}),
    "expert_with_zero_tokens": (23, 16, 6, 32, 2, {"never": 3}, {}),
    "capacity_drop": (30, 32, 4, 32, 2,
                      {"favourite": 0, "capacity_factor": 0.5}, {}),
    "shared_experts": (13, 32, 4, 48, 2, {}, {"shared_fs": 40}),
    "k1": (19, 48, 4, 32, 1, {}, {"idx_type": "i64"}),
    "k_equals_e": (11, 16, 3, 16, 3, {}, {}),
    "bf16_shared_ragged": (17, 32, 4, 16, 2, {"favourite": 2},
                           {"dtype": "bf16", "shared_fs": 16}),
    # Odd sizes: panels one column wide (vector<1xf32>), a single token.
    "odd_sizes": (7, 5, 3, 7, 2, {}, {"shared_fs": 3}),
    "single_token": (1, 16, 4, 32, 2, {}, {"shared_fs": 8}),
}


@pytest.mark.parametrize("pipeline", list(PIPELINES))
@pytest.mark.parametrize("name", list(MOE_CASES))
def test_moe_pipelines(compile_pipeline, pipeline, name):
    n, d, e, ff, k, route_kw, run_kw = MOE_CASES[name]
    rng = np.random.default_rng(len(name) * 31 + n)
    indices, weights = skewed_route(rng, n, e, k, **route_kw)
    counts = [int(((indices == x) & (weights != 0)).sum()) for x in range(e)]
    if name == "ragged_loads":
        assert max(counts) > 2 * min(counts) and max(counts) % 6 != 0
    if name == "expert_with_zero_tokens":
        assert counts[3] == 0
    if name == "capacity_drop":
        assert (weights == 0).any()
    if name == "k_equals_e":
        assert all(c == n for c in counts)
    run_moe(compile_pipeline(pipeline), rng, n, d, e, ff, indices, weights,
            **run_kw)


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_moe_pipelines_expert_choice_poisoned(compile_pipeline, pipeline):
    """Expert choice with a repeated token (weights add up in P), a weight-0
    slot and an out-of-range token pointing at an expert whose
    down-projection is infinite: neither may contribute."""
    rng = np.random.default_rng(11)
    n, d, e, ff = 14, 16, 3, 32
    indices, weights = ref.route_expert_choice(grid_logits(rng, n, e),
                                               capacity=5)
    indices[0, 1] = indices[0, 0]           # token repeated for expert 0
    indices[2, :] = [n, -1, n + 3, 0, 1]    # expert 2: out of range ...
    weights[2, 3:] = 0.0                    # ... or weight 0 only

    def poison(w2):
        w2[2] = np.inf
        return w2
    out, _ = run_moe(compile_pipeline(pipeline), rng, n, d, e, ff, indices,
                     weights, expert_choice=True, w2_override=poison)
    assert np.isfinite(out).all()


# --------------------------------------------------------------------- PTX

PTX_CASES = {
    # DeepSeek-V3 style: bias, groups, renormalize, capacity drop.
    "route_token_choice": route_mlir(
        8, 8, 2, "bf16", "i32", "f32",
        {"score": "sigmoid", "renormalize": True, "n_groups": 4,
         "topk_groups": 2, "capacity_factor": 1.25}, bias_dtype="f32"),
    "route_expert_choice": route_mlir(
        8, 4, 2, "f16", "i64", "f16",
        {"score": "softmax", "expert_choice": True, "capacity_factor": 1.0}),
    "moe_shared": moe_mlir(6, 16, 4, 8, 6, 2, "bf16", "i32", "f32", 12,
                           False),
    "moe_expert_choice": moe_mlir(6, 16, 4, 8, 4, 3, "f32", "i64", "f32", 0,
                                  True),
}


@pytest.mark.parametrize("chip", ["sm_80", "sm_90a"])
@pytest.mark.parametrize("case", list(PTX_CASES))
def test_routing_ptx_assembles(check_ptx, case, chip):
    ptx = check_ptx(PTX_CASES[case], chip)
    assert ".entry" in ptx and f".target {chip}" in ptx


# kestrel.top_k (ONNX TopK), against NumPy: a stable sort (ties to the lower
# index) along the axis, largest or smallest first. Exact: only comparisons.
@pytest.mark.parametrize("shape,axis,k,largest,dtype", [
    ((6, 9), 1, 3, True, "f32"),
    ((6, 9), 1, 9, False, "f32"),
    ((5, 4, 3), 0, 2, True, "f32"),
    ((7, 5), 1, 2, True, "i64"),
])
def test_top_k(compile_cpu, shape, axis, k, largest, dtype):
    rng = np.random.default_rng(7)
    np_t = np.float32 if dtype == "f32" else np.int64
    x = rng.integers(-4, 5, size=shape).astype(np_t)  # many ties
    out_shape = list(shape)
    out_shape[axis] = k
    t_in = "tensor<" + "x".join(map(str, shape)) + f"x{dtype}>"
    t_v = "tensor<" + "x".join(map(str, out_shape)) + f"x{dtype}>"
    t_i = "tensor<" + "x".join(map(str, out_shape)) + "xi64>"
    lg = "" if largest else ", largest = false"
    lib = compile_cpu(f"""
func.func @top_k(%x: {t_in}) -> ({t_v}, {t_i}) {{
  %v, %i = kestrel.top_k %x {{k = {k} : i64, axis = {axis} : i64{lg}}} : {t_in} -> {t_v}, {t_i}
  return %v, %i : {t_v}, {t_i}
}}
""")
    v, i = lib.top_k(x)
    order = np.argsort(-x if largest else x, axis=axis, kind="stable")
    exp_i = np.take(order, np.arange(k), axis=axis)
    assert i.tolist() == exp_i.tolist()
    assert v.tolist() == np.take_along_axis(x, exp_i, axis=axis).tolist()
