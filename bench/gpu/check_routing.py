"""Runs the cases of bench/gpu/routing_cases.py through kestrel-run and
compares every output with the oracle's expected values: indices exactly,
floats within |got - expected| <= atol + rtol * |expected|. Needs only
NumPy and kestrel-run (the standalone runtime build). Exits non-zero when a
case fails or does not run."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np


def check_case(kestrel_run: str, module: Path, work: Path) -> str | None:
    """None when every output matches, else what went wrong."""
    case = module.with_suffix("")
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("out*.npy"):
        old.unlink()
    res = subprocess.run([kestrel_run, str(module), f"--inputs={case}",
                          f"--outputs={work}", "--repeat=1", "--warmup=0"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        return f"kestrel-run failed: {res.stderr.strip()[-400:]}"
    checks = json.loads((case / "check.json").read_text())
    for i, how in enumerate(checks):
        out_path = work / f"out{i}.npy"
        if not out_path.exists():
            return f"out{i}.npy missing"
        got = np.load(out_path)
        want = np.load(case / f"expected{i}.npy")
        if got.shape != want.shape:
            return f"out{i}: shape {got.shape}, expected {want.shape}"
        if how == "exact":
            bad = int((got != want).sum())
            if bad:
                return f"out{i}: {bad} indices differ"
            continue
        rtol, atol = how
        got = got.astype(np.float64)
        if not np.isfinite(got).all():
            return f"out{i}: non-finite values"
        err = np.abs(got - want)
        if (err > atol + rtol * np.abs(want)).any():
            return f"out{i}: max error {err.max():.3g} beyond tolerance"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True, type=Path)
    ap.add_argument("--work", default=Path("/tmp/kestrel-routing"), type=Path)
    args = ap.parse_args()
    modules = sorted(list(args.cases.glob("*.manifest")) +
                     list(args.cases.glob("*.so")))
    if not modules:
        sys.exit(f"no *.manifest or *.so under {args.cases}")
    failed = 0
    for module in modules:
        problem = check_case(args.kestrel_run, module,
                             args.work / module.stem)
        print(f"{module.name}: {'ok' if problem is None else problem}")
        failed += problem is not None
    print(f"{len(modules) - failed} of {len(modules)} cases match the oracle")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
