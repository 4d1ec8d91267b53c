//===- SelectiveScan.cpp - Mamba selective scan with channels in lanes ----===//
//
// kestrel-cpu-selective-scan rewrites a static kestrel.selective_scan
// (docs/ops.md) into a loop nest that runs the channels in SIMD lanes and
// the channel blocks on threads:
//
//   xᵀ, Δᵀ, zᵀ [B, T, C]   (the [B, C, T] operands transposed, or the
//   Bmᵀ, Cmᵀ   [B, T, N]    sources of the transposes the recognizer put
//   Aᵀ         [N, C]       in front of them; Δᵀ with bias and softplus)
//   scf.forall (b, cb) in (B, ⌈C/16⌉) {kestrel.scan_lanes = 16}:
//     c = 16·cb + lane                        (masked past C)
//     h[n] = initial_state[b, c, n] or 0      n = 0..N-1, vector<16>
//     scf.for t:
//       u = Δᵀ[b,t,c] · xᵀ[b,t,c]
//       h[n] = exp(Δᵀ[b,t,c] · Aᵀ[n,c]) · h[n] + u · Bmᵀ[b,t,n]
//       y = Σ_n h[n] · Cmᵀ[b,t,n]  (+ D[c] · x) (· silu(z))
//       yᵀ[b, t, c] = y
//     final_state[b, c, n] = h[n]
//
// The state stays in registers over the whole sequence, every exponential is
// a vector one, and there is no horizontal reduction (the sum over n runs
// across registers). Up to kMaxRegisterState n, that is: beyond, h lives in
// an [N, 16] f32 buffer that an scf.for over n walks each step (unrolling
// N = 128 emitted 42k lines of LLVM IR, 6.5 s and 1.3 GB to compile). The result yᵀ [B, T, C] replaces the transposes back to
// time-second layout that read y; other users read y through a transpose.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/CPU/ChannelLanes.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace kestrel {
#define GEN_PASS_DEF_SELECTIVESCANCODEGEN
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

/// softplus(v) = v above this, as docs/ops.md and the Mamba kernels have it.
constexpr double kSoftplusThreshold = 20.0;

/// The most state rows (vector<16> each) a step unrolls in registers.
constexpr int64_t kMaxRegisterState = 32;

class ScanEmitter : public LaneEmitter {
public:
  ScanEmitter(OpBuilder &b, SelectiveScanOp op)
      : LaneEmitter(b, op.getLoc()), op(op) {
    setShape(op.getX());
    N = rt(op.getA()).getDimSize(1);
  }

  /// Emits the loop nest; returns (yᵀ [B, T, C], final_state).
  std::pair<Value, Value> emit();

private:
  Value stepSizes();
  void body(const Block &blk, ValueRange outs);
  /// Step t's update of state row n (decay rates `a`): returns the new row
  /// and adds its contribution to y.
  Value update(Value bi, Value t, Value n, Value a, Value h, Value delta,
               Value u, Value &y);
  /// y of step t from Σ_n h[n] · C[t, n]: the skip term and the gate.
  Value finish(Value y, Value x, Value dVec, Value bi, Value t, Value c0);
  /// The state loop-carried as an [N, 16] buffer (N > kMaxRegisterState):
  /// returns the final state buffer and the filled y slice.
  std::pair<Value, Value> sequenceInMemory(Value bi, Value c0, Value dVec,
                                           Value ySlice);
  Value row(Value buf, Value n) {
    return vector::TransferReadOp::create(b, loc, vecType, buf,
                                          ValueRange{n, idx(0)},
                                          cstF32(b, loc, 0.0),
                                          ArrayRef<bool>{true});
  }
  Value setRow(Value buf, Value n, Value v) {
    return vector::TransferWriteOp::create(b, loc, v, buf,
                                           ValueRange{n, idx(0)},
                                           ArrayRef<bool>{true})
        .getResult();
  }

  SelectiveScanOp op;
  int64_t N;
  Value xT, dtT, zT, bT, cT, aT;
};

/// Δᵀ [B, T, C]: the transposed operand, or (with a bias or softplus) an f32
/// tensor with both applied once per element.
Value ScanEmitter::stepSizes() {
  Value dt = swapped(op.getDelta());
  Value bias = op.getDeltaBias();
  const bool softplus = op.getDeltaSoftplus();
  if (!bias && !softplus)
    return dt;
  AffineExpr b0, t0, c0;
  bindDims(ctx, b0, t0, c0);
  SmallVector<Value> ins = {dt};
  SmallVector<AffineMap> maps = {map(3, {b0, t0, c0})};
  if (bias) {
    ins.push_back(bias);
    maps.push_back(map(3, {c0}));
  }
  maps.push_back(map(3, {b0, t0, c0}));
  return generic(ins, empty({B, T, C}, f32), maps, {kPar, kPar, kPar},
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value v = toF32(nb, l, args[0]);
                   if (bias)
                     v = arith::AddFOp::create(nb, l, v, args[1]);
                   if (softplus) {
                     Value th = cstF32(nb, l, kSoftplusThreshold);
                     Value smooth = math::Log1pOp::create(
                         nb, l,
                         math::ExpOp::create(
                             nb, l, arith::MinimumFOp::create(nb, l, v, th)));
                     Value large = arith::CmpFOp::create(
                         nb, l, arith::CmpFPredicate::OGT, v, th);
                     v = arith::SelectOp::create(nb, l, large, v, smooth);
                   }
                   yield(nb, l, v);
                 });
}

std::pair<Value, Value> ScanEmitter::emit() {
  xT = swapped(op.getX());
  dtT = stepSizes();
  bT = swapped(op.getBm());
  cT = swapped(op.getCm());
  if (op.getZ())
    zT = swapped(op.getZ());
  // Aᵀ [N, C]: the decay rates of one n for 16 channels are contiguous.
  aT = transposed2d(op.getA());
  Value yInit = empty({B, T, C}, storage);
  Value hInit = empty({B, C, N}, f32);
  auto forall = forallBlocks(ValueRange{yInit, hInit}, "kestrel.scan_lanes",
                             [&](const Block &blk, ValueRange outs) {
                               body(blk, outs);
                             });
  return {forall.getResult(0), forall.getResult(1)};
}

/// One (batch row, 16-channel block): the whole sequence with the state in
/// registers (or, for large N, in a buffer).
void ScanEmitter::body(const Block &blk, ValueRange outs) {
  Value bi = blk.bi, c0 = blk.c0;
  Part yPart = timePart(blk), hPart = statePart(blk, N);
  Value ySlice = extract(outs[0], yPart);
  Value hSlice = extract(outs[1], hPart);
  Value zero = idx(0);
  Value dVec = op.getD() ? readF32(op.getD(), {c0}, 0) : Value();
  if (N > kMaxRegisterState) {
    auto [stateBuf, y] = sequenceInMemory(bi, c0, dVec, ySlice);
    Value state = stateBuf; // captured below (a binding cannot be in C++17)
    ySlice = y;
    hSlice = forLoop(0, N, ValueRange{hSlice},
                     [&](OpBuilder &, Location, Value n, ValueRange it) {
                       Value dest = it[0];
                       write(row(state, n), dest, {zero, zero, n}, 1);
                       scfYield(b, loc, dest);
                     })
                 .getResult(0);
  } else {
    SmallVector<Value> a, h;
    for (int64_t n = 0; n < N; ++n) {
      a.push_back(readF32(aT, {idx(n), c0}, 1));
      h.push_back(op.getInitialState()
                      ? readF32(op.getInitialState(), {bi, c0, idx(n)}, 1)
                      : zeros());
    }
    SmallVector<Value> inits(h);
    inits.push_back(ySlice);
    auto loop = forLoop(
        0, T, inits, [&](OpBuilder &, Location, Value t, ValueRange it) {
          Value delta = readF32(dtT, {bi, t, c0}, 2);
          Value x = readF32(xT, {bi, t, c0}, 2);
          Value u = fmul(delta, x);
          Value y = zeros();
          SmallVector<Value> next;
          for (int64_t n = 0; n < N; ++n)
            next.push_back(update(bi, t, idx(n), a[n], it[n], delta, u, y));
          Value out = it[N];
          write(finish(y, x, dVec, bi, t, c0), out, {zero, t, zero}, 2);
          next.push_back(out);
          scfYield(b, loc, next);
        });
    ySlice = loop.getResult(N);
    for (int64_t n = 0; n < N; ++n)
      write(loop.getResult(n), hSlice, {zero, zero, idx(n)}, 1);
  }

  auto inParallel = scf::InParallelOp::create(b, loc);
  insertInParallel(inParallel, ySlice, outs[0], yPart);
  insertInParallel(inParallel, hSlice, outs[1], hPart);
}

Value ScanEmitter::update(Value bi, Value t, Value n, Value a, Value h,
                          Value delta, Value u, Value &y) {
  auto scalar = [&](Value src) {
    Value s = tensor::ExtractOp::create(b, loc, src, ValueRange{bi, t, n});
    return splat(toF32(b, loc, s));
  };
  Value decay = math::ExpOp::create(b, loc, fmul(delta, a));
  Value hn = vector::FMAOp::create(b, loc, decay, h, fmul(u, scalar(bT)));
  y = vector::FMAOp::create(b, loc, hn, scalar(cT), y);
  return hn;
}

Value ScanEmitter::finish(Value y, Value x, Value dVec, Value bi, Value t,
                          Value c0) {
  if (dVec)
    y = vector::FMAOp::create(b, loc, dVec, x, y);
  if (zT)
    y = fmul(y, silu(readF32(zT, {bi, t, c0}, 2)));
  return y;
}

std::pair<Value, Value> ScanEmitter::sequenceInMemory(Value bi, Value c0,
                                                      Value dVec,
                                                      Value ySlice) {
  Value zero = idx(0);
  Value state =
      forLoop(0, N, ValueRange{empty({N, kLanes}, f32)},
              [&](OpBuilder &, Location, Value n, ValueRange it) {
                Value h0 = op.getInitialState()
                               ? readF32(op.getInitialState(), {bi, c0, n}, 1)
                               : zeros();
                scfYield(b, loc, setRow(it[0], n, h0));
              })
          .getResult(0);
  auto loop = forLoop(
      0, T, ValueRange{state, ySlice},
      [&](OpBuilder &, Location, Value t, ValueRange it) {
        Value delta = readF32(dtT, {bi, t, c0}, 2);
        Value x = readF32(xT, {bi, t, c0}, 2);
        Value u = fmul(delta, x);
        auto rows = forLoop(
            0, N, ValueRange{it[0], zeros()},
            [&](OpBuilder &, Location, Value n, ValueRange s) {
              Value y = s[1];
              Value hn = update(bi, t, n, readF32(aT, {n, c0}, 1), row(s[0], n),
                                delta, u, y);
              scfYield(b, loc, ValueRange{setRow(s[0], n, hn), y});
            });
        Value out = it[1];
        write(finish(rows.getResult(1), x, dVec, bi, t, c0), out,
              {zero, t, zero}, 2);
        scfYield(b, loc, ValueRange{rows.getResult(0), out});
      });
  return {loop.getResult(0), loop.getResult(1)};
}

/// Whether the fast path covers `op`: static shapes (f32, f16 or bf16
/// activations as the op allows).
bool supported(SelectiveScanOp op) {
  return llvm::all_of(op->getOperandTypes(),
                      [](Type t) {
                        return cast<RankedTensorType>(t).hasStaticShape();
                      }) &&
         llvm::all_of(op->getResultTypes(), [](Type t) {
           return cast<RankedTensorType>(t).hasStaticShape();
         });
}

void rewrite(SelectiveScanOp op) {
  OpBuilder b(op);
  ScanEmitter e(b, op);
  auto [yT, state] = e.emit();
  replaceTimeSecond(e, op.getY(), yT);
  op.getFinalState().replaceAllUsesWith(state);
  op.erase();
}

struct SelectiveScanCodegenPass
    : kestrel::impl::SelectiveScanCodegenBase<SelectiveScanCodegenPass> {
  void runOnOperation() override {
    SmallVector<SelectiveScanOp> ops;
    getOperation().walk([&](SelectiveScanOp op) {
      if (supported(op))
        ops.push_back(op);
    });
    for (SelectiveScanOp op : ops)
      rewrite(op);
  }
};

} // namespace
