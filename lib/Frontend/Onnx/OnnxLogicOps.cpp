//===- OnnxLogicOps.cpp - ONNX logic, bitwise, Mod, Clip, IsNaN/IsInf -----===//
//
// And/Or/Xor (bool), BitwiseAnd/Or/Xor/Not (integers), IsNaN/IsInf, Mod
// (fmod and the integer floor form) and Clip (attributes before opset 11,
// optional scalar inputs from 11 on) as one elementwise linalg.generic each,
// with NumPy broadcasting. PyTorch's dynamo exporter builds attention masks
// as And/Where over comparisons of static shapes; foldMap folds them at
// import time (up to kMaxMaskFoldElements elements, any element type) so
// that the mask reaches kestrel-recognize as a constant at every sequence
// length (docs/architecture.md: the frontend folds shape computations, it
// does not optimize).
//
//===----------------------------------------------------------------------===//

#include "OnnxTensorOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

/// The values of constant `a` as int64 (integers and bool) or double.
template <typename T> std::vector<T> decode(DenseElementsAttr a) {
  std::vector<T> out;
  Type e = a.getElementType();
  int64_t n = a.isSplat() ? 1 : a.getNumElements();
  out.reserve(n);
  auto take = [&](auto range) {
    for (auto v : range) {
      if ((int64_t)out.size() == n)
        break;
      out.push_back((T)v);
    }
  };
  if (e.isInteger(1))
    take(a.getValues<bool>());
  else if (e.isInteger(8))
    take(a.getValues<int8_t>());
  else if (e.isInteger(32))
    take(a.getValues<int32_t>());
  else if (e.isInteger(64))
    take(a.getValues<int64_t>());
  else if (e.isF32())
    take(a.getValues<float>());
  else if (isa<FloatType>(e))
    for (const APFloat &v : a.getValues<APFloat>()) {
      if ((int64_t)out.size() == n)
        break;
      out.push_back((T)v.convertToDouble());
    }
  else
    for (const APInt &v : a.getValues<APInt>()) {
      if ((int64_t)out.size() == n)
        break;
      out.push_back((T)intValue(v));
    }
  return out;
}

/// `values` (one per element of `type`, or one for a splat) as a constant.
template <typename T>
DenseElementsAttr encode(RankedTensorType type, const std::vector<T> &values) {
  Type e = type.getElementType();
  if (values.size() == 1 && type.getNumElements() != 1) {
    Builder b(type.getContext());
    Attribute v =
        isa<FloatType>(e)
            ? (Attribute)b.getFloatAttr(e, (double)values[0])
            : (Attribute)b.getIntegerAttr(
                  e, truncated((int64_t)values[0], e.getIntOrFloatBitWidth()));
    return DenseElementsAttr::get(type, v);
  }
  if (e.isInteger(1)) {
    SmallVector<bool> bits;
    for (T v : values)
      bits.push_back(v != 0);
    return DenseElementsAttr::get(type, ArrayRef<bool>(bits));
  }
  if (e.isF32()) {
    SmallVector<float> f(values.begin(), values.end());
    return DenseElementsAttr::get(type, ArrayRef<float>(f));
  }
  unsigned bits = e.getIntOrFloatBitWidth(), width = bits / 8;
  std::vector<char> raw(values.size() * width);
  for (auto [i, v] : llvm::enumerate(values)) {
    APInt w;
    if (auto f = dyn_cast<FloatType>(e)) {
      APFloat x((double)v);
      bool lost;
      x.convert(f.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      w = x.bitcastToAPInt();
    } else {
      w = truncated((int64_t)v, bits);
    }
    uint64_t word = w.getZExtValue();
    std::memcpy(raw.data() + i * width, &word, width); // little endian
  }
  return DenseElementsAttr::getFromRawBuffer(type, raw);
}

template <typename T>
DenseElementsAttr foldAs(ArrayRef<DenseElementsAttr> inputs,
                         ArrayRef<int64_t> shape, Type resultElement,
                         function_ref<T(ArrayRef<T>)> fn) {
  int64_t rank = shape.size();
  std::vector<std::vector<T>> vals;
  SmallVector<SmallVector<int64_t>> strides;
  bool allSplat = true;
  for (DenseElementsAttr a : inputs) {
    vals.push_back(decode<T>(a));
    auto s = a.getType().getShape();
    SmallVector<int64_t> st(rank, 0), own = stridesOf(s);
    if (!a.isSplat())
      for (int64_t d = 0; d < (int64_t)s.size(); ++d)
        if (s[d] != 1)
          st[rank - s.size() + d] = own[d];
    strides.push_back(st);
    allSplat &= a.isSplat();
  }
  auto type = RankedTensorType::get(shape, resultElement);
  SmallVector<T> args(inputs.size());
  if (allSplat) {
    for (auto [i, v] : llvm::enumerate(vals))
      args[i] = v[0];
    return encode<T>(type, {fn(args)});
  }
  std::vector<T> out;
  out.reserve(product(shape));
  forEachIndex(shape, [&](ArrayRef<int64_t> idx) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      int64_t lin = 0;
      for (int64_t d = 0; d < rank; ++d)
        lin += idx[d] * strides[i][d];
      args[i] = vals[i][lin];
    }
    out.push_back(fn(args));
  });
  return encode<T>(type, out);
}

} // namespace

DenseElementsAttr foldMap(ArrayRef<DenseElementsAttr> inputs,
                          Type resultElement,
                          function_ref<int64_t(ArrayRef<int64_t>)> intFn,
                          function_ref<double(ArrayRef<double>)> floatFn,
                          int64_t limit) {
  SmallVector<int64_t> shape;
  bool allInt = isa<IntegerType>(resultElement);
  for (DenseElementsAttr a : inputs) {
    if (!a)
      return nullptr;
    auto s = broadcastShapes(shape, a.getType().getShape());
    if (!s)
      return nullptr;
    shape = *s;
    allInt &= isa<IntegerType>(a.getElementType());
  }
  if ((allInt ? !intFn : !floatFn) || product(shape) > limit)
    return nullptr;
  // Masks read bool/integer tensors and splat fills; a large non-splat float
  // operand is a weight, left to run time rather than decoded into doubles.
  for (DenseElementsAttr a : inputs)
    if (!allInt && isa<FloatType>(a.getElementType()) && !a.isSplat() &&
        a.getNumElements() > kMaxFoldElements)
      return nullptr;
  if (allInt)
    return foldAs<int64_t>(inputs, shape, resultElement, intFn);
  return foldAs<double>(inputs, shape, resultElement, floatFn);
}

LogicalResult TensorNode::logical() {
  StringRef op = node.op_type();
  bool bitwise = op.starts_with("Bitwise");
  if (typeOf(in[1]).getElementType() != elt)
    return error(what + " mixes element types");
  if (bitwise ? !isInt(elt) : !isBool(elt))
    return error(what +
                 (bitwise ? " needs integer inputs" : " needs bool inputs"));
  if (!broadcastShapes(xs, typeOf(in[1]).getShape()))
    return error(what + " has input shapes " + shapeString(xs) + " and " +
                 shapeString(typeOf(in[1]).getShape()) +
                 " that do not broadcast");
  StringRef kind = bitwise ? op.drop_front(7) : op;
  auto fn = [kind](ArrayRef<int64_t> a) -> int64_t {
    return kind == "And"  ? (a[0] & a[1])
           : kind == "Or" ? (a[0] | a[1])
                          : (a[0] ^ a[1]);
  };
  if (DenseElementsAttr f =
          foldMap({foldedOf(in[0]), foldedOf(in[1])}, elt, fn, nullptr)) {
    out.push_back(materialize(f));
    return success();
  }
  out.push_back(elementwise(
      {in[0], in[1]}, elt, [&](OpBuilder &nb, Location l, ValueRange a) {
        if (kind == "And")
          return arith::AndIOp::create(nb, l, a[0], a[1]).getResult();
        if (kind == "Or")
          return arith::OrIOp::create(nb, l, a[0], a[1]).getResult();
        return arith::XOrIOp::create(nb, l, a[0], a[1]).getResult();
      }));
  return success();
}

LogicalResult TensorNode::logicalNot() {
  if (!isBool(elt))
    return error(what + " needs a bool input");
  if (DenseElementsAttr f = foldMap(
          {foldedOf(x)}, elt,
          [](ArrayRef<int64_t> a) { return (int64_t)!a[0]; }, nullptr)) {
    out.push_back(materialize(f));
    return success();
  }
  out.push_back(
      elementwise({x}, elt, [](OpBuilder &nb, Location l, ValueRange a) {
        Value t = arith::ConstantOp::create(nb, l, nb.getBoolAttr(true));
        return arith::XOrIOp::create(nb, l, a[0], t).getResult();
      }));
  return success();
}

LogicalResult TensorNode::bitwiseNot() {
  if (!isInt(elt))
    return error(what + " needs an integer input");
  if (DenseElementsAttr f = foldMap(
          {foldedOf(x)}, elt, [](ArrayRef<int64_t> a) { return ~a[0]; },
          nullptr)) {
    out.push_back(materialize(f));
    return success();
  }
  out.push_back(
      elementwise({x}, elt, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value ones =
            arith::ConstantOp::create(nb, l, nb.getIntegerAttr(elt, -1));
        return arith::XOrIOp::create(nb, l, a[0], ones).getResult();
      }));
  return success();
}

LogicalResult TensorNode::classify() {
  if (!isa<FloatType>(elt))
    return error(what + " needs a float input");
  bool nan = node.op_type() == "IsNaN";
  bool pos = intAttr(node, "detect_positive", 1) != 0;
  bool neg = intAttr(node, "detect_negative", 1) != 0;
  Type i1 = b.getI1Type();
  if (DenseElementsAttr f = foldMap(
          {foldedOf(x)}, i1, nullptr, [&](ArrayRef<double> a) -> double {
            if (nan)
              return std::isnan(a[0]);
            return std::isinf(a[0]) && (a[0] > 0 ? pos : neg);
          })) {
    out.push_back(materialize(f));
    return success();
  }
  out.push_back(
      elementwise({x}, i1, [&](OpBuilder &nb, Location l, ValueRange a) {
        using P = arith::CmpFPredicate;
        if (nan)
          return arith::CmpFOp::create(nb, l, P::UNO, a[0], a[0]).getResult();
        double inf = std::numeric_limits<double>::infinity();
        Value r = arith::ConstantOp::create(nb, l, nb.getBoolAttr(false));
        for (auto [on, v] : {std::pair(pos, inf), std::pair(neg, -inf)})
          if (on)
            r = arith::OrIOp::create(
                nb, l, r,
                arith::CmpFOp::create(
                    nb, l, P::OEQ, a[0],
                    arith::ConstantOp::create(nb, l, nb.getFloatAttr(elt, v))));
        return r;
      }));
  return success();
}

LogicalResult TensorNode::mod() {
  if (typeOf(in[1]).getElementType() != elt)
    return error(what + " mixes element types");
  if (isBool(elt))
    return error(what + " on bool is not supported");
  if (!broadcastShapes(xs, typeOf(in[1]).getShape()))
    return error(what + " has input shapes " + shapeString(xs) + " and " +
                 shapeString(typeOf(in[1]).getShape()) +
                 " that do not broadcast");
  // fmod = 1: the sign of the dividend (C fmod); fmod = 0: the sign of the
  // divisor (Python %), r + y when r != 0 and r, y differ in sign.
  bool fmod = intAttr(node, "fmod", 0) != 0;
  bool isFloat = isa<FloatType>(elt);
  if (DenseElementsAttr c = foldedOf(in[1]); c && !isFloat)
    for (const APInt &v : c.getValues<APInt>())
      if (v.isZero())
        return error(what + " divides by a constant zero");
  auto intFold = [&](ArrayRef<int64_t> a) -> int64_t {
    int64_t r = a[1] ? a[0] % a[1] : 0;
    return !fmod && r && ((r < 0) != (a[1] < 0)) ? r + a[1] : r;
  };
  auto floatFold = [&](ArrayRef<double> a) -> double {
    double r = std::fmod(a[0], a[1]);
    return !fmod && r != 0 && ((r < 0) != (a[1] < 0)) ? r + a[1] : r;
  };
  if (DenseElementsAttr f = foldMap({foldedOf(in[0]), foldedOf(in[1])}, elt,
                                    intFold, floatFold, kMaxFoldElements)) {
    out.push_back(materialize(f));
    return success();
  }
  out.push_back(elementwise(
      {in[0], in[1]}, elt, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value r = isFloat
                      ? arith::RemFOp::create(nb, l, a[0], a[1]).getResult()
                      : arith::RemSIOp::create(nb, l, a[0], a[1]).getResult();
        if (fmod)
          return r;
        Value zero = zeroOf(nb, l, elt);
        Value nonzero, rNeg, yNeg;
        if (isFloat) {
          using P = arith::CmpFPredicate;
          nonzero = arith::CmpFOp::create(nb, l, P::ONE, r, zero);
          rNeg = arith::CmpFOp::create(nb, l, P::OLT, r, zero);
          yNeg = arith::CmpFOp::create(nb, l, P::OLT, a[1], zero);
        } else {
          using P = arith::CmpIPredicate;
          nonzero = arith::CmpIOp::create(nb, l, P::ne, r, zero);
          rNeg = arith::CmpIOp::create(nb, l, P::slt, r, zero);
          yNeg = arith::CmpIOp::create(nb, l, P::slt, a[1], zero);
        }
        Value fix = arith::AndIOp::create(
            nb, l, nonzero, arith::XOrIOp::create(nb, l, rNeg, yNeg));
        Value sum = isFloat ? arith::AddFOp::create(nb, l, r, a[1]).getResult()
                            : arith::AddIOp::create(nb, l, r, a[1]).getResult();
        return arith::SelectOp::create(nb, l, fix, sum, r).getResult();
      }));
  return success();
}

LogicalResult TensorNode::clip() {
  if (isBool(elt))
    return error(what + " on bool is not supported");
  bool isFloat = isa<FloatType>(elt);
  // Bounds: attributes before opset 11, optional scalar inputs from 11 on.
  SmallVector<Value> bounds; // [min, max], null when absent
  if (im.opset < 11) {
    if (!isFloat)
      return error(what + " on integers needs opset 11 or later (opset " +
                   std::to_string(im.opset) + ")");
    for (const char *name : {"min", "max"})
      bounds.push_back(attribute(node, name)
                           ? scalarConst(elt, floatAttr(node, name, 0))
                           : Value());
  } else {
    for (int i : {1, 2}) {
      if (!optionalInput(i)) {
        bounds.push_back(Value());
        continue;
      }
      auto t = typeOf(in[i]);
      if (t.getElementType() != elt)
        return error(what + (i == 1 ? " min" : " max") +
                     " has a different element type than its input");
      if (t.getNumElements() != 1)
        return error(what + (i == 1 ? " min" : " max") +
                     " must hold one element, got shape " +
                     shapeString(t.getShape()) + " (opset " +
                     std::to_string(im.opset) + ")");
      bounds.push_back(t.getRank() == 0 ? in[i]
                                        : reshape(in[i], ArrayRef<int64_t>{}));
    }
  }
  SmallVector<Value> operands{x};
  SmallVector<int> which; // operand index of min / max, or -1
  for (Value v : bounds) {
    which.push_back(
        v && isa<RankedTensorType>(v.getType()) ? (int)operands.size() : -1);
    if (which.back() >= 0)
      operands.push_back(v);
  }
  out.push_back(
      elementwise(operands, elt, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value r = a[0];
        for (int k : {0, 1}) {
          Value bound = which[k] >= 0 ? a[which[k]] : bounds[k];
          if (!bound)
            continue;
          if (isFloat)
            r = k == 0 ? arith::MaximumFOp::create(nb, l, r, bound).getResult()
                       : arith::MinimumFOp::create(nb, l, r, bound).getResult();
          else
            r = k == 0 ? arith::MaxSIOp::create(nb, l, r, bound).getResult()
                       : arith::MinSIOp::create(nb, l, r, bound).getResult();
        }
        return r;
      }));
  return success();
}

} // namespace kestrel::onnximport
