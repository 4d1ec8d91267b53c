//===- Scan.cpp - Reference lowering of the Mamba1 mixer ops --------------===//
//
// kestrel.selective_scan and kestrel.causal_conv1d (docs/ops.md §2) as
// linalg ops computing the definitions literally, in f32.
//
// selective_scan, recurrent form: an scf.for over time carrying the f32 state
// h [B,C,N] and the f32 scan output [B,C,T], around
//
//   Δ        = softplus(delta + delta_bias)           (once, before the loop)
//   h        = exp(Δ_t A) ⊙ h + Δ_t Bm_t x_t          (in place, per step)
//   y[:,:,t] = Σ_n Cm_t[n] h[:, :, n]                  (per step)
//   y        = (y + D x) ⊙ silu(z)                     (once, after the loop)
//
// causal_conv1d has no recurrence: xs = state ++ x along time (gathered
// elementwise), then one reduction y[b,c,t] = act(Σ_i w[c,i] xs[b,c,t+i] +
// bias[c]) and new_state = the last K-1 columns of xs.
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

/// Above this, softplus(v) is v itself: the Mamba kernels' shortcut, part of
/// the op's definition (see its description), which also keeps exp from
/// overflowing.
constexpr double kSoftplusThreshold = 20.0;

/// Whether every operand and result of `op` has a static shape.
static bool hasStaticShapes(Operation *op) {
  return llvm::all_of(
      llvm::concat<Type>(llvm::to_vector(op->getOperandTypes()),
                         llvm::to_vector(op->getResultTypes())),
      [](Type t) { return cast<RankedTensorType>(t).hasStaticShape(); });
}

/// silu(v) = v / (1 + exp(-v)) of an f32 value.
static Value buildSilu(OpBuilder &b, Location loc, Value v) {
  Value neg = arith::NegFOp::create(b, loc, v);
  Value denom = arith::AddFOp::create(b, loc, cstF32(b, loc, 1.0),
                                      math::ExpOp::create(b, loc, neg));
  return arith::DivFOp::create(b, loc, v, denom);
}

/// softplus(v) = v > 20 ? v : log1p(exp(min(v, 20))) of an f32 value.
static Value buildSoftplus(OpBuilder &b, Location loc, Value v) {
  Value threshold = cstF32(b, loc, kSoftplusThreshold);
  Value clamped = arith::MinimumFOp::create(b, loc, v, threshold);
  Value smooth =
      math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, clamped));
  Value large =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v, threshold);
  return arith::SelectOp::create(b, loc, large, v, smooth);
}

/// The step-`t` slice of a [B, X, T] tensor: [B, X, 1]. The unit dimension
/// is kept and read at 0, as in Recurrence.cpp: a rank-reduced slice
/// is ambiguous once B or X is 1 too.
static Value sliceStep(OpBuilder &b, Location loc, Value source, Value t) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0), t};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(type.getDimSize(0)),
                                     b.getIndexAttr(type.getDimSize(1)),
                                     b.getIndexAttr(1)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), 1},
                            type.getElementType()),
      source, offsets, sizes, strides);
}

/// Builds the reference scan of one kestrel.selective_scan. Loops are
/// (b, c, t) over the activations and (b, c, n) over the state.
struct ScanBuilder : IREmitter {
  ScanBuilder(PatternRewriter &rewriter, SelectiveScanOp op)
      : IREmitter(rewriter, op.getLoc()), rewriter(rewriter), op(op),
        id3(AffineMap::getMultiDimIdentityMap(3, ctx)) {
    ArrayRef<int64_t> xShape = op.getX().getType().getShape();
    B = xShape[0];
    C = xShape[1];
    T = xShape[2];
    N = op.getA().getType().getDimSize(1);
  }

  AffineMap map3(ArrayRef<AffineExpr> results) {
    return AffineMap::get(3, 0, results, ctx);
  }
  /// Δ [B,C,T] in f32: bias added and softplus applied once for all steps.
  Value stepSizes();
  /// Initial f32 state, or zeros. The operand is f32 already, but it is
  /// copied: the loop updates its state in place, and bufferization would
  /// otherwise do that in the caller's buffer (a function argument).
  Value initialState();
  /// The body of time step `t` of `loop` with step sizes `dt`.
  void step(scf::ForOp loop, Value dt);
  /// h = exp(Δ_t A) ⊙ h + Δ_t Bm_t x_t, in place.
  Value updateState(Value state, Value dtT, Value bT, Value xT);
  /// y[:,:,t] = Σ_n Cm_t[n] h[:, :, n] written into column t of `out`.
  Value writeOutput(Value state, Value cT, Value out, Value t);
  /// y = (y + D x) ⊙ silu(z), narrowed to the storage type.
  Value epilogue(Value y);

  PatternRewriter &rewriter;
  SelectiveScanOp op;
  int64_t B, C, T, N;
  AffineMap id3;
};

Value ScanBuilder::stepSizes() {
  AffineExpr b, c, n;
  bindDims(ctx, b, c, n);
  const bool softplus = op.getDeltaSoftplus();
  SmallVector<Value> dtInputs = {op.getDelta()};
  SmallVector<AffineMap> dtMaps = {id3};
  if (Value bias = op.getDeltaBias()) {
    dtInputs.push_back(bias);
    dtMaps.push_back(map3({c}));
  }
  dtMaps.push_back(id3);
  return generic(dtInputs, empty({B, C, T}, f32), dtMaps, {kPar, kPar, kPar},
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value v = toF32(nb, l, args[0]);
                   if (args.size() == 3)
                     v = arith::AddFOp::create(nb, l, v, args[1]);
                   yield(nb, l, softplus ? buildSoftplus(nb, l, v) : v);
                 });
}

Value ScanBuilder::initialState() {
  if (Value s0 = op.getInitialState())
    return linalg::CopyOp::create(rewriter, loc, s0, empty({B, C, N}, f32))
        .getResult(0);
  return filled({B, C, N}, 0.0);
}

void ScanBuilder::step(scf::ForOp loop, Value dt) {
  Value t = loop.getInductionVar();
  Value state = loop.getRegionIterArgs()[0];
  Value out = loop.getRegionIterArgs()[1];
  Value xT = sliceStep(rewriter, loc, op.getX(), t);
  Value dtT = sliceStep(rewriter, loc, dt, t);
  Value bT = sliceStep(rewriter, loc, op.getBm(), t);
  Value cT = sliceStep(rewriter, loc, op.getCm(), t);
  state = updateState(state, dtT, bT, xT);
  out = writeOutput(state, cT, out, t);
  scf::YieldOp::create(rewriter, loc, ValueRange{state, out});
}

Value ScanBuilder::updateState(Value state, Value dtT, Value bT, Value xT) {
  AffineExpr b, c, n;
  bindDims(ctx, b, c, n);
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  // The update writes into the loop-carried state itself, so bufferization
  // updates one buffer in place (see Recurrence.cpp).
  return generic(
      {dtT, op.getA(), bT, xT}, state,
      {map3({b, c, zero}), map3({c, n}), map3({b, n, zero}), map3({b, c, zero}),
       id3},
      {kPar, kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange args) {
        Value delta = args[0];
        Value decay = math::ExpOp::create(
            nb, l, arith::MulFOp::create(nb, l, delta, args[1]));
        Value input = arith::MulFOp::create(
            nb, l, arith::MulFOp::create(nb, l, delta, toF32(nb, l, args[2])),
            toF32(nb, l, args[3]));
        Value kept = arith::MulFOp::create(nb, l, decay, args[4]);
        yield(nb, l, arith::AddFOp::create(nb, l, kept, input));
      });
}

Value ScanBuilder::writeOutput(Value state, Value cT, Value out, Value t) {
  AffineExpr b, c, n;
  bindDims(ctx, b, c, n);
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  // y[b,c,t] = Σ_n Cm[b,n,t] h[b,c,n]; loops (b, c, n), n reduced. It
  // accumulates directly in column t of the output (extract, fill, compute,
  // insert back) so that column is written in place.
  SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(0),
                                       rewriter.getIndexAttr(0), t};
  SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(B),
                                     rewriter.getIndexAttr(C),
                                     rewriter.getIndexAttr(1)};
  SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
  Value col = tensor::ExtractSliceOp::create(
      rewriter, loc, RankedTensorType::get({B, C, 1}, f32), out, offsets, sizes,
      strides);
  col = linalg::FillOp::create(rewriter, loc, cstF32(rewriter, loc, 0.0), col)
            .getResult(0);
  Value y = generic(
      {cT, state}, col, {map3({b, n, zero}), id3, map3({b, c, zero})},
      {kPar, kPar, kRed}, [](OpBuilder &nb, Location l, ValueRange args) {
        Value prod =
            arith::MulFOp::create(nb, l, toF32(nb, l, args[0]), args[1]);
        yield(nb, l, arith::AddFOp::create(nb, l, args[2], prod));
      });
  return tensor::InsertSliceOp::create(rewriter, loc, y, out, offsets, sizes,
                                       strides);
}

Value ScanBuilder::epilogue(Value y) {
  AffineExpr b, c, n;
  bindDims(ctx, b, c, n);
  Type storage = op.getY().getType().getElementType();
  Value d = op.getD(), z = op.getZ();
  if (!d && !z && storage.isF32())
    return y;
  SmallVector<Value> inputs = {y};
  SmallVector<AffineMap> maps = {id3};
  if (d) {
    inputs.append({d, op.getX()});
    maps.append({map3({c}), id3});
  }
  if (z) {
    inputs.push_back(z);
    maps.push_back(id3);
  }
  maps.push_back(id3);
  return generic(inputs, empty({B, C, T}, storage), maps, {kPar, kPar, kPar},
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value v = args[0];
                   unsigned next = 1;
                   if (d) {
                     Value skip = arith::MulFOp::create(
                         nb, l, args[next], toF32(nb, l, args[next + 1]));
                     v = arith::AddFOp::create(nb, l, v, skip);
                     next += 2;
                   }
                   if (z)
                     v = arith::MulFOp::create(
                         nb, l, v, buildSilu(nb, l, toF32(nb, l, args[next])));
                   yield(nb, l, fromF32(nb, l, v, storage));
                 });
}

struct LowerSelectiveScan : OpRewritePattern<SelectiveScanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelectiveScanOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasStaticShapes(op))
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs static shapes");

    ScanBuilder sb(rewriter, op);
    Location loc = op.getLoc();
    Value dt = sb.stepSizes();
    Value state0 = sb.initialState();
    // Every step writes its own column of the output, so it starts empty.
    Value out0 = sb.empty({sb.B, sb.C, sb.T}, sb.f32);

    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value ub = arith::ConstantIndexOp::create(rewriter, loc, sb.T);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(rewriter, loc, lb, ub, one,
                                   ValueRange{state0, out0});
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(loop.getBody());
      sb.step(loop, dt);
    }
    // Epilogue over [B,C,T]: the D skip and the z gate, then one narrowing
    // to the storage type.
    Value y = sb.epilogue(loop.getResult(1));
    rewriter.replaceOp(op, ValueRange{y, loop.getResult(0)});
    return success();
  }
};

struct LowerCausalConv1d : OpRewritePattern<CausalConv1dOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CausalConv1dOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasStaticShapes(op))
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs static shapes");

    ArrayRef<int64_t> xShape = op.getX().getType().getShape();
    const int64_t B = xShape[0], C = xShape[1], T = xShape[2],
                  K = op.getWeight().getType().getDimSize(1);
    Type storage = op.getX().getType().getElementType();
    const bool silu = op.getActivation() == ConvActivation::Silu;

    MLIRContext *ctx = rewriter.getContext();
    Location loc = op.getLoc();
    IREmitter rb(rewriter, loc);

    AffineExpr b, c, t, i;
    bindDims(ctx, b, c, t, i);
    AffineMap id3 = AffineMap::getMultiDimIdentityMap(3, ctx);

    // xs[b,c,j] = state[b,c,j] (or 0) for j < K-1, x[b,c,j-(K-1)] after, in
    // the storage type: new_state is read from it, so it holds the inputs
    // exactly. It is gathered elementwise (both reads clamped into bounds,
    // then a select) rather than assembled from slices: no strided view of a
    // buffer is ever copied.
    Value xs = op.getX();
    if (K > 1) {
      Value state = op.getState(), x = op.getX();
      xs = rb.generic(
          {}, rb.empty({B, C, K - 1 + T}, storage), {id3}, {kPar, kPar, kPar},
          [&](OpBuilder &nb, Location l, ValueRange) {
            auto cst = [&](int64_t v) -> Value {
              return arith::ConstantIndexOp::create(nb, l, v);
            };
            Value bi = linalg::IndexOp::create(nb, l, 0);
            Value ci = linalg::IndexOp::create(nb, l, 1);
            Value j = linalg::IndexOp::create(nb, l, 2);
            Value inX = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge,
                                              j, cst(K - 1));
            Value xj = arith::MaxSIOp::create(
                nb, l, arith::SubIOp::create(nb, l, j, cst(K - 1)), cst(0));
            Value fromX =
                tensor::ExtractOp::create(nb, l, x, ValueRange{bi, ci, xj});
            Value fromState =
                arith::ConstantOp::create(nb, l, nb.getFloatAttr(storage, 0.0));
            if (state) {
              Value sj = arith::MinSIOp::create(nb, l, j, cst(K - 2));
              fromState = tensor::ExtractOp::create(nb, l, state,
                                                    ValueRange{bi, ci, sj});
            }
            yield(nb, l, arith::SelectOp::create(nb, l, inX, fromX, fromState));
          });
    }

    // acc[b,c,t] = bias[c] (or 0) + Σ_i w[c,i] xs[b,c,t+i]; loops
    // (b, c, t, i), i reduced.
    Value acc;
    if (Value bias = op.getBias()) {
      acc =
          rb.generic({bias}, rb.empty({B, C, T}, rb.f32),
                     {AffineMap::get(3, 0, {c}, ctx), id3}, {kPar, kPar, kPar},
                     [](OpBuilder &nb, Location l, ValueRange args) {
                       yield(nb, l, toF32(nb, l, args[0]));
                     });
    } else {
      acc = rb.filled({B, C, T}, 0.0);
    }
    auto map4 = [&](ArrayRef<AffineExpr> results) {
      return AffineMap::get(4, 0, results, ctx);
    };
    acc =
        rb.generic({op.getWeight(), xs}, acc,
                   {map4({c, i}), map4({b, c, t + i}), map4({b, c, t})},
                   {kPar, kPar, kPar, kRed},
                   [](OpBuilder &nb, Location l, ValueRange args) {
                     Value prod = arith::MulFOp::create(
                         nb, l, toF32(nb, l, args[0]), toF32(nb, l, args[1]));
                     yield(nb, l, arith::AddFOp::create(nb, l, args[2], prod));
                   });

    // The activation and the narrowing in one pass.
    Value y = acc;
    if (silu || !storage.isF32())
      y = rb.generic({acc}, rb.empty({B, C, T}, storage), {id3, id3},
                     {kPar, kPar, kPar},
                     [&](OpBuilder &nb, Location l, ValueRange args) {
                       Value v = args[0];
                       if (silu)
                         v = buildSilu(nb, l, v);
                       yield(nb, l, fromF32(nb, l, v, storage));
                     });

    // new_state[b,c,j] = xs[b,c,T+j], the last K-1 inputs; empty for K = 1.
    Value newState = rb.empty({B, C, K - 1}, storage);
    if (K > 1)
      newState = rb.generic(
          {xs}, newState, {AffineMap::get(3, 0, {b, c, t + T}, ctx), id3},
          {kPar, kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange args) {
            yield(nb, l, args[0]);
          });
    rewriter.replaceOp(op, ValueRange{y, newState});
    return success();
  }
};

} // namespace

void kestrel::populateScanReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerSelectiveScan, LowerCausalConv1d>(patterns.getContext());
}
