"""CPU MoE-layer benchmark: Kestrel (default pipeline and reference lowering)
against onnxruntime and PyTorch, measured in the same run on this machine.

    python3 bench/cpu/bench_moe.py [--threads 2] [--repeat 5] [--slow-repeat 3]
                                   [--N 256] [--E 8] [--k 2] [--d 1024]
                                   [--ff 2816] [--no-reference]

The layer (Mixtral): router logits r = x W_r, softmax over the E experts,
top-k with the k weights renormalized, then the gated-MLP experts
expert_e(x) = (silu(x W1[e]) ⊙ x W3[e]) W2[e] combined with the routing
weights. f32 throughout. Contenders:

- kestrel: `linalg.matmul` + `kestrel.route` + `kestrel.moe` compiled by
  kestrelc (default CPU pipeline), and with `--reference-lowering`;
- onnxruntime, two graphs built with onnx.helper:
  * "dense": every expert on every token (batched MatMul over [E, d, ff]),
    outputs weighted by the [N, E] routing matrix P (0 off the top-k, built
    with ScatterElements) and summed over experts;
  * "sparse": per expert (unrolled E times) the routed tokens found with
    Equal/ReduceMax/NonZero, gathered (Gather), the gated MLP on them only,
    weighted and scatter-added back (ScatterND reduction=add);
- PyTorch: the usual Mixtral loop over experts (torch.where on the one-hot
  routing, index_select of the routed tokens, index_add_ of the weighted
  expert outputs), torch.set_num_threads(threads).

Each row prints the median time of every contender and the ratios
peer / ours (> 1 means Kestrel is faster). All outputs are checked against
a float64 NumPy computation of the same layer before timing.
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
from kestrel.reference import routing as ref_routing  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

# max |out - oracle| <= TOL * max |oracle| (f32 sums over d = 1024 and
# ff = 2816 against a float64 oracle).
TOL = 1e-4


def t(*shape) -> str:
    return f"tensor<{'x'.join(map(str, shape))}xf32>"


def mlir_text(N, E, k, d, ff) -> str:
    it, wt = f"tensor<{N}x{k}xi32>", t(N, k)
    return f"""
func.func @moe(%x: {t(N, d)}, %wr: {t(d, E)}, %w1: {t(E, d, ff)},
               %w3: {t(E, d, ff)}, %w2: {t(E, ff, d)}) -> {t(N, d)} {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {t(N, E)}
  %z = linalg.fill ins(%zero : f32) outs(%e : {t(N, E)}) -> {t(N, E)}
  %l = linalg.matmul ins(%x, %wr : {t(N, d)}, {t(d, E)})
                     outs(%z : {t(N, E)}) -> {t(N, E)}
  %i, %w = kestrel.route %l score = softmax k = {k} renormalize
      : {t(N, E)} -> {it}, {wt}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      : {t(N, d)}, {it}, {wt}, {t(E, d, ff)}, {t(E, d, ff)}, {t(E, ff, d)}
        -> {t(N, d)}
  return %y : {t(N, d)}
}}
"""


def onnx_session(N, E, k, d, ff, threads, sparse):
    import onnx  # noqa: F401
    import onnxruntime as ort
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    inputs = [vi("x", f, [N, d]), vi("wr", f, [d, E])]
    inits = [helper.make_tensor("k", TensorProto.INT64, [1], [k]),
             helper.make_tensor("axis1", TensorProto.INT64, [1], [1])]
    # Router: softmax top-k, renormalized.
    nodes = [
        helper.make_node("MatMul", ["x", "wr"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
        helper.make_node("TopK", ["probs", "k"], ["topv", "topi"], axis=-1),
        helper.make_node("ReduceSum", ["topv", "axis1"], ["tops"], keepdims=1),
        helper.make_node("Div", ["topv", "tops"], ["topw"]),
    ]
    if not sparse:
        inputs += [vi("w1", f, [E, d, ff]), vi("w3", f, [E, d, ff]),
                   vi("w2", f, [E, ff, d])]
        inits += [helper.make_tensor("zerosNE", f, [N, E], [0.0] * (N * E)),
                  helper.make_tensor("axis0", TensorProto.INT64, [1], [0]),
                  helper.make_tensor("axis2", TensorProto.INT64, [1], [2])]
        nodes += [
            # P[n, e]: the routing weight of (n, e), 0 when not routed.
            helper.make_node("ScatterElements", ["zerosNE", "topi", "topw"],
                             ["P"], axis=1),
            helper.make_node("MatMul", ["x", "w1"], ["a"]),      # [E, N, ff]
            helper.make_node("MatMul", ["x", "w3"], ["g"]),
            helper.make_node("Sigmoid", ["a"], ["sa"]),
            helper.make_node("Mul", ["a", "sa"], ["silu"]),
            helper.make_node("Mul", ["silu", "g"], ["h"]),
            helper.make_node("MatMul", ["h", "w2"], ["y"]),      # [E, N, d]
            helper.make_node("Transpose", ["P"], ["Pt"], perm=[1, 0]),
            helper.make_node("Unsqueeze", ["Pt", "axis2"], ["Pw"]),  # [E,N,1]
            helper.make_node("Mul", ["y", "Pw"], ["yw"]),
            helper.make_node("ReduceSum", ["yw", "axis0"], ["out"], keepdims=0),
        ]
    else:
        inits += [helper.make_tensor("zero", f, [], [0.0]),
                  helper.make_tensor("zerosNd", f, [N, d], [0.0] * (N * d)),
                  helper.make_tensor("minus1", TensorProto.INT64, [1], [-1]),
                  helper.make_tensor("shape_m1_1", TensorProto.INT64, [2],
                                     [-1, 1])]
        acc = "zerosNd"
        for e in range(E):
            inputs += [vi(f"w1_{e}", f, [d, ff]), vi(f"w3_{e}", f, [d, ff]),
                       vi(f"w2_{e}", f, [ff, d])]
            inits.append(helper.make_tensor(f"e{e}", TensorProto.INT32, [], [e]))
            s = f"_{e}"
            nodes += [
                helper.make_node("Cast", ["topi"], ["topi32" + s],
                                 to=TensorProto.INT32),
                helper.make_node("Equal", ["topi32" + s, f"e{e}"], ["hit" + s]),
                helper.make_node("Where", ["hit" + s, "topw", "zero"],
                                 ["pw" + s]),
                helper.make_node("ReduceSum", ["pw" + s, "axis1"], ["p" + s],
                                 keepdims=0),                        # [N]
                helper.make_node("Cast", ["hit" + s], ["hitf" + s], to=f),
                helper.make_node("ReduceMax", ["hitf" + s, "axis1"],
                                 ["routedf" + s], keepdims=0),
                helper.make_node("Cast", ["routedf" + s], ["routed" + s],
                                 to=TensorProto.BOOL),
                helper.make_node("NonZero", ["routed" + s], ["nz" + s]),  # [1,n_e]
                helper.make_node("Reshape", ["nz" + s, "minus1"], ["tok" + s]),
                helper.make_node("Gather", ["x", "tok" + s], ["xe" + s], axis=0),
                helper.make_node("Gather", ["p" + s, "tok" + s], ["pe" + s],
                                 axis=0),
                helper.make_node("MatMul", ["xe" + s, f"w1_{e}"], ["a" + s]),
                helper.make_node("MatMul", ["xe" + s, f"w3_{e}"], ["g" + s]),
                helper.make_node("Sigmoid", ["a" + s], ["sa" + s]),
                helper.make_node("Mul", ["a" + s, "sa" + s], ["silu" + s]),
                helper.make_node("Mul", ["silu" + s, "g" + s], ["h" + s]),
                helper.make_node("MatMul", ["h" + s, f"w2_{e}"], ["y" + s]),
                helper.make_node("Reshape", ["pe" + s, "shape_m1_1"],
                                 ["pcol" + s]),
                helper.make_node("Mul", ["y" + s, "pcol" + s], ["yw" + s]),
                helper.make_node("Reshape", ["tok" + s, "shape_m1_1"],
                                 ["sidx" + s]),
                helper.make_node("ScatterND", [acc, "sidx" + s, "yw" + s],
                                 ["acc" + s], reduction="add"),
            ]
            acc = "acc" + s
        nodes.append(helper.make_node("Identity", [acc], ["out"]))
    graph = helper.make_graph(nodes, "moe", inputs, [vi("out", f, [N, d])],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def torch_moe(torch, x, wr, w1, w3, w2, k):
    """The Mixtral sparse-MoE block's expert loop (f32)."""
    N, E = x.shape[0], wr.shape[1]
    probs = torch.softmax(x @ wr, dim=-1)
    w, idx = torch.topk(probs, k, dim=-1)
    w = w / w.sum(dim=-1, keepdim=True)
    out = torch.zeros_like(x)
    hits = torch.nn.functional.one_hot(idx, E).permute(2, 1, 0)  # [E, k, N]
    for e in range(E):
        slot, tok = torch.where(hits[e])
        if tok.numel() == 0:
            continue
        xe = x.index_select(0, tok)
        he = (torch.nn.functional.silu(xe @ w1[e]) * (xe @ w3[e])) @ w2[e]
        out.index_add_(0, tok, he * w[tok, slot, None])
    return out


def oracle(x, wr, w1, w3, w2, k):
    """float64 NumPy: python/kestrel/reference/routing.py (route + moe)."""
    x64 = x.astype(np.float64)
    logits = x64 @ wr.astype(np.float64)
    idx, w = ref_routing.route(logits, score="softmax", k=k, renormalize=True)
    return ref_routing.moe(x64, idx, w, w1.astype(np.float64),
                           w3.astype(np.float64), w2.astype(np.float64))


def times_ms(fn, repeat, warm_up=True):
    if warm_up:
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
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--N", type=int, default=256)
    ap.add_argument("--E", type=int, default=8)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--d", type=int, default=1024)
    ap.add_argument("--ff", type=int, default=2816)
    ap.add_argument("--slow-repeat", type=int, default=3,
                    help="timed calls of our (slow) reference lowering")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip our (slow) reference lowering")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    # Two OpenMP runtimes share this process (LLVM's libomp in our library,
    # GNU libgomp in PyTorch): both sleep instead of spin-waiting.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    import torch
    torch.set_num_threads(args.threads)

    N, E, k, d, ff = args.N, args.E, args.k, args.d, args.ff
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (N, d)).astype(np.float32)
    wr = rng.normal(0, 1 / np.sqrt(d), (d, E)).astype(np.float32)
    w1 = rng.normal(0, 1 / np.sqrt(d), (E, d, ff)).astype(np.float32)
    w3 = rng.normal(0, 1 / np.sqrt(d), (E, d, ff)).astype(np.float32)
    w2 = rng.normal(0, 1 / np.sqrt(ff), (E, ff, d)).astype(np.float32)
    expected = oracle(x, wr, w1, w3, w2, k)
    scale = float(np.abs(expected).max())

    results = {}  # name -> (times, max abs diff)
    with tempfile.TemporaryDirectory() as tmp:
        text = mlir_text(N, E, k, d, ff)
        contenders = [("kestrel", [])]
        if not args.no_reference:
            contenders.append(("kestrel reference", ["--reference-lowering"]))
        for case, (name, flags) in enumerate(contenders):
            lib_path = Path(tmp) / f"moe{case}.so"
            kestrelc(text, lib_path, "--target=cpu", *flags)
            lib = CpuLibrary(lib_path)
            start = time.perf_counter()
            out = lib.moe(x, wr, w1, w3, w2)[0]
            first = [1e3 * (time.perf_counter() - start)]
            err = float(np.abs(out - expected).max())
            if flags:
                # The reference lowering computes every expert on every
                # token with scalar loops (about a minute per call here):
                # the checked first call counts as a timed run, and there is
                # no separate warm-up.
                results[name] = (first + times_ms(
                    lambda: lib.moe(x, wr, w1, w3, w2), args.slow_repeat - 1,
                    warm_up=False), err)
            else:
                # The default pipeline (kestrel-moe-dispatch): the checked
                # first call is the warm-up, then --repeat timed calls.
                results[name] = (times_ms(lambda: lib.moe(x, wr, w1, w3, w2),
                                          args.repeat, warm_up=False), err)
            print(f"{name}: {results[name]}", flush=True)

        for name, sparse in (("onnxruntime dense", False),
                             ("onnxruntime sparse", True)):
            sess = onnx_session(N, E, k, d, ff, args.threads, sparse)
            feed = {"x": x, "wr": wr}
            if sparse:
                for e in range(E):
                    feed.update({f"w1_{e}": w1[e], f"w3_{e}": w3[e],
                                 f"w2_{e}": w2[e]})
            else:
                feed.update({"w1": w1, "w3": w3, "w2": w2})
            out = sess.run(None, feed)[0]
            results[name] = (times_ms(lambda: sess.run(None, feed), args.repeat),
                             float(np.abs(out - expected).max()))
            print(f"{name}: {results[name]}", flush=True)

        tx, twr, tw1, tw3, tw2 = map(torch.from_numpy, (x, wr, w1, w3, w2))
        with torch.inference_mode():
            out = torch_moe(torch, tx, twr, tw1, tw3, tw2, k).numpy()
            results["PyTorch"] = (
                times_ms(lambda: torch_moe(torch, tx, twr, tw1, tw3, tw2, k),
                         args.repeat),
                float(np.abs(out - expected).max()))
        print(f"PyTorch: {results['PyTorch']}", flush=True)

    bad = [n for n, (_, err) in results.items() if err > TOL * scale]
    ours = median(results["kestrel"][0])
    print()
    print(f"MoE layer N={N} E={E} k={k} d={d} ff={ff}, f32, {args.threads} "
          f"threads, {args.repeat} timed runs of kestrel and the peers, "
          f"{args.slow_repeat} of kestrel reference (median); max |oracle| "
          f"{scale:.3g}, tolerance {TOL:g} x that")
    print()
    print("| contender | median ms | all runs ms | contender / kestrel "
          "| max abs diff vs float64 oracle |")
    print("| --- | ---: | --- | ---: | ---: |")
    for name, (ts, err) in results.items():
        runs = ", ".join(f"{v:.1f}" for v in ts)
        print(f"| {name} | {median(ts):.1f} | {runs} | {median(ts) / ours:.3g}x "
              f"| {err:.1e} |")
    if bad:
        print(f"\nOUTPUTS DISAGREE (beyond tolerance): {', '.join(bad)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
