//===- Pipelines.cpp - Per-target pass pipelines --------------------------===//
//
// Each pipeline is written as the textual pipeline a user could pass to
// kestrel-opt, so what runs is exactly what `--dump-pass-pipeline` prints.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Pipeline/Pipelines.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"

#include "llvm/Support/raw_ostream.h"
#include <cstdlib>

using namespace mlir;

namespace kestrel {

/// Appends `pipeline` (textual, nested under the pass manager's op) to `pm`.
/// The texts below are fixed, so a parse failure is a bug in this file.
static void append(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("kestrel: malformed built-in pipeline: " +
                             pipeline);
}

/// Tensors to buffers with identity layouts at function boundaries, and
/// results turned into caller-provided output buffers: the C ABI of a
/// compiled function is `void f(in..., out...)`.
static constexpr const char *kBufferize =
    "one-shot-bufferize{bufferize-function-boundaries "
    "allow-return-allocs-from-loops "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs "
    "modify-public-functions}";

std::string resolveCudaPath(StringRef requested) {
  if (!requested.empty())
    return requested.str();
  for (const char *var : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"})
    if (const char *value = std::getenv(var); value && *value)
      return value;
  return "/usr/local/cuda";
}

std::string libdevicePath(StringRef cudaPath) {
  return (cudaPath + "/nvvm/libdevice/libdevice.10.bc").str();
}

void buildHighLevelPipeline(OpPassManager &pm) {
  // Elementwise arith/math ops written directly on tensors (valid input,
  // but nothing later bufferizes them) become linalg.generic first.
  append(pm, "func.func(convert-elementwise-to-linalg,kestrel-recognize),"
             "canonicalize,cse");
}

void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &opts) {
  buildHighLevelPipeline(pm);
  // Tile for the cache, decide skipped/full/partial tiles statically, and
  // rewrite attention into the online-softmax loop nest over those tiles.
  if (!opts.reference)
    append(pm, "func.func(kestrel-select-kv-layout{target=cpu},"
               "kestrel-tile{cache-kib=" +
                   std::to_string(opts.cacheKiB) +
                   "},kestrel-specialize-sparsity,kestrel-fuse-io-aware,"
                   "kestrel-moe-dispatch,kestrel-cpu-causal-conv,"
                   "kestrel-cpu-selective-scan,"
                   "kestrel-vectorize-contractions)");
  append(pm, "kestrel-lower-to-linalg,canonicalize,cse");
  // Static contractions (matmuls of the importer and reference lowerings)
  // become packed, register-tiled micro-kernels with fused epilogues.
  if (!opts.reference)
    append(pm, "func.func(kestrel-cpu-choose-contraction,"
               "kestrel-cpu-contraction),canonicalize,cse");
  // Elementwise and reduction codegen: chains fused into single generics,
  // then every remaining elementwise or row op row-parallel and vectorized.
  if (!opts.reference)
    append(pm, "func.func(kestrel-fuse-elementwise,canonicalize,"
               "kestrel-vectorize-generics),canonicalize,cse");
  if (!opts.reference)
    append(pm, "kestrel-approximate-math");
  append(pm, "func.func(kestrel-read-only-arguments)");
  append(pm, kBufferize);
  append(pm, "buffer-deallocation-pipeline");
  // Loops with too little work for a fork/join of the thread team run
  // serially.
  if (!opts.reference)
    append(pm, "func.func(kestrel-cpu-serialize-small-loops)");
  // Intermediates become views of one persistent per-function workspace:
  // no mmap, page faults and zeroing of fresh pages on every call. From
  // 64 KiB: malloc's heap gives freed buffers back to the kernel once the
  // free space at its top passes the trim threshold, so even 0.5-1 MiB
  // buffers fault in again on every call (Mamba d512 T128: ~1100 faults
  // per call at min-bytes = 1 MiB + 1, none at 64 KiB).
  if (!opts.reference)
    append(pm, "kestrel-cpu-static-workspace{min-bytes=65536}");
  // scf.forall (batch x heads x query tiles) runs on OpenMP threads;
  // OMP_NUM_THREADS sets their number at run time. convert-scf-to-openmp
  // wraps each iteration in a memref.alloca_scope, whose region must stay a
  // single block until finalize-memref-to-llvm inlines it: memrefs are
  // lowered before the remaining scf loops become branches.
  append(pm, "func.func(kestrel-expand-strided-copies,scf-forall-to-parallel,"
             "convert-linalg-to-loops,"
             "convert-vector-to-scf{full-unroll}),"
             "convert-scf-to-openmp,expand-strided-metadata,lower-affine,"
             "canonicalize");
  // math ops LLVM has intrinsics for become intrinsics; the rest (tanh, ...)
  // become libm calls, which is why shared libraries link -lm. bf16
  // conversions are expanded to integer arithmetic (no libgcc helpers).
  append(pm, "arith-expand{include-bf16},convert-math-to-llvm,"
             "convert-math-to-libm,"
             "convert-vector-to-llvm{vector-contract-lowering=outerproduct "
             "reassociate-fp-reductions},"
             "convert-ub-to-llvm,"
             "finalize-memref-to-llvm,convert-scf-to-cf,"
             "convert-arith-to-llvm,convert-cf-to-llvm,"
             "convert-func-to-llvm{use-bare-ptr-memref-call-conv},"
             "convert-openmp-to-llvm,reconcile-unrealized-casts");
}

void buildCudaPipeline(OpPassManager &pm, const CudaPipelineOptions &opts) {
  // As buildHighLevelPipeline. With the reference lowering an unrolled
  // selective scan stays unrolled: the reference loop over time of
  // kestrel.selective_scan runs on the host, which kestrelc refuses on cuda
  // (see Driver::run), while the unrolled steps are ordinary kernels;
  // kestrel-gpu-recurrence gives the recognized op a kernel otherwise.
  append(pm, std::string("func.func(convert-elementwise-to-linalg,"
                         "kestrel-recognize{selective-scan=") +
                 (opts.reference ? "false" : "true") + "}),canonicalize,cse");
  // Tensor-core kernels for the attention they cover; the rest is lowered
  // to linalg and mapped onto naive kernels below.
  // The KV cache layout is chosen first: the decode kernels read through it.
  if (!opts.reference)
    // kestrel-tile decides only the chunk length of gated recurrences
    // here, which kestrel-gpu-recurrence's chunked kernel reads; the other
    // kernel generators pick their own tiles.
    append(pm, "func.func(kestrel-select-kv-layout{target=cuda},"
               "kestrel-gpu-flash-attention{precision=" +
                   opts.precision.getValue() +
                   "},kestrel-gpu-decode-attention,"
               "kestrel-tile{recurrences-only},kestrel-gpu-recurrence,"
               "kestrel-gpu-denoise,kestrel-gpu-route,"
               "kestrel-gpu-moe{precision=" +
                   opts.precision.getValue() + " chip=" + opts.chip.getValue() +
                   "})");
  append(pm, "kestrel-lower-to-linalg,canonicalize,cse");
  // Contractions in bf16/f16 (and f32 ones under precision=bf16|f16) become
  // tensor-core GEMM kernels.
  if (!opts.reference)
    append(pm,
           "func.func(kestrel-gpu-gemm{precision=" + opts.precision.getValue() +
               " chip=" + opts.chip.getValue() + "}),canonicalize");
  // Slices and concats the importer wrote and recognition left: as kernels
  // (host code holds no views).
  append(pm, "func.func(kestrel-generalize-data-movement)");
  // Elementwise chains fused into single generics, then every remaining
  // elementwise op or row reduction (with its elementwise consumers) as a
  // row kernel: wide blocks, warp-shuffle reductions.
  if (!opts.reference)
    append(pm, "func.func(kestrel-fuse-elementwise,canonicalize,"
               "kestrel-gpu-row-kernels),canonicalize,cse");
  append(pm, "func.func(kestrel-read-only-arguments)");
  append(pm, kBufferize);
  // Run-time-index scatters (the importer's marked scf.for nests over the
  // updates, storing into the bufferized output) as kernels: one thread per
  // update, after the copy of the data into the output.
  append(pm, "func.func(kestrel-gpu-scatter)");
  std::string tiles =
      llvm::join(llvm::map_range(opts.tileSizes,
                                 [](int64_t t) { return std::to_string(t); }),
                 ",");
  append(
      pm,
      "func.func(kestrel-expand-strided-copies,"
      "convert-linalg-to-parallel-loops,"
      "scf-parallel-loop-tiling{no-min-max-bounds parallel-loop-tile-sizes=" +
          tiles +
          "},kestrel-map-loops-to-gpu,"
          "convert-parallel-loops-to-gpu),canonicalize");
  // Constants and index arithmetic defined outside a launch (canonicalize
  // hoists them there) are sunk back in; outlining would otherwise turn each
  // into a kernel parameter, hiding constant strides from ptxas.
  append(pm, "func.func(gpu-launch-sink-index-computations),"
             "gpu-kernel-outlining,kestrel-merge-gpu-modules,"
             "kestrel-align-workgroup-memory,canonicalize,cse");
  append(pm, "nvvm-attach-target{chip=" + opts.chip.getValue() +
                 " features=" + opts.features.getValue() + "}");
  // Math ops become libdevice calls (tanh, erf, powf, ...), linked below.
  // No math-expand-ops: its powf expansion, exp(y * log(x)), gives NaN for a
  // negative base (x^2 in RMSNorm), and it splits fma into mul + add.
  append(pm, "gpu.module(lower-affine,convert-scf-to-cf,"
             "convert-gpu-to-nvvm{index-bitwidth=64 "
             "use-bare-ptr-memref-call-conv},"
             "canonicalize,cse,reconcile-unrealized-casts)");
  append(pm, "gpu-module-to-binary{format=isa toolkit=" +
                 resolveCudaPath(opts.cudaPath) + "}");
}

void registerPipelines() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "kestrel-cpu-pipeline",
      "Lower kestrel IR to the LLVM dialect for the host CPU",
      buildCpuPipeline);
  // As PassPipelineRegistration, plus a check of the chip: NVVM would accept
  // any string and fail much later (or never, for --emit=mlir).
  registerPassPipeline(
      "kestrel-cuda-pipeline",
      "Lower kestrel IR to gpu.launch_func host code and a PTX gpu.binary",
      [](OpPassManager &pm, StringRef optionsStr,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        CudaPipelineOptions options;
        if (failed(options.parseFromString(optionsStr)))
          return failure();
        if (!isSupportedCudaChip(options.chip))
          return errorHandler("kestrel-cuda-pipeline: unknown chip '" +
                              options.chip.getValue() +
                              "' (supported: " + supportedCudaChips() + ")");
        buildCudaPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(CudaPipelineOptions());
      });
}

namespace {
const char *const kCudaChips[] = {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"};
} // namespace

bool isSupportedCudaChip(StringRef chip) {
  return llvm::is_contained(kCudaChips, chip);
}

std::string supportedCudaChips() {
  std::string list;
  for (const char *chip : kCudaChips)
    list += (list.empty() ? "" : ", ") + std::string(chip);
  return list;
}

} // namespace kestrel
