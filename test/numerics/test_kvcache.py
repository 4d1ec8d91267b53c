"""kestrel.decode_attention, kv_append and select_kv_pages on the CPU against
the NumPy oracle (python/kestrel/reference/kvcache.py).

Every layout, GQA and MQA, T = 1 and T = 4, seq_lens covering 0, fewer than T,
a partial page and the full capacity; paged caches use a shuffled block table
(unused entries -1). Tolerances (max absolute error; inputs normal, values of
order 1): f32 2e-5, bf16 3e-2 relative to the output range; lse f32 2e-5.
Page indices must match exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.reference.attention import attention
from kestrel.reference.kvcache import (decode_attention, from_head_major,
                                       page_bounds, select_kv_pages)

PAGE = 4


def ty(shape, dtype):
    return "tensor<" + "x".join(map(str, shape)) + f"x{dtype}>"


def layout_attr(layout):
    inner = f"paged, page_size = {PAGE}" if layout == "paged" else layout
    return f"#kestrel.kv_layout<{inner}>"


def make_cache(rng, layout, B, Hkv, S, D, Dv, lens, dtype):
    """Logical head-major K/V, the cache operands in `layout`, block table.

    Every token at or past lens[b] holds NaN (the op must never let it
    through). Paged: distinct physical pages in shuffled order; the entries of
    pages a row does not use are then set to -1 and those pages hold NaN."""
    k = rng.normal(size=(B, Hkv, S, D))
    v = k[..., :Dv].copy() if layout == "mla_latent" else rng.normal(size=(B, Hkv, S, Dv))
    for b, L in enumerate(lens):
        k[b, :, L:] = np.nan
        v[b, :, L:] = np.nan
    if layout != "paged":
        kc = from_head_major(k, layout)
        vc = None if layout == "mla_latent" else from_head_major(v, layout)
        return k, v, kc, vc, None
    pages = B * (S // PAGE) + 3  # spare pages nobody uses
    table = rng.permutation(pages)[:B * (S // PAGE)].reshape(B, S // PAGE)
    kc = from_head_major(k, layout, block_table=table, num_pages=pages, page_size=PAGE)
    vc = from_head_major(v, layout, block_table=table, num_pages=pages, page_size=PAGE)
    for b, L in enumerate(lens):
        table[b, -(-L // PAGE):] = -1
    unused = np.ones(pages, bool)
    unused[table[table >= 0]] = False
    kc[unused] = np.nan
    vc[unused] = np.nan
    return k, v, kc, vc, table.astype(np.int32)


# (layout, B, H, Hkv, T, S, D, Dv)
DECODE = {
    "head_major_gqa_t1": ("head_major", 3, 4, 2, 1, 12, 8, 8),
    "head_major_mqa_t4": ("head_major", 3, 4, 1, 4, 12, 8, 6),
    "token_major_gqa_t4": ("token_major", 3, 6, 2, 4, 12, 8, 8),
    "token_major_mqa_t1": ("token_major", 3, 2, 1, 1, 12, 4, 8),
    "paged_gqa_t1": ("paged", 3, 4, 2, 1, 16, 8, 8),
    "paged_mqa_t4": ("paged", 3, 4, 1, 4, 16, 8, 4),
    "mla_latent_t1": ("mla_latent", 3, 4, 1, 1, 12, 12, 8),
    "mla_latent_t4": ("mla_latent", 3, 4, 1, 4, 12, 12, 8),
}


def decode_mlir(layout, B, H, Hkv, T, S, D, Dv, kc, vc, table, dtype, lse):
    operands = [("q", ty((B, H, T, D), dtype)), ("k", ty(kc.shape, dtype))]
    if vc is not None:
        operands.append(("v", ty(vc.shape, dtype)))
    operands.append(("len", ty((B,), "i32")))
    bt = ""
    if table is not None:
        operands.append(("bt", ty(table.shape, "i32")))
        bt = f" block_table(%bt : {ty(table.shape, 'i32')})"
    out = ty((B, H, T, Dv), dtype)
    results = [out] + ([ty((B, H, T), "f32")] if lse else [])
    values = ", ".join(f"%{n}" for n, _ in operands if n not in ("len", "bt"))
    cache_types = ", ".join(t for n, t in operands if n not in ("len", "bt"))
    names = ", ".join(f"%r{i}" for i in range(len(results)))
    args = ", ".join(f"%{n}: {t}" for n, t in operands)
    return f"""
func.func @decode({args}) -> ({', '.join(results)}) {{
  {names} = kestrel.decode_attention {values} layout = {layout_attr(layout)} seq_lens(%len : {ty((B,), 'i32')}){bt}
      : {cache_types} -> {', '.join(results)}
  return {names} : {', '.join(results)}
}}
"""


def run_decode(compile_cpu, case, dtype="f32", seed=0, lse=True):
    layout, B, H, Hkv, T, S, D, Dv = DECODE[case]
    rng = np.random.default_rng(seed)
    # Empty, fewer than T, partial page, full capacity.
    lens = np.array([0, max(T - 2, 1) if T > 1 else 5, S], dtype=np.int32)
    _, _, kc, vc, table = make_cache(rng, layout, B, Hkv, S, D, Dv, lens, dtype)
    q = rng.normal(size=(B, H, T, D))
    sq, sk = storage(q, dtype), storage(kc, dtype)
    sv = storage(vc, dtype) if vc is not None else None
    lib = compile_cpu(decode_mlir(layout, B, H, Hkv, T, S, D, Dv, kc, vc,
                                  table, dtype, lse))
    inputs = [sq[0], sk[0]] + ([sv[0]] if sv else []) + [lens]
    if table is not None:
        inputs.append(table)
    outs = lib.decode(*inputs)
    expected, expected_lse = decode_attention(
        sq[1], sk[1], sv[1] if sv else None, lens, layout, block_table=table,
        page_size=PAGE, value_dim=Dv)
    return outs, expected, expected_lse


@pytest.mark.parametrize("case", DECODE)
def test_decode_attention_f32(compile_cpu, case):
    (out, lse), expected, expected_lse = run_decode(compile_cpu, case)
    assert np.abs(out - expected).max() <= 2e-5
    assert (out[0] == 0).all()  # seq_len 0: every row sees nothing
    finite = np.isfinite(expected_lse)
    assert (np.isneginf(lse) == ~finite).all()
    assert np.abs(lse[finite] - expected_lse[finite]).max() <= 2e-5


@pytest.mark.parametrize("case", ["paged_gqa_t1", "token_major_gqa_t4"])
def test_decode_attention_bf16(compile_cpu, case):
    (out,), expected, _ = run_decode(compile_cpu, case, "bf16", seed=1, lse=False)
    got = value_of(out, "bf16")
    assert np.abs(got - expected).max() <= 3e-2 * np.abs(expected).max()


APPEND_DECODE = """
func.func @step(%q: {qt}, %kc: {ct}, %vc: {ct}, %kn: {nt}, %vn: {nt}, %pos: {lt}, %len: {lt}{btarg})
    -> ({ot}, {ct}, {ct}) {{
  %k2 = kestrel.kv_append %kn into %kc layout = {attr} positions(%pos : {lt}){bt} : {nt} into {ct}
  %v2 = kestrel.kv_append %vn into %vc layout = {attr} positions(%pos : {lt}){bt} : {nt} into {ct}
  %o = kestrel.decode_attention %q, %k2, %v2 layout = {attr} seq_lens(%len : {lt}){bt}
      : {qt}, {ct}, {ct} -> {ot}
  return %o, %k2, %v2 : {ot}, {ct}, {ct}
}}
"""


@pytest.mark.parametrize("layout", ["head_major", "token_major", "paged"])
@pytest.mark.parametrize("Tn", [1, 4])
def test_append_then_decode_equals_attention_on_concatenation(compile_cpu, layout, Tn):
    """Appending T new tokens and decoding them is attention over [old ; new]
    with the causal offset of the combined length, row by row."""
    rng = np.random.default_rng(Tn)
    B, H, Hkv, S, D = 3, 4, 2, 16, 8
    old = np.array([0, 5, S - Tn], dtype=np.int32)  # empty, partial, fills up
    new_len = old + Tn
    k, v, kc, vc, table = make_cache(rng, layout, B, Hkv, S, D, D, new_len, "f32")
    kn, vn = rng.normal(size=(B, Hkv, Tn, D)), rng.normal(size=(B, Hkv, Tn, D))
    q = rng.normal(size=(B, H, Tn, D))
    lt, nt = ty((B,), "i32"), ty(kn.shape, "f32")
    bt = f" block_table(%bt : {ty(table.shape, 'i32')})" if table is not None else ""
    mlir = APPEND_DECODE.format(
        qt=ty(q.shape, "f32"), ct=ty(kc.shape, "f32"), nt=nt, lt=lt,
        ot=ty((B, H, Tn, D), "f32"), attr=layout_attr(layout), bt=bt,
        btarg=f", %bt: {ty(table.shape, 'i32')}" if table is not None else "")
    lib = compile_cpu(mlir)
    extra = [table] if table is not None else []
    out, _, _ = lib.step(q.astype(np.float32), kc.astype(np.float32),
                         vc.astype(np.float32), kn.astype(np.float32),
                         vn.astype(np.float32), old, new_len, *extra)
    k32, v32 = (x.astype(np.float32).astype(np.float64) for x in (k, v))
    kn32, vn32, q32 = (x.astype(np.float32).astype(np.float64) for x in (kn, vn, q))
    for b in range(B):
        L = old[b]
        keys = np.concatenate([k32[b:b + 1, :, :L], kn32[b:b + 1]], axis=2)
        values = np.concatenate([v32[b:b + 1, :, :L], vn32[b:b + 1]], axis=2)
        expected = attention(q32[b:b + 1], keys, values, causal=True)
        assert np.abs(out[b:b + 1] - expected).max() <= 2e-5, f"row {b}"


def test_append_mla_latent_and_drop_past_capacity(compile_cpu):
    """The latent cache takes [B, 1, Tn, D]; writes past the capacity are
    dropped, the rest of the cache is untouched."""
    rng = np.random.default_rng(7)
    B, S, D, Tn = 2, 8, 6, 3
    cache = rng.normal(size=(B, S, D)).astype(np.float32)
    new = rng.normal(size=(B, 1, Tn, D)).astype(np.float32)
    pos = np.array([2, 6], dtype=np.int32)
    lib = compile_cpu(f"""
func.func @append(%n: {ty(new.shape, 'f32')}, %c: {ty(cache.shape, 'f32')}, %p: tensor<2xi32>) -> {ty(cache.shape, 'f32')} {{
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<mla_latent> positions(%p : tensor<2xi32>)
      : {ty(new.shape, 'f32')} into {ty(cache.shape, 'f32')}
  return %o : {ty(cache.shape, 'f32')}
}}""")
    (got,) = lib.append(new, cache, pos)
    expected = cache.copy()
    expected[0, 2:5] = new[0, 0]
    expected[1, 6:8] = new[1, 0, :2]
    np.testing.assert_array_equal(got, expected)


# (B, H, Hkv, P, D, k, query rank)
SELECT = {
    "gqa_k3": (3, 4, 2, 6, 8, 3, 3),
    "mqa_k8_padded": (3, 4, 1, 6, 8, 8, 4),
    "mha_k1_current_only": (3, 2, 2, 5, 4, 1, 3),
}


@pytest.mark.parametrize("case", SELECT)
def test_select_kv_pages(compile_cpu, case):
    B, H, Hkv, P, D, k, qrank = SELECT[case]
    rng = np.random.default_rng(11)
    keys = rng.normal(size=(B, Hkv, P * PAGE, D))
    kmin, kmax = page_bounds(keys, PAGE)
    # A tie: page 1 duplicates page 0 (equal scores, page 0 must win).
    kmin[:, :, 1], kmax[:, :, 1] = kmin[:, :, 0], kmax[:, :, 0]
    q = rng.normal(size=(B, H, 1, D) if qrank == 4 else (B, H, D))
    lens = np.array([0, PAGE * 2 + 1, P * PAGE], dtype=np.int32)
    qt, mt = ty(q.shape, "f32"), ty(kmin.shape, "f32")
    rt = ty((B, Hkv, k), "i32")
    lib = compile_cpu(f"""
func.func @select(%q: {qt}, %mn: {mt}, %mx: {mt}, %len: tensor<{B}xi32>) -> {rt} {{
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<{B}xi32>) k = {k} page_size = {PAGE}
      : {qt}, {mt} -> {rt}
  return %o : {rt}
}}""")
    q32, mn32, mx32 = (x.astype(np.float32) for x in (q, kmin, kmax))
    (got,) = lib.select(q32, mn32, mx32, lens)
    expected = select_kv_pages(q32, mn32, mx32, lens, k, PAGE)
    np.testing.assert_array_equal(got, expected)
    assert (got[0] == -1).all()  # seq_len 0: no page
    assert (got[1:, :, 0] == (-(-lens[1:] // PAGE) - 1)[:, None]).all()
