//===- DenoiseLowering.h ----------------------------------------*- C++ -*-===//
//
// The reference lowering (Denoise.cpp) and the fused one-pass
// lowering (FusedDenoise.cpp, applied by kestrel-fuse-io-aware) compute the
// per-position statistics differently and share the selection stage.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_DENOISELOWERING_H
#define KESTREL_PASSES_DENOISELOWERING_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
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

/// The noisy score of temperature sampling (docs/ops.md §4, "Sampling"):
/// logit / T + Gumbel noise, in f64, for `counter` = σ + (b·L + p)·V + v
/// (i64, wrapping like the uint64 of the definition) hashed by splitmix64.
/// `logit` is f32. Shared by the reference lowering and the CUDA kernel so
/// both draw the same tokens.
inline mlir::Value gumbelScore(mlir::OpBuilder &b, mlir::Location l,
                               mlir::Value logit, mlir::Value counter,
                               double temperature) {
  namespace arith = mlir::arith;
  auto c64 = [&](uint64_t x) -> mlir::Value {
    return arith::ConstantOp::create(
        b, l, b.getI64IntegerAttr(static_cast<int64_t>(x)));
  };
  auto f64 = [&](double x) -> mlir::Value {
    return arith::ConstantOp::create(b, l, b.getF64FloatAttr(x));
  };
  auto mix = [&](mlir::Value z, uint64_t shift, uint64_t factor) {
    mlir::Value shifted = arith::ShRUIOp::create(b, l, z, c64(shift));
    return arith::MulIOp::create(b, l, arith::XOrIOp::create(b, l, z, shifted),
                                 c64(factor));
  };
  mlir::Value z =
      arith::AddIOp::create(b, l, counter, c64(0x9E3779B97F4A7C15ull));
  z = mix(z, 30, 0xBF58476D1CE4E5B9ull);
  z = mix(z, 27, 0x94D049BB133111EBull);
  z = arith::XOrIOp::create(b, l, z, arith::ShRUIOp::create(b, l, z, c64(31)));
  mlir::Value bits53 = arith::UIToFPOp::create(
      b, l, b.getF64Type(), arith::ShRUIOp::create(b, l, z, c64(11)));
  mlir::Value u = arith::MulFOp::create(
      b, l, arith::AddFOp::create(b, l, bits53, f64(0.5)), f64(0x1.0p-53));
  mlir::Value gumbel = arith::NegFOp::create(
      b, l,
      mlir::math::LogOp::create(
          b, l,
          arith::NegFOp::create(b, l, mlir::math::LogOp::create(b, l, u))));
  return arith::AddFOp::create(
      b, l,
      arith::DivFOp::create(b, l,
                            arith::ExtFOp::create(b, l, b.getF64Type(), logit),
                            f64(temperature)),
      gumbel);
}

/// The fused one-pass lowering of greedy denoise_step ops
/// (FusedDenoise.cpp); kestrel-fuse-io-aware applies it.
void populateFusedDenoisePatterns(mlir::RewritePatternSet &patterns);

} // namespace kestrel

#endif // KESTREL_PASSES_DENOISELOWERING_H
