"""Checks and times Kestrel's denoise_step kernels (kestrel-gpu-denoise) on
the GPU machine, beside a PyTorch implementation of the same step (run by
bench/gpu/denoise.sh on cases staged by bench/gpu/stage_denoise.sh).

Per case (CASE.ptx/.manifest/.json, bench/gpu/denoise_cases.py):
  logits ~ 3 · N(0, 1) rounded to the storage type (the "ties" case: one
  row of small integers repeated at every position, so maxima and
  confidences tie exactly); tokens: 75 % of positions hold mask_id, the
  rest random ids. Kestrel runs through kestrel-run (CUDA-graph replay,
  median of 30 after 5 warm-ups). Checked against
    - the NumPy oracle (python/kestrel/reference/denoise.py, f64) on the
      numerics cases (it hashes the Gumbel noise in Python: small V only),
    - a PyTorch float64 evaluation of docs/ops.md §4 on every case (greedy
      or sampled), itself checked against the NumPy oracle on the small ones.
  New tokens must match exactly; confidences to 2e-5 relative (f32
  statistics of the same rounded logits).
  Timed (greedy cases): the PyTorch step in eager mode on the same tensors
  (amax/argmax, exp-sum, sort for top-n), median of 30 CUDA-event timings.
  GB/s = B·L·V·bytes of the logits / time for both (Kestrel reads only the
  masked rows, 75 % of them: the figure counts what the step needs, not
  what either implementation chose to read).
Prints PASS/FAIL per case; writes a markdown table (--table).
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from check_decode import time_cuda, to_npy  # noqa: E402 (bench/gpu on sys.path)

DT = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}
BYTES = {"bf16": 2, "f16": 2, "f32": 4}


def make_inputs(meta, gen):
    B, L, V = meta["B"], meta["L"], meta["V"]
    dt = DT[meta["dtype"]]
    if meta.get("ties"):
        row = torch.randint(0, 4, (V,), generator=gen).float()
        row[V // 3] = row[V // 5] = row.max()  # repeated maxima
        logits = row.expand(B, L, V).to(dt).contiguous()
    else:
        logits = (3 * torch.randn(B, L, V, generator=gen)).to(dt)
    mask_id = meta["mask_id"]
    tokens = torch.randint(0, V, (B, L), generator=gen, dtype=torch.int64)
    tokens[tokens == mask_id] = (mask_id + 1) % V
    masked = torch.rand(B, L, generator=gen) < 0.75
    tokens[masked] = mask_id
    return logits, tokens


def gumbel_torch(meta, B, L, V, device):
    """-log(-log u) of docs/ops.md §4, splitmix64 in int64 arithmetic."""
    M = (1 << 64) - 1

    def s64(x):  # uint64 constant as int64
        return x - (1 << 64) if x >= 1 << 63 else x

    def shr(z, k):  # logical shift of int64
        return (z >> k) & ((1 << (64 - k)) - 1)

    b = torch.arange(B, device=device).view(B, 1, 1)
    p = torch.arange(L, device=device).view(1, L, 1)
    v = torch.arange(V, device=device).view(1, 1, V)
    z = meta["seed"] + (b * L + p) * V + v + s64(0x9E3779B97F4A7C15 & M)
    z = (z ^ shr(z, 30)) * s64(0xBF58476D1CE4E5B9)
    z = (z ^ shr(z, 27)) * s64(0x94D049BB133111EB)
    z = z ^ shr(z, 31)
    u = (shr(z, 11).double() + 0.5) * 2.0 ** -53
    return -torch.log(-torch.log(u))


def torch_step(logits, tokens, meta, dtype=torch.float64):
    """docs/ops.md §4 in PyTorch; returns (new tokens, confidence)."""
    B, L, V = logits.shape
    x = logits.to(dtype)
    m = x.amax(-1)
    s = torch.exp(x - m[..., None]).sum(-1)
    if "temperature" in meta:
        noisy = logits.double() / meta["temperature"] + gumbel_torch(meta, B, L, V, logits.device)
        pred = noisy.argmax(-1)
        conf = torch.exp(x.gather(-1, pred[..., None])[..., 0] - m) / s
    else:
        pred = x.argmax(-1)
        conf = 1.0 / s
    masked = tokens == meta["mask_id"]
    conf = torch.where(masked, conf, torch.zeros_like(conf))
    lo, hi = (0, L) if "block" not in meta else (meta["block"][0], sum(meta["block"]))
    pos = torch.arange(L, device=logits.device)
    elig = masked & (pos >= lo) & (pos < hi)
    key = torch.where(elig, conf, torch.full_like(conf, -1.0))
    order = torch.sort(key, dim=1, descending=True, stable=True).indices
    rank = torch.empty_like(order)
    rank.scatter_(1, order, pos.expand(B, L).contiguous())
    if "top_k" in meta:
        chosen = rank < meta["top_k"]
    else:
        chosen = (conf > meta["threshold"]) | (rank == 0)
    new = torch.where(elig & chosen, pred, tokens)
    return new, conf.float()


def kestrel(run_bin, manifest, inputs, outputs):
    for f in outputs.glob("*.npy"):
        f.unlink()
    cmd = [run_bin, str(manifest), f"--inputs={inputs}", f"--outputs={outputs}",
           "--warmup=5", "--repeat=30"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        return None, None, (res.stdout + res.stderr).strip()[-400:]
    m = re.search(r"median ([0-9.]+) ms.*?(\d+) launches", res.stdout)
    return float(m.group(1)), int(m.group(2)), (np.load(outputs / "out0.npy"),
                                                np.load(outputs / "out1.npy"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--table", required=True)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    from kestrel.reference.denoise import denoise_step as oracle

    gen = torch.Generator().manual_seed(0)
    rows, ok = [], True
    work = Path(args.cases) / "io"
    for js in sorted(Path(args.cases).glob("*.json")):
        name, meta = js.stem, json.loads(js.read_text())
        logits, tokens = make_inputs(meta, gen)
        d = work / name
        (d / "in").mkdir(parents=True, exist_ok=True)
        (d / "out").mkdir(parents=True, exist_ok=True)
        np.save(d / "in" / "in0.npy", to_npy(logits))
        np.save(d / "in" / "in1.npy", tokens.numpy())
        ms, launches, out = kestrel(args.kestrel_run, js.with_suffix(".manifest"), d / "in", d / "out")
        if ms is None:
            print(f"FAIL {name}: kestrel-run: {out}")
            ok = False
            continue
        new_k, conf_k = out
        lg, tk = logits.cuda(), tokens.cuda()
        new_t, conf_t = torch_step(lg, tk, meta)
        new_t, conf_t = new_t.cpu().numpy(), conf_t.cpu().numpy()
        errs = []
        if not meta["timed"]:
            kw = {k: meta[k] for k in ("top_k", "threshold", "temperature", "seed") if k in meta}
            if "block" in meta:
                kw["block"] = tuple(meta["block"])
            new_o, conf_o = oracle(logits.float().numpy(), tokens.numpy(), meta["mask_id"], **kw)
            if not np.array_equal(new_o, new_t) or not np.allclose(conf_o, conf_t, rtol=2e-5, atol=1e-7):
                errs.append("the PyTorch step disagrees with the NumPy oracle")
            if not np.array_equal(new_o, new_k):
                errs.append(f"{int((new_o != new_k).sum())} tokens differ from the oracle")
        if not np.array_equal(new_t, new_k):
            errs.append(f"{int((new_t != new_k).sum())} tokens differ from the f64 step")
        rel = float(np.max(np.abs(conf_k - conf_t) / np.maximum(np.abs(conf_t), 1e-30)))
        if rel > 2e-5:
            errs.append(f"confidence rel err {rel:.1e}")
        status = "PASS" if not errs else "FAIL"
        ok &= not errs
        row = {"case": name, "B": meta["B"], "L": meta["L"], "V": meta["V"], "dtype": meta["dtype"],
               "kestrel_ms": ms, "launches": launches, "conf_rel_err": rel, "status": status}
        if meta["timed"]:
            peer = time_cuda(lambda: torch_step(lg, tk, meta, dtype=torch.float32), warmup=5, repeat=30)
            gb = meta["B"] * meta["L"] * meta["V"] * BYTES[meta["dtype"]] / 1e9
            row.update(torch_ms=peer, kestrel_gbs=gb / (ms / 1e3), torch_gbs=gb / (peer / 1e3))
        rows.append(row)
        print(f"{status} {name}: {ms:.3f} ms, {launches} launches, conf rel err {rel:.1e}"
              + (f", torch {row['torch_ms']:.3f} ms" if "torch_ms" in row else "")
              + ("" if not errs else " -- " + "; ".join(errs)), flush=True)
    lines = [f"Commit {args.commit}; {torch.cuda.get_device_name()}; torch {torch.__version__}.", "",
             "| case | B | L | V | dtype | Kestrel ms | launches | PyTorch eager ms | Kestrel GB/s | PyTorch GB/s | speedup | conf rel err | check |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r.get("torch_ms")
        timed = ["", "", "", ""] if t is None else [
            f"{t:.3f}", f"{r['kestrel_gbs']:.0f}", f"{r['torch_gbs']:.0f}", f"{t / r['kestrel_ms']:.2f}x"]
        cells = [r["case"], r["B"], r["L"], r["V"], r["dtype"], f"{r['kestrel_ms']:.3f}", r["launches"],
                 timed[0], timed[1], timed[2], timed[3], f"{r['conf_rel_err']:.1e}", r["status"]]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    Path(args.table).write_text("\n".join(lines) + "\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
