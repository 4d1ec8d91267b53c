//===- RecognizeAttention.cpp - Decomposed attention -> kestrel.attention -===//
//
// kestrel-recognize, attention family (docs/architecture.md §1). At the
// matmul that closes
//
//   matmul([Q * a], [transpose(K, perm = [0, 1, 3, 2]) * b])
//     -> [mulf by a constant scalar | divf by a constant scalar]
//     -> [addf of a constant causal mask (0 / -inf)
//         | select(constant lower-triangular i1, x, -inf)
//         | select(constant strict upper-triangular i1, -inf, x)]
//     -> softmax over the last axis
//     -> [select(isnan(x), 0, x): PyTorch SDPA's guard, dropped]
//     -> matmul(., V)
//
// on rank-4 [B, H, T, D] f32 tensors (matmuls as linalg.generic,
// linalg.batch_matmul; transposes as generic copies or linalg.transpose;
// softmax as linalg.softmax or exp(x - max) / Σ) the pattern writes one
// kestrel.attention (causal when the mask is the causal mask, scale from the
// constant, 1 without one). Conservative: every constant is checked element
// by element (a "-inf" may also be the lowest finite f32, as Hugging Face
// writes it); anything else is left alone. K and V repeated over the query
// heads (repeat_kv: reshape [B, Hkv, S, D] -> [B, Hkv, 1, S, D], broadcast to
// [B, Hkv, g, S, D], reshape to [B, Hkv·g, S, D]) are taken from before the
// repeat (GQA). PyTorch's SDPA decomposition (the dynamo exporter's form)
// scales Q and K^T by constants a, b = sqrt(scale) each (scale · a · b
// overall) and transposes K as reshape(transpose(reshape(K, [B·H, S, D]),
// [0, 2, 1]), [B, H, D, S]), with repeat_kv's broadcast reshaped straight to
// [B·H, S, D].
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/RecognizeMatchers.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>

using namespace mlir;

namespace kestrel::recognize {
namespace {

RankedTensorType typeOfV(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// A static rank-4 tensor of f32, f16 or bf16 (the storage types of
/// kestrel.attention).
bool isFloatRank4(Value v) {
  RankedTensorType t = v ? typeOfV(v) : RankedTensorType();
  return t && t.getRank() == 4 && t.hasStaticShape() &&
         (t.getElementType().isF32() || t.getElementType().isF16() ||
          t.getElementType().isBF16());
}

/// The constant `a` read through `map` by an op with loops [B, H, T, S], as
/// a function of (t, s): each leading dim of `a` must be 1 and its last two
/// map results d2 / d3 or 0. Calls `visibleAt(linear index)` for every (t,
/// s); returns true for the causal mask s <= t + S - T, false for "all
/// visible", std::nullopt otherwise.
std::optional<bool>
classifyMask(DenseElementsAttr a, AffineMap map, int64_t T, int64_t S,
             function_ref<std::optional<bool>(int64_t)> visibleAt) {
  auto shape = cast<ShapedType>(a.getType()).getShape();
  int64_t rank = shape.size();
  if (rank < 2 || rank > 4 || map.getNumResults() != (unsigned)rank)
    return std::nullopt;
  for (int64_t i = 0; i + 2 < rank; ++i)
    if (shape[i] != 1)
      return std::nullopt;
  auto reads = [&](int64_t i, int64_t dim) {
    AffineExpr e = map.getResult(i);
    if (auto c = dyn_cast<AffineConstantExpr>(e))
      return c.getValue() == 0 && shape[i] == 1;
    auto d = dyn_cast<AffineDimExpr>(e);
    return d && (int64_t)d.getPosition() == dim;
  };
  if (!reads(rank - 2, 2) || !reads(rank - 1, 3))
    return std::nullopt;
  int64_t mt = shape[rank - 2], ms = shape[rank - 1];
  if ((mt != T && mt != 1) || (ms != S && ms != 1))
    return std::nullopt;
  bool causal = true, all = true;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t s = 0; s < S; ++s) {
      int64_t idx = (mt == 1 ? 0 : t) * ms + (ms == 1 ? 0 : s);
      std::optional<bool> vis = visibleAt(idx);
      if (!vis)
        return std::nullopt;
      causal &= *vis == (s <= t + S - T);
      all &= *vis;
    }
  if (all)
    return false;
  if (causal)
    return true;
  return std::nullopt;
}

/// Peels an optional mask off `logits`: the unmasked logits and whether the
/// mask is causal; std::nullopt when `logits` adds/selects something else.
std::optional<std::pair<Value, bool>> peelMask(Value logits) {
  std::optional<Elementwise> e = asElementwise(logits);
  if (!e || !isFloatRank4(logits))
    return std::pair(logits, false);
  auto ts = typeOfV(logits).getShape();
  int64_t T = ts[2], S = ts[3];
  if (isa<arith::AddFOp>(e->body) && e->args.size() == 2) {
    for (unsigned i : {0u, 1u}) {
      DenseElementsAttr m = denseConstant(e->args[1 - i]);
      if (!m || !e->maps[1 - i] || !isIdentityOperand(*e, i) ||
          !isa<FloatType>(m.getElementType()))
        continue;
      SmallVector<double> mv;
      for (APFloat f : m.getValues<APFloat>())
        mv.push_back(f.convertToDouble());
      std::optional<bool> c =
          classifyMask(m, e->maps[1 - i], T, S, [&](int64_t idx) {
            if (mv[idx] == 0)
              return std::optional<bool>(true);
            if (isMinusInf(mv[idx]))
              return std::optional<bool>(false);
            return std::optional<bool>();
          });
      if (!c)
        return std::nullopt;
      return std::pair(e->args[i], *c);
    }
    return std::nullopt; // an addf that is not a mask
  }
  if (isa<arith::SelectOp>(e->body) && e->args.size() == 3) {
    DenseElementsAttr cond = denseConstant(e->args[0]);
    if (!cond || !e->maps[0] || !cond.getElementType().isInteger(1))
      return std::nullopt;
    int fillIdx = -1;
    for (int i : {1, 2}) {
      std::optional<double> f = splatValue(e->args[i]);
      if (f && isMinusInf(*f))
        fillIdx = i;
    }
    if (fillIdx < 0)
      return std::nullopt;
    unsigned xi = fillIdx == 1 ? 2 : 1;
    if (!isIdentityOperand(*e, xi))
      return std::nullopt;
    SmallVector<bool> cv(cond.getValues<bool>().begin(),
                         cond.getValues<bool>().end());
    std::optional<bool> c =
        classifyMask(cond, e->maps[0], T, S, [&](int64_t idx) {
          return std::optional<bool>(fillIdx == 1 ? !cv[idx] : cv[idx]);
        });
    if (!c)
      return std::nullopt;
    return std::pair(e->args[xi], *c);
  }
  return std::pair(logits, false);
}

/// P of select(isnan(P), 0, P), the guard PyTorch's SDPA decomposition (the
/// dynamo exporter's default attention) puts after the softmax for fully
/// masked rows; `p` itself otherwise. Dropping it is exact for the masks
/// peelMask accepts (causal or none: every row keeps a key, so no 0/0).
Value peelNanGuard(Value p) {
  std::optional<Elementwise> e = asElementwise(p);
  if (!e || !isa<arith::SelectOp>(e->body) || e->args.size() != 3 ||
      !isIdentityOperand(*e, 0) || !isIdentityOperand(*e, 2))
    return p;
  std::optional<double> zero = splatValue(e->args[1]);
  std::optional<Elementwise> c = asElementwise(e->args[0]);
  auto cmp = c ? dyn_cast<arith::CmpFOp>(c->body) : arith::CmpFOp();
  Value x = e->args[2];
  if (!zero || *zero != 0 || !cmp ||
      cmp.getPredicate() != arith::CmpFPredicate::UNO || c->args.size() != 2 ||
      c->args[0] != x || c->args[1] != x || !isIdentityOperand(*c, 0))
    return p;
  return x;
}

/// Peels an optional constant scale off `logits`: (unscaled, scale);
/// std::nullopt for a runtime scale.
std::optional<std::pair<Value, double>> peelScale(Value logits) {
  std::optional<Elementwise> e = asElementwise(logits);
  if (!e || e->args.size() != 2 || !isa<arith::MulFOp, arith::DivFOp>(e->body))
    return std::pair(logits, 1.0);
  bool isDiv = isa<arith::DivFOp>(e->body);
  for (unsigned i = isDiv ? 1 : 0; i < 2; ++i) {
    Value c = e->args[i];
    std::optional<double> f = splatValue(c);
    if (!f || !std::isfinite(*f) || *f == 0)
      continue;
    if (auto t = dyn_cast<RankedTensorType>(c.getType()); t && t.getRank() > 4)
      continue;
    if (!isIdentityOperand(*e, 1 - i))
      return std::nullopt;
    return std::pair(e->args[1 - i], isDiv ? 1.0 / *f : *f);
  }
  return std::nullopt; // a runtime scale: leave it
}

/// x [B, Hkv, S, D] when `e` = broadcast(reshape(x, [B, Hkv, 1, S, D]),
/// [B, Hkv, g, S, D]) is repeat_kv's broadcast to `rs` = [B, Hkv·g, S, D]
/// heads, or null.
Value unrepeatFrom(Value e, ArrayRef<int64_t> rs) {
  auto gen = e ? e.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!gen || gen.getNumDpsInputs() != 1 || gen.getNumResults() != 1 ||
      gen.getNumReductionLoops() != 0)
    return nullptr;
  Block &blk = gen.getRegion().front();
  if (blk.getOperations().size() != 1 ||
      cast<linalg::YieldOp>(blk.getTerminator()).getOperand(0) !=
          blk.getArgument(0))
    return nullptr;
  MLIRContext *ctx = e.getContext();
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  // The unit dim is read at 0, or at d2 when g = 1 (a plain copy).
  AffineMap want = AffineMap::get(
      5, 0, {d(0), d(1), getAffineConstantExpr(0, ctx), d(3), d(4)}, ctx);
  AffineMap in = gen.getIndexingMapsArray()[0];
  if ((in != want && !(in.isIdentity() && typeOfV(e).getDimSize(2) == 1)) ||
      !gen.getIndexingMapsArray()[1].isIdentity())
    return nullptr;
  Value u = gen.getInputs()[0];
  Value x = reshapeSource(u);
  if (!isFloatRank4(x) || rs.size() != 4)
    return nullptr;
  auto xs = typeOfV(x).getShape();
  int64_t hkv = xs[1];
  if (hkv <= 0 || rs[1] % hkv)
    return nullptr;
  int64_t g = rs[1] / hkv;
  if (typeOfV(u).getShape() != ArrayRef<int64_t>{xs[0], hkv, 1, xs[2], xs[3]} ||
      typeOfV(e).getShape() != ArrayRef<int64_t>{xs[0], hkv, g, xs[2], xs[3]} ||
      rs != ArrayRef<int64_t>{xs[0], hkv * g, xs[2], xs[3]})
    return nullptr;
  return x;
}

/// x [B, Hkv, S, D] of repeat_kv(x) = reshape(broadcast(reshape(x,
/// [B, Hkv, 1, S, D]), [B, Hkv, g, S, D]), [B, Hkv·g, S, D]), or null.
Value unrepeat(Value r) {
  Value e = reshapeSource(r);
  if (!e || !isFloatRank4(r))
    return nullptr;
  return unrepeatFrom(e, typeOfV(r).getShape());
}

/// K^T as PyTorch's SDPA decomposition writes it: `kt` [B, H, D, S] =
/// reshape(transpose(reshape(k, [B·H, S, D]), [0, 2, 1])), where k is K
/// [B, H, S, D] or repeat_kv's broadcast [B, Hkv, g, S, D]. Returns (K, the
/// un-repeated [B, Hkv, S, D] or null), or std::nullopt.
std::optional<std::pair<Value, Value>> flatTransposedK(Value kt) {
  auto kts = kt ? typeOfV(kt) : RankedTensorType();
  Value flatT = reshapeSource(kt);
  auto tr = transposeOf(flatT);
  if (!kts || !isFloatRank4(kt) || !tr ||
      tr->second != SmallVector<int64_t>{0, 2, 1})
    return std::nullopt;
  int64_t B = kts.getDimSize(0), H = kts.getDimSize(1), D = kts.getDimSize(2),
          S = kts.getDimSize(3);
  Value flat = tr->first, k = reshapeSource(flat);
  if (!k || typeOfV(flat).getShape() != ArrayRef<int64_t>{B * H, S, D})
    return std::nullopt;
  if (isFloatRank4(k) && typeOfV(k).getShape() == ArrayRef<int64_t>{B, H, S, D})
    return std::pair(k, unrepeat(k));
  if (Value x = unrepeatFrom(k, {B, H, S, D}))
    return std::pair(Value(), x);
  return std::nullopt;
}

struct RecognizeAttention : RewritePattern {
  RecognizeAttention(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    if (!isa<linalg::GenericOp, linalg::BatchMatmulOp>(root) ||
        root->getNumResults() != 1)
      return failure();
    Value out = root->getResult(0);
    std::optional<std::pair<Value, Value>> pv = matmulOf(out);
    if (!pv || !isFloatRank4(pv->first) || !isFloatRank4(pv->second))
      return failure();
    Value P = peelNanGuard(pv->first), V = pv->second;
    Value logits = softmaxOf(P);
    if (!logits)
      return failure();
    std::optional<std::pair<Value, bool>> masked = peelMask(logits);
    if (!masked)
      return failure();
    std::optional<std::pair<Value, double>> scaled = peelScale(masked->first);
    if (!scaled)
      return failure();
    Value raw = scaled->first;
    std::optional<std::pair<Value, Value>> qk = matmulOf(raw);
    if (!qk)
      return failure();
    // SDPA scales Q and K^T by sqrt(scale) each: constant factors of either
    // operand join the scale.
    double scale = scaled->second;
    // (A runtime factor of Q or K^T is part of that operand.)
    auto operandScale = [](Value v) {
      return peelScale(v).value_or(std::pair(v, 1.0));
    };
    auto [Q, qScale] = operandScale(qk->first);
    auto [KT, kScale] = operandScale(qk->second);
    scale *= qScale * kScale;
    Value K, kk;
    auto tr = transposeOf(KT);
    if (tr && tr->second == SmallVector<int64_t>{0, 1, 3, 2}) {
      K = tr->first;
      kk = isFloatRank4(K) ? unrepeat(K) : Value();
    } else if (auto flat = flatTransposedK(KT)) {
      std::tie(K, kk) = *flat;
    } else {
      return failure();
    }
    if (!isFloatRank4(Q) || !isFloatRank4(KT))
      return failure();
    auto qs = typeOfV(Q).getShape(), kts = typeOfV(KT).getShape(),
         vs = typeOfV(V).getShape();
    int64_t B = qs[0], H = qs[1], T = qs[2], D = qs[3], S = kts[3];
    if (kts[0] != B || kts[1] != H || kts[2] != D || vs[0] != B || vs[1] != H ||
        vs[2] != S)
      return failure();
    // Every step is exactly [B, H, T, S] (no broadcast anywhere).
    for (Value v : {raw, masked->first, logits, P})
      if (typeOfV(v).getShape() != ArrayRef<int64_t>{B, H, T, S})
        return failure();
    Value vv = unrepeat(V);
    // K known only un-repeated (SDPA's flattened form): V must be too.
    if (!K && !(vv && typeOfV(kk).getDimSize(1) == typeOfV(vv).getDimSize(1)))
      return failure();
    if (kk && vv && typeOfV(kk).getDimSize(1) == typeOfV(vv).getDimSize(1)) {
      K = kk;
      V = vv;
    }
    // One storage type throughout (f32, or an f16 / bf16 export).
    Type elt = typeOfV(Q).getElementType();
    for (Value v : {K, V, P, raw})
      if (!v || typeOfV(v).getElementType() != elt)
        return failure();
    auto type = RankedTensorType::get({B, H, T, vs[3]}, elt);
    auto op = kestrel::AttentionOp::create(
        rewriter, root->getLoc(), TypeRange{type}, ValueRange{Q, K, V});
    if (masked->second)
      op.setCausal(true);
    op.setScaleAttr(rewriter.getF32FloatAttr((float)scale));
    rewriter.replaceOp(root, op.getResult());
    return success();
  }
};

} // namespace

void populateRecognizeAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RecognizeAttention>(patterns.getContext());
}

} // namespace kestrel::recognize
