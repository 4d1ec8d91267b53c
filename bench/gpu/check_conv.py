"""kestrel.causal_conv1d compiled for cuda, run on the GPU, against the NumPy
oracle (python/kestrel/reference/scan.py).

Two steps, because the device machine has no LLVM/MLIR:
  python3 bench/gpu/check_conv.py prepare [DIR]   (here: kestrel-opt
      --kestrel-lower-to-linalg, then kestrelc -> PTX; inputs and float64
      expected outputs; into DIR = .devcarry/conv of the checkout the device
      tool sends)
  python3 bench/gpu/check_conv.py check --kestrel-run BIN [DIR]
      (on the device machine: kestrel-run every case, compare)
bench/gpu/conv.sh runs the second step with a freshly built kestrel-run.

Tolerances as in test/numerics/test_scan.py (max error relative to
max(1, |expected|)): f32 1e-5, f16 4e-3, bf16 3e-2; new_state exact.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = {"f32": 1e-5, "f16": 4e-3, "bf16": 3e-2}

# name: B, C, T, K, dtype, bias, state, activation
CASES = {
    "prefill_f32": (2, 64, 37, 4, "f32", True, True, "silu"),
    "prefill_nostate": (1, 48, 20, 4, "f32", False, False, "none"),
    "decode_f32": (4, 96, 1, 4, "f32", True, True, "silu"),
    "short_f32": (2, 16, 2, 4, "f32", True, True, "none"),
    "k2_f32": (1, 8, 9, 2, "f32", False, True, "silu"),
    "prefill_f16": (1, 64, 33, 4, "f16", True, True, "silu"),
    "prefill_bf16": (2, 32, 17, 4, "bf16", True, True, "silu"),
}


def to_bf16_bits(x):
    bits = np.ascontiguousarray(x, np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def stored(x, dtype):
    """(array as kestrel-run reads it, its exact value in float64)."""
    if dtype == "bf16":
        a = to_bf16_bits(x)
        return a, (a.astype(np.uint32) << 16).view(np.float32).astype(
            np.float64)
    a = x.astype(np.float32 if dtype == "f32" else np.float16)
    return a, a.astype(np.float64)


def value(a, dtype):
    if dtype == "bf16":
        return (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return a.astype(np.float64)


def mlir(B, C, T, K, dtype, bias, state, act):
    t = lambda *s: f"tensor<{'x'.join(map(str, s))}x{dtype}>"  # noqa: E731
    x, w, v, s = t(B, C, T), t(C, K), t(C), t(B, C, K - 1)
    args, clauses = [f"%x: {x}", f"%w: {w}"], []
    if bias:
        args.append(f"%b: {v}")
        clauses.append(f"bias(%b : {v})")
    if state:
        args.append(f"%s0: {s}")
        clauses.append(f"state(%s0 : {s})")
    return (f"func.func @conv({', '.join(args)}) -> ({x}, {s}) {{\n"
            f"  %y, %s = kestrel.causal_conv1d %x, %w activation = {act} "
            f"{' '.join(clauses)} : {x}, {w} -> {x}, {s}\n"
            f"  return %y, %s : {x}, {s}\n}}\n")


def prepare(root: Path):
    sys.path.insert(0, str(ROOT / "python"))
    from kestrel.reference.scan import causal_conv1d
    kestrelc = ROOT / "build/bin/kestrelc"
    kestrel_opt = ROOT / "build/bin/kestrel-opt"
    rng = np.random.default_rng(2026_11_23)
    for name, (B, C, T, K, dtype, bias, state, act) in CASES.items():
        case = root / name
        case.mkdir(parents=True, exist_ok=True)
        src = case / "conv.mlir"
        src.write_text(mlir(B, C, T, K, dtype, bias, state, act))
        # kestrelc refuses the op on cuda until this check has passed, so
        # the reference lowering is applied first (the same pass kestrelc
        # would run) and kestrelc compiles the linalg it produces.
        lowered = subprocess.run(
            [str(kestrel_opt), str(src), "--kestrel-lower-to-linalg"],
            check=True, capture_output=True, text=True).stdout
        (case / "conv.linalg.mlir").write_text(lowered)
        subprocess.run([str(kestrelc), str(case / "conv.linalg.mlir"),
                        "--target=cuda:sm_90a", "--emit=ptx", "-o",
                        str(case / "conv.ptx")], check=True)
        exact, i = {}, 0
        for arg, shape, on in (("x", (B, C, T), True),
                               ("weight", (C, K), True),
                               ("bias", (C,), bias),
                               ("state", (B, C, K - 1), state)):
            if on:
                a, exact[arg] = stored(rng.uniform(-1, 1, shape), dtype)
                np.save(case / f"in{i}.npy", a)
                i += 1
        y, s = causal_conv1d(**exact, activation=act)
        np.save(case / "expected_y.npy", y)
        np.save(case / "expected_state.npy", s)
        (case / "case.json").write_text(json.dumps({"dtype": dtype}))
        print(f"prepared {name}")


def check(root: Path, kestrel_run: str) -> bool:
    ok = True
    for case in sorted(p for p in root.iterdir() if p.is_dir()):
        dtype = json.loads((case / "case.json").read_text())["dtype"]
        for f in case.glob("out*.npy"):
            f.unlink()
        res = subprocess.run([kestrel_run, str(case / "conv.manifest"),
                              f"--inputs={case}", f"--outputs={case}",
                              "--warmup=1", "--repeat=3"],
                             capture_output=True, text=True)
        if res.returncode != 0:
            print(f"FAIL {case.name}: kestrel-run: {res.stdout}{res.stderr}")
            ok = False
            continue
        y = value(np.load(case / "out0.npy"), dtype)
        s = value(np.load(case / "out1.npy"), dtype)
        want_y = np.load(case / "expected_y.npy")
        want_s = np.load(case / "expected_state.npy")
        err = (np.abs(y - want_y) / np.maximum(1.0, np.abs(want_y))).max()
        good = (np.isfinite(y).all() and err <= TOLERANCE[dtype]
                and np.array_equal(s, want_s))
        ok &= bool(good)
        print(f"{'ok  ' if good else 'FAIL'} {case.name} ({dtype}): y max "
              f"rel err {err:.2e} (tol {TOLERANCE[dtype]:g}), new_state "
              f"{'exact' if np.array_equal(s, want_s) else 'DIFFERS'}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["prepare", "check"])
    ap.add_argument("dir", nargs="?", default=str(ROOT / ".devcarry/conv"))
    ap.add_argument("--kestrel-run")
    args = ap.parse_intermixed_args()
    if args.mode == "prepare":
        prepare(Path(args.dir))
    elif not check(Path(args.dir), args.kestrel_run):
        sys.exit(1)


if __name__ == "__main__":
    main()
