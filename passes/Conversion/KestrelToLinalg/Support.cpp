//===- Support.cpp - Reference lowering of the supporting ops -------------===//
//
// kestrel.rms_norm, kestrel.rope and kestrel.gated_mlp as linalg.generic ops
// computing their formulas (docs/ops.md §1, "Supporting ops") literally, in
// f32, with one rounding to the storage type at the end:
//
//   rms_norm:  ss[i] = Σ_n x[i,n]²;  out = x / sqrt(ss/N + eps) · w
//   rope:      one elementwise generic over x; each feature d < R reads its
//              pair partner with tensor.extract (the partner index is not
//              affine in d) and rotates by θ = pos · base^(-2i/R) computed
//              from the attributes; features >= R are copied unchanged.
//              Without a positions operand θ depends on (t, i) only: cos θ
//              and sin θ are then compile-time tables [T, R/2] (θ in f32 as
//              the formula has it), read by the generic instead of being
//              evaluated once per head.
//              (Slices + insert_slice would read more naturally but
//              bufferize to strided memref copies needing a runtime call.)
//   gated_mlp: a = x W1, g = x W3, h = silu(a) · g, out = h W2.
//
// Nothing here is tuned: these are the oracles optimized lowerings are
// compared with.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Conversion/KestrelToLinalg/ReferenceLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

static bool allStatic(ValueRange values) {
  return llvm::all_of(values.getTypes(), [](Type t) {
    return cast<RankedTensorType>(t).hasStaticShape();
  });
}

namespace {

struct LowerRmsNorm : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RmsNormOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op->getOperands()))
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs static shapes");

    MLIRContext *ctx = rewriter.getContext();
    IREmitter rb(rewriter, op.getLoc());
    RankedTensorType xType = op.getInput().getType();
    const unsigned rank = xType.getRank();
    const int64_t n = xType.getShape().back();
    const double eps = op.getEps().convertToDouble();
    Type storage = xType.getElementType();

    // Rows are every leading dimension; the last one is normalized.
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap rowMap = id.dropResult(rank - 1);
    AffineMap featureMap =
        AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, ctx)}, ctx);
    SmallVector<IteratorType> reduceLast(rank, kPar);
    reduceLast.back() = kRed;
    SmallVector<IteratorType> allPar(rank, kPar);

    // ss[i] = Σ_n x[i,n]²
    Value sumSq =
        rb.generic({op.getInput()},
                   rb.filled(xType.getShape().drop_back(), 0.0), {id, rowMap},
                   reduceLast, [](OpBuilder &b, Location l, ValueRange args) {
                     Value x = toF32(b, l, args[0]);
                     Value sq = arith::MulFOp::create(b, l, x, x);
                     yield(b, l, arith::AddFOp::create(b, l, args[1], sq));
                   });

    // out[i,n] = x[i,n] / sqrt(ss[i] / N + eps) · w[n]
    Value out = rb.generic(
        {op.getInput(), sumSq, op.getWeight()},
        rb.empty(xType.getShape(), storage), {id, rowMap, featureMap, id},
        allPar, [&](OpBuilder &b, Location l, ValueRange args) {
          Value mean =
              arith::DivFOp::create(b, l, args[1], cstF32(b, l, double(n)));
          Value rms = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, mean, cstF32(b, l, eps)));
          Value y = arith::DivFOp::create(b, l, toF32(b, l, args[0]), rms);
          y = arith::MulFOp::create(b, l, y, toF32(b, l, args[2]));
          yield(b, l, fromF32(b, l, y, storage));
        });

    rewriter.replaceOp(op, out);
    return success();
  }
};

struct LowerRope : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op->getOperands()))
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs static shapes");

    MLIRContext *ctx = rewriter.getContext();
    IREmitter rb(rewriter, op.getLoc());
    RankedTensorType xType = op.getInput().getType();
    Type storage = xType.getElementType();
    const int64_t rot = op.getEffectiveRotaryDim(), half = rot / 2;
    const int64_t offset = op.getEffectiveOffset();
    const bool interleaved = op.getInterleaved();
    // θ = pos · base^(-2i/R) = pos · exp(i · (-2 ln(base) / R)).
    const double freqScale =
        -2.0 * std::log(op.getEffectiveBase()) / static_cast<double>(rot);

    Value x = op.getInput();
    Value positions = op.getPositions();
    AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
    SmallVector<Value> inputs = {x};
    SmallVector<AffineMap> maps = {id4};
    if (positions) {
      inputs.push_back(positions);
      maps.push_back(AffineMap::get(
          4, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(2, ctx)}, ctx));
    }
    maps.push_back(id4);
    auto tables = angleTables(rewriter, op, freqScale);
    Value cosTable = tables.first, sinTable = tables.second;

    // θ = (offset + (positions[b, t] or t)) · exp(i · scale), in f32; the
    // position as an exact integer first.
    auto angle = [&](OpBuilder &b, Location l, ValueRange args,
                     Value i) -> Value {
      Value pos =
          positions
              ? args[1]
              : arith::IndexCastOp::create(b, l, b.getI64Type(),
                                           linalg::IndexOp::create(b, l, 2))
                    .getResult();
      pos = arith::AddIOp::create(
          b, l, pos,
          arith::ConstantOp::create(b, l, b.getI64IntegerAttr(offset)));
      Value posF = arith::SIToFPOp::create(b, l, b.getF32Type(), pos);
      Value iF = arith::SIToFPOp::create(
          b, l, b.getF32Type(),
          arith::IndexCastOp::create(b, l, b.getI64Type(), i));
      Value invFreq = math::ExpOp::create(
          b, l, arith::MulFOp::create(b, l, iF, cstF32(b, l, freqScale)));
      return arith::MulFOp::create(b, l, posF, invFreq);
    };

    auto body = [&](OpBuilder &b, Location l, ValueRange args) {
      auto cstIdx = [&](int64_t v) -> Value {
        return arith::ConstantIndexOp::create(b, l, v);
      };
      auto cmp = [&](arith::CmpIPredicate p, Value lhs, Value rhs) -> Value {
        return arith::CmpIOp::create(b, l, p, lhs, rhs);
      };
      Value d = linalg::IndexOp::create(b, l, 3);
      Value inRotary = cmp(arith::CmpIPredicate::slt, d, cstIdx(rot));

      // Feature d is the first or second member of pair i; its partner is
      // the other member. Rotate-half: pairs (i, i + R/2); interleaved:
      // pairs (2i, 2i + 1).
      Value isFirst, i, partner;
      if (interleaved) {
        Value parity = arith::RemUIOp::create(b, l, d, cstIdx(2));
        isFirst = cmp(arith::CmpIPredicate::eq, parity, cstIdx(0));
        i = arith::DivUIOp::create(b, l, d, cstIdx(2));
        partner = arith::SelectOp::create(
            b, l, isFirst, arith::AddIOp::create(b, l, d, cstIdx(1)),
            arith::SubIOp::create(b, l, d, cstIdx(1)));
      } else {
        isFirst = cmp(arith::CmpIPredicate::slt, d, cstIdx(half));
        i = arith::SelectOp::create(
            b, l, isFirst, d, arith::SubIOp::create(b, l, d, cstIdx(half)));
        partner = arith::SelectOp::create(
            b, l, isFirst, arith::AddIOp::create(b, l, d, cstIdx(half)),
            arith::SubIOp::create(b, l, d, cstIdx(half)));
      }
      // Features past R are not rotated; keep the read of the partner in
      // bounds there (it is computed but not used).
      partner = arith::SelectOp::create(b, l, inRotary, partner, d);
      Value other = tensor::ExtractOp::create(
          b, l, x,
          ValueRange{linalg::IndexOp::create(b, l, 0),
                     linalg::IndexOp::create(b, l, 1),
                     linalg::IndexOp::create(b, l, 2), partner});

      Value cosTheta, sinTheta;
      if (cosTable) {
        // i is out of the table's range past R, where nothing is rotated.
        Value row = arith::SelectOp::create(b, l, inRotary, i, cstIdx(0));
        SmallVector<Value> at = {linalg::IndexOp::create(b, l, 2), row};
        cosTheta = tensor::ExtractOp::create(b, l, cosTable, at);
        sinTheta = tensor::ExtractOp::create(b, l, sinTable, at);
      } else {
        Value theta = angle(b, l, args, i);
        cosTheta = math::CosOp::create(b, l, theta);
        sinTheta = math::SinOp::create(b, l, theta);
      }

      // first' = first·cos θ − second·sin θ; second' = second·cos θ +
      // first·sin θ: the partner's sine term is subtracted for the first
      // member and added for the second.
      Value self = toF32(b, l, args[0]);
      Value sinTerm = arith::MulFOp::create(b, l, toF32(b, l, other), sinTheta);
      sinTerm = arith::SelectOp::create(
          b, l, isFirst, arith::NegFOp::create(b, l, sinTerm), sinTerm);
      Value y = arith::AddFOp::create(
          b, l, arith::MulFOp::create(b, l, self, cosTheta), sinTerm);
      // Unrotated features are copied bit for bit.
      yield(b, l,
            arith::SelectOp::create(b, l, inRotary, fromF32(b, l, y, storage),
                                    args[0]));
    };
    Value out = rb.generic(inputs, rb.empty(xType.getShape(), storage), maps,
                           {kPar, kPar, kPar, kPar}, body);
    rewriter.replaceOp(op, out);
    return success();
  }

private:
  /// The largest table (elements of each of cos and sin) built at compile
  /// time; longer sequences evaluate the angle in the loop.
  static constexpr int64_t kMaxTableElements = int64_t(1) << 20;

  /// cos θ and sin θ as constants [T, R/2] when θ depends on (t, i) only
  /// (no positions operand), else null values. θ is rounded exactly as the
  /// loop computes it: inv_freq = exp(i · scale) and θ = pos · inv_freq in
  /// f32; the trigonometric functions are evaluated in double and rounded.
  static std::pair<Value, Value> angleTables(PatternRewriter &rewriter,
                                             RopeOp op, double freqScale) {
    RankedTensorType xType = op.getInput().getType();
    const int64_t tokens = xType.getDimSize(2);
    const int64_t half = op.getEffectiveRotaryDim() / 2;
    if (op.getPositions() || tokens * half > kMaxTableElements)
      return {};
    const float scale = static_cast<float>(freqScale);
    const int64_t offset = op.getEffectiveOffset();
    SmallVector<float> cosines, sines;
    cosines.reserve(tokens * half);
    sines.reserve(tokens * half);
    for (int64_t t = 0; t < tokens; ++t) {
      const float pos = static_cast<float>(offset + t);
      for (int64_t i = 0; i < half; ++i) {
        const float invFreq = static_cast<float>(
            std::exp(static_cast<double>(static_cast<float>(i) * scale)));
        const double theta = static_cast<double>(pos * invFreq);
        cosines.push_back(static_cast<float>(std::cos(theta)));
        sines.push_back(static_cast<float>(std::sin(theta)));
      }
    }
    auto type = RankedTensorType::get({tokens, half}, rewriter.getF32Type());
    auto table = [&](ArrayRef<float> values) -> Value {
      return arith::ConstantOp::create(rewriter, op.getLoc(), type,
                                       DenseElementsAttr::get(type, values));
    };
    return {table(cosines), table(sines)};
  }
};

struct LowerGatedMlp : OpRewritePattern<GatedMlpOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GatedMlpOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op->getOperands()))
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs static shapes");

    MLIRContext *ctx = rewriter.getContext();
    IREmitter rb(rewriter, op.getLoc());
    RankedTensorType resultType = op.getResult().getType();
    Type storage = resultType.getElementType();
    const int64_t n = op.getInput().getType().getDimSize(0);
    const int64_t ff = op.getW1().getType().getDimSize(1);
    const int64_t d = resultType.getDimSize(1);

    // c[i, j] = Σ_k a[i, k] · w[k, j], f32 accumulation of storage inputs.
    AffineExpr i, j, k;
    bindDims(ctx, i, j, k);
    auto matmul = [&](Value a, Value w, int64_t rows, int64_t cols) {
      return rb.generic(
          {a, w}, rb.filled({rows, cols}, 0.0),
          {AffineMap::get(3, 0, {i, k}, ctx), AffineMap::get(3, 0, {k, j}, ctx),
           AffineMap::get(3, 0, {i, j}, ctx)},
          {kPar, kPar, kRed}, [](OpBuilder &b, Location l, ValueRange args) {
            Value p = arith::MulFOp::create(b, l, toF32(b, l, args[0]),
                                            toF32(b, l, args[1]));
            yield(b, l, arith::AddFOp::create(b, l, args[2], p));
          });
    };

    Value a = matmul(op.getInput(), op.getW1(), n, ff);
    Value g = matmul(op.getInput(), op.getW3(), n, ff);

    // h = silu(a) · g with silu(a) = a / (1 + e^{-a}); h stays in f32.
    AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
    Value h = rb.generic(
        {a, g}, rb.empty({n, ff}, rb.f32), {id2, id2, id2}, {kPar, kPar},
        [](OpBuilder &b, Location l, ValueRange args) {
          Value e =
              math::ExpOp::create(b, l, arith::NegFOp::create(b, l, args[0]));
          Value silu = arith::DivFOp::create(
              b, l, args[0], arith::AddFOp::create(b, l, cstF32(b, l, 1.0), e));
          yield(b, l, arith::MulFOp::create(b, l, silu, args[1]));
        });

    Value out = matmul(h, op.getW2(), n, d);
    out = rb.narrow(out, storage);
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void kestrel::populateSupportReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerRmsNorm, LowerRope, LowerGatedMlp>(patterns.getContext());
}
