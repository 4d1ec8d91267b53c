"""torch.nn.Module in: `kestrel.compile(module, example_inputs, ...)`.

The module is exported to ONNX with torch.onnx.export and compiled like any
ONNX model (the C++ importer, then the target pipeline). With exporter
"auto", the dynamo exporter (torch.export + onnxscript, opset 18) is tried
first when onnxscript is installed; if it fails, or Kestrel cannot import
what it wrote, the TorchScript exporter (dynamo=False, opset 17) is used and
a warning says why. docs/python.md has the details.

torch is imported only here, and only when a module is compiled.
"""

from __future__ import annotations

import importlib.util
import tempfile
import warnings
from pathlib import Path

EXPORTERS = ("auto", "dynamo", "torchscript")


def is_module(obj) -> bool:
    """Whether `obj` is a torch.nn.Module (without importing torch)."""
    return any(c.__name__ == "Module" and c.__module__.startswith("torch.nn")
               for c in type(obj).__mro__)


def _as_tuple(example_inputs):
    import torch
    if example_inputs is None:
        raise TypeError("compiling a torch.nn.Module needs example_inputs: "
                        "a tensor or a tuple of tensors of the shapes the "
                        "compiled function will take")
    if isinstance(example_inputs, torch.Tensor):
        return (example_inputs,)
    inputs = tuple(example_inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"example_inputs[{i}] is a {type(x).__name__}, "
                            "expected a torch.Tensor")
    return inputs


def _export(module, inputs, path: Path, dynamo: bool) -> None:
    import torch
    names = [f"input_{i}" for i in range(len(inputs))]
    kwargs = dict(input_names=names, dynamo=dynamo)
    if dynamo:
        # One file: Kestrel reads external data too, but a temporary
        # directory with a single file is simpler to reason about.
        kwargs.update(opset_version=18, external_data=False, verbose=False)
    else:
        kwargs.update(opset_version=17)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporters' deprecation notes
        torch.onnx.export(module, inputs, str(path), **kwargs)


def export_onnx(module, example_inputs, directory, exporter: str = "auto"):
    """Exports `module` to `directory`/module.onnx and imports it with
    Kestrel's importer; returns (path, MLIR text, exporter used)."""
    from kestrel.api import CompileError, _import_onnx
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown exporter {exporter!r} (expected one of "
                         f"{', '.join(EXPORTERS)})")
    inputs = _as_tuple(example_inputs)
    path = Path(directory) / "module.onnx"
    tries = []
    if exporter == "dynamo" or (
            exporter == "auto" and importlib.util.find_spec("onnxscript")):
        tries.append(True)
    if exporter in ("auto", "torchscript"):
        tries.append(False)
    failures = []
    for dynamo in tries:
        name = "dynamo" if dynamo else "torchscript"
        try:
            _export(module, inputs, path, dynamo)
            return path, _import_onnx(path, None), name
        except CompileError as e:
            why = f"Kestrel cannot import its ONNX graph: {e}"
        except Exception as e:  # the exporters raise many kinds
            why = f"torch.onnx.export failed: {type(e).__name__}: {e}"
        failures.append(f"{name} exporter: {why}")
        if dynamo and len(tries) > 1:
            warnings.warn("kestrel: the dynamo ONNX exporter did not work for "
                          f"this module ({why.splitlines()[0][:300]}); "
                          "falling back to the TorchScript exporter "
                          "(torch.onnx.export(..., dynamo=False))",
                          stacklevel=3)
    if exporter == "auto" and len(tries) == 1:
        failures.append("dynamo exporter: not tried (onnxscript is not "
                        "installed)")
    raise CompileError("cannot export the module to ONNX:\n  " +
                       "\n  ".join(failures))


class CompiledModule:
    """A torch.nn.Module compiled by Kestrel: `compiled(*tensors)` returns
    the module's output (a tensor, or a tuple for several outputs).

    On cpu it takes CPU torch tensors (or NumPy arrays) and returns torch
    tensors; on cuda it takes CUDA tensors (the runtime library and a GPU
    are needed). `.library` is the CpuLibrary / CudaModule, `.function` the
    compiled function's name, `.onnx` the exported model, `.exporter` the
    exporter that produced it and `.report` the compile report (with
    report=True)."""

    def __init__(self, library, onnx_path: Path, exporter: str,
                 report: str | None):
        self.library, self.onnx, self.exporter = library, onnx_path, exporter
        self.report = report
        functions = (library.manifest if hasattr(library, "manifest") and
                     not isinstance(library.manifest, Path)
                     else library.info).functions
        if len(functions) != 1:
            raise ValueError(f"expected one compiled function, got "
                             f"{sorted(functions)}")
        self.function = next(iter(functions))

    def __repr__(self):
        return (f"CompiledModule(function={self.function!r}, "
                f"exporter={self.exporter!r}, library={self.library!r})")

    def __call__(self, *inputs):
        import torch
        if hasattr(self.library, "info"):  # CudaModule: device tensors
            outputs = self.library.call(self.function, *inputs)
        else:
            arrays = [x.detach().cpu().numpy() if isinstance(x, torch.Tensor)
                      else x for x in inputs]
            outputs = tuple(torch.from_numpy(y)
                            for y in self.library.call(self.function, *arrays))
        return outputs[0] if len(outputs) == 1 else outputs


def compile_module(module, example_inputs, *, target: str = "cpu",
                   exporter: str = "auto", report=False, **options):
    """kestrel.compile for a torch.nn.Module (see its docstring)."""
    from kestrel.api import _workdirs, compile as kestrel_compile
    directory = tempfile.mkdtemp(prefix="kestrel-torch-")
    _workdirs.append(directory)
    path, mlir, used = export_onnx(module, example_inputs, directory, exporter)
    library = kestrel_compile(mlir.decode(), target=target, report=report,
                              **options)
    return CompiledModule(library, path, used, getattr(library, "report",
                                                       None))
