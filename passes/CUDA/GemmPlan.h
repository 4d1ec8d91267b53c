//===- GemmPlan.h - Contraction analysis and GEMM tile plans ----*- C++ -*-===//
//
// The half of kestrel-gpu-gemm that decides, independent of the instructions
// a kernel is written with: which linalg contractions it covers (as a
// GemmProblem: batch/M/N/K extents and each operand's element strides), and
// how a kernel tiles one (a #kestrel.gemm_plan). GemmKernel.cpp emits the
// mma.sync kernel of a bf16/f16 plan, GemmSimtKernel.cpp the FFMA kernel of
// an f32 plan; an sm_90a wgmma/TMA emitter can take the same
// problem and plan (docs/pipelines.md, "GEMM kernels").
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_GEMMPLAN_H
#define KESTREL_PASSES_CUDA_GEMMPLAN_H

#include "dialects/Kestrel.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>
#include <string>

namespace kestrel {

/// One static contraction C[b, m, n] (+)= sum_k A[b, m, k] * B[b, k, n],
/// where b, m and n each stand for a (possibly empty) list of loop dims,
/// flattened row-major in loop order, and k is one loop dim.
struct GemmProblem {
  mlir::linalg::LinalgOp op;
  llvm::SmallVector<unsigned> batchDims, mDims, nDims;
  unsigned kDim = 0;
  llvm::SmallVector<int64_t> loopExtents;
  int64_t batch = 1, M = 1, N = 1, K = 1;
  /// Element stride of each operand along each loop dim (0: not indexed).
  llvm::SmallVector<int64_t> strideA, strideB, strideC;
  mlir::Type aType, bType, cType; // element types as stored
  /// The contiguous dim of A is k (else the last m dim), of B is k (else the
  /// last n dim).
  bool aKMajor = true, bKMajor = false;
  /// Elements per cp.async copy of A and B (2, 4 or 8 16-bit elements).
  int64_t vecA = 8, vecB = 8;
  /// C's last n dim is contiguous with an even extent: pairs are stored.
  bool cPairs = false;
  /// The accumulator's initial value: a splat constant (from linalg.fill),
  /// or else the init tensor itself, read element by element.
  std::optional<double> initConstant;
};

/// The contraction `op` as a GemmProblem (copy widths counted in elements
/// of at most 16 bits; kernels with wider operands cap them), or failure with the reason in `why`.
mlir::FailureOr<GemmProblem> analyzeContraction(mlir::linalg::LinalgOp op,
                                                std::string &why);

/// The loop dims of `dims` flattened: extent product.
int64_t flatExtent(const GemmProblem &p, llvm::ArrayRef<unsigned> dims);

/// The tile plan for `p` with `operandType` fragments. `override` (empty or
/// tile_m, tile_n, tile_k, warps_m, warps_n, stages) replaces the choice.
GemmPlanAttr choosePlan(const GemmProblem &p, mlir::Type operandType,
                        llvm::ArrayRef<int64_t> override);

/// Bytes of dynamic shared memory the plan's stage ring takes.
int64_t planSharedBytes(GemmPlanAttr plan);

/// Row padding of the f32 SIMT kernel's [k][m] / [k][n] tiles, in floats:
/// the transposing 4-byte copies of one warp then hit distinct banks.
constexpr int64_t kSimtPad = 4;

struct GemmHooks;

/// Emits the body of `launch` computing `p` with an f32 plan (FFMA on CUDA
/// cores; GemmSimtKernel.cpp). `hooks` (GemmEmit.h): a grouped GEMM.
void buildSimtGemm(mlir::OpBuilder &b, mlir::Location loc, const GemmProblem &p,
                   GemmPlanAttr plan, mlir::gpu::LaunchOp launch, mlir::Value a,
                   mlir::Value bm, mlir::Value c, mlir::Value init,
                   mlir::Value shared, const GemmHooks *hooks = nullptr);

/// Emits the body of `launch` computing `p` with a bf16/f16/tf32 plan
/// (mma.sync on tensor cores; GemmKernel.cpp). `hooks`: a grouped GEMM.
void buildTensorCoreGemm(mlir::OpBuilder &b, mlir::Location loc,
                         const GemmProblem &p, GemmPlanAttr plan,
                         mlir::gpu::LaunchOp launch, mlir::Value a,
                         mlir::Value bm, mlir::Value c, mlir::Value init,
                         mlir::Value shared, const GemmHooks *hooks = nullptr);

/// Emits the body of `launch` (whose block has `plan.warps()` warps and the
/// plan's shared memory) computing `p` with the kernel of `plan`: the FFMA
/// kernel for f32 plans, the wgmma kernel when `wgmma`, else mma.sync.
void buildGemmBody(mlir::OpBuilder &b, mlir::Location loc, const GemmProblem &p,
                   GemmPlanAttr plan, mlir::gpu::LaunchOp launch, mlir::Value a,
                   mlir::Value bm, mlir::Value c, mlir::Value init,
                   mlir::Value shared, const GemmHooks *hooks, bool wgmma);

/// A gpu.launch computing `p` with `plan` from the buffers `a`, `bm` (and
/// `init`, C's initial value, unless the problem's is a constant) into
/// `out`, recording the plan; `hooks` as for buildSimtGemm. `wgmma` picks
/// the sm_90a kernel (GemmWgmmaKernel.h) for a plan chosen by
/// chooseWgmmaPlan; otherwise f32 plans take the FFMA kernel and 16-bit ones
/// mma.sync.
mlir::gpu::LaunchOp buildGemmLaunch(mlir::OpBuilder &b, mlir::Location loc,
                                    const GemmProblem &p, GemmPlanAttr plan,
                                    mlir::Value a, mlir::Value bm,
                                    mlir::Value out, mlir::Value init,
                                    const GemmHooks *hooks, bool wgmma = false);

/// `value` (a tensor of f32) as a tensor of `type`: constants are converted
/// now (round to nearest even), anything else by an elementwise kernel.
mlir::Value convertOperand(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value value, mlir::Type type);

/// `value` (a tensor of bf16 or f16) as f32 by an elementwise extf, which
/// convertOperand sees through (a later narrowing to the same type reads
/// the source).
mlir::Value widenOperand(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value value);

/// Whether plans of `operandType` run on tensor cores: bf16/f16, and tf32
/// (f32 storage, operands rounded to tf32 in registers, mma.sync m16n8k8).
inline bool isTensorCoreOperand(mlir::Type operandType) {
  return operandType.isBF16() || operandType.isF16() || operandType.isTF32();
}

/// The element type a plan of `operandType` reads its operands as from
/// memory: f32 for tf32 (rounded to tf32 in registers), else the type.
inline mlir::Type operandStorageType(mlir::Type operandType) {
  return operandType.isTF32() ? mlir::Float32Type::get(operandType.getContext())
                              : operandType;
}

/// Bytes of one operand element of a plan of `operandType` in memory.
inline int64_t operandBytes(mlir::Type operandType) {
  return operandType.isBF16() || operandType.isF16() ? 2 : 4;
}

/// Dynamic shared memory one block of an sm_80/sm_90 GPU may take.
constexpr int64_t kMaxSharedBytes = 227 * 1024;

} // namespace kestrel

#endif // KESTREL_PASSES_CUDA_GEMMPLAN_H
