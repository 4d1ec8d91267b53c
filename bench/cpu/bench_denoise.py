"""CPU denoise-step benchmark: one masked-diffusion (LLaDA) unmasking step,
Kestrel (default pipeline and reference lowering) against onnxruntime and
PyTorch, measured in the same run on this machine.

    python3 bench/cpu/bench_denoise.py [--threads 2] [--repeat 3]
                                       [--L 256] [--V 32000] [--top-k 8]
                                       [--masked 0.5]

One `kestrel.denoise_step` with B = 1, f32 logits [1, L, V], tokens [1, L]
of which a fraction --masked holds the mask id (V: outside the vocabulary,
as LLaDA's), policy top_k = --top-k (low-confidence remasking: unmask the
most confident masked positions). Greedy (argmax) predictions only: the
op's temperature sampling uses its own seeded noise, which the peers do not
share, so only greedy steps can be compared; every contender is
deterministic and must agree exactly on the new tokens.

- kestrel: kestrelc default CPU pipeline, and `--reference-lowering`;
- onnxruntime: the step in standard ONNX ops, built with onnx.helper:
  ReduceMax + ArgMax over V (first maximum), Exp(logits − max) summed
  (ReduceSum) and inverted (Reciprocal) = softmax at the argmax, Equal for
  the mask, Where for the confidences, TopK over the masked confidences
  (unmasked positions keyed −1), GatherElements + Where + ScatterElements
  for the new tokens;
- PyTorch: the same steps in torch (max, exp-sum, topk, gather, scatter),
  torch.set_num_threads(threads).

Before timing, every contender's new tokens must equal the NumPy oracle's
(python/kestrel/reference/denoise.py, float64) exactly and its confidences
lie within CONF_TOL (1e-4, see below) of it.
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
from kestrel.reference.denoise import denoise_step as oracle  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

# Confidences are 1 / Σ_v exp(l − max) summed in f32 over V = 32000 terms:
# a sequential f32 sum may be off by up to ~V·2⁻²⁴ ≈ 2e-3 relative (about
# 3e-5 seen here for our sequential loop, 4e-6 for onnxruntime's vectorized
# sums). Confidences are <= 1, so an absolute 1e-4 bound is used.
CONF_TOL = 1e-4


def mlir_text(L, V, mask_id, top_k) -> str:
    lt, tt, ft = f"tensor<1x{L}x{V}xf32>", f"tensor<1x{L}xi64>", \
        f"tensor<1x{L}xf32>"
    return f"""
func.func @step(%l: {lt}, %t: {tt}) -> ({tt}, {ft}) {{
  %n, %c = kestrel.denoise_step %l, %t mask_id = {mask_id} top_k = {top_k}
      : {lt}, {tt} -> {tt}, {ft}
  return %n, %c : {tt}, {ft}
}}
"""


def onnx_session(L, V, mask_id, top_k, threads):
    import onnxruntime as ort
    from onnx import TensorProto, helper

    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    vi = helper.make_tensor_value_info
    inits = [helper.make_tensor("axis2", i64, [1], [2]),
             helper.make_tensor("mask_id", i64, [], [mask_id]),
             helper.make_tensor("n", i64, [1], [top_k]),
             helper.make_tensor("zero", f, [], [0.0]),
             helper.make_tensor("minus1", f, [], [-1.0]),
             helper.make_tensor("minus_half", f, [], [-0.5])]
    nodes = [
        helper.make_node("ReduceMax", ["logits", "axis2"], ["m"], keepdims=1),
        helper.make_node("ArgMax", ["logits"], ["pred"], axis=2, keepdims=0,
                         select_last_index=0),
        helper.make_node("Sub", ["logits", "m"], ["shifted"]),
        helper.make_node("Exp", ["shifted"], ["ex"]),
        helper.make_node("ReduceSum", ["ex", "axis2"], ["s"], keepdims=0),
        helper.make_node("Reciprocal", ["s"], ["c"]),
        helper.make_node("Equal", ["tokens", "mask_id"], ["masked"]),
        helper.make_node("Where", ["masked", "c", "zero"], ["confidence"]),
        helper.make_node("Where", ["masked", "c", "minus1"], ["key"]),
        helper.make_node("TopK", ["key", "n"], ["topv", "topi"], axis=1,
                         largest=1, sorted=1),
        # Fewer masked positions than n: the extra picks (key −1) keep
        # their token.
        helper.make_node("Greater", ["topv", "minus_half"], ["ok"]),
        helper.make_node("GatherElements", ["pred", "topi"], ["pred_sel"],
                         axis=1),
        helper.make_node("GatherElements", ["tokens", "topi"], ["tok_sel"],
                         axis=1),
        helper.make_node("Where", ["ok", "pred_sel", "tok_sel"], ["upd"]),
        helper.make_node("ScatterElements", ["tokens", "topi", "upd"],
                         ["new_tokens"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "denoise_step",
        [vi("logits", f, [1, L, V]), vi("tokens", i64, [1, L])],
        [vi("new_tokens", i64, [1, L]), vi("confidence", f, [1, L])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def torch_step(torch, logits, tokens, mask_id, top_k):
    m, pred = logits.max(dim=-1)          # first maximum on ties
    c = 1.0 / torch.exp(logits - m[..., None]).sum(dim=-1)
    masked = tokens == mask_id
    confidence = torch.where(masked, c, 0.0)
    key = torch.where(masked, c, -1.0)
    topv, topi = key.topk(top_k, dim=1)
    upd = torch.where(topv >= 0, pred.gather(1, topi), tokens.gather(1, topi))
    return tokens.scatter(1, topi, upd), confidence


def times_ms(fn, repeat):
    fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(1e3 * (time.perf_counter() - start))
    return out


def median(xs):
    return sorted(xs)[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--L", type=int, default=256)
    ap.add_argument("--V", type=int, default=32000)
    ap.add_argument("--top-k", type=int, default=8)
    ap.add_argument("--masked", type=float, default=0.5)
    ap.add_argument("--no-reference", action="store_true")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    import torch
    torch.set_num_threads(args.threads)

    L, V, n = args.L, args.V, args.top_k
    mask_id = V
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (1, L, V)).astype(np.float32)
    tokens = rng.integers(0, V, (1, L)).astype(np.int64)
    tokens[rng.random((1, L)) < args.masked] = mask_id
    exp_tokens, exp_conf = oracle(logits, tokens, mask_id, top_k=n)

    results = {}  # name -> (times, tokens equal, max conf diff)

    def record(name, outs, fn):
        new, conf = (np.asarray(o) for o in outs)
        results[name] = (times_ms(fn, args.repeat),
                         bool((new == exp_tokens).all()),
                         float(np.abs(conf - exp_conf).max()))
        print(f"{name}: {results[name]}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        text = mlir_text(L, V, mask_id, n)
        contenders = [("kestrel", [])]
        if not args.no_reference:
            contenders.append(("kestrel reference", ["--reference-lowering"]))
        for case, (name, flags) in enumerate(contenders):
            lib_path = Path(tmp) / f"step{case}.so"
            kestrelc(text, lib_path, "--target=cpu", *flags)
            lib = CpuLibrary(lib_path)
            record(name, lib.step(logits, tokens),
                   lambda: lib.step(logits, tokens))

        sess = onnx_session(L, V, mask_id, n, args.threads)
        feed = {"logits": logits, "tokens": tokens}
        record("onnxruntime", sess.run(None, feed),
               lambda: sess.run(None, feed))

        tl, tt = torch.from_numpy(logits), torch.from_numpy(tokens)
        with torch.inference_mode():
            record("PyTorch",
                   [o.numpy() for o in torch_step(torch, tl, tt, mask_id, n)],
                   lambda: torch_step(torch, tl, tt, mask_id, n))

    bad = [k for k, (_, same, err) in results.items()
           if not same or err > CONF_TOL]
    ours = median(results["kestrel"][0])
    print()
    print(f"denoise step B=1 L={L} V={V} top_k={n}, {int((tokens == mask_id).sum())} "
          f"masked positions, f32, {args.threads} threads, {args.repeat} timed "
          f"runs each (median)")
    print()
    print("| contender | median ms | all runs ms | contender / kestrel "
          "| tokens = oracle | max conf diff vs oracle |")
    print("| --- | ---: | --- | ---: | :---: | ---: |")
    for name, (ts, same, err) in results.items():
        runs = ", ".join(f"{v:.2f}" for v in ts)
        print(f"| {name} | {median(ts):.2f} | {runs} | {median(ts) / ours:.3g}x "
              f"| {'yes' if same else 'NO'} | {err:.1e} |")
    if bad:
        print(f"\nOUTPUTS DISAGREE: {', '.join(bad)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
