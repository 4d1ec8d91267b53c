"""CPU attention benchmark: Kestrel against onnxruntime, PyTorch and our own
reference lowering, measured in the same run on this machine.

    python3 bench/cpu/bench_attention.py [--threads 2] [--repeat 5]

Each row prints the median time of every contender and the ratios
peer / ours (> 1 means Kestrel is faster). onnxruntime runs the standard
decomposed graph (MatMul -> Mul(scale) -> Add(mask) -> Softmax -> MatMul)
with K/V already repeated to H heads (which favours it: no GQA indexing).
PyTorch (CPU, torch.set_num_threads(threads)) runs
torch.nn.functional.scaled_dot_product_attention on the [B, H, T, D] inputs
with `enable_gqa=True` (K/V keep their Hkv heads) and the boolean
visibility mask. Our outputs are checked against onnxruntime's and
PyTorch's on every case (`--no-torch` leaves PyTorch out).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.reference.attention import visibility_mask  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

# name: (B, H, Hkv, T, S, D, attrs, run the reference lowering?)
CASES = {
    "prefill causal T=2048": (1, 16, 4, 2048, 2048, 64, {"causal": True}, True),
    "prefill window 256 T=2048": (1, 16, 4, 2048, 2048, 64,
                                  {"causal": True, "window": 256}, True),
    "decode T=1 S=8192": (1, 16, 4, 1, 8192, 64, {"causal": True}, True),
}


def mlir_text(B, H, Hkv, T, S, D, attrs) -> str:
    parts = ["causal"] if attrs.get("causal") else []
    if "window" in attrs:
        parts.append(f"window = {attrs['window']}")
    qt, kt = f"tensor<{B}x{H}x{T}x{D}xf32>", f"tensor<{B}x{Hkv}x{S}x{D}xf32>"
    return f"""
func.func @attn(%q: {qt}, %k: {kt}, %v: {kt}) -> {qt} {{
  %o = kestrel.attention %q, %k, %v {' '.join(parts)} : {qt}, {kt}, {kt} -> {qt}
  return %o : {qt}
}}
"""


def onnx_session(B, H, T, S, D, threads):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("q", f, [B, H, T, D]),
              helper.make_tensor_value_info("k", f, [B, H, S, D]),
              helper.make_tensor_value_info("v", f, [B, H, S, D]),
              helper.make_tensor_value_info("mask", f, [T, S])]
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["s"]),
        helper.make_node("Mul", ["s", "scale"], ["ss"]),
        helper.make_node("Add", ["ss", "mask"], ["sm"]),
        helper.make_node("Softmax", ["sm"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["o"]),
    ]
    scale = helper.make_tensor("scale", f, [], [1.0 / np.sqrt(D)])
    graph = helper.make_graph(nodes, "attention", inputs,
                              [helper.make_tensor_value_info("o", f, [B, H, T, D])],
                              initializer=[scale])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def visited_tiles(case, tile=128) -> int:
    """Tile pairs with any visible key, for the tile kestrel-tile picks at
    D = 64 (128 x 128), counted from the oracle's mask."""
    B, H, Hkv, T, S, D, attrs, _ = case
    mask = visibility_mask(T, S, attrs.get("causal", False), attrs.get("window"))
    return sum(mask[i:i + tile, j:j + tile].any()
               for i in range(0, T, tile) for j in range(0, S, tile))


def torch_attention(torch, q, k, v, mask):
    """PyTorch SDPA with GQA and a boolean mask (True = attend)."""
    return torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, enable_gqa=True)


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
    ap.add_argument("--no-torch", action="store_true",
                    help="leave PyTorch out")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    # Two OpenMP runtimes share this process (LLVM's libomp in our library,
    # GNU libgomp in PyTorch): both sleep instead of spin-waiting.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    torch = None
    if not args.no_torch:
        import torch
        torch.set_num_threads(args.threads)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, (name, (B, H, Hkv, T, S, D, attrs, run_ref)) in enumerate(
                CASES.items()):
            rng = np.random.default_rng(0)
            q = rng.uniform(-1, 1, (B, H, T, D)).astype(np.float32)
            k = rng.uniform(-1, 1, (B, Hkv, S, D)).astype(np.float32)
            v = rng.uniform(-1, 1, (B, Hkv, S, D)).astype(np.float32)
            text = mlir_text(B, H, Hkv, T, S, D, attrs)
            # Distinct paths: dlopen would return an already loaded library.
            fused = Path(tmp) / f"fused{case}.so"
            kestrelc(text, fused, "--target=cpu")
            ours = CpuLibrary(fused)
            ours_ms = median_ms(lambda: ours.attn(q, k, v), args.repeat)

            g = H // Hkv
            kr, vr = np.repeat(k, g, 1), np.repeat(v, g, 1)
            mask = np.where(visibility_mask(T, S, attrs.get("causal", False),
                                            attrs.get("window")),
                            0.0, -np.inf).astype(np.float32)
            sess = onnx_session(B, H, T, S, D, args.threads)
            feed = {"q": q, "k": kr, "v": vr, "mask": mask}
            ort_ms = median_ms(lambda: sess.run(None, feed), args.repeat)
            out = ours.attn(q, k, v)[0]
            err = float(np.abs(out - sess.run(None, feed)[0]).max())

            torch_ms, torch_err = float("nan"), float("nan")
            if torch is not None:
                tq, tk, tv = map(torch.from_numpy, (q, k, v))
                tmask = torch.from_numpy(visibility_mask(
                    T, S, attrs.get("causal", False), attrs.get("window")))
                with torch.inference_mode():
                    torch_ms = median_ms(
                        lambda: torch_attention(torch, tq, tk, tv, tmask),
                        args.repeat)
                    tout = torch_attention(torch, tq, tk, tv, tmask).numpy()
                torch_err = float(np.abs(out - tout).max())

            ref_ms = float("nan")
            if run_ref:
                ref_lib = Path(tmp) / f"ref{case}.so"
                kestrelc(text, ref_lib, "--target=cpu", "--reference-lowering")
                ref = CpuLibrary(ref_lib)
                ref_ms = median_ms(lambda: ref.attn(q, k, v), max(1, args.repeat // 2))
            rows.append((name, ours_ms, ort_ms, torch_ms, ref_ms, err,
                         torch_err))
            print(f"{name}: kestrel {ours_ms:.2f} ms, onnxruntime {ort_ms:.2f} ms, "
                  f"PyTorch {torch_ms:.2f} ms, reference {ref_ms:.1f} ms, "
                  f"max |diff| vs ORT {err:.1e}, vs PyTorch {torch_err:.1e}",
                  flush=True)

    print()
    print(f"| case ({args.threads} threads, f32) | kestrel ms | onnxruntime ms "
          f"| PyTorch ms | kestrel reference ms | ORT / kestrel "
          f"| PyTorch / kestrel | reference / kestrel "
          f"| max abs diff vs ORT | max abs diff vs PyTorch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, ours_ms, ort_ms, torch_ms, ref_ms, err, torch_err in rows:
        print(f"| {name} | {ours_ms:.2f} | {ort_ms:.2f} | {torch_ms:.2f} | "
              f"{ref_ms:.1f} | {ort_ms / ours_ms:.2f}x | "
              f"{torch_ms / ours_ms:.2f}x | {ref_ms / ours_ms:.1f}x | "
              f"{err:.1e} | {torch_err:.1e} |")
    if len(rows) >= 2:
        causal, window = rows[0][1], rows[1][1]
        ratio = visited_tiles(CASES["prefill causal T=2048"]) / visited_tiles(
            CASES["prefill window 256 T=2048"])
        print(f"\nwindow speed-up over causal: {causal / window:.2f}x "
              f"(visited-tile ratio {ratio:.2f}, target >= 0.7 x ratio = "
              f"{0.7 * ratio:.2f}x)")


if __name__ == "__main__":
    main()
