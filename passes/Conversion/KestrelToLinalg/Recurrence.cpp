//===- Recurrence.cpp - Reference lowering of recurrences -----------------===//
//
// kestrel.gated_recurrence in its recurrent form (docs/ops.md §2), one time
// step per iteration of an scf.for that carries the f32 state S [B,H,Dk,Dv]
// and the f32 output [B,H,T,Dv]:
//
//   S       = exp(g_t) ⊙ S              (scalar, vector, gated_delta)
//   u_t     = β_t (v_t − k_t S)         (delta, gated_delta)
//           = v_t                       (otherwise)
//   S       = S + k_tᵀ u_t
//   o[:,:,t]= scale · q_t S
//
// Every step is a handful of linalg.generic ops on tensor.extract_slice'd
// step-t inputs; nothing is chunked or fused. This is the oracle the chunked
// lowerings are compared with, so it follows the definition literally.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Conversion/KestrelToLinalg/ReferenceLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kestrel;

namespace {

/// The step-`t` slice of `source` along its time dimension 2:
/// [B, H, T, ...] -> [B, H, 1, ...]. The unit dimension is kept (indexing
/// maps read it at 0): a rank-reduced slice is ambiguous when B or H is 1
/// too, and canonicalization once T = 1 folds the loop away then drops the
/// wrong unit dimension.
static Value sliceStep(OpBuilder &b, Location loc, Value source, Value t) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  SmallVector<OpFoldResult> sizes;
  SmallVector<int64_t> shape(type.getShape());
  shape[2] = 1;
  offsets[2] = t;
  for (int64_t size : shape)
    sizes.push_back(b.getIndexAttr(size));
  return tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), source,
      offsets, sizes, strides);
}

/// Builds the reference recurrence of one kestrel.gated_recurrence.
struct RecurrenceBuilder : IREmitter {
  RecurrenceBuilder(PatternRewriter &rewriter, GatedRecurrenceOp op)
      : IREmitter(rewriter, op.getLoc()), rewriter(rewriter), op(op),
        B(op.getBatch()), H(op.getNumHeads()), T(op.getSeqLen()),
        Dk(op.getKeyDim()), Dv(op.getValueDim()), group(H / op.getNumKvHeads()),
        id4(AffineMap::getMultiDimIdentityMap(4, ctx)) {}

  /// Initial f32 state: the operand widened (copied when it already is
  /// f32: the loop updates its state in place, and an identity generic
  /// would fold away and let it write into the caller's buffer), or zeros.
  Value initialState() {
    Value s0 = op.getInitialState();
    if (s0 && cast<RankedTensorType>(s0.getType()).getElementType().isF32())
      return linalg::CopyOp::create(rewriter, loc, s0,
                                    empty({B, H, Dk, Dv}, f32))
          .getResult(0);
    if (s0)
      return generic({s0}, empty({B, H, Dk, Dv}, f32), {id4, id4},
                     {kPar, kPar, kPar, kPar},
                     [](OpBuilder &nb, Location l, ValueRange args) {
                       yield(nb, l, toF32(nb, l, args[0]));
                     });
    return filled({B, H, Dk, Dv}, 0.0);
  }

  /// The body of time step `t` of `loop`: updates the state and writes
  /// row t of the output.
  void step(scf::ForOp loop);

  /// Loops (b, h, i, j) over the state: i indexes Dk, j indexes Dv.
  AffineMap map(ArrayRef<AffineExpr> results) {
    return AffineMap::get(4, 0, results, ctx);
  }
  /// Decay: S = exp(g_t) S, with g_t per head or per (head, key channel).
  Value decay(Value state, Value logGate, Value t);
  /// The delta rule's error β_t (v_t − k_t S) against the (decayed) state,
  /// [B, H, Dv].
  Value deltaError(Value k, Value v, Value state, Value beta, Value t);
  /// S = S + k_tᵀ u_t, `uMap` reading u in the state's loops.
  Value addOuterProduct(Value k, Value u, AffineMap uMap, Value state);
  /// o_t = scale · q_t S accumulated into row t of `out`; returns `out`.
  Value writeOutput(Value q, Value state, Value out, Value t);

  PatternRewriter &rewriter;
  GatedRecurrenceOp op;
  const int64_t B, H, T, Dk, Dv, group;
  AffineMap id4;
};

void RecurrenceBuilder::step(scf::ForOp loop) {
  Value t = loop.getInductionVar();
  Value state = loop.getRegionIterArgs()[0];
  Value out = loop.getRegionIterArgs()[1];
  Value q = sliceStep(rewriter, loc, op.getQuery(), t);
  Value k = sliceStep(rewriter, loc, op.getKey(), t);
  Value v = sliceStep(rewriter, loc, op.getValue(), t);

  // The state updates write into the loop-carried tensor itself (it is
  // their `outs`): one-shot-bufferize then proves each yielded state
  // equivalent to the iter_arg and updates one buffer in place, instead of
  // rejecting the loop or allocating a state per step.
  if (Value logGate = op.getLogGate())
    state = decay(state, logGate, t);

  // What is written into the state along k_t: v_t, or for the delta rule
  // the error against the state. Keys and values of head h live in KV head
  // h / group.
  AffineExpr b, h, i, j;
  bindDims(ctx, b, h, i, j);
  AffineExpr step = getAffineConstantExpr(0, ctx); // the sliced time dim
  Value u = v;
  AffineMap uMap = map({b, h.floorDiv(group), step, j});
  if (Value beta = op.getBeta()) {
    u = deltaError(k, v, state, beta, t);
    uMap = map({b, h, j});
  }
  state = addOuterProduct(k, u, uMap, state);
  out = writeOutput(q, state, out, t);
  scf::YieldOp::create(rewriter, loc, ValueRange{state, out});
}

Value RecurrenceBuilder::decay(Value state, Value logGate, Value t) {
  AffineExpr b, h, i, j;
  bindDims(ctx, b, h, i, j);
  AffineExpr step = getAffineConstantExpr(0, ctx);
  Value g = sliceStep(rewriter, loc, logGate, t);
  AffineMap gMap = op.getGate() == GateKind::Vector ? map({b, h, step, i})
                                                    : map({b, h, step});
  return generic({g}, state, {gMap, id4}, {kPar, kPar, kPar, kPar},
                 [](OpBuilder &nb, Location l, ValueRange args) {
                   Value decay =
                       math::ExpOp::create(nb, l, toF32(nb, l, args[0]));
                   yield(nb, l, arith::MulFOp::create(nb, l, decay, args[1]));
                 });
}

Value RecurrenceBuilder::deltaError(Value k, Value v, Value state, Value beta,
                                    Value t) {
  AffineExpr step = getAffineConstantExpr(0, ctx);
  Value betaT = sliceStep(rewriter, loc, beta, t);
  // kS[b,h,j] = Σ_i k[b,h/g,i] S[b,h,i,j]; loops (b, h, j, i).
  AffineExpr b, h, jr, ir;
  bindDims(ctx, b, h, jr, ir);
  Value kS = generic(
      {k, state}, filled({B, H, Dv}, 0.0),
      {map({b, h.floorDiv(group), step, ir}), map({b, h, ir, jr}),
       map({b, h, jr})},
      {kPar, kPar, kPar, kRed}, [](OpBuilder &nb, Location l, ValueRange args) {
        Value prod =
            arith::MulFOp::create(nb, l, toF32(nb, l, args[0]), args[1]);
        yield(nb, l, arith::AddFOp::create(nb, l, args[2], prod));
      });
  AffineExpr b3, h3, j3;
  bindDims(ctx, b3, h3, j3);
  return generic(
      {v, kS, betaT}, empty({B, H, Dv}, f32),
      {AffineMap::get(3, 0, {b3, h3.floorDiv(group), step, j3}, ctx),
       AffineMap::get(3, 0, {b3, h3, j3}, ctx),
       AffineMap::get(3, 0, {b3, h3, step}, ctx),
       AffineMap::get(3, 0, {b3, h3, j3}, ctx)},
      {kPar, kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange args) {
        Value err =
            arith::SubFOp::create(nb, l, toF32(nb, l, args[0]), args[1]);
        yield(nb, l, arith::MulFOp::create(nb, l, toF32(nb, l, args[2]), err));
      });
}

Value RecurrenceBuilder::addOuterProduct(Value k, Value u, AffineMap uMap,
                                         Value state) {
  AffineExpr b, h, i, j;
  bindDims(ctx, b, h, i, j);
  AffineExpr step = getAffineConstantExpr(0, ctx);
  return generic(
      {k, u}, state, {map({b, h.floorDiv(group), step, i}), uMap, id4},
      {kPar, kPar, kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange args) {
        Value outer = arith::MulFOp::create(nb, l, toF32(nb, l, args[0]),
                                            toF32(nb, l, args[1]));
        yield(nb, l, arith::AddFOp::create(nb, l, args[2], outer));
      });
}

Value RecurrenceBuilder::writeOutput(Value q, Value state, Value out, Value t) {
  // o_t[b,h,j] = Σ_i (scale · q[b,h,i]) S[b,h,i,j]; loops (b, h, j, i). It
  // accumulates directly in row t of the output (extract, fill, compute,
  // insert back), so bufferization writes that row in place rather than
  // copying a temporary into a strided view.
  SmallVector<OpFoldResult> offsets(4, rewriter.getIndexAttr(0));
  offsets[2] = t;
  SmallVector<OpFoldResult> sizes = {
      rewriter.getIndexAttr(B), rewriter.getIndexAttr(H),
      rewriter.getIndexAttr(1), rewriter.getIndexAttr(Dv)};
  SmallVector<OpFoldResult> strides(4, rewriter.getIndexAttr(1));
  Value row = tensor::ExtractSliceOp::create(
      rewriter, loc, RankedTensorType::get({B, H, 1, Dv}, f32), out, offsets,
      sizes, strides);
  row = linalg::FillOp::create(rewriter, loc, cstF32(rewriter, loc, 0.0), row)
            .getResult(0);
  AffineExpr b, h, jr, ir;
  bindDims(ctx, b, h, jr, ir);
  AffineExpr step = getAffineConstantExpr(0, ctx);
  const double scale = op.getEffectiveScale();
  Value o = generic(
      {q, state}, row,
      {map({b, h, step, ir}), map({b, h, ir, jr}), map({b, h, step, jr})},
      {kPar, kPar, kPar, kRed},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value sq = arith::MulFOp::create(nb, l, toF32(nb, l, args[0]),
                                         cstF32(nb, l, scale));
        Value prod = arith::MulFOp::create(nb, l, sq, args[1]);
        yield(nb, l, arith::AddFOp::create(nb, l, args[2], prod));
      });
  return tensor::InsertSliceOp::create(rewriter, loc, o, out, offsets, sizes,
                                       strides);
}

struct LowerGatedRecurrence : OpRewritePattern<GatedRecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GatedRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    for (Type t : llvm::concat<Type>(llvm::to_vector(op->getOperandTypes()),
                                     llvm::to_vector(op->getResultTypes())))
      if (!cast<RankedTensorType>(t).hasStaticShape())
        return rewriter.notifyMatchFailure(
            op, "the reference lowering needs static shapes");

    RecurrenceBuilder rb(rewriter, op);
    Location loc = op.getLoc();
    Value state0 = rb.initialState();
    // Every step writes its own row of the output, so it starts empty.
    Value out0 = rb.empty({rb.B, rb.H, rb.T, rb.Dv}, rb.f32);

    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value ub = arith::ConstantIndexOp::create(rewriter, loc, rb.T);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(rewriter, loc, lb, ub, one,
                                   ValueRange{state0, out0});
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(loop.getBody());
      rb.step(loop);
    }

    // Narrow both results to the storage type once, after the last step.
    SmallVector<Value> results;
    // The loop carries (state, output); the op returns (output, state).
    Value loopResults[] = {loop.getResult(1), loop.getResult(0)};
    for (auto [value, result] : llvm::zip(loopResults, op->getResults()))
      results.push_back(rb.narrow(
          value, cast<RankedTensorType>(result.getType()).getElementType()));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void kestrel::populateRecurrenceReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerGatedRecurrence>(patterns.getContext());
}
