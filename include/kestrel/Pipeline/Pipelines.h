//===- Pipelines.h - Per-target pass pipelines ----------------*- C++ -*-===//
//
// The pass pipelines that take kestrel IR to the LLVM dialect (CPU) or to a
// gpu.binary holding PTX (CUDA). They are registered under the names
// `kestrel-cpu-pipeline` and `kestrel-cuda-pipeline` so that kestrel-opt can
// run them, and `--dump-pass-pipeline` lists every step.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PIPELINE_PIPELINES_H
#define KESTREL_PIPELINE_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace kestrel {

/// The target-independent prefix: recognition and cleanup at the kestrel
/// level. `kestrelc --emit=mlir` stops after it.
void buildHighLevelPipeline(mlir::OpPassManager &pm);

struct CpuPipelineOptions
    : public mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<bool> reference{
      *this, "reference",
      llvm::cl::desc("Lower with the naive reference lowering only (no "
                     "tiling or fusion): the oracle and benchmark baseline"),
      llvm::cl::init(false)};
  Option<int64_t> cacheKiB{
      *this, "cache-kib",
      llvm::cl::desc("Cache budget of one attention tile (kestrel-tile)"),
      llvm::cl::init(256)};
};

/// kestrel + func on tensors -> LLVM dialect with one plain C entry point
/// per public function (inputs, then outputs, as bare pointers).
void buildCpuPipeline(mlir::OpPassManager &pm, const CpuPipelineOptions &opts);

struct CudaPipelineOptions
    : public mlir::PassPipelineOptions<CudaPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("Target GPU (sm_80, sm_90a, ...)"),
                           llvm::cl::init("sm_90a")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX features (PTX ISA version)"),
                               llvm::cl::init("+ptx80")};
  ListOption<int64_t> tileSizes{
      *this, "tile-sizes",
      llvm::cl::desc("Tile sizes of the parallel loops, outermost first; the "
                     "tile becomes the thread block (innermost = threadIdx.x)"),
      llvm::cl::list_init<int64_t>({1, 1, 8, 32})};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("CUDA toolkit whose libdevice is linked into kernels "
                     "(default: $CUDA_HOME, $CUDA_PATH, $CUDA_ROOT, then "
                     "/usr/local/cuda)"),
      llvm::cl::init("")};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("Operand precision of f32 contractions: f32 (FFMA), "
                     "tf32, bf16 or f16 (tensor cores, f32 accumulation; "
                     "kestrel-gpu-gemm)"),
      llvm::cl::init("f32")};
  Option<bool> reference{
      *this, "reference",
      llvm::cl::desc("Naive kernels only: f16/bf16 attention does not use the "
                     "tensor-core kernel of kestrel-gpu-flash-attention"),
      llvm::cl::init(false)};
};

/// The CUDA toolkit the pipeline links libdevice from (see `cuda-path`).
std::string resolveCudaPath(llvm::StringRef requested);

/// Where libdevice lives inside a CUDA toolkit.
std::string libdevicePath(llvm::StringRef cudaPath);

/// kestrel + func on tensors -> host functions of gpu.launch_func steps and
/// one gpu.binary holding the PTX of every kernel.
void buildCudaPipeline(mlir::OpPassManager &pm,
                       const CudaPipelineOptions &opts);

/// Registers kestrel-cpu-pipeline and kestrel-cuda-pipeline.
void registerPipelines();

/// The CUDA chips Kestrel compiles for (kestrelc --target=cuda:CHIP, the
/// chip option of kestrel-cuda-pipeline), and them as "sm_80, ..., sm_90a".
bool isSupportedCudaChip(llvm::StringRef chip);
std::string supportedCudaChips();

} // namespace kestrel

#endif // KESTREL_PIPELINE_PIPELINES_H
