//===- GemmWgmmaKernel.h - The sm_90a wgmma GEMM kernel ---------*- C++ -*-===//
//
// The Hopper kernel of kestrel-gpu-gemm (GemmWgmmaKernel.cpp): which
// contractions it takes, its tile plan, its shared memory, and the IR
// building of its body. The pass (GemmKernel.cpp) chooses between it and
// the mma.sync kernel and records the choice on the launch as
// `kestrel.gemm_mma = "wgmma"` (docs/pipelines.md, "GEMM kernels").
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_GEMMWGMMAKERNEL_H
#define KESTREL_PASSES_CUDA_GEMMWGMMAKERNEL_H

#include "passes/CUDA/GemmPlan.h"

namespace kestrel {

struct GemmHooks;

/// K extent of one shared tile of the wgmma kernel: 64 16-bit elements, one
/// 128-byte swizzle row.
constexpr int64_t kWgmmaTileK = 64;

/// The launch attribute naming the instruction a GEMM kernel runs on.
constexpr const char *kGemmMmaAttr = "kestrel.gemm_mma";

/// The wgmma plan for `p` (bf16/f16 operands), or a null attribute when the
/// wgmma kernel does not take it (M <= 64: the decode shapes stay on
/// mma.sync). `override` (empty or the 6 numbers of the pass's tile option)
/// replaces the choice; a null attribute also when it is no wgmma plan, the
/// reason then in `why`.
GemmPlanAttr chooseWgmmaPlan(const GemmProblem &p, mlir::Type operandType,
                             llvm::ArrayRef<int64_t> override,
                             std::string &why);

/// Whether a pass's `chip` / `mma` options ask for the wgmma kernel where it
/// takes a GEMM: mma=wgmma, or mma=auto on sm_90a.
inline bool wantsWgmma(llvm::StringRef chip, llvm::StringRef mma) {
  return mma == "wgmma" || (mma == "auto" && chip == "sm_90a");
}

/// The kernel a bf16/f16 GEMM runs on, as decided by chooseGemmKernel.
struct GemmKernelChoice {
  GemmPlanAttr plan;  // null when `error` is set
  bool wgmma = false; // `plan` is a wgmma plan (kestrel.gemm_mma = "wgmma")
  std::string error;  // an override that mma=wgmma cannot take
};

/// The wgmma plan for `p` when `chip` / `mma` want it and the wgmma kernel
/// takes it (chooseWgmmaPlan), else `syncPlan()` (the mma.sync or FFMA
/// plan). Under mma=wgmma an `override` that is no wgmma plan is an error.
/// kestrel-gpu-gemm (plain and fused GEMMs) and kestrel-gpu-moe (grouped
/// GEMMs) decide alike.
GemmKernelChoice chooseGemmKernel(const GemmProblem &p, mlir::Type operandType,
                                  llvm::ArrayRef<int64_t> override,
                                  llvm::StringRef chip, llvm::StringRef mma,
                                  llvm::function_ref<GemmPlanAttr()> syncPlan);

/// Bytes of dynamic shared memory the kernel of `plan` asks for.
int64_t gemmSharedBytes(GemmPlanAttr plan, bool wgmma);

/// wgmma groups a warpgroup leaves in flight at the end of a K tile (1 or
/// 0); the copies run `stages - 1 - this` tiles ahead.
int64_t wgmmaGroupsInFlight(GemmPlanAttr plan);

/// Bytes of dynamic shared memory the wgmma kernel of `plan` asks for (its
/// stage ring plus 1024 bytes to align it to the 128-byte swizzle pattern).
int64_t wgmmaSharedBytes(GemmPlanAttr plan);

/// Emits the body of `launch` computing `p` with a wgmma plan; `hooks` as
/// buildTensorCoreGemm.
void buildWgmmaGemm(mlir::OpBuilder &b, mlir::Location loc,
                    const GemmProblem &p, GemmPlanAttr plan,
                    mlir::gpu::LaunchOp launch, mlir::Value a, mlir::Value bm,
                    mlir::Value c, mlir::Value init, mlir::Value shared,
                    const GemmHooks *hooks = nullptr);

} // namespace kestrel

#endif // KESTREL_PASSES_CUDA_GEMMWGMMAKERNEL_H
