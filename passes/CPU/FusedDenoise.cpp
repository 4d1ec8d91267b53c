//===- FusedDenoise.cpp - denoise_step reading the logits once ------------===//
//
// The greedy kestrel.denoise_step of docs/ops.md §4 with the logits read
// in one pass (kestrel-fuse-io-aware applies these patterns). For every
// position (an scf.forall over (b, p), so positions run on threads), W
// vector lanes each keep an online (max m, Σ e^(l − m), first argmax) over
// the vocabulary entries v ≡ lane (mod W):
//
//   x > m:  s = s · e^(m − x) + 1,  m = x,  idx = v
//   else:   s = s + e^(x − m)
//   (one exponential per entry: e^(−|x − m|); 0 when x = m = −inf)
//
// then the lanes are combined: M = max m, x̂ = the smallest idx among the
// lanes with m = M (the first maximum, as the reference), and
// Σ_v e^(l − M) = Σ_lanes s · e^(m − M). W is the op's vocabulary block
// `kestrel.tile = #kestrel.vocab_block<W>` (kestrel-tile), else 16; the
// forall records the W it used the same way. A last, partial group of W
// entries is read with −inf padding. The selection stage (confidence,
// rank, policy, new tokens) is the reference lowering's
// (replaceDenoiseStepWithSelection). Temperature sampling keeps the
// reference two-pass form.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Common/DenoiseLowering.h"
#include "passes/Common/IRBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace kestrel;

namespace {

/// Vector lanes per position without a kestrel.tile (two AVX2 vectors of
/// f32).
constexpr int64_t kLanes = 16;

struct FuseDenoiseStep : OpRewritePattern<DenoiseStepOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DenoiseStepOp op,
                                PatternRewriter &rw) const override {
    if (op.getTemperature())
      return rw.notifyMatchFailure(op, "sampling keeps the two-pass form");
    auto logitsType = op.getLogits().getType();
    if (!logitsType.hasStaticShape() ||
        !cast<RankedTensorType>(op.getTokens().getType()).hasStaticShape())
      return rw.notifyMatchFailure(op, "dynamic shapes");

    Location loc = op.getLoc();
    const int64_t B = logitsType.getDimSize(0), L = logitsType.getDimSize(1),
                  V = logitsType.getDimSize(2);
    Type storage = logitsType.getElementType();
    Type f32 = rw.getF32Type(), i64 = rw.getI64Type();
    // The vocabulary block chosen by kestrel-tile, else 16.
    int64_t W = kLanes;
    if (auto tile = op->getAttrOfType<VocabBlockAttr>(decision::kTile))
      W = tile.getEntries();
    const int64_t full = V / W * W;
    auto vf = VectorType::get({W}, f32);
    auto vi = VectorType::get({W}, i64);
    auto vs = VectorType::get({W}, storage);
    const double negInf = -std::numeric_limits<double>::infinity();

    SmallVector<Value> outs = {
        tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{B, L}, i64),
        tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{B, L}, f32)};
    auto forall = scf::ForallOp::create(
        rw, loc, ArrayRef<OpFoldResult>{rw.getIndexAttr(B), rw.getIndexAttr(L)},
        outs, std::nullopt, [&](OpBuilder &b, Location l, ValueRange args) {
          Value bi = args[0], pi = args[1];
          auto splatF = [&](OpBuilder &nb, double v) -> Value {
            return arith::ConstantOp::create(
                nb, l, DenseElementsAttr::get(vf, nb.getF32FloatAttr(v)));
          };
          SmallVector<int64_t> lanes;
          for (int64_t i = 0; i < W; ++i)
            lanes.push_back(i);
          Value iota = arith::ConstantOp::create(
              b, l, DenseElementsAttr::get(vi, ArrayRef<int64_t>(lanes)));

          // One online step on W entries starting at v0.
          auto step = [&](OpBuilder &nb, Value v0, bool inBounds,
                          ValueRange st) -> SmallVector<Value> {
            Value pad = arith::ConstantOp::create(
                nb, l, nb.getFloatAttr(storage, negInf));
            Value x = vector::TransferReadOp::create(
                nb, l, vs, op.getLogits(), ValueRange{bi, pi, v0}, pad,
                ArrayRef<bool>{inBounds});
            if (!storage.isF32())
              x = arith::ExtFOp::create(nb, l, vf, x);
            Value m = st[0], s = st[1], idx = st[2];
            Value gt =
                arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, x, m);
            Value d = arith::SubFOp::create(nb, l, x, m);
            Value e = math::ExpOp::create(
                nb, l,
                arith::NegFOp::create(nb, l, math::AbsFOp::create(nb, l, d)));
            // x = m = -inf (d is NaN): the entry adds nothing yet.
            Value nan =
                arith::CmpFOp::create(nb, l, arith::CmpFPredicate::UNO, d, d);
            e = arith::SelectOp::create(nb, l, nan, splatF(nb, 0.0), e);
            Value rescaled =
                vector::FMAOp::create(nb, l, s, e, splatF(nb, 1.0));
            Value added = arith::AddFOp::create(nb, l, s, e);
            Value pos = arith::AddIOp::create(
                nb, l,
                vector::BroadcastOp::create(
                    nb, l, vi, arith::IndexCastOp::create(nb, l, i64, v0)),
                iota);
            return {arith::SelectOp::create(nb, l, gt, x, m),
                    arith::SelectOp::create(nb, l, gt, rescaled, added),
                    arith::SelectOp::create(nb, l, gt, pos, idx)};
          };

          SmallVector<Value> state = {
              splatF(b, negInf), splatF(b, 0.0),
              arith::ConstantOp::create(
                  b, l, DenseElementsAttr::get(vi, b.getI64IntegerAttr(0)))};
          auto loop = scf::ForOp::create(
              b, l, arith::ConstantIndexOp::create(b, l, 0),
              arith::ConstantIndexOp::create(b, l, full),
              arith::ConstantIndexOp::create(b, l, W), state,
              [&](OpBuilder &nb, Location, Value v0, ValueRange st) {
                scf::YieldOp::create(nb, l, step(nb, v0, true, st));
              });
          loop->setAttr(decision::kDenoiseOnePass, b.getUnitAttr());
          state.assign(loop.getResults().begin(), loop.getResults().end());
          if (V % W)
            state = step(b, arith::ConstantIndexOp::create(b, l, full),
                         /*inBounds=*/false, state);

          // Combine the lanes.
          Value m = state[0], s = state[1], idx = state[2];
          Value top = vector::ReductionOp::create(
              b, l, vector::CombiningKind::MAXIMUMF, m);
          Value topV = vector::BroadcastOp::create(b, l, vf, top);
          Value atTop =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, m, topV);
          Value none = arith::ConstantOp::create(
              b, l, DenseElementsAttr::get(vi, b.getI64IntegerAttr(V)));
          Value first = vector::ReductionOp::create(
              b, l, vector::CombiningKind::MINSI,
              arith::SelectOp::create(b, l, atTop, idx, none));
          // (Lanes that never rose above -inf kept idx = 0, so all -inf
          // gives x̂ = 0 as the reference; a NaN maximum matches no lane
          // and is clamped into range.)
          first = arith::MinSIOp::create(
              b, l, first,
              arith::ConstantOp::create(b, l, b.getI64IntegerAttr(V - 1)));
          Value scale =
              math::ExpOp::create(b, l, arith::SubFOp::create(b, l, m, topV));
          Value sum = vector::ReductionOp::create(
              b, l, vector::CombiningKind::ADD,
              arith::MulFOp::create(b, l, s, scale));

          OpFoldResult one = b.getIndexAttr(1);
          SmallVector<OpFoldResult> offsets = {bi, pi}, sizes = {one, one},
                                    strides = {one, one};
          auto cell = [&](Value v, Type t) {
            return tensor::FromElementsOp::create(
                b, l, RankedTensorType::get({1, 1}, t), ValueRange{v});
          };
          Value argCell = cell(first, i64), sumCell = cell(sum, f32);
          auto inParallel = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(&inParallel.getRegion().front());
          tensor::ParallelInsertSliceOp::create(b, l, argCell, args[2], offsets,
                                                sizes, strides);
          tensor::ParallelInsertSliceOp::create(b, l, sumCell, args[3], offsets,
                                                sizes, strides);
        });
    forall->setAttr(decision::kTile, VocabBlockAttr::get(rw.getContext(), W));
    replaceDenoiseStepWithSelection(rw, op, forall.getResult(0),
                                    forall.getResult(1), Value(), Value());
    return success();
  }
};

} // namespace

void kestrel::populateFusedDenoisePatterns(RewritePatternSet &patterns) {
  patterns.add<FuseDenoiseStep>(patterns.getContext());
}
