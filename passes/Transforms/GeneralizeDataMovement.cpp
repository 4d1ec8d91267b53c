//===- GeneralizeDataMovement.cpp - Slices and concats as linalg.generic --===//
//
// kestrel-generalize-data-movement: a static tensor.extract_slice (no rank
// reduction) becomes a linalg.generic reading source[offset + stride · i]
// with tensor.extract; a static tensor.concat becomes a
// linalg.generic writing each output element from the input whose range
// holds it (read with tensor.extract at a clamped index, then selected).
// Only ops directly in the function body: slices inside loops are tiling's.
// For targets whose host code cannot hold views (the CUDA runtime replays
// only allocations, copies and kernel launches, docs/pipelines.md): after
// this pass the data movement is a kernel like any other linalg op.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace kestrel {
#define GEN_PASS_DEF_GENERALIZEDATAMOVEMENT
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

using utils::IteratorType;

void generalize(tensor::ExtractSliceOp op) {
  RankedTensorType src = op.getSourceType(), res = op.getType();
  if (!res.hasStaticShape() || src.getRank() != res.getRank() ||
      ShapedType::isDynamicShape(op.getStaticOffsets()) ||
      ShapedType::isDynamicShape(op.getStaticStrides()))
    return;
  int64_t rank = res.getRank();
  OpBuilder b(op);
  Value init = tensor::EmptyOp::create(b, op.getLoc(), res.getShape(),
                                       res.getElementType());
  // An input map d * stride + offset would let linalg infer the loop range
  // from the source: the indices are computed in the body instead.
  auto gen = linalg::GenericOp::create(
      b, op.getLoc(), res, ValueRange{}, init,
      {AffineMap::getMultiDimIdentityMap(rank, op.getContext())},
      SmallVector<IteratorType>(rank, IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> src;
        for (int64_t d = 0; d < rank; ++d) {
          Value i = linalg::IndexOp::create(nb, l, d);
          int64_t stride = op.getStaticStrides()[d],
                  offset = op.getStaticOffsets()[d];
          if (stride != 1)
            i = arith::MulIOp::create(
                nb, l, i, arith::ConstantIndexOp::create(nb, l, stride));
          if (offset != 0)
            i = arith::AddIOp::create(
                nb, l, i, arith::ConstantIndexOp::create(nb, l, offset));
          src.push_back(i);
        }
        Value e = tensor::ExtractOp::create(nb, l, op.getSource(), src);
        linalg::YieldOp::create(nb, l, e);
      });
  op.replaceAllUsesWith(gen.getResult(0));
  op.erase();
}

void generalize(tensor::ConcatOp op) {
  RankedTensorType res = op.getResultType();
  if (!res.hasStaticShape() ||
      !llvm::all_of(op.getInputs().getTypes(), [](Type t) {
        return cast<RankedTensorType>(t).hasStaticShape();
      }))
    return;
  int64_t rank = res.getRank(), axis = op.getDim();
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value init =
      tensor::EmptyOp::create(b, loc, res.getShape(), res.getElementType());
  auto gen = linalg::GenericOp::create(
      b, loc, res, ValueRange{}, init,
      {AffineMap::getMultiDimIdentityMap(rank, op.getContext())},
      SmallVector<IteratorType>(rank, IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> idx;
        for (int64_t d = 0; d < rank; ++d)
          idx.push_back(linalg::IndexOp::create(nb, l, d));
        Value result;
        int64_t next = 0;
        for (Value v : op.getInputs()) {
          int64_t size = cast<RankedTensorType>(v.getType()).getDimSize(axis);
          int64_t at = next;
          next += size;
          if (size == 0)
            continue;
          auto cst = [&](int64_t c) {
            return arith::ConstantIndexOp::create(nb, l, c);
          };
          Value i = arith::SubIOp::create(nb, l, idx[axis], cst(at));
          Value clamped = arith::MinSIOp::create(
              nb, l, arith::MaxSIOp::create(nb, l, i, cst(0)), cst(size - 1));
          SmallVector<Value> src(idx);
          src[axis] = clamped;
          Value e = tensor::ExtractOp::create(nb, l, v, src);
          if (!result) { // later inputs win from their offset on
            result = e;
            continue;
          }
          Value inRange = arith::CmpIOp::create(
              nb, l, arith::CmpIPredicate::sge, idx[axis], cst(at));
          result = arith::SelectOp::create(nb, l, inRange, e, result);
        }
        linalg::YieldOp::create(nb, l, result);
      });
  op.replaceAllUsesWith(gen.getResult(0));
  op.erase();
}

struct GeneralizeDataMovementPass
    : kestrel::impl::GeneralizeDataMovementBase<GeneralizeDataMovementPass> {
  void runOnOperation() override {
    Block &body = getOperation().getBody().front();
    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (auto s = dyn_cast<tensor::ExtractSliceOp>(op))
        generalize(s);
      else if (auto c = dyn_cast<tensor::ConcatOp>(op))
        generalize(c);
    }
  }
};

} // namespace
