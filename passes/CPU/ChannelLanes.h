//===- ChannelLanes.h - Mamba ops with channels in SIMD lanes ---*- C++ -*-===//
//
// Shared by kestrel-cpu-selective-scan and kestrel-cpu-causal-conv: both run
// 16 channels of a [B, C, T] op per vector<16xf32>, reading the operands
// time-second ([B, T, C], the 16 channels of a step contiguous) and writing
// a time-second result. The exporter's activations are time-second already;
// kestrel-recognize puts transposes to channels-first in front of the ops
// and after them, which these helpers look through and fold.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CPU_CHANNELLANES_H
#define KESTREL_PASSES_CPU_CHANNELLANES_H

#include "passes/Common/IRBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace kestrel {

/// f32 lanes of one AVX-512 register: channels per vector.
constexpr int64_t kLanes = 16;

inline mlir::RankedTensorType rt(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

/// The [B, Y, X] source of `v` [B, X, Y] when `v` is a copy of it with its
/// last two dims swapped (a linalg.generic that only yields its input), or
/// null.
inline mlir::Value swappedSource(mlir::Value v) {
  using namespace mlir;
  auto g = v.getDefiningOp<linalg::GenericOp>();
  if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumReductionLoops() != 0 || rt(v).getRank() != 3)
    return {};
  Block &body = *g.getBody();
  if (body.getOperations().size() != 1 ||
      body.getTerminator()->getOperand(0) != body.getArgument(0))
    return {};
  Value src = g.getDpsInputs()[0];
  auto srcType = dyn_cast<RankedTensorType>(src.getType());
  if (!srcType || srcType.getElementType() != rt(v).getElementType())
    return {};
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  if (!maps[0].isPermutation() || !maps[1].isPermutation())
    return {};
  // Output dims -> input dims.
  AffineMap outToIn = maps[0].compose(inversePermutation(maps[1]));
  AffineMap swap =
      AffineMap::getPermutationMap(ArrayRef<unsigned>{0, 2, 1}, v.getContext());
  return outToIn == swap ? src : Value();
}

/// IREmitter with the vector<16> reads and writes of the lane loops.
class LaneEmitter : public IREmitter {
public:
  LaneEmitter(mlir::OpBuilder &b, mlir::Location loc)
      : IREmitter(b, loc), vecType(mlir::VectorType::get({kLanes}, f32)) {}

  /// `v` [B, X, Y] with its last two dims swapped: the source of a swap in
  /// front of it, or a new transposing copy.
  mlir::Value swapped(mlir::Value v) {
    using namespace mlir;
    if (Value src = swappedSource(v))
      return src;
    ArrayRef<int64_t> s = rt(v).getShape();
    AffineExpr d0, d1, d2;
    bindDims(ctx, d0, d1, d2);
    return generic({v}, empty({s[0], s[2], s[1]}, rt(v).getElementType()),
                   {map(3, {d0, d2, d1}), map(3, {d0, d1, d2})},
                   {kPar, kPar, kPar},
                   [](OpBuilder &nb, Location l, ValueRange args) {
                     yield(nb, l, args[0]);
                   });
  }
  /// The [R, C] matrix `m` transposed to [C, R].
  mlir::Value transposed2d(mlir::Value m) {
    using namespace mlir;
    ArrayRef<int64_t> s = rt(m).getShape();
    AffineExpr d0, d1;
    bindDims(ctx, d0, d1);
    return generic({m}, empty({s[1], s[0]}, rt(m).getElementType()),
                   {map(2, {d1, d0}), map(2, {d0, d1})}, {kPar, kPar},
                   [](OpBuilder &nb, Location l, ValueRange args) {
                     yield(nb, l, args[0]);
                   });
  }
  mlir::Value splat(mlir::Value scalar) {
    return mlir::vector::BroadcastOp::create(b, loc, vecType, scalar);
  }
  mlir::Value zeros() {
    return mlir::arith::ConstantOp::create(
        b, loc,
        mlir::DenseElementsAttr::get(vecType, b.getFloatAttr(f32, 0.0)));
  }
  /// vector<16> of `t` at `at` along its dim `dim` (masked past its end
  /// unless `full`), widened to f32.
  mlir::Value readF32(mlir::Value t, mlir::ValueRange at, unsigned dim) {
    using namespace mlir;
    auto type = rt(t);
    AffineMap perm =
        AffineMap::get(type.getRank(), 0, b.getAffineDimExpr(dim), ctx);
    Value pad =
        arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
    Value v = vector::TransferReadOp::create(
        b, loc, VectorType::get({kLanes}, type.getElementType()), t, at, pad,
        perm, ArrayRef<bool>{full});
    if (type.getElementType() != f32)
      v = arith::ExtFOp::create(b, loc, vecType, v);
    return v;
  }
  /// Writes the f32 vector `v` (narrowed to `dest`'s type) into `dest` at
  /// `at` along its dim `dim`.
  void write(mlir::Value v, mlir::Value &dest, mlir::ValueRange at,
             unsigned dim) {
    using namespace mlir;
    auto type = rt(dest);
    if (type.getElementType() != f32)
      v = arith::TruncFOp::create(
          b, loc, VectorType::get({kLanes}, type.getElementType()), v);
    AffineMap perm =
        AffineMap::get(type.getRank(), 0, b.getAffineDimExpr(dim), ctx);
    dest = vector::TransferWriteOp::create(b, loc, v, dest, at,
                                           AffineMapAttr::get(perm),
                                           b.getBoolArrayAttr({full}))
               .getResult();
  }
  /// silu(v) = v / (1 + exp(-v)).
  mlir::Value silu(mlir::Value v) {
    using namespace mlir;
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, v));
    return arith::DivFOp::create(b, loc, v, fadd(splat(constF32(1.0)), e));
  }

  /// Takes B, C, T and the storage type from the op's channels-first
  /// input `x` [B, C, T].
  void setShape(mlir::Value x) {
    llvm::ArrayRef<int64_t> xs = rt(x).getShape();
    B = xs[0];
    C = xs[1];
    T = xs[2];
    storage = rt(x).getElementType();
    full = C % kLanes == 0;
  }

  /// One (batch row, kLanes-channel block) of the op: its batch index, its
  /// first channel and its channel count (kLanes, or fewer in the last
  /// block when C is not a multiple).
  struct Block {
    mlir::Value bi, c0;
    mlir::OpFoldResult channels;
  };
  /// Offsets and sizes of a block's part of a [B, X, Y] tensor.
  struct Part {
    llvm::SmallVector<mlir::OpFoldResult> offsets, sizes;
  };

  /// An scf.forall over (B, ceil(C / kLanes)) blocks sharing `inits`,
  /// marked `marker = kLanes`; `body` emits one block over its outputs.
  mlir::scf::ForallOp
  forallBlocks(mlir::ValueRange inits, llvm::StringRef marker,
               llvm::function_ref<void(const Block &, mlir::ValueRange)> body) {
    using namespace mlir;
    SmallVector<OpFoldResult> ub = {
        b.getIndexAttr(B), b.getIndexAttr(llvm::divideCeil(C, kLanes))};
    auto forall = scf::ForallOp::create(
        b, loc, ub, inits, std::nullopt,
        [&](OpBuilder &, Location, ValueRange args) {
          Value c0 = mul(args[1], kLanes);
          OpFoldResult cs = b.getIndexAttr(kLanes);
          if (!full)
            cs = minI(idx(kLanes), sub(idx(C), c0));
          body(Block{args[0], c0, cs}, args.drop_front(2));
        });
    forall->setAttr(marker, b.getI64IntegerAttr(kLanes));
    return forall;
  }
  /// The block's [1, T, channels] part of a time-second [B, T, C] result.
  Part timePart(const Block &blk) {
    auto one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
    return {{blk.bi, zero, blk.c0}, {one, b.getIndexAttr(T), blk.channels}};
  }
  /// The block's [1, channels, width] part of a [B, C, width] state.
  Part statePart(const Block &blk, int64_t width) {
    auto one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
    return {{blk.bi, blk.c0, zero}, {one, blk.channels, b.getIndexAttr(width)}};
  }
  mlir::Value extract(mlir::Value t, const Part &part) {
    using namespace mlir;
    SmallVector<OpFoldResult> strides(part.sizes.size(), b.getIndexAttr(1));
    auto type = tensor::ExtractSliceOp::inferResultType(rt(t), part.sizes);
    return tensor::ExtractSliceOp::create(b, loc, type, t, part.offsets,
                                          part.sizes, strides)
        .getResult();
  }
  /// Appends the insert of `slice` into the forall's shared `dest` at
  /// `part` to the terminator `inParallel` (call in the order of the shared
  /// outputs: folding a single-iteration forall relies on it).
  void insertInParallel(mlir::scf::InParallelOp inParallel, mlir::Value slice,
                        mlir::Value dest, const Part &part) {
    using namespace mlir;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&inParallel.getRegion().front());
    SmallVector<OpFoldResult> strides(part.sizes.size(), b.getIndexAttr(1));
    tensor::ParallelInsertSliceOp::create(b, loc, slice, dest, part.offsets,
                                          part.sizes, strides);
  }

  mlir::VectorType vecType;
  int64_t B = 0, C = 0, T = 0;
  mlir::Type storage;
  /// Whether C is a multiple of kLanes (no masked block).
  bool full = true;
};

/// Replaces the channels-first result `y` [B, C, T] by its time-second form
/// `yT`: users that swap y back to [B, T, C] read yT itself, any other user
/// reads a new transpose of yT.
inline void replaceTimeSecond(LaneEmitter &e, mlir::Value y, mlir::Value yT) {
  for (mlir::Operation *user : llvm::make_early_inc_range(y.getUsers())) {
    mlir::Value r =
        user->getNumResults() == 1 ? user->getResult(0) : mlir::Value();
    if (r && swappedSource(r) == y) {
      r.replaceAllUsesWith(yT);
      user->erase();
    }
  }
  if (!y.use_empty())
    y.replaceAllUsesWith(e.swapped(yT));
}

} // namespace kestrel

#endif // KESTREL_PASSES_CPU_CHANNELLANES_H
