"""On the GPU machine: Kestrel's GEMM kernels (kestrel-gpu-gemm) against
torch.matmul. For every case compiled by bench/gpu/stage_gemm.sh:

  numerics  kestrel.load_cuda runs the PTX on torch tensors (normal
            inputs); the result is compared with a float64 product of the
            same (rounded) operands: max |err| / max |ref|;
  timing    kestrel-run's CUDA-event timing (median of --repeat calls) next
            to torch.matmul in the same dtype timed the same way (median of
            CUDA-event timed calls, after warm-up), as TFLOP/s.

    python3 bench/gpu/check_gemm.py --kestrel-run BIN --cases DIR --table OUT.md
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import kestrel  # noqa: E402

DT = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}


def round_tf32(x):
    """f32 -> the nearest tf32 value (10 mantissa bits), ties away from
    zero: what cvt.rna.tf32.f32 gives, as an f32 tensor."""
    bits = x.float().contiguous().view(torch.int32)
    return ((bits + 0x1000) & ~0x1FFF).view(torch.float32)


def as_operand(x, precision):
    """`x` as the kernel multiplies it under `precision` (None: as stored)."""
    if precision == "tf32":
        return round_tf32(x)
    return x.to(DT[precision]) if precision else x


def inputs(meta, gen):
    M, N, K, b = meta["M"], meta["N"], meta["K"], meta["batch"]
    lead = [b] if b else []
    ta = meta.get("transpose_a", False)
    a = torch.randn(lead + ([K, M] if ta else [M, K]), generator=gen,
                    device="cuda")
    w = torch.randn(lead + ([N, K] if meta["transpose_b"] else [K, N]),
                    generator=gen, device="cuda")
    return a.to(DT[meta["dtype"]]), w.to(DT[meta["dtype"]])


def product(a, w, meta):
    a = a.transpose(-1, -2) if meta.get("transpose_a") else a
    return a @ (w.transpose(-1, -2) if meta["transpose_b"] else w)


def time_ms(fn, warmup=5, repeat=50):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        s, e = torch.cuda.Event(True), torch.cuda.Event(True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def run_case(js, args, gen):
    """One case: numerics, then (timed cases) ours beside torch. Returns
    its row: name, meta, err, ok, ours ms, torch ms, flops."""
    meta = json.loads(js.read_text())
    name = js.stem
    manifest = js.with_suffix(".manifest")
    gen.manual_seed(0)
    a, w = inputs(meta, gen)
    mod = kestrel.load_cuda(manifest)
    (out,) = mod.gemm(a, w)
    torch.cuda.synchronize()
    # Reference: the operands the kernel multiplies (rounded to the
    # precision asked for), in float64.
    prec = meta["precision"]
    ref = product(as_operand(a, prec).double(), as_operand(w, prec).double(),
                  meta)
    err = ((out.double() - ref).abs().max() / ref.abs().max()).item()
    if prec == "tf32":
        # What the rounding costs against exact f32 operands (reported,
        # not checked: tf32 keeps 10 of f32's 23 mantissa bits).
        exact = product(a.double(), w.double(), meta)
        print(f"{name}: tf32 vs exact f32 operands: rel err "
              f"{((out.double() - exact).abs().max() / exact.abs().max()).item():.2e}")
    # Output rounding (bf16: 2^-9 relative) plus f32 accumulation; tf32
    # mmas add in the tensor cores' own f32 adder, which does not round to
    # nearest (measured 1e-5 - 2e-5 at K = 4096 - 8192, 3x below the cost
    # of the tf32 rounding itself).
    tol = {"bf16": 8e-3, "f16": 1e-3, "f32": 1e-5}[meta["out_dtype"]]
    if prec == "tf32":
        tol = 5e-5
    ok = err <= tol
    flops = 2 * (meta["batch"] or 1) * meta["M"] * meta["N"] * meta["K"]
    ours = torch_ms = None
    if meta["timed"]:
        log = subprocess.run([args.kestrel_run, str(manifest),
                              f"--repeat={args.repeat}", "--warmup=5"],
                             capture_output=True, text=True)
        m = re.search(r"median ([0-9.]+) ms", log.stdout)
        if not m:
            print(log.stdout, log.stderr)
            ok = False
        else:
            ours = float(m.group(1))
        # The peer in the same precision: bf16/f16 tensors, or f32 ones
        # with cuBLAS allowed tf32 tensor cores.
        ta, tw = ((a, w) if prec in (None, "tf32") else
                  (a.to(DT[prec]), w.to(DT[prec])))
        torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
        torch_ms = time_ms(lambda: product(ta, tw, meta), repeat=args.repeat)
        if prec == "tf32":
            exact = product(a.double(), w.double(), meta)
            peer = product(ta, tw, meta).double()
            print(f"{name}: cuBLAS tf32 vs exact f32 operands: rel err "
                  f"{((peer - exact).abs().max() / exact.abs().max()).item():.2e}")
        torch.backends.cuda.matmul.allow_tf32 = False
    print(f"{name}: rel err {err:.2e} ({'ok' if ok else 'FAILED'} at {tol:g})"
          + (f", ours {ours:.4f} ms, torch {torch_ms:.4f} ms" if ours else ""),
          flush=True)
    return dict(name=name, meta=meta, err=err, ok=ok, ours=ours,
                torch=torch_ms, flops=flops)


def isolated(cases, args):
    """run_case over `cases` in child processes, so that a kernel that
    faults (and poisons its CUDA context) costs only its own row: a child
    runs the cases in order, logging each start and row; when it dies, the
    case it started is marked failed and a new child takes the rest."""
    rows, remaining = {}, [js.stem for js in cases]
    log = Path("/tmp/gemm_rows.jsonl")
    while remaining:
        log.unlink(missing_ok=True)
        cmd = [sys.executable, __file__, "--kestrel-run", args.kestrel_run,
               "--cases", args.cases, "--table", "/dev/null",
               "--repeat", str(args.repeat), "--only", ",".join(remaining),
               "--row-json", str(log)]
        try:
            proc = subprocess.run(cmd, stdout=sys.stdout, stderr=subprocess.PIPE,
                                  text=True, timeout=args.case_timeout * len(remaining))
            tail = proc.stderr[-3000:]
        except subprocess.TimeoutExpired:
            tail = "timed out"
        started = None
        for line in log.read_text().splitlines() if log.exists() else []:
            entry = json.loads(line)
            if "started" in entry:
                started = entry["started"]
            else:
                rows[entry["name"]] = entry
                remaining.remove(entry["name"])
                started = None
        if started is None and remaining:
            started = remaining[0]
        if started is not None:
            print(f"{started}: CRASHED\n{tail}", flush=True)
            meta = json.loads((Path(args.cases) / f"{started}.json").read_text())
            rows[started] = dict(name=started, meta=meta, err=None, ok=False,
                                 ours=None, torch=None, flops=0)
            remaining.remove(started)
    return [rows[js.stem] for js in cases]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--isolate", action="store_true",
                    help="each case in its own process (keeps going past "
                         "a faulting kernel)")
    ap.add_argument("--case-timeout", type=int, default=60,
                    help="seconds per case a child may take")
    ap.add_argument("--only", help="run these cases (comma-separated), "
                                   "logging to --row-json")
    ap.add_argument("--row-json", help="append each case's start and row")
    args = ap.parse_args()
    # f32 peers are plain f32 (cuBLAS SGEMM), not tf32 tensor cores, except
    # for the tf32 cases (run_case).
    torch.backends.cuda.matmul.allow_tf32 = False
    gen = torch.Generator(device="cuda")
    cases = sorted(Path(args.cases).glob("*.json"))
    if args.only:
        with open(args.row_json, "a") as log:
            for name in args.only.split(","):
                log.write(json.dumps({"started": name}) + "\n")
                log.flush()
                row = run_case(Path(args.cases) / f"{name}.json", args, gen)
                log.write(json.dumps(row) + "\n")
                log.flush()
        sys.exit(0)
    print(torch.cuda.get_device_name(), torch.__version__, flush=True)
    rows = (isolated(cases, args) if args.isolate
            else [run_case(js, args, gen) for js in cases])
    with open(args.table, "w") as f:
        f.write("| case | M x N x K | err / max ref | ours ms | ours TFLOP/s "
                "| torch ms | torch TFLOP/s | ours / torch |\n"
                "| --- | --- | --- | --- | --- | --- | --- | --- |\n")
        for r in rows:
            meta = r["meta"]
            shape = f"{meta['M']}x{meta['N']}x{meta['K']}"
            if meta["batch"]:
                shape = f"{meta['batch']}x" + shape
            err = "failed" if r["err"] is None else f"{r['err']:.1e}"
            if not r["ok"]:
                err += " FAILED"
            if r["ours"]:
                ours, tms, flops = r["ours"], r["torch"], r["flops"]
                f.write(f"| {r['name']} | {shape} | {err} | {ours:.4f} | "
                        f"{flops / ours / 1e9:.0f} | {tms:.4f} | "
                        f"{flops / tms / 1e9:.0f} | {tms / ours:.2f} |\n")
            else:
                f.write(f"| {r['name']} | {shape} | {err} | | | | | |\n")
    print(open(args.table).read())
    sys.exit(0 if all(r["ok"] for r in rows) else 1)


if __name__ == "__main__":
    main()
