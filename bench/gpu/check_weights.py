"""Models with constant weights on the GPU: the PyTorch-exported Llama,
Mixtral-MoE and Mamba blocks of test/onnx/models (initializers -> weights
sidecar) compiled for cuda and run through the runtime (kestrel-run),
against onnxruntime on the CPU; and a hand-written MLIR function adding a dense constant, against
NumPy.

Two steps, because the device machine has no LLVM/MLIR (and need not have
onnxruntime):
  python3 bench/gpu/check_weights.py prepare [DIR]
      (here: kestrelc -> PTX + manifest + weights; inputs; expected outputs
      from onnxruntime CPU / NumPy; into DIR, by default .devcarry/weights/cases)
  python3 bench/gpu/check_weights.py check --kestrel-run BIN [DIR]
      (on the device machine: kestrel-run every case, compare)
bench/gpu/weights.sh runs the second step with a freshly built kestrel-run;
bench/gpu/stage_weights.sh stages both.

Tolerance: max |ours - reference| <= 1e-4 for the block (f32; outputs are
O(1), up to ~4; the CPU test allows 1e-5, the GPU kernels sum in another
order), exact for the constant addition (one f32 add per element).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "test/onnx/models"
# The PyTorch-exported blocks (each with one input `x`) and their shapes.
BLOCKS = {"llama_block": (1, 16, 64), "moe_block": (2, 8, 64),
          "mamba_block": (1, 8, 32)}
CHIP = "sm_90a"

ADD_W = np.arange(-24, 24, dtype=np.float32).reshape(4, 12) * np.float32(0.375)
ADD_MLIR = """func.func @add_weights(%x: tensor<4x12xf32>) -> tensor<4x12xf32> {
  %w = arith.constant dense<WEIGHTS> : tensor<4x12xf32>
  %e = tensor.empty() : tensor<4x12xf32>
  %y = linalg.add ins(%x, %w : tensor<4x12xf32>, tensor<4x12xf32>)
                  outs(%e : tensor<4x12xf32>) -> tensor<4x12xf32>
  return %y : tensor<4x12xf32>
}
"""


def _kestrelc(src: Path, out: Path):
    subprocess.run([str(ROOT / "build/bin/kestrelc"), str(src),
                    f"--target=cuda:{CHIP}", "--emit=ptx", "-o", str(out)],
                   check=True)


def prepare(root: Path):
    import onnxruntime as ort
    rng = np.random.default_rng(2026_11_23)

    # The exported blocks, three inputs each; their weights go to m.weights.
    for name, shape in BLOCKS.items():
        model = MODELS / f"{name}.onnx"
        case = root / name
        case.mkdir(parents=True, exist_ok=True)
        _kestrelc(model, case / "m.ptx")
        sess = ort.InferenceSession(str(model),
                                    providers=["CPUExecutionProvider"])
        for i in range(3):
            x = rng.standard_normal(shape).astype(np.float32)
            d = case / f"run{i}"
            d.mkdir(exist_ok=True)
            np.save(d / "in0.npy", x)
            np.save(d / "expected0.npy", sess.run(None, {"x": x})[0])
        (case / "case.json").write_text(json.dumps(
            {"manifest": "m.manifest", "tolerance": 1e-4,
             "reference": f"onnxruntime {ort.__version__} CPU"}))

    # x + W with W a dense constant.
    case = root / "add_weights"
    case.mkdir(parents=True, exist_ok=True)
    (case / "a.mlir").write_text(
        ADD_MLIR.replace("WEIGHTS", json.dumps(ADD_W.astype(float).tolist())))
    _kestrelc(case / "a.mlir", case / "a.ptx")
    x = rng.uniform(-4, 4, (4, 12)).astype(np.float32)
    d = case / "run0"
    d.mkdir(exist_ok=True)
    np.save(d / "in0.npy", x)
    np.save(d / "expected0.npy", x + ADD_W)
    (case / "case.json").write_text(json.dumps(
        {"manifest": "a.manifest", "tolerance": 0.0, "reference": "NumPy"}))
    for c in (*BLOCKS, "add_weights"):
        files = sorted(p.name for p in (root / c).iterdir() if p.is_file())
        print(f"prepared {c}: {', '.join(files)}")


def check(root: Path, kestrel_run: str) -> bool:
    ok = True
    for case in sorted(p for p in root.iterdir() if (p / "case.json").exists()):
        spec = json.loads((case / "case.json").read_text())
        for run in sorted(p for p in case.iterdir() if p.name.startswith("run")):
            out = run / "out"
            out.mkdir(exist_ok=True)
            for f in out.glob("*.npy"):
                f.unlink()
            res = subprocess.run(
                [kestrel_run, str(case / spec["manifest"]), f"--inputs={run}",
                 f"--outputs={out}", "--warmup=1", "--repeat=3"],
                capture_output=True, text=True)
            if res.returncode != 0:
                print(f"FAIL {case.name}/{run.name}: kestrel-run: "
                      f"{res.stdout}{res.stderr}")
                ok = False
                continue
            got = np.load(out / "out0.npy")
            want = np.load(run / "expected0.npy")
            err = float(np.abs(got.astype(np.float64) - want).max())
            good = got.shape == want.shape and bool(np.isfinite(got).all()) \
                and err <= spec["tolerance"]
            ok &= good
            timing = res.stdout.strip().splitlines()[-1:] or [""]
            print(f"{'ok  ' if good else 'FAIL'} {case.name}/{run.name}: max abs "
                  f"err {err:.2e} vs {spec['reference']} (tol "
                  f"{spec['tolerance']:g}); {timing[0]}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["prepare", "check"])
    ap.add_argument("dir", nargs="?", default=str(ROOT / ".devcarry/weights/cases"))
    ap.add_argument("--kestrel-run")
    args = ap.parse_intermixed_args()
    if args.mode == "prepare":
        prepare(Path(args.dir))
    elif not check(Path(args.dir), args.kestrel_run):
        sys.exit(1)


if __name__ == "__main__":
    main()
