"""The KV cache oracle checked against facts that do not depend on it: layouts
round-trip, decode over a cache equals plain causal attention over the valid
prefix, appending is a write at the right place, Quest picks by hand-computed
scores and its score bounds every q·k of a page."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kestrel.reference.attention import attention  # noqa: E402
from kestrel.reference.kvcache import (  # noqa: E402
    LAYOUTS, decode_attention, from_head_major, kv_append, page_bounds,
    quest_scores, select_kv_pages, to_head_major)


def _paged_table(rng, B, max_pages, num_pages):
    return rng.permutation(num_pages)[:B * max_pages].reshape(B, max_pages).astype(np.int32)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_round_trip(layout):
    rng = np.random.default_rng(0)
    hkv = 1 if layout == "mla_latent" else 3
    keys = rng.normal(size=(2, hkv, 8, 5))
    table = _paged_table(rng, 2, 4, 11) if layout == "paged" else None
    cache = from_head_major(keys, layout, block_table=table, num_pages=11,
                            page_size=2)
    back = to_head_major(cache, layout, block_table=table, page_size=2)
    np.testing.assert_array_equal(back, keys)


def test_paged_element_by_hand():
    cache = np.arange(3 * 2 * 1 * 1, dtype=float).reshape(3, 2, 1, 1)
    table = np.array([[2, 0]])
    # Tokens 0,1 live on page 2, tokens 2,3 on page 0.
    assert to_head_major(cache, "paged", block_table=table,
                         page_size=2)[0, 0, :, 0].tolist() == [4, 5, 0, 1]


@pytest.mark.parametrize("T", [1, 3])
def test_decode_equals_causal_attention_over_prefix(T):
    rng = np.random.default_rng(1)
    B, H, Hkv, S, D = 3, 4, 2, 10, 6
    q = rng.normal(size=(B, H, T, D))
    k, v = rng.normal(size=(B, Hkv, S, D)), rng.normal(size=(B, Hkv, S, 5))
    lens = [T, 7, S]
    out, _ = decode_attention(q, k, v, lens, "head_major")
    for b, L in enumerate(lens):
        ref = attention(q[b:b + 1], k[b:b + 1, :, :L], v[b:b + 1, :, :L],
                        causal=True)
        np.testing.assert_allclose(out[b:b + 1], ref, rtol=1e-12, atol=1e-12)


def test_rows_without_keys_are_zero_with_minus_inf_lse():
    rng = np.random.default_rng(2)
    q = rng.normal(size=(2, 2, 4, 3))
    k, v = rng.normal(size=(2, 1, 6, 3)), rng.normal(size=(2, 1, 6, 3))
    out, lse = decode_attention(q, k, v, [0, 2], "head_major")
    assert (out[0] == 0).all() and np.isneginf(lse[0]).all()
    # seq_len 2 < T = 4: queries t = 0, 1 see nothing, t = 2 sees key 0.
    assert (out[1, :, :2] == 0).all() and np.isneginf(lse[1, :, :2]).all()
    np.testing.assert_allclose(out[1, :, 2], np.tile(v[1, 0, 0], (2, 1)))


def test_lse_by_hand():
    q = np.array([[[[1.0, 0.0]]]])
    k = np.array([[[[2.0, 0.0], [0.0, 1.0]]]])
    v = np.array([[[[1.0], [3.0]]]])
    out, lse = decode_attention(q, k, v, [2], "head_major", scale=1.0)
    w = np.exp([2.0, 0.0])
    assert out[0, 0, 0, 0] == pytest.approx((w @ [1.0, 3.0]) / w.sum())
    assert lse[0, 0, 0] == pytest.approx(math.log(w.sum()))


def test_mla_latent_is_mqa_over_the_latent():
    rng = np.random.default_rng(3)
    q = rng.normal(size=(1, 4, 2, 6))
    c = rng.normal(size=(1, 9, 6))
    out, _ = decode_attention(q, c, None, [9], "mla_latent", value_dim=4)
    ref = attention(q, c[:, None], c[:, None, :, :4], causal=True)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_append_writes_at_positions(layout):
    rng = np.random.default_rng(4)
    hkv = 1 if layout == "mla_latent" else 2
    keys = rng.normal(size=(2, hkv, 8, 3))
    table = _paged_table(rng, 2, 4, 9) if layout == "paged" else None
    kw = dict(block_table=table, page_size=2)
    cache = from_head_major(keys, layout, num_pages=9, **kw)
    new = rng.normal(size=(2, hkv, 3, 3))
    got = to_head_major(kv_append(cache, new, [1, 6], layout, **kw), layout, **kw)
    expected = keys.copy()
    expected[0, :, 1:4] = new[0]
    expected[1, :, 6:8] = new[1, :, :2]  # token 8 is past the capacity: dropped
    np.testing.assert_array_equal(got, expected)


def test_append_skips_pages_outside_the_pool():
    cache = np.zeros((2, 2, 1, 1))
    out = kv_append(cache, np.ones((1, 1, 2, 1)), [1], "paged",
                    block_table=np.array([[0, -1]]), page_size=2)
    assert out[:, :, 0, 0].tolist() == [[0, 1], [0, 0]]


def test_quest_score_by_hand_and_sums_group_heads():
    q = np.array([[[1.0, -2.0], [0.5, 0.0]]])  # B=1, H=2, D=2
    kmin = np.array([[[[-1.0, -1.0]]]])
    kmax = np.array([[[[3.0, 1.0]]]])
    # head 0: max(-1, 3) + max(2, -2) = 5; head 1: max(-.5, 1.5) + 0 = 1.5
    assert quest_scores(q, kmin, kmax)[0, 0, 0] == pytest.approx(6.5)


def test_quest_score_bounds_every_key_of_the_page():
    rng = np.random.default_rng(5)
    keys = rng.normal(size=(1, 1, 32, 8))
    q = rng.normal(size=(1, 1, 8))
    kmin, kmax = page_bounds(keys, 4)
    score = quest_scores(q, kmin, kmax)[0, 0]
    dots = (keys[0, 0] @ q[0, 0]).reshape(8, 4)
    assert (score >= dots.max(axis=1) - 1e-12).all()


def test_select_by_hand():
    # Four heads' worth of scores for P = 5 pages, seq_len 17 with pages of
    # 4 tokens: n = 5 valid pages, page 4 is current.
    q = np.ones((1, 1, 1))
    kmax = np.array([3.0, 9.0, 3.0, 1.0, -7.0]).reshape(1, 1, 5, 1)
    out = select_kv_pages(q, kmax, kmax, [17], k=3, page_size=4)
    # Current page first; then 1 (score 9); then 0 and 2 tie at 3: lower wins.
    assert out.tolist() == [[[4, 1, 0]]]


def test_select_pads_with_minus_one():
    q = np.ones((2, 1, 1))
    kmax = np.arange(6.0).reshape(1, 1, 6, 1).repeat(2, axis=0)
    out = select_kv_pages(q, kmax, kmax, [5, 0], k=4, page_size=4)
    assert out.tolist() == [[[1, 0, -1, -1]], [[-1, -1, -1, -1]]]


def test_select_clamps_to_the_pages_there_are():
    q = np.ones((1, 1, 1))
    kmax = np.array([1.0, 2.0]).reshape(1, 1, 2, 1)
    out = select_kv_pages(q, kmax, kmax, [100], k=3, page_size=4)
    assert out.tolist() == [[[1, 0, -1]]]
