"""The model zoo's checks, shared by test_zoo.py and make_table.py: compile
one committed export for the CPU (with the compile report) and for CUDA
sm_90a (PTX, assembled by ptxas), run the CPU library and onnxruntime on
the same input ids, and return what happened."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc_path  # noqa: E402

NAMES = ["llama", "qwen3", "mixtral", "qwen2_moe", "deepseek_v3", "mamba",
         "mamba2", "jamba", "qwen3_next", "falcon_h1", "granite_moe_hybrid",
         "llama_f16", "llama_bf16"]
# onnxruntime's CPU provider has no bf16 kernels: the bf16 export is
# compared with onnxruntime running the float32 export of the same weights.
ORT_MODEL = {"llama_bf16": "llama"}
PTXAS = shutil.which("ptxas") or next(
    (p for p in ["/usr/local/cuda/bin/ptxas"] if os.path.exists(p)), None)
SEED = 1  # input ids: a different draw from the one traced at export time


def export_info(name: str) -> dict:
    return json.loads((HERE / f"{name}.export.json").read_text())


def input_ids(name: str) -> np.ndarray:
    info = export_info(name)
    vocab = 64
    return np.random.default_rng(SEED).integers(
        0, vocab, size=info["input_ids_shape"], dtype=np.int64)


def _kestrelc(args: list[str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    proc = subprocess.run([kestrelc_path(), *args], capture_output=True,
                          text=True)
    return proc.returncode, proc.stderr.strip(), time.perf_counter() - start


def recognized_ops(report: str) -> dict[str, int]:
    """kestrel op -> count, from the report's 'kestrel ops' section."""
    ops: dict[str, int] = {}
    section = False
    for line in report.splitlines():
        if re.match(r"\s+kestrel ops:", line):
            section = True
            continue
        if section:
            m = re.match(r"\s{4}(kestrel\.\w+) x(\d+)", line)
            if not m:
                section = False
                continue
            ops[m.group(1)] = ops.get(m.group(1), 0) + int(m.group(2))
    return ops


def check_cpu(name: str, tmp: Path) -> dict:
    """Compiles for the CPU, runs, compares with onnxruntime."""
    from kestrel.runtime import CpuLibrary
    import onnxruntime as ort

    model = HERE / f"{name}.onnx"
    so, report = tmp / f"{name}.so", tmp / f"{name}.report.txt"
    rc, err, seconds = _kestrelc(["--target=cpu", "-o", str(so),
                                  f"--report={report}", str(model)])
    out = {"cpu_compile_s": round(seconds, 2), "cpu_rc": rc, "cpu_error": err}
    text = report.read_text() if report.exists() else ""
    out["report"] = text
    out["recognized"] = recognized_ops(text)
    if rc != 0:
        return out
    ids = input_ids(name)
    lib = CpuLibrary(so)
    (fn,) = lib.manifest.functions
    ours = lib.call(fn, ids)
    ours = ours[0] if isinstance(ours, (list, tuple)) else ours
    out["dtype"] = lib.manifest.functions[fn].outputs[0].dtype
    if out["dtype"] == "bf16":  # bit patterns -> float32
        ours = (ours.astype(np.uint32) << 16).view(np.float32)
    ref_model = HERE / f"{ORT_MODEL.get(name, name)}.onnx"
    out["ort_model"] = ref_model.name
    sess = ort.InferenceSession(str(ref_model),
                                providers=["CPUExecutionProvider"])
    ref = sess.run(None, {sess.get_inputs()[0].name: ids})[0]
    out["shape"] = list(ours.shape)
    out["ref_shape"] = list(ref.shape)
    out["max_abs_ref"] = float(np.abs(ref).max())
    out["max_err"] = float(np.abs(ours.astype(np.float64) - ref).max()) \
        if ours.shape == ref.shape else None
    return out


def check_cuda(name: str, tmp: Path) -> dict:
    """Compiles to PTX for sm_90a and assembles it with ptxas."""
    ptx = tmp / f"{name}.ptx"
    rc, err, seconds = _kestrelc(["--target=cuda:sm_90a", "-o", str(ptx),
                                  str(HERE / f"{name}.onnx")])
    out = {"cuda_compile_s": round(seconds, 2), "cuda_rc": rc,
           "cuda_error": err}
    if rc == 0 and PTXAS:
        proc = subprocess.run([PTXAS, "-arch=sm_90a", str(ptx), "-o",
                               str(tmp / f"{name}.cubin")],
                              capture_output=True, text=True)
        out["ptxas_rc"] = proc.returncode
        out["ptxas_error"] = proc.stderr.strip()[:2000]
    return out


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for n in sys.argv[1:] or NAMES:
            r = check_cpu(n, Path(d)) | check_cuda(n, Path(d))
            r.pop("report")
            print(n, json.dumps(r), flush=True)
