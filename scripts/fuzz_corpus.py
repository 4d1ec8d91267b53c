#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (test/fuzz) under OUT:

  OUT/onnx     the committed models (test/onnx/models) and small single-node
               models made with onnx.helper (when the onnx package exists);
  OUT/mlir     every lit test (test/**/*.mlir) split at `// -----`, comment
               lines dropped, pieces of at most 16 KiB (FuzzMlir's bound);
  OUT/runtime  manifests (the split-file sections of test/Runtime and
               generated ones), .npy files and an ELF library, each behind
               the selector byte FuzzRuntime.cpp reads;
  OUT/mlir.dict  libFuzzer dictionary: op names and type syntax of the tests.

Seeds are regenerated on every run, never committed (scripts/fuzz.sh).
  scripts/fuzz_corpus.py OUT [--library LIB.so]
"""

import argparse
import hashlib
import io
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_MLIR = 16 * 1024


def save(directory: Path, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def mlir_seeds(out: Path) -> set[str]:
    tokens: set[str] = set()
    for path in sorted((REPO / "test").rglob("*.mlir")):
        text = path.read_text(errors="replace")
        for piece in re.split(r"^// -----.*$", text, flags=re.M):
            body = "\n".join(ln for ln in piece.splitlines()
                             if not ln.lstrip().startswith("//")).strip()
            data = body.encode()
            if data and len(data) <= MAX_MLIR:
                save(out, data + b"\n")
            tokens.update(re.findall(r"\b(?:kestrel|linalg|tensor|arith|math|"
                                     r"func|scf|memref)\.[a-z_0-9]+", body))
            tokens.update(re.findall(r"\b[a-z_]+ = ", body))
    return tokens


def onnx_seeds(out: Path) -> None:
    for model in sorted((REPO / "test" / "onnx" / "models").glob("*.onnx")):
        save(out, model.read_bytes())
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        return
    f = TensorProto.FLOAT
    one = lambda op, **kw: ([helper.make_node(op, ["x"], ["y"], **kw)], [])  # noqa: E731
    two = lambda op: ([helper.make_node(op, ["x", "w"], ["y"])],  # noqa: E731
                      [helper.make_tensor("w", f, [4, 4], [0.5] * 16)])
    graphs = {
        "relu": one("Relu"), "softmax": one("Softmax", axis=-1),
        "transpose": one("Transpose", perm=[1, 0]), "sigmoid": one("Sigmoid"),
        "matmul": two("MatMul"), "add": two("Add"), "mul": two("Mul"),
        "reshape": ([helper.make_node("Reshape", ["x", "s"], ["y"])],
                    [helper.make_tensor("s", TensorProto.INT64, [2], [2, 8])]),
    }
    for name, (nodes, inits) in graphs.items():
        graph = helper.make_graph(
            nodes, name, [helper.make_tensor_value_info("x", f, [4, 4])],
            [helper.make_tensor_value_info("y", f, None)], inits)
        model = helper.make_model(graph,
                                  opset_imports=[helper.make_opsetid("", 17)])
        save(out, model.SerializeToString())
    del onnx


def runtime_seeds(out: Path, library: Path | None) -> None:
    for path in sorted((REPO / "test" / "Runtime").glob("*.mlir")):
        text = path.read_text(errors="replace")
        for part in re.split(r"^//--- ", text, flags=re.M)[1:]:
            name, _, body = part.partition("\n")
            if name.strip().endswith(".manifest"):
                save(out, b"\0" + body.encode())
    save(out, b"\0kestrel-manifest 1 cpu\nfunction f 2 1\nin f32 2x3\n"
              b"in bf16 scalar\nout i1 4\nend\n")
    try:
        import numpy as np
        for selector, array in ((0, np.ones((2, 3), np.float32)),
                                (1, np.arange(4, dtype=np.uint16)),
                                (2, np.array(7, np.int64)),
                                (3, np.zeros((1, 1, 5), np.bool_))):
            buf = io.BytesIO()
            np.save(buf, array)
            save(out, bytes([1, selector]) + buf.getvalue())
    except ImportError:
        pass
    if library and library.exists():
        save(out, b"\2" + library.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--library", type=Path,
                        help="a library made by kestrelc (ELF seed)")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    tokens = mlir_seeds(args.out / "mlir")
    onnx_seeds(args.out / "onnx")
    runtime_seeds(args.out / "runtime", args.library)
    tokens.update(["func.func", "tensor<", "xf32>", "xbf16>", "xf16>", "xi64>",
                   "return", "dense<", "->", "%arg0", "@f", "{", "}", "(", ")",
                   ":", ","])
    with open(args.out / "mlir.dict", "w") as dictionary:
        for tok in sorted(tokens):
            dictionary.write('"%s"\n' % tok.replace("\\", "\\\\")
                             .replace('"', '\\"'))
    counts = {d.name: len(list(d.iterdir())) for d in sorted(args.out.iterdir())
              if d.is_dir()}
    print("seeds: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
