"""On the GPU machine: where a whole block's time goes. Per-kernel device
times of one block of bench/gpu/models_common.py, Kestrel's kernels (from
kestrel-run under Nsight Compute, `gpu__time_duration`, one call kernel by
kernel) beside torch eager's and torch.compile's (torch.profiler, mean of 5
calls), at one precision. Run from a tree staged by stage_models.sh, after
bench_models.sh has built kestrel-run and unpacked the case:

    python3 bench/gpu/profile_models.py llama_d2048_t4096 --prec bf16 \
        --kestrel-run build-rt/bin/kestrel-run --case-dir /tmp/kestrel-models
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
import models_common as mc  # noqa: E402


def torch_kernels(fn, x, calls=5):
    with torch.no_grad():
        for _ in range(3):
            fn(x)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(calls):
                fn(x)
            torch.cuda.synchronize()
    times = defaultdict(float)
    for ev in prof.events():
        if ev.device_type == torch.autograd.DeviceType.CUDA:
            times[ev.name] += ev.device_time_total / 1e3 / calls
    return times


def kestrel_kernels(run_bin, manifest: Path, d: Path):
    cmd = ["ncu", "--metrics", "gpu__time_duration.sum", "--csv", run_bin,
           str(manifest), f"--inputs={d}", f"--outputs={d / 'out'}",
           "--warmup=0", "--repeat=1", "--no-graph"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    rows = [r for r in csv.reader(io.StringIO(res.stdout)) if len(r) > 10]
    if not rows:
        print(res.stdout[-2000:], res.stderr[-2000:])
        return {}
    head = rows[0]
    name, unit, value = (head.index(k) for k in ("Kernel Name", "Metric Unit", "Metric Value"))
    times = defaultdict(float)
    seen = defaultdict(int)
    for r in rows[1:]:
        scale = {"nsecond": 1e-6, "usecond": 1e-3, "msecond": 1.0}.get(r[unit], 1e-6)
        t = float(r[value].replace(",", "")) * scale
        seen[r[name]] += 1
        times[r[name]] += t
    # warmup 0 + repeat 1 (+ the output check call, if any): mean per call
    calls = max(1, min(seen.values()))
    return {k: v / calls for k, v in times.items()}


def show(title, times):
    total = sum(times.values())
    print(f"\n## {title}: {total:.3f} ms of kernels")
    for k, v in sorted(times.items(), key=lambda kv: -kv[1])[:14]:
        print(f"  {v:8.3f} ms  {k[:110]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--prec", default="bf16")
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--case-dir", required=True)
    args = ap.parse_args()
    d = Path(args.case_dir) / args.case
    show(f"Kestrel {args.case} {args.prec}",
         kestrel_kernels(args.kestrel_run, d / f"{args.case}_{args.prec}.manifest", d))
    module, x = mc.build(args.case)
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[args.prec]
    m, xd = module.to(dtype).cuda(), x.cuda().to(dtype)
    show(f"torch eager {args.prec}", torch_kernels(m, xd))
    show(f"torch.compile {args.prec}", torch_kernels(torch.compile(m), xd))


if __name__ == "__main__":
    main()
