"""PTX for the op families beyond attention: every function of the
lowering lit tests of MLA, the supporting ops and the denoise step compiles
for sm_90a and sm_80 and ptxas assembles it (CI has no GPU; this is the
check that every kernel the suite emits is well formed)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["lower-mla.mlir", "lower-support.mlir", "lower-denoise.mlir"]


def functions():
    for name in SOURCES:
        text = (REPO / "test" / "Conversion" / "KestrelToLinalg" / name).read_text()
        for i, chunk in enumerate(text.split("// -----")):
            if "func.func" in chunk:
                yield pytest.param(chunk, id=f"{name.removesuffix('.mlir')}-{i}")


@pytest.mark.parametrize("chip", ["sm_90a", "sm_80"])
@pytest.mark.parametrize("mlir", list(functions()))
def test_ptx_assembles(check_ptx, mlir, chip):
    ptx = check_ptx(mlir, chip)
    assert ".entry" in ptx and f".target {chip}" in ptx
