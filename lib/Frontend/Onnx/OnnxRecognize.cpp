//===- OnnxRecognize.cpp - Decomposed attention -> kestrel.attention ------===//
//
// Recognition on the ONNX graph, at import time: the MatMul that closes
//
//   MatMul(Q, Transpose(K, perm swaps the last two axes))
//     -> [Mul by a constant scalar | Div by a constant scalar]
//     -> [Add of a constant causal mask (0 / -inf)
//         | Where(constant lower-triangular bool, x, -inf)
//         | Where(constant strict upper-triangular bool, -inf, x)]
//     -> Softmax(axis = last)
//     -> MatMul(., V)
//
// on rank-4 [B, H, T, D] f32 tensors becomes one kestrel.attention (causal when
// the mask is the causal mask, scale from the constant, scale = 1 without one).
// Conservative: every constant is checked element by element (a "-inf" may
// also be the lowest finite float, as Hugging Face writes it); anything else
// leaves the graph to the standard ops. K and V repeated over the query
// heads (repeat_kv: Unsqueeze -> Expand -> Reshape) are taken from before the
// repeat (GQA). The intermediate values are still imported (other nodes may
// read them); unused ones are erased after import.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "dialects/Kestrel.h"

#include <cmath>
#include <limits>
#include <optional>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

RankedTensorType typeOfV(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The single float value of a constant whose elements are all equal.
std::optional<double> splatFloat(DenseElementsAttr a) {
  if (!a || !isa<FloatType>(a.getElementType()) || a.getNumElements() == 0)
    return std::nullopt;
  auto vals = a.getValues<APFloat>();
  double first = (*vals.begin()).convertToDouble();
  for (APFloat v : vals)
    if (v.convertToDouble() != first && !(std::isnan(first) && v.isNaN()))
      return std::nullopt;
  return first;
}

bool isMinusInf(double v) {
  return v == -std::numeric_limits<double>::infinity() ||
         v == (double)std::numeric_limits<float>::lowest();
}

/// Whether `a` (broadcast to [..., T, S], every leading dim 1) is
/// visible(t, s) == (s <= t + S - T) for every element, through `visible`.
/// Returns std::nullopt if some element is neither value, true for causal,
/// false for "everything visible".
std::optional<bool>
classifyMask(DenseElementsAttr a, int64_t T, int64_t S,
             function_ref<std::optional<bool>(int64_t)> visibleAt) {
  auto shape = cast<ShapedType>(a.getType()).getShape();
  if (shape.size() < 2 || shape.size() > 4)
    return std::nullopt;
  for (size_t i = 0; i + 2 < shape.size(); ++i)
    if (shape[i] != 1)
      return std::nullopt;
  int64_t mt = shape[shape.size() - 2], ms = shape.back();
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

} // namespace

Value Importer::recognizeAttention(const onnx::NodeProto &node,
                                   ArrayRef<Value> in) {
  if (node.op_type() != "MatMul" || in.size() != 2 || !in[0] || !in[1])
    return nullptr;
  auto producer = [&](const std::string &name) -> const onnx::NodeProto * {
    // Identity nodes are looked through (they bind the same Value).
    auto it = producers.find(name);
    while (it != producers.end() && it->second->op_type() == "Identity" &&
           it->second->input_size() == 1)
      it = producers.find(it->second->input(0));
    return it == producers.end() ? nullptr : it->second;
  };
  auto valueOf = [&](const std::string &name) -> Value {
    auto it = values.find(name);
    return it == values.end() ? Value() : it->second;
  };
  auto isF32Rank4 = [](Value v) {
    return v && typeOfV(v).getRank() == 4 &&
           typeOfV(v).getElementType().isF32();
  };
  Value V = in[1];
  if (!isF32Rank4(in[0]) || !isF32Rank4(V))
    return nullptr;

  // Softmax over the last axis.
  const onnx::NodeProto *sm = producer(node.input(0));
  if (!sm || sm->op_type() != "Softmax" || sm->input_size() != 1)
    return nullptr;
  int64_t axis = intAttr(*sm, "axis", opset >= 13 ? -1 : 1);
  if (axis != -1 && axis != 3)
    return nullptr;

  // Optional mask.
  const onnx::NodeProto *cur = producer(sm->input(0));
  std::string logits = sm->input(0);
  bool causal = false;
  auto tsOf = [&](const std::string &name) -> std::pair<int64_t, int64_t> {
    Value v = valueOf(name);
    if (!isF32Rank4(v))
      return {-1, -1};
    return {typeOfV(v).getDimSize(2), typeOfV(v).getDimSize(3)};
  };
  if (cur && cur->op_type() == "Add" && cur->input_size() == 2) {
    for (int i = 0; i < 2; ++i) {
      DenseElementsAttr m = foldedOf(valueOf(cur->input(i)));
      const std::string &x = cur->input(1 - i);
      auto [T, S] = tsOf(x);
      if (!m || T < 0 || !isa<FloatType>(m.getElementType()))
        continue;
      SmallVector<double> mv;
      for (APFloat f : m.getValues<APFloat>())
        mv.push_back(f.convertToDouble());
      std::optional<bool> c = classifyMask(m, T, S, [&](int64_t idx) {
        if (mv[idx] == 0)
          return std::optional<bool>(true);
        if (isMinusInf(mv[idx]))
          return std::optional<bool>(false);
        return std::optional<bool>();
      });
      if (!c)
        return nullptr;
      causal = *c;
      logits = x;
      cur = producer(x);
      break;
    }
    if (logits == sm->input(0))
      return nullptr; // an Add that is not a mask
  } else if (cur && cur->op_type() == "Where" && cur->input_size() == 3) {
    DenseElementsAttr cond = foldedOf(valueOf(cur->input(0)));
    if (!cond || !cond.getElementType().isInteger(1))
      return nullptr;
    // Which branch is the fill?
    int fillIdx = -1;
    for (int i : {1, 2}) {
      std::optional<double> f = splatFloat(foldedOf(valueOf(cur->input(i))));
      if (f && isMinusInf(*f))
        fillIdx = i;
    }
    if (fillIdx < 0)
      return nullptr;
    const std::string &x = cur->input(fillIdx == 1 ? 2 : 1);
    auto [T, S] = tsOf(x);
    Value xv = valueOf(x);
    if (T < 0 || typeOfV(valueOf(cur->output(0))) != typeOfV(xv))
      return nullptr;
    SmallVector<bool> cv(cond.getValues<bool>().begin(),
                         cond.getValues<bool>().end());
    std::optional<bool> c = classifyMask(cond, T, S, [&](int64_t idx) {
      // cond selects input 1: visible iff it selects x.
      return std::optional<bool>(fillIdx == 1 ? !cv[idx] : cv[idx]);
    });
    if (!c)
      return nullptr;
    causal = *c;
    logits = x;
    cur = producer(x);
  }

  // Optional scale.
  double scale = 1.0;
  if (cur && (cur->op_type() == "Mul" || cur->op_type() == "Div") &&
      cur->input_size() == 2) {
    bool isDiv = cur->op_type() == "Div";
    std::string x;
    for (int i = isDiv ? 1 : 0; i < 2; ++i) {
      DenseElementsAttr c = foldedOf(valueOf(cur->input(i)));
      std::optional<double> f = splatFloat(c);
      if (!f || !std::isfinite(*f) || *f == 0)
        continue;
      if (cast<ShapedType>(c.getType()).getRank() > 4)
        continue;
      scale = isDiv ? 1.0 / *f : *f;
      x = cur->input(1 - i);
      break;
    }
    if (x.empty())
      return nullptr; // a runtime scale: leave it
    if (typeOfV(valueOf(x)) != typeOfV(valueOf(cur->output(0))))
      return nullptr;
    logits = x;
    cur = producer(x);
  }

  // Q @ Transpose(K).
  if (!cur || cur->op_type() != "MatMul" || cur->input_size() != 2)
    return nullptr;
  const onnx::NodeProto *tr = producer(cur->input(1));
  if (!tr || tr->op_type() != "Transpose")
    return nullptr;
  if (intsAttr(*tr, "perm") != std::vector<int64_t>{0, 1, 3, 2})
    return nullptr;
  Value Q = valueOf(cur->input(0)), K = valueOf(tr->input(0));
  if (!isF32Rank4(Q) || !isF32Rank4(K))
    return nullptr;
  auto qs = typeOfV(Q).getShape(), ks = typeOfV(K).getShape(),
       vs = typeOfV(V).getShape();
  int64_t B = qs[0], H = qs[1], T = qs[2], D = qs[3], S = ks[2];
  if (ks[0] != B || ks[1] != H || ks[3] != D || vs[0] != B || vs[1] != H ||
      vs[2] != S)
    return nullptr;
  // The logits must be exactly [B, H, T, S] (no broadcast anywhere).
  if (typeOfV(valueOf(logits)).getShape() != ArrayRef<int64_t>{B, H, T, S} ||
      typeOfV(in[0]).getShape() != ArrayRef<int64_t>{B, H, T, S})
    return nullptr;

  // GQA written as repeat_kv: Reshape(Expand(Unsqueeze(x [B, Hkv, S, D])
  // to [B, Hkv, 1, S, D]) to [B, Hkv, g, S, D]) to [B, Hkv * g, S, D] puts KV
  // head j at heads j*g .. j*g+g-1, which is kestrel.attention's h / g. The
  // shapes alone fix the data movement (Unsqueeze inserts a unit dimension,
  // Expand broadcasts only that one).
  auto unrepeat = [&](const std::string &name) -> Value {
    const onnx::NodeProto *rs = producer(name);
    if (!rs || rs->op_type() != "Reshape")
      return nullptr;
    const onnx::NodeProto *ex = producer(rs->input(0));
    if (!ex || ex->op_type() != "Expand")
      return nullptr;
    const onnx::NodeProto *un = producer(ex->input(0));
    if (!un || un->op_type() != "Unsqueeze")
      return nullptr;
    Value x = valueOf(un->input(0)), u = valueOf(un->output(0)),
          e = valueOf(ex->output(0)), r = valueOf(rs->output(0));
    if (!isF32Rank4(x) || !u || !e || !isF32Rank4(r))
      return nullptr;
    auto xs = typeOfV(x).getShape(), rsh = typeOfV(r).getShape();
    int64_t hkv = xs[1];
    if (hkv <= 0 || rsh[1] % hkv)
      return nullptr;
    int64_t g = rsh[1] / hkv;
    if (typeOfV(u).getShape() !=
            ArrayRef<int64_t>{xs[0], hkv, 1, xs[2], xs[3]} ||
        typeOfV(e).getShape() !=
            ArrayRef<int64_t>{xs[0], hkv, g, xs[2], xs[3]} ||
        rsh != ArrayRef<int64_t>{xs[0], hkv * g, xs[2], xs[3]})
      return nullptr;
    return x;
  };
  Value kk = unrepeat(tr->input(0)), vv = unrepeat(node.input(1));
  if (kk && vv && typeOfV(kk).getDimSize(1) == typeOfV(vv).getDimSize(1)) {
    K = kk;
    V = vv;
  }

  auto type = RankedTensorType::get({B, H, T, vs[3]}, b.getF32Type());
  auto op = kestrel::AttentionOp::create(b, loc, TypeRange{type},
                                         ValueRange{Q, K, V});
  if (causal)
    op.setCausal(true);
  op.setScaleAttr(b.getF32FloatAttr((float)scale));
  ++recognizedAttention;
  return op.getResult();
}

} // namespace kestrel::onnximport
