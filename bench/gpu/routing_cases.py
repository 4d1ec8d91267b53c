"""Stages GPU (or CPU) numeric checks of kestrel.route and kestrel.moe.

Run where kestrelc is built. For every case it writes, under --dest:
NAME.mlir, the compiled module (NAME.ptx + NAME.manifest for
--target=cuda:CHIP, or NAME.so for --target=cpu), NAME/in<i>.npy and
NAME/expected<i>.npy from the NumPy oracle (python/kestrel/reference/
routing.py) with NAME/check.json saying how each output is compared.
bench/gpu/check_routing.py runs the cases through kestrel-run on the
machine that has the device and compares; the oracle itself never runs
there. Cases reuse test/numerics/test_routing.py's generators, so their
selections are well posed (see that module's docstring)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "test" / "numerics"))

from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.reference import routing as ref  # noqa: E402
from test_routing import (grid_logits, moe_mlir, route_mlir,  # noqa: E402
                          well_posed)


def cases(rng):
    """(name, mlir, inputs, expected, checks); checks per output:
    "exact" or [rtol, atol]."""
    attrs = {"score": "sigmoid", "renormalize": True, "n_groups": 4,
             "topk_groups": 2, "capacity_factor": 1.0}
    while True:
        logits = grid_logits(rng, 64, 16, skew=3)
        bias = rng.integers(-8, 9, 16) / 64.0
        if well_posed(logits, bias, attrs):
            break
    idx, w = ref.route(logits, score="sigmoid", k=4, bias=bias,
                       renormalize=True, n_groups=4, topk_groups=2,
                       capacity_factor=1.0)
    yield ("route_groups_capacity",
           route_mlir(64, 16, 4, "f32", "i32", "f32", attrs,
                      bias_dtype="f32"),
           [logits.astype(np.float32), bias.astype(np.float32)],
           [idx.astype(np.int32), w], ["exact", [1e-5, 1e-6]])

    attrs = {"score": "softmax", "expert_choice": True,
             "capacity_factor": 1.25}
    while True:
        logits = grid_logits(rng, 8, 48).T.copy()
        if well_posed(logits, None, attrs):
            break
    idx, w = ref.route_expert_choice(logits, k=2, capacity_factor=1.25)
    yield ("route_expert_choice",
           route_mlir(48, 8, 2, "f32", "i64", "f32", attrs),
           [logits.astype(np.float32)], [idx, w], ["exact", [1e-5, 1e-6]])

    n, d, e, ff, k, fs = 24, 32, 8, 16, 2, 12
    f32 = np.float32
    x = rng.uniform(-1, 1, (n, d)).astype(f32)
    w1, w3 = (rng.uniform(-.5, .5, (e, d, ff)).astype(f32) for _ in "13")
    w2 = rng.uniform(-.5, .5, (e, ff, d)).astype(f32)
    shared = [rng.uniform(-.5, .5, s).astype(f32)
              for s in ((d, fs), (d, fs), (fs, d))]
    idx, w = ref.route(grid_logits(rng, n, e, skew=0), k=k, renormalize=True,
                       capacity_factor=1.0)
    out = ref.moe(x, idx, w, w1, w3, w2, shared=shared)
    yield ("moe_shared",
           moe_mlir(n, d, e, ff, n, k, "f32", "i32", "f32", fs, False),
           [x, idx.astype(np.int32), w.astype(f32), w1, w3, w2, *shared],
           [out], [[1e-4, 1e-4 * float(np.abs(out).max())]])

    idx, w = ref.route_expert_choice(grid_logits(rng, e, n).T.copy(),
                                     capacity=5)
    out = ref.moe(x, idx, w, w1, w3, w2, expert_choice=True)
    yield ("moe_expert_choice",
           moe_mlir(n, d, e, ff, e, 5, "f32", "i64", "f32", 0, True),
           [x, idx, w.astype(f32), w1, w3, w2],
           [out], [[1e-4, 1e-4 * float(np.abs(out).max())]])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", required=True, type=Path)
    ap.add_argument("--target", default="cuda:sm_90a")
    args = ap.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    for name, mlir, inputs, expected, checks in cases(
            np.random.default_rng(2026)):
        (args.dest / f"{name}.mlir").write_text(mlir)
        if args.target == "cpu":
            kestrelc(mlir, args.dest / f"{name}.so", "--target=cpu",
                     "--emit=so")
        else:
            kestrelc(mlir, args.dest / f"{name}.ptx",
                     f"--target={args.target}", "--emit=ptx")
        case = args.dest / name
        case.mkdir(exist_ok=True)
        for i, a in enumerate(inputs):
            np.save(case / f"in{i}.npy", a)
        for i, a in enumerate(expected):
            np.save(case / f"expected{i}.npy", a)
        (case / "check.json").write_text(json.dumps(checks))
        print(f"staged {name}")


if __name__ == "__main__":
    main()
