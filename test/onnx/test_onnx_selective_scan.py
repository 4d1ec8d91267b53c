"""Recognition of the exporter-unrolled Mamba selective scan
(passes/Transforms/RecognizeSelectiveScan.cpp, docs/ops.md
"kestrel.selective_scan") in whole PyTorch-exported blocks.

The committed test/onnx/models/mamba_block.onnx (T = 8) and, when torch is
installed, small Mamba and Jamba blocks built by the benchmark generators
(bench/cpu/models/mamba.py, jamba.py) and exported at test time must come out
of `kestrelc --emit=mlir` with one kestrel.selective_scan and no per-step
ops left, and compute on the CPU what onnxruntime computes (the tolerance of
each check is stated where it is made). Without torch the exported-block
tests skip (they are not counted as passing)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_onnx_recognize_blocks import filecheck  # noqa: E402

MODELS = REPO / "test/onnx/models"


def _errors(tmp_path, path, x):
    """(max |kestrel - ort|, max |ort|) of the block's output on x."""
    so = tmp_path / f"{Path(path).stem}.so"
    kestrelc(path, so, "--target=cpu")
    lib = CpuLibrary(so)
    ours = lib.call(next(iter(lib.manifest.functions)), x)[0]
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, {"x": x})[0]
    assert ours.shape == ref.shape
    return float(np.abs(ours - ref).max()), float(np.abs(ref).max())


def _check_recognized(tmp_path, path, B, C, T, N):
    mlir = tmp_path / "m.mlir"
    kestrelc(path, mlir, "--emit=mlir")
    text = mlir.read_text()
    filecheck(text, f"""\
CHECK: kestrel.selective_scan
CHECK-SAME: -> tensor<{B}x{C}x{T}xf32>, tensor<{B}x{C}x{N}xf32>
CHECK-NOT: kestrel.selective_scan
CHECK: return
""", tmp_path)
    # No per-step op survives: no concat of the steps' outputs, and no
    # [B, T, C, N] tensor (dA, dBx) is left.
    assert "tensor.concat" not in text
    assert f"tensor<{B}x{T}x{C}x{N}xf32>" not in text


def test_committed_mamba_block(tmp_path):
    path = MODELS / "mamba_block.onnx"
    _check_recognized(tmp_path, path, 1, 64, 8, 8)
    x = np.random.default_rng(3).standard_normal((1, 8, 32)).astype(np.float32)
    err, _ = _errors(tmp_path, path, x)
    # Outputs up to ~4, f32 with the same operation order per step: 1e-5
    # absolute (as for the unrolled form).
    assert err <= 1e-5


def _exported(tmp_path, gen, **cfg):
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(REPO / "bench/cpu/models"))
    import importlib
    mod = importlib.import_module(gen)
    from common import export
    module, x = mod.build(**cfg)
    x = torch.randn(2, cfg["t"], cfg["d"], generator=torch.Generator().manual_seed(1))
    return export(module, x, tmp_path / f"{gen}.onnx"), x.numpy()


@pytest.mark.parametrize("t", [5, 24])
def test_exported_mamba_block(tmp_path, t):
    path, x = _exported(tmp_path, "mamba", d=32, d_state=8, d_conv=4, t=t)
    _check_recognized(tmp_path, path, 2, 64, t, 8)
    err, scale = _errors(tmp_path, path, x)
    # f32; Kestrel's vectorized exp/sigmoid are approximations within a few
    # ulp: 1e-5 of the output's magnitude.
    assert err <= 1e-5 * scale, (err, scale)


def test_exported_jamba_block(tmp_path):
    path, x = _exported(tmp_path, "jamba", d=64, heads=4, kv_heads=2, ffn=96,
                        d_state=8, t=16)
    _check_recognized(tmp_path, path, 2, 128, 16, 8)
    err, scale = _errors(tmp_path, path, x)
    assert err <= 1e-5 * scale, (err, scale)


def _hf_scan_module(C, N):
    """The sequential selective scan of Hugging Face's Mamba mixer
    (`MambaMixer.slow_forward`, transformers 5), channels first, written
    out here: hidden states and time step [B, C, T], B/C [B, T, N]."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Scan(nn.Module):
        def __init__(self):
            super().__init__()
            g = torch.Generator().manual_seed(5)
            self.A_log = nn.Parameter(torch.rand(C, N, generator=g) + 0.5)
            self.dt = nn.Linear(C, C)
            self.proj = nn.Linear(C, 2 * N)

        def forward(self, x):  # x [B, T, C]
            hidden = x.transpose(1, 2)                       # [B, C, T]
            dt = nn.functional.softplus(self.dt(x)).transpose(1, 2)
            Bm, Cm = torch.split(self.proj(x), [N, N], dim=-1)  # [B, T, N]
            A = -torch.exp(self.A_log.float())
            dA = torch.exp(A[None, :, None, :] * dt[:, :, :, None])
            dB = dt[:, :, :, None] * Bm[:, None, :, :].float()
            dBu = dB * hidden[:, :, :, None].float()
            state = torch.zeros(x.shape[0], C, N)
            outs = []
            for i in range(x.shape[1]):
                state = dA[:, :, i, :] * state + dBu[:, :, i, :]
                outs.append(torch.matmul(state, Cm[:, i, :].unsqueeze(-1))[:, :, 0])
            return torch.stack(outs, dim=-1)                 # [B, C, T]

    return Scan()


@pytest.mark.parametrize("dynamo", [False, True])
def test_hf_channels_first_scan(tmp_path, dynamo):
    """HF's form: time on axis 2 of dA/dBx, the readout a matmul with
    Cm[:, t, :, None], the steps stacked on the last axis; batch 2, so the
    broadcasts read unit dims as constants. Re-rolled into one
    kestrel.selective_scan (x, delta and y [B, C, T] as they are; A
    [1, C, 1, N] collapsed to [C, N]), from both exporters, checked against
    onnxruntime: f32, 1e-5 of the output's magnitude."""
    torch = pytest.importorskip("torch")
    B, T, C, N = 2, 6, 8, 4
    module = _hf_scan_module(C, N).eval()
    x = torch.randn(B, T, C, generator=torch.Generator().manual_seed(2))
    path = tmp_path / "hf_scan.onnx"
    with torch.no_grad():
        if dynamo:
            torch.onnx.export(module, (x,), str(path), input_names=["x"],
                              output_names=["y"], dynamo=True)
        else:
            torch.onnx.export(module, (x,), str(path), input_names=["x"],
                              output_names=["y"], opset_version=17,
                              dynamo=False)
    mlir = tmp_path / "m.mlir"
    kestrelc(path, mlir, "--emit=mlir")
    text = mlir.read_text()
    filecheck(text, f"""\
CHECK: %[[Y:.*]], %{{{{.*}}}} = kestrel.selective_scan {{{{.*}}}} : tensor<{B}x{C}x{T}xf32>, tensor<{B}x{C}x{T}xf32>, tensor<{C}x{N}xf32>, tensor<{B}x{N}x{T}xf32>, tensor<{B}x{N}x{T}xf32> -> tensor<{B}x{C}x{T}xf32>, tensor<{B}x{C}x{N}xf32>
CHECK-NOT: kestrel.selective_scan
CHECK: return %[[Y]]
""", tmp_path)
    assert "tensor.concat" not in text
    assert f"tensor<{B}x{C}x{T}x{N}xf32>" not in text
    xn = x.numpy()
    err, scale = _errors(tmp_path, path, xn)
    assert err <= 1e-5 * max(1.0, scale), (err, scale)
