//===- OnnxTensorOps.cpp - ONNX data movement ops -------------------------===//
//
// Unsqueeze/Squeeze/Flatten/Concat/Split/Slice/Gather/Expand on static
// shapes, the strided-view, gather, broadcast and cast builders they share
// with OnnxShapeOps.cpp, and the table of both files' handlers. PyTorch
// exports build Reshape targets and masks with Shape -> Gather -> Unsqueeze ->
// Concat chains, so every op here folds at import time when its inputs are
// constants (integer tensors of at most kMaxFoldElements elements); the result
// is an arith.constant other ops can read as a shape.
//
//===----------------------------------------------------------------------===//

#include "OnnxTensorOps.h"
#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace kestrel::onnximport {

int64_t product(ArrayRef<int64_t> s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> st(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    st[i] = st[i + 1] * shape[i + 1];
  return st;
}

/// Calls fn(multi-index) for every position of `shape` in row-major order.
void forEachIndex(ArrayRef<int64_t> shape,
                  function_ref<void(ArrayRef<int64_t>)> fn) {
  int64_t n = product(shape);
  SmallVector<int64_t> idx(shape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    fn(idx);
    for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

/// `v` wrapped to `width` bits, as the integer casts of the lowering do.
APInt truncated(int64_t v, unsigned width) {
  return APInt(64, (uint64_t)v, /*isSigned=*/true).sextOrTrunc(width);
}

int64_t intValue(const APInt &v) {
  return v.getBitWidth() == 1 ? (int64_t)v.getZExtValue() : v.getSExtValue();
}

/// NumPy broadcast of two shapes, or nullopt when incompatible.
std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> c) {
  size_t rank = std::max(a.size(), c.size());
  SmallVector<int64_t> out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - c.size() ? 1 : c[i - (rank - c.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

DenseElementsAttr foldElementwise(ArrayRef<DenseElementsAttr> inputs,
                                  Type resultElement,
                                  function_ref<int64_t(ArrayRef<int64_t>)> fn) {
  SmallVector<int64_t> shape;
  SmallVector<SmallVector<int64_t>> vals;
  for (DenseElementsAttr a : inputs) {
    if (!a || !isa<IntegerType>(a.getElementType()))
      return nullptr;
    auto s = broadcastShapes(shape, a.getType().getShape());
    if (!s)
      return nullptr;
    shape = *s;
  }
  if (product(shape) > kMaxFoldElements || !isa<IntegerType>(resultElement))
    return nullptr;
  for (DenseElementsAttr a : inputs) {
    auto &v = vals.emplace_back();
    for (const APInt &x : a.getValues<APInt>())
      v.push_back(intValue(x));
  }
  unsigned width = resultElement.getIntOrFloatBitWidth();
  SmallVector<APInt> out;
  forEachIndex(shape, [&](ArrayRef<int64_t> idx) {
    SmallVector<int64_t> args;
    for (auto [a, v] : llvm::zip(inputs, vals)) {
      auto s = a.getType().getShape();
      int64_t lin = 0;
      for (size_t d = 0; d < s.size(); ++d) {
        int64_t i = s[d] == 1 ? 0 : idx[shape.size() - s.size() + d];
        lin = lin * s[d] + i;
      }
      args.push_back(v[lin]);
    }
    out.push_back(truncated(fn(args), width));
  });
  return DenseElementsAttr::get(RankedTensorType::get(shape, resultElement),
                                out);
}

Value Importer::scalarConst(Type elt, double v) {
  if (isa<FloatType>(elt))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, v));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(elt, (int64_t)v));
}

Value Importer::stridedView(Value x, const StridedView &v) {
  auto srcShape = typeOf(x).getShape();
  Type elt = typeOf(x).getElementType();
  auto outType = RankedTensorType::get(v.outShape, elt);
  int64_t outRank = v.outShape.size(), srcRank = srcShape.size();
  if (DenseElementsAttr c = foldedOf(x);
      c && product(v.outShape) <= kMaxFoldElements) {
    SmallVector<Attribute> all(c.getValues<Attribute>());
    SmallVector<int64_t> st = stridesOf(srcShape);
    SmallVector<Attribute> out;
    forEachIndex(v.outShape, [&](ArrayRef<int64_t> idx) {
      int64_t lin = 0;
      for (int64_t d = 0; d < srcRank; ++d) {
        int64_t s = v.offset[d];
        for (int64_t j = 0; j < outRank; ++j)
          s += v.coef[d][j] * idx[j];
        lin += s * st[d];
      }
      out.push_back(all[c.isSplat() ? 0 : lin]);
    });
    return materialize(DenseElementsAttr::get(outType, out));
  }
  // A broadcast/permutation (each source dim is 0 or one output dim): an
  // affine input map.
  bool projected = true;
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < srcRank; ++d) {
    int64_t nonzero = 0, at = -1;
    for (int64_t j = 0; j < outRank; ++j)
      if (v.coef[d][j]) {
        ++nonzero;
        at = j;
      }
    if (nonzero == 0 && v.offset[d] == 0 && srcShape[d] == 1)
      exprs.push_back(getAffineConstantExpr(0, &ctx));
    else if (nonzero == 1 && v.coef[d][at] == 1 && v.offset[d] == 0 &&
             srcShape[d] == v.outShape[at])
      exprs.push_back(getAffineDimExpr(at, &ctx));
    else
      projected = false;
  }
  if (projected) {
    Value init = tensor::EmptyOp::create(b, loc, v.outShape, elt);
    SmallVector<IteratorType> iters(outRank, IteratorType::parallel);
    auto id = AffineMap::getMultiDimIdentityMap(outRank, &ctx);
    return linalg::GenericOp::create(
               b, loc, outType, x, init,
               {AffineMap::get(outRank, 0, exprs, &ctx), id}, iters,
               [](OpBuilder &nb, Location l, ValueRange a) {
                 linalg::YieldOp::create(nb, l, ValueRange{a[0]});
               })
        .getResult(0);
  }
  // Slices and general strided views: a gather with tensor.extract (not
  // tensor.extract_slice, whose strided buffers would be copied through the
  // runtime's memrefCopy, which compiled libraries do not link).
  return gather(
      v.outShape, elt, [&](OpBuilder &nb, Location l, ValueRange outIdx) {
        SmallVector<Value> srcIdx;
        for (int64_t d = 0; d < srcRank; ++d) {
          Value s = arith::ConstantIndexOp::create(nb, l, v.offset[d]);
          for (int64_t j = 0; j < outRank; ++j) {
            if (!v.coef[d][j])
              continue;
            Value c = arith::ConstantIndexOp::create(nb, l, v.coef[d][j]);
            s = arith::AddIOp::create(
                nb, l, s, arith::MulIOp::create(nb, l, c, outIdx[j]));
          }
          srcIdx.push_back(s);
        }
        return tensor::ExtractOp::create(nb, l, x, srcIdx).getResult();
      });
}

Value Importer::gather(
    ArrayRef<int64_t> shape, Type elt,
    function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  int64_t rank = shape.size();
  Value init = tensor::EmptyOp::create(b, loc, shape, elt);
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{}, init,
             {AffineMap::getMultiDimIdentityMap(rank, &ctx)}, iters,
             [&](OpBuilder &nb, Location l, ValueRange) {
               SmallVector<Value> idx;
               for (int64_t j = 0; j < rank; ++j)
                 idx.push_back(linalg::IndexOp::create(nb, l, j));
               linalg::YieldOp::create(nb, l, ValueRange{fn(nb, l, idx)});
             })
      .getResult(0);
}

Value Importer::broadcastTo(Value x, ArrayRef<int64_t> shape) {
  auto xs = typeOf(x).getShape();
  int64_t rank = shape.size(), shift = rank - xs.size();
  StridedView v;
  v.outShape.assign(shape.begin(), shape.end());
  v.offset.assign(xs.size(), 0);
  for (int64_t d = 0; d < (int64_t)xs.size(); ++d) {
    auto &row = v.coef.emplace_back(rank, 0);
    if (xs[d] != 1 || shape[d + shift] == 1)
      row[d + shift] = 1;
  }
  return stridedView(x, v);
}

Value Importer::castTo(Value x, Type to) {
  Type from = typeOf(x).getElementType();
  if (from == to)
    return x;
  // Folded unless a float becomes an integer (out-of-range values are
  // left to the lowering's fptosi).
  if (DenseElementsAttr c = foldedOf(x);
      c && (isa<IntegerType>(from) || !isa<IntegerType>(to) || to.isInteger(1)))
    if (DenseElementsAttr f = foldMap(
            {c}, to,
            [&](ArrayRef<int64_t> a) {
              return to.isInteger(1) ? (int64_t)(a[0] != 0) : a[0];
            },
            [&](ArrayRef<double> a) {
              return to.isInteger(1) ? (double)(a[0] != 0) : a[0];
            },
            isa<IntegerType>(from) ? kMaxMaskFoldElements : kMaxFoldElements))
      return materialize(f);
  return elementwise(
      {x}, to, [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value v = a[0];
        auto fi = dyn_cast<IntegerType>(from), ti = dyn_cast<IntegerType>(to);
        if (!fi && !ti)
          return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
                     ? arith::ExtFOp::create(nb, l, to, v).getResult()
                     : arith::TruncFOp::create(nb, l, to, v).getResult();
        if (ti && ti.getWidth() == 1)
          return fi ? arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ne, v,
                                            zeroOf(nb, l, from))
                          .getResult()
                    : arith::CmpFOp::create(nb, l, arith::CmpFPredicate::UNE, v,
                                            zeroOf(nb, l, from))
                          .getResult();
        if (fi && ti) {
          if (fi.getWidth() == 1)
            return arith::ExtUIOp::create(nb, l, to, v);
          return fi.getWidth() < ti.getWidth()
                     ? arith::ExtSIOp::create(nb, l, to, v).getResult()
                     : arith::TruncIOp::create(nb, l, to, v).getResult();
        }
        if (fi)
          return fi.getWidth() == 1
                     ? arith::UIToFPOp::create(nb, l, to, v).getResult()
                     : arith::SIToFPOp::create(nb, l, to, v).getResult();
        return arith::FPToSIOp::create(nb, l, to, v);
      });
}

namespace {

/// The op types of this file and OnnxShapeOps.cpp and their handlers, in the
/// order --list-onnx-ops prints them.
struct TensorOpEntry {
  const char *opType;
  LogicalResult (TensorNode::*handler)();
};

const TensorOpEntry kTensorOps[] = {
    {"Unsqueeze", &TensorNode::unsqueeze},
    {"Squeeze", &TensorNode::squeeze},
    {"Flatten", &TensorNode::flatten},
    {"Concat", &TensorNode::concat},
    {"Split", &TensorNode::split},
    {"Slice", &TensorNode::slice},
    {"Gather", &TensorNode::gatherIndices},
    {"Expand", &TensorNode::expand},
    {"Where", &TensorNode::where},
    {"Equal", &TensorNode::compare},
    {"Less", &TensorNode::compare},
    {"Greater", &TensorNode::compare},
    {"LessOrEqual", &TensorNode::compare},
    {"GreaterOrEqual", &TensorNode::compare},
    {"Not", &TensorNode::logicalNot},
    {"Cast", &TensorNode::castElements},
    {"Shape", &TensorNode::shapeOf},
    {"ConstantOfShape", &TensorNode::constantOfShape},
    {"Range", &TensorNode::range},
    {"Trilu", &TensorNode::trilu},
    {"And", &TensorNode::logical},
    {"Or", &TensorNode::logical},
    {"Xor", &TensorNode::logical},
    {"BitwiseAnd", &TensorNode::logical},
    {"BitwiseOr", &TensorNode::logical},
    {"BitwiseXor", &TensorNode::logical},
    {"BitwiseNot", &TensorNode::bitwiseNot},
    {"IsNaN", &TensorNode::classify},
    {"IsInf", &TensorNode::classify},
    {"Mod", &TensorNode::mod},
    {"Clip", &TensorNode::clip},
    {"Pad", &TensorNode::pad},
    {"Tile", &TensorNode::tile},
    {"OneHot", &TensorNode::oneHot},
    {"GatherElements", &TensorNode::gatherElements},
    {"GatherND", &TensorNode::gatherND},
    {"ScatterElements", &TensorNode::scatterElements},
    {"ScatterND", &TensorNode::scatterND},
    {"NonZero", &TensorNode::nonZero},
};

} // namespace

std::vector<std::string> tensorOps() {
  std::vector<std::string> names;
  for (const TensorOpEntry &e : kTensorOps)
    names.push_back(e.opType);
  return names;
}

LogicalResult Importer::convertTensorOp(const onnx::NodeProto &node,
                                        ArrayRef<Value> in,
                                        SmallVectorImpl<Value> &out,
                                        bool &handled) {
  StringRef op = node.op_type();
  const TensorOpEntry *entry = llvm::find_if(
      kTensorOps, [&](const TensorOpEntry &e) { return op == e.opType; });
  if (entry == std::end(kTensorOps))
    return success();
  handled = true;
  if (!in.empty() && !in[0])
    return error(op.str() + " '" + node.name() + "' has no data input");
  TensorNode tn(*this, node, in, out);
  return (tn.*entry->handler)();
}

FailureOr<std::optional<std::vector<int64_t>>>
TensorNode::intsFromInputOrAttr(int i, StringRef name) {
  if (optionalInput(i)) {
    FailureOr<std::vector<int64_t>> v = constInts(node.input(i), name);
    if (failed(v))
      return failure();
    return std::optional<std::vector<int64_t>>(*v);
  }
  if (attribute(node, name))
    return std::optional<std::vector<int64_t>>(intsAttr(node, name));
  return std::optional<std::vector<int64_t>>();
}

StridedView TensorNode::sliceView(int64_t axis, int64_t start, int64_t len,
                                  int64_t step) const {
  StridedView v;
  v.outShape.assign(xs.begin(), xs.end());
  v.outShape[axis] = len;
  v.offset.assign(rank, 0);
  v.offset[axis] = start;
  for (int64_t d = 0; d < rank; ++d) {
    auto &row = v.coef.emplace_back(rank, 0);
    row[d] = d == axis ? step : 1;
  }
  return v;
}

LogicalResult TensorNode::unsqueeze() {
  auto axesOr = intsFromInputOrAttr(1, "axes");
  if (failed(axesOr))
    return failure();
  std::vector<int64_t> axes = axesOr->value_or(std::vector<int64_t>());
  SmallVector<int64_t> shape;
  int64_t outRank = rank + axes.size();
  SmallVector<bool> isNew(outRank, false);
  for (int64_t a : axes) {
    a = normAxis(a, outRank);
    if (a < 0 || a >= outRank || isNew[a])
      return error(what + " has invalid or repeated axis " + std::to_string(a));
    isNew[a] = true;
  }
  for (int64_t i = 0, j = 0; i < outRank; ++i)
    shape.push_back(isNew[i] ? 1 : xs[j++]);
  out.push_back(reshape(x, shape));
  return success();
}

LogicalResult TensorNode::squeeze() {
  auto axesOr = intsFromInputOrAttr(1, "axes");
  if (failed(axesOr))
    return failure();
  std::vector<int64_t> axes = axesOr->value_or(std::vector<int64_t>());
  SmallVector<int64_t> shape;
  SmallVector<bool> drop(rank, axes.empty());
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      drop[i] = xs[i] == 1;
  for (int64_t a : axes) {
    a = normAxis(a, rank);
    if (a < 0 || a >= rank || xs[a] != 1)
      return error(what + " squeezes axis " + std::to_string(a) +
                   " which is not of size 1");
    drop[a] = true;
  }
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i])
      shape.push_back(xs[i]);
  out.push_back(reshape(x, shape));
  return success();
}

LogicalResult TensorNode::flatten() {
  int64_t axis = normAxis(intAttr(node, "axis", 1), rank);
  if (axis < 0 || axis > rank)
    return error(what + " has an invalid axis");
  out.push_back(
      reshape(x, {product(xs.take_front(axis)), product(xs.drop_front(axis))}));
  return success();
}

LogicalResult TensorNode::concat() {
  int64_t axis = normAxis(intAttr(node, "axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return error(what + " has an invalid axis");
  SmallVector<int64_t> shape(xs);
  shape[axis] = 0;
  bool allFolded = true;
  for (Value v : in) {
    auto s = typeOf(v).getShape();
    if ((int64_t)s.size() != rank || typeOf(v).getElementType() != elt)
      return error(what + " concatenates tensors of different ranks or types");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && s[d] != xs[d])
        return error(what + " concatenates tensors whose dimension " +
                     std::to_string(d) + " differ (" + std::to_string(xs[d]) +
                     " vs " + std::to_string(s[d]) + ")");
    shape[axis] += s[axis];
    allFolded &= (bool)foldedOf(v);
  }
  auto type = RankedTensorType::get(shape, elt);
  if (allFolded && product(shape) <= kMaxFoldElements) {
    // Row-major: concatenate the blocks of each outer index in turn.
    SmallVector<SmallVector<Attribute>> all;
    for (Value v : in) {
      DenseElementsAttr c = foldedOf(v);
      all.emplace_back(c.getValues<Attribute>());
    }
    int64_t outer = product(ArrayRef<int64_t>(shape).take_front(axis));
    SmallVector<Attribute> res;
    for (int64_t o = 0; o < outer; ++o)
      for (auto [v, vals] : llvm::zip(in, all)) {
        int64_t block = product(typeOf(v).getShape().drop_front(axis));
        for (int64_t k = 0; k < block; ++k)
          res.push_back(vals[vals.size() == 1 ? 0 : o * block + k]);
      }
    out.push_back(materialize(DenseElementsAttr::get(type, res)));
    return success();
  }
  // A tensor.concat of the non-empty inputs (kestrel-recognize reads it).
  SmallVector<Value> parts;
  for (Value v : in)
    if (typeOf(v).getShape()[axis])
      parts.push_back(v);
  out.push_back(
      parts.size() == 1
          ? parts[0]
          : tensor::ConcatOp::create(b, loc, type, axis, parts).getResult());
  return success();
}

LogicalResult TensorNode::split() {
  int64_t axis = normAxis(intAttr(node, "axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return error(what + " has an invalid axis");
  auto splitOr = intsFromInputOrAttr(1, "split");
  if (failed(splitOr))
    return failure();
  std::vector<int64_t> split = splitOr->value_or(std::vector<int64_t>());
  int64_t n = node.output_size();
  if (split.empty()) {
    int64_t parts = intAttr(node, "num_outputs", n);
    if (parts != n)
      return error(what + ": num_outputs differs from its outputs");
    int64_t chunk = (xs[axis] + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      split.push_back(
          std::max<int64_t>(0, std::min(chunk, xs[axis] - i * chunk)));
  }
  int64_t total = 0;
  for (int64_t s : split) {
    if (s < 0 || s > xs[axis])
      return error(what + " has split size " + std::to_string(s) +
                   " for a dimension of " + std::to_string(xs[axis]));
    total += s;
  }
  if ((int64_t)split.size() != n || total != xs[axis])
    return error(what + " splits dimension " + std::to_string(xs[axis]) +
                 " into parts that do not add up to it");
  int64_t at = 0;
  for (int64_t s : split) {
    out.push_back(stridedView(x, sliceView(axis, at, s, 1)));
    at += s;
  }
  return success();
}

LogicalResult TensorNode::slice() {
  std::vector<int64_t> starts, ends, axes, steps;
  if (im.opset < 10) {
    starts = intsAttr(node, "starts");
    ends = intsAttr(node, "ends");
    axes = intsAttr(node, "axes");
  } else {
    for (auto [i, vec] : llvm::enumerate(SmallVector<std::vector<int64_t> *>{
             &starts, &ends, &axes, &steps})) {
      if (!optionalInput(i + 1))
        continue;
      const char *names[] = {"starts", "ends", "axes", "steps"};
      FailureOr<std::vector<int64_t>> v =
          constInts(node.input(i + 1), names[i]);
      if (failed(v))
        return failure();
      *vec = *v;
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return error(what + " has starts/ends/axes/steps of different lengths");
  StridedView v = sliceView(0, 0, rank ? xs[0] : 0, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = normAxis(axes[i], rank), step = steps[i];
    if (a < 0 || a >= rank || step == 0)
      return error(what + " has an invalid axis or a zero step");
    int64_t dim = xs[a];
    int64_t s = starts[i], e = ends[i];
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    int64_t len;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      len = e > s ? (e - s - 1) / step + 1 : 0; // no overflow at huge steps
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      int64_t stride = step == INT64_MIN ? INT64_MAX : -step;
      len = s > e ? (s - e - 1) / stride + 1 : 0;
    }
    v.outShape[a] = len;
    v.offset[a] = len ? s : 0;
    v.coef[a][a] = step;
  }
  // Forward steps: a tensor.extract_slice that kestrel-recognize can read
  // (RoPE halves, causal conv crop); constants are folded.
  bool forward = llvm::all_of(llvm::seq<int64_t>(0, rank),
                              [&](int64_t d) { return v.coef[d][d] > 0; });
  if (!foldedOf(x) && forward) {
    SmallVector<int64_t> strides;
    for (int64_t d = 0; d < rank; ++d)
      strides.push_back(v.coef[d][d]);
    out.push_back(tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(v.outShape, elt), x, ValueRange{},
        ValueRange{}, ValueRange{}, v.offset, v.outShape, strides));
    return success();
  }
  out.push_back(stridedView(x, v));
  return success();
}

LogicalResult TensorNode::gatherIndices() {
  Value idx = in[1];
  if (!isa<IntegerType>(typeOf(idx).getElementType()))
    return error(what + " has non-integer indices");
  int64_t axis = normAxis(intAttr(node, "axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return error(what + " has an invalid axis");
  auto is = typeOf(idx).getShape();
  int64_t q = is.size();
  SmallVector<int64_t> shape(xs.take_front(axis));
  shape.append(is.begin(), is.end());
  shape.append(xs.begin() + axis + 1, xs.end());
  int64_t outRank = shape.size();
  auto type = RankedTensorType::get(shape, elt);
  DenseElementsAttr ci = foldedOf(idx), cx = foldedOf(x);
  if (ci) // bounds of constant indices are checked at import time
    for (const APInt &a : ci.getValues<APInt>())
      if (intValue(a) < -xs[axis] || intValue(a) >= xs[axis])
        return error(what + " index " + std::to_string(intValue(a)) +
                     " is out of range for dimension " +
                     std::to_string(xs[axis]));
  if (ci && cx && product(shape) <= kMaxFoldElements) {
    SmallVector<Attribute> all(cx.getValues<Attribute>());
    SmallVector<int64_t> ids;
    for (const APInt &a : ci.getValues<APInt>())
      ids.push_back(intValue(a));
    SmallVector<int64_t> st = stridesOf(xs), ist = stridesOf(is);
    SmallVector<Attribute> res;
    forEachIndex(shape, [&](ArrayRef<int64_t> o) {
      int64_t il = 0;
      for (int64_t k = 0; k < q; ++k)
        il += o[axis + k] * ist[k];
      int64_t g = ids[ci.isSplat() ? 0 : il];
      if (g < 0)
        g += xs[axis];
      int64_t lin = g * st[axis];
      for (int64_t d = 0; d < axis; ++d)
        lin += o[d] * st[d];
      for (int64_t d = axis + 1; d < rank; ++d)
        lin += o[d - 1 + q] * st[d];
      res.push_back(all[cx.isSplat() ? 0 : lin]);
    });
    out.push_back(materialize(DenseElementsAttr::get(type, res)));
    return success();
  }
  SmallVector<AffineExpr> idxExprs;
  for (int64_t k = 0; k < q; ++k)
    idxExprs.push_back(getAffineDimExpr(axis + k, &ctx));
  Value init = tensor::EmptyOp::create(b, loc, shape, elt);
  SmallVector<IteratorType> iters(outRank, IteratorType::parallel);
  int64_t dim = xs[axis];
  out.push_back(
      linalg::GenericOp::create(
          b, loc, type, idx, init,
          {AffineMap::get(outRank, 0, idxExprs, &ctx),
           AffineMap::getMultiDimIdentityMap(outRank, &ctx)},
          iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            // Negative indices count from the end; out-of-range ones are
            // clamped rather than read out of bounds.
            Value i =
                arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[0]);
            Value n = arith::ConstantIndexOp::create(nb, l, dim);
            Value zero = arith::ConstantIndexOp::create(nb, l, 0);
            Value neg = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                              i, zero);
            i = arith::SelectOp::create(nb, l, neg,
                                        arith::AddIOp::create(nb, l, i, n), i);
            i = arith::MaxSIOp::create(nb, l, i, zero);
            i = arith::MinSIOp::create(
                nb, l, i, arith::ConstantIndexOp::create(nb, l, dim - 1));
            SmallVector<Value> src;
            for (int64_t d = 0; d < axis; ++d)
              src.push_back(linalg::IndexOp::create(nb, l, d));
            src.push_back(i);
            for (int64_t d = axis + 1; d < rank; ++d)
              src.push_back(linalg::IndexOp::create(nb, l, d - 1 + q));
            Value e = tensor::ExtractOp::create(nb, l, x, src);
            linalg::YieldOp::create(nb, l, ValueRange{e});
          })
          .getResult(0));
  return success();
}

LogicalResult TensorNode::expand() {
  FailureOr<std::vector<int64_t>> shape = constInts(node.input(1), "shape");
  if (failed(shape))
    return failure();
  auto s = broadcastShapes(xs, *shape);
  if (!s)
    return error(what + " cannot broadcast the input to the shape");
  if (failed(im.checkShape(*s, elt, "shape " + shapeString(*shape))))
    return failure();
  out.push_back(broadcastTo(x, *s));
  return success();
}

LogicalResult Importer::convertTopK(const onnx::NodeProto &node,
                                    ArrayRef<Value> in,
                                    SmallVectorImpl<Value> &out) {
  std::string what = "TopK '" + node.name() + "'";
  FailureOr<std::vector<int64_t>> kv = constInts(node.input(1), "K");
  if (failed(kv))
    return failure();
  auto xs = typeOf(in[0]).getShape();
  int64_t rank = xs.size();
  int64_t axis = normAxis(intAttr(node, "axis", -1), rank);
  if (axis < 0 || axis >= rank)
    return error(what + " has an invalid axis");
  if (kv->size() != 1 || (*kv)[0] < 0 || (*kv)[0] > xs[axis])
    return error(what + ": K must be one value in [0, " +
                 std::to_string(xs[axis]) + "]");
  Type elt = typeOf(in[0]).getElementType();
  if (elt.isInteger(1))
    return error(what + " on bool is not supported");
  SmallVector<int64_t> shape(xs);
  shape[axis] = (*kv)[0];
  auto op = kestrel::TopKOp::create(
      b, loc, RankedTensorType::get(shape, elt),
      RankedTensorType::get(shape, b.getI64Type()), in[0],
      b.getI64IntegerAttr((*kv)[0]), b.getI64IntegerAttr(axis),
      b.getBoolAttr(intAttr(node, "largest", 1) != 0));
  out.push_back(op.getValues());
  out.push_back(op.getIndices());
  return success();
}

} // namespace kestrel::onnximport
