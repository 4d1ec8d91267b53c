//===- RecognizeCausalConv.cpp - Causal depthwise conv1d -> kestrel op ----===//
//
// kestrel-recognize, causal conv1d (docs/architecture.md §1), as the
// reference Mamba code writes it:
//
//   y = crop(conv(pad(x [B, C, L], K-1 left, p right), w [C, 1, K]) [+ bias
//       [C]], 0:L)                      (the crop optional when p = 0)
//   [silu(y) = y · sigmoid(y)]
//
// with the depthwise convolution as the linalg.generic with loops (n, g, m,
// l, c, k) over x reshaped [B, C, 1, L+K-1+p] and w [C, 1, 1, K] (group = C,
// stride = dilation = 1, reshaped back to [B, C, L+p]), the pad as
// tensor.pad with zero or as the ONNX importer's zero-outside-the-range
// gather, the crop as tensor.extract_slice, the bias as an addf of a [C, 1]
// operand. Becomes kestrel.causal_conv1d (activation none / silu).
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/RecognizeMatchers.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kestrel::recognize {
namespace {

RankedTensorType rt(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Whether `v` is linalg.index `dim`.
bool isIndex(Value v, int64_t dim) {
  auto i = v.getDefiningOp<linalg::IndexOp>();
  return i && (int64_t)i.getDim() == dim;
}

std::optional<int64_t> intConst(Value v) {
  std::optional<double> c = splatValue(v);
  if (!c)
    return std::nullopt;
  return (int64_t)*c;
}

/// (x, left pad) of xp = x [B, C, L] zero-padded along the last dim: a
/// tensor.pad of zero, or the gather generic
///   select(0 <= i < L, x[n, c, clamp(i, 0, L-1)], 0), i = index(2) - left.
std::optional<std::pair<Value, int64_t>> padOf(Value xp) {
  if (auto pad = xp.getDefiningOp<tensor::PadOp>()) {
    Value cst = pad.getConstantPaddingValue();
    auto lo = pad.getStaticLow(), hi = pad.getStaticHigh();
    if (!cst || splatValue(cst) != 0.0 || lo.size() != 3 || lo[0] || lo[1] ||
        hi[0] || hi[1] || ShapedType::isDynamic(lo[2]))
      return std::nullopt;
    return std::pair(pad.getSource(), lo[2]);
  }
  auto gen = xp.getDefiningOp<linalg::GenericOp>();
  if (!gen || gen.getNumDpsInputs() != 0 || gen.getNumResults() != 1 ||
      gen.getNumLoops() != 3 || gen.getNumReductionLoops() != 0)
    return std::nullopt;
  Block &blk = gen.getRegion().front();
  auto sel = cast<linalg::YieldOp>(blk.getTerminator())
                 .getOperand(0)
                 .getDefiningOp<arith::SelectOp>();
  if (!sel || splatValue(sel.getFalseValue()) != 0.0)
    return std::nullopt;
  auto ex = sel.getTrueValue().getDefiningOp<tensor::ExtractOp>();
  if (!ex || ex.getIndices().size() != 3 || !isIndex(ex.getIndices()[0], 0) ||
      !isIndex(ex.getIndices()[1], 1))
    return std::nullopt;
  Value x = ex.getTensor();
  if (x.getParentBlock() == &blk || rt(x).getRank() != 3)
    return std::nullopt;
  int64_t len = rt(x).getDimSize(2);
  // clamp(i, 0, L - 1) = minsi(maxsi(i, 0), L - 1)
  auto mn = ex.getIndices()[2].getDefiningOp<arith::MinSIOp>();
  auto mx = mn ? mn.getLhs().getDefiningOp<arith::MaxSIOp>() : arith::MaxSIOp();
  if (!mx || intConst(mn.getRhs()) != len - 1 || intConst(mx.getRhs()) != 0)
    return std::nullopt;
  Value i = mx.getLhs();
  auto sub = i.getDefiningOp<arith::SubIOp>();
  std::optional<int64_t> left = sub ? intConst(sub.getRhs()) : std::nullopt;
  if (!left || !isIndex(sub.getLhs(), 2))
    return std::nullopt;
  // inside = (i >= 0) and (i < L)
  auto andOp = sel.getCondition().getDefiningOp<arith::AndIOp>();
  auto ge =
      andOp ? andOp.getLhs().getDefiningOp<arith::CmpIOp>() : arith::CmpIOp();
  auto lt =
      andOp ? andOp.getRhs().getDefiningOp<arith::CmpIOp>() : arith::CmpIOp();
  if (!ge || !lt || ge.getPredicate() != arith::CmpIPredicate::sge ||
      ge.getLhs() != i || intConst(ge.getRhs()) != 0 ||
      lt.getPredicate() != arith::CmpIPredicate::slt || lt.getLhs() != i ||
      intConst(lt.getRhs()) != len)
    return std::nullopt;
  return std::pair(x, *left);
}

struct ConvMatch {
  Value x, w, bias; // w [C, K], bias [C] or null
};

/// The causal conv computed at `y`, or std::nullopt.
std::optional<ConvMatch> causalConv(Value y, PatternRewriter &rewriter) {
  bool cropped = false;
  int64_t outL = -1;
  if (auto s = y.getDefiningOp<tensor::ExtractSliceOp>()) {
    auto st = rt(s.getSource());
    if (!s.hasUnitStride() || st.getRank() != 3 || !st.hasStaticShape() ||
        s.getStaticOffsets() != ArrayRef<int64_t>{0, 0, 0} ||
        s.getStaticSizes().take_front(2) != st.getShape().take_front(2))
      return std::nullopt;
    cropped = true;
    outL = s.getStaticSizes()[2];
    y = s.getSource();
  }
  // Optional bias: addf(conv, b [C, 1]).
  Value biasCol;
  if (std::optional<Elementwise> add = asElementwise(y);
      add && isa<arith::AddFOp>(add->body) && add->args.size() == 2) {
    MLIRContext *ctx = y.getContext();
    AffineMap col = AffineMap::get(
        3, 0, {getAffineDimExpr(1, ctx), getAffineConstantExpr(0, ctx)}, ctx);
    if (!isIdentityOperand(*add, 0) || add->maps[1] != col)
      return std::nullopt;
    y = add->args[0];
    biasCol = add->args[1];
  }
  Value conv4 = reshapeSource(y);
  auto gen =
      conv4 ? conv4.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!gen || gen.getNumDpsInputs() != 2 || gen.getNumResults() != 1 ||
      gen.getNumLoops() != 6 || gen.getNumReductionLoops() != 2 ||
      !gen.hasPureTensorSemantics())
    return std::nullopt;
  MLIRContext *ctx = y.getContext();
  auto d = [&](int i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineMap> want = {
      AffineMap::get(6, 0, {d(0), d(1), d(4), d(3) + d(5)}, ctx),
      AffineMap::get(6, 0, {d(1), d(2), d(4), d(5)}, ctx),
      AffineMap::get(6, 0, {d(0), d(1), d(2), d(3)}, ctx)};
  auto iters = gen.getIteratorTypesArray();
  if (gen.getIndexingMapsArray() != want ||
      iters[4] != utils::IteratorType::reduction ||
      iters[5] != utils::IteratorType::reduction)
    return std::nullopt;
  // The body: acc + xp · w, through matmulOf's check of the same body shape.
  Block &blk = gen.getRegion().front();
  auto addf = cast<linalg::YieldOp>(blk.getTerminator())
                  .getOperand(0)
                  .getDefiningOp<arith::AddFOp>();
  auto mulf =
      addf ? addf.getRhs().getDefiningOp<arith::MulFOp>() : arith::MulFOp();
  if (!mulf || addf.getLhs() != blk.getArgument(2) ||
      mulf.getLhs() != blk.getArgument(0) ||
      mulf.getRhs() != blk.getArgument(1) ||
      (splatValue(gen.getDpsInits()[0]) &&
       *splatValue(gen.getDpsInits()[0]) != 0.0))
    return std::nullopt;
  if (auto fill = gen.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
      !fill || splatValue(fill.getInputs()[0]) != 0.0)
    return std::nullopt;
  Value xp = reshapeSource(gen.getInputs()[0]);
  Value w4 = gen.getInputs()[1];
  if (!xp || rt(xp).getRank() != 3 || !rt(xp).hasStaticShape())
    return std::nullopt;
  int64_t B = rt(xp).getDimSize(0), C = rt(xp).getDimSize(1),
          P = rt(xp).getDimSize(2);
  auto w4s = rt(w4).getShape();
  int64_t K = w4s.size() == 4 ? w4s[3] : -1;
  if (rt(gen.getInputs()[0]).getShape() != ArrayRef<int64_t>{B, C, 1, P} ||
      w4s != ArrayRef<int64_t>{C, 1, 1, K} || K < 1 ||
      !rt(xp).getElementType().isF32() ||
      rt(y).getShape() != ArrayRef<int64_t>{B, C, P - K + 1})
    return std::nullopt;
  Value x = xp;
  int64_t left = 0;
  if (std::optional<std::pair<Value, int64_t>> p = padOf(xp))
    std::tie(x, left) = *p;
  auto xt = rt(x);
  if (xt.getShape().take_front(2) != ArrayRef<int64_t>{B, C} ||
      !xt.getElementType().isF32())
    return std::nullopt;
  int64_t L = xt.getDimSize(2), right = P - L - left;
  if (left != K - 1 || right < 0 || (cropped ? outL != L : right != 0))
    return std::nullopt;
  // w [C, K] and bias [C]: constants reshaped here, values through their
  // reshape.
  Location loc = gen.getLoc();
  auto wType = RankedTensorType::get({C, K}, rewriter.getF32Type());
  auto bType = RankedTensorType::get({C}, rewriter.getF32Type());
  auto asType = [&](Value v, RankedTensorType t) -> Value {
    if (!v || v.getType() == t)
      return v;
    if (DenseElementsAttr c = denseConstant(v))
      return arith::ConstantOp::create(rewriter, loc, c.reshape(t));
    Value src = reshapeSource(v);
    return src && src.getType() == t ? src : Value();
  };
  if (!rt(w4).getElementType().isF32() ||
      (biasCol && (rt(biasCol).getShape() != ArrayRef<int64_t>{C, 1} ||
                   !rt(biasCol).getElementType().isF32())))
    return std::nullopt;
  // Check before building anything.
  auto usable = [&](Value v, RankedTensorType t) {
    if (!v || v.getType() == t || denseConstant(v))
      return true;
    Value src = reshapeSource(v);
    return src && src.getType() == t;
  };
  SmallVector<int64_t> w3{C, 1, K};
  auto w3Type = RankedTensorType::get(w3, rewriter.getF32Type());
  Value wSrc = denseConstant(w4) ? w4 : reshapeSource(w4);
  if (!wSrc ||
      (!denseConstant(w4) && wSrc.getType() != w3Type &&
       wSrc.getType() != wType) ||
      !usable(biasCol, bType))
    return std::nullopt;
  Value w = denseConstant(w4) ? asType(w4, wType)
            : wSrc.getType() == wType
                ? wSrc
                : tensor::CollapseShapeOp::create(
                      rewriter, loc, wType, wSrc,
                      SmallVector<ReassociationIndices>{{0, 1}, {2}})
                      .getResult();
  return ConvMatch{x, w, asType(biasCol, bType)};
}

struct RecognizeCausalConv : RewritePattern {
  RecognizeCausalConv(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    if (root->getNumResults() != 1 ||
        !isa<tensor::ExtractSliceOp, tensor::ReshapeOp, tensor::ExpandShapeOp,
             tensor::CollapseShapeOp, linalg::GenericOp>(root))
      return failure();
    auto t = dyn_cast<RankedTensorType>(root->getResult(0).getType());
    if (!t || t.getRank() != 3)
      return failure();
    Value y = root->getResult(0);
    auto act = kestrel::ConvActivation::None;
    if (Value s = siluOf(y)) {
      y = s;
      act = kestrel::ConvActivation::Silu;
    }
    // The SiLU is matched at its own mulf; a conv read by one is matched
    // there, so a greedy rewrite cannot split the pair.
    if (act == kestrel::ConvActivation::None &&
        llvm::any_of(y.getUsers(), [&](Operation *u) {
          return u->getNumResults() == 1 && siluOf(u->getResult(0)) == y;
        }))
      return failure();
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(root);
    std::optional<ConvMatch> m = causalConv(y, rewriter);
    if (!m)
      return failure();
    auto xt = rt(m->x);
    int64_t C = xt.getDimSize(1), K = rt(m->w).getDimSize(1);
    auto stateType = RankedTensorType::get({xt.getDimSize(0), C, K - 1},
                                           xt.getElementType());
    auto conv = kestrel::CausalConv1dOp::create(
        rewriter, root->getLoc(), xt, stateType, m->x, m->w, m->bias, Value(),
        kestrel::ConvActivationAttr::get(rewriter.getContext(), act));
    rewriter.replaceOp(root, conv.getY());
    return success();
  }
};

} // namespace

void populateRecognizeCausalConvPatterns(RewritePatternSet &patterns) {
  patterns.add<RecognizeCausalConv>(patterns.getContext());
}

} // namespace kestrel::recognize
