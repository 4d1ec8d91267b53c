//===- KVCache.cpp - Reference lowering of the KV cache ops ---------------===//
//
// The KV cache ops of docs/ops.md §1 written literally:
//
//   decode_attention: gather K, V through the layout into head-major f32
//     [B, Hkv, S, D] (tensor.extract with the layout's index math, through the
//     block table when paged; only tokens s < seq_lens[b] are read), then
//     softmax attention with the per-row mask s <= t + seq_lens[b] - T
//     (linalg.generic, f32).
//   kv_append: scf.for over (b, i) inserting the [Hkv, D] row of token i at
//     position positions[b] + i, when that position exists.
//   select_kv_pages: Quest bounds per head, summed over each KV head's group;
//     the rank of every candidate page among the candidates (a counting
//     reduction); then slot r takes the page of rank r - 1 and slot 0 the
//     current page.
//
// Nothing here is tuned: it is the oracle faster lowerings are compared with.
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

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

Value cstIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Element `i` (i32) of a rank-1 or rank-2 i32 tensor, as an index.
Value extractIndex(OpBuilder &b, Location loc, Value tensor,
                   ValueRange indices) {
  Value v = tensor::ExtractOp::create(b, loc, tensor, indices);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

/// min(max(v, lo), hi) on indices.
Value clamp(OpBuilder &b, Location loc, Value v, int64_t lo, int64_t hi) {
  Value r = arith::MaxSIOp::create(b, loc, v, cstIndex(b, loc, lo));
  return arith::MinSIOp::create(b, loc, r, cstIndex(b, loc, hi));
}

/// Indices into a cache of `layout` of element (b, j, s, d); `s` must lie in
/// [0, capacity). A paged block table entry is clamped into [0, num_pages) so
/// that the read stays in bounds whatever the table holds.
SmallVector<Value> cacheIndices(OpBuilder &b, Location loc, KVLayoutAttr layout,
                                Value cache, Value blockTable, Value bi,
                                Value j, Value s, Value d) {
  switch (layout.getKind()) {
  case KVLayoutKind::HeadMajor:
    return {bi, j, s, d};
  case KVLayoutKind::TokenMajor:
    return {bi, s, j, d};
  case KVLayoutKind::MLALatent:
    return {bi, s, d};
  case KVLayoutKind::Paged: {
    Value pageSize = cstIndex(b, loc, layout.getPageSize());
    Value logical = arith::DivUIOp::create(b, loc, s, pageSize);
    Value slot = arith::RemUIOp::create(b, loc, s, pageSize);
    int64_t numPages = cast<RankedTensorType>(cache.getType()).getDimSize(0);
    Value page = clamp(b, loc, extractIndex(b, loc, blockTable, {bi, logical}),
                       0, numPages - 1);
    return {page, slot, j, d};
  }
  }
  llvm_unreachable("unknown KV layout");
}

/// The steps of the reference decode attention, on [B, H, T, S] scores
/// over the gathered [B, Hkv, S, D] cache.
struct DecodeAttentionReference : IREmitter {
  DecodeAttentionReference(PatternRewriter &rw, DecodeAttentionOp op)
      : IREmitter(rw, op.getLoc()), op(op) {
    RankedTensorType qType = op.getQuery().getType();
    B = qType.getDimSize(0);
    H = qType.getDimSize(1);
    T = qType.getDimSize(2);
    D = qType.getDimSize(3);
    Hkv = op.getNumKvHeads();
    S = op.getCapacity();
    Dv = op.getResult().getType().getDimSize(3);
    group = H / Hkv;
    id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
    AffineExpr b, h, t;
    bindDims(ctx, b, h, t);
    rowMap = AffineMap::get(4, 0, {b, h, t}, ctx);
  }

  Value gatherCache(Value cache, int64_t dim);
  Value queryKeyScores(Value keys);
  Value visibleLogits(Value scores);
  Value rowMaxOf(Value logits);
  Value probabilities(Value logits, Value rowMax);
  Value rowSumOf(Value probs);
  Value accumulateValues(Value probs, Value values);
  Value normalizedOutput(Value acc, Value rowSum);
  Value logSumExp(Value rowMax, Value rowSum);

  DecodeAttentionOp op;
  int64_t B, H, T, D, Hkv, S, Dv, group;
  /// Identity over (b, h, t, s), and its projection to the row (b, h, t).
  AffineMap id4, rowMap;
};

/// K[b,j,s,d] (and V) in head-major f32, read through the layout. The MLA
/// latent cache is both: values are its first Dv channels. Tokens at or
/// past seq_lens[b] are never visible and read as 0: the cache there may
/// hold anything (NaN included), and 0 · NaN would leak into P · V.
Value DecodeAttentionReference::gatherCache(Value cache, int64_t dim) {
  KVLayoutAttr layout = op.getLayout();
  Value blockTable = op.getBlockTable();
  return generic(
      {op.getSeqLens()}, empty({B, Hkv, S, dim}, f32),
      {AffineMap::get(4, 0, {getAffineDimExpr(0, ctx)}, ctx),
       AffineMap::getMultiDimIdentityMap(4, ctx)},
      {kPar, kPar, kPar, kPar}, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value idx[4];
        for (unsigned i = 0; i < 4; ++i)
          idx[i] = linalg::IndexOp::create(nb, l, i);
        Value len = arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[0]);
        Value valid = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                            idx[2], len);
        // Every read is in bounds (s < S, page clamped); select, not
        // multiply, so that a NaN there cannot survive.
        SmallVector<Value> at = cacheIndices(nb, l, layout, cache, blockTable,
                                             idx[0], idx[1], idx[2], idx[3]);
        Value x = toF32(nb, l, tensor::ExtractOp::create(nb, l, cache, at));
        yield(nb, l,
              arith::SelectOp::create(nb, l, valid, x, cstF32(nb, l, 0.0)));
      });
}

/// scores[b,h,t,s] = Σ_d q[b,h,t,d] · K[b,h/g,s,d]
Value DecodeAttentionReference::queryKeyScores(Value keys) {
  AffineExpr b, h, t, s, d;
  bindDims(ctx, b, h, t, s, d);
  return generic({op.getQuery(), keys}, filled({B, H, T, S}, 0.0),
                 {AffineMap::get(5, 0, {b, h, t, d}, ctx),
                  AffineMap::get(5, 0, {b, h.floorDiv(group), s, d}, ctx),
                  AffineMap::get(5, 0, {b, h, t, s}, ctx)},
                 {kPar, kPar, kPar, kPar, kRed},
                 [](OpBuilder &nb, Location l, ValueRange a) {
                   Value p =
                       arith::MulFOp::create(nb, l, toF32(nb, l, a[0]), a[1]);
                   yield(nb, l, arith::AddFOp::create(nb, l, a[2], p));
                 });
}

/// logits = scale · scores where s <= t + seq_lens[b] - T, else -inf.
Value DecodeAttentionReference::visibleLogits(Value scores) {
  AffineMap batchMap = AffineMap::get(4, 0, {getAffineDimExpr(0, ctx)}, ctx);
  const double scale = op.getEffectiveScale();
  return generic(
      {scores, op.getSeqLens()}, empty({B, H, T, S}, f32), {id4, batchMap, id4},
      {kPar, kPar, kPar, kPar}, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value len = arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[1]);
        Value tIdx = linalg::IndexOp::create(nb, l, 2);
        Value sIdx = linalg::IndexOp::create(nb, l, 3);
        // s + T <= t + len, i.e. s <= t + len - T without underflow.
        Value lhs = arith::AddIOp::create(nb, l, sIdx, cstIndex(nb, l, T));
        Value rhs = arith::AddIOp::create(nb, l, tIdx, len);
        Value visible =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sle, lhs, rhs);
        Value x = arith::MulFOp::create(nb, l, a[0], cstF32(nb, l, scale));
        yield(
            nb, l,
            arith::SelectOp::create(nb, l, visible, x, cstF32(nb, l, kNegInf)));
      });
}

/// m = max_s logits.
Value DecodeAttentionReference::rowMaxOf(Value logits) {
  return generic({logits}, filled({B, H, T}, kNegInf), {id4, rowMap},
                 {kPar, kPar, kPar, kRed},
                 [](OpBuilder &nb, Location l, ValueRange a) {
                   yield(nb, l, arith::MaximumFOp::create(nb, l, a[0], a[1]));
                 });
}

/// p = exp(logits - m), 0 on rows without keys.
Value DecodeAttentionReference::probabilities(Value logits, Value rowMax) {
  return generic(
      {logits, rowMax}, empty({B, H, T, S}, f32), {id4, rowMap, id4},
      {kPar, kPar, kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange a) {
        Value none = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                           a[1], cstF32(nb, l, kNegInf));
        Value e = math::ExpOp::create(nb, l,
                                      arith::SubFOp::create(nb, l, a[0], a[1]));
        yield(nb, l,
              arith::SelectOp::create(nb, l, none, cstF32(nb, l, 0.0), e));
      });
}

/// l = Σ_s p.
Value DecodeAttentionReference::rowSumOf(Value probs) {
  return generic({probs}, filled({B, H, T}, 0.0), {id4, rowMap},
                 {kPar, kPar, kPar, kRed},
                 [](OpBuilder &nb, Location l, ValueRange a) {
                   yield(nb, l, arith::AddFOp::create(nb, l, a[0], a[1]));
                 });
}

/// acc[b,h,t,e] = Σ_s p[b,h,t,s] · V[b,h/g,s,e]
Value DecodeAttentionReference::accumulateValues(Value probs, Value values) {
  AffineExpr b, h, t, e, sr;
  bindDims(ctx, b, h, t, e, sr);
  return generic({probs, values}, filled({B, H, T, Dv}, 0.0),
                 {AffineMap::get(5, 0, {b, h, t, sr}, ctx),
                  AffineMap::get(5, 0, {b, h.floorDiv(group), sr, e}, ctx),
                  AffineMap::get(5, 0, {b, h, t, e}, ctx)},
                 {kPar, kPar, kPar, kPar, kRed},
                 [](OpBuilder &nb, Location l, ValueRange a) {
                   Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
                   yield(nb, l, arith::AddFOp::create(nb, l, a[2], p));
                 });
}

/// out = acc / l (0 where l = 0), narrowed to the storage type.
Value DecodeAttentionReference::normalizedOutput(Value acc, Value rowSum) {
  Type storage = op.getResult().getType().getElementType();
  return generic(
      {acc, rowSum}, empty({B, H, T, Dv}, storage), {id4, rowMap, id4},
      {kPar, kPar, kPar, kPar}, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value zero = cstF32(nb, l, 0.0);
        Value none =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[1], zero);
        Value q = arith::DivFOp::create(nb, l, a[0], a[1]);
        yield(nb, l,
              fromF32(nb, l, arith::SelectOp::create(nb, l, none, zero, q),
                      storage));
      });
}

/// lse = m + log l (natural log), -inf where the row saw no key.
Value DecodeAttentionReference::logSumExp(Value rowMax, Value rowSum) {
  AffineMap id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
  return generic(
      {rowMax, rowSum}, empty({B, H, T}, f32), {id3, id3, id3},
      {kPar, kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange a) {
        Value none = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                           a[1], cstF32(nb, l, 0.0));
        Value lse = arith::AddFOp::create(nb, l, a[0],
                                          math::LogOp::create(nb, l, a[1]));
        yield(
            nb, l,
            arith::SelectOp::create(nb, l, none, cstF32(nb, l, kNegInf), lse));
      });
}

struct LowerDecodeAttention : OpRewritePattern<DecodeAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DecodeAttentionOp op,
                                PatternRewriter &rw) const override {
    DecodeAttentionReference da(rw, op);
    Value keys = da.gatherCache(op.getKey(), da.D);
    Value values =
        da.gatherCache(op.getValue() ? op.getValue() : op.getKey(), da.Dv);
    Value logits = da.visibleLogits(da.queryKeyScores(keys));
    Value rowMax = da.rowMaxOf(logits);
    Value probs = da.probabilities(logits, rowMax);
    Value rowSum = da.rowSumOf(probs);
    SmallVector<Value> results = {
        da.normalizedOutput(da.accumulateValues(probs, values), rowSum)};
    if (op.getLse())
      results.push_back(da.logSumExp(rowMax, rowSum));
    rw.replaceOp(op, results);
    return success();
  }
};

struct LowerKVAppend : OpRewritePattern<KVAppendOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(KVAppendOp op,
                                PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType newType = op.getNewTokens().getType(),
                     cacheType = op.getCache().getType();
    const int64_t B = newType.getDimSize(0), Hkv = newType.getDimSize(1),
                  Tn = newType.getDimSize(2), D = newType.getDimSize(3);
    KVLayoutAttr layout = op.getLayout();
    Value blockTable = op.getBlockTable();
    int64_t capacity;
    switch (layout.getKind()) {
    case KVLayoutKind::HeadMajor:
      capacity = cacheType.getDimSize(2);
      break;
    case KVLayoutKind::TokenMajor:
    case KVLayoutKind::MLALatent:
      capacity = cacheType.getDimSize(1);
      break;
    case KVLayoutKind::Paged:
      capacity = layout.getPageSize() *
                 cast<RankedTensorType>(blockTable.getType()).getDimSize(1);
      break;
    }
    // No position exists: nothing is written (and the loops below would
    // read the block table at a clamped position that does not exist).
    if (capacity == 0 || B == 0 || Tn == 0) {
      rw.replaceOp(op, op.getCache());
      return success();
    }
    auto row = RankedTensorType::get({Hkv, D}, newType.getElementType());

    // Writes happen in (b, i) order, so the later of two writes to one
    // element wins, as the op's description says.
    auto outer = scf::ForOp::create(
        rw, loc, cstIndex(rw, loc, 0), cstIndex(rw, loc, B),
        cstIndex(rw, loc, 1), ValueRange{op.getCache()},
        [&](OpBuilder &ob, Location l, Value bi, ValueRange outerArgs) {
          Value start = extractIndex(ob, l, op.getPositions(), {bi});
          auto inner = scf::ForOp::create(
              ob, l, cstIndex(ob, l, 0), cstIndex(ob, l, Tn),
              cstIndex(ob, l, 1), outerArgs,
              [&](OpBuilder &ib, Location l2, Value i, ValueRange args) {
                Value cache = args[0];
                Value p = arith::AddIOp::create(ib, l2, start, i);
                Value valid = arith::AndIOp::create(
                    ib, l2,
                    arith::CmpIOp::create(ib, l2, arith::CmpIPredicate::sge, p,
                                          cstIndex(ib, l2, 0)),
                    arith::CmpIOp::create(ib, l2, arith::CmpIPredicate::slt, p,
                                          cstIndex(ib, l2, capacity)));
                Value page;
                if (layout.isPaged()) {
                  // The entry is read at a clamped position (an invalid p
                  // still needs an in-bounds read) and must name a page.
                  Value safe = clamp(ib, l2, p, 0, capacity - 1);
                  Value logical = arith::DivUIOp::create(
                      ib, l2, safe, cstIndex(ib, l2, layout.getPageSize()));
                  page = extractIndex(ib, l2, blockTable, {bi, logical});
                  Value inRange = arith::AndIOp::create(
                      ib, l2,
                      arith::CmpIOp::create(ib, l2, arith::CmpIPredicate::sge,
                                            page, cstIndex(ib, l2, 0)),
                      arith::CmpIOp::create(
                          ib, l2, arith::CmpIPredicate::slt, page,
                          cstIndex(ib, l2, cacheType.getDimSize(0))));
                  valid = arith::AndIOp::create(ib, l2, valid, inRange);
                }
                auto ifOp = scf::IfOp::create(
                    ib, l2, valid,
                    [&](OpBuilder &tb, Location l3) {
                      OpFoldResult zero = tb.getIndexAttr(0),
                                   one = tb.getIndexAttr(1);
                      // new[b, :, i, :] as an [Hkv, D] row.
                      Value src = tensor::ExtractSliceOp::create(
                          tb, l3, row, op.getNewTokens(),
                          ArrayRef<OpFoldResult>{bi, zero, i, zero},
                          ArrayRef<OpFoldResult>{one, tb.getIndexAttr(Hkv), one,
                                                 tb.getIndexAttr(D)},
                          ArrayRef<OpFoldResult>{one, one, one, one});
                      SmallVector<OpFoldResult> offsets, sizes;
                      OpFoldResult hkv = tb.getIndexAttr(Hkv),
                                   d = tb.getIndexAttr(D);
                      switch (layout.getKind()) {
                      case KVLayoutKind::HeadMajor:
                        offsets = {bi, zero, p, zero};
                        sizes = {one, hkv, one, d};
                        break;
                      case KVLayoutKind::TokenMajor:
                        offsets = {bi, p, zero, zero};
                        sizes = {one, one, hkv, d};
                        break;
                      case KVLayoutKind::MLALatent:
                        offsets = {bi, p, zero};
                        sizes = {one, one, d};
                        break;
                      case KVLayoutKind::Paged: {
                        Value slot = arith::RemUIOp::create(
                            tb, l3, p, cstIndex(tb, l3, layout.getPageSize()));
                        offsets = {page, slot, zero, zero};
                        sizes = {one, one, hkv, d};
                        break;
                      }
                      }
                      SmallVector<OpFoldResult> strides(offsets.size(), one);
                      // Copy into the destination slice with linalg.copy
                      // (loops) rather than inserting `src` directly: the
                      // strided memref.copy that would bufferize into needs
                      // a runtime helper compiled libraries do not link.
                      Value dest = tensor::ExtractSliceOp::create(
                          tb, l3, row, cache, offsets, sizes, strides);
                      Value copied = linalg::CopyOp::create(tb, l3, src, dest)
                                         .getResult(0);
                      Value updated = tensor::InsertSliceOp::create(
                          tb, l3, copied, cache, offsets, sizes, strides);
                      scf::YieldOp::create(tb, l3, updated);
                    },
                    [&](OpBuilder &eb, Location l3) {
                      scf::YieldOp::create(eb, l3, cache);
                    });
                scf::YieldOp::create(ib, l2, ifOp.getResults());
              });
          scf::YieldOp::create(ob, l, inner.getResults());
        });
    rw.replaceOp(op, outer.getResults());
    return success();
  }
};

struct LowerSelectKVPages : OpRewritePattern<SelectKVPagesOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelectKVPagesOp op,
                                PatternRewriter &rw) const override {
    MLIRContext *ctx = op.getContext();
    Location loc = op.getLoc();
    IREmitter rb(rw, loc);
    RankedTensorType qType = op.getQuery().getType(),
                     mType = op.getKeyMin().getType();
    const int64_t B = mType.getDimSize(0), Hkv = mType.getDimSize(1),
                  P = mType.getDimSize(2), H = qType.getDimSize(1);
    const int64_t group = H / Hkv, k = static_cast<int64_t>(op.getK()),
                  pageSize = static_cast<int64_t>(op.getPageSize());
    Type i32 = rw.getI32Type();

    // bound[b,h,p] = Σ_d max(q[b,h,d]·kmin[b,h/g,p,d],
    // q[b,h,d]·kmax[b,h/g,p,d])
    AffineExpr b, h, p, d;
    bindDims(ctx, b, h, p, d);
    SmallVector<AffineExpr> qExprs = {b, h, d};
    if (qType.getRank() == 4)
      qExprs = {b, h, getAffineConstantExpr(0, ctx), d};
    AffineMap boundMap =
        AffineMap::get(4, 0, {b, h.floorDiv(group), p, d}, ctx);
    Value bounds = rb.generic(
        {op.getQuery(), op.getKeyMin(), op.getKeyMax()},
        rb.filled({B, H, P}, 0.0),
        {AffineMap::get(4, 0, qExprs, ctx), boundMap, boundMap,
         AffineMap::get(4, 0, {b, h, p}, ctx)},
        {kPar, kPar, kPar, kRed}, [](OpBuilder &nb, Location l, ValueRange a) {
          Value q = toF32(nb, l, a[0]);
          Value lo = arith::MulFOp::create(nb, l, q, toF32(nb, l, a[1]));
          Value hi = arith::MulFOp::create(nb, l, q, toF32(nb, l, a[2]));
          Value best = arith::MaximumFOp::create(nb, l, lo, hi);
          yield(nb, l, arith::AddFOp::create(nb, l, a[3], best));
        });
    // score[b,j,p] = Σ_{r<g} bound[b, j·g + r, p], the g terms unrolled (a
    // reshape of `bounds` would leave a host-side view op on cuda).
    AffineMap id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
    Value scores = rb.generic(
        {}, rb.empty({B, Hkv, P}, rb.f32), {id3}, {kPar, kPar, kPar},
        [&](OpBuilder &nb, Location l, ValueRange) {
          Value bi = linalg::IndexOp::create(nb, l, 0);
          Value first = arith::MulIOp::create(
              nb, l, linalg::IndexOp::create(nb, l, 1), cstIndex(nb, l, group));
          Value page = linalg::IndexOp::create(nb, l, 2);
          Value sum = cstF32(nb, l, 0.0);
          for (int64_t r = 0; r < group; ++r) {
            Value head =
                arith::AddIOp::create(nb, l, first, cstIndex(nb, l, r));
            Value x = tensor::ExtractOp::create(nb, l, bounds,
                                                ValueRange{bi, head, page});
            sum = arith::AddFOp::create(nb, l, sum, x);
          }
          yield(nb, l, sum);
        });

    // n = min(ceil(max(L, 0) / page_size), P) valid pages; the candidates
    // for slots 1.. are the pages before the current one, [0, n - 1).
    auto numPages = [&](OpBuilder &nb, Location l, Value len) {
      Value v = arith::IndexCastOp::create(nb, l, nb.getIndexType(), len);
      v = arith::MaxSIOp::create(nb, l, v, cstIndex(nb, l, 0));
      v = arith::CeilDivSIOp::create(nb, l, v, cstIndex(nb, l, pageSize));
      return arith::MinSIOp::create(nb, l, v, cstIndex(nb, l, P)).getResult();
    };
    auto isCandidate = [&](OpBuilder &nb, Location l, Value page, Value n) {
      Value last = arith::SubIOp::create(nb, l, n, cstIndex(nb, l, 1));
      return arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, page, last)
          .getResult();
    };

    // rank[b,j,p] = #{candidates p2 ranked before p}: higher score, or the
    // same score and a lower index.
    AffineExpr j, p2;
    bindDims(ctx, b, j, p, p2);
    Value zeroI32 = arith::ConstantOp::create(rw, loc, rw.getI32IntegerAttr(0));
    Value rankInit =
        linalg::FillOp::create(rw, loc, zeroI32, rb.empty({B, Hkv, P}, i32))
            .getResult(0);
    Value ranks = rb.generic(
        {scores, scores, op.getSeqLens()}, rankInit,
        {AffineMap::get(4, 0, {b, j, p}, ctx),
         AffineMap::get(4, 0, {b, j, p2}, ctx), AffineMap::get(4, 0, {b}, ctx),
         AffineMap::get(4, 0, {b, j, p}, ctx)},
        {kPar, kPar, kPar, kRed}, [&](OpBuilder &nb, Location l, ValueRange a) {
          Value self = linalg::IndexOp::create(nb, l, 2);
          Value other = linalg::IndexOp::create(nb, l, 3);
          Value better = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT,
                                               a[1], a[0]);
          Value tie = arith::AndIOp::create(
              nb, l,
              arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[1],
                                    a[0]),
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, other,
                                    self));
          Value before = arith::AndIOp::create(
              nb, l, isCandidate(nb, l, other, numPages(nb, l, a[2])),
              arith::OrIOp::create(nb, l, better, tie));
          Value one = arith::ExtUIOp::create(nb, l, nb.getI32Type(), before);
          yield(nb, l, arith::AddIOp::create(nb, l, a[3], one));
        });

    // result[b,j,0] = n - 1; result[b,j,r] = the candidate of rank r - 1, or
    // -1 (max over p of the page that qualifies, else -1).
    AffineExpr slot;
    bindDims(ctx, b, j, slot, p);
    Value minusOne =
        arith::ConstantOp::create(rw, loc, rw.getI32IntegerAttr(-1));
    Value init =
        linalg::FillOp::create(rw, loc, minusOne, rb.empty({B, Hkv, k}, i32))
            .getResult(0);
    Value out = rb.generic(
        {ranks, op.getSeqLens()}, init,
        {AffineMap::get(4, 0, {b, j, p}, ctx), AffineMap::get(4, 0, {b}, ctx),
         AffineMap::get(4, 0, {b, j, slot}, ctx)},
        {kPar, kPar, kPar, kRed}, [&](OpBuilder &nb, Location l, ValueRange a) {
          Value s = linalg::IndexOp::create(nb, l, 2);
          Value page = linalg::IndexOp::create(nb, l, 3);
          Value n = numPages(nb, l, a[1]);
          Value rank =
              arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[0]);
          Value wanted = arith::AndIOp::create(
              nb, l, isCandidate(nb, l, page, n),
              arith::CmpIOp::create(
                  nb, l, arith::CmpIPredicate::eq,
                  arith::AddIOp::create(nb, l, rank, cstIndex(nb, l, 1)), s));
          Value pick =
              arith::SelectOp::create(nb, l, wanted, page, cstIndex(nb, l, -1));
          Value current = arith::SubIOp::create(nb, l, n, cstIndex(nb, l, 1));
          Value first = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                              s, cstIndex(nb, l, 0));
          Value v = arith::SelectOp::create(nb, l, first, current, pick);
          v = arith::IndexCastOp::create(nb, l, nb.getI32Type(), v);
          yield(nb, l, arith::MaxSIOp::create(nb, l, a[2], v));
        });
    rw.replaceOp(op, out);
    return success();
  }
};

} // namespace

void kestrel::populateKVCacheReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerDecodeAttention, LowerKVAppend, LowerSelectKVPages>(
      patterns.getContext());
}
