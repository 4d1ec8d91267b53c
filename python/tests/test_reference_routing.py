"""The routing oracles on hand-checkable cases: k = E, ties, capacity
overflow, group-limited selection, expert choice, and a selection bias that
changes the choice but not the weights."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kestrel.reference.routing import (  # noqa: E402
    capacity, gated_mlp, moe, route, route_expert_choice, scores)


def test_softmax_and_sigmoid_scores():
    s = scores(np.array([[0.0, np.log(3.0)]]), "softmax")
    assert np.allclose(s, [[0.25, 0.75]])
    assert np.allclose(scores(np.array([[0.0]]), "sigmoid"), 0.5)


def test_k_equals_e_sorts_all_experts():
    logits = np.array([[0.1, 2.0, -1.0, 0.5]])
    idx, w = route(logits, k=4, renormalize=True)
    assert idx.tolist() == [[1, 3, 0, 2]]
    assert np.isclose(w.sum(), 1.0)   # softmax over all experts sums to 1
    idx2, w2 = route(logits, k=4)     # ... so renormalizing changes nothing
    assert np.allclose(w, w2)


def test_ties_go_to_the_lower_expert():
    idx, w = route(np.array([[1.0, 3.0, 3.0, 3.0]]), k=2)
    assert idx.tolist() == [[1, 2]]
    assert np.isclose(w[0, 0], w[0, 1])


def test_renormalize_top2():
    # softmax of [ln 1, ln 2, ln 3, ln 4] is [.1, .2, .3, .4]
    logits = np.log(np.array([[1.0, 2.0, 3.0, 4.0]]))
    idx, w = route(logits, k=2)
    assert idx.tolist() == [[3, 2]] and np.allclose(w, [[0.4, 0.3]])
    _, wn = route(logits, k=2, renormalize=True)
    assert np.allclose(wn, [[4 / 7, 3 / 7]])


def test_capacity_overflow_drops_later_tokens():
    # All 3 tokens prefer expert 0 then 1; C = ceil(1.0 * 3 * 1 / 2) = 2.
    logits = np.array([[2.0, 1.0]] * 3)
    assert capacity(1.0, 3, 1, 2) == 2
    idx, w = route(logits, k=1, capacity_factor=1.0)
    assert idx.tolist() == [[0], [0], [0]]
    s0 = 1 / (1 + np.exp(-1.0))
    assert np.allclose(w[:, 0], [s0, s0, 0.0])   # the third is dropped


def test_capacity_counts_each_slot():
    # k = 2 over 2 experts: every token takes both; C = ceil(.5*2*2/2) = 1.
    idx, w = route(np.array([[1.0, 0.0], [0.0, 1.0]]), k=2,
                   capacity_factor=0.5)
    assert idx.tolist() == [[0, 1], [1, 0]]
    assert (w[0] > 0).all() and (w[1] == 0).all()


def test_group_limited_uses_top2_sum():
    # Groups {0,1}, {2,3}, {4,5}. Group 0 has the single best expert, but
    # its top-2 sum (0.9 + 0.01) loses to group 1 (0.5 + 0.5) and group 2
    # (0.6 + 0.45).
    u = np.array([[0.9, 0.01, 0.5, 0.5, 0.6, 0.45]])
    logits = np.log(u / (1 - u))   # sigmoid^-1
    idx, _ = route(logits, score="sigmoid", k=2, n_groups=3, topk_groups=2)
    assert idx.tolist() == [[4, 2]]
    # With every group eligible the single best expert wins.
    idx, _ = route(logits, score="sigmoid", k=2)
    assert idx.tolist() == [[0, 4]]


def test_selection_bias_changes_choice_not_weights():
    logits = np.array([[1.0, 0.0, -1.0]])
    idx, w = route(logits, score="sigmoid", k=1,
                   bias=np.array([0.0, 0.0, 1.0]))
    assert idx.tolist() == [[2]]
    assert np.isclose(w[0, 0], 1 / (1 + np.e))   # sigmoid(-1), unbiased


def test_expert_choice_takes_top_tokens():
    logits = np.array([[3.0, 0.0], [1.0, 1.0], [0.0, 3.0], [2.0, 2.0]])
    idx, w = route_expert_choice(logits, capacity=2)
    # softmax columns: expert 0 likes token 0, then tokens 1 and 3 tie at
    # 0.5: the lower token (1) wins.
    assert idx.tolist() == [[0, 1], [2, 1]]
    s = scores(logits, "softmax")
    assert np.allclose(w, [[s[0, 0], s[1, 0]], [s[2, 1], s[1, 1]]])
    # c from the factor: min(N, ceil(1.5 * 4 * 1 / 2)) = 3
    idx, _ = route_expert_choice(logits, capacity_factor=1.5)
    assert idx.shape == (2, 3)


def test_moe_single_expert_is_gated_mlp():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    w1, w3 = rng.normal(size=(2, 4, 5)), rng.normal(size=(2, 4, 5))
    w2 = rng.normal(size=(2, 5, 4))
    idx = np.array([[1], [0], [1]])
    w = np.array([[0.5], [2.0], [0.0]])
    out = moe(x, idx, w, w1, w3, w2)
    assert np.allclose(out[0], 0.5 * gated_mlp(x[:1], w1[1], w3[1], w2[1]))
    assert np.allclose(out[1], 2.0 * gated_mlp(x[1:2], w1[0], w3[0], w2[0]))
    assert (out[2] == 0).all()   # a dropped assignment contributes nothing
    shared = (rng.normal(size=(4, 6)), rng.normal(size=(4, 6)),
              rng.normal(size=(6, 4)))
    out_s = moe(x, idx, w, w1, w3, w2, shared=shared)
    assert np.allclose(out_s - out, gated_mlp(x, *shared))


def test_moe_expert_choice_matches_token_choice_form():
    # The same assignments written per expert give the same output.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3))
    w1, w3 = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    w2 = rng.normal(size=(2, 4, 3))
    tok = moe(x, np.array([[0, 1], [1, 0]]), np.array([[.3, .7], [.2, .8]]),
              w1, w3, w2)
    exp = moe(x, np.array([[0, 1], [1, 0]]), np.array([[.3, .8], [.2, .7]]),
              w1, w3, w2, expert_choice=True)
    assert np.allclose(tok, exp)
