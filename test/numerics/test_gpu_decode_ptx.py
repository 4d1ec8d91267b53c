"""The split-KV decode kernels and the kv_append scatter
(kestrel-gpu-decode-attention) for every layout and the T / dtype / lse
variants: PTX that ptxas assembles for sm_90a (and sm_80), two kernels per
decode (split + log-sum-exp merge) with 16-byte vector loads and warp
shuffles, no register spills for the T = 1, D = 128 decode of the bench.

CI has no GPU: the kernels' numerics are checked on the device by
bench/gpu/decode.sh (bench/gpu/check_decode.py, f32 PyTorch reference).
Here, the CPU path checks kestrel-select-kv-layout's re-laid-out graphs
against the NumPy oracle, and the bench's own reference against it too."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import PTXAS
from kestrel.reference.kvcache import decode_attention, kv_append

ROOT = Path(__file__).resolve().parents[2]


def ty(shape, dtype):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{dtype}>"


def decode(layout, B, H, Hkv, T, S, D, dtype, lse=False, page=16, Dv=None):
    Dv = Dv or D
    q, o, lt = ty((B, H, T, D), dtype), ty((B, H, T, Dv), dtype), ty((B, H, T), "f32")
    shape = {"head_major": (B, Hkv, S, D), "token_major": (B, S, Hkv, D),
             "mla_latent": (B, S, D),
             "paged": (B * S // page + 3, page, Hkv, D)}[layout]
    kt = ty(shape, dtype)
    attr = (f"#kestrel.kv_layout<paged, page_size = {page}>" if layout == "paged"
            else f"#kestrel.kv_layout<{layout}>")
    has_v = layout != "mla_latent"
    args = [f"%q: {q}", f"%k: {kt}"] + ([f"%v: {kt}"] if has_v else []) + \
        [f"%len: tensor<{B}xi32>"]
    bt = ""
    if layout == "paged":
        args.append(f"%bt: tensor<{B}x{S // page}xi32>")
        bt = f" block_table(%bt : tensor<{B}x{S // page}xi32>)"
    res = f"{o}, {lt}" if lse else o
    names = "%o, %l" if lse else "%o"
    return f"""
func.func @decode({', '.join(args)}) -> ({res}) {{
  {names} = kestrel.decode_attention %q, %k{', %v' if has_v else ''} layout = {attr}
      seq_lens(%len : tensor<{B}xi32>){bt}
      : {q}, {kt}{', ' + kt if has_v else ''} -> {res}
  return {names} : {res}
}}
"""


DECODE = {
    # the bench's shape at a shorter S
    "head_major_bf16_t1_d128": ("head_major", 8, 32, 8, 1, 2048, 128, "bf16", False),
    "token_major_f16_t4_d128": ("token_major", 2, 16, 4, 4, 1000, 128, "f16", False),
    "paged16_bf16_t8_d128_lse": ("paged", 2, 32, 8, 8, 1024, 128, "bf16", True),
    "paged64_bf16_t3_d64": ("paged", 3, 8, 1, 3, 4096, 64, "bf16", False),
    "head_major_f32_t2_d8_lse": ("head_major", 2, 4, 2, 2, 70, 8, "f32", True),
}


@pytest.mark.parametrize("case", sorted(DECODE))
def test_decode_kernel_ptx(check_ptx, case):
    layout, B, H, Hkv, T, S, D, dtype, lse = DECODE[case]
    page = 64 if case.startswith("paged64") else 16
    ptx = check_ptx(decode(layout, B, H, Hkv, T, S, D, dtype, lse, page))
    assert ptx.count(".entry") == 2, "split kernel + merge kernel"
    assert "shfl.sync.bfly" in ptx
    assert "bar.sync" in ptx
    if dtype != "f32":
        assert "ld.global.v4" in ptx, "16-byte vector loads of the cache"


def test_decode_kernel_mla_ptx_sm80(check_ptx):
    ptx = check_ptx(decode("mla_latent", 2, 16, 1, 1, 1024, 192, "bf16", Dv=128),
                    chip="sm_80")
    assert ptx.count(".entry") == 2


def test_decode_kernel_does_not_spill(check_ptx, tmp_path):
    """ptxas's resource report for the bench's T = 1, D = 128 decode."""
    ptx = check_ptx(decode(*DECODE["head_major_bf16_t1_d128"][:8]))
    path = tmp_path / "k.ptx"
    path.write_text(ptx)
    report = subprocess.run([PTXAS, "-arch=sm_90a", "-v", str(path), "-o",
                             str(tmp_path / "k.cubin")], capture_output=True,
                            text=True, check=True).stderr
    assert report.count("0 bytes spill stores") == 2, report


@pytest.mark.parametrize("layout", ["head_major", "token_major", "paged", "mla_latent"])
def test_append_kernel_ptx(check_ptx, layout):
    B, Hkv, Tn, S, D, P = 2, 2, 3, 64, 128, 16
    hk = 1 if layout == "mla_latent" else Hkv
    shape = {"head_major": (B, Hkv, S, D), "token_major": (B, S, Hkv, D),
             "mla_latent": (B, S, D), "paged": (B * S // P, P, Hkv, D)}[layout]
    nt, ct = ty((B, hk, Tn, D), "bf16"), ty(shape, "bf16")
    attr = (f"#kestrel.kv_layout<paged, page_size = {P}>" if layout == "paged"
            else f"#kestrel.kv_layout<{layout}>")
    bt_arg = f", %bt: tensor<{B}x{S // P}xi32>" if layout == "paged" else ""
    bt = f" block_table(%bt : tensor<{B}x{S // P}xi32>)" if layout == "paged" else ""
    ptx = check_ptx(f"""
func.func @append(%n: {nt}, %c: {ct}, %pos: tensor<{B}xi32>{bt_arg}) -> {ct} {{
  %o = kestrel.kv_append %n into %c layout = {attr} positions(%pos : tensor<{B}xi32>){bt}
      : {nt} into {ct}
  return %o : {ct}
}}""")
    assert ptx.count(".entry") == 1
    assert "st.global.v4" in ptx


def test_created_cache_relaid_out_matches_oracle(compile_cpu):
    """A decode step that builds its caches (tensor.empty token-major,
    appended, then read): kestrel-select-kv-layout retypes the chain to
    head-major on the CPU pipeline; the result must equal the NumPy oracle
    on the token-major graph as written."""
    B, H, Hkv, Tn, S, D = 2, 4, 2, 5, 16, 8
    rng = np.random.default_rng(7)
    nk = rng.uniform(-1, 1, (B, Hkv, Tn, D)).astype(np.float32)
    nv = rng.uniform(-1, 1, (B, Hkv, Tn, D)).astype(np.float32)
    q = rng.uniform(-1, 1, (B, H, 2, D)).astype(np.float32)
    pos = np.array([3, 9], dtype=np.int32)
    lens = pos + Tn
    ct = ty((B, S, Hkv, D), "f32")
    nt = ty((B, Hkv, Tn, D), "f32")
    qt, ot = ty((B, H, 2, D), "f32"), ty((B, H, 2, D), "f32")
    mlir = f"""
func.func @step(%q: {qt}, %nk: {nt}, %nv: {nt}, %pos: tensor<{B}xi32>, %len: tensor<{B}xi32>) -> {ot} {{
  %z = arith.constant dense<0.5> : {ct}
  %k = kestrel.kv_append %nk into %z layout = #kestrel.kv_layout<token_major> positions(%pos : tensor<{B}xi32>) : {nt} into {ct}
  %v = kestrel.kv_append %nv into %z layout = #kestrel.kv_layout<token_major> positions(%pos : tensor<{B}xi32>) : {nt} into {ct}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<token_major> seq_lens(%len : tensor<{B}xi32>)
      : {qt}, {ct}, {ct} -> {ot}
  return %o : {ot}
}}"""
    from kestrel.compiler import kestrelc_path
    opt = Path(kestrelc_path()).with_name("kestrel-opt")
    relaid = subprocess.run(
        [str(opt), "--pass-pipeline=builtin.module(func.func("
         "kestrel-select-kv-layout{target=cpu}))"],
        input=mlir, capture_output=True, text=True, check=True).stdout
    # The pass did re-lay the chain out (the CPU pipeline runs it first).
    assert "kestrel.kv_layout_from = #kestrel.kv_layout<token_major>" in relaid
    assert relaid.count("layout = #kestrel.kv_layout<head_major>") == 3
    (got,) = compile_cpu(mlir).step(q, nk, nv, pos, lens)
    zero = np.full((B, S, Hkv, D), 0.5, np.float32)
    kc = kv_append(zero, nk, pos, "token_major")
    vc = kv_append(zero, nv, pos, "token_major")
    want, _ = decode_attention(q, kc, vc, lens, "token_major")
    np.testing.assert_allclose(got, want, atol=2e-6, rtol=1e-5)


def test_bench_reference_matches_oracle():
    """bench/gpu/check_decode.py's PyTorch reference and layouts (the
    device bench's oracle) agree with the NumPy oracle on every layout,
    with NaN past seq_lens and -1 block-table entries."""
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(ROOT / "bench" / "gpu"))
    import check_decode as cd
    gen = torch.Generator().manual_seed(1)
    for lay, page, T, Dv in [("head_major", 0, 3, 16), ("paged", 4, 1, 16),
                             ("token_major", 0, 2, 16), ("mla_latent", 0, 2, 8),
                             ("paged", 8, 5, 16)]:
        B, H, S, D = 8, 8, 32, 16
        Hk = 1 if lay == "mla_latent" else 2
        meta = dict(B=B, S=S, page=page, layout=lay, lens="ragged")
        lens = cd.seq_lens(meta, gen)
        q = cd.uniform((B, H, T, D), gen, "f32")
        k = cd.uniform((B, Hk, S, D), gen, "f32")
        v = k[..., :Dv] if lay == "mla_latent" else cd.uniform((B, Hk, S, Dv), gen, "f32")
        perm = (torch.randperm(B * (S // page) + 8, generator=gen)[:B * (S // page)]
                if lay == "paged" else None)
        kc = cd.layout_cache(k, meta, lens, perm, True)
        vc = None if lay == "mla_latent" else cd.layout_cache(v, meta, lens, perm, True)
        bt = cd.block_table(meta, lens, perm, True) if lay == "paged" else None
        o, lse = decode_attention(q.numpy(), kc.numpy(), None if vc is None else vc.numpy(),
                                  lens.numpy(), lay, block_table=None if bt is None else bt.numpy(),
                                  page_size=page or None, value_dim=Dv)
        ro, rl = cd.reference(q, k, v, lens, T)
        np.testing.assert_allclose(ro.numpy(), o, atol=1e-6)
        fin = np.isfinite(lse)
        assert (np.isfinite(rl.numpy()) == fin).all()
        np.testing.assert_allclose(rl.numpy()[fin], lse[fin], atol=1e-5)


def split_kv_model(q, k, v, lens, T, splits, split_keys, tile):
    """The split kernel's algorithm step by step, as generated (key tiles
    of `tile` within splits of `split_keys`, keys clamped to the last valid
    token, base-2 online softmax, normalized partials + natural lse), then
    the merge. q [B,H,T,D], k [B,Hkv,S,D], v [B,Hkv,S,Dv] (float64)."""
    B, H, _, D = q.shape
    Hkv, S, Dv = k.shape[1], k.shape[2], v.shape[3]
    g = H // Hkv
    log2e = 1.0 / np.log(2.0)
    o_part = np.zeros((B, H, T, splits, Dv))
    l_part = np.full((B, H, T, splits), -np.inf)
    for b in range(B):
        L = int(lens[b])
        valid = min(max(L, 0), S)
        for j in range(Hkv):
            qs = q[b, j * g:(j + 1) * g].reshape(g * T, D) * (log2e / np.sqrt(D))
            tq = np.tile(np.arange(T), g)
            for sp in range(splits):
                s0 = sp * split_keys
                end = min(s0 + split_keys, valid)
                m = np.full(g * T, -np.inf)
                l = np.zeros(g * T)
                acc = np.zeros((g * T, Dv))
                for t0 in range(s0, end, tile):
                    keys = np.minimum(np.arange(t0, t0 + tile), end - 1)
                    x = qs @ k[b, j, keys].T
                    key = np.arange(t0, t0 + tile)
                    seen = (key[None, :] < end) & (key[None, :] <= (tq + L - T)[:, None])
                    x = np.where(seen, x, -np.inf)
                    m_new = np.maximum(m, x.max(axis=1))
                    m_use = np.where(m_new == -np.inf, 0.0, m_new)
                    alpha = np.exp2(m - m_use)
                    p = np.exp2(x - m_use[:, None])
                    l = l * alpha + p.sum(axis=1)
                    acc = acc * alpha[:, None] + p @ v[b, j, keys]
                    m = m_new
                with np.errstate(divide="ignore", invalid="ignore"):
                    out = np.where(l[:, None] > 0, acc / l[:, None], 0.0)
                    lse = np.where(l > 0, (m + np.log2(l)) * np.log(2.0), -np.inf)
                o_part[b, j * g:(j + 1) * g, :, sp] = out.reshape(g, T, Dv)
                l_part[b, j * g:(j + 1) * g, :, sp] = lse.reshape(g, T)
    M = l_part.max(axis=-1)
    m_use = np.where(M == -np.inf, 0.0, M)
    w = np.exp(l_part - m_use[..., None])
    tot = w.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(tot[..., None] > 0,
                       (w[..., None] * o_part).sum(axis=3) / tot[..., None], 0.0)
        lse = np.where(tot > 0, M + np.log(tot), -np.inf)
    return out, lse


@pytest.mark.parametrize("S,T,split_keys", [(1000, 3, 192), (2048, 1, 1024), (130, 8, 64)])
def test_split_kv_algorithm_matches_oracle(S, T, split_keys):
    """The algorithm the split and merge kernels implement (with the split
    plan the pass chooses, read from the compiled manifest's grid) equals
    the NumPy oracle, on rows with L = 0, L < T, L = S and ragged L, and
    with NaN past L. The kernels themselves are checked on the device."""
    from kestrel.compiler import kestrelc
    import tempfile
    B, H, Hkv, D = 6, 8, 2, 64
    mlir = decode("head_major", B, H, Hkv, T, S, D, "bf16").replace(
        "\n      : ", f" {{kestrel.split_keys = {split_keys}}}\n      : ", 1)
    with tempfile.TemporaryDirectory() as d:
        kestrelc(mlir, Path(d) / "m.ptx", "--target=cuda:sm_90a", "--emit=ptx")
        launches = [l.split() for l in (Path(d) / "m.manifest").read_text().splitlines()
                    if l.startswith("launch")]
    splits = int(launches[0][3])
    assert splits == -(-S // split_keys)
    rng = np.random.default_rng(S + T)
    q = rng.uniform(-1, 1, (B, H, T, D))
    k = rng.uniform(-1, 1, (B, Hkv, S, D))
    v = rng.uniform(-1, 1, (B, Hkv, S, D))
    lens = np.array([0, 1, T - 1 if T > 1 else 2, S, S - 5, S // 2 + 7], dtype=np.int32)
    for b in range(B):
        k[b, :, lens[b]:] = np.nan
        v[b, :, lens[b]:] = np.nan
    got, got_lse = split_kv_model(q, k, v, lens, T, splits, split_keys, 64)
    want, want_lse = decode_attention(q, k, v, lens, "head_major")
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert (np.isfinite(got_lse) == np.isfinite(want_lse)).all()
    fin = np.isfinite(want_lse)
    np.testing.assert_allclose(got_lse[fin], want_lse[fin], atol=1e-12)
