//===- DenoiseLowering.h ----------------------------------------*- C++ -*-===//
//
// The reference lowering (Denoise.cpp) and the fused one-pass
// lowering (FusedDenoise.cpp, applied by kestrel-fuse-io-aware) compute the
// per-position statistics differently and share the selection stage.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_DENOISELOWERING_H
#define KESTREL_PASSES_DENOISELOWERING_H

#include "mlir/IR/PatternMatch.h"

namespace kestrel {

class DenoiseStepOp;

/// Replaces `op` by its selection stage (docs/ops.md §4) given, per
/// position [B, L]: `argmax` (i64, the prediction x̂), `sumExp` (f32,
/// Σ_v e^(l − m)), and when sampling `picked` (f32, l[x̂]) with `rowMax`
/// (f32, m); `picked` is null for greedy predictions (c = 1 / sumExp).
void replaceDenoiseStepWithSelection(mlir::PatternRewriter &rewriter,
                                     DenoiseStepOp op, mlir::Value argmax,
                                     mlir::Value sumExp, mlir::Value picked,
                                     mlir::Value rowMax);

/// The fused one-pass lowering of greedy denoise_step ops
/// (FusedDenoise.cpp); kestrel-fuse-io-aware applies it.
void populateFusedDenoisePatterns(mlir::RewritePatternSet &patterns);

} // namespace kestrel

#endif // KESTREL_PASSES_DENOISELOWERING_H
