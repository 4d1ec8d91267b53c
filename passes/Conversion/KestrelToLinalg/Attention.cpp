//===- Attention.cpp - Reference lowering of attention --------------------===//
//
// kestrel.attention as linalg.generic ops computing docs/ops.md §1 literally:
//
//   scores[b,h,t,s] = Σ_d q[b,h,t,d] · k[b,h/g,s,d]
//   logits          = mask(softcap(scale · scores))
//   m[b,h,t]        = max_s logits            l[b,h,t] = Σ_s p
//   p               = exp(logits - m)         (0 where the row is all masked)
//   out[b,h,t,e]    = (Σ_s p · v[b,h/g,s,e]) / l   (0 where l = 0)
//   lse[b,h,t]      = m + log l                    (-inf where l = 0)
//
// The mask is the conjunction of causal/window/sinks, the block map (an i32
// tensor unpacked from bit words, read through the affine map
// (t, s) -> (t / bq, s / bk)) and s < key_lengths[b].
//
// Nothing here is tuned: this is the oracle the optimized lowerings are
// compared with.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Conversion/KestrelToLinalg/ReferenceLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace kestrel;

namespace {

/// The block map as an i32 tensor (i32: CUDA kernels take no i8
/// parameters, such as the hoisted zero it is compared with) computed by a
/// generic from the map's bits packed into i64 constants (bit i·nbk + j of
/// the row-major map), not as a constant tensor: a tensor constant becomes a
/// host global that the CUDA runtime cannot replay, while this is one more
/// small kernel.
static Value blockMapTensor(IREmitter &rb, AttentionOp op) {
  DenseIntElementsAttr map = op.getBlockMapAttr();
  if (!map)
    return Value();
  const int64_t nbq = map.getType().getDimSize(0),
                nbk = map.getType().getDimSize(1);
  SmallVector<uint64_t> words(llvm::divideCeil(nbq * nbk, 64), 0);
  int64_t bit = 0;
  for (const APInt &allowed : map.getValues<APInt>()) {
    if (!allowed.isZero())
      words[bit / 64] |= uint64_t(1) << (bit % 64);
    ++bit;
  }
  MLIRContext *ctx = op.getContext();
  AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
  return rb.generic(
      {}, rb.empty({nbq, nbk}, rb.b.getI32Type()), {id2}, {kPar, kPar},
      [&](OpBuilder &nb, Location l, ValueRange) {
        auto cstI64 = [&](int64_t v) -> Value {
          return arith::ConstantIntOp::create(nb, l, nb.getI64Type(), v);
        };
        auto i64 = [&](Value index) -> Value {
          return arith::IndexCastOp::create(nb, l, nb.getI64Type(), index);
        };
        Value flat = arith::AddIOp::create(
            nb, l,
            arith::MulIOp::create(nb, l, i64(linalg::IndexOp::create(nb, l, 0)),
                                  cstI64(nbk)),
            i64(linalg::IndexOp::create(nb, l, 1)));
        // The word is picked by a switch (a jump table), not a chain of
        // selects: constant time per block however large the map.
        Value word;
        if (words.size() == 1) {
          word = cstI64(static_cast<int64_t>(words[0]));
        } else {
          Value wordIndex = arith::IndexCastOp::create(
              nb, l, nb.getIndexType(),
              arith::DivUIOp::create(nb, l, flat, cstI64(64)));
          SmallVector<int64_t> cases;
          for (int64_t w = 0; w + 1 < static_cast<int64_t>(words.size()); ++w)
            cases.push_back(w);
          auto pick =
              scf::IndexSwitchOp::create(nb, l, TypeRange{nb.getI64Type()},
                                         wordIndex, cases, cases.size());
          auto fill = [&](Region &region, uint64_t value) {
            OpBuilder::InsertionGuard guard(nb);
            nb.setInsertionPointToStart(&region.emplaceBlock());
            scf::YieldOp::create(
                nb, l, ValueRange{cstI64(static_cast<int64_t>(value))});
          };
          for (auto [w, region] : llvm::enumerate(pick.getCaseRegions()))
            fill(region, words[w]);
          fill(pick.getDefaultRegion(), words.back());
          word = pick.getResult(0);
        }
        Value shift = arith::RemUIOp::create(nb, l, flat, cstI64(64));
        Value bitValue = arith::AndIOp::create(
            nb, l, arith::ShRUIOp::create(nb, l, word, shift), cstI64(1));
        yield(nb, l, arith::TruncIOp::create(nb, l, nb.getI32Type(), bitValue));
      });
}

/// The steps of the reference attention, on [B, H, T, S] scores.
struct AttentionReference : IREmitter {
  AttentionReference(PatternRewriter &rewriter, AttentionOp op)
      : IREmitter(rewriter, op.getLoc()), op(op), B(op.getBatch()),
        H(op.getNumHeads()), T(op.getQueryLen()), S(op.getKeyLen()),
        Dv(op.getValueDim()), group(H / op.getNumKvHeads()),
        id4(AffineMap::getMultiDimIdentityMap(4, ctx)) {
    AffineExpr b, h, t;
    bindDims(ctx, b, h, t);
    rowMap = AffineMap::get(4, 0, {b, h, t}, ctx);
  }

  Value queryKeyScores();
  Value maskedLogits(Value scores);
  Value rowMaxOf(Value logits);
  Value probabilities(Value logits, Value rowMax);
  Value rowSumOf(Value probs);
  Value accumulateValues(Value probs);
  Value normalizedOutput(Value acc, Value rowSum);
  Value logSumExp(Value rowMax, Value rowSum);

  static constexpr double negInf = -std::numeric_limits<double>::infinity();
  AttentionOp op;
  const int64_t B, H, T, S, Dv, group;
  /// Identity over (b, h, t, s), and its projection to the row (b, h, t).
  AffineMap id4, rowMap;
};

/// scores[b,h,t,s] = Σ_d q[b,h,t,d] · k[b,h/g,s,d]
Value AttentionReference::queryKeyScores() {
  AffineExpr b, h, t, s, d;
  bindDims(ctx, b, h, t, s, d);
  return generic({op.getQuery(), op.getKey()}, filled({B, H, T, S}, 0.0),
                 {AffineMap::get(5, 0, {b, h, t, d}, ctx),
                  AffineMap::get(5, 0, {b, h.floorDiv(group), s, d}, ctx),
                  AffineMap::get(5, 0, {b, h, t, s}, ctx)},
                 {kPar, kPar, kPar, kPar, kRed},
                 [](OpBuilder &nb, Location l, ValueRange args) {
                   Value prod = arith::MulFOp::create(
                       nb, l, toF32(nb, l, args[0]), toF32(nb, l, args[1]));
                   Value sum = arith::AddFOp::create(nb, l, args[2], prod);
                   yield(nb, l, sum);
                 });
}

/// logits = mask(softcap(scale · scores)); the block map and the key
/// lengths enter as extra inputs read through affine maps.
Value AttentionReference::maskedLogits(Value scores) {
  const double scale = op.getEffectiveScale();
  std::optional<double> softcap;
  if (auto c = op.getSoftcap())
    softcap = c->convertToDouble();
  SmallVector<Value> maskInputs = {scores};
  SmallVector<AffineMap> maskMaps = {id4};
  AffineExpr b, h, t, s;
  bindDims(ctx, b, h, t, s);
  if (Value blockMap = blockMapTensor(*this, op)) {
    ArrayRef<int64_t> sizes = *op.getBlockSize();
    maskInputs.push_back(blockMap);
    maskMaps.push_back(AffineMap::get(
        4, 0, {t.floorDiv(sizes[0]), s.floorDiv(sizes[1])}, ctx));
  }
  if (Value lengths = op.getKeyLengths()) {
    maskInputs.push_back(lengths);
    maskMaps.push_back(AffineMap::get(4, 0, {b}, ctx));
  }
  maskMaps.push_back(id4);
  const bool hasBlockMap = static_cast<bool>(op.getBlockMap());
  return generic(
      maskInputs,
      tensor::EmptyOp::create(this->b, loc, ArrayRef<int64_t>{B, H, T, S}, f32),
      maskMaps, {kPar, kPar, kPar, kPar},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        auto cstF = [&](double v) -> Value {
          return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
        };
        Value x = arith::MulFOp::create(nb, l, args[0], cstF(scale));
        if (softcap) {
          Value c = cstF(*softcap);
          Value tanh =
              math::TanhOp::create(nb, l, arith::DivFOp::create(nb, l, x, c));
          x = arith::MulFOp::create(nb, l, c, tanh);
        }
        Value allowed = hasBlockMap ? args[1] : Value();
        Value length = op.getKeyLengths() ? args[hasBlockMap ? 2 : 1] : Value();
        if (Value visible = buildAttentionVisibility(
                nb, l, op, linalg::IndexOp::create(nb, l, 2),
                linalg::IndexOp::create(nb, l, 3), allowed, length))
          x = arith::SelectOp::create(nb, l, visible, x, cstF(negInf));
        yield(nb, l, x);
      });
}

/// m = max_s logits.
Value AttentionReference::rowMaxOf(Value logits) {
  return generic(
      {logits}, filled({B, H, T}, negInf), {id4, rowMap},
      {kPar, kPar, kPar, kRed}, [](OpBuilder &nb, Location l, ValueRange args) {
        yield(nb, l, arith::MaximumFOp::create(nb, l, args[0], args[1]));
      });
}

/// p = exp(logits - m).
Value AttentionReference::probabilities(Value logits, Value rowMax) {
  return generic(
      {logits, rowMax},
      tensor::EmptyOp::create(this->b, loc, ArrayRef<int64_t>{B, H, T, S}, f32),
      {id4, rowMap, id4}, {kPar, kPar, kPar, kPar},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        // A fully masked row has m = -inf; its probabilities are all 0.
        Value minusInf =
            arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(negInf));
        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0));
        Value empty = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                            args[1], minusInf);
        Value e = math::ExpOp::create(
            nb, l, arith::SubFOp::create(nb, l, args[0], args[1]));
        yield(nb, l, arith::SelectOp::create(nb, l, empty, zero, e));
      });
}

/// l = Σ_s p.
Value AttentionReference::rowSumOf(Value probs) {
  return generic({probs}, filled({B, H, T}, 0.0), {id4, rowMap},
                 {kPar, kPar, kPar, kRed},
                 [](OpBuilder &nb, Location l, ValueRange args) {
                   yield(nb, l, arith::AddFOp::create(nb, l, args[0], args[1]));
                 });
}

/// acc[b,h,t,e] = Σ_s p[b,h,t,s] · v[b,h/g,s,e]
Value AttentionReference::accumulateValues(Value probs) {
  AffineExpr b, h, t, e, sr;
  bindDims(ctx, b, h, t, e, sr);
  return generic({probs, op.getValue()}, filled({B, H, T, Dv}, 0.0),
                 {AffineMap::get(5, 0, {b, h, t, sr}, ctx),
                  AffineMap::get(5, 0, {b, h.floorDiv(group), sr, e}, ctx),
                  AffineMap::get(5, 0, {b, h, t, e}, ctx)},
                 {kPar, kPar, kPar, kPar, kRed},
                 [](OpBuilder &nb, Location l, ValueRange args) {
                   Value prod = arith::MulFOp::create(nb, l, args[0],
                                                      toF32(nb, l, args[1]));
                   yield(nb, l, arith::AddFOp::create(nb, l, args[2], prod));
                 });
}

/// out = acc / l, 0 for rows that saw no key; narrowed to the storage type.
Value AttentionReference::normalizedOutput(Value acc, Value rowSum) {
  RankedTensorType resultType = op.getResult().getType();
  Type storage = resultType.getElementType();
  return generic(
      {acc, rowSum},
      tensor::EmptyOp::create(this->b, loc, resultType.getShape(), storage),
      {id4, rowMap, id4}, {kPar, kPar, kPar, kPar},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0));
        Value none = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                           args[1], zero);
        Value q = arith::DivFOp::create(nb, l, args[0], args[1]);
        Value r = arith::SelectOp::create(nb, l, none, zero, q);
        if (!storage.isF32())
          r = arith::TruncFOp::create(nb, l, storage, r);
        yield(nb, l, r);
      });
}

/// lse = m + log l, -inf for rows that saw no key.
Value AttentionReference::logSumExp(Value rowMax, Value rowSum) {
  AffineMap id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
  return generic(
      {rowMax, rowSum}, empty({B, H, T}, f32), {id3, id3, id3},
      {kPar, kPar, kPar}, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value zero = cstF32(nb, l, 0.0);
        Value none = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                           args[1], zero);
        Value sum = arith::AddFOp::create(nb, l, args[0],
                                          math::LogOp::create(nb, l, args[1]));
        yield(nb, l,
              arith::SelectOp::create(nb, l, none, cstF32(nb, l, negInf), sum));
      });
}

struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    for (Value v : {op.getQuery(), op.getKey(), op.getValue()})
      if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(
            op, "the reference lowering needs static shapes");

    AttentionReference ar(rewriter, op);
    Value logits = ar.maskedLogits(ar.queryKeyScores());
    // Row statistics: m = max_s logits, p = exp(logits - m), l = Σ_s p.
    Value rowMax = ar.rowMaxOf(logits);
    Value probs = ar.probabilities(logits, rowMax);
    Value rowSum = ar.rowSumOf(probs);
    Value out = ar.normalizedOutput(ar.accumulateValues(probs), rowSum);
    if (!op.getLse()) {
      rewriter.replaceOp(op, out);
      return success();
    }
    rewriter.replaceOp(op, {out, ar.logSumExp(rowMax, rowSum)});
    return success();
  }
};

} // namespace

Value kestrel::buildAttentionVisibility(OpBuilder &b, Location loc,
                                        AttentionOp op, Value t, Value s,
                                        Value blockAllowed, Value keyLength) {
  auto cstI = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value visible;
  auto conjoin = [&](Value cond) {
    visible = visible ? arith::AndIOp::create(b, loc, visible, cond).getResult()
                      : cond;
  };
  if (op.getCausal()) {
    Value last = arith::AddIOp::create(b, loc, t,
                                       cstI(op.getKeyLen() - op.getQueryLen()));
    conjoin(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, s, last));
    if (std::optional<uint64_t> window = op.getWindow()) {
      Value first = arith::SubIOp::create(b, loc, last,
                                          cstI(static_cast<int64_t>(*window)));
      Value inWindow =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, s, first);
      if (std::optional<uint64_t> sinks = op.getSinks()) {
        Value isSink =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, s,
                                  cstI(static_cast<int64_t>(*sinks)));
        inWindow = arith::OrIOp::create(b, loc, inWindow, isSink);
      }
      conjoin(inWindow);
    }
  }
  if (blockAllowed)
    conjoin(arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne, blockAllowed,
        arith::ConstantIntOp::create(b, loc, blockAllowed.getType(), 0)));
  if (keyLength) {
    // Compared in i64 so that a negative length hides every key.
    Value len = arith::ExtSIOp::create(b, loc, b.getI64Type(), keyLength);
    Value pos = arith::IndexCastOp::create(b, loc, b.getI64Type(), s);
    conjoin(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, pos, len));
  }
  return visible;
}

Value kestrel::buildBlockMapConstant(OpBuilder &b, Location loc,
                                     AttentionOp op) {
  DenseIntElementsAttr map = op.getBlockMapAttr();
  if (!map)
    return Value();
  SmallVector<int8_t> bytes;
  for (const APInt &bit : map.getValues<APInt>())
    bytes.push_back(bit.isZero() ? 0 : 1);
  auto type = RankedTensorType::get(map.getType().getShape(), b.getI8Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(bytes)));
}

void kestrel::populateAttentionReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerAttention>(patterns.getContext());
}
