//===- GenericTargets.h - Which linalg ops the generic CPU codegen owns ---===//
//
// kestrel-fuse-elementwise and kestrel-vectorize-generics handle the linalg
// ops a model has besides its contractions and kestrel kernels: elementwise
// chains, transposes, broadcasts and row reductions. They leave alone the
// contractions (the GEMM codegen's), anything nested in a loop or carrying
// a kestrel.* attribute (tile ops of the fused kernels).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CPU_GENERICTARGETS_H
#define KESTREL_PASSES_CPU_GENERICTARGETS_H

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
  return !mlir::linalg::isaContractionOpInterface(linalgOp) &&
         !llvm::isa<mlir::linalg::MatmulOp, mlir::linalg::BatchMatmulOp>(op);
}

} // namespace kestrel

#endif // KESTREL_PASSES_CPU_GENERICTARGETS_H
