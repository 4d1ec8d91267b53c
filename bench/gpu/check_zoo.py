"""The model zoo on the GPU (bench/gpu/zoo.sh): each staged tiny Hugging Face
model (test/models, compiled for cuda:sm_90a by bench/gpu/stage_zoo.sh) run by
kestrel-run on the input ids test/models/zoo.py draws, its logits compared
with onnxruntime (CPU provider) on the same ids -- the check test_zoo.py makes
on the CPU path, with its tolerance: max |ours - ort| <= TOL * max(1, max
|ort|), TOL 1e-5 for f32 models, 2e-3 for the f16 export (onnxruntime
computes in f16 too), 2e-2 for the bf16 export (compared with the f32 export
of the same weights). Times: kestrel-run's median with CUDA-graph replay
beside onnxruntime's CPU time for scale only (the models are tiny: launch
overhead, not arithmetic).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

TOL = {"llama_f16": 2e-3, "llama_bf16": 2e-2}


def run_ours(run_bin, cases: Path, name: str, work: Path):
    work.mkdir(parents=True, exist_ok=True)
    (work / "out").mkdir(exist_ok=True)
    shutil.copy(cases / f"{name}.ids.npy", work / "in0.npy")
    cmd = [run_bin, str(cases / f"{name}.manifest"), f"--inputs={work}",
           f"--outputs={work / 'out'}", "--warmup=5", "--repeat=50"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print(f"$ {' '.join(cmd)}\n{res.stdout}{res.stderr}", end="")
    if res.returncode != 0:
        return None, None, None
    m = re.search(r"median ([0-9.]+) ms.*?(\d+) launches", res.stdout)
    out = np.load(work / "out" / "out0.npy")
    if out.dtype == np.uint16:  # bf16 bit patterns
        out = (out.astype(np.uint32) << 16).view(np.float32)
    return out.astype(np.float64), (float(m.group(1)) if m else None), \
        (int(m.group(2)) if m else None)


def ort_ref(cases: Path, name: str):
    import onnxruntime as ort
    sess = ort.InferenceSession(str(cases / f"{name}.onnx"),
                                providers=["CPUExecutionProvider"])
    ids = np.load(cases / f"{name}.ids.npy")
    feed = {sess.get_inputs()[0].name: ids}
    ref = sess.run(None, feed)[0]
    times = []
    for _ in range(20):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1e3)
    return ref.astype(np.float64), float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--commit", default="unknown")
    args = ap.parse_args()
    cases = Path(args.cases)
    rows, ok = [], True
    for manifest in sorted(cases.glob("*.manifest")):
        name = manifest.stem
        ours, ms, launches = run_ours(args.kestrel_run, cases, name,
                                      Path("/tmp/kestrel-zoo") / name)
        ref, ort_ms = ort_ref(cases, name)
        if ours is None:
            ok = False
            rows.append(f"| {name} | FAIL (kestrel-run) | | | | |")
            print(f"FAIL {name}: kestrel-run failed")
            continue
        tol = TOL.get(name, 1e-5) * max(1.0, float(np.abs(ref).max()))
        err = float(np.abs(ours - ref).max()) if ours.shape == ref.shape else float("inf")
        good = bool(np.isfinite(ours).all() and err <= tol)
        ok &= good
        print(f"{'ok  ' if good else 'FAIL'} {name}: max err {err:.2e} (tol {tol:.1e}), "
              f"{ms} ms, {launches} launches; onnxruntime CPU {ort_ms:.3f} ms")
        rows.append(f"| {name} | {'PASS' if good else 'FAIL'} | {err:.1e} (tol {tol:.0e}) | "
                    f"{ms} | {launches} | {ort_ms:.3f} |")
    refused = (cases / "refused.txt").read_text().strip()
    Path(args.table).write_text(
        f"Commit {args.commit}. Model zoo on the GPU: logits vs onnxruntime CPU, same ids.\n\n"
        "| model | result | max abs err | Kestrel ms (graph) | launches | onnxruntime CPU ms |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\nRefused on cuda when staged:\n\n"
        + (refused or "(none)") + "\n")
    print(Path(args.table).read_text())
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
