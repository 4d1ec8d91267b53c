"""CPU gated-recurrence prefill benchmark: Kestrel's chunked lowering against
our recurrent reference lowering and a chunked PyTorch (CPU) implementation,
measured in the same run on this machine.

    python3 bench/cpu/bench_recurrence.py [--threads 2] [--repeat 5]
                                          [--T 4096] [--dim 128]

Shapes: B = 1, H = Hkv = 16, Dk = Dv = --dim, T = --T, f32, no initial
state, scale 1/sqrt(Dk); GLA (vector gate) and Gated DeltaNet (gated_delta).
Each row prints the median time of every contender and the ratios
peer / ours (> 1 means Kestrel is faster). The PyTorch peer is the
straightforward chunked form (chunk 64, the math of docs/ops.md §2, batched over
heads, a Python loop over chunks; GLA's intra-chunk scores in the factored
form (Q ⊙ e^b)(K ⊙ e^{-b})ᵀ, one matrix product, which is only safe for mild
gates such as this benchmark's log-gates in [-0.1, 0]; the delta rule's
(I + A)⁻¹ applied by torch.linalg.solve_triangular). Outputs and final states are checked against
PyTorch's on every case.

The onnxruntime peer runs the same chunked form exported to ONNX by
torch.onnx.export (the chunk loop unrolled; the delta rule's (I + A)⁻¹,
with A strictly lower triangular and so nilpotent, as the product
(I - A)(I + A²)(I + A⁴)... of log2(C) factors, since ONNX has no
triangular solve). Its outputs are checked against PyTorch's too.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

GATES = {"GLA (vector gate)": "vector", "Gated DeltaNet": "gated_delta"}


def mlir_text(gate, B, H, T, D, scale) -> str:
    t = lambda *s: f"tensor<{'x'.join(map(str, s))}xf32>"  # noqa: E731
    qt, st = t(B, H, T, D), t(B, H, D, D)
    gt = t(B, H, T, D) if gate == "vector" else t(B, H, T)
    args = [f"%q: {qt}", f"%k: {qt}", f"%v: {qt}", f"%g: {gt}"]
    clauses = [f"log_gate(%g : {gt})"]
    if gate == "gated_delta":
        args.append(f"%b: {t(B, H, T)}")
        clauses.append(f"beta(%b : {t(B, H, T)})")
    return f"""
func.func @rec({', '.join(args)}) -> ({qt}, {st}) {{
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = {gate} {' '.join(clauses)}
      scale = {scale!r} : {qt}, {qt}, {qt} -> {qt}, {st}
  return %o, %s : {qt}, {st}
}}
"""


def unit_lower_inverse(torch, A):
    """(I + A)^-1 for strictly lower-triangular A [.., L, L] by products
    only: (I + A)^-1 = (I - A)(I + A^2)(I + A^4)... since A^L = 0."""
    L = A.shape[-1]
    eye = torch.eye(L, dtype=A.dtype)
    inv, power, n = eye - A, A @ A, 2
    while n < L:
        inv = inv @ (eye + power)
        power, n = power @ power, 2 * n
    return inv


def torch_chunked(torch, gate, q, k, v, g, beta, scale, C=64,
                  exportable=False):
    """o [B,H,T,D], S [B,H,D,D]: the chunked form batched over (B, H).
    `exportable` replaces the triangular solves by unit_lower_inverse."""
    B, H, T, D = q.shape
    S = q.new_zeros(B, H, D, D)
    o = torch.empty_like(q)
    q = q * scale
    for c0 in range(0, T, C):
        sl = slice(c0, min(c0 + C, T))
        Q, K, V = q[:, :, sl], k[:, :, sl], v[:, :, sl]
        L = Q.shape[2]
        causal = torch.ones(L, L, dtype=torch.bool).tril()
        if gate == "vector":
            b = g[:, :, sl].cumsum(2)                          # [B,H,L,D]
            # The factored form (as in simple GLA implementations): one
            # product, but e^{-b} grows along the chunk (fine for the mild
            # gates of this benchmark, not in general).
            P = ((Q * b.exp()) @ (K * (-b).exp()).transpose(-1, -2))
            P = P.masked_fill(~causal, 0.0)
            U = V
            o[:, :, sl] = (Q * b.exp()) @ S + P @ U
            last = b[:, :, -1]                                 # [B,H,D]
            S = last.exp()[..., None] * S + (
                K * (last[:, :, None] - b).exp()).transpose(-1, -2) @ U
        else:
            b = g[:, :, sl].cumsum(2)                          # [B,H,L]
            diff = b[..., :, None] - b[..., None, :]
            D_ = diff.masked_fill(~causal, float("-inf")).exp()
            Bt = beta[:, :, sl]
            strict = causal.tril(-1)
            A = (Bt[..., None] * (K @ K.transpose(-1, -2)) * D_) * strict
            if exportable:
                inv = unit_lower_inverse(torch, A)
                W = inv @ (Bt[..., None] * b.exp()[..., None] * K)
                U = inv @ (Bt[..., None] * V)
            else:
                IA = A + torch.eye(L)
                W = torch.linalg.solve_triangular(
                    IA, Bt[..., None] * b.exp()[..., None] * K, upper=False,
                    unitriangular=True)
                U = torch.linalg.solve_triangular(
                    IA, Bt[..., None] * V, upper=False, unitriangular=True)
            U = U - W @ S
            o[:, :, sl] = (Q * b.exp()[..., None]) @ S + (
                (Q @ K.transpose(-1, -2)) * D_) @ U
            last = b[..., -1]
            S = last.exp()[..., None, None] * S + (
                K * (last[..., None] - b).exp()[..., None]).transpose(-1, -2) @ U
    return o, S


def onnx_session(torch, gate, inputs, scale, threads, path):
    """onnxruntime session of the exported chunked form, or None."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None

    class Chunked(torch.nn.Module):
        def forward(self, *xs):
            q, k, v, g = xs[:4]
            beta = xs[4] if len(xs) > 4 else None
            return torch_chunked(torch, gate, q, k, v, g, beta, scale,
                                 exportable=True)

    names = ["q", "k", "v", "g", "beta"][:len(inputs)]
    torch.onnx.export(Chunked(), tuple(torch.from_numpy(x) for x in inputs),
                      str(path), input_names=names, output_names=["o", "s"],
                      opset_version=17, dynamo=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts,
                                providers=["CPUExecutionProvider"])
    return lambda: sess.run(None, dict(zip(names, inputs)))


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--T", type=int, default=4096)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the (slow) recurrent reference lowering")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    # Two OpenMP runtimes share this process (LLVM's libomp in our library,
    # GNU libgomp in PyTorch): idle threads of one that spin-wait after a
    # parallel region would steal the cores of the other. Both sleep instead.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("PyTorch not installed: its column is left empty")

    B, H, T, D = 1, 16, args.T, args.dim
    scale = float(1.0 / np.sqrt(D))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, (name, gate) in enumerate(GATES.items()):
            rng = np.random.default_rng(0)
            q = rng.uniform(-1, 1, (B, H, T, D)).astype(np.float32)
            k = rng.normal(size=(B, H, T, D))
            k = (k / np.linalg.norm(k, axis=-1, keepdims=True)).astype(np.float32)
            v = rng.uniform(-1, 1, (B, H, T, D)).astype(np.float32)
            gshape = (B, H, T, D) if gate == "vector" else (B, H, T)
            g = rng.uniform(-0.1, 0.0, gshape).astype(np.float32)
            beta = rng.uniform(0.0, 1.0, (B, H, T)).astype(np.float32)
            inputs = [q, k, v, g] + ([beta] if gate == "gated_delta" else [])
            text = mlir_text(gate, B, H, T, D, scale)

            # Distinct paths: dlopen would return an already loaded library.
            fast = Path(tmp) / f"chunked{case}.so"
            kestrelc(text, fast, "--target=cpu")
            ours = CpuLibrary(fast)
            ours_ms = median_ms(lambda: ours.rec(*inputs), args.repeat)
            o, s = ours.rec(*inputs)

            torch_ms, err = float("nan"), float("nan")
            ort_ms, ort_err = float("nan"), float("nan")
            if torch is not None:
                run_ort = onnx_session(torch, gate, inputs, scale,
                                       args.threads, Path(tmp) / f"c{case}.onnx")
                if run_ort is not None:
                    ort_ms = median_ms(run_ort, args.repeat)
                    oo, os_ = run_ort()
                    ort_err = max(float(np.abs(o - oo).max()),
                                  float(np.abs(s - os_).max()))
                tin = [torch.from_numpy(x) for x in (q, k, v, g, beta)]
                run = lambda: torch_chunked(torch, gate, *tin, scale)  # noqa
                with torch.no_grad():
                    torch_ms = median_ms(run, args.repeat)
                    to, ts = run()
                err = max(float(np.abs(o - to.numpy()).max()),
                          float(np.abs(s - ts.numpy()).max()))

            ref_ms = float("nan")
            if not args.no_reference:
                ref_lib = Path(tmp) / f"ref{case}.so"
                kestrelc(text, ref_lib, "--target=cpu", "--reference-lowering")
                ref = CpuLibrary(ref_lib)
                ref_ms = median_ms(lambda: ref.rec(*inputs), 1)
            rows.append((name, ours_ms, ort_ms, torch_ms, ref_ms, err, ort_err))
            print(f"{name}: kestrel chunked {ours_ms:.1f} ms, onnxruntime "
                  f"{ort_ms:.1f} ms, PyTorch "
                  f"{torch_ms:.1f} ms, kestrel recurrent reference "
                  f"{ref_ms:.1f} ms, max |diff| vs PyTorch {err:.1e}, "
                  f"vs onnxruntime {ort_err:.1e}", flush=True)

    print()
    print(f"| prefill B=1 H=16 T={T} Dk=Dv={D} ({args.threads} threads, f32) "
          f"| kestrel chunked ms | onnxruntime chunked ms | PyTorch chunked ms "
          f"| kestrel recurrent reference ms | ORT / kestrel "
          f"| PyTorch / kestrel | reference / kestrel "
          f"| max abs diff vs PyTorch | vs ORT |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, ours_ms, ort_ms, torch_ms, ref_ms, err, ort_err in rows:
        print(f"| {name} | {ours_ms:.1f} | {ort_ms:.1f} | {torch_ms:.1f} | "
              f"{ref_ms:.1f} | {ort_ms / ours_ms:.2f}x | "
              f"{torch_ms / ours_ms:.2f}x | {ref_ms / ours_ms:.1f}x | "
              f"{err:.1e} | {ort_err:.1e} |")


if __name__ == "__main__":
    main()
