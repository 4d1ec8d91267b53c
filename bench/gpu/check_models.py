"""Device side of the GPU model benchmark (bench/gpu/bench_models.sh).

For each staged case: the PyTorch block rebuilt with the same pattern
weights (models_common.py) and its input; the reference is the module in
float64 on the GPU. Kestrel runs through kestrel-run (`<case>_<prec>.manifest`,
f32, tf32 and bf16 as staged; CUDA-graph replay, and --no-graph for
kernel-by-kernel launches); PyTorch runs eager and under torch.compile at
the same precision (tf32: the f32 module with
`torch.backends.{cuda.matmul,cudnn}.allow_tf32`). Each output is compared
by ||out - ref|| / ||ref|| (tolerance 1e-4 for f32, 5e-3 for tf32: 10-bit
mantissa operands, 3e-2 for bf16; f32 accumulation throughout). Times are medians
of CUDA-event-timed calls after warm-up. Prints and writes a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import lzma
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import models_common as mc  # noqa: E402

TOL = {"f32": 1e-4, "tf32": 5e-3, "bf16": 3e-2}
PRECS = ("f32", "tf32", "bf16")
DTYPE = {"f32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16}


def allow_tf32(on: bool):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def rel_err(out: np.ndarray, ref: np.ndarray) -> float:
    out = out.astype(np.float64)
    if not np.isfinite(out).all():
        return float("nan")
    return float(np.linalg.norm(out - ref) / np.linalg.norm(ref))


def torch_ms(fn, x, warmup=5, repeat=30):
    with torch.no_grad():
        for _ in range(warmup):
            y = fn(x)
        torch.cuda.synchronize()
        times = []
        for _ in range(repeat):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            y = fn(x)
            b.record()
            b.synchronize()
            times.append(a.elapsed_time(b))
    return float(np.median(times)), y


def kestrel(run_bin, manifest: Path, inputs: Path, outputs: Path, graph: bool):
    for f in outputs.glob("*.npy"):
        f.unlink()
    cmd = [run_bin, str(manifest), f"--inputs={inputs}", f"--outputs={outputs}",
           "--warmup=5", "--repeat=30"] + ([] if graph else ["--no-graph"])
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        return None, None, (res.stdout + res.stderr).strip()[-400:]
    m = re.search(r"median ([0-9.]+) ms.*?(\d+) launches", res.stdout)
    return float(m.group(1)), int(m.group(2)), np.load(outputs / "out0.npy")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--precisions", default="f32,bf16",
                    help="comma-separated subset of f32,tf32,bf16 to run "
                         "(Kestrel and PyTorch)")
    args = ap.parse_args()
    precs = [p for p in PRECS if p in args.precisions.split(",")]
    cases = Path(args.cases)
    work = Path("/tmp/kestrel-models")
    work.mkdir(exist_ok=True)
    rows, ok = [], True
    for name in mc.CASES:
        if not (cases / f"{name}_{precs[0]}.manifest").exists():
            continue
        module, x = mc.build(name)
        d = work / name
        (d / "out").mkdir(parents=True, exist_ok=True)
        np.save(d / "in0.npy", x.numpy())
        with torch.no_grad():
            ref = module.double().cuda()(x.double().cuda()).cpu().numpy()
        row = {"case": name}
        for prec in precs:
            for f in cases.glob(f"{name}_{prec}.*"):
                if f.suffix == ".xz":
                    with lzma.open(f) as src, open(d / f.stem, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                else:
                    shutil.copy(f, d / f.name)
            manifest = d / f"{name}_{prec}.manifest"
            for graph in (True, False):
                ms, launches, out = kestrel(args.kestrel_run, manifest, d, d / "out", graph)
                key = f"kestrel_{prec}" + ("" if graph else "_nograph")
                if ms is None:
                    print(f"FAIL {name} {key}: {out}")
                    ok = False
                    row[key] = "fail"
                    continue
                err = rel_err(out, ref)
                good = err <= TOL[prec]
                ok &= good
                row[key] = ms
                row[f"err_{prec}"] = err
                row["launches_" + prec] = launches
                print(f"{'ok  ' if good else 'FAIL'} {name} {key}: {ms:.3f} ms, "
                      f"{launches} launches, rel err {err:.2e} (tol {TOL[prec]:g})")
        for prec in precs:
            dtype = DTYPE[prec]
            allow_tf32(prec == "tf32")
            m = module.to(dtype).cuda()
            xd = x.cuda().to(dtype)
            ms, y = torch_ms(m, xd)
            row[f"eager_{prec}"] = ms
            print(f"     {name} torch eager {prec}: {ms:.3f} ms, rel err "
                  f"{rel_err(y.float().cpu().numpy(), ref):.2e}")
            if not args.no_compile:
                try:
                    t0 = time.time()
                    cm = torch.compile(m)
                    ms, y = torch_ms(cm, xd)
                    row[f"compile_{prec}"] = ms
                    print(f"     {name} torch.compile {prec}: {ms:.3f} ms "
                          f"(compiled in {time.time() - t0:.0f} s), rel err "
                          f"{rel_err(y.float().cpu().numpy(), ref):.2e}")
                except Exception as e:  # noqa: BLE001
                    print(f"     {name} torch.compile {prec} failed: {e!s:.200}")
                    row[f"compile_{prec}"] = "fail"
            torch._dynamo.reset()
            allow_tf32(False)
        rows.append(row)
        module = None
        torch.cuda.empty_cache()

    def f(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    def cols(label):
        return " | ".join(f"{label} {p}" for p in precs)
    lines = [f"Commit {args.commit}; {torch.cuda.get_device_name()}; torch {torch.__version__}. "
             "Median ms per forward pass; Kestrel with CUDA-graph replay "
             "(kernel by kernel in parentheses); rel err vs the module in f64.", "",
             f"| block | {cols('Kestrel')} | {cols('eager')} | {cols('compile')} "
             f"| launches {' / '.join(precs)} | rel err {' / '.join(precs)} |",
             "|---" * (3 * len(precs) + 3) + "|"]
    for r in rows:
        cells = [f"{f(r.get('kestrel_' + p))} ({f(r.get('kestrel_' + p + '_nograph'))})"
                 for p in precs]
        cells += [f(r.get("eager_" + p)) for p in precs]
        cells += [f(r.get("compile_" + p)) for p in precs]
        cells.append(" / ".join(str(r.get("launches_" + p)) for p in precs))
        cells.append(" / ".join(f"{r.get('err_' + p, float('nan')):.1e}" for p in precs))
        lines.append(f"| {r['case']} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    Path(args.table).write_text(table + "\n")
    Path(args.table).with_suffix(".json").write_text(json.dumps(rows, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
