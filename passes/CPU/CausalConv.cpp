//===- CausalConv.cpp - Causal depthwise conv1d with channels in lanes ----===//
//
// kestrel-cpu-causal-conv rewrites a static kestrel.causal_conv1d
// (docs/ops.md) into a loop nest over time-second data, 16 channels per
// vector and the channel blocks on threads:
//
//   xᵀ [B, T, C]   (the source of the transpose kestrel-recognize put in
//                   front of x, or a new transposing copy)
//   wᵀ [K, C]
//   scf.forall (b, cb) in (B, ⌈C/16⌉) {kestrel.conv_lanes = 16}:
//     c = 16·cb + lane                         (masked past C)
//     win[j] = state[b, c, j] or 0             j < K-1: the last K-1 inputs
//     scf.for t:
//       x = xᵀ[b, t, c]
//       y = bias[c] + Σ_{j<K-1} wᵀ[j, c] · win[j] + wᵀ[K-1, c] · x
//       yᵀ[b, t, c] = act(y)
//       win = (win[1..K-2], x)
//     new_state[b, c, j] = win[j]
//
// The K-1 previous inputs ride along in registers, so each input is read
// once. Transposes that bring y back to [B, T, C] read yᵀ directly.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/CPU/ChannelLanes.h"
#include "passes/Passes.h"

namespace kestrel {
#define GEN_PASS_DEF_CAUSALCONVCODEGEN
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

class ConvEmitter : public LaneEmitter {
public:
  ConvEmitter(OpBuilder &b, CausalConv1dOp op)
      : LaneEmitter(b, op.getLoc()), op(op) {
    setShape(op.getX());
    K = rt(op.getWeight()).getDimSize(1);
  }

  /// Emits the loop nest; returns (yᵀ [B, T, C], new_state).
  std::pair<Value, Value> emit();

private:
  void body(const Block &blk, ValueRange outs);

  CausalConv1dOp op;
  int64_t K;
  Value xT, wT;
};

std::pair<Value, Value> ConvEmitter::emit() {
  xT = swapped(op.getX());
  wT = transposed2d(op.getWeight());
  SmallVector<Value> inits = {empty({B, T, C}, storage)};
  if (K > 1)
    inits.push_back(empty({B, C, K - 1}, storage));
  auto forall = forallBlocks(inits, "kestrel.conv_lanes",
                             [&](const Block &blk, ValueRange outs) {
                               body(blk, outs);
                             });
  // K = 1 keeps no inputs: the state is empty.
  Value state = K > 1 ? forall.getResult(1) : empty({B, C, 0}, storage);
  return {forall.getResult(0), state};
}

/// One (batch row, 16-channel block) over the whole sequence.
void ConvEmitter::body(const Block &blk, ValueRange outs) {
  Value bi = blk.bi, c0 = blk.c0;
  Part yPart = timePart(blk), sPart = statePart(blk, K - 1);
  Value ySlice = extract(outs[0], yPart);
  Value zero = idx(0);

  SmallVector<Value> w, win;
  for (int64_t k = 0; k < K; ++k)
    w.push_back(readF32(wT, {idx(k), c0}, 1));
  for (int64_t j = 0; j + 1 < K; ++j)
    win.push_back(op.getState() ? readF32(op.getState(), {bi, c0, idx(j)}, 1)
                                : zeros());
  Value bias = op.getBias() ? readF32(op.getBias(), {c0}, 0) : zeros();
  const bool silu = op.getActivation() == ConvActivation::Silu;

  SmallVector<Value> inits(win);
  inits.push_back(ySlice);
  auto loop =
      forLoop(0, T, inits, [&](OpBuilder &, Location, Value t, ValueRange it) {
        Value x = readF32(xT, {bi, t, c0}, 2);
        Value y = bias;
        for (int64_t j = 0; j + 1 < K; ++j)
          y = vector::FMAOp::create(b, loc, w[j], it[j], y);
        y = vector::FMAOp::create(b, loc, w[K - 1], x, y);
        if (silu)
          y = LaneEmitter::silu(y);
        Value out = it[K - 1];
        write(y, out, {zero, t, zero}, 2);
        SmallVector<Value> next;
        for (int64_t j = 1; j + 1 < K; ++j)
          next.push_back(it[j]);
        if (K > 1)
          next.push_back(x);
        next.push_back(out);
        scfYield(b, loc, next);
      });
  ySlice = loop.getResult(K - 1);

  Value sSlice;
  if (K > 1) {
    sSlice = extract(outs[1], sPart);
    for (int64_t j = 0; j + 1 < K; ++j)
      write(loop.getResult(j), sSlice, {zero, zero, idx(j)}, 1);
  }
  // In the order of the shared outputs: scf.forall's folding of a single
  // iteration takes the terminator's inserts in that order.
  auto inParallel = scf::InParallelOp::create(b, loc);
  insertInParallel(inParallel, ySlice, outs[0], yPart);
  if (sSlice)
    insertInParallel(inParallel, sSlice, outs[1], sPart);
}

bool isStatic(Type t) { return cast<RankedTensorType>(t).hasStaticShape(); }

struct CausalConvCodegenPass
    : kestrel::impl::CausalConvCodegenBase<CausalConvCodegenPass> {
  void runOnOperation() override {
    SmallVector<CausalConv1dOp> ops;
    getOperation().walk([&](CausalConv1dOp op) {
      if (llvm::all_of(op->getOperandTypes(), isStatic) &&
          llvm::all_of(op->getResultTypes(), isStatic))
        ops.push_back(op);
    });
    for (CausalConv1dOp op : ops) {
      OpBuilder b(op);
      ConvEmitter e(b, op);
      auto [yT, state] = e.emit();
      replaceTimeSecond(e, op.getY(), yT);
      op.getNewState().replaceAllUsesWith(state);
      op.erase();
    }
  }
};

} // namespace
