"""Shared helpers of the numeric tests: compile MLIR text for the CPU and run
it, and assemble PTX with ptxas when it is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402


def _ptxas() -> str | None:
    for cand in (os.environ.get("PTXAS"), shutil.which("ptxas"),
                 "/usr/local/cuda/bin/ptxas"):
        if cand and Path(cand).exists():
            return cand
    return None


PTXAS = _ptxas()


@pytest.fixture
def compile_cpu(tmp_path):
    """MLIR text -> loaded CpuLibrary."""
    counter = iter(range(1 << 30))

    def run(mlir: str) -> CpuLibrary:
        out = tmp_path / f"m{next(counter)}.so"
        kestrelc(mlir, out, "--target=cpu", "--emit=so")
        return CpuLibrary(out)
    return run


@pytest.fixture
def check_ptx(tmp_path):
    """MLIR text -> PTX for `chip`, assembled by ptxas for that chip.

    Returns the PTX text (with `with_log`, also ptxas -v's report: registers,
    spills). `flags` are more kestrelc options. Without ptxas the PTX is
    still generated and the assembly step is reported as skipped, never as
    passed."""
    def run(mlir: str, chip: str = "sm_90a", flags=(), with_log=False):
        out = tmp_path / f"kernel_{chip}.ptx"
        kestrelc(mlir, out, f"--target=cuda:{chip}", "--emit=ptx", *flags)
        if PTXAS is None:
            pytest.skip("ptxas not installed: PTX generated but not assembled")
        log = subprocess.run([PTXAS, f"-arch={chip}", "-v", str(out), "-o",
                              os.devnull], check=True, capture_output=True,
                             text=True).stderr
        return (out.read_text(), log) if with_log else out.read_text()
    return run


def to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (uint16), round to nearest even."""
    bits = np.ascontiguousarray(x, np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def storage(x: np.ndarray, dtype: str):
    """(array to pass to the library, its exact value as float64)."""
    if dtype == "f32":
        a = x.astype(np.float32)
        return a, a.astype(np.float64)
    if dtype == "f16":
        a = x.astype(np.float16)
        return a, a.astype(np.float64)
    if dtype == "bf16":
        a = to_bf16_bits(x)
        return a, from_bf16_bits(a).astype(np.float64)
    raise ValueError(dtype)


def value_of(y: np.ndarray, dtype: str) -> np.ndarray:
    return from_bf16_bits(y).astype(np.float64) if dtype == "bf16" \
        else y.astype(np.float64)
