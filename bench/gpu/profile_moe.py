"""On the GPU machine: per-kernel device times of the timed kestrel.moe
cases (bench/gpu/moe_cases.py), from torch.profiler's CUDA activity trace
(CUPTI sees the runtime's launches too), plus each case's median wall time
per call. Every DIR given is one build of the cases (for example before and
after a change, or tile-plan variants compiled with
`kestrel-gpu-moe{tile-up=..,tile-down=..}`); a variant's output is compared
with the first DIR's output of the same case (max |diff| / max |ref|),
which the full float64 check of bench/gpu/check_moe.py covers for the
default plans.

    python3 bench/gpu/profile_moe.py DIR [DIR ...] --out OUT.md
"""

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import kestrel  # noqa: E402
from check_moe import make_inputs, wall_ms  # noqa: E402


def kernel_times(fn, calls=5):
    """Mean device ms per call of each kernel name over `calls` calls."""
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    times = defaultdict(float)
    for ev in prof.events():
        if ev.device_type == torch.autograd.DeviceType.CUDA:
            times[ev.name] += ev.device_time_total / 1e3 / calls
    return dict(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    gen = torch.Generator(device="cuda")
    lines, firsts, inputs = [], {}, {}
    for d in args.dirs:
        for js in sorted(Path(d).glob("*.json")):
            m = json.loads(js.read_text())
            if not m.get("timed"):
                continue
            case = m.get("case", js.stem)
            if case not in inputs:
                gen.manual_seed(0)
                inputs[case] = make_inputs(m, gen)
            ins = inputs[case]
            try:
                mod = kestrel.load_cuda(js.with_suffix(".manifest"))
                (out,) = mod.moe(*ins)
                torch.cuda.synchronize()
            except Exception as e:  # noqa: BLE001
                lines.append(f"FAIL {d}/{js.stem}: {e!s:.300}")
                print(lines[-1], flush=True)
                continue
            ref = firsts.setdefault(case, out.float())
            diff = ((out.float() - ref).abs().max() / ref.abs().max()).item()
            ms = wall_ms(lambda: mod.moe(*ins))
            N, dd, F, k, fs = m["N"], m["d"], m["F"], m["k"], m["Fs"]
            flops = 2 * N * k * 3 * dd * F + 2 * N * 3 * dd * fs
            kt = kernel_times(lambda: mod.moe(*ins))
            total = sum(kt.values())
            parts = ", ".join(f"{n} {t:.3f}" for n, t in
                              sorted(kt.items(), key=lambda x: -x[1]))
            lines.append(f"{Path(d).name}/{js.stem}: wall {ms:.3f} ms "
                         f"({flops / ms / 1e9:.0f} TFLOP/s), kernels {total:.3f} ms "
                         f"[{parts}], diff vs first {diff:.1e}")
            print(lines[-1], flush=True)
            del mod, out
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
