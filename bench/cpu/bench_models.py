"""Whole-model CPU benchmark: PyTorch-exported blocks run by Kestrel,
onnxruntime, IREE and PyTorch in the same run on this machine.

    python3 bench/cpu/bench_models.py [--threads 2] [--repeat 5]
        [--only llama,qwen3] [--no-iree] [--no-torch] [--iree-timeout S]
        [--out FILE.md]

Models: the generators in bench/cpu/models/ (Llama GQA, Qwen3 q/k-norm,
Mixtral top-2 MoE, Mamba, Mamba2 (chunked SSD), Jamba-style Mamba +
attention hybrid, Qwen3-Next's Gated DeltaNet layer (transformers' own
class; needs transformers); random
weights, seed 0, exported with torch.onnx.export into bench/cpu/models/out/)
and the committed test/onnx/models/*.onnx. Contenders, all with `--threads`
threads:

- kestrel: `kestrelc --target=cpu` (default pipeline), OMP_NUM_THREADS;
- onnxruntime: CPUExecutionProvider, intra_op_num_threads (inter 1);
- IREE: iree-import-onnx, iree-compile --iree-hal-target-backends=llvm-cpu
  --iree-llvmcpu-target-cpu=host, local-task driver with
  --task_topology_max_group_count=threads;
- PyTorch: the exporting module, torch.set_num_threads(threads).

Each contender runs on each model in a fresh process (the thread pools of
onnxruntime, OpenBLAS, libomp and libgomp spin after a call and would steal
the cores from whoever runs next in the same process). Every output is
checked against onnxruntime's (max |out - ort| <= 1e-3 *
max |ort|: f32 sums in different orders, approximate exp).
Prints median ms and ORT/Kestrel, IREE/Kestrel, Torch/Kestrel (> 1: Kestrel
faster) and writes a Markdown table. Needs torch and the iree-base-* pip
packages (not needed by the test suite).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODELS = Path(__file__).resolve().parent / "models"
TOL = 1e-3


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--only", default="")
    p.add_argument("--no-iree", action="store_true")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--iree-timeout", type=float, default=300,
                   help="seconds iree-compile may take per model (IREE 3.13 "
                        "takes over 20 minutes on the unrolled Mamba scan)")
    p.add_argument("--out", default="",
                   help="results table (default: a new bench/results/<today>-cpu-models[-N].md; "
                        "committed results are never overwritten by default)")
    # Internal: run one contender on one model in this process (see main).
    p.add_argument("--worker", choices=["ort", "kestrel", "iree", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    return p.parse_args()


def fresh_results_path() -> str:
    stem = REPO / "bench/results" / f"{time.strftime('%Y-%m-%d')}-cpu-models"
    path, n = stem.with_suffix(".md"), 1
    while path.exists():
        n += 1
        path = stem.with_name(f"{stem.name}-{n}.md")
    return str(path)


ARGS = parse_args()
if not ARGS.out and not ARGS.worker:
    ARGS.out = fresh_results_path()
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)  # before any OpenMP loads

import numpy as np  # noqa: E402

sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(MODELS))
from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

GENERATED = ["llama", "qwen3", "mixtral", "mamba", "mamba2", "jamba", "qwen3next"]
COMMITTED = {"llama_block": ("export_llama_block", "Block"),
             "mamba_block": ("export_mamba_block", "MambaBlock"),
             "moe_block": ("export_moe_block", "MoeBlock")}


def ms(value: float) -> str:
    """Milliseconds with three significant digits (0.0412, 1.23, 12.3)."""
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def selected(name):
    if ARGS.worker:
        return name == ARGS.model
    return not ARGS.only or any(s in name for s in ARGS.only.split(","))


def models():
    """(name, onnx path, torch module or None, input)."""
    import torch
    from common import export
    out = MODELS / "out"
    for gen in GENERATED:
        mod = importlib.import_module(gen)
        for name, cfg in mod.CONFIGS.items():
            if not selected(name):
                continue
            module, x = mod.build(**cfg)
            path = out / f"{name}.onnx"
            if not path.exists():
                # A generator may export its own way (mamba2: dynamo).
                getattr(mod, "export", export)(module, x, path)
            yield name, path, module.eval(), x.numpy()
    sys.path.insert(0, str(REPO / "test/onnx"))
    for name, (gen, cls) in COMMITTED.items():
        if not selected(name):
            continue
        mod = importlib.import_module(gen)
        torch.manual_seed(0)
        module = getattr(mod, cls)().eval()
        import onnx
        inp = onnx.load(str(REPO / "test/onnx/models" / f"{name}.onnx")).graph.input[0]
        shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        yield name, REPO / "test/onnx/models" / f"{name}.onnx", module, x


COMPILE_S: dict[str, float] = {}  # kestrelc wall time per model


def run_ort(path, x):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = ARGS.threads, 1
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    feed = {s.get_inputs()[0].name: x}
    return s.run(None, feed)[0], median_ms(lambda: s.run(None, feed), ARGS.repeat)


def run_kestrel(path, x, work):
    so = work / (path.stem + ".so")
    start = time.perf_counter()
    kestrelc(path, so, "--target=cpu")
    COMPILE_S[path.stem] = time.perf_counter() - start
    lib = CpuLibrary(so)
    name = next(iter(lib.manifest.functions))
    return lib.call(name, x)[0], median_ms(lambda: lib.call(name, x), ARGS.repeat)


_iree_flags_set = False


def run_iree(path, x, work):
    import iree.runtime as rt
    global _iree_flags_set
    mlir, vmfb = work / (path.stem + ".iree.mlir"), work / (path.stem + ".vmfb")
    subprocess.run(["iree-import-onnx", str(path), "-o", str(mlir)], check=True,
                   capture_output=True)
    # A model IREE cannot compile in --iree-timeout seconds gets no IREE
    # figure (reported), rather than stalling the whole run.
    # `iree-compile` is a Python launcher of the real binary: on a timeout the
    # whole process group goes, or the compiler would keep a core busy
    # through the rest of the run.
    proc = subprocess.Popen(["iree-compile", str(mlir), "--iree-hal-target-backends=llvm-cpu",
                             "--iree-llvmcpu-target-cpu=host", "-o", str(vmfb)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=ARGS.iree_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise RuntimeError(f"iree-compile took over {ARGS.iree_timeout:.0f} s")
    if proc.returncode != 0:
        raise RuntimeError(f"iree-compile failed: {err.decode()[-200:]}")
    if not _iree_flags_set:
        rt.flags.parse_flags(f"--task_topology_max_group_count={ARGS.threads}")
        _iree_flags_set = True
    config = rt.Config("local-task")
    ctx = rt.SystemContext(config=config)
    ctx.add_vm_module(rt.VmModule.mmap(config.vm_instance, str(vmfb)))
    fn = ctx.modules.module["main_graph"]

    def call():
        return np.asarray(fn(x).to_host())
    return call(), median_ms(call, ARGS.repeat)


def run_torch(module, x):
    import torch
    torch.set_num_threads(ARGS.threads)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        out = module(xt).numpy()
        return out, median_ms(lambda: module(xt), ARGS.repeat)


def check(name, who, out, ref):
    err = float(np.max(np.abs(out - ref)))
    bound = TOL * float(np.max(np.abs(ref)))
    if not err <= bound:
        print(f"  {name}: {who} differs from onnxruntime: max err {err:.3g} > {bound:.3g}")
    return err <= bound


def worker():
    """One contender on one model, alone in this process: prints its median
    ms (and kestrelc's compile time) as JSON and saves its output."""
    import json
    name, path, module, x = next(models())
    work = Path(ARGS.work)
    if ARGS.worker == "ort":
        out, ms = run_ort(path, x)
    elif ARGS.worker == "kestrel":
        out, ms = run_kestrel(path, x, work)
    elif ARGS.worker == "iree":
        out, ms = run_iree(path, x, work)
    else:
        out, ms = run_torch(module, x)
    np.save(work / f"{name}.{ARGS.worker}.npy", out)
    print(json.dumps({"ms": ms, "compile_s": COMPILE_S.get(path.stem)}))


def run_worker(who, name, work):
    """Runs `who` on `name` in a fresh process, so no contender's thread pool
    (onnxruntime's and OpenBLAS's spinning workers, libomp's, libgomp's)
    competes with the next one for the cores. Returns (output, ms, compile s)
    or raises with the worker's error."""
    import json
    cmd = [sys.executable, __file__, "--threads", str(ARGS.threads), "--repeat",
           str(ARGS.repeat), "--iree-timeout", str(ARGS.iree_timeout),
           "--worker", who, "--model", name, "--work", str(work)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError((r.stderr.strip().splitlines() or ["?"])[-1])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return np.load(work / f"{name}.{who}.npy"), res["ms"], res["compile_s"]


def main():
    import tempfile
    work = Path(tempfile.mkdtemp(prefix="kestrel-bench-models-"))
    rows, compile_s = [], {}
    hdr = f"{'model':24} {'kestrel':>9} {'ort':>9} {'iree':>9} {'torch':>9}  {'ort/k':>6} {'iree/k':>6} {'torch/k':>7}"
    print(hdr)
    others = [w for w, off in (("iree", ARGS.no_iree), ("torch", ARGS.no_torch)) if not off]
    for name, path, module, x in models():
        del module  # the torch worker rebuilds it (same seed)
        res = {}
        ref, res["ort"], _ = run_worker("ort", name, work)
        ok = True
        out, res["kestrel"], compile_s[name] = run_worker("kestrel", name, work)
        ok &= check(name, "kestrel", out, ref)
        for who in others:
            try:
                out, res[who], _ = run_worker(who, name, work)
                ok &= check(name, who, out, ref)
            except Exception as e:  # noqa: BLE001 - report and go on
                print(f"  {name}: {who} failed: {str(e)[:200]}")
        k = res["kestrel"]
        fmt = lambda key: f"{ms(res[key]):>9}" if key in res else f"{'-':>9}"  # noqa: E731
        ratio = lambda key: f"{res[key] / k:6.2f}" if key in res else f"{'-':>6}"  # noqa: E731
        print(f"{name:24} {fmt('kestrel')} {fmt('ort')} {fmt('iree')} {fmt('torch')}  "
              f"{ratio('ort')} {ratio('iree')} {ratio('torch'):>7}{'' if ok else '  MISMATCH'}",
              flush=True)
        rows.append((name, x.shape, res, ok))
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    lines = [f"# CPU whole-model benchmark ({ARGS.threads} threads)", "",
             f"`python3 bench/cpu/bench_models.py --threads {ARGS.threads} --repeat {ARGS.repeat}`"
             f" at commit {commit}; median ms per forward pass (f32, batch as exported);"
             " ratios > 1: Kestrel faster. Outputs checked against onnxruntime"
             f" (max err <= {TOL} x max |out|).", "",
             "| model | input | Kestrel | onnxruntime | IREE | PyTorch | ORT/K | IREE/K | Torch/K | check"
             " | kestrelc s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, shape, res, ok in rows:
        k = res["kestrel"]
        cell = lambda key: ms(res[key]) if key in res else "-"  # noqa: E731
        rat = lambda key: f"{res[key] / k:.2f}" if key in res else "-"  # noqa: E731
        lines.append(f"| {name} | {'x'.join(map(str, shape))} | {cell('kestrel')} | {cell('ort')} | "
                     f"{cell('iree')} | {cell('torch')} | {rat('ort')} | {rat('iree')} | "
                     f"{rat('torch')} | {'ok' if ok else 'MISMATCH'} | {compile_s[name]:.1f} |")
    Path(ARGS.out).parent.mkdir(parents=True, exist_ok=True)
    Path(ARGS.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {ARGS.out}")


if __name__ == "__main__":
    worker() if ARGS.worker else main()
