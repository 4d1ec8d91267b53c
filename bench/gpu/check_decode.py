"""Checks and times Kestrel's split-KV decode kernels (and the kv_append
scatter) against PyTorch, on the GPU machine (run by bench/gpu/decode.sh).

For every case staged by bench/gpu/stage_decode.py (case.ptx, .manifest,
.json):

  decode: draws q, K, V uniformly in [-1, 1) (rounded to the storage type),
    lays K/V out as the case's layout (paged: the pages of all rows shuffled
    over a pool with spare pages; tokens past seq_lens, spare pages and
    block-table entries past the last page are poisoned with NaN / -1),
    runs our kernels through kestrel-run (CUDA events, median of --repeat)
    and compares the output (and lse) with an f32 PyTorch reference computed
    from the same rounded values (docs/dialect.md semantics: query t sees
    cache positions s <= t + L - T; rows that see nothing give 0 / -inf).
    Tolerance: bf16 max abs 1e-2 and relative L2 1e-2 (the output is
    rounded to bf16, relative step 2^-8); f16 2e-3 and 2e-3; lse (f32)
    max abs 2e-3.
    GB/s = unique KV bytes the step must read (sum over rows of
    min(L, S) * Hkv * (D + Dv) * bytes; MLA reads only the latent rows)
    / time. The same figure is printed for torch SDPA in bf16/f16 on the
    same logical shapes, measured in this run: (a) K/V repeated to H heads
    beforehand (repeat_interleave, contiguous; the repeat is not timed),
    (b) enable_gqa=True when the build supports it. SDPA reads the KV of
    every query head in (a), so its real traffic is g times the figure.
  append: random cache and new tokens, positions that run off both ends of
    the cache, on paged caches two rows sharing pages; compared bit-exactly
    with the op's rule applied in order (later (b, i) wins).
Prints PASS/FAIL per case; writes a markdown table (--table).
"""

import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

DT = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}
TOL = {"bf16": (1e-2, 1e-2), "f16": (2e-3, 2e-3), "f32": (1e-4, 1e-4)}
LSE_TOL = 2e-3


def to_npy(x):
    x = x.detach().cpu().contiguous()
    if x.dtype == torch.bfloat16:
        return x.view(torch.int16).numpy().view(np.uint16)
    return x.numpy()


def from_npy(a, dtype):
    t = torch.from_numpy(np.ascontiguousarray(a))
    if dtype == "bf16":
        return t.view(torch.int16).view(torch.bfloat16)
    return t


def seq_lens(meta, gen):
    B, S = meta["B"], meta["S"]
    if meta["lens"] == "full":
        return torch.full((B,), S, dtype=torch.int32)
    fixed = [0, 1, 17, S - 1, S, S // 2 + 3, 64, 1000]
    lens = [fixed[i] if i < len(fixed) else
            int(torch.randint(1, S + 1, (1,), generator=gen)) for i in range(B)]
    return torch.tensor([min(max(v, 0), S) for v in lens], dtype=torch.int32)


def uniform(shape, gen, dtype):
    return (torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1).to(DT[dtype])


def layout_cache(x, meta, lens, perm, poison):
    """x [B, Hkv, S, Dx] logical -> the layout's cache tensor (CPU)."""
    B, Hkv, S, Dx = x.shape
    x = x.clone()
    if poison:
        for b in range(B):
            x[b, :, int(lens[b]):] = float("nan")
    lay = meta["layout"]
    if lay == "head_major":
        return x.contiguous()
    if lay == "token_major":
        return x.permute(0, 2, 1, 3).contiguous()
    if lay == "mla_latent":
        return x[:, 0].contiguous()
    P = meta["page"]
    M = S // P
    pages = x.view(B, Hkv, M, P, Dx).permute(0, 2, 3, 1, 4).reshape(B * M, P, Hkv, Dx)
    pool = torch.full((B * M + 8, P, Hkv, Dx), float("nan"), dtype=x.dtype)
    pool[perm] = pages
    return pool


def block_table(meta, lens, perm, poison):
    B, S, P = meta["B"], meta["S"], meta["page"]
    M = S // P
    bt = perm.view(B, M).clone().to(torch.int32)
    if poison:
        for b in range(B):
            used = (int(lens[b]) + P - 1) // P
            bt[b, used:] = -1
    return bt


def reference(q, k, v, lens, T):
    """f32 decode attention; q [B,H,T,D], k [B,Hkv,S,D], v [B,Hkv,S,Dv]."""
    B, H, _, D = q.shape
    Hkv, S = k.shape[1], k.shape[2]
    g = H // Hkv
    qg = q.view(B, Hkv, g, T, D)
    k = torch.nan_to_num(k, nan=0.0)  # masked anyway; keeps 0 * NaN out
    v = torch.nan_to_num(v, nan=0.0)
    x = torch.einsum("bjgtd,bjsd->bjgts", qg, k) / math.sqrt(D)
    s = torch.arange(S, device=q.device)
    t = torch.arange(T, device=q.device)
    last = t[None, :] + lens.to(q.device)[:, None].long() - T  # [B, T]
    ok = s[None, None, :] <= last[:, :, None]                  # [B, T, S]
    x = x.masked_fill(~ok[:, None, None], float("-inf"))
    lse = torch.logsumexp(x, dim=-1)
    p = torch.nan_to_num(torch.softmax(x, dim=-1), nan=0.0)
    out = torch.einsum("bjgts,bjsd->bjgtd", p, v)
    return out.reshape(B, H, T, -1), lse.reshape(B, H, T)


def time_cuda(fn, warmup=3, repeat=20):
    if not torch.cuda.is_available():  # --device cpu dry runs of this script
        import time
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1e3
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return float(np.median(times))


def run_kestrel(args, case, work, nins):
    outdir = work / "out"
    outdir.mkdir(exist_ok=True)
    for f in outdir.glob("*.npy"):
        f.unlink()
    cmd = [args.kestrel_run, str(case / "case.manifest"), f"--inputs={work}",
           f"--outputs={outdir}", f"--warmup={args.warmup}", f"--repeat={args.repeat}"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    print(f"$ {' '.join(cmd)}\n{res.stdout}{res.stderr}", end="")
    if res.returncode != 0:
        return None, None
    m = re.search(r"median ([0-9.]+) ms", res.stdout)
    return float(m.group(1)) if m else None, outdir


_INPUTS = None  # (signature, q, k, v, lens, work dir) of the last decode case


def check_decode(args, name, case, meta, gen, dev):
    B, H, Hkv, T, S, D, Dv = (meta[k] for k in ("B", "H", "Hkv", "T", "S", "D", "Dv"))
    dtype, lay = meta["dtype"], meta["layout"]
    poison = meta["lens"] != "full"
    # Cases that differ only in the kernel's split size (the sweep) share
    # their inputs: drawn and written once.
    sig = tuple(meta[key] for key in ("layout", "page", "B", "H", "Hkv", "T", "S",
                                      "D", "Dv", "dtype", "lens"))
    global _INPUTS
    if _INPUTS is not None and _INPUTS[0] == sig:
        q, k, v, lens, work = _INPUTS[1:]
    else:
        if _INPUTS is not None:
            for f in _INPUTS[-1].glob("in*.npy"):
                f.unlink()
        _INPUTS = None
        work = Path(args.work) / name
        work.mkdir(parents=True, exist_ok=True)
        lens = seq_lens(meta, gen)
        q = uniform((B, H, T, D), gen, dtype)
        k = uniform((B, Hkv, S, D), gen, dtype)
        v = k[..., :Dv] if lay == "mla_latent" else uniform((B, Hkv, S, Dv), gen, dtype)
        perm = None
        if lay == "paged":
            M = S // meta["page"]
            perm = torch.randperm(B * M + 8, generator=gen)[:B * M]
        ins = [q, layout_cache(k, meta, lens, perm, poison)]
        if lay != "mla_latent":
            ins.append(layout_cache(v, meta, lens, perm, poison))
        ins.append(lens)
        if lay == "paged":
            ins.append(block_table(meta, lens, perm, poison))
        for i, x in enumerate(ins):
            np.save(work / f"in{i}.npy", to_npy(x))
        del ins
        _INPUTS = (sig, q, k, v, lens, work)
    ms, outdir = run_kestrel(args, case, work, 0)
    ok, err, rel, lse_err = False, float("nan"), float("nan"), float("nan")
    if outdir is not None:
        out = from_npy(np.load(outdir / "out0.npy"), dtype).to(dev).float()
        ref, ref_lse = reference(q.to(dev).float(), k.to(dev).float(),
                                 v.to(dev).float(), lens, T)
        if torch.isfinite(out).all():
            err = (out - ref).abs().max().item()
            rel = ((out - ref).norm() / ref.norm().clamp_min(1e-30)).item()
        max_abs, max_rel = TOL[dtype]
        ok = math.isfinite(err) and err <= max_abs and rel <= max_rel
        if not ok:  # where it goes wrong, for a later diagnosis from the log
            row_err = (out - ref).abs().nan_to_num(nan=float("inf")).amax(dim=-1)
            worst = torch.topk(row_err.flatten(), min(8, row_err.numel()))
            for e, i in zip(worst.values.tolist(), worst.indices.tolist()):
                b, h, t = i // (H * T), (i // T) % H, i % T
                print(f"  {name}: row b={b} h={h} t={t} L={int(lens[b])} err {e:.3e} "
                      f"got[:4] {out[b, h, t, :4].tolist()} want[:4] {ref[b, h, t, :4].tolist()}")
            bad = (row_err > max_abs).float()
            print(f"  {name}: {int(bad.sum())} of {bad.numel()} rows off; by t: "
                  f"{bad.sum(dim=(0, 1)).tolist()}; by b: {bad.sum(dim=(1, 2)).tolist()}")
        if meta["lse"]:
            got = torch.from_numpy(np.load(outdir / "out1.npy")).to(dev)
            fin = torch.isfinite(ref_lse)
            same_inf = bool((torch.isfinite(got) == fin).all())
            lse_err = (got[fin] - ref_lse[fin]).abs().max().item() if fin.any() else 0.0
            ok = ok and same_inf and lse_err <= LSE_TOL
            if not same_inf:
                print(f"{name}: lse finiteness differs from the reference")
        del out, ref, ref_lse
        for f in outdir.glob("*.npy"):
            f.unlink()
    # Bytes the step must read.
    elem = torch.finfo(DT[dtype]).bits // 8
    rows = int(lens.clamp(0, S).sum())
    bytes_kv = rows * Hkv * (D if lay == "mla_latent" else D + Dv) * elem
    gbs = lambda t: bytes_kv / (t * 1e-3) / 1e9 if t else None  # noqa: E731
    # Peers: SDPA on the same logical shapes (full length, no mask).
    peers = {}
    if lay != "mla_latent":
        qd, kd, vd = (x.to(dev) for x in (q, torch.nan_to_num(k), torch.nan_to_num(v)))
        kr = kd.repeat_interleave(H // Hkv, dim=1).contiguous()
        vr = vd.repeat_interleave(H // Hkv, dim=1).contiguous()
        try:
            peers["sdpa_rep"] = time_cuda(lambda: F.scaled_dot_product_attention(qd, kr, vr))
        except Exception as e:  # noqa: BLE001
            print(f"{name}: SDPA (repeated K/V) failed: {str(e).splitlines()[0][:100]}")
        del kr, vr
        try:
            peers["sdpa_gqa"] = time_cuda(lambda: F.scaled_dot_product_attention(
                qd, kd, vd, enable_gqa=True))
        except Exception as e:  # noqa: BLE001
            print(f"{name}: SDPA enable_gqa failed: {str(e).splitlines()[0][:100]}")
        del qd, kd, vd
    if torch.cuda.is_available():
        torch.cuda.empty_cache()

    def fmt(t):
        return f"{t:.3f} / {gbs(t):.0f}" if t else "n/a"
    shape = f"{dtype} B{B} H{H}/{Hkv} T{T} S{S} D{D}" + (f" Dv{Dv}" if Dv != D else "")
    layname = lay + (f"<{meta['page']}>" if lay == "paged" else "")
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict} {name}: {shape} {layname} lens={meta['lens']} ours {fmt(ms)} ms/GBps, "
          f"max abs err {err:.2e}, rel L2 {rel:.2e}, lse err {lse_err:.2e}")
    return ok, [name, shape, layname, meta["lens"], fmt(ms), fmt(peers.get("sdpa_rep")),
                fmt(peers.get("sdpa_gqa")), f"{err:.2e}", f"{rel:.2e}",
                f"{lse_err:.2e}" if meta["lse"] else "-", verdict]


def check_append(args, name, case, meta, gen):
    B, Hkv, Tn, S, D, dtype, lay = (meta[k] for k in
                                    ("B", "Hkv", "Tn", "S", "D", "dtype", "layout"))
    work = Path(args.work) / name
    work.mkdir(parents=True, exist_ok=True)
    new = uniform((B, Hkv, Tn, D), gen, dtype)
    pos = torch.tensor([0, 5, S - 2, S - 1, -2, 100, S // 2, 17][:B], dtype=torch.int32)
    if lay == "paged":
        P = meta["page"]
        M = S // P
        NP = B * M + 8
        cache = uniform((NP, P, Hkv, D), gen, dtype)
        bt = torch.randperm(NP, generator=gen)[:B * M].view(B, M).to(torch.int32)
        bt[1, :2] = bt[0, :2]   # rows 0 and 1 share their first two pages
        bt[5, 100 // P] = NP + 3  # an entry out of range: its writes drop
        pos[1] = 0                # ... and write the same slots as row 0
        ins = [new, cache, pos, bt]
    else:
        cache = uniform((B, Hkv, S, D), gen, dtype)
        ins = [new, cache, pos]
    for i, x in enumerate(ins):
        np.save(work / f"in{i}.npy", to_npy(x))
    want = cache.clone()
    for b in range(B):
        for i in range(Tn):
            p = int(pos[b]) + i
            if not 0 <= p < S:
                continue
            if lay == "paged":
                page = int(bt[b, p // meta["page"]])
                if 0 <= page < want.shape[0]:
                    want[page, p % meta["page"]] = new[b, :, i]
            else:
                want[b, :, p] = new[b, :, i]
    ms, outdir = run_kestrel(args, case, work, 0)
    ok = False
    if outdir is not None:
        got = from_npy(np.load(outdir / "out0.npy"), dtype)
        ok = bool(torch.equal(got.view(torch.int16) if dtype != "f32" else got,
                              want.view(torch.int16) if dtype != "f32" else want))
        if not ok:
            bad = (got.float() != want.float()).nonzero()
            print(f"{name}: {len(bad)} elements differ, first {bad[:4].tolist()}")
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict} {name}: kv_append {lay} B{B} Hkv{Hkv} Tn{Tn} S{S} D{D} "
          f"({ms if ms else float('nan'):.3f} ms incl. the cache copy)")
    return ok, [name, f"{dtype} B{B} Hkv{Hkv} Tn{Tn} S{S} D{D}", lay, "append",
                f"{ms:.3f} ms" if ms else "n/a", "-", "-", "exact" if ok else "differs",
                "-", "-", verdict]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--work", default="/tmp/kestrel-decode")
    ap.add_argument("--table", default=None)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cuda",
                    help="cpu: a dry run of this script with a stand-in kestrel-run")
    args = ap.parse_args()
    dev = torch.device(args.device)
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else "cpu (dry run)"
    print(f"torch {torch.__version__}, {gpu}")
    gen = torch.Generator().manual_seed(2026_11_23)
    rows, failed = [], []
    for case in sorted(p for p in Path(args.cases).iterdir() if p.is_dir()):
        meta = json.loads((case / "case.json").read_text())
        try:
            if meta["kind"] == "decode":
                ok, row = check_decode(args, case.name, case, meta, gen, dev)
            else:
                ok, row = check_append(args, case.name, case, meta, gen)
        except Exception as e:  # noqa: BLE001 - a broken case is a FAIL, not a stop
            print(f"FAIL {case.name}: {type(e).__name__}: {e}")
            ok, row = False, [case.name] + ["error"] * 9 + ["FAIL"]
        rows.append(row)
        if not ok:
            failed.append(case.name)
    header = ["case", "shape", "layout", "seq_lens", "ours ms / GB/s",
              "SDPA repeated K/V ms / GB/s", "SDPA enable_gqa ms / GB/s",
              "max abs err", "rel L2 err", "lse max err", "check"]
    lines = [f"GPU: {gpu}, torch {torch.__version__}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "GB/s = unique KV bytes of the step (sum of min(L, S) * Hkv * (D + Dv) "
              "* bytes) / median time, the same numerator for every column; SDPA runs "
              "on the contiguous logical shapes, unmasked, and with repeated K/V reads "
              "g times those bytes. Tolerance: bf16 max abs 1e-2 and rel L2 1e-2, f16 "
              "2e-3/2e-3, lse 2e-3, vs an f32 PyTorch reference from the same rounded "
              "inputs; kv_append bit-exact.",
              "", f"{len(rows) - len(failed)}/{len(rows)} cases pass"
              + (f"; FAILED: {', '.join(failed)}" if failed else "")]
    table = "\n".join(lines)
    if args.table:
        Path(args.table).write_text(table + "\n")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
