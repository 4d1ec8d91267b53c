//===- RecognizeMoe.cpp - Dense-mask expert loop -> route + moe -----------===//
//
// kestrel-recognize, MoE (docs/architecture.md §1). Mixtral-style top-k MoE
// written as the dense-mask expert loop, at the last addf of the loop:
//
//   out = [zeros +] Σ_e  P_e · expert_e(X)            (a tree of addf)
//   P_e = Σ_last(select(idx == e, w, 0) | uitofp(idx == e) · w), kept as
//         [N, 1]
//   expert_e(X) = matmul(silu(matmul(X, W1_e)) · matmul(X, W3_e), W2_e)
//   silu(a) = a · sigmoid(a)
//
// with idx, w the indices / values of one kestrel.top_k (axis 1, largest):
//   top_k(softmax(L))                      -> route softmax, w unnormalized
//   v / Σ v of v = top_k(softmax(L)).values -> renormalize
//   softmax(top_k(L).values)               -> renormalize (Mixtral's form)
// X [N, d] and L [N, E] f32, constant W1_e, W3_e [d, ff], W2_e [ff, d], each
// expert e in [0, E) exactly once -> kestrel.route + kestrel.moe with the
// expert weights stacked [E, d, ff] / [E, ff, d].
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/RecognizeMatchers.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <functional>

using namespace mlir;

namespace kestrel::recognize {
namespace {

/// One P_e · expert_e(X) term of the expert loop.
struct ExpertTerm {
  int64_t expert;
  Value x, indices, weights;
  DenseElementsAttr w1, w3, w2;
};

/// Σ_last(select(idx == e, w, 0) | uitofp(idx == e) · w) as [N, 1]
/// -> (e, idx, w).
std::optional<std::tuple<int64_t, Value, Value>> matchRoutingWeight(Value v) {
  Value src = reshapeSource(v);
  auto vt = cast<RankedTensorType>(v.getType());
  if (!src || vt.getRank() != 2 || vt.getDimSize(1) != 1 ||
      cast<RankedTensorType>(src.getType()).getShape() !=
          vt.getShape().drop_back())
    return std::nullopt;
  Value inner = lastAxisSumOf(src);
  std::optional<Elementwise> e = asElementwise(inner);
  if (!e)
    return std::nullopt;
  Value cond, w;
  if (isa<arith::SelectOp>(e->body) && e->args.size() == 3 &&
      splatValue(e->args[2]) == 0.0 && isIdentityOperand(*e, 0) &&
      isIdentityOperand(*e, 1)) {
    cond = e->args[0];
    w = e->args[1];
  } else if (isa<arith::MulFOp>(e->body) && e->args.size() == 2) {
    for (int i : {0, 1})
      if (Value c = unaryOf(e->args[i], "arith.uitofp");
          c && isIdentityOperand(*e, 1 - i)) {
        cond = c;
        w = e->args[1 - i];
        break;
      }
  }
  if (!cond)
    return std::nullopt;
  std::optional<Elementwise> eq = asElementwise(cond);
  auto cmp = eq ? dyn_cast<arith::CmpIOp>(eq->body) : arith::CmpIOp();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq ||
      eq->args.size() != 2)
    return std::nullopt;
  for (int i : {0, 1}) {
    Value c = eq->args[1 - i];
    std::optional<double> ev = splatValue(c);
    auto ct = dyn_cast<RankedTensorType>(c.getType());
    if (!ev || (ct && ct.getNumElements() != 1) || denseConstant(eq->args[i]) ||
        !isIdentityOperand(*eq, i))
      continue;
    return std::make_tuple((int64_t)*ev, eq->args[i], w);
  }
  return std::nullopt;
}

/// expert(X) = matmul(silu(matmul(X, W1)) · matmul(X, W3), W2).
std::optional<ExpertTerm> matchExpert(Value v) {
  std::optional<std::pair<Value, Value>> down = matmulOf(v);
  if (!down)
    return std::nullopt;
  DenseElementsAttr w2 = denseConstant(down->second);
  std::optional<Elementwise> h = asElementwise(down->first);
  if (!w2 || !h || !isa<arith::MulFOp>(h->body) || h->args.size() != 2 ||
      !isIdentityOperand(*h, 0) || !isIdentityOperand(*h, 1))
    return std::nullopt;
  for (int k : {0, 1}) {
    Value a = siluOf(h->args[k]);
    std::optional<std::pair<Value, Value>> gate = matmulOf(a),
                                           up = matmulOf(h->args[1 - k]);
    if (!gate || !up || gate->first != up->first)
      continue;
    DenseElementsAttr w1 = denseConstant(gate->second),
                      w3 = denseConstant(up->second);
    if (!w1 || !w3)
      continue;
    return ExpertTerm{0, gate->first, {}, {}, w1, w3, w2};
  }
  return std::nullopt;
}

/// The gating of `t0`: (logits, top_k, renormalize), or std::nullopt.
std::optional<std::tuple<Value, kestrel::TopKOp, bool>>
matchGating(const ExpertTerm &t0) {
  auto topk = t0.indices.getDefiningOp<kestrel::TopKOp>();
  if (!topk || t0.indices != topk.getIndices() || !topk.getLargest() ||
      topk.getAxis() != 1 || topk.getInput().getType().getRank() != 2)
    return std::nullopt;
  Value values = topk.getValues();
  if (t0.weights == values) {
    Value l = softmaxOf(topk.getInput());
    if (!l)
      return std::nullopt;
    return std::make_tuple(l, topk, false);
  }
  // softmax(v) is itself a divf: tried first.
  if (softmaxOf(t0.weights) == values)
    return std::make_tuple(topk.getInput(), topk, true);
  if (std::optional<Elementwise> div = asElementwise(t0.weights);
      div && isa<arith::DivFOp>(div->body) && div->args.size() == 2) {
    // v / Σ v, the sum kept as [N, 1].
    Value sum = reshapeSource(div->args[1]);
    Value l = softmaxOf(topk.getInput());
    if (div->args[0] != values || !isIdentityOperand(*div, 0) || !sum ||
        lastAxisSumOf(sum) != values || !l)
      return std::nullopt;
    return std::make_tuple(l, topk, true);
  }
  return std::nullopt;
}

std::vector<float> floatsOf(DenseElementsAttr a) {
  std::vector<float> out;
  for (float f : a.getValues<float>())
    out.push_back(f);
  return out;
}

struct RecognizeMoe : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  /// The loop's sum: a tree of addf over the terms and zero constants.
  bool collect(Value v, std::vector<ExpertTerm> &terms,
               std::vector<RankedTensorType> &zeros, int &visited) const {
    if (++visited > 1024)
      return false;
    if (denseConstant(v)) {
      zeros.push_back(cast<RankedTensorType>(v.getType()));
      return splatValue(v) == 0.0;
    }
    std::optional<Elementwise> e = asElementwise(v);
    if (!e || e->args.size() != 2 || !e->maps[0] || !e->maps[1])
      return false;
    if (isa<arith::AddFOp>(e->body))
      return collect(e->args[0], terms, zeros, visited) &&
             collect(e->args[1], terms, zeros, visited);
    if (!isa<arith::MulFOp>(e->body))
      return false;
    for (int i : {0, 1}) {
      auto route = matchRoutingWeight(e->args[i]);
      if (!route)
        continue;
      std::optional<ExpertTerm> t = matchExpert(e->args[1 - i]);
      if (!t || !isIdentityOperand(*e, 1 - i))
        return false;
      std::tie(t->expert, t->indices, t->weights) = *route;
      terms.push_back(*t);
      return true;
    }
    return false;
  }

  LogicalResult matchAndRewrite(linalg::GenericOp root,
                                PatternRewriter &rewriter) const override {
    std::optional<Elementwise> add = root.getNumResults() == 1
                                         ? asElementwise(root.getResult(0))
                                         : std::nullopt;
    if (!add || !isa<arith::AddFOp>(add->body))
      return failure();
    std::vector<ExpertTerm> terms;
    std::vector<RankedTensorType> zeros;
    int visited = 0;
    if (!collect(root.getResult(0), terms, zeros, visited) || terms.size() < 2)
      return failure();
    // One token tensor, one routing, experts 0..E-1 once each, one shape.
    const ExpertTerm &t0 = terms.front();
    auto xt = cast<RankedTensorType>(t0.x.getType());
    if (!xt.getElementType().isF32() || xt.getRank() != 2 ||
        !xt.hasStaticShape() || root.getResult(0).getType() != xt)
      return failure();
    int64_t N = xt.getDimSize(0), d = xt.getDimSize(1);
    int64_t E = (int64_t)terms.size();
    auto w1Shape = cast<ShapedType>(t0.w1.getType()).getShape();
    if (w1Shape.size() != 2 || w1Shape[0] != d)
      return failure();
    int64_t ff = w1Shape[1];
    std::vector<const ExpertTerm *> byExpert(E, nullptr);
    auto ok = [&](DenseElementsAttr a, int64_t r, int64_t c) {
      return a.getElementType().isF32() &&
             cast<ShapedType>(a.getType()).getShape() ==
                 ArrayRef<int64_t>{r, c};
    };
    for (const ExpertTerm &t : terms) {
      if (t.x != t0.x || t.indices != t0.indices || t.weights != t0.weights ||
          t.expert < 0 || t.expert >= E || byExpert[t.expert] ||
          !ok(t.w1, d, ff) || !ok(t.w3, d, ff) || !ok(t.w2, ff, d))
        return failure();
      byExpert[t.expert] = &t;
    }
    // Zero constants must not broadcast the sum beyond [N, d].
    for (RankedTensorType z : zeros) {
      auto zs = z.getShape();
      if (zs.size() > 2)
        return failure();
      for (size_t i = 0; i < zs.size(); ++i)
        if (zs[zs.size() - 1 - i] != 1 &&
            zs[zs.size() - 1 - i] != (i == 0 ? d : N))
          return failure();
    }
    auto gating = matchGating(t0);
    if (!gating)
      return failure();
    auto [L, topk, renormalize] = *gating;
    int64_t k = topk.getK();
    auto lt = cast<RankedTensorType>(L.getType());
    if (!lt.getElementType().isF32() ||
        lt.getShape() != ArrayRef<int64_t>{N, E} || k < 1 || k > E)
      return failure();

    // Stack the experts' weights.
    std::vector<float> w1(E * d * ff), w3(E * d * ff), w2(E * ff * d);
    for (int64_t e = 0; e < E; ++e) {
      std::vector<float> a = floatsOf(byExpert[e]->w1),
                         c = floatsOf(byExpert[e]->w3),
                         o = floatsOf(byExpert[e]->w2);
      std::copy(a.begin(), a.end(), w1.begin() + e * d * ff);
      std::copy(c.begin(), c.end(), w3.begin() + e * d * ff);
      std::copy(o.begin(), o.end(), w2.begin() + e * ff * d);
    }
    Location loc = root.getLoc();
    Type f32 = rewriter.getF32Type();
    auto upType = RankedTensorType::get({E, d, ff}, f32);
    auto downType = RankedTensorType::get({E, ff, d}, f32);
    auto cst = [&](RankedTensorType t, const std::vector<float> &v) {
      return arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(t, ArrayRef<float>(v)));
    };
    Value w1v = cst(upType, w1), w3v = cst(upType, w3), w2v = cst(downType, w2);
    Operation *route = createSoftmaxRoute(
        rewriter, loc, topk.getIndices().getType(),
        RankedTensorType::get({N, k}, f32), L, k, renormalize);
    auto moe = kestrel::MoeOp::create(
        rewriter, loc, xt, t0.x, route->getResult(0), route->getResult(1), w1v,
        w3v, w2v, Value(), Value(), Value(), kestrel::RoutingModeAttr());
    rewriter.replaceOp(root, moe.getResult());
    return success();
  }
};

} // namespace

Operation *createSoftmaxRoute(PatternRewriter &rewriter, Location loc,
                              Type indicesType, Type weightsType, Value logits,
                              int64_t k, bool renormalize) {
  return kestrel::RouteOp::create(
      rewriter, loc, indicesType, weightsType, logits, Value(),
      kestrel::ScoreFunctionAttr::get(rewriter.getContext(),
                                      kestrel::ScoreFunction::Softmax),
      rewriter.getI64IntegerAttr(k),
      renormalize ? rewriter.getUnitAttr() : UnitAttr(), IntegerAttr(),
      IntegerAttr(), FloatAttr(), kestrel::RoutingModeAttr(), IntegerAttr());
}

std::optional<std::tuple<Value, Operation *, bool>>
matchTopKGating(Value indices, Value weights) {
  ExpertTerm t{0, Value(), indices, weights, {}, {}, {}};
  auto g = matchGating(t);
  if (!g)
    return std::nullopt;
  return std::make_tuple(std::get<0>(*g), std::get<1>(*g).getOperation(),
                         std::get<2>(*g));
}

void populateRecognizeMoePatterns(RewritePatternSet &patterns) {
  patterns.add<RecognizeMoe>(patterns.getContext());
}

} // namespace kestrel::recognize
