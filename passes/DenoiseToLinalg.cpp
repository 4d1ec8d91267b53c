//===- DenoiseToLinalg.cpp - Reference lowering of denoise_step -----------===//
//
// kestrel.denoise_step as linalg.generic ops computing shared/OPS.md §4
// literally, in f32:
//
//   (m, x̂)[b,p]  = max and first argmax over v of logits[b,p,v]   (pass 1)
//   s[b,p]       = Σ_v exp(logits[b,p,v] − m)                      (pass 2)
//   c[b,p]       = masked ? 1 / s : 0
//   rank[b,p]    = Σ_q eligible(q) · (c_q > c_p or (c_q == c_p and q < p))
//   unmask(p)    = eligible(p) and (rank < n            for top_k = n
//                                   c > τ or rank == 0  for threshold = τ)
//   new[b,p]     = unmask(p) ? x̂ : tokens[b,p]
//
// The rank is an O(L²) reduction: obviously correct, not fast. The fused
// kernel of OPS.md §4 (one pass over the logits, a real top-n) is an
// optimized lowering to be checked against this one.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/ReferenceLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace kestrel;

namespace {

struct LowerDenoiseStep : OpRewritePattern<DenoiseStepOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DenoiseStepOp op,
                                PatternRewriter &rewriter) const override {
    for (Value v : {op.getLogits(), op.getTokens()})
      if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(
            op, "the reference lowering needs static shapes");

    MLIRContext *ctx = rewriter.getContext();
    Location loc = op.getLoc();
    ReferenceBuilder rb(rewriter, loc);
    ArrayRef<int64_t> shape = op.getLogits().getType().getShape();
    const int64_t B = shape[0], L = shape[1];
    const int64_t maskId = static_cast<int64_t>(op.getMaskId());
    auto [blockStart, blockEnd] = op.getEligibleRange();
    Type i64 = rewriter.getI64Type();
    const double negInf = -std::numeric_limits<double>::infinity();

    // eligible(token at position `pos`): masked and inside the block.
    auto eligible = [&, blockStart = blockStart,
                     blockEnd = blockEnd](OpBuilder &b, Location l, Value token,
                                          Value pos) -> Value {
      auto cstIdx = [&](int64_t v) -> Value {
        return arith::ConstantIndexOp::create(b, l, v);
      };
      Value masked = arith::CmpIOp::create(
          b, l, arith::CmpIPredicate::eq, token,
          arith::ConstantOp::create(b, l, b.getI64IntegerAttr(maskId)));
      Value inBlock = arith::AndIOp::create(
          b, l,
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, pos,
                                cstIdx(blockStart)),
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, pos,
                                cstIdx(blockEnd)));
      return arith::AndIOp::create(b, l, masked, inBlock);
    };

    AffineExpr db, dp, dv;
    bindDims(ctx, db, dp, dv);
    AffineMap id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
    AffineMap row3 = AffineMap::get(3, 0, {db, dp}, ctx);
    AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);

    // Pass 1: running max and the index of its first occurrence. A strict
    // '>' keeps the earlier index on ties.
    Value argInit = linalg::FillOp::create(
                        rewriter, loc,
                        ValueRange{arith::ConstantOp::create(
                            rewriter, loc, rewriter.getI64IntegerAttr(0))},
                        ValueRange{rb.empty({B, L}, i64)})
                        .getResult(0);
    Value maxInit = rb.filled({B, L}, negInf);
    auto maxArgmax = linalg::GenericOp::create(
        rewriter, loc, TypeRange{maxInit.getType(), argInit.getType()},
        ValueRange{op.getLogits()}, ValueRange{maxInit, argInit},
        ArrayRef<AffineMap>{id3, row3, row3}, {kPar, kPar, kRed},
        [](OpBuilder &b, Location l, ValueRange args) {
          Value v = toF32(b, l, args[0]);
          Value better = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                               v, args[1]);
          Value idx = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 2));
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, better, v, args[1]),
                         arith::SelectOp::create(b, l, better, idx, args[2])});
        });
    Value rowMax = maxArgmax.getResult(0), argmax = maxArgmax.getResult(1);

    // Pass 2: s = Σ_v exp(l − m).
    Value sumExp = rb.generic(
        {op.getLogits(), rowMax}, rb.filled({B, L}, 0.0), {id3, row3, row3},
        {kPar, kPar, kRed}, [](OpBuilder &b, Location l, ValueRange args) {
          Value e = math::ExpOp::create(
              b, l, arith::SubFOp::create(b, l, toF32(b, l, args[0]), args[1]));
          yield(b, l, arith::AddFOp::create(b, l, args[2], e));
        });

    // c = softmax(l)[x̂] = e^0 / s at masked positions, 0 elsewhere.
    Value confidence = rb.generic(
        {op.getTokens(), sumExp}, rb.empty({B, L}, rb.f32), {id2, id2, id2},
        {kPar, kPar}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value masked = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::eq, args[0],
              arith::ConstantOp::create(b, l, b.getI64IntegerAttr(maskId)));
          Value c = arith::DivFOp::create(b, l, cstF32(b, l, 1.0), args[1]);
          yield(b, l,
                arith::SelectOp::create(b, l, masked, c, cstF32(b, l, 0.0)));
        });

    // rank[b,p] = number of eligible q that beat p (higher confidence, or
    // equal confidence at a lower position).
    AffineExpr dq = dv;
    Value rankInit = linalg::FillOp::create(
                         rewriter, loc,
                         ValueRange{arith::ConstantOp::create(
                             rewriter, loc, rewriter.getI64IntegerAttr(0))},
                         ValueRange{rb.empty({B, L}, i64)})
                         .getResult(0);
    Value rank = rb.generic(
        {confidence, confidence, op.getTokens()}, rankInit,
        {row3, AffineMap::get(3, 0, {db, dq}, ctx),
         AffineMap::get(3, 0, {db, dq}, ctx), row3},
        {kPar, kPar, kRed}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value cp = args[0], cq = args[1];
          Value p = linalg::IndexOp::create(b, l, 1);
          Value q = linalg::IndexOp::create(b, l, 2);
          Value higher =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, cq, cp);
          Value tie = arith::AndIOp::create(
              b, l,
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, cq, cp),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, q, p));
          Value beats =
              arith::AndIOp::create(b, l, eligible(b, l, args[2], q),
                                    arith::OrIOp::create(b, l, higher, tie));
          Value one = arith::ExtUIOp::create(b, l, b.getI64Type(), beats);
          yield(b, l, arith::AddIOp::create(b, l, args[3], one));
        });

    // The policy, then the new tokens.
    std::optional<uint64_t> topK = op.getTopK();
    std::optional<double> threshold;
    if (std::optional<APFloat> t = op.getThreshold())
      threshold = t->convertToDouble();
    Value newTokens = rb.generic(
        {op.getTokens(), argmax, confidence, rank}, rb.empty({B, L}, i64),
        {id2, id2, id2, id2, id2}, {kPar, kPar},
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto cstI64 = [&](int64_t v) -> Value {
            return arith::ConstantOp::create(b, l, b.getI64IntegerAttr(v));
          };
          Value chosen;
          if (topK) {
            chosen =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, args[3],
                                      cstI64(static_cast<int64_t>(*topK)));
          } else {
            Value confident =
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, args[2],
                                      cstF32(b, l, *threshold));
            Value best = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                               args[3], cstI64(0));
            chosen = arith::OrIOp::create(b, l, confident, best);
          }
          Value unmask = arith::AndIOp::create(
              b, l, eligible(b, l, args[0], linalg::IndexOp::create(b, l, 1)),
              chosen);
          yield(b, l, arith::SelectOp::create(b, l, unmask, args[1], args[0]));
        });

    rewriter.replaceOp(op, {newTokens, confidence});
    return success();
  }
};

} // namespace

void kestrel::populateDenoiseReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerDenoiseStep>(patterns.getContext());
}
