//===- OnnxAttentionOps.cpp - Fused attention nodes -> kestrel.attention --===//
//
// The attention handlers of the fused-op table (OnnxFusedOps.cpp, which
// describes the mappings): opset 23 Attention and com.microsoft
// GroupQueryAttention / MultiHeadAttention.
//
//===----------------------------------------------------------------------===//

#include "OnnxFusedOps.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

/// What GroupQueryAttention (`gqa`) / MultiHeadAttention `node` uses that
/// the mapping does not cover.
std::vector<std::string> msAttentionRefusals(const onnx::NodeProto &node,
                                             bool gqa, bool doRotary) {
  std::vector<std::string> unsupported;
  // Inputs this mapping takes (by index) and the names of the others.
  const char *gqaNames[] = {"query",
                            "key",
                            "value",
                            "past_key",
                            "past_value",
                            "seqlens_k",
                            "total_sequence_length",
                            "cos_cache",
                            "sin_cache",
                            "position_ids",
                            "attention_bias",
                            "head_sink"};
  const char *mhaNames[] = {"query",
                            "key",
                            "value",
                            "bias",
                            "key_padding_mask",
                            "attention_bias",
                            "past_key",
                            "past_value",
                            "past_sequence_length",
                            "cache_indirection"};
  std::vector<int> allowed =
      gqa ? std::vector<int>{0, 1, 2, 5, 6} : std::vector<int>{0, 1, 2, 3};
  // position_ids (9) is refused: onnxruntime's CPU kernel, the reference,
  // ignores it in the prefill form, so its meaning there is unchecked.
  if (doRotary)
    allowed.insert(allowed.end(), {7, 8});
  int known = gqa ? 12 : 10;
  for (int i = 0; i < node.input_size(); ++i)
    if (!node.input(i).empty() && !llvm::is_contained(allowed, i))
      unsupported.push_back(
          "input " + (i < known ? std::string(gqa ? gqaNames[i] : mhaNames[i])
                                : std::to_string(i)));
  if (node.input_size() < 3 || node.input(1).empty() || node.input(2).empty())
    unsupported.push_back("packed QKV (key and value absent)");
  if (gqa) {
    if (intAttr(node, "local_window_size", -1) != -1)
      unsupported.push_back("local_window_size");
    if (intAttr(node, "smooth_softmax", 0))
      unsupported.push_back("smooth_softmax");
    if (intAttr(node, "qk_output", 0))
      unsupported.push_back("qk_output");
  } else if (wanted(node, 3)) {
    unsupported.push_back("output qk");
  }
  return unsupported;
}

} // namespace

LogicalResult FusedNode::attention() {

  if (failed(need(3)))
    return failure();
  // Everything this mapping does not cover, listed at once.
  std::vector<std::string> unsupported;
  const char *optionalInputs[] = {nullptr,           nullptr,    nullptr,
                                  "attn_mask",       "past_key", "past_value",
                                  "nonpad_kv_seqlen"};
  for (int i = 3; i < node.input_size() && i < 7; ++i)
    if (!node.input(i).empty())
      unsupported.push_back(std::string("input ") + optionalInputs[i]);
  for (int i = 7; i < node.input_size(); ++i)
    if (!node.input(i).empty())
      unsupported.push_back("input " + std::to_string(i));
  if (wanted(3))
    unsupported.push_back("output qk_matmul_output");
  if (intAttr(node, "left_window_size", -1) != -1 ||
      intAttr(node, "right_window_size", -1) != -1)
    unsupported.push_back("sliding window (left/right_window_size)");
  if (!unsupported.empty())
    return refuse(unsupported,
                  " (supported: Q, K, V without mask or cache, is_causal, "
                  "scale, softcap, q_num_heads/kv_num_heads; outputs Y, "
                  "present_key, present_value)");
  Value q = in[0], k = in[1], v = in[2];
  int64_t rank = typeOf(q).getRank();
  if (typeOf(k).getRank() != rank || typeOf(v).getRank() != rank ||
      (rank != 3 && rank != 4))
    return error(what + ": Q, K and V must all be 3-D or all 4-D");
  Type elt = typeOf(q).getElementType();
  if (typeOf(k).getElementType() != elt || typeOf(v).getElementType() != elt)
    return error(what + ": Q, K and V element types differ");
  int64_t qHeads = intAttr(node, "q_num_heads", 0),
          kvHeads = intAttr(node, "kv_num_heads", 0);
  if (rank == 3) {
    // [B, S, H * D] -> [B, H, S, D].
    if (qHeads <= 0 || kvHeads <= 0)
      return error(what + ": 3-D inputs need q_num_heads and kv_num_heads");
    auto split = [&](Value x, int64_t h, const char *name) -> FailureOr<Value> {
      auto s = typeOf(x).getShape();
      if (s[2] % h)
        return error(what + ": hidden size " + std::to_string(s[2]) + " of " +
                     name + " is not a multiple of its " + std::to_string(h) +
                     " heads");
      return transpose(reshape(x, {s[0], s[1], h, s[2] / h}), {0, 2, 1, 3});
    };
    // One error: stop at the first operand that does not split.
    FailureOr<Value> q4 = split(q, qHeads, "Q");
    if (failed(q4))
      return failure();
    FailureOr<Value> k4 = split(k, kvHeads, "K");
    if (failed(k4))
      return failure();
    FailureOr<Value> v4 = split(v, kvHeads, "V");
    if (failed(v4))
      return failure();
    q = *q4;
    k = *k4;
    v = *v4;
  }
  auto qs = typeOf(q).getShape(), ks = typeOf(k).getShape(),
       vs = typeOf(v).getShape();
  int64_t B = qs[0], H = qs[1], T = qs[2], D = qs[3];
  int64_t Hkv = ks[1], S = ks[2];
  if (ks[0] != B || vs[0] != B || ks[3] != D || vs[1] != Hkv || vs[2] != S)
    return error(
        what + ": shapes Q " + shapeStr(typeOf(q).getShape()) + ", K " +
        shapeStr(ks) + ", V " + shapeStr(vs) +
        " do not match ([B, H, T, D], [B, Hkv, S, D], [B, Hkv, S, Dv])");
  if (Hkv <= 0 || H % Hkv)
    return error(what + ": " + std::to_string(H) +
                 " query heads are not a "
                 "multiple of " +
                 std::to_string(Hkv) + " KV heads");
  bool causal = intAttr(node, "is_causal", 0);
  float softcap = floatAttr(node, "softcap", 0.f);
  if (softcap < 0 || std::isnan(softcap))
    return error(what + ": softcap must be >= 0");
  const onnx::AttributeProto *scaleA = attribute(node, "scale");
  auto attend = [&](Value qq, Value kk, Value vv, bool c) {
    auto qt = typeOf(qq).getShape();
    auto type = RankedTensorType::get({B, H, qt[2], vs[3]}, elt);
    auto att = kestrel::AttentionOp::create(b, loc, TypeRange{type},
                                            ValueRange{qq, kk, vv});
    if (c)
      att.setCausal(true);
    if (scaleA)
      att.setScaleAttr(b.getF32FloatAttr(scaleA->f()));
    if (softcap > 0)
      att.setSoftcapAttr(b.getF32FloatAttr(softcap));
    return att.getResult();
  };
  // Rows [from, from + n) of axis 2 of x.
  auto rows = [&](Value x, int64_t from, int64_t n) {
    auto xs = typeOf(x).getShape();
    StridedView view;
    view.outShape = {xs[0], xs[1], n, xs[3]};
    view.offset = {0, 0, from, 0};
    for (int64_t d = 0; d < 4; ++d) {
      view.coef.emplace_back(4, 0);
      view.coef.back()[d] = 1;
    }
    return stridedView(x, view);
  };
  // Without a cache ONNX aligns the causal mask top-left (key s visible
  // from query t iff s <= t), kestrel.attention bottom-right (s <= t + S -
  // T); they agree when T = S. T < S: keys s >= T are seen by no query, so
  // causal attention over the first T keys. T > S: queries t < S are causal
  // over all keys, the others see every key (two attentions, concatenated).
  Value y;
  if (!causal || T == S) {
    y = attend(q, k, v, causal);
  } else if (T < S) {
    y = attend(q, rows(k, 0, T), rows(v, 0, T), true);
  } else {
    Value head = attend(rows(q, 0, S), k, v, true);
    Value tail = attend(rows(q, S, T - S), k, v, false);
    Value init = tensor::EmptyOp::create(
        b, loc, SmallVector<int64_t>{B, H, T, vs[3]}, elt);
    auto ins = [&](Value src, Value dst, int64_t at) {
      auto ss = typeOf(src).getShape();
      SmallVector<OpFoldResult> offs = {b.getIndexAttr(0), b.getIndexAttr(0),
                                        b.getIndexAttr(at), b.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes, strides(4, b.getIndexAttr(1));
      for (int64_t d : ss)
        sizes.push_back(b.getIndexAttr(d));
      return tensor::InsertSliceOp::create(b, loc, src, dst, offs, sizes,
                                           strides)
          .getResult();
    };
    y = ins(tail, ins(head, init, 0), S);
  }
  if (rank == 3)
    y = reshape(transpose(y, {0, 2, 1, 3}), {B, T, H * vs[3]});
  out.append({y, k, v});
  return success();
}

FailureOr<Value> FusedNode::gqaKeyLengths(int64_t B, int64_t S) {
  // seqlens_k[b] = (valid length of row b) - 1, total_sequence_length = S.
  if (!present(5) || !present(6))
    return error(what + " needs seqlens_k and total_sequence_length");
  if (typeOf(in[5]).getShape() != ArrayRef<int64_t>{B} ||
      !typeOf(in[5]).getElementType().isInteger(32))
    return error(what + ": seqlens_k must be i32 [" + std::to_string(B) + "]");
  if (DenseElementsAttr tot = foldedOf(in[6]))
    if (isa<IntegerType>(tot.getElementType()) &&
        (*tot.getValues<APInt>().begin()).getSExtValue() != S)
      return error(what + ": total_sequence_length must equal the key length " +
                   std::to_string(S) + " without a cache");
  DenseElementsAttr sl = foldedOf(in[5]);
  bool full = sl && llvm::all_of(sl.getValues<APInt>(), [&](const APInt &a) {
                return a.getSExtValue() == S - 1;
              });
  if (!full) {
    // Right-padded rows: keys s < seqlens_k[b] + 1 only.
    return elementwise(
        {in[5]}, typeOf(in[5]).getElementType(),
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value one = arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(1));
          return arith::AddIOp::create(nb, l, a[0], one).getResult();
        });
  }
  return Value();
}

LogicalResult FusedNode::msAttention() {
  StringRef op = node.op_type();

  bool gqa = op == "GroupQueryAttention";
  bool doRotary = gqa && intAttr(node, "do_rotary", 0);
  std::vector<std::string> unsupported =
      msAttentionRefusals(node, gqa, doRotary);
  if (!unsupported.empty())
    return refuse(unsupported,
                  (gqa ? " (supported: the prefill form without a cache: 3-D "
                         "query, key, value, seqlens_k, total_sequence_length, "
                         "num_heads, kv_num_heads, scale, softcap, do_rotary "
                         "with cos_cache, sin_cache)"
                       : " (supported: 3-D query, key, value, bias, num_heads, "
                         "scale, unidirectional)"));
  Value q = in[0], k = in[1], v = in[2];
  for (Value t : {q, k, v})
    if (typeOf(t).getRank() != 3)
      return error(what + ": query, key and value must be 3-D [B, S, hidden]");
  Type elt = typeOf(q).getElementType();
  if (typeOf(k).getElementType() != elt || typeOf(v).getElementType() != elt)
    return error(what + ": query, key and value element types differ");
  int64_t H = intAttr(node, "num_heads", 0);
  int64_t Hkv = gqa ? intAttr(node, "kv_num_heads", 0) : H;
  if (H <= 0 || Hkv <= 0 || H % Hkv)
    return error(what + ": num_heads " + std::to_string(H) +
                 (gqa ? " must be a positive multiple of kv_num_heads " +
                            std::to_string(Hkv)
                      : std::string(" must be positive")));
  auto qs = typeOf(q).getShape(), ks = typeOf(k).getShape(),
       vs = typeOf(v).getShape();
  int64_t B = qs[0], T = qs[1], S = ks[1];
  if (qs[2] % H || ks[2] % Hkv || vs[2] % Hkv || ks[0] != B || vs[0] != B ||
      vs[1] != S)
    return error(what + ": shapes query " + shapeStr(qs) + ", key " +
                 shapeStr(ks) + ", value " + shapeStr(vs) +
                 " do not match the heads");
  int64_t D = qs[2] / H, Dv = vs[2] / Hkv;
  if (ks[2] / Hkv != D)
    return error(what + ": query and key head sizes differ");
  if (!gqa && present(3)) {
    // bias [3 * hidden]: the q, k and v biases one after the other.
    auto bsh = typeOf(in[3]).getShape();
    if (bsh != ArrayRef<int64_t>{qs[2] + ks[2] + vs[2]})
      return error(what + ": bias must have shape [" +
                   std::to_string(qs[2] + ks[2] + vs[2]) + "]");
    auto part = [&](int64_t off, int64_t n) {
      StridedView view;
      view.outShape = {n};
      view.offset = {off};
      view.coef = {{1}};
      return stridedView(in[3], view);
    };
    q = elementwise({q, part(0, qs[2])}, elt, addF);
    k = elementwise({k, part(qs[2], ks[2])}, elt, addF);
    v = elementwise({v, part(qs[2] + ks[2], vs[2])}, elt, addF);
  }
  bool causal = gqa || intAttr(node, "unidirectional", 0);
  if (causal && S != T)
    return error(what + ": causal attention with query length " +
                 std::to_string(T) + " != key length " + std::to_string(S) +
                 " is not supported");
  Value keyLengths;
  if (gqa) {
    FailureOr<Value> lengths = gqaKeyLengths(B, S);
    if (failed(lengths))
      return failure();
    keyLengths = *lengths;
  }
  auto heads = [&](Value x, int64_t h) {
    auto s = typeOf(x).getShape();
    return transpose(reshape(x, {s[0], s[1], h, s[2] / h}), {0, 2, 1, 3});
  };
  Value q4 = heads(q, H), k4 = heads(k, Hkv), v4 = heads(v, Hkv);
  if (doRotary) {
    // Rotary embedding of Q and K at positions 0..S-1 (prefill); rotary
    // dim = 2 x the caches' width.
    if (!present(7) || !present(8))
      return error(what + ": do_rotary needs cos_cache and sin_cache");
    Value cosC = in[7], sinC = in[8], pos;
    auto cs = typeOf(cosC).getShape();
    if (cs.size() != 2 || typeOf(sinC).getShape() != cs || 2 * cs[1] > D ||
        cs[1] < 1 || cs[0] < T || typeOf(cosC).getElementType() != elt ||
        typeOf(sinC).getElementType() != elt)
      return error(what +
                   ": cos_cache and sin_cache must both be [max_position "
                   ">= " +
                   std::to_string(T) +
                   ", R / 2] with R <= head "
                   "size " +
                   std::to_string(D) + " and the query's type");
    bool il = intAttr(node, "rotary_interleaved", 0);
    q4 = rotate(q4, cosC, sinC, pos, ByOffset, il, 2 * cs[1]);
    k4 = rotate(k4, cosC, sinC, pos, ByOffset, il, 2 * cs[1]);
  }
  auto type = RankedTensorType::get({B, H, T, Dv}, elt);
  auto att = kestrel::AttentionOp::create(
      b, loc, TypeRange{type}, q4, k4, v4, keyLengths, UnitAttr(),
      IntegerAttr(), IntegerAttr(), FloatAttr(), FloatAttr(),
      DenseI64ArrayAttr(), DenseIntElementsAttr());
  if (causal)
    att.setCausal(true);
  if (const onnx::AttributeProto *sc = attribute(node, "scale");
      sc && sc->f() != 0)
    att.setScaleAttr(b.getF32FloatAttr(sc->f()));
  if (gqa) {
    float softcap = floatAttr(node, "softcap", 0.f);
    if (softcap < 0 || std::isnan(softcap))
      return error(what + ": softcap must be >= 0");
    if (softcap > 0)
      att.setSoftcapAttr(b.getF32FloatAttr(softcap));
  }
  Value y = reshape(transpose(att.getResult(), {0, 2, 1, 3}), {B, T, H * Dv});
  out.append({y, k4, v4});
  return success();
}

} // namespace kestrel::onnximport
