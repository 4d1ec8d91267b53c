"""Checks and times Kestrel's f32 flash attention kernel (SIMT, FFMA)
against PyTorch SDPA in f32.

Run on the GPU machine by bench/gpu/f32_attention.sh. For every
CASE.manifest (with CASE.ptx and CASE.mlir) in --cases: fresh inputs in
[-1, 1), our kernel through `kestrel-run` (CUDA-event timing), out0 (and
the lse, out1, when the op has one) compared with a float64 reference
(check_attention.reference, the formula of docs/ops.md, cross-checked by
float64 SDPA math), then SDPA in f32 timed on the same shapes with its
math and memory-efficient backends (the flash backend takes no f32).
"""

import argparse
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, str(Path(__file__).parent))
from check_attention import (mask_for, parse_case, reference,  # noqa: E402
                             sdpa_reference, time_cuda)

# f32 products and softmax; ex2.approx (2 ulp) for the exponentials.
TOL_ABS, TOL_REL = 1e-5, 1e-5


def reference_lse(q, k, case):
    H, Hkv = q.shape[1], k.shape[1]
    k = k.repeat_interleave(H // Hkv, dim=1)
    scale = case["scale"] if case["scale"] is not None else 1 / math.sqrt(q.shape[-1])
    x = scale * (q @ k.transpose(-1, -2))
    if case["softcap"] is not None:
        x = case["softcap"] * torch.tanh(x / case["softcap"])
    x = x.masked_fill(~mask_for(q.shape[2], k.shape[2], case, q.device),
                      float("-inf"))
    return torch.logsumexp(x, dim=-1)


def time_sdpa_f32(backend, q, k, v, case):
    """Median ms of one SDPA backend in f32, or (None, why)."""
    T, S = q.shape[2], k.shape[2]
    causal = case["causal"] and T > 1
    if causal and T != S:
        return None, "causal T!=S"
    if case["window"] is not None or case.get("block") is not None \
            or case["softcap"] is not None:
        return None, "mask/softcap"
    H, Hkv = q.shape[1], k.shape[1]
    if k.shape[-1] != v.shape[-1] and backend == SDPBackend.EFFICIENT_ATTENTION:
        pass  # the efficient backend takes Dv != D
    def call_gqa():
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                              scale=case["scale"], enable_gqa=True)
    kr, vr = (x.repeat_interleave(H // Hkv, dim=1).contiguous() for x in (k, v))
    def call_rep():
        return F.scaled_dot_product_attention(q, kr, vr, is_causal=causal,
                                              scale=case["scale"])
    errors = []
    for fn in (call_gqa, call_rep):
        try:
            with sdpa_kernel([backend]):
                fn()
                torch.cuda.synchronize()
                return time_cuda(fn, warmup=2, repeat=10), ""
        except Exception as e:  # backend refuses these inputs
            errors.append(str(e).splitlines()[0][:60])
    return None, "; ".join(errors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--work", default="/tmp/kestrel-f32-attn")
    ap.add_argument("--table", default=None)
    args = ap.parse_args()
    dev = torch.device("cuda")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    rows, failed = [], False
    gen = torch.Generator(device="cpu").manual_seed(2026_12_03)
    for manifest in sorted(Path(args.cases).glob("*.manifest")):
        name = manifest.stem
        case = parse_case(manifest)
        work = Path(args.work) / name
        work.mkdir(parents=True, exist_ok=True)
        ins = []
        for i, (_, _, shape) in enumerate(case["inputs"]):
            x = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1).float()
            np.save(work / f"in{i}.npy", x.numpy())
            ins.append(x)
        for p in work.glob("out*.npy"):
            p.unlink()
        cmd = [args.kestrel_run, str(manifest), f"--inputs={work}",
               f"--outputs={work}", "--warmup=3", "--repeat=20"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        print(f"$ {' '.join(cmd)}\n{res.stdout}{res.stderr}", end="")
        q, k, v = (x.to(dev) for x in ins)
        B, H, T, D = q.shape
        S = k.shape[2]
        pairs = int(mask_for(T, S, case, dev).sum().item())
        flop = 2.0 * B * H * (D + v.shape[-1]) * pairs
        ours_ms, err, rel, lse_err = None, float("nan"), float("nan"), None
        ok = res.returncode == 0
        if ok:
            m = re.search(r"median ([0-9.]+) ms", res.stdout)
            ours_ms = float(m.group(1)) if m else None
            out = torch.from_numpy(np.load(work / "out0.npy")).to(dev).double()
            lse = None
            if (work / "out1.npy").exists():
                lse = torch.from_numpy(np.load(work / "out1.npy")).to(dev).double()
            q64, k64, v64 = q.double(), k.double(), v.double()
            if B * H * T * S > 1 << 28:
                # Check batch row 0, the query heads of its first two KV heads.
                g = H // k.shape[1]
                q64, k64, v64 = q64[:1, :2 * g], k64[:1, :2], v64[:1, :2]
                out = out[:1, :2 * g]
                print(f"{name}: checking batch 0, heads 0..{2 * g - 1} only")
            ref = reference(q64, k64, v64, case)
            ref_sdpa = sdpa_reference(q64, k64, v64, case)
            if ref_sdpa is not None:
                print(f"{name}: float64 SDPA vs written-out reference: max "
                      f"diff {(ref_sdpa - ref).abs().max().item():.2e}")
            if torch.isfinite(out).all():
                err = (out - ref).abs().max().item()
                rel = ((out - ref).norm() / ref.norm()).item()
            ok = math.isfinite(err) and err < TOL_ABS and rel < TOL_REL
            if lse is not None:
                lref = reference_lse(q64, k64, case)
                both_inf = torch.isinf(lref) & (lse == lref)
                lse_err = torch.where(both_inf, 0.0, (lse - lref).abs()).max().item()
                ok = ok and lse_err < 1e-5
            del out, ref, ref_sdpa, q64, k64, v64
            torch.cuda.empty_cache()
        failed |= not ok
        math_ms, math_note = time_sdpa_f32(SDPBackend.MATH, q, k, v, case)
        torch.cuda.empty_cache()
        eff_ms, eff_note = time_sdpa_f32(SDPBackend.EFFICIENT_ATTENTION, q, k, v, case)
        def fmt(ms, note=""):
            if ms is None:
                return f"n/a ({note})" if note else "n/a"
            return f"{ms:.3f} / {flop / ms / 1e9:.2f}"
        shape = (f"B{B} H{H}/{k.shape[1]} T{T} S{S} D{D}"
                 + (f" Dv{v.shape[-1]}" if v.shape[-1] != D else "")
                 + (" causal" if case["causal"] else "")
                 + (f" win{case['window']} sinks{case['sinks']}" if case["window"] else "")
                 + (" softcap" if case["softcap"] else "")
                 + (" block-sparse" if case.get("block") is not None else ""))
        rows.append([name, shape, fmt(ours_ms), fmt(math_ms, math_note),
                     fmt(eff_ms, eff_note),
                     f"{(math_ms / ours_ms):.2f}x" if math_ms and ours_ms else "-",
                     f"{(eff_ms / ours_ms):.2f}x" if eff_ms and ours_ms else "-",
                     f"{err:.2e}", f"{rel:.2e}",
                     f"{lse_err:.2e}" if lse_err is not None else "-",
                     "ok" if ok else "FAIL"])
        del q, k, v
        torch.cuda.empty_cache()
    header = ["case", "shape", "ours ms / TFLOP/s", "SDPA math f32",
              "SDPA efficient f32", "math/ours", "efficient/ours",
              "max abs err", "rel L2 err", "lse max err", "check"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append("TFLOP/s = 2*B*H*(D+Dv)*(admitted pairs) / time. Errors "
                 "against float64; SDPA columns: median of 10 after 2 warmups.")
    table = "\n".join(lines)
    if args.table:
        Path(args.table).write_text(table + "\n")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
