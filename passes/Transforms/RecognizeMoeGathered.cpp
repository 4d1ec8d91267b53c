//===- RecognizeMoeGathered.cpp - Gathered expert weights -> moe ----------===//
//
// kestrel-recognize, MoE (docs/architecture.md §1): the form Hugging Face's
// `batched_mm` experts export to (Mixtral, Qwen2-MoE, Jamba, Qwen3-Next,
// GraniteMoeHybrid, DeepSeek-V3 under transformers 5; the exporter's
// GatherND becomes the importer's gather generic). With S = N·k routed
// (token, slot) pairs, s = n·k + j:
//
//   e      = reshape(idx [N, k] -> [S, 1])                 (integer)
//   Xs     = reshape(broadcast(x [N, 1, d] -> [N, k, d]) -> [S, d, 1])
//   H      = reshape(bmm(Wgu[e] [S, 2ff, d], Xs) -> [S, 2ff])
//   A      = silu(H[:, g:g+ff]) · H[:, u:u+ff]      (two column slices)
//   Y      = reshape(bmm(Wd[e] [S, d, ff], reshape(A -> [S, ff, 1])))
//   out    = Σ_j reshape(Y · reshape(w [N, k] -> [S, 1]) -> [N, k, d])
//
// at the final sum over the k slots, Wgu [E, 2ff, d] and Wd [E, d, ff]
// constants (W[e] gathers row e, indices wrapped and clamped to [0, E) as
// the importer does), f32 -> kestrel.moe(x, idx, w) with
// w1[e] = Wgu[e, g:g+ff, :]ᵀ, w3[e] = Wgu[e, u:u+ff, :]ᵀ, w2[e] = Wd[e]ᵀ.
// When idx, w are the top-k of a softmax router (the forms of
// RecognizeMoe.cpp's matchGating), a kestrel.route replaces the router too.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/RecognizeMatchers.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kestrel::recognize {

namespace {

/// Whether `v` is `linalg.index dim`.
bool isLoopIndex(Value v, int64_t dim) {
  auto idx = v.getDefiningOp<linalg::IndexOp>();
  return idx && (int64_t)idx.getDim() == dim;
}

bool isIndexConstant(Value v, int64_t c) {
  auto cst = v.getDefiningOp<arith::ConstantIndexOp>();
  return cst && cst.value() == c;
}

std::optional<int64_t> indexConstant(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantIndexOp>();
  return cst ? std::optional<int64_t>(cst.value()) : std::nullopt;
}

/// `linalg.index dim + off` as the importer writes it (also `off + 1 · i`,
/// before canonicalization) -> off.
std::optional<int64_t> loopIndexPlus(Value v, int64_t dim) {
  int64_t off = 0;
  while (!isLoopIndex(v, dim)) {
    Operation *op = v.getDefiningOp();
    if (!op || !isa<arith::AddIOp, arith::MulIOp>(op))
      return std::nullopt;
    Value a = op->getOperand(0), b = op->getOperand(1);
    std::optional<int64_t> c = indexConstant(a);
    if (c)
      std::swap(a, b);
    else
      c = indexConstant(b);
    if (!c)
      return std::nullopt;
    if (isa<arith::AddIOp>(op))
      off += *c;
    else if (*c != 1)
      return std::nullopt;
    v = a;
  }
  return off;
}

/// The source of a chain of reshapes (v itself when it is none).
Value throughReshapes(Value v) {
  while (Value src = reshapeSource(v))
    v = src;
  return v;
}

/// Peels the importer's index normalization of a gather (clamp to
/// [0, n - 1], wrap of negatives) down to the index_cast of the extracted
/// index; returns the extracted integer, or null.
Value peelIndexNormalization(Value v, int64_t n) {
  if (auto mn = v.getDefiningOp<arith::MinSIOp>();
      mn && isIndexConstant(mn.getRhs(), n - 1))
    v = mn.getLhs();
  if (auto mx = v.getDefiningOp<arith::MaxSIOp>();
      mx && isIndexConstant(mx.getRhs(), 0))
    v = mx.getLhs();
  if (auto sel = v.getDefiningOp<arith::SelectOp>()) {
    auto cmp = sel.getCondition().getDefiningOp<arith::CmpIOp>();
    auto add = sel.getTrueValue().getDefiningOp<arith::AddIOp>();
    Value y = sel.getFalseValue();
    if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::slt ||
        cmp.getLhs() != y || !isIndexConstant(cmp.getRhs(), 0) || !add ||
        add.getLhs() != y || !isIndexConstant(add.getRhs(), n))
      return nullptr;
    v = y;
  }
  auto cast = v.getDefiningOp<arith::IndexCastOp>();
  return cast ? cast.getIn() : nullptr;
}

/// W[e] of a gather generic: no inputs, result [S, R, C], body
/// W[norm(e[i0, 0]), i1, i2] of a constant W [E, R, C] -> (W, e [S, 1]).
std::optional<std::pair<DenseElementsAttr, Value>> gatheredWeight(Value v) {
  auto gen = v ? v.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!gen || gen.getNumDpsInputs() != 0 || gen.getNumResults() != 1 ||
      gen.getNumLoops() != 3 || gen.getNumReductionLoops() != 0 ||
      !gen.getIndexingMapsArray()[0].isIdentity())
    return std::nullopt;
  Block &blk = gen.getRegion().front();
  auto ext = cast<linalg::YieldOp>(blk.getTerminator())
                 .getOperand(0)
                 .getDefiningOp<tensor::ExtractOp>();
  if (!ext || ext->getBlock() != &blk || ext.getIndices().size() != 3 ||
      loopIndexPlus(ext.getIndices()[1], 1) != 0 ||
      loopIndexPlus(ext.getIndices()[2], 2) != 0)
    return std::nullopt;
  DenseElementsAttr w = denseConstant(ext.getTensor());
  if (!w)
    return std::nullopt;
  int64_t E = cast<ShapedType>(w.getType()).getDimSize(0);
  auto inner = peelIndexNormalization(ext.getIndices()[0], E);
  auto idxExt =
      inner ? inner.getDefiningOp<tensor::ExtractOp>() : tensor::ExtractOp();
  if (!idxExt || idxExt.getIndices().size() != 2 ||
      loopIndexPlus(idxExt.getIndices()[0], 0) != 0 ||
      !isIndexConstant(idxExt.getIndices()[1], 0))
    return std::nullopt;
  auto rt = cast<RankedTensorType>(v.getType()).getShape();
  auto wt = cast<ShapedType>(w.getType()).getShape();
  if (rt[1] != wt[1] || rt[2] != wt[2])
    return std::nullopt;
  return std::pair(w, idxExt.getTensor());
}

/// src[:, off : off + n] as the importer's slice generic (no inputs, body
/// src[i0, i1 (+ off)]) -> (src, off).
std::optional<std::pair<Value, int64_t>> columnSlice(Value v) {
  auto gen = v ? v.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!gen || gen.getNumDpsInputs() != 0 || gen.getNumResults() != 1 ||
      gen.getNumLoops() != 2 || gen.getNumReductionLoops() != 0)
    return std::nullopt;
  Block &blk = gen.getRegion().front();
  auto ext = cast<linalg::YieldOp>(blk.getTerminator())
                 .getOperand(0)
                 .getDefiningOp<tensor::ExtractOp>();
  if (!ext || ext.getIndices().size() != 2 ||
      loopIndexPlus(ext.getIndices()[0], 0) != 0)
    return std::nullopt;
  std::optional<int64_t> off = loopIndexPlus(ext.getIndices()[1], 1);
  if (!off)
    return std::nullopt;
  return std::pair(ext.getTensor(), *off);
}

/// Σ over axis 1 of [N, k, d] into a zero fill -> the summand.
Value slotSumOf(Value v) {
  auto red = v.getDefiningOp<linalg::GenericOp>();
  if (!red || red.getNumDpsInputs() != 1 || red.getNumResults() != 1 ||
      red.getNumLoops() != 3 || red.getNumReductionLoops() != 1 ||
      red.getIteratorTypesArray()[1] != utils::IteratorType::reduction)
    return nullptr;
  MLIRContext *ctx = v.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  if (!red.getIndexingMapsArray()[0].isIdentity() ||
      red.getIndexingMapsArray()[1] != AffineMap::get(3, 0, {d(0), d(2)}, ctx))
    return nullptr;
  auto fill = red.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!fill || splatValue(fill.getInputs()[0]) != 0.0)
    return nullptr;
  Block &blk = red.getRegion().front();
  auto add = dyn_cast<arith::AddFOp>(&blk.front());
  if (!add || blk.getOperations().size() != 2 ||
      !llvm::is_contained({add.getLhs(), add.getRhs()}, blk.getArgument(0)) ||
      !llvm::is_contained({add.getLhs(), add.getRhs()}, blk.getArgument(1)))
    return nullptr;
  return red.getInputs()[0];
}

/// x [N, 1, d] of the broadcast [N, 1, d] -> [N, k, d] (a copy generic).
Value slotBroadcastSource(Value v) {
  auto gen = v ? v.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!gen || gen.getNumDpsInputs() != 1 || gen.getNumResults() != 1 ||
      gen.getNumLoops() != 3 || gen.getNumReductionLoops() != 0)
    return nullptr;
  Block &blk = gen.getRegion().front();
  if (blk.getOperations().size() != 1 ||
      cast<linalg::YieldOp>(blk.getTerminator()).getOperand(0) !=
          blk.getArgument(0))
    return nullptr;
  MLIRContext *ctx = v.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap in = gen.getIndexingMapsArray()[0];
  Value x = gen.getInputs()[0];
  if (!gen.getIndexingMapsArray()[1].isIdentity() ||
      in != AffineMap::get(3, 0, {d(0), getAffineConstantExpr(0, ctx), d(2)},
                           ctx) ||
      cast<RankedTensorType>(x.getType()).getDimSize(1) != 1)
    return nullptr;
  return x;
}

/// (A [S, m, c], B [S, c, 1]) of bmm -> (A, B without its unit column's
/// reshape source [S, c]) when B is a reshape of a 2-D tensor.
std::optional<std::pair<Value, Value>> matVecOf(Value v) {
  auto mm = matmulOf(throughReshapes(v));
  if (!mm)
    return std::nullopt;
  auto bt = cast<RankedTensorType>(mm->second.getType());
  Value vec = throughReshapes(mm->second);
  if (bt.getRank() != 3 || bt.getDimSize(2) != 1 || vec == mm->second)
    return std::nullopt;
  return std::pair(mm->first, vec);
}

std::vector<float> transposedExperts(DenseElementsAttr w, int64_t rowOff,
                                     int64_t rows) {
  auto s = cast<ShapedType>(w.getType()).getShape();
  int64_t E = s[0], R = s[1], C = s[2];
  std::vector<float> src(w.getValues<float>().begin(),
                         w.getValues<float>().end());
  std::vector<float> out(E * C * rows);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < C; ++c)
        out[(e * C + c) * rows + r] = src[(e * R + rowOff + r) * C + c];
  return out;
}

struct RecognizeMoeGathered : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp root,
                                PatternRewriter &rewriter) const override {
    if (root.getNumResults() != 1)
      return failure();
    Value summand = slotSumOf(root.getResult(0));
    auto scaled =
        summand ? asElementwise(throughReshapes(summand)) : std::nullopt;
    if (!scaled || !isa<arith::MulFOp>(scaled->body) ||
        scaled->args.size() != 2 || !isIdentityOperand(*scaled, 0))
      return failure();
    // Y · w: Y [S, d] read as is, w [S, 1] broadcast along d.
    Value wFlat = scaled->args[1], weights = throughReshapes(wFlat);
    auto down = matVecOf(scaled->args[0]);
    MLIRContext *ctx = root.getContext();
    auto wt = cast<RankedTensorType>(wFlat.getType());
    if (!down || weights == wFlat || wt.getRank() != 2 ||
        wt.getDimSize(1) != 1 ||
        scaled->maps[1] != AffineMap::get(2, 0,
                                          {getAffineDimExpr(0, ctx),
                                           getAffineConstantExpr(0, ctx)},
                                          ctx))
      return failure();
    auto gd = gatheredWeight(down->first);
    std::optional<Elementwise> act = asElementwise(down->second);
    if (!gd || !act || !isa<arith::MulFOp>(act->body) ||
        act->args.size() != 2 || !isIdentityOperand(*act, 0) ||
        !isIdentityOperand(*act, 1))
      return failure();
    std::optional<std::pair<Value, int64_t>> gate, up;
    for (int i : {0, 1}) {
      gate = columnSlice(siluOf(act->args[i]));
      up = columnSlice(act->args[1 - i]);
      if (gate && up)
        break;
    }
    if (!gate || !up || gate->first != up->first)
      return failure();
    auto upProj = matVecOf(gate->first);
    if (!upProj)
      return failure();
    auto gu = gatheredWeight(upProj->first);
    Value xb = slotBroadcastSource(upProj->second);
    if (!gu || !xb || gu->second != gd->second)
      return failure();
    Value indices = throughReshapes(gu->second);
    if (indices == gu->second)
      return failure();
    return rewrite(root, rewriter, xb, indices, weights, *gu, *gd, gate->second,
                   up->second);
  }

  LogicalResult rewrite(linalg::GenericOp root, PatternRewriter &rewriter,
                        Value xb, Value indices, Value weights,
                        std::pair<DenseElementsAttr, Value> gu,
                        std::pair<DenseElementsAttr, Value> gd, int64_t g,
                        int64_t u) const {
    auto xt = cast<RankedTensorType>(xb.getType());
    auto it = cast<RankedTensorType>(indices.getType());
    auto wt = cast<RankedTensorType>(weights.getType());
    auto rt = cast<RankedTensorType>(root.getResult(0).getType());
    auto guS = cast<ShapedType>(gu.first.getType()).getShape();
    auto gdS = cast<ShapedType>(gd.first.getType()).getShape();
    if (!xt.hasStaticShape() || !xt.getElementType().isF32() ||
        !gu.first.getElementType().isF32() ||
        !gd.first.getElementType().isF32())
      return failure();
    int64_t N = xt.getDimSize(0), d = xt.getDimSize(2), E = guS[0];
    int64_t ff = gdS[2];
    int64_t S = cast<RankedTensorType>(gu.second.getType()).getDimSize(0);
    if (it.getRank() != 2 || S != it.getNumElements() ||
        it.getDimSize(0) != N || !isa<IntegerType>(it.getElementType()) ||
        wt.getShape() != it.getShape() || !wt.getElementType().isF32() ||
        rt.getShape() != ArrayRef<int64_t>{N, d} || guS[2] != d ||
        gdS[0] != E || gdS[1] != d || g < 0 || u < 0 || g + ff > guS[1] ||
        u + ff > guS[1] || g == u)
      return failure();
    Location loc = root.getLoc();
    Type f32 = rewriter.getF32Type();
    auto upType = RankedTensorType::get({E, d, ff}, f32);
    auto downType = RankedTensorType::get({E, ff, d}, f32);
    auto cst = [&](RankedTensorType t, const std::vector<float> &v) {
      return arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(t, ArrayRef<float>(v)));
    };
    Value w1 = cst(upType, transposedExperts(gu.first, g, ff));
    Value w3 = cst(upType, transposedExperts(gu.first, u, ff));
    Value w2 = cst(downType, transposedExperts(gd.first, 0, d));
    Value x = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({N, d}, f32), xb,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});
    if (auto gating = matchTopKGating(indices, weights)) {
      auto [L, topkOp, renormalize] = *gating;
      int64_t k = cast<kestrel::TopKOp>(topkOp).getK();
      Operation *route =
          createSoftmaxRoute(rewriter, loc, it, wt, L, k, renormalize);
      indices = route->getResult(0);
      weights = route->getResult(1);
    }
    auto moe = kestrel::MoeOp::create(rewriter, loc, rt, x, indices, weights,
                                      w1, w3, w2, Value(), Value(), Value(),
                                      kestrel::RoutingModeAttr());
    rewriter.replaceOp(root, moe.getResult());
    return success();
  }
};

} // namespace

void populateRecognizeMoeGatheredPatterns(RewritePatternSet &patterns) {
  patterns.add<RecognizeMoeGathered>(patterns.getContext());
}

} // namespace kestrel::recognize
