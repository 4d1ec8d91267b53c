"""kestrel.compile(torch.nn.Module, example_inputs): the Llama-style block of
export_llama_block.py (RMSNorm, RoPE, GQA causal attention, SwiGLU MLP;
imported from there, not copied) exported by torch.onnx and compiled for the
CPU, checked against the module's own output in float32 (max abs error
<= 1e-4 on outputs of magnitude ~1-5; the kernels reassociate sums, the
exporters fold nothing that changes the math). The report must show the
recognized ops. Skipped when torch or the ONNX importer is absent."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "test/onnx"))
import kestrel  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
if not kestrel.has_onnx():
    pytest.skip("kestrel built without the ONNX importer",
                allow_module_level=True)
import export_llama_block as llama  # noqa: E402

TOL = 1e-4


def _block():
    torch.manual_seed(0)
    block = llama.Block().eval()
    x = torch.randn(1, llama.T, llama.D_MODEL)
    with torch.no_grad():
        expected = block(x)
    return block, x, expected


def _check(compiled, x, expected):
    y = compiled(x)
    assert isinstance(y, torch.Tensor) and y.shape == expected.shape
    err = (y - expected).abs().max().item()
    assert err <= TOL, err


def test_llama_block_torchscript_exporter():
    block, x, expected = _block()
    f = kestrel.compile(block, (x,), target="cpu", exporter="torchscript",
                        report=True)
    assert f.exporter == "torchscript"
    _check(f, x, expected)
    # What the block became: the report names the recognized ops.
    for op in ("kestrel.attention x1", "kestrel.rms_norm x2",
               "kestrel.rope x2"):
        assert op in f.report, f.report
    # NumPy arrays are accepted too; the output stays a torch tensor.
    assert torch.equal(f(x.numpy()), f(x))


def test_llama_block_auto_exporter_falls_back_with_a_warning():
    block, x, expected = _block()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = kestrel.compile(block, x, target="cpu")
    _check(f, x, expected)
    fallback = [w for w in caught if "falling back" in str(w.message)]
    if importlib.util.find_spec("onnxscript") is None:
        assert f.exporter == "torchscript" and not fallback
    elif f.exporter == "torchscript":
        # dynamo was tried first; the warning says why it was not used.
        assert fallback and "dynamo" in str(fallback[0].message)
    else:
        assert f.exporter == "dynamo" and not fallback


def test_module_errors():
    block, x, _ = _block()
    with pytest.raises(TypeError, match="needs example_inputs"):
        kestrel.compile(block)
    with pytest.raises(TypeError, match=r"example_inputs\[0\] is a list"):
        kestrel.compile(block, ([1.0],))
    with pytest.raises(ValueError, match="unknown exporter"):
        kestrel.compile(block, x, exporter="jit")
    with pytest.raises(TypeError, match="example_inputs are for a "
                                        "torch.nn.Module"):
        kestrel.compile("func.func @f() { return }", (x,))
