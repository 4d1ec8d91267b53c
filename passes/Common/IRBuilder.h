//===- IRBuilder.h - Shorthands for the IR passes build by hand -*- C++ -*-===//
//
// The reference lowerings (Conversion), the CPU kernels and the CUDA kernel
// generators all build IR op by op. IREmitter holds a builder and a
// location and offers what they share: index / f32 / typed constants,
// index and f32 arithmetic, memref and tensor element reads, scf.for loops,
// linalg.generic with its maps and iterator kinds, empty / filled tensors
// and static slices. Each pass keeps its specialised pieces (mma fragments,
// micro-kernels, routing ranks, ...) local, usually in a subclass.
//
// Integer shorthands taking an int64_t constant skip the op when it would
// be the identity (x + 0, x * 1, x / 1), so address arithmetic stays short.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_COMMON_IRBUILDER_H
#define KESTREL_PASSES_COMMON_IRBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"

namespace kestrel {

using mlir::utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

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

/// Builds ops at `b`'s insertion point with location `loc`.
class IREmitter {
public:
  using BodyFn = llvm::function_ref<void(mlir::OpBuilder &, mlir::Location,
                                         mlir::ValueRange)>;
  using LoopBodyFn = llvm::function_ref<void(mlir::OpBuilder &, mlir::Location,
                                             mlir::Value, mlir::ValueRange)>;

  IREmitter(mlir::OpBuilder &b, mlir::Location loc)
      : b(b), loc(loc), ctx(b.getContext()), f32(b.getF32Type()) {}

  // --- Constants -----------------------------------------------------------

  mlir::Value idx(int64_t v) {
    return mlir::arith::ConstantIndexOp::create(b, loc, v);
  }
  mlir::Value constF32(double v) { return cstF32(b, loc, v); }
  /// An integer constant of `type` (i1 ... i64 or index).
  mlir::Value constInt(mlir::Type type, int64_t v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, v));
  }

  // --- Index arithmetic ----------------------------------------------------

  mlir::Value add(mlir::Value x, mlir::Value y) {
    return mlir::arith::AddIOp::create(b, loc, x, y);
  }
  mlir::Value add(mlir::Value x, int64_t v) { return v ? add(x, idx(v)) : x; }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    return mlir::arith::SubIOp::create(b, loc, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return mlir::arith::MulIOp::create(b, loc, x, y);
  }
  mlir::Value mul(mlir::Value x, int64_t v) {
    return v == 1 ? x : mul(x, idx(v));
  }
  /// Unsigned quotient and remainder by a constant.
  mlir::Value div(mlir::Value x, int64_t v) {
    return v == 1 ? x
                  : mlir::arith::DivUIOp::create(b, loc, x, idx(v)).getResult();
  }
  mlir::Value rem(mlir::Value x, int64_t v) {
    return mlir::arith::RemUIOp::create(b, loc, x, idx(v));
  }
  /// Signed quotient and remainder by a constant.
  mlir::Value divS(mlir::Value x, int64_t v) {
    return mlir::arith::DivSIOp::create(b, loc, x, idx(v));
  }
  mlir::Value remS(mlir::Value x, int64_t v) {
    return mlir::arith::RemSIOp::create(b, loc, x, idx(v));
  }
  mlir::Value minI(mlir::Value x, mlir::Value y) {
    return mlir::arith::MinSIOp::create(b, loc, x, y);
  }
  mlir::Value maxI(mlir::Value x, mlir::Value y) {
    return mlir::arith::MaxSIOp::create(b, loc, x, y);
  }
  mlir::Value cmp(mlir::arith::CmpIPredicate p, mlir::Value x, mlir::Value y) {
    return mlir::arith::CmpIOp::create(b, loc, p, x, y);
  }
  mlir::Value lt(mlir::Value x, mlir::Value y) {
    return cmp(mlir::arith::CmpIPredicate::slt, x, y);
  }
  mlir::Value le(mlir::Value x, mlir::Value y) {
    return cmp(mlir::arith::CmpIPredicate::sle, x, y);
  }
  mlir::Value land(mlir::Value x, mlir::Value y) {
    return mlir::arith::AndIOp::create(b, loc, x, y);
  }
  mlir::Value lor(mlir::Value x, mlir::Value y) {
    return mlir::arith::OrIOp::create(b, loc, x, y);
  }
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y) {
    return mlir::arith::SelectOp::create(b, loc, c, x, y);
  }

  // --- Float arithmetic ----------------------------------------------------

  mlir::Value fadd(mlir::Value x, mlir::Value y) {
    return mlir::arith::AddFOp::create(b, loc, x, y);
  }
  mlir::Value fsub(mlir::Value x, mlir::Value y) {
    return mlir::arith::SubFOp::create(b, loc, x, y);
  }
  mlir::Value fmul(mlir::Value x, mlir::Value y) {
    return mlir::arith::MulFOp::create(b, loc, x, y);
  }
  mlir::Value fmax(mlir::Value x, mlir::Value y) {
    return mlir::arith::MaximumFOp::create(b, loc, x, y);
  }

  // --- Element reads -------------------------------------------------------

  /// An integer element of a memref, as an index.
  mlir::Value loadIndex(mlir::Value mem, mlir::ValueRange indices) {
    return asIndex(mlir::memref::LoadOp::create(b, loc, mem, indices));
  }
  /// An integer (or index) element of a tensor, as an index.
  mlir::Value extractIndex(mlir::Value t, mlir::ValueRange at) {
    return asIndex(mlir::tensor::ExtractOp::create(b, loc, t, at));
  }
  mlir::Value asIndex(mlir::Value v) {
    if (v.getType().isIndex())
      return v;
    return mlir::arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }

  // --- Loops ---------------------------------------------------------------

  /// scf.for over [lo, hi) with step 1 carrying `inits`; `body` ends with
  /// an scf.yield (see scfYield).
  mlir::scf::ForOp forLoop(mlir::Value lo, mlir::Value hi,
                           mlir::ValueRange inits, LoopBodyFn body) {
    return mlir::scf::ForOp::create(b, loc, lo, hi, idx(1), inits, body);
  }
  mlir::scf::ForOp forLoop(int64_t lo, int64_t hi, mlir::ValueRange inits,
                           LoopBodyFn body) {
    return forLoop(idx(lo), idx(hi), inits, body);
  }
  static void scfYield(mlir::OpBuilder &nb, mlir::Location l,
                       mlir::ValueRange values) {
    mlir::scf::YieldOp::create(nb, l, values);
  }

  // --- Tensors -------------------------------------------------------------

  /// An uninitialized tensor (every element is written by a parallel op).
  mlir::Value empty(llvm::ArrayRef<int64_t> shape, mlir::Type elementType) {
    return mlir::tensor::EmptyOp::create(b, loc, shape, elementType);
  }
  mlir::Value empty(llvm::ArrayRef<mlir::OpFoldResult> sizes,
                    mlir::Type elementType) {
    return mlir::tensor::EmptyOp::create(b, loc, sizes, elementType);
  }
  /// A new f32 tensor filled with `value`.
  /// (The tensor.empty is built before the constant.)
  mlir::Value filled(llvm::ArrayRef<int64_t> shape, double value) {
    mlir::Value init = empty(shape, f32);
    return fill(constF32(value), init);
  }
  mlir::Value filled(llvm::ArrayRef<mlir::OpFoldResult> sizes, double value) {
    mlir::Value init = empty(sizes, f32);
    return fill(constF32(value), init);
  }
  /// A new integer tensor of `shape` filled with `value`.
  mlir::Value filledInt(llvm::ArrayRef<int64_t> shape, mlir::Type type,
                        int64_t value) {
    mlir::Value cst = constInt(type, value);
    return fill(cst, empty(shape, type));
  }
  mlir::Value fill(mlir::Value scalar, mlir::Value init) {
    return mlir::linalg::FillOp::create(b, loc, scalar, init).getResult(0);
  }

  /// An affine map over `numDims` loops with `results`.
  mlir::AffineMap map(unsigned numDims,
                      llvm::ArrayRef<mlir::AffineExpr> results) {
    return mlir::AffineMap::get(numDims, 0, results, ctx);
  }
  /// An affine map over `numDims` loops selecting the loops `dims`.
  mlir::AffineMap projection(unsigned numDims, llvm::ArrayRef<unsigned> dims) {
    llvm::SmallVector<mlir::AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(mlir::getAffineDimExpr(d, ctx));
    return map(numDims, exprs);
  }

  /// A linalg.generic writing into `init`; returns its result.
  mlir::Value generic(mlir::ValueRange inputs, mlir::Value init,
                      llvm::ArrayRef<mlir::AffineMap> maps,
                      llvm::ArrayRef<IteratorType> iterators, BodyFn body) {
    return mlir::linalg::GenericOp::create(b, loc, init.getType(), inputs, init,
                                           maps, iterators, body)
        .getResult(0);
  }

  /// `value` (an f32 tensor) narrowed elementwise to `storage`; `value`
  /// itself when `storage` is f32. Reference lowerings compute in f32 and
  /// narrow once, at the end.
  mlir::Value narrow(mlir::Value value, mlir::Type storage) {
    if (storage.isF32())
      return value;
    auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
    mlir::AffineMap id =
        mlir::AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
    llvm::SmallVector<IteratorType> iterators(type.getRank(), kPar);
    return generic(
        {value}, empty(type.getShape(), storage), {id, id}, iterators,
        [&](mlir::OpBuilder &nb, mlir::Location l, mlir::ValueRange args) {
          yield(nb, l, mlir::arith::TruncFOp::create(nb, l, storage, args[0]));
        });
  }

  /// The static [sizes] slice at [offsets] (unit strides) of `x`.
  mlir::Value slice(mlir::Value x, llvm::ArrayRef<int64_t> offsets,
                    llvm::ArrayRef<int64_t> sizes) {
    auto elem =
        mlir::cast<mlir::RankedTensorType>(x.getType()).getElementType();
    llvm::SmallVector<int64_t> ones(sizes.size(), 1);
    return mlir::tensor::ExtractSliceOp::create(
        b, loc, mlir::RankedTensorType::get(sizes, elem), x,
        mlir::getAsIndexOpFoldResult(ctx, offsets),
        mlir::getAsIndexOpFoldResult(ctx, sizes),
        mlir::getAsIndexOpFoldResult(ctx, ones));
  }
  /// `x` written into `dest` at the static [offsets] (unit strides).
  mlir::Value insert(mlir::Value x, mlir::Value dest,
                     llvm::ArrayRef<int64_t> offsets) {
    auto shape = mlir::cast<mlir::RankedTensorType>(x.getType()).getShape();
    llvm::SmallVector<int64_t> ones(shape.size(), 1);
    return mlir::tensor::InsertSliceOp::create(
        b, loc, x, dest, mlir::getAsIndexOpFoldResult(ctx, offsets),
        mlir::getAsIndexOpFoldResult(ctx, shape),
        mlir::getAsIndexOpFoldResult(ctx, ones));
  }

  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::MLIRContext *ctx;
  mlir::FloatType f32;
};

} // namespace kestrel

#endif // KESTREL_PASSES_COMMON_IRBUILDER_H
