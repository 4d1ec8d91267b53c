//===- OnnxRecognizeBlocks.cpp - RoPE, MoE -> kestrel ops -----------------===//
//
// Recognition on the ONNX graph, at import time (like OnnxRecognize.cpp for
// attention), of the decomposed forms PyTorch's exporter writes for the
// subgraphs whose data movement (Slice/Concat, TopK) the importer lowers to
// index arithmetic that a linalg-level pass cannot read back (RMSNorm, made
// of elementwise ops and a reduction only, is recognized after import by the
// kestrel-recognize pass, passes/Transforms/Recognize.cpp):
//
// * Rotate-half RoPE with constant tables, at the closing Add:
//     Add(Mul(x, cos), Mul(Concat(Neg(Slice(x, D/2:D)), Slice(x, 0:D/2),
//         axis = last), sin))       (operands of Add and Mul in any order)
//   on x [B, H, T, D] f32 -> kestrel.rope, when cos/sin ([T, D], leading unit
//   dims allowed) are cos/sin(t · base^(-2i/D)) for positions t = 0..T-1,
//   i = j mod D/2, element by element (tolerance 1e-6 + 2.5e-7 · t, the f32
//   error of the exporter's own table); base is read off the table.
//
// * Mixtral-style top-k MoE in the dense-mask expert loop, at the last Add
//   of the loop:
//     out = [zeros +] Σ_e  P_e · expert_e(X)           (a chain of Adds)
//     P_e = ReduceSum(Where(Equal(idx, e), w, 0) | Mul(Cast(Equal(idx, e)), w),
//                     axes = [last], keepdims)
//     expert_e(X) = MatMul(Mul(silu(MatMul(X, W1_e)), MatMul(X, W3_e)), W2_e)
//     silu(a) = Mul(a, Sigmoid(a))
//   with idx, w from one TopK(axis last, largest) whose input and output are
//     TopK(Softmax(L))                       -> route softmax, w unnormalized
//     Div(v, ReduceSum(v)) of v = TopK(Softmax(L)).values -> renormalize
//     Softmax(TopK(L).values)                -> renormalize (Mixtral's form)
//   X [N, d] and L [N, E] f32, constant W1_e, W3_e [d, ff], W2_e [ff, d], each
//   expert e in [0, E) exactly once -> kestrel.route + kestrel.moe with the
//   expert weights stacked [E, d, ff] / [E, ff, d] at import time.
//
// * Causal depthwise conv1d, as the reference Mamba code writes it:
//     Slice(Conv(x [B, C, L], w [C, 1, K], [bias [C]], group = C,
//                pads = [K-1, p], strides = dilations = 1), 0:L, axis = last)
//   or the Conv alone when p = 0, optionally closed by SiLU
//   (Mul(y, Sigmoid(y))) -> kestrel.causal_conv1d (activation none / silu).
//
// Anything else is left to the standard ops. The matched nodes are still
// imported (other nodes may read them); unused ones are erased after import.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "dialects/Kestrel.h"

#include <cmath>
#include <optional>
#include <set>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

/// Read-only queries on the ONNX graph being imported.
struct GraphView {
  Importer &im;

  /// `name` with Identity nodes looked through (they bind the same Value).
  std::string canon(std::string name) const {
    auto it = im.producers.find(name);
    while (it != im.producers.end() && it->second->op_type() == "Identity" &&
           it->second->input_size() == 1) {
      name = it->second->input(0);
      it = im.producers.find(name);
    }
    return name;
  }
  const onnx::NodeProto *producer(const std::string &name) const {
    auto it = im.producers.find(canon(name));
    return it == im.producers.end() ? nullptr : it->second;
  }
  /// The producer of `name` when it is an `op` node with `inputs` inputs.
  const onnx::NodeProto *is(const std::string &name, StringRef op,
                            int inputs = -1) const {
    const onnx::NodeProto *p = producer(name);
    if (!p || p->op_type() != op || (inputs >= 0 && p->input_size() != inputs))
      return nullptr;
    return p;
  }
  Value value(const std::string &name) const {
    auto it = im.values.find(name);
    return it == im.values.end() ? Value() : it->second;
  }
  DenseElementsAttr cst(const std::string &name) const {
    return im.foldedOf(value(name));
  }
  /// The single value of a constant whose elements are all equal.
  std::optional<double> scalar(const std::string &name) const {
    DenseElementsAttr a = cst(name);
    if (!a || a.getNumElements() == 0)
      return std::nullopt;
    std::optional<double> first;
    if (isa<FloatType>(a.getElementType())) {
      for (APFloat v : a.getValues<APFloat>()) {
        double d = v.convertToDouble();
        if (first && *first != d)
          return std::nullopt;
        first = d;
      }
    } else if (auto it = dyn_cast<IntegerType>(a.getElementType());
               it && it.getWidth() > 1) {
      for (const APInt &v : a.getValues<APInt>()) {
        double d = (double)v.getSExtValue();
        if (first && *first != d)
          return std::nullopt;
        first = d;
      }
    }
    return first;
  }
  std::optional<std::vector<int64_t>> ints(const std::string &name) const {
    DenseElementsAttr a = cst(name);
    auto it = a ? dyn_cast<IntegerType>(a.getElementType()) : IntegerType();
    if (!it || it.getWidth() == 1)
      return std::nullopt;
    std::vector<int64_t> out;
    for (const APInt &v : a.getValues<APInt>())
      out.push_back(v.getSExtValue());
    return out;
  }
  /// Whether the reduction `r` (ReduceMean/ReduceSum) is over the last axis
  /// only of a rank-`rank` input, with keepdims.
  bool reducesLastAxis(const onnx::NodeProto &r, int64_t rank) const {
    std::vector<int64_t> axes = intsAttr(r, "axes");
    if (r.input_size() > 1 && !r.input(1).empty()) {
      std::optional<std::vector<int64_t>> a = ints(r.input(1));
      if (!a)
        return false;
      axes = *a;
    }
    return axes.size() == 1 && (axes[0] == -1 || axes[0] == rank - 1) &&
           intAttr(r, "keepdims", 1) == 1;
  }
  /// Slice of the last axis of `x` (rank `rank`, size `dim`), step 1:
  /// [start, end) after clamping, or std::nullopt.
  std::optional<std::pair<int64_t, int64_t>>
  lastAxisSlice(const onnx::NodeProto &s, int64_t rank, int64_t dim) const {
    std::vector<int64_t> starts, ends, axes, steps;
    if (im.opset < 10) {
      starts = intsAttr(s, "starts");
      ends = intsAttr(s, "ends");
      axes = intsAttr(s, "axes");
    } else {
      std::vector<int64_t> *vecs[] = {&starts, &ends, &axes, &steps};
      for (int i = 0; i < 4; ++i) {
        if (s.input_size() <= i + 1 || s.input(i + 1).empty())
          continue;
        std::optional<std::vector<int64_t>> v = ints(s.input(i + 1));
        if (!v)
          return std::nullopt;
        *vecs[i] = *v;
      }
    }
    if (axes.empty() && rank == 1)
      axes = {0};
    if (starts.size() != 1 || ends.size() != 1 || axes.size() != 1 ||
        (axes[0] != -1 && axes[0] != rank - 1) ||
        (!steps.empty() && (steps.size() != 1 || steps[0] != 1)))
      return std::nullopt;
    auto clamp = [&](int64_t v) {
      if (v < 0)
        v += dim;
      return std::min(std::max<int64_t>(v, 0), dim);
    };
    return std::make_pair(clamp(starts[0]), clamp(ends[0]));
  }
};

bool isF32(Value v) { return v && typeOf(v).getElementType().isF32(); }

std::vector<float> floatsOf(DenseElementsAttr a) {
  std::vector<float> out;
  out.reserve(a.getNumElements());
  for (float f : a.getValues<float>())
    out.push_back(f);
  return out;
}

/// Whether `a` has rank <= `maxRank` and shape [1, ..., 1, trailing...].
bool hasTrailingShape(DenseElementsAttr a, ArrayRef<int64_t> trailing,
                      int64_t maxRank) {
  auto shape = cast<ShapedType>(a.getType()).getShape();
  if ((int64_t)shape.size() < (int64_t)trailing.size() ||
      (int64_t)shape.size() > maxRank)
    return false;
  size_t lead = shape.size() - trailing.size();
  for (size_t i = 0; i < lead; ++i)
    if (shape[i] != 1)
      return false;
  return shape.drop_front(lead) == trailing;
}

} // namespace

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

namespace {

/// The base of the rotate-half tables cos/sin [T, D] (positions 0..T-1), or
/// std::nullopt when they are not such tables.
std::optional<double> ropeTableBase(ArrayRef<float> cosT, ArrayRef<float> sinT,
                                    int64_t T, int64_t D) {
  if (T < 2 || D < 4 || D % 2)
    return std::nullopt;
  int64_t half = D / 2;
  // θ(1, 1) = base^(-2/D).
  double th = std::atan2((double)sinT[D + 1], (double)cosT[D + 1]);
  if (!(th > 0) || th >= 1)
    return std::nullopt;
  double raw = std::pow(th, -(double)half);
  auto fits = [&](double base) {
    for (int64_t t = 0; t < T; ++t) {
      double tol = 1e-6 + 2.5e-7 * (double)t;
      for (int64_t j = 0; j < D; ++j) {
        double i = (double)(j % half);
        double theta = (double)t * std::pow(base, -2.0 * i / (double)D);
        if (std::abs(cosT[t * D + j] - std::cos(theta)) > tol ||
            std::abs(sinT[t * D + j] - std::sin(theta)) > tol)
          return false;
      }
    }
    return true;
  };
  // Prefer the integer base the table was most likely made from.
  for (double base : {std::round(raw), raw})
    if (base > 1 && fits(base))
      return base;
  return std::nullopt;
}

} // namespace

Value Importer::recognizeRope(const onnx::NodeProto &node, ArrayRef<Value> in) {
  if (node.op_type() != "Add" || node.input_size() != 2 || in.size() != 2 ||
      !in[0] || !in[1])
    return nullptr;
  GraphView g{*this};
  // rotate_half(x) at `name`, D the size of the last axis of x.
  auto isRotateHalf = [&](const std::string &name, const std::string &x) {
    const onnx::NodeProto *cat = g.is(name, "Concat", 2);
    Value xv = g.value(x);
    if (!cat || !xv)
      return false;
    int64_t rank = typeOf(xv).getRank(), D = typeOf(xv).getShape().back();
    int64_t axis = intAttr(*cat, "axis", 0);
    if (axis != -1 && axis != rank - 1)
      return false;
    const onnx::NodeProto *neg = g.is(cat->input(0), "Neg", 1);
    const onnx::NodeProto *hi = neg ? g.is(neg->input(0), "Slice") : nullptr;
    const onnx::NodeProto *lo = g.is(cat->input(1), "Slice");
    if (!hi || !lo || g.canon(hi->input(0)) != x || g.canon(lo->input(0)) != x)
      return false;
    return g.lastAxisSlice(*hi, rank, D) == std::make_pair(D / 2, D) &&
           g.lastAxisSlice(*lo, rank, D) ==
               std::make_pair<int64_t, int64_t>(0, D / 2);
  };
  for (int i : {0, 1}) {
    const onnx::NodeProto *mc = g.is(node.input(i), "Mul", 2);
    const onnx::NodeProto *ms = g.is(node.input(1 - i), "Mul", 2);
    if (!mc || !ms)
      continue;
    for (int a : {0, 1}) {
      std::string x = g.canon(mc->input(a));
      Value xv = g.value(x);
      DenseElementsAttr cosA = g.cst(mc->input(1 - a));
      if (!xv || !cosA || !isF32(xv) || typeOf(xv).getRank() != 4 ||
          !typeOf(xv).hasStaticShape())
        continue;
      int64_t T = typeOf(xv).getDimSize(2), D = typeOf(xv).getDimSize(3);
      for (int c : {0, 1}) {
        DenseElementsAttr sinA = g.cst(ms->input(1 - c));
        if (!sinA || !isRotateHalf(ms->input(c), x))
          continue;
        if (!cosA.getElementType().isF32() || !sinA.getElementType().isF32() ||
            !hasTrailingShape(cosA, {T, D}, 4) ||
            !hasTrailingShape(sinA, {T, D}, 4))
          return nullptr;
        std::vector<float> cv = floatsOf(cosA), sv = floatsOf(sinA);
        std::optional<double> base = ropeTableBase(cv, sv, T, D);
        if (!base)
          return nullptr;
        auto op = kestrel::RopeOp::create(
            b, loc, typeOf(xv), xv, Value(), UnitAttr(), IntegerAttr(),
            b.getF32FloatAttr((float)*base), IntegerAttr());
        ++recognizedBlocks;
        return op.getResult();
      }
    }
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// MoE
//===----------------------------------------------------------------------===//

namespace {

/// One P_e · expert_e(X) term of the expert loop.
struct ExpertTerm {
  int64_t expert;
  std::string x, indices, weights;
  DenseElementsAttr w1, w3, w2;
};

/// P_e = ReduceSum(Where(Equal(idx, e), w, 0) | Mul(Cast(Equal(idx, e)), w))
/// -> (e, idx, w).
std::optional<std::tuple<int64_t, std::string, std::string>>
matchRoutingWeight(const GraphView &g, const std::string &name) {
  const onnx::NodeProto *rs = g.is(name, "ReduceSum");
  if (!rs)
    return std::nullopt;
  Value pv = g.value(rs->input(0));
  if (!pv || !g.reducesLastAxis(*rs, typeOf(pv).getRank()))
    return std::nullopt;
  const onnx::NodeProto *inner = g.producer(rs->input(0));
  if (!inner || inner->input_size() < 2)
    return std::nullopt;
  std::string cond, w;
  if (inner->op_type() == "Where" && inner->input_size() == 3 &&
      g.scalar(inner->input(2)) == 0.0) {
    cond = inner->input(0);
    w = inner->input(1);
  } else if (inner->op_type() == "Mul" && inner->input_size() == 2) {
    for (int i : {0, 1})
      if (const onnx::NodeProto *cast = g.is(inner->input(i), "Cast", 1)) {
        cond = cast->input(0);
        w = inner->input(1 - i);
        break;
      }
  }
  if (cond.empty())
    return std::nullopt;
  const onnx::NodeProto *eq = g.is(cond, "Equal", 2);
  if (!eq)
    return std::nullopt;
  for (int i : {0, 1}) {
    std::optional<double> e = g.scalar(eq->input(1 - i));
    DenseElementsAttr ec = g.cst(eq->input(1 - i));
    if (!e || !ec || !isa<IntegerType>(ec.getElementType()) ||
        ec.getNumElements() != 1 || g.cst(eq->input(i)))
      continue;
    return std::make_tuple((int64_t)*e, g.canon(eq->input(i)), g.canon(w));
  }
  return std::nullopt;
}

/// expert(X) = MatMul(Mul(silu(MatMul(X, W1)), MatMul(X, W3)), W2).
std::optional<ExpertTerm> matchExpert(const GraphView &g,
                                      const std::string &name) {
  const onnx::NodeProto *down = g.is(name, "MatMul", 2);
  if (!down)
    return std::nullopt;
  const onnx::NodeProto *h = g.is(down->input(0), "Mul", 2);
  DenseElementsAttr w2 = g.cst(down->input(1));
  if (!h || !w2)
    return std::nullopt;
  for (int k : {0, 1}) {
    const onnx::NodeProto *silu = g.is(h->input(k), "Mul", 2);
    const onnx::NodeProto *up = g.is(h->input(1 - k), "MatMul", 2);
    if (!silu || !up)
      continue;
    for (int l : {0, 1}) {
      const onnx::NodeProto *sig = g.is(silu->input(l), "Sigmoid", 1);
      std::string a = g.canon(silu->input(1 - l));
      if (!sig || g.canon(sig->input(0)) != a)
        continue;
      const onnx::NodeProto *gate = g.is(a, "MatMul", 2);
      if (!gate || g.canon(gate->input(0)) != g.canon(up->input(0)))
        continue;
      DenseElementsAttr w1 = g.cst(gate->input(1)), w3 = g.cst(up->input(1));
      if (!w1 || !w3)
        continue;
      ExpertTerm t;
      t.x = g.canon(gate->input(0));
      t.w1 = w1;
      t.w3 = w3;
      t.w2 = w2;
      return t;
    }
  }
  return std::nullopt;
}

} // namespace

Value Importer::recognizeMoe(const onnx::NodeProto &node, ArrayRef<Value> in) {
  if (node.op_type() != "Add" || node.input_size() != 2 || in.size() != 2 ||
      !in[0] || !in[1])
    return nullptr;
  GraphView g{*this};
  std::vector<ExpertTerm> terms;
  std::vector<DenseElementsAttr> zeros;
  int visited = 0;
  // The loop's sum: a tree of Adds over the terms and zero constants.
  std::function<bool(const std::string &)> collect =
      [&](const std::string &name) -> bool {
    if (++visited > 1024)
      return false;
    if (DenseElementsAttr z = g.cst(name)) {
      zeros.push_back(z);
      return g.scalar(name) == 0.0;
    }
    const onnx::NodeProto *p = g.producer(name);
    if (!p || p->input_size() != 2)
      return false;
    if (p->op_type() == "Add")
      return collect(p->input(0)) && collect(p->input(1));
    if (p->op_type() != "Mul")
      return false;
    for (int i : {0, 1}) {
      auto route = matchRoutingWeight(g, p->input(i));
      if (!route)
        continue;
      std::optional<ExpertTerm> t = matchExpert(g, p->input(1 - i));
      if (!t)
        return false;
      std::tie(t->expert, t->indices, t->weights) = *route;
      terms.push_back(*t);
      return true;
    }
    return false;
  };
  if (!collect(node.input(0)) || !collect(node.input(1)) || terms.size() < 2)
    return nullptr;

  // One token tensor, one routing, experts 0..E-1 once each, one shape.
  const ExpertTerm &t0 = terms.front();
  Value X = g.value(t0.x);
  if (!isF32(X) || typeOf(X).getRank() != 2 || !typeOf(X).hasStaticShape())
    return nullptr;
  int64_t N = typeOf(X).getDimSize(0), d = typeOf(X).getDimSize(1);
  int64_t E = (int64_t)terms.size();
  auto w1Shape = cast<ShapedType>(t0.w1.getType()).getShape();
  if (w1Shape.size() != 2 || w1Shape[0] != d)
    return nullptr;
  int64_t ff = w1Shape[1];
  std::vector<const ExpertTerm *> byExpert(E, nullptr);
  for (const ExpertTerm &t : terms) {
    if (t.x != t0.x || t.indices != t0.indices || t.weights != t0.weights ||
        t.expert < 0 || t.expert >= E || byExpert[t.expert])
      return nullptr;
    auto ok = [&](DenseElementsAttr a, int64_t r, int64_t c) {
      return a.getElementType().isF32() &&
             cast<ShapedType>(a.getType()).getShape() ==
                 ArrayRef<int64_t>{r, c};
    };
    if (!ok(t.w1, d, ff) || !ok(t.w3, d, ff) || !ok(t.w2, ff, d))
      return nullptr;
    byExpert[t.expert] = &t;
  }
  // Zero constants must not broadcast the sum beyond [N, d].
  for (DenseElementsAttr z : zeros) {
    auto zs = cast<ShapedType>(z.getType()).getShape();
    if (zs.size() > 2)
      return nullptr;
    for (size_t i = 0; i < zs.size(); ++i)
      if (zs[zs.size() - 1 - i] != 1 &&
          zs[zs.size() - 1 - i] != (i == 0 ? d : N))
        return nullptr;
  }

  // The gating: idx and w from one TopK.
  const onnx::NodeProto *topk = g.is(t0.indices, "TopK", 2);
  if (!topk || topk->output_size() != 2 || topk->output(1) != t0.indices ||
      intAttr(*topk, "largest", 1) != 1)
    return nullptr;
  int64_t axis = intAttr(*topk, "axis", -1);
  std::optional<std::vector<int64_t>> kv = g.ints(topk->input(1));
  if ((axis != -1 && axis != 1) || !kv || kv->size() != 1)
    return nullptr;
  int64_t k = (*kv)[0];
  std::string values = topk->output(0);
  bool renormalize;
  std::string logits;
  auto softmaxAxisOk = [&](const onnx::NodeProto *sm) {
    if (!sm || sm->input_size() != 1)
      return false;
    int64_t ax = intAttr(*sm, "axis", opset >= 13 ? -1 : 1);
    return ax == -1 || ax == 1; // inputs are rank 2
  };
  if (t0.weights == values) {
    // TopK(Softmax(L)).values
    const onnx::NodeProto *sm = g.is(topk->input(0), "Softmax");
    if (!softmaxAxisOk(sm))
      return nullptr;
    renormalize = false;
    logits = g.canon(sm->input(0));
  } else if (const onnx::NodeProto *div = g.is(t0.weights, "Div", 2)) {
    // Div(v, ReduceSum(v)) of v = TopK(Softmax(L)).values
    const onnx::NodeProto *sum = g.is(div->input(1), "ReduceSum");
    const onnx::NodeProto *sm = g.is(topk->input(0), "Softmax");
    if (g.canon(div->input(0)) != values || !sum ||
        g.canon(sum->input(0)) != values || !g.reducesLastAxis(*sum, 2) ||
        !softmaxAxisOk(sm))
      return nullptr;
    renormalize = true;
    logits = g.canon(sm->input(0));
  } else if (const onnx::NodeProto *sm = g.is(t0.weights, "Softmax")) {
    // Softmax(TopK(L).values)
    if (!softmaxAxisOk(sm) || g.canon(sm->input(0)) != values)
      return nullptr;
    renormalize = true;
    logits = g.canon(topk->input(0));
  } else {
    return nullptr;
  }
  Value L = g.value(logits);
  if (!isF32(L) || typeOf(L).getShape() != ArrayRef<int64_t>{N, E} || k < 1 ||
      k > E)
    return nullptr;
  Value idxV = g.value(t0.indices);
  if (!idxV || typeOf(idxV).getShape() != ArrayRef<int64_t>{N, k})
    return nullptr;

  // Stack the experts' weights at import time.
  std::vector<float> w1(E * d * ff), w3(E * d * ff), w2(E * ff * d);
  for (int64_t e = 0; e < E; ++e) {
    std::vector<float> a = floatsOf(byExpert[e]->w1),
                       c = floatsOf(byExpert[e]->w3),
                       o = floatsOf(byExpert[e]->w2);
    std::copy(a.begin(), a.end(), w1.begin() + e * d * ff);
    std::copy(c.begin(), c.end(), w3.begin() + e * d * ff);
    std::copy(o.begin(), o.end(), w2.begin() + e * ff * d);
  }
  Type f32 = b.getF32Type();
  auto upType = RankedTensorType::get({E, d, ff}, f32);
  auto downType = RankedTensorType::get({E, ff, d}, f32);
  Value w1v = materialize(DenseElementsAttr::get(upType, ArrayRef<float>(w1)));
  Value w3v = materialize(DenseElementsAttr::get(upType, ArrayRef<float>(w3)));
  Value w2v =
      materialize(DenseElementsAttr::get(downType, ArrayRef<float>(w2)));
  auto route = kestrel::RouteOp::create(
      b, loc, typeOf(idxV), RankedTensorType::get({N, k}, f32), L, Value(),
      kestrel::ScoreFunctionAttr::get(&ctx, kestrel::ScoreFunction::Softmax),
      b.getI64IntegerAttr(k), renormalize ? b.getUnitAttr() : UnitAttr(),
      IntegerAttr(), IntegerAttr(), FloatAttr(), kestrel::RoutingModeAttr(),
      IntegerAttr());
  auto moe = kestrel::MoeOp::create(
      b, loc, typeOf(X), X, route.getIndices(), route.getWeights(), w1v, w3v,
      w2v, Value(), Value(), Value(), kestrel::RoutingModeAttr());
  ++recognizedBlocks;
  return moe.getResult();
}

//===----------------------------------------------------------------------===//
// Causal conv1d
//===----------------------------------------------------------------------===//

Value Importer::recognizeCausalConv(const onnx::NodeProto &node,
                                    ArrayRef<Value> in) {
  GraphView g{*this};
  StringRef op = node.op_type();
  // The causal conv computed by the node writing `name`: (x, w, bias).
  auto causalConv = [&](const std::string &name)
      -> std::optional<std::tuple<Value, Value, Value>> {
    const onnx::NodeProto *n = g.producer(name);
    if (!n)
      return std::nullopt;
    const onnx::NodeProto *conv = n;
    const onnx::NodeProto *slice = nullptr;
    if (n->op_type() == "Slice") {
      slice = n;
      conv = g.is(n->input(0), "Conv");
    }
    if (!conv || conv->op_type() != "Conv" || conv->input_size() < 2)
      return std::nullopt;
    Value x = g.value(conv->input(0)), w = g.value(conv->input(1));
    Value bias = conv->input_size() > 2 && !conv->input(2).empty()
                     ? g.value(conv->input(2))
                     : Value();
    if (!isF32(x) || !isF32(w) || typeOf(x).getRank() != 3 ||
        typeOf(w).getRank() != 3 || !typeOf(x).hasStaticShape() ||
        !typeOf(w).hasStaticShape() || (bias && !isF32(bias)))
      return std::nullopt;
    int64_t C = typeOf(x).getDimSize(1), L = typeOf(x).getDimSize(2);
    int64_t K = typeOf(w).getDimSize(2);
    std::vector<int64_t> strides = intsAttr(*conv, "strides"),
                         dil = intsAttr(*conv, "dilations"),
                         pads = intsAttr(*conv, "pads");
    auto allOnes = [](const std::vector<int64_t> &v) {
      return llvm::all_of(v, [](int64_t e) { return e == 1; });
    };
    std::string autoPad = stringAttr(*conv, "auto_pad", "NOTSET");
    if (intAttr(*conv, "group", 1) != C ||
        typeOf(w).getShape() != ArrayRef<int64_t>{C, 1, K} || K < 1 ||
        !allOnes(strides) || !allOnes(dil) || autoPad != "NOTSET" ||
        pads.size() != 2 || pads[0] != K - 1 || pads[1] < 0 ||
        (bias && typeOf(bias).getShape() != ArrayRef<int64_t>{C}))
      return std::nullopt;
    if (slice) {
      Value cv = g.value(conv->output(0));
      if (!cv || g.lastAxisSlice(*slice, 3, typeOf(cv).getDimSize(2)) !=
                     std::make_pair<int64_t, int64_t>(0, int64_t(L)))
        return std::nullopt;
    } else if (pads[1] != 0) {
      return std::nullopt;
    }
    return std::make_tuple(x, w, bias);
  };
  std::optional<std::tuple<Value, Value, Value>> m;
  kestrel::ConvActivation act = kestrel::ConvActivation::None;
  if ((op == "Slice" || op == "Conv") && !node.output(0).empty()) {
    m = causalConv(node.output(0));
  } else if (op == "Mul" && node.input_size() == 2 && in.size() == 2) {
    for (int i : {0, 1}) {
      const onnx::NodeProto *sig = g.is(node.input(1 - i), "Sigmoid", 1);
      if (!sig || g.canon(sig->input(0)) != g.canon(node.input(i)))
        continue;
      if ((m = causalConv(node.input(i)))) {
        act = kestrel::ConvActivation::Silu;
        break;
      }
    }
  }
  if (!m)
    return nullptr;
  auto [x, w, bias] = *m;
  RankedTensorType xt = typeOf(x);
  int64_t C = xt.getDimSize(1), K = typeOf(w).getDimSize(2);
  auto stateType =
      RankedTensorType::get({xt.getDimSize(0), C, K - 1}, xt.getElementType());
  auto conv = kestrel::CausalConv1dOp::create(
      b, loc, xt, stateType, x, reshape(w, {C, K}), bias, Value(),
      kestrel::ConvActivationAttr::get(&ctx, act));
  ++recognizedBlocks;
  return conv.getY();
}

} // namespace kestrel::onnximport
