"""Device check and benchmark of kestrel-gpu-recurrence (bench/gpu/bench_recurrence.sh).

For every staged case (cases/<name>/case.{ptx,manifest,json}, compiled by
bench/gpu/stage_recurrence.sh): draws inputs with NumPy, runs the PTX through
kestrel-run (CUDA events, median of --repeat), and

* numerics cases: compares every output against the NumPy oracles of
  python/kestrel/reference (recurrence.recurrent, scan.selective_scan,
  scan.causal_conv1d; float64 on the same rounded inputs). Tolerance on the
  relative L2 error and on max |err| / max |ref|: f32 1e-4, f16 4e-3, bf16
  2e-2 (outputs and bf16 states are rounded once to 8 mantissa bits), of
  the output's type or, if looser, of the q/k/v operands' type: an f32
  state updated by tensor-core products of bf16 operands carries bf16
  rounding (k scaled by its decay is rounded to bf16 before the mma, as
  in fla's chunk kernels).
* bench cases: prints our time beside fla's chunked kernel on the same
  shape (triton.testing.do_bench median, bf16, [B, T, H, D] layout).
* decode cases: GB/s of state read + write (+ the step's q, k, v, gate)
  beside a device-to-device copy of the same number of bytes, timed in the
  same run.

A numerics case whose case.json names a "twin" (a case staged before it,
in sorted order) runs on the twin's inputs and must also agree with the
twin's outputs within the same tolerance (e.g. the recurrent kernel forced
on an op that otherwise takes the chunked one).

Prints PASS/FAIL per numerics case and writes a markdown table (--table).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

TOL = {"f32": 1e-4, "f16": 4e-3, "bf16": 2e-2}


def to_storage(a, dtype):
    """Rounds a float64 array to the storage type: (array to save, float64
    of the rounded values)."""
    a32 = np.asarray(a, np.float32)
    if dtype == "f32":
        return a32, a32.astype(np.float64)
    if dtype == "f16":
        h = a32.astype(np.float16)
        return h, h.astype(np.float64)
    bits = a32.view(np.uint32).astype(np.uint64)
    bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    back = (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return bits, back


def from_storage(a, dtype):
    if dtype == "bf16":
        return (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return a.astype(np.float64)


def draw_recurrence(meta, rng):
    B, H, Hkv, T, Dk, Dv = (meta[k] for k in ("B", "H", "Hkv", "T", "Dk", "Dv"))
    gate, dt = meta["gate"], meta["dtype"]
    sdt = meta.get("state_dtype", dt)
    k = rng.standard_normal((B, Hkv, T, Dk))
    if gate in ("delta", "gated_delta"):  # unit keys keep the delta rule stable
        k /= np.linalg.norm(k, axis=-1, keepdims=True)
    else:
        k /= np.sqrt(Dk)
    arrays = [("q", rng.standard_normal((B, H, T, Dk)) / np.sqrt(Dk), dt),
              ("k", k, dt), ("v", rng.standard_normal((B, Hkv, T, Dv)), dt)]
    if gate in ("scalar", "gated_delta"):
        arrays.append(("g", np.log(rng.uniform(0.85, 0.999, (B, H, T))), sdt))
    if gate == "vector":
        arrays.append(("g", np.log(rng.uniform(0.85, 0.999, (B, H, T, Dk))), sdt))
    if gate in ("delta", "gated_delta"):
        arrays.append(("beta", rng.uniform(0.1, 0.9, (B, H, T)), sdt))
    if meta.get("init"):
        arrays.append(("s0", 0.5 * rng.standard_normal((B, H, Dk, Dv)), sdt))
    return arrays


def draw_mamba(meta, rng):
    B, C, T, N, K = (meta[k] for k in ("B", "C", "T", "N", "K"))
    dt = meta["dtype"]
    return [("x", rng.standard_normal((B, C, T)), dt),
            ("w", rng.standard_normal((C, K)) / 2, dt),
            ("cb", rng.standard_normal(C) / 4, dt),
            ("dt", rng.standard_normal((B, C, T)) - 1.0, dt),
            ("a", -np.exp(rng.standard_normal((C, N)) / 2), "f32"),
            ("bm", rng.standard_normal((B, N, T)), dt),
            ("cm", rng.standard_normal((B, N, T)), dt),
            ("d", rng.standard_normal(C), "f32"),
            ("z", rng.standard_normal((B, C, T)), dt),
            ("db", rng.standard_normal(C) / 4, "f32"),
            ("h0", rng.standard_normal((B, C, N)) / 2, "f32")]


def draw_conv(meta, rng):
    B, C, T, K = (meta[k] for k in ("B", "C", "T", "K"))
    dt = meta["dtype"]
    return [("x", rng.standard_normal((B, C, T)), dt),
            ("w", rng.standard_normal((C, K)) / 2, dt),
            ("s0", rng.standard_normal((B, C, K - 1)), dt)]


def oracle(meta, vals):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    from kestrel.reference import recurrence, scan  # noqa: E402
    op = meta["op"]
    if op == "rec":
        gate = meta["gate"]
        return recurrence.recurrent(
            vals["q"], vals["k"], vals["v"], gate, vals.get("g"),
            vals.get("beta"), vals.get("s0"), meta.get("scale", 1.0))
    if op == "conv":
        return scan.causal_conv1d(vals["x"], vals["w"], None, vals["s0"], "none")
    xc, cs = scan.causal_conv1d(vals["x"], vals["w"], vals["cb"], None, "silu")
    # The conv's output is rounded to storage before the scan reads it.
    xc = to_storage(xc, meta["dtype"])[1]
    y, h = scan.selective_scan(xc, vals["dt"], vals["a"], vals["bm"], vals["cm"],
                               vals["d"], vals["z"], vals["db"], True, vals["h0"])
    return y, cs, h


def run_kestrel(args, case, work):
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("*.npy"):
        f.unlink()
    cmd = [args.kestrel_run, str(case / "case.manifest"), f"--inputs={work}",
           f"--outputs={out}", f"--warmup={args.warmup}", f"--repeat={args.repeat}"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    print(f"$ {' '.join(cmd)}\n{res.stdout}{res.stderr}", end="")
    if res.returncode != 0:
        return None, None
    m = re.search(r"median ([0-9.]+) ms", res.stdout)
    return (float(m.group(1)) if m else None), out


def errors(got, ref):
    ref = np.asarray(ref, np.float64)
    err = got - ref
    rel_l2 = np.linalg.norm(err) / max(np.linalg.norm(ref), 1e-30)
    rel_max = np.abs(err).max() / max(np.abs(ref).max(), 1e-30)
    return float(rel_l2), float(rel_max)


_DRAWN, _OUTS = {}, {}


def check_case(args, name, case, meta, rng):
    work = Path(args.work) / name
    work.mkdir(parents=True, exist_ok=True)
    draw = {"rec": draw_recurrence, "mamba": draw_mamba, "conv": draw_conv}[meta["op"]]
    twin = meta.get("twin")
    if twin and twin not in _DRAWN:
        return False, None, f"twin {twin} did not run before"
    arrays = _DRAWN[twin] if twin else draw(meta, rng)
    _DRAWN[name] = arrays
    vals = {}
    for i, (key, a, dt) in enumerate(arrays):
        stored, back = to_storage(a, dt)
        np.save(work / f"in{i}.npy", stored)
        vals[key] = back
    ms, out = run_kestrel(args, case, work)
    if out is None:
        return False, ms, "kestrel-run failed"
    refs = oracle(meta, vals)
    notes, ok = [], True
    for i, (ref, dt) in enumerate(zip(refs, meta["out_dtypes"])):
        f = out / f"out{i}.npy"
        if not f.exists():
            return False, ms, f"no {f.name}"
        got = from_storage(np.load(f), dt)
        _OUTS.setdefault(name, []).append(got)
        l2, mx = errors(got, ref)
        tol = max(TOL[dt], TOL.get(meta.get("dtype"), 0.0))
        good = np.isfinite(got).all() and l2 <= tol and mx <= 4 * tol
        ok &= bool(good)
        notes.append(f"out{i} ({dt}) rel L2 {l2:.2e}, max {mx:.2e}")
        if twin:
            if len(_OUTS.get(twin, [])) <= i:
                return False, ms, f"no out{i} of twin {twin}"
            tl2, tmx = errors(got, _OUTS[twin][i])
            ok &= bool(tl2 <= tol and tmx <= 4 * tol)
            notes.append(f"vs {twin} rel L2 {tl2:.2e}, max {tmx:.2e}")
    return ok, ms, "; ".join(notes)


_FLA_MS = {}


def fla_time(meta):
    """fla's time on the case's shape, measured once per (gate, shape)."""
    key = tuple(meta[k] for k in ("gate", "B", "H", "T", "Dk"))
    if key not in _FLA_MS:
        _FLA_MS[key] = _fla_time(meta)
    return _FLA_MS[key]


def _fla_time(meta):
    import torch
    from triton.testing import do_bench
    B, H, T, D = (meta[k] for k in ("B", "H", "T", "Dk"))
    dev = "cuda"
    q = torch.randn(B, T, H, D, device=dev, dtype=torch.bfloat16) / D ** 0.5
    k = torch.nn.functional.normalize(
        torch.randn(B, T, H, D, device=dev, dtype=torch.float32), dim=-1).bfloat16()
    v = torch.randn(B, T, H, D, device=dev, dtype=torch.bfloat16)
    gate = meta["gate"]
    if gate == "scalar":
        from fla.ops.simple_gla import chunk_simple_gla
        g = torch.log(torch.rand(B, T, H, device=dev) * 0.1 + 0.89)
        fn = lambda: chunk_simple_gla(q, k, v, g=g)  # noqa: E731
    elif gate == "vector":
        from fla.ops.gla import chunk_gla
        g = torch.log(torch.rand(B, T, H, D, device=dev) * 0.1 + 0.89)
        fn = lambda: chunk_gla(q, k, v, g=g)  # noqa: E731
    else:
        from fla.ops.gated_delta_rule import chunk_gated_delta_rule
        g = torch.log(torch.rand(B, T, H, device=dev) * 0.1 + 0.89)
        beta = torch.rand(B, T, H, device=dev).bfloat16()
        fn = lambda: chunk_gated_delta_rule(q, k, v, g=g, beta=beta)  # noqa: E731
    fn()
    torch.cuda.synchronize()
    return do_bench(fn, warmup=25, rep=100, return_mode="median")


def copy_gbps(nbytes):
    import torch
    from triton.testing import do_bench
    src = torch.empty(nbytes // 2, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = do_bench(lambda: dst.copy_(src), warmup=25, rep=100, return_mode="median")
    return 2 * src.numel() / ms / 1e6  # bytes read + written per second, GB/s


def bench_case(args, name, case, meta, rng):
    work = Path(args.work) / name
    work.mkdir(parents=True, exist_ok=True)
    for f in work.glob("in*.npy"):
        f.unlink()
    arrays = draw_recurrence(meta, rng)
    for i, (key, a, dt) in enumerate(arrays):
        np.save(work / f"in{i}.npy", to_storage(a, dt)[0])
    ms, out = run_kestrel(args, case, work)
    row = {"case": name, "ours_ms": ms}
    if meta.get("decode"):
        B, H, T, Dk, Dv, Hkv = (meta[k] for k in ("B", "H", "T", "Dk", "Dv", "Hkv"))
        sb = {"f32": 4, "bf16": 2, "f16": 2}[meta.get("state_dtype", meta["dtype"])]
        eb = {"f32": 4, "bf16": 2, "f16": 2}[meta["dtype"]]
        nbytes = 2 * B * H * Dk * Dv * sb + B * T * (H * Dk + Hkv * (Dk + Dv) + H * Dv + 2 * H) * eb
        row["bytes"] = nbytes
        row["ours_gbps"] = nbytes / ms / 1e6 if ms else None
        row["copy_gbps"] = copy_gbps(nbytes)
    else:
        try:
            row["fla_ms"] = fla_time(meta)
        except Exception as e:  # noqa: BLE001
            print(f"fla failed on {name}: {e!r}")
            row["fla_ms"] = None
    print(json.dumps(row))
    return row


def check_onnx_block(args, folder):
    """The committed exported Mamba block (test/onnx/models/mamba_block.onnx,
    compiled by stage_recurrence.sh) end to end vs onnxruntime (CPU, f32).
    Tolerance: max |err| <= 1e-4 (1 + max |ref|)."""
    import onnxruntime as ort
    folder = Path(folder)
    work = Path(args.work) / "onnx_mamba"
    work.mkdir(parents=True, exist_ok=True)
    sess = ort.InferenceSession(str(folder / "model.onnx"),
                                providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    x = np.random.default_rng(7).uniform(-1, 1, inp.shape).astype(np.float32)
    np.save(work / "in0.npy", x)
    cmd = [args.kestrel_run, str(folder / "model.manifest"), f"--inputs={work}",
           f"--outputs={work}/out", f"--warmup={args.warmup}", f"--repeat={args.repeat}"]
    (work / "out").mkdir(exist_ok=True)
    res = subprocess.run(cmd, capture_output=True, text=True)
    print(f"$ {' '.join(cmd)}\n{res.stdout}{res.stderr}", end="")
    if res.returncode != 0:
        return False, "kestrel-run failed"
    got = np.load(work / "out" / "out0.npy").astype(np.float64)
    ref = sess.run(None, {inp.name: x})[0].astype(np.float64)
    err = float(np.abs(got - ref).max())
    ok = bool(np.isfinite(got).all() and err <= 1e-4 * (1 + np.abs(ref).max()))
    m = re.search(r"median ([0-9.]+) ms", res.stdout)
    return ok, f"max abs err {err:.2e} (max |ref| {np.abs(ref).max():.2f}), " \
               f"median {m.group(1) if m else '-'} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--work", default="/tmp/kestrel-rec")
    ap.add_argument("--table", default=None)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--onnx-block", default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    results, rows, failed = [], [], 0
    for case in sorted(Path(args.cases).iterdir()):
        meta = json.loads((case / "case.json").read_text())
        if meta.get("bench"):
            rows.append(bench_case(args, case.name, case, meta, rng))
            continue
        ok, ms, note = check_case(args, case.name, case, meta, rng)
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {case.name}: {note}")
        results.append((case.name, "PASS" if ok else "FAIL", ms, note))
    if args.onnx_block:
        try:
            ok, note = check_onnx_block(args, args.onnx_block)
        except Exception as e:  # noqa: BLE001
            ok, note = False, repr(e)
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} onnx mamba_block: {note}")
        results.append(("onnx mamba_block vs onnxruntime", "PASS" if ok else "FAIL",
                        None, note))
    lines = ["## Numerics (vs python/kestrel/reference, float64)", "",
             "| case | result | ms | errors |", "|---|---|---|---|"]
    lines += [f"| {n} | {r} | {ms if ms is not None else '-'} | {note} |"
              for n, r, ms, note in results]
    lines += ["", "## Prefill vs fla 0.6 (bf16, median ms)", "",
              "| case | ours ms | fla ms | fla / ours |", "|---|---|---|---|"]
    for r in rows:
        if "fla_ms" in r:
            ratio = (r["fla_ms"] / r["ours_ms"]) if r["ours_ms"] and r["fla_ms"] else None
            lines.append(f"| {r['case']} | {r['ours_ms']} | {r['fla_ms']} | "
                         f"{'%.3f' % ratio if ratio else '-'} |")
    lines += ["", "## Decode step: state read + write bandwidth", "",
              "| case | ours ms | MB moved | ours GB/s | copy GB/s | ours / copy |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        if "copy_gbps" in r:
            frac = r["ours_gbps"] / r["copy_gbps"] if r["ours_gbps"] else None
            lines.append(f"| {r['case']} | {r['ours_ms']} | {r['bytes'] / 1e6:.1f} | "
                         f"{r['ours_gbps'] and round(r['ours_gbps'])} | {round(r['copy_gbps'])} | "
                         f"{'%.2f' % frac if frac else '-'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.table:
        Path(args.table).write_text(text)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
