//===- RowTiling.cpp - TilingInterface of the row-wise kestrel ops --------===//
//
// kestrel.rms_norm and kestrel.gated_mlp compute every row of their input
// (all dimensions but the last; docs/ops.md) independently of the others,
// so upstream tiling (scf::tileUsingSCF, transform.structured.tile_using_*)
// can split them over rows: the iteration domain is the leading dimensions
// of the input (all parallel), a tile is the same op on a slice of rows of
// the input (the weights whole), and it produces the same rows of the
// result (all of its last dimension).
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"

using namespace mlir;
using namespace kestrel;

namespace {

/// The leading (row) dimensions of operand 0 as the iteration domain.
template <typename OpTy> SmallVector<Range> rowDomain(OpTy op, OpBuilder &b) {
  Value input = op->getOperand(0);
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<Range> domain;
  for (int64_t i = 0; i + 1 < type.getRank(); ++i)
    domain.push_back(Range{b.getIndexAttr(0),
                           tensor::getMixedSize(b, op.getLoc(), input, i),
                           b.getIndexAttr(1)});
  return domain;
}

/// `offsets`/`sizes` of the rows, extended by all of the last dimension of
/// `value`.
void fullRows(OpBuilder &b, Location loc, Value value,
              ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
              SmallVector<OpFoldResult> &outOffsets,
              SmallVector<OpFoldResult> &outSizes) {
  auto type = cast<RankedTensorType>(value.getType());
  outOffsets.assign(offsets.begin(), offsets.end());
  outSizes.assign(sizes.begin(), sizes.end());
  outOffsets.push_back(b.getIndexAttr(0));
  outSizes.push_back(tensor::getMixedSize(b, loc, value, type.getRank() - 1));
}

template <typename OpTy>
FailureOr<TilingResult> tileRows(OpTy op, OpBuilder &b,
                                 ArrayRef<OpFoldResult> offsets,
                                 ArrayRef<OpFoldResult> sizes) {
  Location loc = op.getLoc();
  Value input = op->getOperand(0);
  SmallVector<OpFoldResult> inOffsets, inSizes;
  fullRows(b, loc, input, offsets, sizes, inOffsets, inSizes);
  SmallVector<OpFoldResult> strides(inOffsets.size(), b.getIndexAttr(1));
  auto slice = tensor::ExtractSliceOp::create(b, loc, input, inOffsets, inSizes,
                                              strides);

  SmallVector<OpFoldResult> outOffsets, outSizes;
  fullRows(b, loc, op->getResult(0), offsets, sizes, outOffsets, outSizes);
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<int64_t> shape;
  for (OpFoldResult s : outSizes)
    shape.push_back(getConstantIntValue(s).value_or(ShapedType::kDynamic));
  auto tileType = RankedTensorType::get(shape, resultType.getElementType());

  SmallVector<Value> operands(op->getOperands());
  operands[0] = slice;
  OperationState state(loc, op->getName(), operands, TypeRange{tileType},
                       op->getAttrs());
  Operation *tiled = b.create(state);
  return TilingResult{
      {tiled}, SmallVector<Value>(tiled->getResults()), {slice.getOperation()}};
}

template <typename OpTy>
LogicalResult rowResultPosition(OpTy op, OpBuilder &b,
                                ArrayRef<OpFoldResult> offsets,
                                ArrayRef<OpFoldResult> sizes,
                                SmallVector<OpFoldResult> &resultOffsets,
                                SmallVector<OpFoldResult> &resultSizes) {
  fullRows(b, op.getLoc(), op->getResult(0), offsets, sizes, resultOffsets,
           resultSizes);
  return success();
}

template <typename OpTy>
SmallVector<utils::IteratorType> rowIterators(OpTy op) {
  auto type = cast<RankedTensorType>(op->getOperand(0).getType());
  return SmallVector<utils::IteratorType>(
      std::max<int64_t>(type.getRank() - 1, 0), utils::IteratorType::parallel);
}

} // namespace

#define KESTREL_ROW_TILING(OP)                                                 \
  SmallVector<utils::IteratorType> OP::getLoopIteratorTypes() {                \
    return rowIterators(*this);                                                \
  }                                                                            \
  SmallVector<Range> OP::getIterationDomain(OpBuilder &b) {                    \
    return rowDomain(*this, b);                                                \
  }                                                                            \
  FailureOr<TilingResult> OP::getTiledImplementation(                          \
      OpBuilder &b, ArrayRef<OpFoldResult> offsets,                            \
      ArrayRef<OpFoldResult> sizes) {                                          \
    return tileRows(*this, b, offsets, sizes);                                 \
  }                                                                            \
  LogicalResult OP::getResultTilePosition(                                     \
      OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,     \
      ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,  \
      SmallVector<OpFoldResult> &resultSizes) {                                \
    return rowResultPosition(*this, b, offsets, sizes, resultOffsets,          \
                             resultSizes);                                     \
  }

KESTREL_ROW_TILING(RmsNormOp)
KESTREL_ROW_TILING(GatedMlpOp)
