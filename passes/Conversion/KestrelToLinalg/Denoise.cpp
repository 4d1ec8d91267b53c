//===- Denoise.cpp - Reference lowering of denoise_step -------------------===//
//
// kestrel.denoise_step as linalg.generic ops computing docs/ops.md §4
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
// With `temperature` and `seed`, pass 1 also hashes (seed, b, p, v) into
// Gumbel noise (splitmix64, f64) and takes the argmax of logits / T + noise,
// and pass 2 also picks the sampled token's logit: c = e^(l[x̂] − m) / s.
//
// The rank is an O(L²) reduction: obviously correct, not fast. The fused
// kernel of docs/ops.md §4 (one pass over the logits, a real top-n) is an
// optimized lowering to be checked against this one.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Common/DenoiseLowering.h"
#include "passes/Conversion/KestrelToLinalg/ReferenceLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace kestrel;

/// The selection stage shared by the reference and the fused lowering
/// (declared in passes/Common/DenoiseLowering.h): confidence, rank, policy and
/// new tokens from the per-position statistics; replaces `op`.
void kestrel::replaceDenoiseStepWithSelection(PatternRewriter &rewriter,
                                              DenoiseStepOp op, Value argmax,
                                              Value sumExp, Value picked,
                                              Value rowMax) {
  MLIRContext *ctx = rewriter.getContext();
  Location loc = op.getLoc();
  IREmitter rb(rewriter, loc);
  ArrayRef<int64_t> shape = op.getLogits().getType().getShape();
  const int64_t B = shape[0], L = shape[1];
  const int64_t maskId = static_cast<int64_t>(op.getMaskId());
  auto [blockStart, blockEnd] = op.getEligibleRange();
  Type i64 = rewriter.getI64Type();
  AffineExpr db, dp, dv;
  bindDims(ctx, db, dp, dv);
  AffineMap row3 = AffineMap::get(3, 0, {db, dp}, ctx);
  AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
  (void)B;
  (void)L;
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
  // c = softmax(l)[x̂] = e^(l[x̂] − m) / s at masked positions (1 / s when
  // x̂ is the argmax), 0 elsewhere.
  SmallVector<Value> confInputs = {op.getTokens(), sumExp};
  if (picked)
    confInputs.append({picked, rowMax});
  SmallVector<AffineMap> confMaps(confInputs.size() + 1, id2);
  Value confidence = rb.generic(
      confInputs, rb.empty({B, L}, rb.f32), confMaps, {kPar, kPar},
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value masked = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::eq, args[0],
            arith::ConstantOp::create(b, l, b.getI64IntegerAttr(maskId)));
        Value numerator = cstF32(b, l, 1.0);
        if (picked)
          numerator = math::ExpOp::create(
              b, l, arith::SubFOp::create(b, l, args[2], args[3]));
        Value c = arith::DivFOp::create(b, l, numerator, args[1]);
        yield(b, l,
              arith::SelectOp::create(b, l, masked, c, cstF32(b, l, 0.0)));
      });

  // rank[b,p] = number of eligible q that beat p (higher confidence, or
  // equal confidence at a lower position).
  AffineExpr dq = dv;
  Value rankInit =
      linalg::FillOp::create(rewriter, loc,
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
}

namespace {

/// The passes over the logits [B, L, V], loops (b, p, v).
struct DenoiseStats : IREmitter {
  DenoiseStats(PatternRewriter &rewriter, DenoiseStepOp op)
      : IREmitter(rewriter, op.getLoc()), rewriter(rewriter), op(op),
        shape(op.getLogits().getType().getShape()) {
    AffineExpr db, dp, dv;
    bindDims(ctx, db, dp, dv);
    id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
    row3 = AffineMap::get(3, 0, {db, dp}, ctx);
  }

  /// Pass 1 without sampling: running max and the index of its first
  /// occurrence (a strict '>' keeps the earlier index on ties). Returns
  /// (max, argmax).
  std::pair<Value, Value> maxArgmax(Value maxInit, Value argInit);
  /// Pass 1 with temperature sampling: the index is that of the largest
  /// noisy score (in f64), and the plain max is still tracked for the
  /// confidence. Returns (max, argmax).
  std::pair<Value, Value> sampledMaxArgmax(Value maxInit, Value argInit,
                                           double temperature);
  /// logits[b,p,v] / T + Gumbel noise hashed from (seed, b, p, v), in f64.
  Value noisyScore(OpBuilder &b, Location l, Value v, double temperature);
  /// Pass 2: s = Σ_v exp(l − m).
  Value sumExp(Value rowMax);
  /// Pass 2 when sampling: s and l[x̂], the logit of the sampled token.
  std::pair<Value, Value> sumExpAndPicked(Value rowMax, Value argmax);

  PatternRewriter &rewriter;
  DenoiseStepOp op;
  ArrayRef<int64_t> shape;
  AffineMap id3, row3;
};

std::pair<Value, Value> DenoiseStats::maxArgmax(Value maxInit, Value argInit) {
  auto maxArgmax = linalg::GenericOp::create(
      rewriter, loc, TypeRange{maxInit.getType(), argInit.getType()},
      ValueRange{op.getLogits()}, ValueRange{maxInit, argInit},
      ArrayRef<AffineMap>{id3, row3, row3}, {kPar, kPar, kRed},
      [](OpBuilder &b, Location l, ValueRange args) {
        Value v = toF32(b, l, args[0]);
        Value better =
            arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, v, args[1]);
        Value idx = arith::IndexCastOp::create(
            b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 2));
        linalg::YieldOp::create(
            b, l,
            ValueRange{arith::SelectOp::create(b, l, better, v, args[1]),
                       arith::SelectOp::create(b, l, better, idx, args[2])});
      });
  return {maxArgmax.getResult(0), maxArgmax.getResult(1)};
}

std::pair<Value, Value> DenoiseStats::sampledMaxArgmax(Value maxInit,
                                                       Value argInit,
                                                       double temperature) {
  const double negInf = -std::numeric_limits<double>::infinity();
  Type f64 = rewriter.getF64Type();
  Value noisyInit = linalg::FillOp::create(
                        rewriter, loc,
                        ValueRange{arith::ConstantOp::create(
                            rewriter, loc, rewriter.getF64FloatAttr(negInf))},
                        ValueRange{empty({shape[0], shape[1]}, f64)})
                        .getResult(0);
  auto sampled = linalg::GenericOp::create(
      rewriter, loc,
      TypeRange{maxInit.getType(), noisyInit.getType(), argInit.getType()},
      ValueRange{op.getLogits()}, ValueRange{maxInit, noisyInit, argInit},
      ArrayRef<AffineMap>{id3, row3, row3, row3}, {kPar, kPar, kRed},
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value v = toF32(b, l, args[0]);
        Value higher =
            arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, v, args[1]);
        Value newMax = arith::SelectOp::create(b, l, higher, v, args[1]);
        Value noisy = noisyScore(b, l, v, temperature);
        Value better = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                             noisy, args[2]);
        linalg::YieldOp::create(
            b, l,
            ValueRange{
                newMax, arith::SelectOp::create(b, l, better, noisy, args[2]),
                arith::SelectOp::create(
                    b, l, better,
                    arith::IndexCastOp::create(
                        b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 2)),
                    args[3])});
      });
  return {sampled.getResult(0), sampled.getResult(2)};
}

Value DenoiseStats::noisyScore(OpBuilder &b, Location l, Value v,
                               double temperature) {
  const int64_t L = shape[1], V = shape[2];
  const uint64_t seed = op.getSeed().value_or(0);
  Type i64t = b.getI64Type();
  auto c64 = [&](int64_t x) -> Value {
    return arith::ConstantOp::create(b, l, b.getI64IntegerAttr(x));
  };
  auto index = [&](unsigned d) -> Value {
    return arith::IndexCastOp::create(b, l, i64t,
                                      linalg::IndexOp::create(b, l, d));
  };
  auto mul = [&](Value x, Value y) -> Value {
    return arith::MulIOp::create(b, l, x, y);
  };
  auto addI = [&](Value x, Value y) -> Value {
    return arith::AddIOp::create(b, l, x, y);
  };
  Value counter =
      addI(c64(static_cast<int64_t>(seed)),
           addI(mul(addI(mul(index(0), c64(L)), index(1)), c64(V)), index(2)));
  return gumbelScore(b, l, v, counter, temperature);
}

Value DenoiseStats::sumExp(Value rowMax) {
  return generic(
      {op.getLogits(), rowMax}, filled({shape[0], shape[1]}, 0.0),
      {id3, row3, row3}, {kPar, kPar, kRed},
      [](OpBuilder &b, Location l, ValueRange args) {
        Value e = math::ExpOp::create(
            b, l, arith::SubFOp::create(b, l, toF32(b, l, args[0]), args[1]));
        yield(b, l, arith::AddFOp::create(b, l, args[2], e));
      });
}

std::pair<Value, Value> DenoiseStats::sumExpAndPicked(Value rowMax,
                                                      Value argmax) {
  Value zeros = filled({shape[0], shape[1]}, 0.0);
  auto sums = linalg::GenericOp::create(
      rewriter, loc, TypeRange{zeros.getType(), zeros.getType()},
      ValueRange{op.getLogits(), rowMax, argmax}, ValueRange{zeros, zeros},
      ArrayRef<AffineMap>{id3, row3, row3, row3, row3}, {kPar, kPar, kRed},
      [](OpBuilder &b, Location l, ValueRange args) {
        Value v = toF32(b, l, args[0]);
        Value e =
            math::ExpOp::create(b, l, arith::SubFOp::create(b, l, v, args[1]));
        Value idx = arith::IndexCastOp::create(
            b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 2));
        Value here =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, idx, args[2]);
        linalg::YieldOp::create(
            b, l,
            ValueRange{arith::AddFOp::create(b, l, args[3], e),
                       arith::SelectOp::create(b, l, here, v, args[4])});
      });
  return {sums.getResult(0), sums.getResult(1)};
}

struct LowerDenoiseStep : OpRewritePattern<DenoiseStepOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DenoiseStepOp op,
                                PatternRewriter &rewriter) const override {
    for (Value v : {op.getLogits(), op.getTokens()})
      if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(
            op, "the reference lowering needs static shapes");

    DenoiseStats ds(rewriter, op);
    Location loc = op.getLoc();
    const int64_t B = ds.shape[0], L = ds.shape[1];
    Value argInit = linalg::FillOp::create(
                        rewriter, loc,
                        ValueRange{arith::ConstantOp::create(
                            rewriter, loc, rewriter.getI64IntegerAttr(0))},
                        ValueRange{ds.empty({B, L}, rewriter.getI64Type())})
                        .getResult(0);
    Value maxInit = ds.filled({B, L}, -std::numeric_limits<double>::infinity());
    Value rowMax, argmax, sumExp, picked;
    if (std::optional<APFloat> t = op.getTemperature()) {
      std::tie(rowMax, argmax) =
          ds.sampledMaxArgmax(maxInit, argInit, t->convertToDouble());
      std::tie(sumExp, picked) = ds.sumExpAndPicked(rowMax, argmax);
    } else {
      std::tie(rowMax, argmax) = ds.maxArgmax(maxInit, argInit);
      sumExp = ds.sumExp(rowMax);
    }
    replaceDenoiseStepWithSelection(rewriter, op, argmax, sumExp, picked,
                                    rowMax);
    return success();
  }
};

} // namespace

void kestrel::populateDenoiseReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerDenoiseStep>(patterns.getContext());
}
