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


def inputs(meta, gen):
    M, N, K, b = meta["M"], meta["N"], meta["K"], meta["batch"]
    lead = [b] if b else []
    a = torch.randn(lead + [M, K], generator=gen, device="cuda")
    w = torch.randn(lead + ([N, K] if meta["transpose_b"] else [K, N]),
                    generator=gen, device="cuda")
    return a.to(DT[meta["dtype"]]), w.to(DT[meta["dtype"]])


def product(a, w, meta):
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel-run", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    # f32 peers are plain f32 (cuBLAS SGEMM), not tf32 tensor cores.
    torch.backends.cuda.matmul.allow_tf32 = False
    gen = torch.Generator(device="cuda")
    rows, failed = [], False
    print(torch.cuda.get_device_name(), torch.__version__, flush=True)
    for js in sorted(Path(args.cases).glob("*.json")):
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
        op_dt = DT[meta["precision"]] if meta["precision"] else DT[meta["dtype"]]
        ref = product(a.to(op_dt).double(), w.to(op_dt).double(), meta)
        err = ((out.double() - ref).abs().max() / ref.abs().max()).item()
        # Output rounding (bf16: 2^-9 relative) plus f32 accumulation.
        tol = {"bf16": 8e-3, "f16": 1e-3, "f32": 1e-5}[meta["out_dtype"]]
        ok = err <= tol
        failed |= not ok
        flops = 2 * (meta["batch"] or 1) * meta["M"] * meta["N"] * meta["K"]
        ours = torch_ms = None
        if meta["timed"]:
            log = subprocess.run([args.kestrel_run, str(manifest),
                                  f"--repeat={args.repeat}", "--warmup=5"],
                                 capture_output=True, text=True)
            m = re.search(r"median ([0-9.]+) ms", log.stdout)
            if not m:
                print(log.stdout, log.stderr)
                failed = True
            else:
                ours = float(m.group(1))
            ta, tw = a.to(op_dt), w.to(op_dt)
            torch_ms = time_ms(lambda: product(ta, tw, meta), repeat=args.repeat)
        rows.append((name, meta, err, ok, ours, torch_ms, flops))
        print(f"{name}: rel err {err:.2e} ({'ok' if ok else 'FAILED'} at {tol:g})"
              + (f", ours {ours:.4f} ms, torch {torch_ms:.4f} ms" if ours else ""),
              flush=True)
    with open(args.table, "w") as f:
        f.write("| case | M x N x K | err / max ref | ours ms | ours TFLOP/s "
                "| torch ms | torch TFLOP/s | ours / torch |\n"
                "| --- | --- | --- | --- | --- | --- | --- | --- |\n")
        for name, meta, err, ok, ours, tms, flops in rows:
            shape = f"{meta['M']}x{meta['N']}x{meta['K']}"
            if meta["batch"]:
                shape = f"{meta['batch']}x" + shape
            if ours:
                f.write(f"| {name} | {shape} | {err:.1e} | {ours:.4f} | "
                        f"{flops / ours / 1e9:.0f} | {tms:.4f} | "
                        f"{flops / tms / 1e9:.0f} | {tms / ours:.2f} |\n")
            else:
                f.write(f"| {name} | {shape} | {err:.1e} | | | | | |\n")
    print(open(args.table).read())
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
