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
// The outermost loop is marked kestrel.scatter = "<reduction>". The CPU
// pipeline ignores the mark; on cuda kestrel-gpu-scatter turns the nest
// into one kernel with a thread per update (atomics for add, max and min;
// "mul" refused), where duplicate indices under reduction "none" may leave
// any one of their updates (ONNX: unspecified).
//
//===----------------------------------------------------------------------===//

#include "OnnxTensorOps.h"

#include "dialects/DecisionAttrs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kestrel::onnximport {

namespace {

using LoopBody =
    function_ref<Value(OpBuilder &, Location, ValueRange ivs, Value acc)>;

/// Nested scf.for loops over `shape`, outermost first, carrying `init`.
Value loopNestImpl(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Value init, LoopBody body, SmallVector<Value> ivs = {}) {
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
        Value r = loopNestImpl(nb, l, shape, acc[0], body, inner);
        scf::YieldOp::create(nb, l, r);
      });
  return loop.getResult(0);
}

/// The scatter's loop nest over `shape` (the updates), its outermost loop
/// marked kestrel.scatter = `kind`: on cuda, kestrel-gpu-scatter makes the
/// bufferized nest a kernel (one thread per update); the CPU pipeline
/// ignores the mark.
Value scatterLoops(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Value init, StringRef kind, LoopBody body) {
  Value r = loopNestImpl(b, loc, shape, init, body);
  if (auto outer = r.getDefiningOp<scf::ForOp>())
    outer->setAttr(decision::kScatter, b.getStringAttr(kind));
  return r;
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

/// Constant ScatterElements indices that write one box: idx[p] (negatives
/// wrapped by `dim`) = off + p[axis] for every position p -> off.
std::optional<int64_t> elementsBox(DenseElementsAttr c, ArrayRef<int64_t> is,
                                   int64_t axis, int64_t dim) {
  std::vector<int64_t> v;
  for (const APInt &a : c.getValues<APInt>())
    v.push_back(intValue(a) < 0 ? intValue(a) + dim : intValue(a));
  if (v.empty())
    return std::nullopt;
  std::optional<int64_t> off;
  bool ok = true;
  int64_t n = 0;
  forEachIndex(is, [&](ArrayRef<int64_t> p) {
    int64_t o = v[n++] - p[axis];
    if (!off)
      off = o;
    ok = ok && o == *off;
  });
  if (!ok || *off < 0 || *off + is[axis] > dim)
    return std::nullopt;
  return off;
}

/// Constant ScatterND index tuples [m, k] that enumerate one box of the
/// data's first k dims in row-major order -> (offsets, sizes).
std::optional<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>>
ndBox(DenseElementsAttr c, int64_t k, ArrayRef<int64_t> xs) {
  std::vector<int64_t> v;
  int64_t n = 0;
  for (const APInt &a : c.getValues<APInt>()) {
    int64_t dim = xs[n++ % k];
    v.push_back(intValue(a) < 0 ? intValue(a) + dim : intValue(a));
  }
  int64_t m = (int64_t)v.size() / k;
  if (m == 0)
    return std::nullopt;
  SmallVector<int64_t> lo(v.begin(), v.begin() + k), size(k);
  for (int64_t j = 0; j < k; ++j)
    size[j] = v[(m - 1) * k + j] - lo[j] + 1;
  if (llvm::any_of(size, [](int64_t z) { return z < 1; }) || product(size) != m)
    return std::nullopt;
  bool ok = true;
  int64_t t = 0;
  forEachIndex(size, [&](ArrayRef<int64_t> p) {
    for (int64_t j = 0; j < k; ++j)
      ok = ok && v[t * k + j] == lo[j] + p[j];
    ++t;
  });
  if (!ok)
    return std::nullopt;
  return std::pair(lo, size);
}

} // namespace

/// The data with the box `upd` written at `offsets`: one parallel generic,
/// out[p] = p in the box ? upd[p - offsets] : x[p] (the update's index is
/// clamped into the box, so both reads stay in bounds).
static Value boxScatter(TensorNode &t, Value upd, ArrayRef<int64_t> offsets) {
  auto us = cast<RankedTensorType>(upd.getType()).getShape();
  return t.gather(
      t.xs, t.elt, [&](OpBuilder &nb, Location l, ValueRange o) -> Value {
        Value inside;
        SmallVector<Value> at;
        for (size_t d = 0; d < o.size(); ++d) {
          auto c = [&](int64_t v) {
            return arith::ConstantIndexOp::create(nb, l, v).getResult();
          };
          Value rel = arith::SubIOp::create(nb, l, o[d], c(offsets[d]));
          Value lo = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge,
                                           rel, c(0));
          Value hi = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                           rel, c(us[d]));
          Value both = arith::AndIOp::create(nb, l, lo, hi);
          inside = inside ? arith::AndIOp::create(nb, l, inside, both) : both;
          at.push_back(arith::MinSIOp::create(
              nb, l, arith::MaxSIOp::create(nb, l, rel, c(0)), c(us[d] - 1)));
        }
        Value u = tensor::ExtractOp::create(nb, l, upd, at);
        Value old = tensor::ExtractOp::create(nb, l, t.x, o);
        return arith::SelectOp::create(nb, l, inside, u, old);
      });
}

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
  if (typeOf(upd).getElementType() != elt)
    return error(what + " updates have a different element type than data");
  FailureOr<int64_t> ax = elementsIndexAxis(idx);
  if (failed(ax))
    return failure();
  int64_t axis = *ax;
  if (typeOf(upd).getShape() != is)
    return error(what + " updates of shape " +
                 shapeString(typeOf(upd).getShape()) +
                 " must have the shape of the indices " + shapeString(is));
  if (xs[axis] == 0 && product(is) > 0)
    return error(what + " scatters into the empty axis " +
                 std::to_string(axis));
  std::string kind = scatterReduction(*this);
  if (kind.empty())
    return failure();
  // Constant indices that write one box (e.g. torch's select_scatter /
  // slice assignment): a tensor.insert_slice, not a loop per element.
  if (DenseElementsAttr c = foldedOf(idx); c && kind == "none")
    if (std::optional<int64_t> off = elementsBox(c, is, axis, xs[axis])) {
      SmallVector<int64_t> offsets(rank, 0);
      offsets[axis] = *off;
      out.push_back(boxScatter(*this, upd, offsets));
      return success();
    }
  out.push_back(scatterLoops(
      b, loc, is, x, kind,
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
  if (failed(checkConstIndexTuples(idx, 0, k)))
    return failure();
  std::string kind = scatterReduction(*this);
  if (kind.empty())
    return failure();
  // Constant index tuples that enumerate one box in order: the updates
  // reshaped to the box, then a tensor.insert_slice.
  if (DenseElementsAttr c = foldedOf(idx); c && kind == "none")
    if (auto box = ndBox(c, k, xs)) {
      SmallVector<int64_t> offsets(box->first), sizes(box->second);
      offsets.append(rank - k, 0);
      sizes.append(xs.begin() + k, xs.end());
      out.push_back(boxScatter(*this, reshape(upd, sizes), offsets));
      return success();
    }
  out.push_back(scatterLoops(
      b, loc, want, x, kind,
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
