//===- RouteKernel.cpp - kestrel.route as one warp-per-token kernel ------===//
//
// kestrel-gpu-route rewrites each token-choice `kestrel.route` with static
// shapes, E <= 256, no group limit and no capacity (docs/ops.md §3) into one
// gpu.launch: a warp per token, 4 tokens per block of 128 threads. Lane l
// holds experts l, l + 32, ... in registers:
//
//   scores   f32 logits -> softmax (warp-shuffle max and sum) or sigmoid;
//   keys     u = s + selection_bias[e] (the bias steers the choice only);
//   top-k    k rounds of a warp argmax over the experts not yet taken
//            (larger key first, equal keys to the lower expert), carrying
//            the winner's unbiased score;
//   weights  renormalized by their sum when `renormalize`;
//   lane 0 stores the k indices and weights of the token.
//
// Group-limited
// routing, capacity and expert choice keep the reference lowering's kernels.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

namespace kestrel {
#define GEN_PASS_DEF_GPUROUTE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

constexpr int64_t kTokensPerBlock = 4;

struct RouteEmitter {
  OpBuilder &b;
  Location loc;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value toF32(Value v) {
    return v.getType().isF32()
               ? v
               : arith::ExtFOp::create(b, loc, b.getF32Type(), v).getResult();
  }
  Value shuffle(Value v, int64_t offset) {
    return gpu::ShuffleOp::create(b, loc, v, i32(offset), i32(32),
                                  gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  /// Warp-wide max or sum of a float.
  Value reduce(Value v, bool max) {
    for (int64_t off = 16; off >= 1; off /= 2) {
      Value o = shuffle(v, off);
      v = max ? arith::MaximumFOp::create(b, loc, v, o).getResult()
              : arith::AddFOp::create(b, loc, v, o).getResult();
    }
    return v;
  }
  /// (key, expert, score) beats (key2, expert2): larger key, equal keys to
  /// the lower expert.
  Value beats(Value key, Value e, Value key2, Value e2) {
    Value gt = cmpf(arith::CmpFPredicate::OGT, key, key2);
    Value eq = cmpf(arith::CmpFPredicate::OEQ, key, key2);
    Value lower = cmpi(arith::CmpIPredicate::slt, e, e2);
    return arith::OrIOp::create(b, loc, gt,
                                arith::AndIOp::create(b, loc, eq, lower));
  }
};

struct GpuRoutePass : kestrel::impl::GpuRouteBase<GpuRoutePass> {
  void runOnOperation() override {
    SmallVector<RouteOp> ops;
    getOperation().walk([&](RouteOp op) {
      auto logits = cast<RankedTensorType>(op.getLogits().getType());
      if (!op.isExpertChoice() && !op.getNGroups() && !op.getCapacityFactor() &&
          logits.hasStaticShape() && op.getNumExperts() <= 256 &&
          op.getK() >= 1 && (int64_t)op.getK() <= op.getNumExperts() &&
          op.getNumTokens() > 0)
        ops.push_back(op);
    });
    for (RouteOp op : ops)
      rewrite(op);
  }

  void rewrite(RouteOp op);
};

void GpuRoutePass::rewrite(RouteOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  RouteEmitter e{b, loc};
  const int64_t N = op.getNumTokens(), E = op.getNumExperts(), k = op.getK();
  const int64_t perLane = llvm::divideCeil(E, 32);
  auto toBuffer = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  };
  Value logits = toBuffer(op.getLogits());
  Value bias =
      op.getSelectionBias() ? toBuffer(op.getSelectionBias()) : Value();
  auto idxType = cast<RankedTensorType>(op.getIndices().getType());
  auto wType = cast<RankedTensorType>(op.getWeights().getType());
  Value indices = memref::AllocOp::create(
      b, loc, MemRefType::get(idxType.getShape(), idxType.getElementType()));
  Value weights = memref::AllocOp::create(
      b, loc, MemRefType::get(wType.getShape(), wType.getElementType()));
  Value smem = e.i32(0);
  auto launch =
      gpu::LaunchOp::create(b, loc, e.idx(llvm::divideCeil(N, kTokensPerBlock)),
                            e.idx(1), e.idx(1), e.idx(32 * kTokensPerBlock),
                            e.idx(1), e.idx(1), smem, nullptr, ValueRange{});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value tid = launch.getThreadIds().x;
    Value lane = arith::RemUIOp::create(b, loc, tid, e.idx(32));
    Value token = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, launch.getBlockIds().x,
                              e.idx(kTokensPerBlock)),
        arith::DivUIOp::create(b, loc, tid, e.idx(32)));
    auto inToken = scf::IfOp::create(
        b, loc, e.cmpi(arith::CmpIPredicate::ult, token, e.idx(N)), false);
    b.setInsertionPointToStart(&inToken.getThenRegion().front());
    Value negInf = e.f32(-std::numeric_limits<float>::infinity());
    // This lane's experts: index (i32), in range, logit (f32).
    SmallVector<Value> expert, valid, x;
    for (int64_t v = 0; v < perLane; ++v) {
      Value ex = arith::AddIOp::create(b, loc, lane, e.idx(32 * v));
      Value ok = e.cmpi(arith::CmpIPredicate::ult, ex, e.idx(E));
      Value at = arith::MinUIOp::create(b, loc, ex, e.idx(E - 1));
      Value l = e.toF32(
          memref::LoadOp::create(b, loc, logits, ValueRange{token, at}));
      expert.push_back(arith::IndexCastOp::create(b, loc, b.getI32Type(), ex));
      valid.push_back(ok);
      x.push_back(e.select(ok, l, negInf));
    }
    // Scores.
    SmallVector<Value> s(perLane);
    if (op.getScore() == ScoreFunction::Softmax) {
      Value m = x[0];
      for (int64_t v = 1; v < perLane; ++v)
        m = arith::MaximumFOp::create(b, loc, m, x[v]);
      m = e.reduce(m, /*max=*/true);
      Value sum = e.f32(0);
      for (int64_t v = 0; v < perLane; ++v) {
        s[v] =
            math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, x[v], m));
        s[v] = e.select(valid[v], s[v], e.f32(0));
        sum = arith::AddFOp::create(b, loc, sum, s[v]);
      }
      sum = e.reduce(sum, /*max=*/false);
      for (int64_t v = 0; v < perLane; ++v)
        s[v] = arith::DivFOp::create(b, loc, s[v], sum);
    } else {
      for (int64_t v = 0; v < perLane; ++v) {
        Value den = arith::AddFOp::create(
            b, loc, e.f32(1),
            math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x[v])));
        s[v] = arith::DivFOp::create(b, loc, e.f32(1), den);
      }
    }
    // Selection keys; experts past E never win.
    SmallVector<Value> key(perLane);
    for (int64_t v = 0; v < perLane; ++v) {
      key[v] = s[v];
      if (bias) {
        Value at =
            arith::IndexCastOp::create(b, loc, b.getIndexType(), expert[v]);
        at = arith::MinUIOp::create(b, loc, at, e.idx(E - 1));
        key[v] = arith::AddFOp::create(
            b, loc, key[v],
            e.toF32(memref::LoadOp::create(b, loc, bias, ValueRange{at})));
      }
    }
    Value none = e.i32(std::numeric_limits<int32_t>::max());
    SmallVector<Value> taken(perLane);
    for (int64_t v = 0; v < perLane; ++v)
      taken[v] = arith::XOrIOp::create(
          b, loc, valid[v],
          arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
    SmallVector<Value> chosen, score;
    for (int64_t j = 0; j < k; ++j) {
      Value bestKey = negInf, bestE = none, bestS = e.f32(0);
      for (int64_t v = 0; v < perLane; ++v) {
        Value better = arith::AndIOp::create(
            b, loc,
            arith::XOrIOp::create(
                b, loc, taken[v],
                arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)),
            e.beats(key[v], expert[v], bestKey, bestE));
        bestKey = e.select(better, key[v], bestKey);
        bestE = e.select(better, expert[v], bestE);
        bestS = e.select(better, s[v], bestS);
      }
      for (int64_t off = 16; off >= 1; off /= 2) {
        Value oKey = e.shuffle(bestKey, off), oE = e.shuffle(bestE, off),
              oS = e.shuffle(bestS, off);
        Value other = e.beats(oKey, oE, bestKey, bestE);
        bestKey = e.select(other, oKey, bestKey);
        bestE = e.select(other, oE, bestE);
        bestS = e.select(other, oS, bestS);
      }
      for (int64_t v = 0; v < perLane; ++v)
        taken[v] = arith::OrIOp::create(
            b, loc, taken[v],
            e.cmpi(arith::CmpIPredicate::eq, expert[v], bestE));
      chosen.push_back(bestE);
      score.push_back(bestS);
    }
    if (op.getRenormalize()) {
      Value sum = score[0];
      for (int64_t j = 1; j < k; ++j)
        sum = arith::AddFOp::create(b, loc, sum, score[j]);
      for (Value &w : score)
        w = arith::DivFOp::create(b, loc, w, sum);
    }
    auto lane0 = scf::IfOp::create(
        b, loc, e.cmpi(arith::CmpIPredicate::eq, lane, e.idx(0)), false);
    b.setInsertionPointToStart(&lane0.getThenRegion().front());
    Type it = idxType.getElementType(), wt = wType.getElementType();
    for (int64_t j = 0; j < k; ++j) {
      Value i = chosen[j];
      if (!it.isInteger(32))
        i = arith::ExtSIOp::create(b, loc, it, i);
      Value w = score[j];
      if (!wt.isF32())
        w = arith::TruncFOp::create(b, loc, wt, w);
      memref::StoreOp::create(b, loc, i, indices, ValueRange{token, e.idx(j)});
      memref::StoreOp::create(b, loc, w, weights, ValueRange{token, e.idx(j)});
    }
    b.setInsertionPointToEnd(&launch.getBody().front());
    gpu::TerminatorOp::create(b, loc);
  }
  auto asTensor = [&](Value m, RankedTensorType t) -> Value {
    return bufferization::ToTensorOp::create(b, loc, t, m, /*restrict=*/true,
                                             /*writable=*/true);
  };
  op.getIndices().replaceAllUsesWith(asTensor(indices, idxType));
  op.getWeights().replaceAllUsesWith(asTensor(weights, wType));
  op.erase();
}

} // namespace
