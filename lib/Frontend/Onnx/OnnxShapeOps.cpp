//===- OnnxShapeOps.cpp - ONNX shape, mask and cast ops -------------------===//
//
// Cast, Shape/ConstantOfShape/Range, the comparisons, Where and Trilu on
// static shapes: the handlers of the tensor-op table (OnnxTensorOps.cpp) that
// compute shapes and masks. Like the data movement ops, each folds at import
// time when its inputs are integer constants, so that Reshape targets and
// causal masks reach kestrel-recognize as constants.
//
//===----------------------------------------------------------------------===//

#include "OnnxTensorOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <cmath>

using namespace mlir;

namespace kestrel::onnximport {

LogicalResult TensorNode::castElements() {
  const onnx::AttributeProto *to = attribute(node, "to");
  Type t = to ? elementType(&ctx, to->i()) : Type();
  if (!t)
    return error(what + " casts to an unsupported type (" +
                 std::to_string(to ? to->i() : -1) + ")");
  out.push_back(castTo(x, t));
  return success();
}

LogicalResult TensorNode::shapeOf() {
  int64_t start = normAxis(intAttr(node, "start", 0), rank);
  int64_t end = normAxis(intAttr(node, "end", rank), rank);
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  SmallVector<int64_t> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back(xs[i]);
  auto type = RankedTensorType::get({(int64_t)dims.size()}, b.getI64Type());
  out.push_back(
      materialize(DenseElementsAttr::get(type, ArrayRef<int64_t>(dims))));
  return success();
}

LogicalResult TensorNode::constantOfShape() {
  FailureOr<std::vector<int64_t>> shape = constInts(node.input(0), "shape");
  if (failed(shape))
    return failure();
  Attribute value = b.getF32FloatAttr(0);
  Type t = b.getF32Type();
  if (const onnx::AttributeProto *a = attribute(node, "value")) {
    FailureOr<Value> c = im.constant(a->t());
    if (failed(c))
      return failure();
    DenseElementsAttr ca = foldedOf(*c);
    if (ca.getNumElements() != 1)
      return error(what + " value must hold one element");
    t = ca.getElementType();
    value = *ca.getValues<Attribute>().begin();
  }
  if (failed(im.checkShape(*shape, t, "shape " + shapeString(*shape))))
    return failure();
  auto type = RankedTensorType::get(*shape, t);
  out.push_back(materialize(DenseElementsAttr::get(type, value)));
  return success();
}

LogicalResult TensorNode::range() {
  DenseElementsAttr c[3];
  for (int i = 0; i < 3; ++i) {
    c[i] = foldedOf(in[i]);
    if (!c[i] || c[i].getNumElements() != 1)
      return error(what +
                   ": start, limit and delta must be scalar constants "
                   "known at import time (the result shape depends on them)");
  }
  if (isa<IntegerType>(elt)) {
    int64_t s = intValue(*c[0].getValues<APInt>().begin()),
            l = intValue(*c[1].getValues<APInt>().begin()),
            d = intValue(*c[2].getValues<APInt>().begin());
    if (d == 0)
      return error(what + " has delta 0");
    // In 128 bits: limit - start overflows int64 for extreme operands.
    __int128 span = (__int128)l - s + d + (d > 0 ? -1 : 1);
    __int128 n128 = std::max<__int128>(0, span / d);
    int64_t n = (int64_t)std::min<__int128>(n128, kMaxElements + 1);
    if (failed(rangeLength(n, s, l, d)))
      return failure();
    if (n > kMaxFoldElements) { // computed at run time, not folded
      out.push_back(gather(
          {n}, elt, [&](OpBuilder &nb, Location l, ValueRange idx) -> Value {
            Value i = arith::IndexCastOp::create(nb, l, elt, idx[0]);
            Value v = arith::MulIOp::create(
                nb, l, i,
                arith::ConstantOp::create(nb, l, nb.getIntegerAttr(elt, d)));
            return arith::AddIOp::create(
                nb, l, v,
                arith::ConstantOp::create(nb, l, nb.getIntegerAttr(elt, s)));
          }));
      return success();
    }
    SmallVector<APInt> v;
    for (int64_t i = 0; i < n; ++i)
      v.push_back(truncated(s + i * d, elt.getIntOrFloatBitWidth()));
    out.push_back(materialize(
        DenseElementsAttr::get(RankedTensorType::get({n}, elt), v)));
    return success();
  }
  auto f = [&](int i) {
    return (*c[i].getValues<APFloat>().begin()).convertToDouble();
  };
  double s = f(0), l = f(1), d = f(2);
  if (d == 0 || !std::isfinite(s) || !std::isfinite(l) || !std::isfinite(d))
    return error(what + " has delta 0 or a non-finite operand");
  double nd = std::max(0.0, std::ceil((l - s) / d));
  int64_t n = (int64_t)std::min(nd, (double)kMaxElements + 1);
  if (failed(rangeLength(n, s, l, d)))
    return failure();
  if (n > kMaxFoldElements) { // computed at run time, not folded
    out.push_back(gather(
        {n}, elt, [&](OpBuilder &nb, Location l, ValueRange idx) -> Value {
          Value i = arith::IndexCastOp::create(nb, l, nb.getI64Type(), idx[0]);
          Value f = arith::SIToFPOp::create(nb, l, elt, i);
          Value v = arith::MulFOp::create(
              nb, l, f,
              arith::ConstantOp::create(nb, l, nb.getFloatAttr(elt, d)));
          return arith::AddFOp::create(
              nb, l, v,
              arith::ConstantOp::create(nb, l, nb.getFloatAttr(elt, s)));
        }));
    return success();
  }
  SmallVector<Attribute> v;
  for (int64_t i = 0; i < n; ++i)
    v.push_back(b.getFloatAttr(elt, s + i * d));
  out.push_back(
      materialize(DenseElementsAttr::get(RankedTensorType::get({n}, elt), v)));
  return success();
}

LogicalResult TensorNode::where() {
  if (!typeOf(in[0]).getElementType().isInteger(1))
    return error(what + " needs a bool condition");
  Type t = typeOf(in[1]).getElementType();
  if (typeOf(in[2]).getElementType() != t)
    return error(what + " mixes element types");
  if (!broadcastShapes(xs, typeOf(in[1]).getShape()) ||
      !broadcastShapes(*broadcastShapes(xs, typeOf(in[1]).getShape()),
                       typeOf(in[2]).getShape()))
    return error(what + " has shapes that do not broadcast");
  // Masks (Where(cond, 0, -inf)) fold at any element type.
  if (DenseElementsAttr f = foldMap(
          {foldedOf(in[0]), foldedOf(in[1]), foldedOf(in[2])}, t,
          [](ArrayRef<int64_t> a) { return a[0] ? a[1] : a[2]; },
          [](ArrayRef<double> a) { return a[0] != 0 ? a[1] : a[2]; })) {
    out.push_back(materialize(f));
    return success();
  }
  out.push_back(elementwise(in, t, [](OpBuilder &nb, Location l, ValueRange a) {
    return arith::SelectOp::create(nb, l, a[0], a[1], a[2]).getResult();
  }));
  return success();
}

LogicalResult TensorNode::compare() {
  StringRef op = node.op_type();
  if (typeOf(in[1]).getElementType() != elt)
    return error(what + " compares different element types");
  if (!broadcastShapes(xs, typeOf(in[1]).getShape()))
    return error(what + " has shapes that do not broadcast");
  using IP = arith::CmpIPredicate;
  using FP = arith::CmpFPredicate;
  IP ip = op == "Equal"         ? IP::eq
          : op == "Less"        ? IP::slt
          : op == "Greater"     ? IP::sgt
          : op == "LessOrEqual" ? IP::sle
                                : IP::sge;
  FP fp = op == "Equal"         ? FP::OEQ
          : op == "Less"        ? FP::OLT
          : op == "Greater"     ? FP::OGT
          : op == "LessOrEqual" ? FP::OLE
                                : FP::OGE;
  Type i1 = b.getI1Type();
  auto cmp = [&](auto x, auto y) -> bool {
    switch (ip) {
    case IP::eq:
      return x == y;
    case IP::slt:
      return x < y;
    case IP::sgt:
      return x > y;
    case IP::sle:
      return x <= y;
    default:
      return x >= y;
    }
  };
  if (DenseElementsAttr f = foldMap(
          {foldedOf(in[0]), foldedOf(in[1])}, i1,
          [&](ArrayRef<int64_t> a) -> int64_t { return cmp(a[0], a[1]); },
          [&](ArrayRef<double> a) -> double { return cmp(a[0], a[1]); })) {
    out.push_back(materialize(f));
    return success();
  }
  bool isFloat = isa<FloatType>(elt);
  out.push_back(
      elementwise(in, i1, [&](OpBuilder &nb, Location l, ValueRange a) {
        return isFloat
                   ? arith::CmpFOp::create(nb, l, fp, a[0], a[1]).getResult()
                   : arith::CmpIOp::create(nb, l, ip, a[0], a[1]).getResult();
      }));
  return success();
}

LogicalResult TensorNode::trilu() {
  if (rank < 2)
    return error(what + " needs a tensor of rank >= 2");
  int64_t k = 0;
  if (optionalInput(1)) {
    FailureOr<std::vector<int64_t>> kv = constInts(node.input(1), "k");
    if (failed(kv))
      return failure();
    if (kv->size() != 1)
      return error(what + ": k must be a scalar");
    k = (*kv)[0];
  }
  bool upper = intAttr(node, "upper", 1);
  // Folded on integer/bool constants, so that causal masks built from a
  // constant reach attention recognition (kestrel-recognize) as constants.
  DenseElementsAttr cx = foldedOf(x);
  auto xs = typeOf(x).getShape();
  if (cx && isa<IntegerType>(elt) && product(xs) <= kMaxFoldElements) {
    int64_t rows = xs[rank - 2], cols = xs[rank - 1];
    SmallVector<APInt> v(cx.getValues<APInt>().begin(),
                         cx.getValues<APInt>().end());
    for (int64_t n = 0; n < (int64_t)v.size(); ++n) {
      int64_t i = (n / cols) % rows, j = n % cols;
      if (upper ? j - i < k : j - i > k)
        v[n] = APInt::getZero(v[n].getBitWidth());
    }
    out.push_back(materialize(DenseElementsAttr::get(typeOf(x), v)));
    return success();
  }
  out.push_back(
      elementwise({x}, elt, [&](OpBuilder &nb, Location l, ValueRange a) {
        // Keep (i, j) when j - i >= k (upper) or j - i <= k (lower).
        Value i = linalg::IndexOp::create(nb, l, rank - 2);
        Value j = linalg::IndexOp::create(nb, l, rank - 1);
        Value diff = arith::SubIOp::create(nb, l, j, i);
        Value kk = arith::ConstantIndexOp::create(nb, l, k);
        Value keep = arith::CmpIOp::create(nb, l,
                                           upper ? arith::CmpIPredicate::sge
                                                 : arith::CmpIPredicate::sle,
                                           diff, kk);
        return arith::SelectOp::create(nb, l, keep, a[0], zeroOf(nb, l, elt))
            .getResult();
      }));
  return success();
}

} // namespace kestrel::onnximport
