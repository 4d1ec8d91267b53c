//===- AttentionVisibility.h ------------------------------------*- C++ -*-===//
//
// The attention masks (docs/ops.md §1) as scalar IR: the reference
// lowering (Conversion/KestrelToLinalg/Attention.cpp, which defines these)
// and the fused CPU lowering (CPU/FuseIOAware.cpp) evaluate them alike.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_COMMON_ATTENTIONVISIBILITY_H
#define KESTREL_PASSES_COMMON_ATTENTIONVISIBILITY_H

#include "mlir/IR/Builders.h"

namespace kestrel {

class AttentionOp;

/// i1 that is true when key position `s` is visible from query row `t`
/// (indices) under every mask of `op`: with `causal`, s <= t + (S - T) and,
/// with a window w, (s > t + (S - T) - w or s < sinks); `blockAllowed` (the
/// integer block-map entry of (t / bq, s / bk), null without a block map)
/// is non-zero; s < `keyLength` (the i32 key length of the batch row, null
/// without key_lengths). A null Value when nothing can hide a key.
mlir::Value buildAttentionVisibility(mlir::OpBuilder &b, mlir::Location loc,
                                     AttentionOp op, mlir::Value t,
                                     mlir::Value s, mlir::Value blockAllowed,
                                     mlir::Value keyLength);
/// `op`'s block map as an i8 (0/1) constant tensor
/// [ceil(T / bq), ceil(S / bk)]; null when it has none.
mlir::Value buildBlockMapConstant(mlir::OpBuilder &b, mlir::Location loc,
                                  AttentionOp op);

} // namespace kestrel

#endif // KESTREL_PASSES_COMMON_ATTENTIONVISIBILITY_H
