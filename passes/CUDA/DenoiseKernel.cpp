//===- DenoiseKernel.cpp - denoise_step as two CUDA kernels ---------------===//
//
// kestrel-gpu-denoise rewrites kestrel.denoise_step (docs/ops.md §4, the
// diffusion-LLM unmasking step) into two gpu.launch ops:
//
//   stats:  grid = B · L, block = 256 threads. Block (b, p) reads the
//           logits row of a masked position once, with 16-byte vector
//           loads when V allows. Each thread keeps an online
//             (max m, s = Σ e^(l − m), first argmax)
//           over the entries it reads (x > m: s = s · e^(m − x) + 1, m = x;
//           else s += e^(x − m)), and with temperature sampling also the
//           largest noisy score (f64 Gumbel-max, the reference's hash) and
//           its index. A tree reduction in shared memory combines the
//           threads (ties go to the smaller index: the first maximum).
//           Thread 0 writes x̂ and the confidence, 1 / s (greedy) or
//           e^(l[x̂] − m) / s (sampled). Unmasked positions read no logits:
//           their confidence is 0.
//   select: grid = B, block = up to 1024 threads. The confidences of a
//           row's eligible positions are staged in shared memory (NaN for
//           the others, which then never compare higher or equal); each
//           thread ranks its positions p by counting the q that beat them
//           (c_q > c_p, or c_q = c_p and q < p), applies the policy
//           (top_k = n: rank < n; threshold = τ: c > τ or rank = 0) and
//           writes the new tokens.
//
// Both launches carry `kestrel.denoise_kernel = "stats" | "select"`, the
// stats one also its vector width, `kestrel.vector = w`. Ops with dynamic
// shapes, V ≥ 2^31 or rows longer than the shared-memory stage (12288
// positions) are left to the reference lowering.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/Kestrel.h"
#include "passes/CUDA/KVCacheAddressing.h"
#include "passes/Common/DenoiseLowering.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace kestrel {
#define GEN_PASS_DEF_GPUDENOISE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;
using kestrel::cuda::launch;
using kestrel::cuda::toBuffer;

namespace {

constexpr int64_t kStatsThreads = 256;
constexpr int64_t kSelectThreads = 1024;
/// Positions of one row staged in shared memory by the select kernel
/// (f32 each, 48 KiB).
constexpr int64_t kMaxSelectRow = 12288;

/// Why `op` keeps the reference lowering, or an empty string.
std::string unsupported(DenoiseStepOp op) {
  RankedTensorType logits = op.getLogits().getType();
  if (!logits.hasStaticShape() || !op.getTokens().getType().hasStaticShape())
    return "dynamic shapes";
  if (logits.getDimSize(2) >= (int64_t(1) << 31))
    return "a vocabulary of 2^31 entries or more";
  if (logits.getDimSize(1) > kMaxSelectRow)
    return "rows longer than the shared-memory stage";
  return "";
}

/// The per-thread state of the stats kernel and its combination.
struct RowState {
  Value max, sum, arg;   // f32, f32, i64
  Value noisy, noisyArg; // f64, i64 (sampling only)

  SmallVector<Value> values() const {
    SmallVector<Value> v = {max, sum, arg};
    if (noisy)
      v.append({noisy, noisyArg});
    return v;
  }
  static RowState from(ValueRange v) {
    RowState s{v[0], v[1], v[2], Value(), Value()};
    if (v.size() > 3) {
      s.noisy = v[3];
      s.noisyArg = v[4];
    }
    return s;
  }
};

struct DenoiseEmitter : IREmitter {
  DenoiseEmitter(OpBuilder &b, Location loc, DenoiseStepOp op)
      : IREmitter(b, loc), op(op), shape(op.getLogits().getType().getShape()),
        elem(op.getLogits().getType().getElementType()), i64(b.getI64Type()),
        f64(b.getF64Type()) {
    const int64_t bytes = elem.getIntOrFloatBitWidth() / 8;
    width = shape[2] % (16 / bytes) == 0 ? 16 / bytes : 1;
    if (std::optional<APFloat> t = op.getTemperature())
      temperature = t->convertToDouble();
  }

  Value c64(int64_t v) { return constInt(i64, v); }
  Value cf64(double v) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }
  Value fcmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  Value ieq(Value x, Value y) { return cmp(arith::CmpIPredicate::eq, x, y); }
  Value toI64(Value index) {
    return arith::IndexCastOp::create(b, loc, i64, index);
  }
  Value minI64(Value x, Value y) {
    return arith::MinSIOp::create(b, loc, x, y);
  }
  void ifThen(Value cond, llvm::function_ref<void()> then) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    then();
  }
  void ifThenElse(Value cond, llvm::function_ref<void()> then,
                  llvm::function_ref<void()> otherwise) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    then();
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    otherwise();
  }

  /// The state after reading entry `v` (i64) with f32 value `x`.
  RowState update(const RowState &s, Value x, Value v, Value row) {
    Value negInf = constF32(-std::numeric_limits<float>::infinity());
    // One exponential per entry, e^(−|x − m|); 0 when x = m = −inf.
    Value bothInf = land(fcmp(arith::CmpFPredicate::OEQ, x, negInf),
                         fcmp(arith::CmpFPredicate::OEQ, s.max, negInf));
    Value e = math::ExpOp::create(
        b, loc,
        arith::NegFOp::create(b, loc,
                              math::AbsFOp::create(b, loc, fsub(x, s.max))));
    e = select(bothInf, constF32(0.0), e);
    Value gt = fcmp(arith::CmpFPredicate::OGT, x, s.max);
    RowState r{select(gt, x, s.max),
               select(gt, fadd(fmul(s.sum, e), constF32(1.0)), fadd(s.sum, e)),
               select(gt, v, s.arg), Value(), Value()};
    if (s.noisy) {
      // counter = σ + row · V + v, row = b · L + p.
      Value counter = arith::AddIOp::create(
          b, loc, c64(static_cast<int64_t>(op.getSeed().value_or(0))),
          arith::AddIOp::create(
              b, loc, arith::MulIOp::create(b, loc, row, c64(shape[2])), v));
      Value score = gumbelScore(b, loc, x, counter, *temperature);
      Value better = fcmp(arith::CmpFPredicate::OGT, score, s.noisy);
      r.noisy = select(better, score, s.noisy);
      r.noisyArg = select(better, v, s.noisyArg);
    }
    return r;
  }

  /// The combination of two threads' states.
  RowState combine(const RowState &a, const RowState &c) {
    Value negInf = constF32(-std::numeric_limits<float>::infinity());
    Value m = fmax(a.max, c.max);
    auto scaled = [&](Value mi, Value si) {
      Value empty = fcmp(arith::CmpFPredicate::OEQ, mi, negInf);
      return select(empty, constF32(0.0),
                    fmul(si, math::ExpOp::create(b, loc, fsub(mi, m))));
    };
    auto pick = [&](Value ka, Value kc, Value ia, Value ic) {
      Value aWins = fcmp(arith::CmpFPredicate::OGT, ka, kc);
      Value cWins = fcmp(arith::CmpFPredicate::OGT, kc, ka);
      return select(aWins, ia, select(cWins, ic, minI64(ia, ic)));
    };
    RowState r{m, fadd(scaled(a.max, a.sum), scaled(c.max, c.sum)),
               pick(a.max, c.max, a.arg, c.arg), Value(), Value()};
    if (a.noisy) {
      r.noisy = arith::MaximumFOp::create(b, loc, a.noisy, c.noisy);
      r.noisyArg = pick(a.noisy, c.noisy, a.noisyArg, c.noisyArg);
    }
    return r;
  }

  void buildStats(gpu::LaunchOp launch, Value logits, Value tokens,
                  Value argmax, Value confidence);
  void buildSelect(gpu::LaunchOp launch, Value tokens, Value argmax,
                   Value confidence, Value newTokens);

  DenoiseStepOp op;
  ArrayRef<int64_t> shape;
  Type elem, i64, f64;
  int64_t width;
  std::optional<double> temperature;
};

void DenoiseEmitter::buildStats(gpu::LaunchOp launch, Value logits,
                                Value tokens, Value argmax, Value confidence) {
  const int64_t L = shape[1], V = shape[2];
  const int64_t noIndex = std::numeric_limits<int64_t>::max();
  auto smem = launch.getWorkgroupAttributions();
  Value row = launch.getBlockIds().x, tid = launch.getThreadIds().x;
  Value batch = div(row, L), pos = rem(row, L);
  Value token = memref::LoadOp::create(b, loc, tokens, ValueRange{batch, pos});
  Value masked = ieq(token, c64(static_cast<int64_t>(op.getMaskId())));
  Value first = ieq(tid, idx(0));

  auto readRow = [&] {
    RowState init{constF32(-std::numeric_limits<float>::infinity()),
                  constF32(0.0), c64(noIndex), Value(), Value()};
    if (temperature) {
      init.noisy = cf64(-std::numeric_limits<double>::infinity());
      init.noisyArg = c64(noIndex);
    }
    Value rowI64 = toI64(row);
    auto loop = scf::ForOp::create(
        b, loc, tid, idx(V / width), idx(kStatsThreads), init.values(),
        [&](OpBuilder &nb, Location l, Value chunk, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value v0 = mul(chunk, width);
          RowState s = RowState::from(iter);
          SmallVector<Value> lanes;
          if (width == 1) {
            lanes.push_back(memref::LoadOp::create(b, loc, logits,
                                                   ValueRange{batch, pos, v0}));
          } else {
            Value vec =
                vector::LoadOp::create(b, loc, VectorType::get({width}, elem),
                                       logits, ValueRange{batch, pos, v0});
            for (int64_t j = 0; j < width; ++j)
              lanes.push_back(vector::ExtractOp::create(b, loc, vec, j));
          }
          for (auto [j, lane] : llvm::enumerate(lanes))
            s = update(s, toF32(b, loc, lane), toI64(add(v0, int64_t(j))),
                       rowI64);
          scfYield(b, loc, s.values());
        });
    // Tree reduction over the threads' states in shared memory.
    auto store = [&](const RowState &s, Value at) {
      for (auto [value, buf] : llvm::zip(s.values(), smem))
        memref::StoreOp::create(b, loc, value, buf, at);
    };
    auto load = [&](Value at) {
      SmallVector<Value> v;
      for (Value buf : smem.take_front(temperature ? 5 : 3))
        v.push_back(memref::LoadOp::create(b, loc, buf, at));
      return RowState::from(v);
    };
    store(RowState::from(loop.getResults()), tid);
    gpu::BarrierOp::create(b, loc);
    for (int64_t stride = kStatsThreads / 2; stride >= 1; stride /= 2) {
      ifThen(lt(tid, idx(stride)),
             [&] { store(combine(load(tid), load(add(tid, stride))), tid); });
      gpu::BarrierOp::create(b, loc);
    }
    ifThen(first, [&] {
      RowState s = load(idx(0));
      // Rows of −inf only: the first entry, as the reference's strict '>'.
      Value arg = temperature ? s.noisyArg : s.arg;
      arg = select(ieq(arg, c64(noIndex)), c64(0), arg);
      Value numerator = constF32(1.0);
      if (temperature) {
        Value picked =
            toF32(b, loc,
                  memref::LoadOp::create(b, loc, logits,
                                         ValueRange{batch, pos, asIndex(arg)}));
        numerator = math::ExpOp::create(b, loc, fsub(picked, s.max));
      }
      memref::StoreOp::create(b, loc, arg, argmax, ValueRange{batch, pos});
      memref::StoreOp::create(b, loc,
                              arith::DivFOp::create(b, loc, numerator, s.sum),
                              confidence, ValueRange{batch, pos});
    });
  };
  ifThenElse(masked, readRow, [&] {
    ifThen(first, [&] {
      memref::StoreOp::create(b, loc, token, argmax, ValueRange{batch, pos});
      memref::StoreOp::create(b, loc, constF32(0.0), confidence,
                              ValueRange{batch, pos});
    });
  });
}

void DenoiseEmitter::buildSelect(gpu::LaunchOp launch, Value tokens,
                                 Value argmax, Value confidence,
                                 Value newTokens) {
  const int64_t L = shape[1];
  const int64_t threads = std::min<int64_t>(kSelectThreads, L);
  const std::pair<int64_t, int64_t> range = op.getEligibleRange();
  const int64_t start = range.first, end = range.second;
  Value stage = launch.getWorkgroupAttributions()[0];
  Value batch = launch.getBlockIds().x, tid = launch.getThreadIds().x;
  Value maskId = c64(static_cast<int64_t>(op.getMaskId()));
  auto eligible = [&](Value token, Value p) {
    return land(ieq(token, maskId), land(le(idx(start), p), lt(p, idx(end))));
  };
  auto overRow = [&](llvm::function_ref<void(Value)> body) {
    scf::ForOp::create(b, loc, tid, idx(L), idx(threads), ValueRange{},
                       [&](OpBuilder &nb, Location l, Value p, ValueRange) {
                         OpBuilder::InsertionGuard guard(b);
                         b.setInsertionPoint(nb.getInsertionBlock(),
                                             nb.getInsertionPoint());
                         body(p);
                         scfYield(b, loc, {});
                       });
  };
  Value nan = constF32(std::numeric_limits<float>::quiet_NaN());
  overRow([&](Value q) {
    Value token = memref::LoadOp::create(b, loc, tokens, ValueRange{batch, q});
    Value c = memref::LoadOp::create(b, loc, confidence, ValueRange{batch, q});
    memref::StoreOp::create(b, loc, select(eligible(token, q), c, nan), stage,
                            q);
  });
  gpu::BarrierOp::create(b, loc);
  std::optional<uint64_t> topK = op.getTopK();
  std::optional<double> threshold;
  if (std::optional<APFloat> t = op.getThreshold())
    threshold = t->convertToDouble();
  overRow([&](Value p) {
    Value token = memref::LoadOp::create(b, loc, tokens, ValueRange{batch, p});
    Value cp = memref::LoadOp::create(b, loc, stage, p);
    // rank = #{q : c_q > c_p, or c_q = c_p and q < p} over eligible q
    // (NaN for the others: both comparisons false).
    auto count = forLoop(
        0, L, ValueRange{c64(0)},
        [&](OpBuilder &nb, Location l, Value q, ValueRange acc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value cq = memref::LoadOp::create(b, loc, stage, q);
          Value beats =
              lor(fcmp(arith::CmpFPredicate::OGT, cq, cp),
                  land(fcmp(arith::CmpFPredicate::OEQ, cq, cp), lt(q, p)));
          scfYield(
              b, loc,
              arith::AddIOp::create(b, loc, acc[0],
                                    arith::ExtUIOp::create(b, loc, i64, beats))
                  .getResult());
        });
    Value rank = count.getResult(0);
    Value chosen =
        topK ? cmp(arith::CmpIPredicate::slt, rank,
                   c64(static_cast<int64_t>(*topK)))
             : lor(fcmp(arith::CmpFPredicate::OGT, cp, constF32(*threshold)),
                   ieq(rank, c64(0)));
    Value unmask = land(eligible(token, p), chosen);
    Value guess = memref::LoadOp::create(b, loc, argmax, ValueRange{batch, p});
    memref::StoreOp::create(b, loc, select(unmask, guess, token), newTokens,
                            ValueRange{batch, p});
  });
}

void rewriteDenoise(DenoiseStepOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  DenoiseEmitter x(b, loc, op);
  const int64_t B = x.shape[0], L = x.shape[1];
  Value logits = toBuffer(b, loc, op.getLogits());
  Value tokens = toBuffer(b, loc, op.getTokens());
  auto rowType = [&](Type t) { return MemRefType::get({B, L}, t); };
  Value argmax = memref::AllocOp::create(b, loc, rowType(x.i64));
  Value confidence = memref::AllocOp::create(b, loc, rowType(x.f32));
  Value newTokens = memref::AllocOp::create(b, loc, rowType(x.i64));

  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  auto shared = [&](int64_t n, Type t) -> Type {
    return MemRefType::get({n}, t, MemRefLayoutAttrInterface(), workgroup);
  };
  SmallVector<Type> statsShared = {shared(kStatsThreads, x.f32),
                                   shared(kStatsThreads, x.f32),
                                   shared(kStatsThreads, x.i64)};
  if (x.temperature)
    statsShared.append(
        {shared(kStatsThreads, x.f64), shared(kStatsThreads, x.i64)});
  gpu::LaunchOp stats = launch(b, loc, B * L, 1, kStatsThreads, statsShared);
  stats->setAttr(decision::kDenoiseKernel, b.getStringAttr("stats"));
  stats->setAttr(decision::kVector, b.getI64IntegerAttr(x.width));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&stats.getBody().front());
    x.buildStats(stats, logits, tokens, argmax, confidence);
    gpu::TerminatorOp::create(b, loc);
  }
  const int64_t threads = std::min<int64_t>(kSelectThreads, L);
  SmallVector<Type> selectShared = {shared(L, x.f32)};
  gpu::LaunchOp sel = launch(b, loc, B, 1, threads, selectShared);
  sel->setAttr(decision::kDenoiseKernel, b.getStringAttr("select"));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&sel.getBody().front());
    x.buildSelect(sel, tokens, argmax, confidence, newTokens);
    gpu::TerminatorOp::create(b, loc);
  }
  auto asTensor = [&](Value buffer, Value like) {
    return bufferization::ToTensorOp::create(b, loc, like.getType(), buffer,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  };
  op.getNewTokens().replaceAllUsesWith(asTensor(newTokens, op.getNewTokens()));
  op.getConfidence().replaceAllUsesWith(
      asTensor(confidence, op.getConfidence()));
  op.erase();
}

struct GpuDenoisePass : kestrel::impl::GpuDenoiseBase<GpuDenoisePass> {
  void runOnOperation() override {
    SmallVector<DenoiseStepOp> ops;
    getOperation().walk([&](DenoiseStepOp op) {
      if (unsupported(op).empty())
        ops.push_back(op);
    });
    for (DenoiseStepOp op : ops)
      rewriteDenoise(op);
  }
};

} // namespace
