//===- Conversion/KestrelToLinalg/Passes.td ----------------*- tablegen -*-===//
//
// Reference lowerings: every kestrel op to its naive, obviously correct form
// in linalg/tensor/arith (the oracle the optimized paths are tested
// against).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CONVERSION_KESTRELTOLINALG_PASSES_TD
#define KESTREL_PASSES_CONVERSION_KESTRELTOLINALG_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToLinalg : Pass<"kestrel-lower-to-linalg"> {
  let summary = "Lower kestrel ops to their naive reference form in linalg";
  let description = [{
    Rewrites every kestrel op into `linalg.generic`/`tensor` ops that compute
    the op's formula literally (docs/ops.md), accumulating in f32. Attention
    materializes the full `[B, H, T, S]` score tensor: this lowering is the
    obviously-correct oracle that optimized lowerings are tested against, not a
    fast path. Recurrences and the Mamba1 selective scan become an `scf.for`
    over time carrying the state (the recurrent form), one step per
    iteration; the causal conv1d is one reduction over its kernel taps. KV
    cache ops read their caches through the `#kestrel.kv_layout` index math
    (through the block table when paged); `kv_append` is an `scf.for` over
    the new tokens.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

#endif // KESTREL_PASSES_CONVERSION_KESTRELTOLINALG_PASSES_TD
