//===- OnnxBuilders.cpp - The importer's shared linalg builders -----------===//
//
// Elementwise ops with NumPy broadcasting spelled out in indexing maps,
// (batched) MatMul, reductions, Softmax, Transpose and Reshape, as
// linalg.generic / tensor ops on static shapes. The kestrel-recognize pass
// (docs/architecture.md) reads these forms back: keep them in step with
// passes/Transforms/Recognize*.cpp.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SetVector.h"

#include <limits>

using namespace mlir;

namespace kestrel::onnximport {

Value Importer::elementwise(
    ValueRange inputs, Type resultElement,
    function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  // NumPy broadcasting: align shapes on the right.
  int64_t rank = 0;
  for (Value v : inputs)
    rank = std::max<int64_t>(rank, typeOf(v).getRank());
  SmallVector<int64_t> shape(rank, 1);
  for (Value v : inputs) {
    auto s = typeOf(v).getShape();
    for (int64_t i = 0; i < (int64_t)s.size(); ++i) {
      int64_t &d = shape[rank - s.size() + i];
      d = std::max(d, s[i]);
    }
  }
  SmallVector<AffineMap> maps;
  for (Value v : inputs) {
    auto s = typeOf(v).getShape();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < (int64_t)s.size(); ++i) {
      int64_t outDim = rank - s.size() + i;
      exprs.push_back(s[i] == 1 && shape[outDim] != 1
                          ? getAffineConstantExpr(0, &ctx)
                          : getAffineDimExpr(outDim, &ctx));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, &ctx));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, &ctx));
  Value init = tensor::EmptyOp::create(b, loc, shape, resultElement);
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), inputs, init, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l,
                                       ValueRange{fn(nb, l, args.drop_back())});
             })
      .getResult(0);
}

Value zeroOf(OpBuilder &b, Location loc, Type t) {
  return arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
}

Value Importer::matmul(Value a, Value bm) {
  // [..., M, K] x [..., K, N] with broadcast batch dims (rank >= 2 each).
  auto as = typeOf(a).getShape(), bs = typeOf(bm).getShape();
  int64_t batch = std::max(as.size(), bs.size()) - 2;
  int64_t rank = batch + 3; // batch..., m, n, k
  SmallVector<int64_t> outShape;
  for (int64_t i = 0; i < batch; ++i) {
    int64_t ia = i - (batch - ((int64_t)as.size() - 2));
    int64_t ib = i - (batch - ((int64_t)bs.size() - 2));
    int64_t da = ia >= 0 ? as[ia] : 1, db = ib >= 0 ? bs[ib] : 1;
    outShape.push_back(std::max(da, db));
  }
  int64_t M = as[as.size() - 2], N = bs.back();
  outShape.append({M, N});
  auto mapFor = [&](ArrayRef<int64_t> s, bool isA) {
    SmallVector<AffineExpr> e;
    int64_t lead = s.size() - 2;
    for (int64_t i = 0; i < lead; ++i) {
      int64_t outDim = batch - lead + i;
      e.push_back(s[i] == 1 && outShape[outDim] != 1
                      ? getAffineConstantExpr(0, &ctx)
                      : getAffineDimExpr(outDim, &ctx));
    }
    AffineExpr m = getAffineDimExpr(batch, &ctx),
               n = getAffineDimExpr(batch + 1, &ctx),
               k = getAffineDimExpr(batch + 2, &ctx);
    if (isA)
      e.append({m, k});
    else
      e.append({k, n});
    return AffineMap::get(rank, 0, e, &ctx);
  };
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < batch + 2; ++i)
    outExprs.push_back(getAffineDimExpr(i, &ctx));
  Type elt = typeOf(a).getElementType();
  Value init = linalg::FillOp::create(
                   b, loc, zeroOf(b, loc, elt),
                   tensor::EmptyOp::create(b, loc, outShape, elt).getResult())
                   .getResult(0);
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  iters.back() = IteratorType::reduction;
  bool isFloat = isa<FloatType>(elt);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{a, bm}, init,
             {mapFor(as, true), mapFor(bs, false),
              AffineMap::get(rank, 0, outExprs, &ctx)},
             iters,
             [&](OpBuilder &nb, Location l, ValueRange x) {
               Value p =
                   isFloat
                       ? arith::MulFOp::create(nb, l, x[0], x[1]).getResult()
                       : arith::MulIOp::create(nb, l, x[0], x[1]).getResult();
               Value s =
                   isFloat ? arith::AddFOp::create(nb, l, x[2], p).getResult()
                           : arith::AddIOp::create(nb, l, x[2], p).getResult();
               linalg::YieldOp::create(nb, l, ValueRange{s});
             })
      .getResult(0);
}

Value Importer::reduce(Value x, ArrayRef<int64_t> axes, bool keepDims,
                       StringRef kind) {
  auto shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  Type elt = typeOf(x).getElementType();
  llvm::SmallSetVector<int64_t, 4> red;
  for (int64_t a : axes)
    red.insert(a < 0 ? a + rank : a);
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      red.insert(i);
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!red.contains(i)) {
      outShape.push_back(shape[i]);
      outExprs.push_back(getAffineDimExpr(i, &ctx));
    }
  double inf = std::numeric_limits<double>::infinity();
  double initValue = kind == "max"    ? -inf
                     : kind == "min"  ? inf
                     : kind == "prod" ? 1.0
                                      : 0.0;
  Value initCst =
      arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, initValue));
  Value init = linalg::FillOp::create(
                   b, loc, initCst,
                   tensor::EmptyOp::create(b, loc, outShape, elt).getResult())
                   .getResult(0);
  SmallVector<IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i)
    iters.push_back(red.contains(i) ? IteratorType::reduction
                                    : IteratorType::parallel);
  Value r = linalg::GenericOp::create(
                b, loc, init.getType(), x, init,
                {AffineMap::getMultiDimIdentityMap(rank, &ctx),
                 AffineMap::get(rank, 0, outExprs, &ctx)},
                iters,
                [&](OpBuilder &nb, Location l, ValueRange a) {
                  Value v;
                  if (kind == "max")
                    v = arith::MaximumFOp::create(nb, l, a[0], a[1]);
                  else if (kind == "min")
                    v = arith::MinimumFOp::create(nb, l, a[0], a[1]);
                  else if (kind == "prod")
                    v = arith::MulFOp::create(nb, l, a[0], a[1]);
                  else
                    v = arith::AddFOp::create(nb, l, a[0], a[1]);
                  linalg::YieldOp::create(nb, l, ValueRange{v});
                })
                .getResult(0);
  if (kind == "mean") {
    int64_t n = 1;
    for (int64_t a : red)
      n *= shape[a];
    Value inv = arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, 1.0 / n));
    r = elementwise({r}, elt, [&](OpBuilder &nb, Location l, ValueRange a) {
      return arith::MulFOp::create(nb, l, a[0], inv).getResult();
    });
  }
  if (keepDims) {
    SmallVector<int64_t> kept;
    for (int64_t i = 0; i < rank; ++i)
      kept.push_back(red.contains(i) ? 1 : shape[i]);
    r = reshape(r, kept);
  }
  return r;
}

Value Importer::softmax(Value x, int64_t axis) {
  int64_t rank = typeOf(x).getRank();
  if (axis < 0)
    axis += rank;
  Type elt = typeOf(x).getElementType();
  Value mx = reduce(x, {axis}, /*keepDims=*/true, "max");
  Value e =
      elementwise({x, mx}, elt, [](OpBuilder &nb, Location l, ValueRange a) {
        return math::ExpOp::create(nb, l,
                                   arith::SubFOp::create(nb, l, a[0], a[1]))
            .getResult();
      });
  Value s = reduce(e, {axis}, /*keepDims=*/true, "sum");
  return elementwise({e, s}, elt, [](OpBuilder &nb, Location l, ValueRange a) {
    return arith::DivFOp::create(nb, l, a[0], a[1]).getResult();
  });
}

Value Importer::transpose(Value x, ArrayRef<int64_t> perm) {
  auto shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> inExprs(rank);
  for (int64_t i = 0; i < rank; ++i) {
    outShape.push_back(shape[perm[i]]);
    inExprs[perm[i]] = getAffineDimExpr(i, &ctx);
  }
  // Integer constants (shape and padding arithmetic, e.g. the TorchScript
  // exporter's F.pad sizes) fold, so that ops reading them as attributes
  // still see constants.
  if (DenseElementsAttr c = foldedOf(x);
      c && isa<IntegerType>(c.getElementType()) &&
      c.getNumElements() <= kMaxFoldElements) {
    SmallVector<APInt> in(c.getValues<APInt>()), out;
    SmallVector<int64_t> inStride(rank, 1), idx(rank, 0);
    for (int64_t d = rank - 2; d >= 0; --d)
      inStride[d] = inStride[d + 1] * shape[d + 1];
    for (int64_t n = 0, total = c.getNumElements(); n < total; ++n) {
      int64_t at = 0;
      for (int64_t i = 0; i < rank; ++i)
        at += idx[i] * inStride[perm[i]];
      out.push_back(in[at]);
      for (int64_t i = rank - 1; i >= 0 && ++idx[i] == outShape[i]; --i)
        idx[i] = 0;
    }
    return materialize(DenseElementsAttr::get(
        RankedTensorType::get(outShape, c.getElementType()), out));
  }
  Value init =
      tensor::EmptyOp::create(b, loc, outShape, typeOf(x).getElementType());
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), x, init,
             {AffineMap::get(rank, 0, inExprs, &ctx),
              AffineMap::getMultiDimIdentityMap(rank, &ctx)},
             iters,
             [](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, ValueRange{a[0]});
             })
      .getResult(0);
}

Value Importer::reshape(Value x, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
  if (type == x.getType())
    return x;
  if (DenseElementsAttr c = foldedOf(x))
    return materialize(c.reshape(type));
  auto shapeType =
      RankedTensorType::get({(int64_t)shape.size()}, b.getIndexType());
  Value s = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          shapeType, llvm::to_vector(llvm::map_range(shape, [&](int64_t d) {
            return (Attribute)b.getIndexAttr(d);
          }))));
  return tensor::ReshapeOp::create(
             b, loc, RankedTensorType::get(shape, typeOf(x).getElementType()),
             x, s)
      .getResult();
}

} // namespace kestrel::onnximport
