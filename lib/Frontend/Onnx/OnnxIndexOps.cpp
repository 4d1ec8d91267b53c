//===- OnnxIndexOps.cpp - ONNX Pad, Tile, OneHot, GatherElements/ND, ... --===//
//
// Pad (constant / reflect / edge / wrap; pads from the attribute before
// opset 11, from an input from 11 on, the axes input of opset 18), Tile,
// OneHot, GatherElements and GatherND as one linalg.generic each that
// computes every output element's source position and reads it with
// tensor.extract (the form of Importer::gather). Runtime indices that are
// out of range are clamped, never read out of bounds; constant ones are
// checked at import time. NonZero has a value-dependent output shape, so it
// is folded when its input is a constant and refused otherwise.
//
//===----------------------------------------------------------------------===//

#include "OnnxTensorOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kestrel::onnximport {

Value clampedIndex(OpBuilder &b, Location l, Value raw, int64_t dim) {
  Value i =
      isa<IndexType>(raw.getType())
          ? raw
          : arith::IndexCastOp::create(b, l, b.getIndexType(), raw).getResult();
  Value n = arith::ConstantIndexOp::create(b, l, dim);
  Value zero = arith::ConstantIndexOp::create(b, l, 0);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  i = arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, i, n), i);
  i = arith::MaxSIOp::create(b, l, i, zero);
  return arith::MinSIOp::create(
      b, l, i,
      arith::ConstantIndexOp::create(b, l, std::max<int64_t>(dim - 1, 0)));
}

LogicalResult TensorNode::checkConstIndices(Value indices, int64_t dim,
                                            const Twine &which) {
  DenseElementsAttr c = foldedOf(indices);
  if (!c)
    return success();
  for (const APInt &a : c.getValues<APInt>())
    if (intValue(a) < -dim || intValue(a) >= dim)
      return error(what + " index " + std::to_string(intValue(a)) +
                   " is out of range for " + which + " of size " +
                   std::to_string(dim));
  return success();
}

FailureOr<int64_t> TensorNode::elementsIndexAxis(Value idx) {
  auto is = typeOf(idx).getShape();
  if (!isInt(typeOf(idx).getElementType()))
    return error(what + " has non-integer indices");
  if ((int64_t)is.size() != rank || rank == 0)
    return error(what + " indices of shape " + shapeString(is) +
                 " must have the rank of the data " + shapeString(xs) +
                 " (at least 1)");
  int64_t axis = intAttr(node, "axis", 0);
  if (axis < -rank || axis >= rank)
    return error(what + " axis " + std::to_string(axis) +
                 " is out of range for an input of rank " +
                 std::to_string(rank));
  axis = normAxis(axis, rank);
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && is[d] > xs[d])
      return error(what + " indices of shape " + shapeString(is) +
                   " exceed the data " + shapeString(xs) + " on axis " +
                   std::to_string(d));
  if (failed(checkConstIndices(idx, xs[axis], "axis " + std::to_string(axis))))
    return failure();
  return axis;
}

LogicalResult TensorNode::checkConstIndexTuples(Value idx, int64_t first,
                                                int64_t k) {
  DenseElementsAttr c = foldedOf(idx);
  if (!c)
    return success();
  int64_t n = 0;
  for (const APInt &a : c.getValues<APInt>()) {
    int64_t dim = xs[first + (n++ % k)];
    if (intValue(a) < -dim || intValue(a) >= dim)
      return error(what + " index " + std::to_string(intValue(a)) +
                   " is out of range for a dimension of size " +
                   std::to_string(dim));
  }
  return success();
}

namespace {

Value cIdx(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIndexOp::create(b, l, v);
}

} // namespace

LogicalResult TensorNode::pad() {
  std::string mode = stringAttr(node, "mode", "constant");
  if (!llvm::is_contained({"constant", "reflect", "edge", "wrap"}, mode))
    return error(what + " has mode '" + mode +
                 "' (expected constant, reflect, edge or wrap)");
  std::vector<int64_t> pads;
  if (im.opset < 11) {
    pads = intsAttr(node, im.opset < 2 ? "paddings" : "pads");
  } else {
    FailureOr<std::vector<int64_t>> p = constInts(node.input(1), "pads");
    if (failed(p))
      return failure();
    pads = *p;
  }
  std::vector<int64_t> axes;
  if (optionalInput(3)) {
    if (im.opset < 18)
      return error(what + " has an axes input, which needs opset 18 (opset " +
                   std::to_string(im.opset) + ")");
    FailureOr<std::vector<int64_t>> a = constInts(node.input(3), "axes");
    if (failed(a))
      return failure();
    axes = *a;
    if (failed(im.checkAxes(axes, rank, "axes")))
      return failure();
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  if (pads.size() != 2 * axes.size())
    return error(what + " has " + std::to_string(pads.size()) + " pads for " +
                 std::to_string(axes.size()) + " axes (expected 2 per axis)");
  for (int64_t p : pads)
    if (p < -kMaxDimension || p > kMaxDimension)
      return error(what + " has pad " + std::to_string(p) +
                   " beyond the largest dimension (" +
                   std::to_string(kMaxDimension) + ")");
  SmallVector<int64_t> before(rank, 0), after(rank, 0), shape(xs);
  for (auto [k, a] : llvm::enumerate(axes)) {
    int64_t d = normAxis(a, rank);
    before[d] = pads[k];
    after[d] = pads[k + axes.size()];
    shape[d] = xs[d] + before[d] + after[d];
    if (shape[d] < 0)
      return error(what + " crops axis " + std::to_string(d) + " of size " +
                   std::to_string(xs[d]) + " by more than its size (pads " +
                   shapeString(pads) + ")");
    if (mode != "constant" && xs[d] == 0 && shape[d] > 0)
      return error(what + " pads the empty axis " + std::to_string(d) +
                   " in mode '" + mode + "'");
  }
  if (failed(im.checkShape(shape, elt, "the result")))
    return failure();
  // The fill value: the attribute before opset 11, else optional input 2.
  Value fill;
  if (im.opset < 11) {
    fill = scalarConst(elt, floatAttr(node, "value", 0));
  } else if (optionalInput(2)) {
    auto t = typeOf(in[2]);
    if (t.getElementType() != elt || t.getNumElements() != 1)
      return error(what +
                   " constant_value must be one element of the "
                   "input's type, got " +
                   shapeString(t.getShape()));
    fill = in[2];
  } else {
    fill = zeroOf(b, loc, elt);
  }
  Value fillTensor = isa<RankedTensorType>(fill.getType()) ? fill : Value();
  if (product(xs) == 0) { // nothing to read: all fill
    Value scalar =
        fillTensor
            ? reshape(fillTensor, ArrayRef<int64_t>{})
            : materialize(DenseElementsAttr::get(
                  RankedTensorType::get({}, elt),
                  cast<arith::ConstantOp>(fill.getDefiningOp()).getValue()));
    out.push_back(broadcastTo(scalar, shape));
    return success();
  }
  out.push_back(gather(
      shape, elt, [&](OpBuilder &nb, Location l, ValueRange idx) -> Value {
        SmallVector<Value> src;
        Value inside = arith::ConstantOp::create(nb, l, nb.getBoolAttr(true));
        for (int64_t d = 0; d < rank; ++d) {
          int64_t n = xs[d];
          Value s =
              arith::SubIOp::create(nb, l, idx[d], cIdx(nb, l, before[d]));
          Value zero = cIdx(nb, l, 0), nn = cIdx(nb, l, n);
          using P = arith::CmpIPredicate;
          if (mode == "reflect" && n > 1) {
            // Period 2(n - 1): |s| mod p, mirrored in the upper half.
            Value p = cIdx(nb, l, 2 * (n - 1));
            Value neg = arith::CmpIOp::create(nb, l, P::slt, s, zero);
            s = arith::SelectOp::create(
                nb, l, neg, arith::SubIOp::create(nb, l, zero, s), s);
            s = arith::RemSIOp::create(nb, l, s, p);
            Value hi = arith::CmpIOp::create(nb, l, P::sge, s, nn);
            s = arith::SelectOp::create(nb, l, hi,
                                        arith::SubIOp::create(nb, l, p, s), s);
          } else if (mode == "wrap") {
            s = arith::RemSIOp::create(nb, l, s, nn);
            Value neg = arith::CmpIOp::create(nb, l, P::slt, s, zero);
            s = arith::SelectOp::create(nb, l, neg,
                                        arith::AddIOp::create(nb, l, s, nn), s);
          } else {
            if (mode == "constant")
              inside = arith::AndIOp::create(
                  nb, l, inside,
                  arith::AndIOp::create(
                      nb, l, arith::CmpIOp::create(nb, l, P::sge, s, zero),
                      arith::CmpIOp::create(nb, l, P::slt, s, nn)));
            s = arith::MaxSIOp::create(nb, l, s, zero);
            s = arith::MinSIOp::create(nb, l, s, cIdx(nb, l, n - 1));
          }
          src.push_back(s);
        }
        Value v = tensor::ExtractOp::create(nb, l, x, src);
        if (mode != "constant")
          return v;
        Value f = fill;
        if (fillTensor)
          f = tensor::ExtractOp::create(
              nb, l, fillTensor,
              SmallVector<Value>(typeOf(fillTensor).getRank(), cIdx(nb, l, 0)));
        return arith::SelectOp::create(nb, l, inside, v, f);
      }));
  return success();
}

LogicalResult TensorNode::tile() {
  FailureOr<std::vector<int64_t>> reps = constInts(node.input(1), "repeats");
  if (failed(reps))
    return failure();
  if ((int64_t)reps->size() != rank)
    return error(what + " has " + std::to_string(reps->size()) +
                 " repeats for an input of rank " + std::to_string(rank));
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    if ((*reps)[d] < 0)
      return error(what + " has negative repeats " + shapeString(*reps));
    if (xs[d] && (*reps)[d] > kMaxDimension / xs[d])
      return error(what + " repeats " + shapeString(*reps) +
                   " overflow the dimension limit");
    shape.push_back(xs[d] * (*reps)[d]);
  }
  if (failed(im.checkShape(shape, elt, "the result")))
    return failure();
  if (DenseElementsAttr c = foldedOf(x);
      c && product(shape) <= kMaxFoldElements) {
    SmallVector<Attribute> all(c.getValues<Attribute>()), res;
    SmallVector<int64_t> st = stridesOf(xs);
    forEachIndex(shape, [&](ArrayRef<int64_t> o) {
      int64_t lin = 0;
      for (int64_t d = 0; d < rank; ++d)
        lin += (o[d] % xs[d]) * st[d];
      res.push_back(all[c.isSplat() ? 0 : lin]);
    });
    out.push_back(materialize(
        DenseElementsAttr::get(RankedTensorType::get(shape, elt), res)));
    return success();
  }
  if (product(shape) == 0) {
    out.push_back(materialize(DenseElementsAttr::get(
        RankedTensorType::get(shape, elt), b.getZeroAttr(elt))));
    return success();
  }
  out.push_back(
      gather(shape, elt, [&](OpBuilder &nb, Location l, ValueRange idx) {
        SmallVector<Value> src;
        for (int64_t d = 0; d < rank; ++d)
          src.push_back((*reps)[d] == 1 ? idx[d]
                                        : arith::RemUIOp::create(
                                              nb, l, idx[d], cIdx(nb, l, xs[d]))
                                              .getResult());
        return tensor::ExtractOp::create(nb, l, x, src).getResult();
      }));
  return success();
}

LogicalResult TensorNode::oneHot() {
  auto vt = typeOf(in[2]);
  if (vt.getNumElements() != 2 || vt.getRank() != 1)
    return error(what + " values must have shape [2] (off, on), got " +
                 shapeString(vt.getShape()));
  DenseElementsAttr dc = foldedOf(in[1]);
  if (!dc || dc.getNumElements() != 1)
    return error(what + " depth must be a one-element constant known at "
                        "import time (the output shape depends on it)");
  Type dt = dc.getElementType();
  double depthValue = isa<FloatType>(dt)
                          ? (*dc.getValues<APFloat>().begin()).convertToDouble()
                          : (double)intValue(*dc.getValues<APInt>().begin());
  int64_t depth = (int64_t)depthValue;
  if (depth < 1 || depth > kMaxDimension)
    return error(what + " has depth " + std::to_string(depth) +
                 " (expected at least 1)");
  int64_t outRank = rank + 1;
  int64_t axis = intAttr(node, "axis", -1);
  if (axis < -outRank || axis >= outRank)
    return error(what + " axis " + std::to_string(axis) +
                 " is out of range for an output of rank " +
                 std::to_string(outRank));
  axis = normAxis(axis, outRank);
  if (elt.isInteger(1))
    return error(what + " has bool indices");
  SmallVector<int64_t> shape(xs);
  shape.insert(shape.begin() + axis, depth);
  Type vElt = vt.getElementType();
  if (failed(im.checkShape(shape, vElt, "the result")))
    return failure();
  Value values = in[2];
  out.push_back(gather(
      shape, vElt, [&](OpBuilder &nb, Location l, ValueRange idx) -> Value {
        SmallVector<Value> at;
        for (int64_t d = 0; d < outRank; ++d)
          if (d != axis)
            at.push_back(idx[d]);
        Value i = tensor::ExtractOp::create(nb, l, x, at);
        Type i64 = nb.getI64Type();
        if (isa<FloatType>(elt))
          i = arith::FPToSIOp::create(nb, l, i64, i);
        else if (elt != i64)
          i = arith::ExtSIOp::create(nb, l, i64, i);
        Value k = arith::IndexCastOp::create(nb, l, i64, idx[axis]);
        Value dep =
            arith::ConstantOp::create(nb, l, nb.getI64IntegerAttr(depth));
        Value zero = arith::ConstantOp::create(nb, l, nb.getI64IntegerAttr(0));
        Value neg =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, i, zero);
        i = arith::SelectOp::create(nb, l, neg,
                                    arith::AddIOp::create(nb, l, i, dep), i);
        Value hit =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, i, k);
        Value off = tensor::ExtractOp::create(nb, l, values, cIdx(nb, l, 0));
        Value on = tensor::ExtractOp::create(nb, l, values, cIdx(nb, l, 1));
        return arith::SelectOp::create(nb, l, hit, on, off);
      }));
  return success();
}

LogicalResult TensorNode::gatherElements() {
  Value idx = in[1];
  auto is = typeOf(idx).getShape();
  FailureOr<int64_t> ax = elementsIndexAxis(idx);
  if (failed(ax))
    return failure();
  int64_t axis = *ax;
  if (xs[axis] == 0 && product(is) > 0)
    return error(what + " gathers from the empty axis " + std::to_string(axis));
  out.push_back(
      gather(is, elt, [&](OpBuilder &nb, Location l, ValueRange o) -> Value {
        Value j = tensor::ExtractOp::create(nb, l, idx, o);
        SmallVector<Value> src(o.begin(), o.end());
        src[axis] = clampedIndex(nb, l, j, xs[axis]);
        return tensor::ExtractOp::create(nb, l, x, src);
      }));
  return success();
}

LogicalResult TensorNode::gatherND() {
  Value idx = in[1];
  auto is = typeOf(idx).getShape();
  int64_t q = is.size(), bd = intAttr(node, "batch_dims", 0);
  if (!isInt(typeOf(idx).getElementType()))
    return error(what + " has non-integer indices");
  if (q < 1 || bd < 0 || bd >= std::min<int64_t>(q, rank + 1))
    return error(what + " has batch_dims " + std::to_string(bd) +
                 " for indices of rank " + std::to_string(q) +
                 " and data of rank " + std::to_string(rank));
  int64_t k = is.back();
  if (k < 1 || k > rank - bd)
    return error(what + " indices' last dimension " + std::to_string(k) +
                 " must be in [1, " + std::to_string(rank - bd) + "]");
  for (int64_t d = 0; d < bd; ++d)
    if (is[d] != xs[d])
      return error(what + " batch dimension " + std::to_string(d) +
                   " differs: indices " + shapeString(is) + ", data " +
                   shapeString(xs));
  for (int64_t j = 0; j < k; ++j)
    if (xs[bd + j] == 0 && product(is) > 0)
      return error(what + " gathers from the empty axis " +
                   std::to_string(bd + j));
  if (failed(checkConstIndexTuples(idx, bd, k)))
    return failure();
  SmallVector<int64_t> shape(is.drop_back());
  shape.append(xs.begin() + bd + k, xs.end());
  out.push_back(
      gather(shape, elt, [&](OpBuilder &nb, Location l, ValueRange o) -> Value {
        SmallVector<Value> src(o.begin(), o.begin() + bd);
        SmallVector<Value> at(o.begin(), o.begin() + (q - 1));
        at.push_back(Value());
        for (int64_t j = 0; j < k; ++j) {
          at.back() = cIdx(nb, l, j);
          Value v = tensor::ExtractOp::create(nb, l, idx, at);
          src.push_back(clampedIndex(nb, l, v, xs[bd + j]));
        }
        src.append(o.begin() + (q - 1), o.end());
        return tensor::ExtractOp::create(nb, l, x, src);
      }));
  return success();
}

LogicalResult TensorNode::nonZero() {
  DenseElementsAttr c = foldedOf(x);
  if (!c)
    return error(what +
                 ": the output shape [rank, count] depends on the "
                 "values of input '" +
                 node.input(0) +
                 "', which are only known at run time (Kestrel compiles "
                 "static shapes; NonZero is supported on constants)");
  SmallVector<SmallVector<int64_t>> hits;
  int64_t n = 0;
  SmallVector<bool> nz;
  if (isa<FloatType>(elt))
    for (const APFloat &f : c.getValues<APFloat>())
      nz.push_back(!f.isZero());
  else
    for (const APInt &i : c.getValues<APInt>())
      nz.push_back(!i.isZero());
  forEachIndex(xs, [&](ArrayRef<int64_t> at) {
    if (nz[n++])
      hits.emplace_back(at.begin(), at.end());
  });
  int64_t count = hits.size();
  SmallVector<int64_t> res;
  for (int64_t d = 0; d < rank; ++d)
    for (int64_t h = 0; h < count; ++h)
      res.push_back(hits[h][d]);
  auto type = RankedTensorType::get({rank, count}, b.getI64Type());
  out.push_back(
      materialize(DenseElementsAttr::get(type, ArrayRef<int64_t>(res))));
  return success();
}

} // namespace kestrel::onnximport
