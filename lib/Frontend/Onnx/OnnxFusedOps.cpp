//===- OnnxFusedOps.cpp - Fused ONNX / com.microsoft ops -> kestrel ops ---===//
//
// The fused transformer ops that exporters (onnxruntime's transformers
// optimizer, opset 23 exporters) write as one node, mapped straight to the
// kestrel op computing them. A table maps each op type (and the domains
// providing it) to its handler, a FusedNode method (OnnxFusedOps.h); the
// attention handlers live in OnnxAttentionOps.cpp, the others here:
//
// * SimplifiedLayerNormalization (ai.onnx as onnxruntime registers it, or
//   com.microsoft) -> kestrel.rms_norm over the normalized axes [axis, rank)
//   flattened into one (the scale must have the normalized shape).
// * com.microsoft SkipSimplifiedLayerNormalization: s = input + skip (+ bias),
//   kestrel.rms_norm(s) over the last axis; outputs 0 (normalized) and 3
//   (input_skip_bias_sum = s). Outputs 1 / 2 (mean, inv_std_var) are refused.
// * Attention (opset 23) -> kestrel.attention: 4-D Q/K/V [B, H, S, D], or
//   3-D [B, S, H*D] with q_num_heads / kv_num_heads (reshaped and transposed
//   to 4-D, the result back to [B, S, H*Dv]); is_causal (ONNX aligns the
//   mask top-left without a cache, kestrel.attention bottom-right: for query
//   length T != key length S the keys or queries are split, see below),
//   scale, softcap, GQA when the KV
//   heads divide the query heads. present_key / present_value are K and V
//   (4-D). attn_mask, past_key/past_value, nonpad_kv_seqlen, sliding windows
//   and the qk_matmul_output output are refused, all listed in one error.
// * RotaryEmbedding, opset 23 (X, cos_cache, sin_cache[, position_ids]) and
//   com.microsoft (input, position_ids, cos_cache, sin_cache): the caches
//   read by position ids (or a com.microsoft offset) become kestrel.rope
//   when they are f32 constants equal, element by element, to the standard
//   tables cos/sin(p · base^(-2i/R)) of some base (read off the table);
//   any other caches (runtime, other values, opset 23 [B, S, R/2] caches)
//   give one linalg.generic reading x and the caches with tensor.extract:
//   rotate-half (pairs (i, i + R/2)) or interleaved (pairs (2i, 2i + 1)),
//   features d >= R passed through.
// * com.microsoft MoE, the gated form activation_type = "silu" with
//   fc3_experts_weights and no biases: kestrel.route (softmax scores of
//   router_probs, top-k, normalize_routing_weights -> renormalize) +
//   kestrel.moe. onnxruntime stores the expert weights [E, out, in]
//   (fc1, fc3 [E, inter, hidden], fc2 [E, hidden, inter]); they are
//   transposed to kestrel.moe's [E, d, ff] / [E, ff, d]. A 3-D input
//   [B, S, hidden] is flattened to [B * S, hidden] and the result reshaped
//   back. Biases, other activations, fused / limited SwiGLU, the sparse
//   mixer and any other attribute are refused, all listed in one error.
//
//===----------------------------------------------------------------------===//

#include "OnnxFusedOps.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <cstring>
#include <optional>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

/// One fused op type: the domains providing it and its handler.
struct FusedOpEntry {
  const char *opType;
  bool onnx, microsoft; // ai.onnx (or the empty domain), com.microsoft
  LogicalResult (FusedNode::*handler)();
};

const FusedOpEntry kFusedOps[] = {
    {"SimplifiedLayerNormalization", true, true,
     &FusedNode::simplifiedLayerNorm},
    {"SkipSimplifiedLayerNormalization", false, true,
     &FusedNode::skipSimplifiedLayerNorm},
    {"Attention", true, false, &FusedNode::attention},
    {"RotaryEmbedding", true, true, &FusedNode::rotaryEmbedding},
    {"GroupQueryAttention", false, true, &FusedNode::msAttention},
    {"MultiHeadAttention", false, true, &FusedNode::msAttention},
    {"MoE", false, true, &FusedNode::moe},
};

const FusedOpEntry *lookup(llvm::StringRef op) {
  for (const FusedOpEntry &e : kFusedOps)
    if (op == e.opType)
      return &e;
  return nullptr;
}

/// The base of constant rotary caches cos/sin [P, half] (rows = positions
/// 0..P-1, column i at angle p · base^(-2i / (2 half))), or std::nullopt
/// when they are not such tables (tolerance 1e-6 + 2.5e-7 · p, the f32
/// error of a table made by an exporter).
std::optional<double> cacheBase(DenseElementsAttr cosA, DenseElementsAttr sinA,
                                int64_t P, int64_t half) {
  if (!cosA || !sinA || !cosA.getElementType().isF32() ||
      !sinA.getElementType().isF32() || P < 2 || half < 2)
    return std::nullopt;
  std::vector<float> c(cosA.getValues<float>().begin(),
                       cosA.getValues<float>().end());
  std::vector<float> sn(sinA.getValues<float>().begin(),
                        sinA.getValues<float>().end());
  double R = 2.0 * (double)half;
  // θ(1, 1) = base^(-2 / R).
  double th = std::atan2((double)sn[half + 1], (double)c[half + 1]);
  if (!(th > 0) || th >= 1)
    return std::nullopt;
  double raw = std::pow(th, -R / 2);
  auto fits = [&](double base) {
    for (int64_t p = 0; p < P; ++p) {
      double tol = 1e-6 + 2.5e-7 * (double)p;
      for (int64_t i = 0; i < half; ++i) {
        double theta = (double)p * std::pow(base, -2.0 * (double)i / R);
        if (std::abs(c[p * half + i] - std::cos(theta)) > tol ||
            std::abs(sn[p * half + i] - std::sin(theta)) > tol)
          return false;
      }
    }
    return true;
  };
  for (double base : {std::round(raw), raw})
    if (base > 1 && fits(base))
      return base;
  return std::nullopt;
}

} // namespace

std::vector<std::string> fusedOps() {
  std::vector<std::string> names;
  for (const FusedOpEntry &e : kFusedOps)
    names.push_back(e.opType);
  return names;
}

bool isFusedOpDomain(llvm::StringRef op, llvm::StringRef domain) {
  const FusedOpEntry *e = lookup(op);
  if (!e)
    return false;
  bool onnx = domain.empty() || domain == "ai.onnx";
  bool ms = domain == "com.microsoft";
  return (onnx && e->onnx) || (ms && e->microsoft);
}

bool present(const onnx::NodeProto &node, ArrayRef<Value> in, int i) {
  return i < node.input_size() && !node.input(i).empty() &&
         i < (int)in.size() && in[i];
}

bool wanted(const onnx::NodeProto &node, int i) {
  return i < node.output_size() && !node.output(i).empty();
}

std::string shapeStr(ArrayRef<int64_t> s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Value addF(OpBuilder &nb, Location l, ValueRange a) {
  return arith::AddFOp::create(nb, l, a[0], a[1]).getResult();
}

LogicalResult FusedNode::need(int n) {
  for (int i = 0; i < n; ++i)
    if (!present(i))
      return error(what + " needs " + std::to_string(n) + " inputs, input " +
                   std::to_string(i) + " is missing");
  return success();
}

LogicalResult FusedNode::refuse(const std::vector<std::string> &list,
                                llvm::StringRef supported) {
  if (list.empty())
    return success();
  std::string joined;
  for (const std::string &u : list)
    joined += (joined.empty() ? "" : ", ") + u;
  return error(what + ": unsupported " + joined + supported);
}

LogicalResult Importer::convertFusedOp(const onnx::NodeProto &node,
                                       ArrayRef<Value> in,
                                       SmallVectorImpl<Value> &out,
                                       bool &handled) {
  StringRef op = node.op_type();
  const FusedOpEntry *entry = lookup(op);
  if (!entry)
    return success();
  handled = true;
  FusedNode fused(*this, node, in, out);
  // The data inputs (not position ids, sequence lengths, masks) are float.
  bool attention = op == "Attention" || op == "GroupQueryAttention" ||
                   op == "MultiHeadAttention";
  for (auto [i, v] : llvm::enumerate(in))
    if (v && !isa<FloatType>(typeOf(v).getElementType()) &&
        !(op == "RotaryEmbedding" &&
          i == (fused.domain == "com.microsoft" ? 1u : 3u)) &&
        !(attention && i > 2))
      return error(fused.what + ": input " + std::to_string(i) +
                   " has an integer element type (float expected)");
  return (fused.*entry->handler)();
}

FailureOr<Value> FusedNode::rmsNorm(Value x, Value scale, int64_t axis,
                                    float eps) {
  auto xs = typeOf(x).getShape();
  int64_t rank = xs.size();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return error(what + " has an invalid axis");
  SmallVector<int64_t> norm(xs.begin() + axis, xs.end());
  int64_t n = 1;
  for (int64_t d : norm)
    n *= d;
  auto ss = typeOf(scale).getShape();
  // The scale may carry leading unit dims; it must cover the normalized
  // shape exactly (kestrel.rms_norm's weight is one vector).
  SmallVector<int64_t> sTrim(ss.begin(), ss.end());
  while (sTrim.size() > norm.size() && sTrim.front() == 1)
    sTrim.erase(sTrim.begin());
  if (ArrayRef<int64_t>(sTrim) != ArrayRef<int64_t>(norm))
    return error(what + ": scale of shape " + shapeStr(ss) +
                 " must have the normalized shape " + shapeStr(norm) +
                 " (broadcast scales are not supported)");
  if (typeOf(scale).getElementType() != typeOf(x).getElementType())
    return error(what + ": input and scale element types differ");
  if (!(eps >= 0) || std::isinf(eps))
    return error(what + ": epsilon must be non-negative and finite");
  SmallVector<int64_t> flat(xs.begin(), xs.begin() + axis);
  flat.push_back(n);
  Value xf = reshape(x, flat), wf = reshape(scale, {n});
  Value y = kestrel::RmsNormOp::create(b, loc, typeOf(xf), xf, wf,
                                       b.getF32FloatAttr(eps))
                .getResult();
  return reshape(y, xs);
}

LogicalResult FusedNode::simplifiedLayerNorm() {

  if (failed(need(2)))
    return failure();
  if (wanted(1))
    return error(what + ": output 1 (inv_std_var) is not supported; only the "
                        "normalized output is");
  if (intAttr(node, "stash_type", 1) != 1)
    return error(what + ": only stash_type 1 (float32) is supported");
  FailureOr<Value> y = rmsNorm(in[0], in[1], intAttr(node, "axis", -1),
                               floatAttr(node, "epsilon", 1e-5f));
  if (failed(y))
    return failure();
  out.push_back(*y);
  return success();
}

LogicalResult FusedNode::skipSimplifiedLayerNorm() {

  if (failed(need(3)))
    return failure();
  if (wanted(1) || wanted(2))
    return error(what + ": outputs 1 (mean) and 2 (inv_std_var) are not "
                        "supported; outputs 0 (normalized) and 3 "
                        "(input_skip_bias_sum) are");
  Value x = in[0];
  auto xs = typeOf(x).getShape();
  if (xs.empty())
    return error(what + ": input must have rank >= 1");
  // skip must broadcast to the input without enlarging it.
  auto ks = typeOf(in[1]).getShape();
  bool fits = ks.size() <= xs.size();
  for (size_t i = 0; fits && i < ks.size(); ++i) {
    int64_t d = xs[xs.size() - ks.size() + i];
    fits = ks[i] == d || ks[i] == 1;
  }
  if (!fits)
    return error(what + ": skip of shape " + shapeStr(ks) +
                 " does not broadcast to the input shape " + shapeStr(xs));
  Value s = elementwise({x, in[1]}, typeOf(x).getElementType(), addF);
  if (present(3)) {
    if (typeOf(in[3]).getShape() != ArrayRef<int64_t>{xs.back()})
      return error(what + ": bias must have shape [" +
                   std::to_string(xs.back()) + "]");
    s = elementwise({s, in[3]}, typeOf(x).getElementType(), addF);
  }
  FailureOr<Value> y = rmsNorm(s, in[2], -1, floatAttr(node, "epsilon", 1e-5f));
  if (failed(y))
    return failure();
  out.append({*y, Value(), Value(), s});
  return success();
}

Value FusedNode::rotate(Value x, Value cosC, Value sinC, Value pos,
                        RopeMode mode, bool interleaved, int64_t R) {
  auto xs = typeOf(x).getShape();
  int64_t B = xs[0], S = xs[2], D = xs[3], half = R / 2;
  Type elt = typeOf(x).getElementType();
  int64_t maxPos = typeOf(cosC).getShape()[0];
  // Constant caches that are the standard tables of some base, read by
  // position: kestrel.rope (which computes the angles itself).
  std::optional<double> base;
  if (mode != Direct)
    base = cacheBase(foldedOf(cosC), foldedOf(sinC), maxPos, half);
  if (base && isa<Float32Type>(elt)) {
    Value positions;
    IntegerAttr offset;
    Type i64 = b.getI64Type();
    if (mode == ById) {
      positions = castTo(pos, i64);
    } else if (!pos) {
      // Positions 0..S-1.
    } else if (DenseElementsAttr pc = foldedOf(pos)) {
      int64_t o = (*pc.getValues<APInt>().begin()).getSExtValue();
      if (o)
        offset = b.getI64IntegerAttr(o);
    } else {
      // A runtime offset: positions[b, s] = offset + s.
      Value p64 = castTo(pos, i64);
      positions =
          gather({B, S}, i64, [&](OpBuilder &nb, Location l, ValueRange idx) {
            Value z = arith::ConstantIndexOp::create(nb, l, 0);
            Value o = tensor::ExtractOp::create(
                nb, l, p64, SmallVector<Value>(typeOf(p64).getRank(), z));
            Value s =
                arith::IndexCastOp::create(nb, l, nb.getI64Type(), idx[1]);
            return arith::AddIOp::create(nb, l, o, s).getResult();
          });
    }
    return kestrel::RopeOp::create(b, loc, typeOf(x), x, positions,
                                   interleaved ? b.getUnitAttr() : UnitAttr(),
                                   R == D ? IntegerAttr()
                                          : b.getI64IntegerAttr(R),
                                   b.getF32FloatAttr((float)*base), offset)
        .getResult();
  }
  return gather(xs, elt, [&](OpBuilder &nb, Location l, ValueRange idx) {
    auto ci = [&](int64_t c) -> Value {
      return arith::ConstantIndexOp::create(nb, l, c);
    };
    using P = arith::CmpIPredicate;
    Value d = idx[3];
    Value xv = tensor::ExtractOp::create(nb, l, x, idx);
    Value inRot = arith::CmpIOp::create(nb, l, P::slt, d, ci(R));
    // Pair index i, partner feature and whether d is the pair's first.
    Value i, partner, first;
    if (interleaved) {
      i = arith::DivUIOp::create(nb, l, d, ci(2));
      Value odd = arith::RemUIOp::create(nb, l, d, ci(2));
      first = arith::CmpIOp::create(nb, l, P::eq, odd, ci(0));
      partner = arith::SelectOp::create(nb, l, first,
                                        arith::AddIOp::create(nb, l, d, ci(1)),
                                        arith::SubIOp::create(nb, l, d, ci(1)));
    } else {
      first = arith::CmpIOp::create(nb, l, P::slt, d, ci(half));
      i = arith::SelectOp::create(nb, l, first, d,
                                  arith::SubIOp::create(nb, l, d, ci(half)));
      partner = arith::SelectOp::create(
          nb, l, first, arith::AddIOp::create(nb, l, d, ci(half)), i);
    }
    // Outside the rotary part: clamp the reads, select x below.
    i = arith::MinUIOp::create(nb, l, i, ci(half - 1));
    partner = arith::MinUIOp::create(nb, l, partner, ci(R - 1));
    Value pv = tensor::ExtractOp::create(
        nb, l, x, ValueRange{idx[0], idx[1], idx[2], partner});
    SmallVector<Value> cidx;
    if (mode == Direct) {
      cidx = {idx[0], idx[2], i};
    } else {
      Value pi = idx[2];
      if (pos) {
        Value p = mode == ById
                      ? tensor::ExtractOp::create(nb, l, pos,
                                                  ValueRange{idx[0], idx[2]})
                            .getResult()
                      : tensor::ExtractOp::create(
                            nb, l, pos,
                            SmallVector<Value>(typeOf(pos).getRank(), ci(0)))
                            .getResult();
        pi = arith::IndexCastOp::create(nb, l, nb.getIndexType(), p);
        if (mode == ByOffset)
          pi = arith::AddIOp::create(nb, l, pi, idx[2]);
      }
      // Out-of-range positions are clamped (no out-of-bounds read).
      pi = arith::MaxSIOp::create(nb, l, pi, ci(0));
      pi = arith::MinSIOp::create(nb, l, pi, ci(maxPos - 1));
      cidx = {pi, i};
    }
    Value c = tensor::ExtractOp::create(nb, l, cosC, cidx);
    Value s = tensor::ExtractOp::create(nb, l, sinC, cidx);
    // first: x·cos − partner·sin; second: x·cos + partner·sin.
    Value xc = arith::MulFOp::create(nb, l, xv, c);
    Value ps = arith::MulFOp::create(nb, l, pv, s);
    Value r = arith::SelectOp::create(nb, l, first,
                                      arith::SubFOp::create(nb, l, xc, ps),
                                      arith::AddFOp::create(nb, l, xc, ps));
    return arith::SelectOp::create(nb, l, inRot, r, xv).getResult();
  });
}

LogicalResult FusedNode::rotaryEmbedding() {

  bool ms = domain == "com.microsoft";
  if (failed(need(ms ? 4 : 3)))
    return failure();
  Value x = in[0];
  Value cosC = ms ? in[2] : in[1], sinC = ms ? in[3] : in[2];
  Value pos = ms ? in[1] : (present(3) ? in[3] : Value());
  if (ms && floatAttr(node, "scale", 1.f) != 1.f)
    return error(what + ": scale != 1 is not supported");
  if (ms && intAttr(node, "is_packed_batching", 0))
    return error(what + ": is_packed_batching is not supported");
  auto xs0 = typeOf(x).getShape();
  int64_t rank = xs0.size();
  if (rank != 3 && rank != 4)
    return error(what +
                 ": input must be 3-D [B, S, hidden] or 4-D [B, H, S, D]");
  Type elt = typeOf(x).getElementType();
  if (typeOf(cosC).getElementType() != elt ||
      typeOf(sinC).getElementType() != elt)
    return error(what + ": cos/sin caches must have the input's element type");
  // Work on [B, H, S, D].
  int64_t numHeads = intAttr(node, "num_heads", 0);
  if (rank == 3) {
    if (numHeads <= 0 && rank == 3) {
      // Without num_heads the head size is the rotary size (2 x cache width).
      int64_t half = typeOf(cosC).getShape().back();
      if (half > 0 && xs0[2] % (2 * half) == 0)
        numHeads = xs0[2] / (2 * half);
    }
    if (numHeads <= 0 || xs0[2] % numHeads)
      return error(what + ": 3-D input needs num_heads dividing hidden size " +
                   std::to_string(xs0[2]));
    x = transpose(reshape(x, {xs0[0], xs0[1], numHeads, xs0[2] / numHeads}),
                  {0, 2, 1, 3});
  }
  auto xs = typeOf(x).getShape();
  int64_t B = xs[0], S = xs[2], D = xs[3];
  int64_t R = intAttr(node, "rotary_embedding_dim", 0);
  if (R == 0)
    R = D;
  if (R < 2 || R > D || R % 2)
    return error(what + ": rotary_embedding_dim " + std::to_string(R) +
                 " must be even and in [2, " + std::to_string(D) + "]");
  int64_t half = R / 2;
  auto cs = typeOf(cosC).getShape();
  if (typeOf(sinC).getShape() != cs)
    return error(what + ": cos and sin caches have different shapes");
  if (cs.empty() || cs.back() != half)
    return error(what + ": the last dimension of the caches " + shapeStr(cs) +
                 " must be rotary_embedding_dim / 2 = " + std::to_string(half));
  // How a (b, s) reads the caches: by position id, with an offset, or
  // directly ([B, S, R/2]).
  RopeMode mode;
  if (pos) {
    if (!isa<IntegerType>(typeOf(pos).getElementType()))
      return error(what + ": position_ids must be integers");
    auto ps = typeOf(pos).getShape();
    if (cs.size() != 2)
      return error(what + ": with position_ids the caches must be 2-D "
                          "[max_position, rotary_embedding_dim / 2]");
    if (ps == ArrayRef<int64_t>{B, S})
      mode = ById;
    else if (ms && typeOf(pos).getNumElements() == 1)
      mode = ByOffset;
    else
      return error(what + ": position_ids of shape " + shapeStr(ps) +
                   " must be [" + std::to_string(B) + ", " + std::to_string(S) +
                   "]" + (ms ? " or one offset" : ""));
  } else {
    if (cs != ArrayRef<int64_t>{B, S, half})
      return error(what +
                   ": without position_ids the caches must be [B, S, "
                   "rotary_embedding_dim / 2] = " +
                   shapeStr({B, S, half}) + ", got " + shapeStr(cs));
    mode = Direct;
  }
  Value y =
      rotate(x, cosC, sinC, pos, mode, intAttr(node, "interleaved", 0), R);
  if (rank == 3)
    y = reshape(transpose(y, {0, 2, 1, 3}), xs0);
  out.push_back(y);
  return success();
}

LogicalResult FusedNode::moe() {

  const char *names[] = {"input",
                         "router_probs",
                         "fc1_experts_weights",
                         "fc1_experts_bias",
                         "fc2_experts_weights",
                         "fc2_experts_bias",
                         "fc3_experts_weights",
                         "fc3_experts_bias"};
  std::vector<std::string> unsupported;
  for (int i = 0; i < node.input_size(); ++i)
    if (!node.input(i).empty() && !llvm::is_contained({0, 1, 2, 4, 6}, i))
      unsupported.push_back(
          "input " + (i < 8 ? std::string(names[i]) : std::to_string(i)));
  std::string act = stringAttr(node, "activation_type", "relu");
  if (act != "silu")
    unsupported.push_back("activation_type '" + act + "'");
  else if (!present(6))
    unsupported.push_back("silu without fc3_experts_weights");
  for (const onnx::AttributeProto &a : node.attribute()) {
    const std::string &n = a.name();
    if (n == "k" || n == "activation_type" || n == "normalize_routing_weights")
      continue;
    bool dflt = (n == "use_sparse_mixer" || n == "swiglu_fusion" ||
                 n == "swiglu_limit_after_activation")
                    ? intAttr(node, n, 0) == 0
                : n == "activation_alpha" ? floatAttr(node, n, 1.f) == 1.f
                : n == "activation_beta"  ? floatAttr(node, n, 0.f) == 0.f
                                          : false;
    if (!dflt)
      unsupported.push_back(n);
  }
  for (int i = 1; i < node.output_size(); ++i)
    if (wanted(i))
      unsupported.push_back("output " + std::to_string(i));
  if (!unsupported.empty())
    return refuse(unsupported,
                  " (supported: the SwiGLU form activation_type = 'silu' with "
                  "fc1, fc2 and fc3_experts_weights, no biases, k, "
                  "normalize_routing_weights)");
  Value x = in[0], probs = in[1], w1 = in[2], w2 = in[4], w3 = in[6];
  auto xs = typeOf(x).getShape();
  if (xs.size() != 2 && xs.size() != 3)
    return error(what +
                 ": input must be [num_rows, hidden] or [B, S, hidden], got " +
                 shapeStr(xs));
  if (!typeOf(x).hasStaticShape())
    return error(what + ": input needs static dims (--input-shape)");
  int64_t d = xs.back(), N = typeOf(x).getNumElements() / d;
  auto w1s = typeOf(w1).getShape();
  if (w1s.size() != 3)
    return error(what + ": fc1_experts_weights must be 3-D [E, inter, hidden]");
  int64_t E = w1s[0], ff = w1s[1];
  // inter read off fc2 when it is 3-D, so that the message shows the shapes
  // expected of fc1 [E, hidden, inter] (a transposed layout).
  if (typeOf(w2).getRank() == 3)
    ff = typeOf(w2).getShape()[2];
  if (w1s[2] != d || typeOf(w3).getShape() != w1s ||
      typeOf(w2).getShape() != ArrayRef<int64_t>{E, d, ff})
    return error(what + ": expert weights fc1 " + shapeStr(w1s) + ", fc3 " +
                 shapeStr(typeOf(w3).getShape()) + ", fc2 " +
                 shapeStr(typeOf(w2).getShape()) +
                 " must be [E, inter, hidden] = " + shapeStr({E, ff, d}) +
                 " (fc1, fc3) and [E, hidden, inter] = " +
                 shapeStr({E, d, ff}) + " (fc2)");
  if (typeOf(probs).getShape() != ArrayRef<int64_t>{N, E})
    return error(what + ": router_probs of shape " +
                 shapeStr(typeOf(probs).getShape()) +
                 " must be [num_rows, E] = " + shapeStr({N, E}));
  Type elt = typeOf(x).getElementType();
  for (Value w : {w1, w2, w3})
    if (typeOf(w).getElementType() != elt)
      return error(what + ": input and expert weight element types differ");
  int64_t k = intAttr(node, "k", 1);
  if (k < 1 || k > E)
    return error(what + ": k = " + std::to_string(k) + " must be in [1, " +
                 std::to_string(E) + "]");
  int64_t norm = intAttr(node, "normalize_routing_weights", 0);
  if (norm != 0 && norm != 1)
    return error(what + ": normalize_routing_weights must be 0 or 1");
  Value xf = xs.size() == 3 ? reshape(x, {N, d}) : x;
  auto route = kestrel::RouteOp::create(
      b, loc, RankedTensorType::get({N, k}, b.getI64Type()),
      RankedTensorType::get({N, k}, b.getF32Type()), probs, Value(),
      kestrel::ScoreFunctionAttr::get(b.getContext(),
                                      kestrel::ScoreFunction::Softmax),
      b.getI64IntegerAttr(k), norm ? b.getUnitAttr() : UnitAttr(),
      IntegerAttr(), IntegerAttr(), FloatAttr(), kestrel::RoutingModeAttr(),
      IntegerAttr());
  // [E, out, in] -> [E, in, out]: constant weights are transposed here
  // (bytes moved, so any float width), runtime ones by a transpose.
  auto swapLast = [&](Value w) -> Value {
    auto ws = typeOf(w).getShape();
    auto t = RankedTensorType::get({ws[0], ws[2], ws[1]}, elt);
    DenseElementsAttr a = foldedOf(w);
    unsigned bits = elt.getIntOrFloatBitWidth();
    if (!a || bits % 8)
      return transpose(w, {0, 2, 1});
    if (a.isSplat())
      return materialize(a.resizeSplat(t));
    ArrayRef<char> raw = a.getRawData();
    size_t sz = bits / 8;
    std::vector<char> outRaw(raw.size());
    for (int64_t e = 0; e < ws[0]; ++e)
      for (int64_t i = 0; i < ws[1]; ++i)
        for (int64_t j = 0; j < ws[2]; ++j)
          std::memcpy(&outRaw[((e * ws[2] + j) * ws[1] + i) * sz],
                      &raw[((e * ws[1] + i) * ws[2] + j) * sz], sz);
    return materialize(DenseElementsAttr::getFromRawBuffer(t, outRaw));
  };
  Value up = swapLast(w1), gate3 = swapLast(w3), down = swapLast(w2);
  auto moe = kestrel::MoeOp::create(
      b, loc, typeOf(xf), xf, route.getIndices(), route.getWeights(), up, gate3,
      down, Value(), Value(), Value(), kestrel::RoutingModeAttr());
  out.push_back(xs.size() == 3 ? reshape(moe.getResult(), xs)
                               : moe.getResult());
  return success();
}

} // namespace kestrel::onnximport
