"""kestrel.attention's block-sparse map, key_lengths and lse result, compiled
for the CPU through both the default (fused, tiled) pipeline and
`--reference-lowering`, against the NumPy oracle.

Tolerances: outputs (magnitude <= 1) max absolute error 1e-5 in f32 and
1.6e-2 in bf16 (one bf16 ulp) after f32 accumulation; lse (magnitude
<= ~10) max absolute error 1e-5. Rows that see no key must be exactly 0 with
lse exactly -inf. Tiles (`kestrel.tile`) are set smaller than the sequence
and not aligned with the blocks, so the fused path meets skipped, full and
partial tiles and the per-tile visit lists.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.compiler import kestrelc
from kestrel.reference.attention import attention as reference
from kestrel.reference.attention import merge_partials
from kestrel.runtime import CpuLibrary

PIPELINES = {"fused": (), "reference": ("--reference-lowering",)}
OUT_TOL = {"f32": 1e-5, "bf16": 1.6e-2}
LSE_TOL = 1e-5


@pytest.fixture
def compile_with(tmp_path):
    counter = iter(range(1 << 30))

    def run(mlir: str, pipeline: str) -> CpuLibrary:
        out = tmp_path / f"m{next(counter)}.so"
        kestrelc(mlir, out, "--target=cpu", "--emit=so", *PIPELINES[pipeline])
        return CpuLibrary(out)
    return run


def mlir_bool(m: np.ndarray) -> str:
    rows = ", ".join("[" + ", ".join("true" if x else "false" for x in r) + "]"
                     for r in m)
    return f"dense<[{rows}]> : tensor<{m.shape[0]}x{m.shape[1]}xi1>"


def attention_mlir(B, H, Hkv, T, S, D, *, causal=False, window=None,
                   block_map=None, block_size=None, lengths=False, lse=False,
                   tile=None, dtype="f32") -> str:
    qt = f"tensor<{B}x{H}x{T}x{D}x{dtype}>"
    kt = f"tensor<{B}x{Hkv}x{S}x{D}x{dtype}>"
    ot = qt
    lt = f"tensor<{B}x{H}x{T}xf32>"
    args = [f"%q: {qt}", f"%k: {kt}", f"%v: {kt}"]
    parts = []
    if lengths:
        args.append(f"%len: tensor<{B}xi32>")
        parts.append(f"key_lengths(%len : tensor<{B}xi32>)")
    if causal:
        parts.append("causal")
    if window is not None:
        parts.append(f"window = {window}")
    if block_map is not None:
        parts.append(f"block_size = [{block_size[0]}, {block_size[1]}]")
        parts.append(f"block_map = {mlir_bool(block_map)}")
    if tile is not None:
        parts.append(f"{{kestrel.tile = #kestrel.attention_tiles<query = {tile[0]}, key = {tile[1]}>}}")
    results = [ot] + ([lt] if lse else [])
    names = "%o, %l" if lse else "%o"
    return f"""
func.func @attn({', '.join(args)}) -> ({', '.join(results)}) {{
  {names} = kestrel.attention %q, %k, %v {' '.join(parts)}
      : {qt}, {kt}, {kt} -> {', '.join(results)}
  return {names} : {', '.join(results)}
}}
"""


def longformer_map(nq: int, nk: int, radius: int = 1, n_global: int = 1):
    """Local band of blocks around the diagonal plus global blocks (the
    first n_global block rows and columns see / are seen by everything)."""
    i, j = np.arange(nq)[:, None], np.arange(nk)[None, :]
    return (np.abs(i - j) <= radius) | (i < n_global) | (j < n_global)


def run(compile_with, pipeline, B, H, Hkv, T, S, D, *, seed=0, dtype="f32",
        lengths=None, lse=False, **attrs):
    rng = np.random.default_rng(seed)
    q, qv = storage(rng.uniform(-1, 1, (B, H, T, D)), dtype)
    k, kv = storage(rng.uniform(-1, 1, (B, Hkv, S, D)), dtype)
    v, vv = storage(rng.uniform(-1, 1, (B, Hkv, S, D)), dtype)
    tile = attrs.pop("tile", None)
    text = attention_mlir(B, H, Hkv, T, S, D, lengths=lengths is not None,
                          lse=lse, tile=tile, dtype=dtype, **attrs)
    lib = compile_with(text, pipeline)
    inputs = [q, k, v] + ([np.asarray(lengths, np.int32)]
                          if lengths is not None else [])
    results = lib.attn(*inputs)
    exp_out, exp_lse = reference(qv, kv, vv, key_lengths=lengths,
                                 return_lse=True, **attrs)
    out = value_of(results[0], dtype)
    assert np.isfinite(out).all()
    err = np.abs(out - exp_out).max()
    assert err <= OUT_TOL[dtype], f"output max error {err:.3g}"
    # Rows that see nothing are exactly zero.
    dead = np.isneginf(exp_lse)
    assert (out[dead] == 0).all()
    if lse:
        got = results[1]
        assert (np.isneginf(got) == dead).all(), "lse -inf rows differ"
        lerr = np.abs(got[~dead] - exp_lse[~dead]).max(initial=0.0)
        assert lerr <= LSE_TOL, f"lse max error {lerr:.3g}"
    return results, (exp_out, exp_lse)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_longformer_causal(compile_with, pipeline):
    # 5 x 5 blocks of 8; tiles 8 x 8 coincide with blocks, so the fused path
    # skips whole tiles and visits more than two runs per query tile.
    T = S = 40
    blocks = longformer_map(5, 5)
    run(compile_with, pipeline, 1, 4, 2, T, S, 8, causal=True,
        block_map=blocks, block_size=(8, 8), tile=(8, 8), lse=True)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_longformer_ragged_tiles(compile_with, pipeline):
    # Blocks 6 x 5 (ragged at both ends), tiles 4 x 8: partial tiles apply
    # the block map element by element. Non-causal, prefill over a cache.
    T, S = 23, 37
    blocks = longformer_map(4, 8, radius=2)
    run(compile_with, pipeline, 2, 2, 1, T, S, 8, block_map=blocks,
        block_size=(6, 5), tile=(4, 8), lse=True, seed=1)


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("seed", range(3))
def test_random_block_map_with_causal(compile_with, pipeline, seed):
    rng = np.random.default_rng(50 + seed)
    T = int(rng.integers(5, 33))
    S = T + int(rng.integers(0, 20))
    bq, bk = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    blocks = rng.random((-(-T // bq), -(-S // bk))) < 0.5
    tile = (int(rng.choice([2, 4, 8])), int(rng.choice([4, 8, 16])))
    attrs = {"causal": True}
    if seed == 2:
        attrs["window"] = 9
    B = 2
    lengths = rng.integers(-2, S + 3, B) if seed > 0 else None
    run(compile_with, pipeline, B, 2, 1, T, S, 8, block_map=blocks,
        block_size=(bq, bk), tile=tile, lse=True, seed=seed,
        lengths=lengths, **attrs)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_decode_t1(compile_with, pipeline):
    # One query over a cache of 37 keys: sparse blocks of 8, key lengths.
    blocks = np.array([[True, False, True, True, False]])
    run(compile_with, pipeline, 2, 4, 2, 1, 37, 16, causal=True,
        block_map=blocks, block_size=(1, 8), lengths=np.array([30, 37]),
        tile=(1, 8), lse=True, seed=5)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_all_masked_block_rows(compile_with, pipeline):
    # Block row 1 is empty: its rows return 0 and lse -inf.
    blocks = np.array([[True, False], [False, False], [True, True]])
    run(compile_with, pipeline, 1, 1, 1, 12, 16, 4, block_map=blocks,
        block_size=(4, 8), tile=(4, 4), lse=True)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_key_lengths(compile_with, pipeline):
    # Lengths 0 (all rows zero), mid-tile, at a tile boundary, beyond S.
    lengths = np.array([0, 13, 16, 99])
    run(compile_with, pipeline, 4, 2, 2, 6, 24, 8, lengths=lengths,
        tile=(4, 8), lse=True)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_key_lengths_causal_block_map_bf16(compile_with, pipeline):
    # Every mask at once, with the visit lists clamped at run time.
    T = S = 32
    blocks = longformer_map(4, 4)
    lengths = np.array([21, 5, -3])
    run(compile_with, pipeline, 3, 2, 1, T, S, 8, causal=True,
        block_map=blocks, block_size=(8, 8), tile=(8, 8), lengths=lengths,
        lse=True, dtype="bf16")


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_key_lengths_window(compile_with, pipeline):
    lengths = np.array([30, 7])
    run(compile_with, pipeline, 2, 2, 1, 10, 30, 8, causal=True, window=12,
        lengths=lengths, tile=(4, 8))


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_lse_merge_identity(compile_with, pipeline):
    """Attention over the two halves of the keys (block map split between
    them), merged by their lse, equals attention over all keys."""
    B, H, T, S, D, bk = 1, 2, 10, 24, 8, 4
    rng = np.random.default_rng(9)
    blocks = rng.random((-(-T // 5), S // bk)) < 0.6
    blocks[1, :] = False  # rows 5..9 see nothing in either half
    q = rng.uniform(-1, 1, (B, H, T, D)).astype(np.float32)
    k = rng.uniform(-1, 1, (B, H, S, D)).astype(np.float32)
    v = rng.uniform(-1, 1, (B, H, S, D)).astype(np.float32)

    def compiled(keys, vals, part):
        text = attention_mlir(B, H, H, T, keys.shape[2], D, block_map=part,
                              block_size=(5, bk), lse=True, tile=(4, 4))
        return compile_with(text, pipeline).attn(q, keys, vals)

    half = S // 2
    whole = compiled(k, v, blocks)
    first = compiled(k[:, :, :half], v[:, :, :half], blocks[:, :half // bk])
    second = compiled(k[:, :, half:], v[:, :, half:], blocks[:, half // bk:])
    out, lse = merge_partials([first[0], second[0]], [first[1], second[1]])
    np.testing.assert_allclose(out, whole[0], atol=1e-5)
    assert (np.isneginf(lse) == np.isneginf(whole[1])).all()
    live = np.isfinite(lse)
    np.testing.assert_allclose(lse[live], whole[1][live], atol=1e-5)
    exp_out, exp_lse = reference(q, k, v, block_map=blocks, block_size=(5, bk),
                                 return_lse=True)
    np.testing.assert_allclose(out, exp_out, atol=1e-5)
    np.testing.assert_allclose(lse[live], exp_lse[live], atol=1e-5)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_longformer_default_tiles(compile_with, pipeline):
    # No kestrel.tile: kestrel-tile caps its tile at the 16 × 16 blocks, so
    # the fused path skips whole blocks (4 × 4 map, ragged S = 60).
    T, S = 64, 60
    blocks = longformer_map(4, 4)
    run(compile_with, pipeline, 1, 2, 1, T, S, 16, block_map=blocks,
        block_size=(16, 16), lse=True, seed=3)


@pytest.mark.parametrize("chip", ["sm_90a", "sm_80"])
def test_every_mask_ptx_assembles(check_ptx, chip):
    # The CUDA pipeline (the reference lowering on threads) takes the block
    # map (unpacked on the device), key_lengths (an i32 input) and the lse
    # result (a second output).
    ptx = check_ptx(attention_mlir(2, 2, 1, 8, 16, 8, causal=True,
                                   block_map=longformer_map(2, 4),
                                   block_size=(4, 4), lengths=True, lse=True),
                    chip)
    assert ".entry" in ptx and f".target {chip}" in ptx


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_large_random_map(compile_with, pipeline):
    # 32 × 32 blocks of 2: 1024 map bits, 16 words in the reference lowering.
    blocks = np.random.default_rng(11).random((32, 32)) < 0.3
    run(compile_with, pipeline, 1, 2, 1, 64, 64, 8, causal=True,
        block_map=blocks, block_size=(2, 2), tile=(8, 8), lse=True, seed=11)
