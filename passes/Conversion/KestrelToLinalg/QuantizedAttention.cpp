//===- QuantizedAttention.cpp ---------------------------------------------===//
//
// kestrel.quantized_attention as explicit fake quantization followed by a
// kestrel.attention: K is centred over tokens (smooth_k), per-block scales
// s = max|x| / 127 are reduced, Q and K are rounded to int8 grid points and
// dequantized (q8 · s_q), and the dequantized tensors go through ordinary
// attention. Since S = scale · (q8 · k8) · s_q · s_k = scale · (q8 s_q)·(k8
// s_k), this is the op's formula evaluated in f32.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Conversion/KestrelToLinalg/ReferenceLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

namespace {

struct LowerQuantizedAttention : OpRewritePattern<QuantizedAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizedAttentionOp op,
                                PatternRewriter &rw) const override {
    MLIRContext *ctx = op.getContext();
    Location loc = op.getLoc();
    IREmitter rb(rw, loc);
    auto qType = op.getQuery().getType(), kType = op.getKey().getType(),
         vType = op.getValue().getType();
    const int64_t B = qType.getDimSize(0), H = qType.getDimSize(1),
                  T = qType.getDimSize(2), D = qType.getDimSize(3),
                  Hkv = kType.getDimSize(1), S = kType.getDimSize(2),
                  Dv = vType.getDimSize(3);
    const int64_t bq = op.getBlockQ(), bk = op.getBlockK();
    AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
    AffineExpr b, h, t, d;
    bindDims(ctx, b, h, t, d);

    auto toF32Tensor = [&](Value x, ArrayRef<int64_t> shape) {
      return rb.generic({x}, rb.empty(shape, rb.f32), {id4, id4},
                        {kPar, kPar, kPar, kPar},
                        [](OpBuilder &nb, Location l, ValueRange a) {
                          yield(nb, l, toF32(nb, l, a[0]));
                        });
    };

    // K centred over tokens: k - Σ_s k / S, per batch, KV head and channel.
    Value k = toF32Tensor(op.getKey(), {B, Hkv, S, D});
    if (op.getSmoothK()) {
      Value sum = rb.generic(
          {k}, rb.filled({B, Hkv, D}, 0.0),
          {id4, AffineMap::get(4, 0, {b, h, d}, ctx)}, {kPar, kPar, kRed, kPar},
          [](OpBuilder &nb, Location l, ValueRange a) {
            yield(nb, l, arith::AddFOp::create(nb, l, a[1], a[0]));
          });
      double invS = 1.0 / static_cast<double>(S);
      k = rb.generic({k, sum}, rb.empty({B, Hkv, S, D}, rb.f32),
                     {id4, AffineMap::get(4, 0, {b, h, d}, ctx), id4},
                     {kPar, kPar, kPar, kPar},
                     [&](OpBuilder &nb, Location l, ValueRange a) {
                       Value mean = arith::MulFOp::create(nb, l, a[1],
                                                          cstF32(nb, l, invS));
                       yield(nb, l, arith::SubFOp::create(nb, l, a[0], mean));
                     });
    }

    // Per-block max |x| over `block` rows of one head and all channels, then
    // x rounded to the int8 grid of step max / 127 and scaled back.
    auto fakeQuantize = [&](Value x, int64_t heads, int64_t len,
                            int64_t block) {
      AffineExpr bb, hh, blk, r, c;
      bindDims(ctx, bb, hh, blk, r, c);
      // [B, heads, len, D] viewed as [B, heads, blocks, block, D].
      auto xType = cast<RankedTensorType>(x.getType());
      Value blocked = tensor::ExpandShapeOp::create(
          rw, loc,
          RankedTensorType::get({B, heads, len / block, block, D},
                                xType.getElementType()),
          x, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}, {4}});
      Value blockMax = rb.generic(
          {blocked}, rb.filled({B, heads, len / block}, 0.0),
          {AffineMap::get(5, 0, {bb, hh, blk, r, c}, ctx),
           AffineMap::get(5, 0, {bb, hh, blk}, ctx)},
          {kPar, kPar, kPar, kRed, kRed},
          [](OpBuilder &nb, Location l, ValueRange a) {
            Value mag = math::AbsFOp::create(nb, l, toF32(nb, l, a[0]));
            yield(nb, l, arith::MaximumFOp::create(nb, l, a[1], mag));
          });
      return rb.generic(
          {x, blockMax}, rb.empty({B, heads, len, D}, rb.f32),
          {id4, AffineMap::get(4, 0, {b, h, t.floorDiv(block)}, ctx), id4},
          {kPar, kPar, kPar, kPar},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value step =
                arith::DivFOp::create(nb, l, a[1], cstF32(nb, l, 127.0));
            Value zero = cstF32(nb, l, 0.0);
            Value none = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                               step, zero);
            Value level = math::RoundEvenOp::create(
                nb, l, arith::DivFOp::create(nb, l, toF32(nb, l, a[0]), step));
            level = arith::MinimumFOp::create(
                nb, l,
                arith::MaximumFOp::create(nb, l, level, cstF32(nb, l, -127.0)),
                cstF32(nb, l, 127.0));
            Value deq = arith::MulFOp::create(nb, l, level, step);
            yield(nb, l, arith::SelectOp::create(nb, l, none, zero, deq));
          });
    };
    Value q = fakeQuantize(op.getQuery(), H, T, bq);
    k = fakeQuantize(k, Hkv, S, bk);
    Value v = toF32Tensor(op.getValue(), {B, Hkv, S, Dv});

    double scale = op.getScale() ? op.getScale()->convertToDouble()
                                 : 1.0 / std::sqrt(static_cast<double>(D));
    SmallVector<NamedAttribute> attrs = {
        rw.getNamedAttr("scale", rw.getF32FloatAttr(scale))};
    if (op.getCausal())
      attrs.push_back(rw.getNamedAttr("causal", rw.getUnitAttr()));
    Value out =
        AttentionOp::create(
            rw, loc, TypeRange{RankedTensorType::get({B, H, T, Dv}, rb.f32)},
            ValueRange{q, k, v}, attrs)
            .getResult();
    out = rb.narrow(out, op.getResult().getType().getElementType());
    rw.replaceOp(op, out);
    return success();
  }
};

} // namespace

void kestrel::populateQuantReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerQuantizedAttention>(patterns.getContext());
}
