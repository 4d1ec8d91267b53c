//===- Contraction.h - CPU contraction matching and emission ----*- C++ -*-===//
//
// Shared by kestrel-cpu-choose-contraction and kestrel-cpu-contraction: what
// a static contraction looks like once its operands' layouts are known, and
// the emitter of its packed, register-tiled loop nest.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CPU_CONTRACTION_H
#define KESTREL_PASSES_CPU_CONTRACTION_H

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace kestrel {

/// Name of the discardable attribute holding the decisions.
inline constexpr llvm::StringLiteral kContractionConfig =
    "kestrel.contraction_config";

/// An operand read through `map` (iteration dims -> its dims; results are
/// dims or constants). A transposing copy in front of the operand is looked
/// through: `value` is the copy's source and `map` the composition.
struct ContractionOperand {
  mlir::Value value;
  mlir::AffineMap map;
  /// Position of `dim` among the operand's dims, or -1.
  int64_t posOf(unsigned dim) const;
};

/// C[outer.., m, n] (+)= Σ_k A · B with every size static.
struct ContractionMatch {
  mlir::linalg::LinalgOp op;
  ContractionOperand a, b;
  mlir::Value init;      // the contraction's output operand
  mlir::AffineMap cMap;  // iteration dims -> C dims (a permutation)
  bool zeroInit = false; // init is a fill of +0
  unsigned m = 0, n = 0, k = 0;
  llvm::SmallVector<unsigned> outer; // other parallel dims, in C order
  llvm::SmallVector<int64_t> sizes;  // per iteration dim
  int64_t M = 0, N = 0, K = 0;
  mlir::Type aElt, bElt, cElt;
  mlir::DenseElementsAttr bConst; // B's source when it is a constant
  /// The single elementwise consumer fusable into the store, or null.
  mlir::linalg::GenericOp consumer;
  int64_t consumerInput = -1; // which of its inputs is C
};

/// Matches a static contraction at function level (not inside loops).
mlir::FailureOr<ContractionMatch> matchContraction(mlir::linalg::LinalgOp op);

/// Whether `user` (the only user of the contraction's result) can be
/// computed in the store epilogue; fills `consumer`/`consumerInput`.
bool matchEpilogue(ContractionMatch &match, mlir::Operation *user);

/// Emits the loop nest for `match` with `cfg` before the op it replaces (the
/// consumer when fused) and returns the value replacing it.
mlir::Value emitContraction(mlir::RewriterBase &rewriter,
                            const ContractionMatch &match,
                            ContractionConfigAttr cfg);

/// Packs a constant B into panels [o.., NP, K, nr] (zero padded) at compile
/// time.
mlir::DenseElementsAttr packConstantB(const ContractionMatch &match,
                                      int64_t nr);

} // namespace kestrel

#endif // KESTREL_PASSES_CPU_CONTRACTION_H
