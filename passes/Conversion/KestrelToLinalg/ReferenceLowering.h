//===- ReferenceLowering.h --------------------------------------*- C++ -*-===//
//
// Every op family contributes the patterns of its naive, obviously correct
// lowering to linalg (one file per family, <Family>ToLinalg.cpp); the
// kestrel-lower-to-linalg pass applies them all. The helpers below keep
// those files short and uniform.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_REFERENCELOWERING_H
#define KESTREL_PASSES_REFERENCELOWERING_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace kestrel {

class AttentionOp;

void populateAttentionReferencePatterns(mlir::RewritePatternSet &patterns);
void populateMLAReferencePatterns(mlir::RewritePatternSet &patterns);
void populateQuantReferencePatterns(mlir::RewritePatternSet &patterns);
void populateRecurrenceReferencePatterns(mlir::RewritePatternSet &patterns);
void populateScanReferencePatterns(mlir::RewritePatternSet &patterns);

/// i1 that is true when key position `s` is visible from query row `t`
/// (indices) under every mask of `op`: with `causal`, s <= t + (S - T) and,
/// with a window w, (s > t + (S - T) - w or s < sinks); `blockAllowed` (the
/// integer block-map entry of (t / bq, s / bk), null without a block map)
/// is non-zero; s < `keyLength` (the i32 key length of the batch row, null
/// without key_lengths). A null Value when nothing can hide a key.
mlir::Value buildAttentionVisibility(mlir::OpBuilder &b, mlir::Location loc,
                                     AttentionOp op, mlir::Value t,
                                     mlir::Value s, mlir::Value blockAllowed,
                                     mlir::Value keyLength);
/// `op`'s block map as an i8 (0/1) constant tensor
/// [ceil(T / bq), ceil(S / bk)]; null when it has none.
mlir::Value buildBlockMapConstant(mlir::OpBuilder &b, mlir::Location loc,
                                  AttentionOp op);
void populateSupportReferencePatterns(mlir::RewritePatternSet &patterns);
void populateDenoiseReferencePatterns(mlir::RewritePatternSet &patterns);
void populateRoutingReferencePatterns(mlir::RewritePatternSet &patterns);
void populateKVCacheReferencePatterns(mlir::RewritePatternSet &patterns);

using mlir::utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

/// Builds the linalg pieces of a reference lowering around one op.
class ReferenceBuilder {
public:
  ReferenceBuilder(mlir::PatternRewriter &rewriter, mlir::Location loc)
      : rw(rewriter), loc(loc), f32(rewriter.getF32Type()) {}

  /// A new f32 tensor of `shape` filled with `value`.
  mlir::Value filled(llvm::ArrayRef<int64_t> shape, double value) {
    mlir::Value empty = mlir::tensor::EmptyOp::create(rw, loc, shape, f32);
    mlir::Value cst =
        mlir::arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(value));
    return mlir::linalg::FillOp::create(rw, loc, cst, empty).getResult(0);
  }

  /// An uninitialized tensor (every element is written by a parallel op).
  mlir::Value empty(llvm::ArrayRef<int64_t> shape, mlir::Type elementType) {
    return mlir::tensor::EmptyOp::create(rw, loc, shape, elementType);
  }

  /// A linalg.generic writing into `init`; returns its result.
  mlir::Value generic(mlir::ValueRange inputs, mlir::Value init,
                      llvm::ArrayRef<mlir::AffineMap> maps,
                      llvm::ArrayRef<IteratorType> iterators,
                      llvm::function_ref<void(mlir::OpBuilder &, mlir::Location,
                                              mlir::ValueRange)>
                          body) {
    auto op = mlir::linalg::GenericOp::create(rw, loc, init.getType(), inputs,
                                              init, maps, iterators, body);
    return op.getResult(0);
  }

  /// `value` (an f32 tensor) narrowed elementwise to `storage`; `value`
  /// itself when `storage` is f32. Every reference lowering computes in f32
  /// and narrows once, at the end.
  mlir::Value narrow(mlir::Value value, mlir::Type storage) {
    if (storage.isF32())
      return value;
    auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
    mlir::AffineMap id = mlir::AffineMap::getMultiDimIdentityMap(
        type.getRank(), rw.getContext());
    llvm::SmallVector<IteratorType> iterators(type.getRank(),
                                              IteratorType::parallel);
    return generic(
        {value}, empty(type.getShape(), storage), {id, id}, iterators,
        [&](mlir::OpBuilder &b, mlir::Location l, mlir::ValueRange args) {
          mlir::linalg::YieldOp::create(
              b, l,
              mlir::ValueRange{
                  mlir::arith::TruncFOp::create(b, l, storage, args[0])});
        });
  }

  mlir::PatternRewriter &rw;
  mlir::Location loc;
  mlir::FloatType f32;
};

/// linalg.yield of one value.
inline void yield(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v) {
  mlir::linalg::YieldOp::create(b, loc, mlir::ValueRange{v});
}

/// Widens a storage value (f16, bf16) to f32 for arithmetic.
inline mlir::Value toF32(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value v) {
  if (v.getType().isF32())
    return v;
  return mlir::arith::ExtFOp::create(b, loc, b.getF32Type(), v);
}

/// Narrows an f32 result to the storage type `t` (no-op for f32).
inline mlir::Value fromF32(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value v, mlir::Type t) {
  if (t.isF32())
    return v;
  return mlir::arith::TruncFOp::create(b, loc, t, v);
}

/// An f32 constant.
inline mlir::Value cstF32(mlir::OpBuilder &b, mlir::Location loc, double v) {
  return mlir::arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

} // namespace kestrel

#endif // KESTREL_PASSES_REFERENCELOWERING_H
