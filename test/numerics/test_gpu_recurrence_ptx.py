"""PTX of the gated_recurrence kernels (kestrel-gpu-recurrence): every
function of the chunked-kernel lit tests (gate none / scalar, the delta
rules' WY kernel + walk, the vector gate's chunk_gla kernel + walk, the
states form's walk + chunk_output) compiles
for sm_90a and sm_80 and ptxas assembles it, without spills in the delta
rules' and the vector gate's kernels (CI has no GPU)."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["gpu-recurrence-chunked.mlir", "gpu-recurrence-delta.mlir",
           "gpu-recurrence-gla.mlir", "gpu-recurrence-states.mlir"]


def functions():
    for name in SOURCES:
        text = (REPO / "test" / "CUDA" / name).read_text()
        for i, chunk in enumerate(text.split("// -----")):
            if "func.func" in chunk:
                yield pytest.param(chunk, id=f"{name.removesuffix('.mlir')}-{i}")


@pytest.mark.parametrize("chip", ["sm_90a", "sm_80"])
@pytest.mark.parametrize("mlir", list(functions()))
def test_ptx_assembles(check_ptx, mlir, chip):
    ptx, log = check_ptx(mlir, chip, with_log=True)
    assert ".entry" in ptx and f".target {chip}" in ptx
    if ("gated_delta" in mlir or "gate = delta" in mlir or "gate = vector" in mlir
            or "chunk_states" in mlir):
        spills = [int(n) for n in re.findall(r"(\d+) bytes spill stores", log)]
        assert spills and max(spills) == 0, log
