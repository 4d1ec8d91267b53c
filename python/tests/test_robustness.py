"""Bad input to the Python package raises a Python exception naming what is
wrong, before any native call that could misread it or kill the
interpreter (truncated libraries, wrong dtypes, shapes, arity, layouts,
missing or mismatched files)."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
import kestrel  # noqa: E402
from kestrel.runtime import Manifest  # noqa: E402

ROWS = """
func.func @rows(%x: tensor<2x8xbf16>, %w: tensor<8xbf16>) -> tensor<2x8xbf16> {
  %y = kestrel.rms_norm %x, %w eps = 1.0e-05 : tensor<2x8xbf16>, tensor<8xbf16> -> tensor<2x8xbf16>
  return %y : tensor<2x8xbf16>
}
"""
ATTN = (REPO / "test" / "kestrelc" / "emit.mlir").read_text()


@pytest.fixture(scope="module")
def attn_lib(tmp_path_factory):
    out = tmp_path_factory.mktemp("lib") / "attn.so"
    kestrel.compile(ATTN, output=out)
    return out


def _inputs():
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, s).astype(np.float32)
            for s in ((1, 4, 8, 4), (1, 2, 8, 4), (1, 2, 8, 4))]


@pytest.mark.parametrize("keep", [40, 3000, -200])
def test_truncated_library_raises_instead_of_sigbus(attn_lib, tmp_path, keep):
    data = attn_lib.read_bytes()
    cut = tmp_path / "cut.so"
    cut.write_bytes(data[:keep])
    # In a child interpreter: before the check, this died of SIGBUS.
    code = ("import sys; sys.path.insert(0, %r); import kestrel\n"
            "try:\n    kestrel.CpuLibrary(%r)\n"
            "except OSError as e:\n    print(e)\n") % (str(REPO / "python"),
                                                      str(cut))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"{cut}: truncated or not a shared object (" in proc.stdout


def test_not_a_library_and_missing_file(tmp_path):
    text = tmp_path / "model.so"
    text.write_text(ATTN)
    with pytest.raises(OSError, match="truncated or not a shared object "
                                      r"\(no ELF magic\)"):
        kestrel.CpuLibrary(text)
    with pytest.raises(FileNotFoundError):
        kestrel.CpuLibrary(tmp_path / "absent.so")


def test_relative_library_path_is_not_searched_on_the_library_path(
        attn_lib, monkeypatch):
    monkeypatch.chdir(attn_lib.parent)
    assert kestrel.CpuLibrary(attn_lib.name).attention(*_inputs())[0].shape \
        == (1, 4, 8, 4)


def test_arguments_are_checked_before_the_call(attn_lib):
    lib = kestrel.CpuLibrary(attn_lib)
    q, k, v = _inputs()
    with pytest.raises(TypeError, match="attention takes 3 inputs, got 2"):
        lib.attention(q, k)
    with pytest.raises(TypeError, match=r"attention: argument 1 is int64, "
                                        r"expected f32"):
        lib.attention(q, k.astype(np.int64), v)
    with pytest.raises(TypeError, match=r"argument 0 is float64, expected f32"):
        lib.attention(q.astype(np.float64), k, v)
    with pytest.raises(ValueError, match=r"argument 2 has shape \(1, 2, 4, 8\), "
                                         r"expected \(1, 2, 8, 4\)"):
        lib.attention(q, k, v.reshape(1, 2, 4, 8))
    with pytest.raises(ValueError, match=r"argument 0 has shape \(0, 4, 8, 4\)"):
        lib.attention(np.zeros((0, 4, 8, 4), np.float32), k, v)
    with pytest.raises(TypeError, match="argument 0 .* does not convert to f32"):
        lib.attention("q", k, v)
    # Lossless conversions and plain sequences still work.
    ref = lib.attention(q, k, v)[0]
    assert np.array_equal(lib.attention(q.astype(np.float16).astype(np.float32),
                                        k, v)[0].shape, ref.shape)
    assert np.array_equal(lib.attention(q.tolist(), k, v)[0], ref)
    # A strided view is copied into the dense layout the function reads.
    strided = np.ascontiguousarray(k.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    assert not strided.flags.c_contiguous
    assert np.array_equal(lib.attention(q, strided, v)[0], ref)


def test_bf16_argument_given_float32_raises():
    """float32 data given to a bf16 function was reinterpreted as bit pairs
    (NaN out); it must raise instead."""
    lib = kestrel.compile(ROWS)
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(2, 8)
    bf16 = lambda a: (a.view(np.uint32) >> 16).astype(np.uint16)  # noqa: E731
    w = bf16(np.ones(8, np.float32))
    with pytest.raises(TypeError, match=r"rows: argument 0 is float32, "
                                        r"expected bf16"):
        lib.rows(x, w)
    with pytest.raises(TypeError, match="argument 1 is a list, expected a bf16"):
        lib.rows(bf16(x), [1.0] * 8)
    (y,) = lib.rows(bf16(x), w)
    value = lambda b: (b.astype(np.uint32) << 16).view(np.float32)  # noqa: E731
    xb = value(bf16(x)).astype(np.float64)
    ref = xb / np.sqrt((xb * xb).mean(-1, keepdims=True) + 1e-5)
    # One bf16 rounding of the result: 2^-8 relative.
    np.testing.assert_allclose(value(y), ref, rtol=2 ** -8, atol=1e-6)


def test_compile_empty_source_and_missing_paths(tmp_path):
    for empty in ("", "  \n"):
        with pytest.raises(ValueError, match="empty source"):
            kestrel.compile(empty)
    for missing in (str(tmp_path / "absent.mlir"), str(tmp_path / "absent.onnx"),
                    "no_such_model", tmp_path / "absent"):
        with pytest.raises(FileNotFoundError, match="no such model file"):
            kestrel.compile(missing)
    with pytest.raises(FileNotFoundError):
        kestrel.ir(str(tmp_path / "nothere.mlir"))
    # Source text still compiles, and an existing path still reads the file.
    assert kestrel.compile(ROWS).manifest.functions["rows"].inputs[0].dtype \
        == "bf16"
    path = tmp_path / "rows.mlir"
    path.write_text(ROWS)
    assert "rows" in kestrel.compile(str(path)).manifest.functions


def test_source_that_would_crash_the_mlir_parser_is_refused():
    """The C API refuses, as kestrelc does, MLIR text that upstream MLIR
    22's linalg.generic parser crashes on (a non-string iterator type), or
    nested past what the parser can recurse, or with a result number the
    parser would allocate for: a CompileError, not a crash."""
    generic = """#id = affine_map<(d0) -> (d0)>
func.func @f(%x: tensor<4xf32>, %o: tensor<4xf32>) -> tensor<4xf32> {
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = [7]}
      ins(%x : tensor<4xf32>) outs(%o : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}
"""
    with pytest.raises(kestrel.CompileError,
                       match="iterator_types list holds something other"):
        kestrel.compile(generic)
    deep = ("func.func @f() {\n  %c = arith.constant dense<" + "[" * 5000 +
            "1" + "]" * 5000 + "> : tensor<1xf32>\n  return\n}\n")
    with pytest.raises(kestrel.CompileError, match="nested deeper than 1000"):
        kestrel.compile(deep)
    # A forward reference to result 444444444: a 7 GB allocation in the
    # parser (the MLIR fuzzer, 2026-12-05).
    far = """func.func @f(%x: tensor<4x8xf32>) -> tensor<4x2xf32> {
  return %v#444444444 : tensor<4x2xf32>
}
"""
    with pytest.raises(kestrel.CompileError, match="use of result #444444444"):
        kestrel.compile(far)


@pytest.mark.parametrize("text, message", [
    ("", "not a kestrel manifest"),
    ("kestrel-manifest 1 cpu\nfunction f 1 1\nin f32 4\n",
     "ends inside function 'f'"),
    ("kestrel-manifest 1 cpu\nfunction f 1 1\nin f32 4\nend\n",
     "line 4: function 'f' declares 1 inputs and 1 outputs but lists 1 and 0"),
    ("kestrel-manifest 1 cpu\nfunction f 1 0\nin f33 4\nend\n",
     "line 3: expected 'in DTYPE DIMxDIM...'"),
    ("kestrel-manifest 1 cpu\nfunction f 1 0\nin f32 4xq\nend\n",
     "line 3: bad shape '4xq'"),
    ("kestrel-manifest 1 cpu\nfunction\n", "line 2: expected 'function NAME"),
    ("kestrel-manifest 1 cpu\nin f32 4\n", "line 2: 'in' outside a function"),
])
def test_manifest_errors_name_the_file_and_line(text, message):
    with pytest.raises(ValueError, match=f"m.manifest: .*{message}"
                       if "line" in message else message):
        Manifest.parse(text, source="m.manifest")


def test_cuda_manifest_and_weights_mismatch(tmp_path):
    out = tmp_path / "a.ptx"
    weighted = """
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %y = kestrel.rms_norm %x, %w eps = 1.0e-05 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
"""
    kestrel.compile(weighted, target="cuda:sm_90a", output=out)
    manifest = tmp_path / "a.manifest"
    info = Manifest.parse(manifest.read_text())
    assert info.weights, "the constant goes to a weights file"
    weights = tmp_path / info.weights
    weights.write_bytes(weights.read_bytes()[:-4])
    with pytest.raises(ValueError, match=f"{weights} has .* bytes, but "
                                         f"{manifest} expects"):
        kestrel.load_cuda(manifest)
    weights.unlink()
    with pytest.raises(FileNotFoundError, match="weights file"):
        kestrel.load_cuda(manifest)
    text = manifest.read_text()
    manifest.write_text(text[: text.index("end")])
    with pytest.raises(ValueError, match=f"{manifest}: ends inside function"):
        kestrel.load_cuda(manifest)
    with pytest.raises(FileNotFoundError):
        kestrel.load_cuda(tmp_path / "absent.manifest")


class _FakeCudaArray:
    """Looks like a CUDA array to the API; no GPU exists here."""

    def __init__(self, shape, typestr="<f4", strides=None):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr,
                                         "data": (1 << 20, False),
                                         "strides": strides, "version": 3}


def test_cuda_arguments_are_checked_before_the_driver(tmp_path):
    mod = kestrel.compile(ROWS, target="cuda:sm_90a", output=tmp_path / "r.ptx")
    w = _FakeCudaArray((8,), "<u2")
    attn = kestrel.compile(ATTN, target="cuda:sm_90a", output=tmp_path / "a.ptx")
    q, k = _FakeCudaArray((1, 4, 8, 4)), _FakeCudaArray((1, 2, 8, 4))
    with pytest.raises(ValueError, match="attention: argument 1 is strided"):
        attn.attention(q, _FakeCudaArray((1, 2, 8, 4), strides=(256, 128, 4, 32)),
                       k)
    with pytest.raises(ValueError, match=r"argument 0 has shape \(1, 4, 0, 4\)"):
        attn.attention(_FakeCudaArray((1, 4, 0, 4)), k, k)
    with pytest.raises(TypeError, match="rows takes 2 inputs, got 1"):
        mod.rows(w)
    with pytest.raises(TypeError, match="rows: argument 0 is f32, expected bf16"):
        mod.rows(_FakeCudaArray((2, 8)), w)
