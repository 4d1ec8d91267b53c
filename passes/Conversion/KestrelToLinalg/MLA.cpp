//===- MLA.cpp - Reference lowering of kestrel.mla ------------------------===//
//
// Multi-head latent attention in terms of up-projections (linalg.generic)
// and one kestrel.attention, which the attention patterns then lower:
//
//   expanded:  k_h = [c_kv W_uk[h] ; k_r],  v_h = c_kv W_uv[h],
//              out = attention([q_c ; q_r], k, v)             (H KV heads)
//   absorbed:  q̃_h = q_c[h] W_uk[h]ᵀ,
//              o = attention([q̃ ; q_r], [c_kv ; k_r], c_kv)    (one KV head)
//              out_h = o_h W_uv[h]
//
// Everything is f32; only the final result is narrowed to the storage type.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Conversion/KestrelToLinalg/ReferenceLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;
using namespace kestrel;

namespace {

struct LowerMLA : OpRewritePattern<MLAOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MLAOp op, PatternRewriter &rw) const override {
    MLIRContext *ctx = op.getContext();
    Location loc = op.getLoc();
    IREmitter rb(rw, loc);
    auto shape = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getShape();
    };
    const int64_t B = shape(op.getQC())[0], H = shape(op.getQC())[1],
                  T = shape(op.getQC())[2], dn = shape(op.getQC())[3],
                  S = shape(op.getCKv())[1], dc = shape(op.getCKv())[2],
                  dv = shape(op.getWUv())[2];

    // out[b,h,l,o] = Σ_i x[..., i] · w[h, i or o ...]: one helper for the
    // four projections, parameterized by the operand maps.
    auto project = [&](Value x, Value w, ArrayRef<int64_t> outShape,
                       AffineMap xMap, AffineMap wMap) {
      AffineExpr b, h, l, o, i;
      bindDims(ctx, b, h, l, o, i);
      return rb.generic({x, w}, rb.filled(outShape, 0.0),
                        {xMap, wMap, AffineMap::get(5, 0, {b, h, l, o}, ctx)},
                        {kPar, kPar, kPar, kPar, kRed},
                        [](OpBuilder &nb, Location l2, ValueRange a) {
                          Value p = arith::MulFOp::create(
                              nb, l2, toF32(nb, l2, a[0]), toF32(nb, l2, a[1]));
                          yield(nb, l2, arith::AddFOp::create(nb, l2, a[2], p));
                        });
    };
    AffineExpr b, h, l, o, i;
    bindDims(ctx, b, h, l, o, i);
    auto map5 = [&](ArrayRef<AffineExpr> e) {
      return AffineMap::get(5, 0, e, ctx);
    };

    // [x ; y] along the last dimension into an f32 [B, heads, L, n1 + n2]
    // tensor. x and y are rank 4 ([B, H, L, n]) or rank 3 ([B, L, n], shared
    // by all heads); elements are read with clamped indices and selected.
    auto concat = [&](Value x, Value y, int64_t heads, int64_t len) {
      int64_t n1 = shape(x).back(), n2 = shape(y).back();
      return rb.generic(
          {}, rb.empty({B, heads, len, n1 + n2}, rb.f32),
          {AffineMap::getMultiDimIdentityMap(4, ctx)}, {kPar, kPar, kPar, kPar},
          [&](OpBuilder &nb, Location l2, ValueRange) {
            Value idx[4];
            for (unsigned d = 0; d < 4; ++d)
              idx[d] = linalg::IndexOp::create(nb, l2, d);
            auto cst = [&](int64_t v) -> Value {
              return arith::ConstantIndexOp::create(nb, l2, v);
            };
            Value inX = arith::CmpIOp::create(nb, l2, arith::CmpIPredicate::slt,
                                              idx[3], cst(n1));
            Value ix = arith::MinSIOp::create(nb, l2, idx[3], cst(n1 - 1));
            Value iy = arith::MaxSIOp::create(
                nb, l2, arith::SubIOp::create(nb, l2, idx[3], cst(n1)), cst(0));
            auto read = [&](Value t, Value last) -> Value {
              SmallVector<Value> at = {idx[0]};
              if (cast<RankedTensorType>(t.getType()).getRank() == 4)
                at.push_back(idx[1]);
              at.append({idx[2], last});
              return toF32(nb, l2, tensor::ExtractOp::create(nb, l2, t, at));
            };
            yield(
                nb, l2,
                arith::SelectOp::create(nb, l2, inX, read(x, ix), read(y, iy)));
          });
    };

    SmallVector<NamedAttribute> attrs = {
        rw.getNamedAttr("scale", rw.getF32FloatAttr(op.getEffectiveScale()))};
    if (op.getCausal())
      attrs.push_back(rw.getNamedAttr("causal", rw.getUnitAttr()));

    Value out;
    if (!op.getAbsorbed()) {
      // k_nope[b,h,s,n] = Σ_c c_kv[b,s,c] w_uk[h,c,n]; v likewise with w_uv.
      Value kNope = project(op.getCKv(), op.getWUk(), {B, H, S, dn},
                            map5({b, l, i}), map5({h, i, o}));
      Value v = project(op.getCKv(), op.getWUv(), {B, H, S, dv},
                        map5({b, l, i}), map5({h, i, o}));
      Value q = concat(op.getQC(), op.getQR(), H, T);
      Value k = concat(kNope, op.getKR(), H, S);
      auto type = RankedTensorType::get({B, H, T, dv}, rb.f32);
      out = AttentionOp::create(rw, loc, TypeRange{type}, ValueRange{q, k, v},
                                attrs)
                .getResult();
    } else {
      // q̃[b,h,t,c] = Σ_n q_c[b,h,t,n] w_uk[h,c,n]
      Value qLatent = project(op.getQC(), op.getWUk(), {B, H, T, dc},
                              map5({b, h, l, i}), map5({h, o, i}));
      Value q = concat(qLatent, op.getQR(), H, T);
      Value k = concat(op.getCKv(), op.getKR(), 1, S);
      // The latent cache itself is the single value head.
      Value v = rb.generic({op.getCKv()}, rb.empty({B, 1, S, dc}, rb.f32),
                           {AffineMap::get(4, 0, {b, l, o}, ctx),
                            AffineMap::getMultiDimIdentityMap(4, ctx)},
                           {kPar, kPar, kPar, kPar},
                           [](OpBuilder &nb, Location l2, ValueRange a) {
                             yield(nb, l2, toF32(nb, l2, a[0]));
                           });
      auto type = RankedTensorType::get({B, H, T, dc}, rb.f32);
      Value latent = AttentionOp::create(rw, loc, TypeRange{type},
                                         ValueRange{q, k, v}, attrs)
                         .getResult();
      // out[b,h,t,e] = Σ_c latent[b,h,t,c] w_uv[h,c,e]
      out = project(latent, op.getWUv(), {B, H, T, dv}, map5({b, h, l, i}),
                    map5({h, i, o}));
    }

    out = rb.narrow(out, op.getResult().getType().getElementType());
    rw.replaceOp(op, out);
    return success();
  }
};

} // namespace

void kestrel::populateMLAReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMLA>(patterns.getContext());
}
