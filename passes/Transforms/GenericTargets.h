//===- GenericTargets.h - Which linalg ops the generic codegens own -------===//
//
// kestrel-fuse-elementwise and kestrel-vectorize-generics handle the linalg
// ops a model has besides its contractions and kestrel kernels: elementwise
// chains, transposes, broadcasts and row reductions. They leave alone the
// contractions (the GEMM codegen's), anything nested in a loop or carrying
// a kestrel.* attribute (tile ops of the fused kernels).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_TRANSFORMS_GENERICTARGETS_H
#define KESTREL_PASSES_TRANSFORMS_GENERICTARGETS_H

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

namespace kestrel {

inline bool isGenericCodegenTarget(mlir::Operation *op) {
  auto linalgOp = llvm::dyn_cast_or_null<mlir::linalg::LinalgOp>(op);
  if (!linalgOp ||
      !llvm::isa_and_nonnull<mlir::func::FuncOp>(op->getParentOp()))
    return false;
  if (llvm::any_of(op->getAttrs(), [](mlir::NamedAttribute a) {
        return a.getName().strref().starts_with("kestrel.");
      }))
    return false;
  // Float results only: integer selection logic (routing masks, top-k
  // indices) keeps its sequential reference loops.
  if (!llvm::all_of(op->getResultTypes(), [](mlir::Type t) {
        auto shaped = llvm::dyn_cast<mlir::ShapedType>(t);
        return shaped && llvm::isa<mlir::FloatType>(shaped.getElementType());
      }))
    return false;
  // No i1 tensors: vectors of i1 are bit-packed, tensors of i1 bytes, so a
  // vector load of a boolean mask would read the wrong memory.
  if (llvm::any_of(op->getOperandTypes(), [](mlir::Type t) {
        auto shaped = llvm::dyn_cast<mlir::ShapedType>(t);
        return shaped && shaped.getElementTypeBitWidth() < 8;
      }))
    return false;
  // Reductions only with one recognized combiner per output (sum, max,
  // ...); argmax-like bodies that read several outputs stay scalar.
  if (linalgOp.getNumReductionLoops() > 0)
    for (mlir::OpOperand &init : linalgOp.getDpsInitsMutable()) {
      llvm::SmallVector<mlir::Operation *, 4> combiner;
      if (!mlir::matchReduction(
              linalgOp.getRegionOutputArgs(),
              init.getOperandNumber() - linalgOp.getNumDpsInputs(), combiner) ||
          combiner.size() != 1)
        return false;
    }
  return !mlir::linalg::isaContractionOpInterface(linalgOp) &&
         !llvm::isa<mlir::linalg::MatmulOp, mlir::linalg::BatchMatmulOp>(op);
}

} // namespace kestrel

#endif // KESTREL_PASSES_TRANSFORMS_GENERICTARGETS_H
