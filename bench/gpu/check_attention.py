"""Checks and times Kestrel's CUDA attention kernels against PyTorch SDPA.

Run on the GPU machine by bench/gpu/attention.sh. For every CASE.manifest
(with CASE.ptx and the CASE.mlir it came from) in --cases:

  * draws fresh random inputs in [-1, 1), runs our kernels through
    `kestrel-run CASE.manifest --inputs --outputs` (f32, CUDA-event timing,
    outputs poisoned with NaN before the run) and compares out0 with
    float64 SDPA (math backend, explicit mask; cross-checked against the
    formula written out) of docs/dialect.md's semantics (GQA by
    repeat_interleave of K/V; causal with the bottom-right offset
    off = S - T; window and sinks; rows that see no key give 0);
  * times torch.nn.functional.scaled_dot_product_attention's flash and
    cuDNN backends in bf16 on the same shapes.

TFLOP/s count 4*B*H*D per admitted (query, key) pair for every column, so
the columns compare times for the same useful work. SDPA cannot express a
sliding window with sinks through its fused backends: for such cases it is
timed with a plain causal mask (marked *), which does more work than ours.
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
from torch.nn.attention import SDPBackend, sdpa_kernel


TORCH_DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16,
                "f16": torch.float16}
# (max abs error, relative L2 error) against the float64 reference computed
# from the same (rounded) inputs. f16/bf16 kernels round P to the storage
# type before P V and round the output: bf16 keeps 8 mantissa bits
# (relative step 2^-8), f16 keeps 11.
TOLERANCE = {"f32": (1e-4, 1e-4), "bf16": (2e-2, 1e-2), "f16": (4e-3, 2e-3)}


def to_npy(x):
    """.npy payload of a CPU tensor; bf16 travels as raw uint16."""
    if x.dtype == torch.bfloat16:
        return x.view(torch.int16).numpy().view(np.uint16)
    return x.numpy()


def from_npy(a, dtype):
    if dtype == "bf16":
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


def parse_case(manifest: Path):
    shapes = []
    for line in manifest.read_text().splitlines():
        words = line.split()
        if words and words[0] in ("in", "out"):
            shapes.append((words[0], words[1], tuple(int(d) for d in words[2].split("x"))))
    mlir = manifest.with_suffix(".mlir").read_text()
    m = re.search(r"kestrel\.attention\s+%\w+,\s*%\w+,\s*%\w+([^:]*):", mlir)
    attrs = m.group(1) if m else ""
    # A block-sparse map: block_size = [bq, bk] block_map = dense<[[...]]>.
    block = None
    bm = re.search(r"block_size\s*=\s*\[(\d+),\s*(\d+)\]\s*block_map\s*=\s*"
                   r"dense<(\[.*?\])>", mlir, re.S)
    if bm:
        rows = json.loads(bm.group(3).replace("true", "1").replace("false", "0"))
        block = (int(bm.group(1)), int(bm.group(2)), np.array(rows, dtype=bool))
    def num(key, conv):
        mm = re.search(key + r"\s*=\s*([-+0-9.eE]+)", attrs)
        return conv(mm.group(1)) if mm else None
    return {
        "inputs": [s for s in shapes if s[0] == "in"],
        "out_dtype": next(s[1] for s in shapes if s[0] == "out"),
        "causal": re.search(r"\bcausal\b", attrs) is not None,
        "window": num("window", int),
        "sinks": num("sinks", int) or 0,
        "scale": num("scale", float),
        "softcap": num("softcap", float),
        "block": block,
    }


def mask_for(T, S, case, device):
    """Admitted (t, s) pairs, as docs/dialect.md defines them."""
    t = torch.arange(T, device=device)[:, None]
    s = torch.arange(S, device=device)[None, :]
    off = S - T
    ok = torch.ones(T, S, dtype=torch.bool, device=device)
    if case["causal"]:
        ok = s <= t + off
        if case["window"] is not None:
            inside = s > t + off - case["window"]
            ok = ok & (inside | (s < case["sinks"]))
    if case.get("block") is not None:
        bq, bk, allowed = case["block"]
        allowed = torch.as_tensor(allowed, device=device)
        ok = ok & allowed[t // bq, s // bk]
    return ok


def sdpa_reference(q, k, v, case):
    """float64 SDPA (math backend) with an explicit boolean mask of the
    dialect's semantics; None when SDPA cannot express the case (softcap)."""
    if case["softcap"] is not None:
        return None
    H, Hkv = q.shape[1], k.shape[1]
    k = k.repeat_interleave(H // Hkv, dim=1)
    v = v.repeat_interleave(H // Hkv, dim=1)
    ok = mask_for(q.shape[2], k.shape[2], case, q.device)
    with sdpa_kernel([SDPBackend.MATH]):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=ok,
                                             scale=case["scale"])
    return torch.nan_to_num(out, nan=0.0)  # rows that see no key give 0


def reference(q, k, v, case):
    """float64 attention written out; q [B,H,T,D], k/v [B,Hkv,S,D]."""
    H, Hkv = q.shape[1], k.shape[1]
    k = k.repeat_interleave(H // Hkv, dim=1)
    v = v.repeat_interleave(H // Hkv, dim=1)
    scale = case["scale"] if case["scale"] is not None else 1.0 / math.sqrt(q.shape[-1])
    logits = scale * (q @ k.transpose(-1, -2))
    if case["softcap"] is not None:
        logits = case["softcap"] * torch.tanh(logits / case["softcap"])
    ok = mask_for(q.shape[2], k.shape[2], case, q.device)
    logits = logits.masked_fill(~ok, float("-inf"))
    p = torch.softmax(logits, dim=-1)
    p = torch.nan_to_num(p, nan=0.0)  # rows that see no key give 0
    return p @ v


def time_cuda(fn, warmup=5, repeat=30):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return float(np.median(times))


def time_sdpa(backend, q, k, v, case):
    """Median ms of one SDPA backend in bf16, or (None, why)."""
    T, S = q.shape[2], k.shape[2]
    # is_causal in SDPA is top-left aligned; with T == 1 the bottom-right
    # causal mask admits every key, so decode runs unmasked.
    causal = case["causal"] and T > 1
    if causal and T != S:
        return None, "causal T!=S"
    proxy = case["window"] is not None or case.get("block") is not None
    H, Hkv = q.shape[1], k.shape[1]
    qb, kb, vb = (x.to(torch.bfloat16) for x in (q, k, v))
    def call_gqa():
        return F.scaled_dot_product_attention(qb, kb, vb, is_causal=causal,
                                              scale=case["scale"], enable_gqa=True)
    kr, vr = (x.repeat_interleave(H // Hkv, dim=1).contiguous() for x in (kb, vb))
    def call_rep():
        return F.scaled_dot_product_attention(qb, kr, vr, is_causal=causal,
                                              scale=case["scale"])
    errors = []
    for fn in (call_gqa, call_rep):
        try:
            with sdpa_kernel([backend]):
                fn()
                torch.cuda.synchronize()
                return time_cuda(fn), ("*" if proxy else "")
        except Exception as e:  # backend refuses these inputs
            errors.append(str(e).splitlines()[0][:80])
    return None, "; ".join(errors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--work", default="/tmp/kestrel-attn")
    ap.add_argument("--table", default=None)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()

    dev = torch.device("cuda")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, "
          f"cuDNN {torch.backends.cudnn.version()}")
    rows, failed = [], False
    gen = torch.Generator(device="cpu").manual_seed(2026_11_23)
    for manifest in sorted(Path(args.cases).glob("*.manifest")):
        name = manifest.stem
        case = parse_case(manifest)
        work = Path(args.work) / name
        work.mkdir(parents=True, exist_ok=True)
        ins = []
        for i, (_, dtype, shape) in enumerate(case["inputs"]):
            x = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1)
            x = x.to(TORCH_DTYPES[dtype])
            np.save(work / f"in{i}.npy", to_npy(x))
            ins.append(x.float())  # exactly the values the kernel reads
        out_path = work / "out0.npy"
        out_path.unlink(missing_ok=True)
        cmd = [args.kestrel_run, str(manifest), f"--inputs={work}", f"--outputs={work}",
               f"--warmup={args.warmup}", f"--repeat={args.repeat}"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        print(f"$ {' '.join(cmd)}\n{res.stdout}{res.stderr}", end="")
        q, k, v = (x.to(dev) for x in ins)
        B, H, T, D = q.shape
        S = k.shape[2]
        pairs = int(mask_for(T, S, case, dev).sum().item())
        flop = 4.0 * B * H * D * pairs
        ours_ms, err, rel = None, float("nan"), float("nan")
        if res.returncode == 0:
            m = re.search(r"median ([0-9.]+) ms", res.stdout)
            ours_ms = float(m.group(1)) if m else None
            out = from_npy(np.load(out_path), case["out_dtype"]).to(dev).double()
            q64, k64, v64 = q.double(), k.double(), v.double()
            if B * H * T * S > 1 << 28:
                # The float64 reference of every head would not fit: check
                # batch row 0 and the query heads of its first two KV heads.
                g = H // k.shape[1]
                q64, k64, v64 = q64[:1, :2 * g], k64[:1, :2], v64[:1, :2]
                out = out[:1, :2 * g]
                print(f"{name}: checking batch 0, heads 0..{2 * g - 1} only")
            ref = reference(q64, k64, v64, case)
            # Two references that must agree: SDPA's own float64 math path
            # and the formula written out here.
            ref_sdpa = sdpa_reference(q64, k64, v64, case)
            if ref_sdpa is not None:
                print(f"{name}: float64 SDPA vs written-out reference: max diff "
                      f"{(ref_sdpa - ref).abs().max().item():.2e}")
                ref = ref_sdpa
            if torch.isfinite(out).all():
                err = (out - ref).abs().max().item()
                rel = ((out - ref).norm() / ref.norm()).item()
            max_abs, max_rel = TOLERANCE[case["out_dtype"]]
            ok = math.isfinite(err) and rel < max_rel and err < max_abs
        else:
            ok = False
        failed |= not ok
        flash_ms, flash_note = time_sdpa(SDPBackend.FLASH_ATTENTION, q, k, v, case)
        cudnn_ms, cudnn_note = time_sdpa(SDPBackend.CUDNN_ATTENTION, q, k, v, case)
        def fmt(ms, note=""):
            if ms is None:
                return f"n/a ({note})" if note else "n/a"
            return f"{ms:.3f}{note} / {flop / ms / 1e9:.2f}"
        shape = f"{case['out_dtype']} B{B} H{H}/{k.shape[1]} T{T} S{S} D{D}" + (
            " causal" if case["causal"] else "") + (
            f" win{case['window']} sinks{case['sinks']}" if case["window"] else "") + (
            f" block-sparse {case['block'][0]}x{case['block'][1]} "
            f"({case['block'][2].mean():.0%} of blocks)" if case.get("block") is not None else "")
        rows.append([name, shape, fmt(ours_ms), fmt(flash_ms, flash_note),
                     fmt(cudnn_ms, cudnn_note), f"{err:.2e}", f"{rel:.2e}",
                     "ok" if ok else "FAIL"])
        del q, k, v
        torch.cuda.empty_cache()

    header = ["case", "shape", "ours ms / TFLOP/s", "flash bf16 ms / TFLOP/s",
              "cuDNN bf16 ms / TFLOP/s", "max abs err", "rel L2 err", "check"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append("* SDPA timed with a plain causal mask: its fused backends "
                 "take no window/sinks or block-sparse mask. TFLOP/s = 4*B*H*D*(admitted pairs) / time.")
    table = "\n".join(lines)
    if args.table:
        Path(args.table).write_text(table + "\n")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
