//===- OnnxNnOps.cpp - ONNX Gemm, Gelu, normalizations, Einsum, Conv ------===//
//
// Neural-network ops as compositions of the importer's builders (matmul,
// reduce, elementwise) or one linalg.generic each (Einsum, 1-D Conv,
// CumSum), all on static shapes; float element types except for CumSum.
// (TopK is imported as kestrel.top_k, OnnxTensorOps.cpp.)
//
//===----------------------------------------------------------------------===//

#include "OnnxNodeConverter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

/// Parses "ab,bc->ac" (explicit) or "ab,bc" (implicit: output is the letters
/// seen once, sorted). Ellipses are not supported.
FailureOr<std::pair<std::vector<std::string>, std::string>>
parseEinsum(StringRef eq) {
  std::string s;
  for (char c : eq)
    if (c != ' ')
      s.push_back(c);
  StringRef str(s);
  if (str.contains("..."))
    return failure();
  auto [lhs, rhs] = str.split("->");
  bool explicitOut = str.contains("->");
  SmallVector<StringRef> parts;
  lhs.split(parts, ',');
  std::vector<std::string> ins;
  std::map<char, int> count;
  for (StringRef p : parts) {
    for (char c : p) {
      if (!isalpha(c))
        return failure();
      ++count[c];
    }
    ins.push_back(p.str());
  }
  std::string out;
  if (explicitOut) {
    for (char c : rhs)
      if (!isalpha(c) || !count.count(c))
        return failure();
    out = rhs.str();
  } else {
    for (auto [c, n] : count)
      if (n == 1)
        out.push_back(c);
  }
  return std::make_pair(ins, out);
}

int64_t normAxis(int64_t axis, int64_t r) { return axis < 0 ? axis + r : axis; }

Value mulF(OpBuilder &nb, Location l, ValueRange a) {
  return arith::MulFOp::create(nb, l, a[0], a[1]).getResult();
}

/// One node of an op of this file, input 0 (`x`) present; one handler per
/// op type.
class NnNode : public NodeConverter {
public:
  NnNode(Importer &im, const onnx::NodeProto &node, ArrayRef<Value> in,
         SmallVectorImpl<Value> &out)
      : NodeConverter(im, node, in, out,
                      node.op_type() + " '" + node.name() + "'"),
        x(in[0]), xs(typeOf(x).getShape()), rank(xs.size()),
        elt(typeOf(x).getElementType()) {}

  LogicalResult cumSum();
  LogicalResult gemm();
  LogicalResult gelu();
  LogicalResult norm(); // LayerNormalization, RMSNormalization
  LogicalResult einsum();
  LogicalResult conv();

  Value x;
  ArrayRef<int64_t> xs;
  int64_t rank;
  Type elt;
};

/// The op types of this file and their handlers; CumSum also takes integer
/// tensors.
struct NnOpEntry {
  const char *opType;
  LogicalResult (NnNode::*handler)();
  bool integers;
};

const NnOpEntry kNnOps[] = {
    {"Gemm", &NnNode::gemm, false},
    {"Gelu", &NnNode::gelu, false},
    {"LayerNormalization", &NnNode::norm, false},
    {"RMSNormalization", &NnNode::norm, false},
    {"Einsum", &NnNode::einsum, false},
    {"Conv", &NnNode::conv, false},
    {"CumSum", &NnNode::cumSum, true},
};

} // namespace

std::vector<std::string> nnOps() {
  std::vector<std::string> names;
  for (const NnOpEntry &e : kNnOps)
    names.push_back(e.opType);
  return names;
}

LogicalResult Importer::convertNnOp(const onnx::NodeProto &node,
                                    ArrayRef<Value> in,
                                    SmallVectorImpl<Value> &out,
                                    bool &handled) {
  StringRef op = node.op_type();
  const NnOpEntry *entry =
      llvm::find_if(kNnOps, [&](const NnOpEntry &e) { return op == e.opType; });
  if (entry == std::end(kNnOps))
    return success();
  handled = true;
  std::string what = op.str() + " '" + node.name() + "'";
  if (in.empty() || !in[0])
    return error(what + " has no input");
  if (!entry->integers)
    for (Value v : in)
      if (v && !isa<FloatType>(typeOf(v).getElementType()))
        return error(what + " on integer element types is not supported");
  NnNode nn(*this, node, in, out);
  return (nn.*entry->handler)();
}

LogicalResult NnNode::cumSum() {

  FailureOr<std::vector<int64_t>> axisV = constInts(node.input(1), "axis");
  if (failed(axisV))
    return failure();
  if (axisV->size() != 1)
    return error(what + ": axis must be a scalar");
  int64_t axis = normAxis((*axisV)[0], rank);
  if (axis < 0 || axis >= rank)
    return error(what + " has an invalid axis");
  if (elt.isInteger(1))
    return error(what + " on bool is not supported");
  bool exclusive = intAttr(node, "exclusive", 0),
       reverse = intAttr(node, "reverse", 0);
  // out[.., i, ..] = sum over j of x[.., j, ..] for j <= i (j >= i when
  // reversed; strict when exclusive): a reduction over an extra loop j.
  SmallVector<AffineExpr> xe, oe;
  for (int64_t d = 0; d < rank; ++d) {
    xe.push_back(getAffineDimExpr(d == axis ? rank : d, &ctx));
    oe.push_back(getAffineDimExpr(d, &ctx));
  }
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  iters.push_back(IteratorType::reduction);
  Value init = linalg::FillOp::create(
                   b, loc, zeroOf(b, loc, elt),
                   tensor::EmptyOp::create(b, loc, xs, elt).getResult())
                   .getResult(0);
  bool isFloat = isa<FloatType>(elt);
  using IP = arith::CmpIPredicate;
  IP pred = reverse ? (exclusive ? IP::sgt : IP::sge)
                    : (exclusive ? IP::slt : IP::sle);
  out.push_back(
      linalg::GenericOp::create(
          b, loc, init.getType(), x, init,
          {AffineMap::get(rank + 1, 0, xe, &ctx),
           AffineMap::get(rank + 1, 0, oe, &ctx)},
          iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value i = linalg::IndexOp::create(nb, l, axis);
            Value j = linalg::IndexOp::create(nb, l, rank);
            Value in = arith::CmpIOp::create(nb, l, pred, j, i);
            Value v =
                arith::SelectOp::create(nb, l, in, a[0], zeroOf(nb, l, elt));
            Value s = isFloat
                          ? arith::AddFOp::create(nb, l, a[1], v).getResult()
                          : arith::AddIOp::create(nb, l, a[1], v).getResult();
            linalg::YieldOp::create(nb, l, ValueRange{s});
          })
          .getResult(0));
  return success();
}

LogicalResult NnNode::gemm() {

  // Y = alpha * A' B' + beta * C, A' = transA ? A^T : A (both rank 2).
  Value a = x, bm = in[1];
  if (typeOf(a).getRank() != 2 || typeOf(bm).getRank() != 2)
    return error(what + " needs rank-2 A and B");
  if (intAttr(node, "transA", 0))
    a = transpose(a, {1, 0});
  if (intAttr(node, "transB", 0))
    bm = transpose(bm, {1, 0});
  if (typeOf(a).getShape()[1] != typeOf(bm).getShape()[0])
    return error(what + ": inner dimensions differ (" +
                 std::to_string(typeOf(a).getShape()[1]) + " vs " +
                 std::to_string(typeOf(bm).getShape()[0]) + ")");
  Value y = matmul(a, bm);
  float alpha = floatAttr(node, "alpha", 1), beta = floatAttr(node, "beta", 1);
  if (alpha != 1) {
    Value s = scalarConst(elt, alpha);
    y = elementwise({y}, elt, [&](OpBuilder &nb, Location l, ValueRange v) {
      return arith::MulFOp::create(nb, l, v[0], s).getResult();
    });
  }
  if (in.size() > 2 && in[2]) {
    Value c = in[2];
    if (typeOf(c).getRank() > 2)
      return error(what + ": C has rank > 2");
    Value s = scalarConst(elt, beta);
    y = elementwise({y, c}, elt, [&](OpBuilder &nb, Location l, ValueRange v) {
      return arith::AddFOp::create(nb, l, v[0],
                                   arith::MulFOp::create(nb, l, v[1], s))
          .getResult();
    });
  }
  out.push_back(y);
  return success();
}

LogicalResult NnNode::gelu() {

  // none: x/2 (1 + erf(x / sqrt 2)); tanh: x/2 (1 + tanh(sqrt(2/pi) (x +
  // 0.044715 x^3))).
  std::string approx = stringAttr(node, "approximate", "none");
  if (approx != "none" && approx != "tanh")
    return error(what + " has unknown approximate '" + approx + "'");
  bool useTanh = approx == "tanh";
  out.push_back(
      elementwise({x}, elt, [&](OpBuilder &nb, Location l, ValueRange a) {
        auto c = [&](double v) -> Value {
          return arith::ConstantOp::create(nb, l, nb.getFloatAttr(elt, v));
        };
        Value v = a[0], inner;
        if (useTanh) {
          Value x3 = arith::MulFOp::create(nb, l, v,
                                           arith::MulFOp::create(nb, l, v, v));
          Value t = arith::AddFOp::create(
              nb, l, v, arith::MulFOp::create(nb, l, c(0.044715), x3));
          inner = math::TanhOp::create(
              nb, l, arith::MulFOp::create(nb, l, c(std::sqrt(2.0 / M_PI)), t));
        } else {
          inner = math::ErfOp::create(
              nb, l, arith::MulFOp::create(nb, l, v, c(M_SQRT1_2)));
        }
        Value half = arith::MulFOp::create(nb, l, c(0.5), v);
        return arith::MulFOp::create(nb, l, half,
                                     arith::AddFOp::create(nb, l, c(1), inner))
            .getResult();
      }));
  return success();
}

LogicalResult NnNode::norm() {
  StringRef op = node.op_type();

  // Over axes [axis, rank): LayerNorm y = (x - mean) / sqrt(var + eps) *
  // scale + bias; RMSNorm y = x / sqrt(mean(x^2) + eps) * scale.
  int64_t axis = intAttr(node, "axis", -1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return error(what + " has an invalid axis");
  if (intAttr(node, "stash_type", 1) != 1)
    return error(what + ": only stash_type 1 (float32) is supported");
  if (in.size() < 2 || !in[1])
    return error(what + " needs a scale input");
  float eps = floatAttr(node, "epsilon", 1e-5f);
  SmallVector<int64_t> axes;
  for (int64_t i = axis; i < rank; ++i)
    axes.push_back(i);
  bool layer = op == "LayerNormalization";
  Value centered = x;
  Value mean;
  if (layer) {
    mean = reduce(x, axes, /*keepDims=*/true, "mean");
    centered = elementwise(
        {x, mean}, elt, [](OpBuilder &nb, Location l, ValueRange a) {
          return arith::SubFOp::create(nb, l, a[0], a[1]).getResult();
        });
  }
  Value sq = elementwise({centered, centered}, elt, mulF);
  Value ms = reduce(sq, axes, /*keepDims=*/true, "mean");
  Value e = scalarConst(elt, eps);
  Value inv =
      elementwise({ms}, elt, [&](OpBuilder &nb, Location l, ValueRange a) {
        return math::RsqrtOp::create(nb, l,
                                     arith::AddFOp::create(nb, l, a[0], e))
            .getResult();
      });
  Value y = elementwise({centered, inv}, elt, mulF);
  y = elementwise({y, in[1]}, elt, mulF);
  if (layer && in.size() > 2 && in[2])
    y = elementwise({y, in[2]}, elt, addF);
  out.push_back(y);
  if (layer) {
    out.push_back(mean);
    out.push_back(inv);
  }
  return success();
}

LogicalResult NnNode::einsum() {

  auto parsed = parseEinsum(stringAttr(node, "equation", ""));
  if (failed(parsed))
    return error(what + ": equation '" + stringAttr(node, "equation", "") +
                 "' is not supported (letters only, no ellipsis)");
  auto &[terms, outLetters] = *parsed;
  if (terms.size() != in.size() || in.size() > 2 || in.empty())
    return error(what + ": only one- and two-operand equations matching the "
                        "inputs are supported");
  // One loop per distinct letter: output letters first (parallel), then
  // the summed ones (reduction).
  std::string letters = outLetters;
  for (const std::string &t : terms)
    for (char c : t)
      if (letters.find(c) == std::string::npos)
        letters.push_back(c);
  std::map<char, int64_t> size;
  for (auto [t, v] : llvm::zip(terms, in)) {
    auto s = typeOf(v).getShape();
    if (t.size() != s.size())
      return error(what + ": subscript '" + t +
                   "' does not match the rank of its input");
    for (auto [c, d] : llvm::zip(t, s)) {
      if (size.count(c) && size[c] != d)
        return error(what + ": letter '" + std::string(1, c) + "' has sizes " +
                     std::to_string(size[c]) + " and " + std::to_string(d));
      size[c] = d;
    }
    const std::string &sub = t;
    if (llvm::any_of(sub, [&](char c) { return llvm::count(sub, c) > 1; }))
      return error(what + ": repeated letters within one operand (diagonals) "
                          "are not supported");
  }
  int64_t n = letters.size();
  auto mapOf = [&](const std::string &t) {
    SmallVector<AffineExpr> e;
    for (char c : t)
      e.push_back(getAffineDimExpr(letters.find(c), &ctx));
    return AffineMap::get(n, 0, e, &ctx);
  };
  SmallVector<AffineMap> maps;
  for (const std::string &t : terms)
    maps.push_back(mapOf(t));
  maps.push_back(mapOf(outLetters));
  SmallVector<int64_t> shape;
  for (char c : outLetters)
    shape.push_back(size[c]);
  SmallVector<IteratorType> iters(n, IteratorType::reduction);
  for (size_t i = 0; i < outLetters.size(); ++i)
    iters[i] = IteratorType::parallel;
  Value init = linalg::FillOp::create(
                   b, loc, zeroOf(b, loc, elt),
                   tensor::EmptyOp::create(b, loc, shape, elt).getResult())
                   .getResult(0);
  out.push_back(
      linalg::GenericOp::create(
          b, loc, init.getType(), in, init, maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value p = a[0];
            if (a.size() == 3)
              p = arith::MulFOp::create(nb, l, a[0], a[1]);
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::AddFOp::create(nb, l, a.back(), p)});
          })
          .getResult(0));
  return success();
}

LogicalResult NnNode::conv() {

  // 1-D grouped convolution, X [N, C, L], W [OC, C/G, K]:
  // y[n, g, m, l] = sum_{c, k} xp[n, g, c, l*s + k*d] * w[g, m, c, k] (+ b)
  // with xp the zero-padded input split into G groups (depthwise when
  // G = C), as used by causal convolutions in SSM blocks.
  Value w = in[1];
  auto ws = typeOf(w).getShape();
  if (rank != 3 || ws.size() != 3)
    return error(what + ": only 1-D convolution (rank-3 input and weight) is "
                        "supported");
  int64_t g = intAttr(node, "group", 1);
  int64_t nB = xs[0], c = xs[1], len = xs[2], oc = ws[0], kw = ws[2];
  if (g <= 0 || c % g || oc % g || ws[1] != c / g)
    return error(what + ": weight shape does not match group " +
                 std::to_string(g));
  std::vector<int64_t> strides = intsAttr(node, "strides"),
                       dil = intsAttr(node, "dilations"),
                       pads = intsAttr(node, "pads"),
                       ks = intsAttr(node, "kernel_shape");
  int64_t s = strides.empty() ? 1 : strides[0], d = dil.empty() ? 1 : dil[0];
  if (!ks.empty() && ks[0] != kw)
    return error(what + ": kernel_shape differs from the weight");
  int64_t padL = pads.empty() ? 0 : pads[0],
          padR = pads.size() > 1 ? pads[1] : 0;
  std::string autoPad = stringAttr(node, "auto_pad", "NOTSET");
  int64_t span = (kw - 1) * d + 1;
  if (autoPad == "VALID") {
    padL = padR = 0;
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    int64_t outLen = (len + s - 1) / s;
    int64_t total = std::max<int64_t>(0, (outLen - 1) * s + span - len);
    padL = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
    padR = total - padL;
  } else if (autoPad != "NOTSET") {
    return error(what + " has unknown auto_pad '" + autoPad + "'");
  }
  if (s <= 0 || d <= 0 || padL < 0 || padR < 0)
    return error(what + " has invalid strides, dilations or pads");
  int64_t padded = len + padL + padR;
  if (padded < span)
    return error(what + ": the kernel is longer than the input");
  int64_t outLen = (padded - span) / s + 1;
  Value xp = x;
  if (padL || padR) {
    // Zero outside [padL, padL + len): read at a clamped index, select.
    xp = gather(
        {nB, c, padded}, elt, [&](OpBuilder &nb, Location l, ValueRange idx) {
          Value i = arith::SubIOp::create(
              nb, l, idx[2], arith::ConstantIndexOp::create(nb, l, padL));
          Value zero = arith::ConstantIndexOp::create(nb, l, 0);
          Value inside = arith::AndIOp::create(
              nb, l,
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, i, zero),
              arith::CmpIOp::create(
                  nb, l, arith::CmpIPredicate::slt, i,
                  arith::ConstantIndexOp::create(nb, l, len)));
          Value clamped = arith::MinSIOp::create(
              nb, l, arith::MaxSIOp::create(nb, l, i, zero),
              arith::ConstantIndexOp::create(nb, l, len - 1));
          Value e = tensor::ExtractOp::create(
              nb, l, x, ValueRange{idx[0], idx[1], clamped});
          return arith::SelectOp::create(nb, l, inside, e, zeroOf(nb, l, elt))
              .getResult();
        });
  }
  int64_t cg = c / g, mg = oc / g;
  xp = reshape(xp, {nB, g, cg, padded});
  Value wr = reshape(w, {g, mg, cg, kw});
  // Loops (n, g, m, l, c, k).
  auto dim = [&](int i) { return getAffineDimExpr(i, &ctx); };
  SmallVector<AffineMap> maps = {
      AffineMap::get(6, 0, {dim(0), dim(1), dim(4), dim(3) * s + dim(5) * d},
                     &ctx),
      AffineMap::get(6, 0, {dim(1), dim(2), dim(4), dim(5)}, &ctx),
      AffineMap::get(6, 0, {dim(0), dim(1), dim(2), dim(3)}, &ctx)};
  SmallVector<IteratorType> iters(4, IteratorType::parallel);
  iters.append(2, IteratorType::reduction);
  SmallVector<int64_t> shape = {nB, g, mg, outLen};
  Value init = linalg::FillOp::create(
                   b, loc, zeroOf(b, loc, elt),
                   tensor::EmptyOp::create(b, loc, shape, elt).getResult())
                   .getResult(0);
  Value y = linalg::GenericOp::create(
                b, loc, init.getType(), ValueRange{xp, wr}, init, maps, iters,
                [&](OpBuilder &nb, Location l, ValueRange a) {
                  Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
                  linalg::YieldOp::create(
                      nb, l, ValueRange{arith::AddFOp::create(nb, l, a[2], p)});
                })
                .getResult(0);
  y = reshape(y, {nB, oc, outLen});
  if (in.size() > 2 && in[2]) {
    if (typeOf(in[2]).getShape() != ArrayRef<int64_t>{oc})
      return error(what + ": bias must have shape [" + std::to_string(oc) +
                   "]");
    y = elementwise({y, reshape(in[2], {oc, 1})}, elt, addF);
  }
  out.push_back(y);
  return success();
}

} // namespace kestrel::onnximport
