//===- OnnxScatterOps.cpp - ONNX ScatterElements and ScatterND ------------===//
//
// A scatter writes data-dependent positions, which no linalg.generic can
// express; both ops become nested scf.for loops over the updates, in order,
// carrying the output tensor (initialized with the data) and updating one
// element per iteration with tensor.extract / tensor.insert, which one-shot
// bufferization turns into in-place stores. Later updates of a duplicate
// index win (reduction none) or combine with it (add, mul, max, min), in
// the order ONNX's reference implementation applies them. Constant indices
// are checked at import time; runtime ones out of range are clamped.
//
//===----------------------------------------------------------------------===//

#include "OnnxTensorOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kestrel::onnximport {

namespace {

using LoopBody =
    function_ref<Value(OpBuilder &, Location, ValueRange ivs, Value acc)>;

/// Nested scf.for loops over `shape`, outermost first, carrying `init`.
Value loopNest(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value init,
               LoopBody body, SmallVector<Value> ivs = {}) {
  if (ivs.size() == shape.size())
    return body(b, loc, ivs, init);
  int64_t d = ivs.size();
  auto loop = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0),
      arith::ConstantIndexOp::create(b, loc, shape[d]),
      arith::ConstantIndexOp::create(b, loc, 1), ValueRange{init},
      [&](OpBuilder &nb, Location l, Value iv, ValueRange acc) {
        SmallVector<Value> inner(ivs);
        inner.push_back(iv);
        Value r = loopNest(nb, l, shape, acc[0], body, inner);
        scf::YieldOp::create(nb, l, r);
      });
  return loop.getResult(0);
}

/// `old` combined with `update` by ONNX reduction `kind` ("none": update).
Value combine(OpBuilder &b, Location l, StringRef kind, Value old,
              Value update) {
  bool f = isa<FloatType>(old.getType());
  if (kind == "add")
    return f ? arith::AddFOp::create(b, l, old, update).getResult()
             : arith::AddIOp::create(b, l, old, update).getResult();
  if (kind == "mul")
    return f ? arith::MulFOp::create(b, l, old, update).getResult()
             : arith::MulIOp::create(b, l, old, update).getResult();
  if (kind == "max")
    return f ? arith::MaximumFOp::create(b, l, old, update).getResult()
             : arith::MaxSIOp::create(b, l, old, update).getResult();
  if (kind == "min")
    return f ? arith::MinimumFOp::create(b, l, old, update).getResult()
             : arith::MinSIOp::create(b, l, old, update).getResult();
  return update;
}

} // namespace

/// The reduction attribute of a scatter node, checked against its element
/// type; empty after an error.
static std::string scatterReduction(TensorNode &t) {
  std::string kind = stringAttr(t.node, "reduction", "none");
  if (!llvm::is_contained({"none", "add", "mul", "max", "min"}, kind)) {
    (void)t.error(t.what + " has reduction '" + kind +
                  "' (expected none, add, mul, max or min)");
    return "";
  }
  if (kind != "none" && isBool(t.elt)) {
    (void)t.error(t.what + " reduction '" + kind +
                  "' on bool is not supported");
    return "";
  }
  return kind;
}

LogicalResult TensorNode::scatterElements() {
  Value idx = in[1], upd = in[2];
  auto is = typeOf(idx).getShape();
  if (!isInt(typeOf(idx).getElementType()))
    return error(what + " has non-integer indices");
  if (typeOf(upd).getElementType() != elt)
    return error(what + " updates have a different element type than data");
  if (typeOf(upd).getShape() != is)
    return error(what + " updates of shape " +
                 shapeString(typeOf(upd).getShape()) +
                 " must have the shape of the indices " + shapeString(is));
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
  if (xs[axis] == 0 && product(is) > 0)
    return error(what + " scatters into the empty axis " +
                 std::to_string(axis));
  if (failed(checkConstIndices(idx, xs[axis], "axis " + std::to_string(axis))))
    return failure();
  std::string kind = scatterReduction(*this);
  if (kind.empty())
    return failure();
  out.push_back(loopNest(
      b, loc, is, x,
      [&](OpBuilder &nb, Location l, ValueRange ivs, Value acc) -> Value {
        Value j = tensor::ExtractOp::create(nb, l, idx, ivs);
        SmallVector<Value> dst(ivs.begin(), ivs.end());
        dst[axis] = clampedIndex(nb, l, j, xs[axis]);
        Value u = tensor::ExtractOp::create(nb, l, upd, ivs);
        Value old = tensor::ExtractOp::create(nb, l, acc, dst);
        return tensor::InsertOp::create(nb, l, combine(nb, l, kind, old, u),
                                        acc, dst);
      }));
  return success();
}

LogicalResult TensorNode::scatterND() {
  Value idx = in[1], upd = in[2];
  auto is = typeOf(idx).getShape();
  int64_t q = is.size();
  if (!isInt(typeOf(idx).getElementType()))
    return error(what + " has non-integer indices");
  if (typeOf(upd).getElementType() != elt)
    return error(what + " updates have a different element type than data");
  int64_t k = q ? is.back() : 0;
  if (q < 1 || k < 1 || k > rank)
    return error(what + " indices of shape " + shapeString(is) +
                 " need rank >= 1 and a last dimension in [1, " +
                 std::to_string(rank) + "]");
  SmallVector<int64_t> want(is.drop_back());
  want.append(xs.begin() + k, xs.end());
  if (typeOf(upd).getShape() != ArrayRef<int64_t>(want))
    return error(what + " updates of shape " +
                 shapeString(typeOf(upd).getShape()) + " must have shape " +
                 shapeString(want) + " (indices " + shapeString(is) +
                 ", data " + shapeString(xs) + ")");
  for (int64_t j = 0; j < k; ++j)
    if (xs[j] == 0 && product(is) > 0)
      return error(what + " scatters into the empty axis " + std::to_string(j));
  if (DenseElementsAttr c = foldedOf(idx)) {
    int64_t n = 0;
    for (const APInt &a : c.getValues<APInt>()) {
      int64_t dim = xs[n++ % k];
      if (intValue(a) < -dim || intValue(a) >= dim)
        return error(what + " index " + std::to_string(intValue(a)) +
                     " is out of range for a dimension of size " +
                     std::to_string(dim));
    }
  }
  std::string kind = scatterReduction(*this);
  if (kind.empty())
    return failure();
  out.push_back(loopNest(
      b, loc, want, x,
      [&](OpBuilder &nb, Location l, ValueRange ivs, Value acc) -> Value {
        SmallVector<Value> at(ivs.begin(), ivs.begin() + (q - 1)), dst;
        at.push_back(Value());
        for (int64_t j = 0; j < k; ++j) {
          at.back() = arith::ConstantIndexOp::create(nb, l, j);
          Value v = tensor::ExtractOp::create(nb, l, idx, at);
          dst.push_back(clampedIndex(nb, l, v, xs[j]));
        }
        dst.append(ivs.begin() + (q - 1), ivs.end());
        Value u = tensor::ExtractOp::create(nb, l, upd, ivs);
        Value old = tensor::ExtractOp::create(nb, l, acc, dst);
        return tensor::InsertOp::create(nb, l, combine(nb, l, kind, old, u),
                                        acc, dst);
      }));
  return success();
}

} // namespace kestrel::onnximport
