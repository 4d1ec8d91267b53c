"""kestrel.compile / kestrel.ir through the C API, and the README example."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
import kestrel  # noqa: E402
from kestrel.reference.attention import attention  # noqa: E402

SOFTCAP = """
func.func @attn(%q: tensor<1x2x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %o = kestrel.attention %q, %k, %v causal softcap = 5.0 : tensor<1x2x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
"""


def test_compile_text_and_run():
    lib = kestrel.compile(SOFTCAP)
    rng = np.random.default_rng(0)
    q = rng.uniform(-1, 1, (1, 2, 8, 4)).astype(np.float32)
    k, v = (rng.uniform(-1, 1, (1, 1, 8, 4)).astype(np.float32) for _ in "kv")
    (out,) = lib.attn(q, k, v)
    assert np.abs(out - attention(q, k, v, causal=True, softcap=5.0)).max() <= 1e-5


def test_compile_path_reference_lowering_matches():
    path = REPO / "examples" / "attention.mlir"
    fused = kestrel.compile(path)
    ref = kestrel.compile(str(path), reference_lowering=True)
    rng = np.random.default_rng(1)
    args = [rng.uniform(-1, 1, s).astype(np.float32)
            for s in ((1, 8, 256, 64), (1, 2, 256, 64), (1, 2, 256, 64))]
    assert np.abs(fused.attention(*args)[0] - ref.attention(*args)[0]).max() <= 1e-5


def test_errors_carry_diagnostics():
    bad = SOFTCAP.replace("1x1x8x4", "1x3x8x4")
    with pytest.raises(kestrel.CompileError,
                       match=r"<string>:3:8: error: 'kestrel.attention' op "
                             r"num_heads \(2\) must be a multiple of "
                             r"num_kv_heads \(3\)"):
        kestrel.compile(bad)
    with pytest.raises(kestrel.CompileError, match="unknown target 'tpu'"):
        kestrel.compile(SOFTCAP, target="tpu")


def test_ir_and_cuda(tmp_path):
    assert "kestrel.attention" in kestrel.ir(SOFTCAP)
    mod = kestrel.compile(SOFTCAP, target="cuda:sm_90a", output=tmp_path / "a.ptx")
    assert ".entry" in mod.ptx.read_text()
    assert mod.manifest.read_text().startswith("kestrel-manifest 1 cuda")
    assert re.match(r"kestrel \S+ \(MLIR 22", kestrel.version())


def test_readme_python_example_runs_as_written():
    """The README's Python block, executed verbatim from the repository root."""
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    import os
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        exec(compile(block, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)


MATMUL = """
func.func @mm(%a: tensor<4x16xf32>, %b: tensor<16x8xf32>) -> tensor<4x8xf32> {
  %z = tensor.empty() : tensor<4x8xf32>
  %c = arith.constant 0.0 : f32
  %i = linalg.fill ins(%c : f32) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%i : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
"""


def test_report_estimates_flops_and_bytes():
    """lib.report carries the estimated work: one matmul M=4, N=8, K=16 is
    2*M*N*K = 1024 FLOPs; its arguments are (4*16 + 16*8)*4 = 768 bytes and
    its result 4*8*4 = 128."""
    lib = kestrel.compile(MATMUL, report=True)
    M, N, K = 4, 8, 16
    assert f"flops: {2 * M * N * K} " in lib.report, lib.report
    args, result = (M * K + K * N) * 4, M * N * 4
    assert (f"bytes: {args + result} " in lib.report
            and f"arguments {args} + results {result} + constants 0"
            in lib.report), lib.report
    assert "an estimate, not a measurement" in lib.report
    assert "fused regions:" in lib.report


def test_readme_torch_module_example_runs_as_written():
    """The README's nn.Module block, executed verbatim: torch tensors in and
    out, close to the module's own output, and the report printed."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    if not kestrel.has_onnx():
        pytest.skip("kestrel built without the ONNX importer")
    readme = (REPO / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S)
                 if "torch.nn.Module" in b)
    import os
    cwd = os.getcwd()
    os.chdir(REPO)
    ns = {}
    try:
        exec(compile(block, "README.md", "exec"), ns)
    finally:
        os.chdir(cwd)
    with torch.no_grad():
        err = (ns["f"](ns["x"]) - ns["model"](ns["x"])).abs().max().item()
    assert err <= 1e-5, err
    assert ns["f"].report.startswith("kestrel compile report: target cpu")


class _FakeCudaArray:
    """Looks like a CUDA array to the API; no GPU exists here."""

    def __init__(self, shape, typestr="<f4"):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr,
                                         "data": (1 << 20, False),
                                         "strides": None, "version": 3}


def test_cuda_module_checks_inputs_before_the_driver(tmp_path):
    mod = kestrel.compile(SOFTCAP, target="cuda:sm_90a", output=tmp_path / "a.ptx")
    loaded = kestrel.load_cuda(tmp_path / "a.manifest")
    assert loaded.ptx == mod.ptx and list(loaded.info.functions) == ["attn"]
    with pytest.raises(TypeError, match="not a CUDA tensor"):
        mod.attn(np.zeros((1, 2, 8, 4), np.float32), None, None)
    with pytest.raises(ValueError, match=r"attn: argument 1 has shape \(1, 3, 8, 4\), "
                                         r"expected \(1, 1, 8, 4\)"):
        mod.attn(_FakeCudaArray((1, 2, 8, 4)), _FakeCudaArray((1, 3, 8, 4)),
                 _FakeCudaArray((1, 1, 8, 4)))


def _attention_graph(seq):
    """softmax(Q Kᵀ · 0.5) V as an ONNX graph, the sequence length `seq`
    (an int or a symbolic name)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    shape = [1, seq, 4]
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["s"]),
        helper.make_node("Mul", ["s", "half"], ["ss"]),
        helper.make_node("Softmax", ["ss"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["o"]),
    ]
    graph = helper.make_graph(
        nodes, "attn",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape)
         for n in "qkv"],
        [helper.make_tensor_value_info("o", TensorProto.FLOAT, shape)],
        [helper.make_tensor("half", TensorProto.FLOAT, [], [0.5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def _softmax_attention(q, k, v):
    s = q @ k.transpose(0, 2, 1) * 0.5
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


@pytest.mark.skipif(not kestrel.has_onnx(), reason="built without ONNX")
def test_compile_onnx_model_proto_and_path(tmp_path):
    rng = np.random.default_rng(2)
    q, k, v = (rng.uniform(-1, 1, (1, 6, 4)).astype(np.float32) for _ in "qkv")
    expected = _softmax_attention(q, k, v)
    model = _attention_graph(6)
    (out,) = kestrel.compile(model).attn(q, k, v)
    assert np.abs(out - expected).max() <= 1e-5
    path = tmp_path / "attn.onnx"
    path.write_bytes(model.SerializeToString())
    (out,) = kestrel.compile(path).attn(q, k, v)
    assert np.abs(out - expected).max() <= 1e-5
    assert "linalg" in kestrel.ir(model)


@pytest.mark.skipif(not kestrel.has_onnx(), reason="built without ONNX")
def test_onnx_symbolic_dims_need_input_shapes():
    model = _attention_graph("T")
    with pytest.raises(kestrel.CompileError, match="graph input 'q' has symbolic dimension 'T'"):
        kestrel.compile(model)
    lib = kestrel.compile(model, input_shapes={n: (1, 3, 4) for n in "qkv"})
    rng = np.random.default_rng(3)
    q, k, v = (rng.uniform(-1, 1, (1, 3, 4)).astype(np.float32) for _ in "qkv")
    assert np.abs(lib.attn(q, k, v)[0] - _softmax_attention(q, k, v)).max() <= 1e-5
    with pytest.raises(kestrel.CompileError, match="--input-shape expects"):
        kestrel.compile(model, input_shapes=["q=1xTx4"])


@pytest.mark.skipif(not kestrel.has_onnx(), reason="built without ONNX")
def test_onnx_unsupported_nodes_are_listed():
    from onnx import TensorProto, helper
    nodes = [helper.make_node("Hardmax", ["x"], ["a"], name="first"),
             helper.make_node("LpNormalization", ["a"], ["y"], name="second")]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(kestrel.CompileError) as info:
        kestrel.compile(model)
    assert "first" in str(info.value) and "Hardmax" in str(info.value)
    assert "second" in str(info.value) and "LpNormalization" in str(info.value)


def test_report(tmp_path):
    """report=True: kestrelc --report's text in .report (docs/cli.md)."""
    lib = kestrel.compile(SOFTCAP, report=True)
    assert lib.report.startswith("kestrel compile report: target cpu\n")
    assert "function @attn\n" in lib.report
    assert "kestrel.attention x1\n" in lib.report
    assert lib.report.endswith("refused: none\n")
    # A path: written there too; a failure carries what was refused.
    path = tmp_path / "r.txt"
    mod = kestrel.compile(SOFTCAP, target="cuda:sm_90a", report=path,
                          output=tmp_path / "a.ptx")
    assert path.read_text() == mod.report
    assert "precision f32" in mod.report and "gpu kernels:" in mod.report
    with pytest.raises(kestrel.CompileError) as failed:
        kestrel.compile(SOFTCAP, target="cpu", emit="ptx", report=True)
    assert failed.value.report is None  # refused before anything ran
    bad = SOFTCAP.replace("1x1x8x4", "1x3x8x4")
    with pytest.raises(kestrel.CompileError):
        kestrel.compile(bad, report=True)
