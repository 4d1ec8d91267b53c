//===- GemmFusion.h - Epilogue fusions of kestrel-gpu-gemm ------*- C++ -*-===//
//
// The launches kestrel-gpu-gemm saves by fusing around its GEMMs
// (docs/pipelines.md, "GEMM epilogue fusions"). Each decision is recorded on
// the launch as `kestrel.gemm_fusion`:
//
//   "outputs"  sibling contractions -- same A operand, constant B of the
//              same K and layout, zero init (Q/K/V) -- run as one GEMM over
//              B concatenated along N at compile time; the epilogue stores
//              each column range into its own buffer, in the [B, H, T, Dh]
//              layout of a head transpose that is the result's only user
//              (the transpose is removed), else in C's layout;
//              `kestrel.gemm_outputs` lists "rows" / "heads" per output;
//   "gated"    two siblings of equal N (gate/up) whose results feed only an
//              elementwise chain with one result (silu(g) * u): B's columns
//              interleaved in groups of G (8 on tensor cores, half a warp
//              tile on the FFMA kernel) so that every lane holds gate and
//              up of the same columns; the epilogue evaluates the chain and
//              stores its half-width result;
//   "residual" a contraction whose zero-initialized result is only added
//              to another tensor R: R becomes the contraction's init (the
//              epilogue adds it before rounding, as the separate add did).
//
// Under precision=bf16|f16 the operand conversions fold into producers: a
// "gated" result read only by GEMMs of that type is stored rounded, and an
// elementwise producer (a transpose, through a reshape) of a GEMM operand
// rounds its own result (convertInProducer), so no conversion kernel runs.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_GEMMFUSION_H
#define KESTREL_PASSES_CUDA_GEMMFUSION_H

#include "passes/CUDA/GemmPlan.h"
#include "passes/CUDA/GemmWgmmaKernel.h"

#include <utility>
#include <vector>

namespace kestrel {

/// The discardable attribute naming a launch's fusion (file comment).
constexpr llvm::StringLiteral kGemmFusionAttr = "kestrel.gemm_fusion";

using GemmWork = std::vector<std::pair<mlir::linalg::LinalgOp, GemmProblem>>;

/// The pass's kernel and plan for a (merged) problem with the given
/// fragment type (chooseGemmKernel under its options).
using GemmKernelChooser =
    llvm::function_ref<GemmKernelChoice(const GemmProblem &, mlir::Type)>;

/// Rewrites the sibling groups among `work` into fused launches and drops
/// their members from `work`. `operandType` is the pass's fragment type of
/// a problem, `chooseKernel` its kernel choice: on sm_90a the merged GEMM
/// runs on the wgmma kernel like any other (kestrel.gemm_mma = "wgmma"),
/// its epilogue hook unchanged.
void fuseSiblingGemms(
    GemmWork &work,
    llvm::function_ref<mlir::Type(const GemmProblem &)> operandType,
    GemmKernelChooser chooseKernel);

/// Folds a residual add following `op` into its init (updating `p`), and
/// marks `op` with kGemmFusionAttr = "residual"; false when it does not
/// apply.
bool foldResidualAdd(mlir::linalg::LinalgOp op, GemmProblem &p);

/// `value` (f32) as a tensor of `type` without a conversion kernel, or
/// null: the source of a widening (an elementwise extf from `type`), or the
/// elementwise generic producing `value` (through reshapes, used once)
/// rebuilt to round its result to `type` ("convert" of the fusions).
mlir::Value convertInProducer(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value value, mlir::Type type);

} // namespace kestrel

#endif // KESTREL_PASSES_CUDA_GEMMFUSION_H
