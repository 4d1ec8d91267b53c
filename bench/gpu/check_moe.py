"""On the GPU machine: Kestrel's sparse MoE (kestrel-gpu-moe) against an
independent reference and against PyTorch. For every case staged by
bench/gpu/stage_moe.sh (bench/gpu/moe_cases.py):

  inputs    x, expert weights ~ N(0, 1) / sqrt(fan-in); routing = softmax
            top-k of random logits, renormalized (an `empty` case masks
            expert 3 so it gets no token; a `dropped` case sets some indices
            to -1 and E and some weights to 0);
  numerics  the module (kestrel.load_cuda) against docs/ops.md's formula in
            float64 on the GPU from the same (rounded) inputs:
            max |err| / max |ref|;
  timing    (timed cases) median wall time per call of Kestrel, torch eager
            (loop over experts, index_add, as reference implementations do)
            and a dense torch GEMM of the same active FLOPs, all
            synchronised the same way, in the same run.

    python3 bench/gpu/check_moe.py --cases DIR --table OUT.md
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as Fn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import kestrel  # noqa: E402

DT = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}
TOL = {"bf16": 2e-2, "f16": 4e-3, "f32": 1e-4}


def make_inputs(m, gen):
    N, d, F, E, k, fs = (m[key] for key in ("N", "d", "F", "E", "k", "Fs"))
    dt = DT[m["dtype"]]
    r = lambda *s: torch.randn(*s, generator=gen, device="cuda")  # noqa: E731
    x = r(N, d)
    logits = r(N, E)
    if m["edge"] == "empty":
        logits[:, 3] = float("-inf")
    top, idx = torch.softmax(logits, -1).topk(k, -1)
    w = top / top.sum(-1, keepdim=True)
    if m["edge"] == "dropped":
        idx[::7, 0] = -1
        idx[3::11, 1] = E
        w[5::9, 1] = 0
    idx = idx.to(torch.int64 if m["index"] == "i64" else torch.int32)
    ins = [x.to(dt), idx.contiguous(), w.float().contiguous(),
           (r(E, d, F) / d ** 0.5).to(dt), (r(E, d, F) / d ** 0.5).to(dt),
           (r(E, F, d) / F ** 0.5).to(dt)]
    if fs:
        ins += [(r(d, fs) / d ** 0.5).to(dt), (r(d, fs) / d ** 0.5).to(dt),
                (r(fs, d) / fs ** 0.5).to(dt)]
    return ins


def reference(ins, m):
    """docs/ops.md kestrel.moe in float64: P[n, e] from the routing, then
    every expert densely."""
    x, idx, w = ins[0].double(), ins[1].long(), ins[2].double()
    w1, w3, w2 = (t.double() for t in ins[3:6])
    E = m["E"]
    out = torch.zeros_like(x)
    for e in range(E):
        p = ((idx == e).double() * w).sum(-1)
        rows = p.nonzero().flatten()
        if len(rows):
            xe = x[rows]
            h = Fn.silu(xe @ w1[e]) * (xe @ w3[e])
            out[rows] += p[rows, None] * (h @ w2[e])
    if m["Fs"]:
        s1, s3, s2 = (t.double() for t in ins[6:9])
        out += (Fn.silu(x @ s1) * (x @ s3)) @ s2
    return out


def torch_eager(ins, m):
    """A reference implementation's MoE forward: loop over experts,
    gather the routed rows, index_add the weighted outputs."""
    x, idx, w, w1, w3, w2 = ins[:6]
    out = torch.zeros_like(x)
    for e in range(m["E"]):
        tok, slot = torch.where(idx == e)
        xe = x[tok]
        h = Fn.silu(xe @ w1[e]) * (xe @ w3[e])
        out.index_add_(0, tok, (h @ w2[e]) * w[tok, slot, None].to(x.dtype))
    if m["Fs"]:
        s1, s3, s2 = ins[6:9]
        out += (Fn.silu(x @ s1) * (x @ s3)) @ s2
    return out


def check_route(mod, m, gen):
    """kestrel.route (docs/ops.md §3) against float64: indices exactly,
    weights within 1e-5 relative (f32 softmax/sigmoid)."""
    N, E, k = m["N"], m["E"], m["k"]
    logits = torch.randn(N, E, generator=gen, device="cuda").to(DT[m["dtype"]])
    ins = [logits]
    x = logits.double()
    s = torch.softmax(x, -1) if m["score"] == "softmax" else torch.sigmoid(x)
    u = s
    if m["bias"]:
        bias = torch.randn(E, generator=gen, device="cuda") * 0.1
        ins.append(bias)
        u = s + bias.double()
    # Stable descending sort: equal keys to the lower expert.
    order = torch.sort(-u, dim=-1, stable=True).indices[:, :k]
    w = s.gather(-1, order)
    w = w / w.sum(-1, keepdim=True)
    idx, wt = mod.route(*ins)
    torch.cuda.synchronize()
    bad = int((idx.long() != order).sum())
    err = ((wt.double() - w).abs() / w.abs().clamp_min(1e-30)).max().item()
    return bad, err


def wall_ms(fn, warmup=3, repeat=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--commit", default="unknown")
    args = ap.parse_args()
    gen = torch.Generator(device="cuda")
    rows, failed = [], False
    print(torch.cuda.get_device_name(), torch.__version__, flush=True)
    for js in sorted(Path(args.cases).glob("*.json")):
        m = json.loads(js.read_text())
        name = js.stem
        gen.manual_seed(0)
        if m.get("kind") == "route":
            try:
                bad, err = check_route(kestrel.load_cuda(js.with_suffix(".manifest")),
                                       m, gen)
            except Exception as e:  # noqa: BLE001
                print(f"FAIL {name}: {e!s:.300}", flush=True)
                failed = True
                continue
            ok = bad == 0 and err <= 1e-5
            failed |= not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {bad} indices differ, "
                  f"weights rel err {err:.2e} (tol 1e-05)", flush=True)
            continue
        try:
            mod = kestrel.load_cuda(js.with_suffix(".manifest"))
            ins = make_inputs(m, gen)
            (out,) = mod.moe(*ins)
            torch.cuda.synchronize()
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {name}: {e!s:.300}", flush=True)
            failed = True
            continue
        ref = reference(ins, m)
        err = ((out.double() - ref).abs().max() / ref.abs().max()).item()
        ok = err <= TOL[m["dtype"]] and torch.isfinite(out).all().item()
        failed |= not ok
        line = f"{'ok  ' if ok else 'FAIL'} {name}: rel err {err:.2e} (tol {TOL[m['dtype']]:g})"
        row = dict(name=name, m=m, err=err)
        if m["timed"]:
            N, d, F, k, fs = m["N"], m["d"], m["F"], m["k"], m["Fs"]
            flops = 2 * N * k * 3 * d * F + 2 * N * 3 * d * fs
            row["ours"] = wall_ms(lambda: mod.moe(*ins))
            row["eager"] = wall_ms(lambda: torch_eager(ins, m))
            a = torch.randn(N * k, d, device="cuda", dtype=DT[m["dtype"]])
            b = torch.randn(d, 3 * F + 3 * fs // k, device="cuda",
                            dtype=DT[m["dtype"]])
            row["dense"] = wall_ms(lambda: a @ b)
            row["dense_flops"] = 2 * N * k * d * b.shape[1]
            row["flops"] = flops
            line += (f", ours {row['ours']:.3f} ms ({flops / row['ours'] / 1e9:.0f}"
                     f" TFLOP/s), eager {row['eager']:.3f} ms, dense GEMM "
                     f"{row['dense']:.3f} ms ({row['dense_flops'] / row['dense'] / 1e9:.0f}"
                     " TFLOP/s)")
        print(line, flush=True)
        rows.append(row)
        del mod, ins, out, ref
        torch.cuda.empty_cache()
    with open(args.table, "w") as f:
        f.write(f"commit {args.commit}\n\n| case | N d F E k Fs | dtype | err / max ref "
                "| ours ms | ours TFLOP/s | eager ms | dense GEMM TFLOP/s "
                "| ours / dense | eager / ours |\n"
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
        for r in rows:
            m = r["m"]
            shape = " ".join(str(m[x]) for x in ("N", "d", "F", "E", "k", "Fs"))
            if "ours" in r:
                ours_t = r["flops"] / r["ours"] / 1e9
                dense_t = r["dense_flops"] / r["dense"] / 1e9
                f.write(f"| {r['name']} | {shape} | {m['dtype']} | {r['err']:.1e} | "
                        f"{r['ours']:.3f} | {ours_t:.0f} | {r['eager']:.3f} | "
                        f"{dense_t:.0f} | {ours_t / dense_t:.2f} | "
                        f"{r['eager'] / r['ours']:.2f} |\n")
            else:
                f.write(f"| {r['name']} | {shape} | {m['dtype']} | {r['err']:.1e} "
                        "| | | | | | |\n")
    print(open(args.table).read())
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
