"""DeepSeek-V3's group-limited sigmoid router as transformers computes it
(`DeepseekV3TopkRouter`: sigmoid scores plus a selection bias, group
scores from each group's two best experts, the chosen groups scattered
into a mask, top-k over the masked keys, the unbiased scores gathered and
renormalized), exported with torch.onnx (dynamo), must import as one
kestrel.route (lib/Frontend/Onnx/OnnxGroupRouter.cpp) and choose the
experts, with the weights, that a NumPy float64 router and onnxruntime
choose.

test/onnx/models/group_router.onnx (export_group_router.py: 12 tokens, 16
experts in 4 groups, 2 kept, k 4, a random bias) is committed and checked
without torch, as are edits of it that change what it computes (each must
stay generic and still match onnxruntime); other configurations are
exported here when torch and transformers are installed (skipped
otherwise, not counted as passing). The router asks for unsorted top-k
indices, so each token's (index, weight) pairs are compared as sets."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from recognized_forms import (REPO, add_output,  # noqa: E402
                              constants_as_nodes, edited, emit_mlir,
                              run_both, set_constant)

try:
    from export_group_router import Router, export
except ImportError:  # torch or transformers missing
    Router = None
needs_torch = pytest.mark.skipif(
    Router is None, reason="torch or transformers is not installed")
COMMITTED = REPO / "test/onnx/models/group_router.onnx"
SCALE = 2.5  # the routed scaling factor export_group_router.py sets


def _by_index(weights, indices):
    """Each row's (index, weight) pairs ordered by expert index."""
    order = np.argsort(indices, axis=1, kind="stable")
    return (np.take_along_axis(indices, order, 1),
            np.take_along_axis(weights, order, 1))


def _reference(x, W, bias, groups, kept, k, renormalize):
    """The router in float64: ties (none with random inputs) to the lower
    index."""
    x, W, bias = (np.asarray(t, np.float64) for t in (x, W, bias))
    s = 1 / (1 + np.exp(-(x @ W.T)))
    u = s + bias
    N, E = u.shape
    per = E // groups
    group_score = np.sort(u.reshape(N, groups, per), -1)[..., -2:].sum(-1)
    indices = np.zeros((N, k), np.int64)
    weights = np.zeros((N, k))
    for n in range(N):
        chosen = np.argsort(-group_score[n], kind="stable")[:kept]
        eligible = np.isin(np.arange(E) // per, chosen)
        key = np.where(eligible, u[n], -np.inf)
        indices[n] = np.argsort(-key, kind="stable")[:k]
        w = s[n, indices[n]]
        weights[n] = (w / w.sum() if renormalize else w) * SCALE
    return weights, indices


def _run(tmp_path, path, x):
    """Both results as (indices, weights) ordered by index, then any
    further outputs as they are."""
    ours, ref = run_both(tmp_path, path, {"x": x})
    return ((_by_index(*ours[:2]), ours[2:]), (_by_index(*ref[:2]), ref[2:]))


def _check_recognized(tmp_path, path, W, bias, groups, kept, k, renormalize,
                      tokens):
    text = emit_mlir(tmp_path, path)
    assert text.count("kestrel.route ") == 1, text
    assert (f"score = sigmoid k = {k} selection_bias(" in text)
    assert ("renormalize" in text) == renormalize
    assert f"n_groups = {groups} topk_groups = {kept}" in text
    assert "kestrel.top_k" not in text and "scf.for" not in text
    x = np.random.default_rng(8).standard_normal(
        (tokens, W.shape[1])).astype(np.float32)
    ((oi, ow), _), ((ri, rw), _) = _run(tmp_path, path, x)
    ei, ew = _by_index(*_reference(x, W, bias, groups, kept, k, renormalize))
    np.testing.assert_array_equal(ri, ei)
    np.testing.assert_array_equal(oi, ei)
    # Sigmoids of f32 logits, normalized: 1e-6 absolute on weights <= 2.5.
    assert np.abs(rw - ew).max() <= 1e-6 * SCALE
    assert np.abs(ow - ew).max() <= 1e-6 * SCALE, np.abs(ow - ew).max()


def _initializers(path):
    model = onnx.load(str(path))
    return {t.name: onnx.numpy_helper.to_array(t)
            for t in model.graph.initializer}


def test_committed_model(tmp_path):
    init = _initializers(COMMITTED)
    _check_recognized(tmp_path, COMMITTED, init["gate.weight"],
                      init["gate.e_score_correction_bias"], 4, 2, 4, True, 12)


def test_constants_as_nodes(tmp_path):
    """The same form with its constants as Constant nodes (TorchScript's
    way) instead of initializers."""
    init = _initializers(COMMITTED)
    _check_recognized(tmp_path, edited(tmp_path, COMMITTED, constants_as_nodes),
                      init["gate.weight"], init["gate.e_score_correction_bias"],
                      4, 2, 4, True, 12)


# (tokens, hidden, experts, groups, kept groups, k, renormalize): one group
# (every expert eligible); eight groups of 4 without renormalization.
CONFIGS = [(7, 8, 8, 1, 1, 2, True), (5, 16, 32, 8, 3, 6, False)]


@needs_torch
@pytest.mark.parametrize("config", CONFIGS,
                         ids=lambda c: "x".join(map(str, c)))
def test_exported_configs(tmp_path, config):
    tokens, hidden, experts, groups, kept, k, renormalize = config
    module = Router(hidden, experts, groups, kept, k, renormalize).eval()
    path = export(module, tokens, tmp_path / "r.onnx")
    _check_recognized(tmp_path, path, module.gate.weight.detach().numpy(),
                      module.gate.e_score_correction_bias.numpy(), groups,
                      kept, k, renormalize, tokens)


def _node(graph, op):
    return next(n for n in graph.node if n.op_type == op)


def _masked_to_zero(graph):
    # masked_fill(~mask, 0.0): an ineligible expert can beat an eligible
    # one with a negative key.
    set_constant(graph, _node(graph, "Where"), 1, np.array([0.0], np.float32))


def _more_experts_than_eligible(graph):
    # k 9 > 2 groups x 4 experts: a −inf key is chosen.
    last_topk = [n for n in graph.node if n.op_type == "TopK"][-1]
    set_constant(graph, last_topk, 1, np.array([9], np.int64))


def _mask_starts_from_ones(graph):
    scatter = _node(graph, "ScatterElements")
    set_constant(graph, scatter, 0, np.ones((12, 4), np.float32))


def _bias_with_minus_infinity(graph):
    # An expert of a kept group with key −inf ties with the masked ones.
    bias = next(t for t in graph.initializer
                if t.name == "gate.e_score_correction_bias")
    values = onnx.numpy_helper.to_array(bias).copy()
    values[::3] = -np.inf
    add = _node(graph, "Add")
    set_constant(graph, add, list(add.input).index(bias.name), values)


def _group_scores_read_outside(graph):
    reduce = _node(graph, "ReduceSum")
    add_output(graph, reduce.output[0])


@pytest.mark.parametrize("edit", [_masked_to_zero, _more_experts_than_eligible,
                                  _mask_starts_from_ones,
                                  _bias_with_minus_infinity,
                                  _group_scores_read_outside],
                         ids=lambda f: f.__name__.strip("_"))
def test_edits_stay_generic(tmp_path, edit):
    path = edited(tmp_path, COMMITTED, edit)
    assert "kestrel.route" not in emit_mlir(tmp_path, path)
    x = np.random.default_rng(8).standard_normal((12, 16)).astype(np.float32)
    ((oi, ow), o_rest), ((ri, rw), r_rest) = _run(tmp_path, path, x)
    np.testing.assert_array_equal(oi, ri)
    assert np.abs(ow - rw).max() <= 1e-6 * SCALE
    assert len(o_rest) == len(r_rest)
    for o, r in zip(o_rest, r_rest):
        assert np.abs(o - r).max() <= 1e-5 * max(1.0, float(np.abs(r).max()))


def test_no_recognize_keeps_the_nodes(tmp_path):
    text = emit_mlir(tmp_path, COMMITTED, "--no-recognize")
    assert "kestrel.route" not in text
    assert text.count("kestrel.top_k") == 3
