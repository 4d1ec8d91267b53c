//===- RecurrenceKernels.cpp - Recurrence-family kernels for NVIDIA -------===//
//
// Rewrites the recurrence family of docs/ops.md §2 into gpu.launch ops, for
// the cuda target, instead of the reference lowering's host loop over time:
//
// kestrel.gated_recurrence (every gate kind) -> the recurrent-form kernel:
//   grid = (Dv / (W · cpw), B · H), block = W warps. Warp w of block
//   (x, b·H + h) owns value columns [c0, c0 + cpw), c0 = (x·W + w)·cpw, of
//   head h's state; lane l owns key rows l, l + 32, ... (R = ⌈Dk/32⌉ rows).
//   The state tile (R × cpw f32 per lane) lives in registers for the whole
//   sequence: it is read once (initial_state, or zeros) and written once
//   (final_state). Each step t, with the inputs of step t + 1 loaded while
//   step t computes (loop-carried prefetch):
//     S ← e^{g_t} S                         (scalar / vector / gated_delta)
//     u = β_t (v_t − k_t S)                 (delta kinds: a warp reduction
//                                            over the key rows)
//     S ← S + k_tᵀ u    (u = v_t for none / scalar / vector)
//     o_t = scale · q_t S                   (a warp reduction; lane 0 stores)
//   For decode (small T) the kernel is bound by the state's read and write:
//   cpw columns of one row are one 32-byte sector. For long sequences cpw
//   shrinks (down to 1) until about 16 warps per SM run, since every warp
//   walks all T steps.
// kestrel.selective_scan -> one thread per (b, channel) holding h[N] in
//   registers, looping over T with the next step's inputs prefetched; for
//   N > 64, G = 4, 8, ... consecutive lanes per channel holding N / G <= 32
//   elements each, their partial y summed by xor shuffles.
// kestrel.causal_conv1d -> one fused kernel: thread (b, c, r) computes y at
//   r < T (the K taps over state ++ x, bias, activation) or the new state's
//   element r − T.
//
// Ops it cannot cover (dynamic shapes, selective scans whose N > 64 is not
// 2^k slices of at most 32 elements) are left
// to the reference lowering, which kestrelc refuses on cuda for the two
// time-looping ops (unsupportedRecurrence says why).
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/RecurrenceKernels.h"
#include "passes/Passes.h"

#include "dialects/DecisionAttrs.h"
#include "dialects/Kestrel.h"
#include "passes/CUDA/ChunkedRecurrence.h"
#include "passes/CUDA/KVCacheAddressing.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace kestrel {
#define GEN_PASS_DEF_GPURECURRENCE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;
using namespace kestrel::cuda;

namespace {

constexpr int64_t kMaxScanState = 64;      // h[N] per thread of the scan kernel
constexpr int64_t kTargetWarps = 132 * 16; // about 16 warps per H200 SM

bool allStatic(Operation *op) {
  auto isStatic = [](Type t) {
    auto shaped = dyn_cast<ShapedType>(t);
    return !shaped || shaped.hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic);
}

Type elemOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

/// The memref a kernel writes one result into.
Value allocFor(OpBuilder &b, Location loc, Value result) {
  auto type = cast<RankedTensorType>(result.getType());
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()));
}

void replaceWithBuffer(OpBuilder &b, Location loc, Value result, Value mem) {
  result.replaceAllUsesWith(bufferization::ToTensorOp::create(
      b, loc, result.getType(), mem, /*restrict=*/true, /*writable=*/true));
}

/// Scalar f32 of one element.
Value loadF32(OpBuilder &b, Location loc, Value mem, ValueRange idx) {
  return toF32(b, loc, memref::LoadOp::create(b, loc, mem, idx));
}

/// Runs `body` under `cond` (an scf.if without results).
void ifThen(OpBuilder &b, Location loc, Value cond, function_ref<void()> body) {
  auto op = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&op.getThenRegion().front());
  body();
}

/// Emits the body of a gpu.launch and its terminator.
void fillLaunch(OpBuilder &b, Location loc, gpu::LaunchOp launch,
                function_ref<void()> body) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  body();
  gpu::TerminatorOp::create(b, loc);
}

//===----------------------------------------------------------------------===//
// gated_recurrence: the recurrent-form kernel
//===----------------------------------------------------------------------===//

struct RecurrencePlan {
  int64_t B, H, Hkv, g, T, Dk, Dv;
  int64_t R;        // key rows per lane
  int64_t cpw;      // value columns per warp
  int64_t warps;    // warps per block
  int64_t colTiles; // blocks along Dv
};

RecurrencePlan planRecurrence(GatedRecurrenceOp op) {
  RecurrencePlan p;
  RankedTensorType q = op.getQuery().getType();
  p.B = q.getDimSize(0);
  p.H = q.getDimSize(1);
  p.T = q.getDimSize(2);
  p.Dk = q.getDimSize(3);
  p.Hkv = op.getKey().getType().getDimSize(1);
  p.g = p.H / p.Hkv;
  p.Dv = op.getValue().getType().getDimSize(3);
  p.R = ceilDiv(p.Dk, 32);
  // One 32-byte sector of a state row per lane (8 f32 columns; measured on
  // an H200 ahead of 16 bytes for an f32 decode step, equal for bf16:
  // bench/results/2026-12-03-H200-recurrence.md), fewer when that does not
  // divide Dv; long sequences trade width for warps, down to one column per
  // warp.
  int64_t stateBytes = elemOf(op.getFinalState()).getIntOrFloatBitWidth() / 8;
  p.cpw = 32 / stateBytes;
  while (p.cpw > 1 && p.Dv % p.cpw)
    p.cpw /= 2;
  while (p.T > 64 && p.cpw > 1 && p.B * p.H * (p.Dv / p.cpw) < kTargetWarps)
    p.cpw /= 2;
  int64_t warpsPerHead = p.Dv / p.cpw;
  p.warps = 4;
  while (warpsPerHead % p.warps)
    p.warps /= 2;
  p.colTiles = warpsPerHead / p.warps;
  return p;
}

class RecurrenceKernel {
public:
  RecurrenceKernel(OpBuilder &b, Location loc, GatedRecurrenceOp op,
                   const RecurrencePlan &p)
      : b(b), loc(loc), x(b, loc), op(op), p(p), kind(op.getGate()),
        vecT(VectorType::get({p.cpw}, b.getF32Type())) {}

  Value q, k, v, logGate, beta, init, out, fin; // buffers
  void build(gpu::LaunchOp launch);

private:
  bool gated() const {
    return kind == GateKind::Scalar || kind == GateKind::Vector ||
           kind == GateKind::GatedDelta;
  }
  bool delta() const {
    return kind == GateKind::Delta || kind == GateKind::GatedDelta;
  }
  Value splat(Value s) { return vector::BroadcastOp::create(b, loc, vecT, s); }
  Value vadd(Value a, Value c) { return arith::AddFOp::create(b, loc, a, c); }
  Value vmul(Value a, Value c) { return arith::MulFOp::create(b, loc, a, c); }
  /// Sums each of the cpw elements over the 32 lanes, reduce-scatter style:
  /// at the first log2(cpw) butterfly levels a lane sends half of what it
  /// holds and keeps the other half, so the warp spends cpw - 1 + 5 -
  /// log2(cpw) shuffles instead of 5 cpw; lane l ends with the sum of
  /// column l >> (5 - log2(cpw)) (colOfLane).
  Value warpSumScatter(Value vec);
  /// The vector of every column's value, from the lanes that own them.
  Value warpGather(Value mine);
  /// Stores the final state's 32-byte row segments `s` of lane rows i
  /// (rows[i]) in whole sectors (see the definition).
  void storePairedRows(Value s, int64_t i);
  /// Loads of step t: k rows, q rows (scaled), v columns, the gate(s) and
  /// beta, as f32; rows past Dk read as 0.
  SmallVector<Value> loadStep(Value t);
  /// One step on the carried state `S` with inputs `in`; returns the new
  /// state, stores o_t.
  SmallVector<Value> step(Value t, ValueRange S, ValueRange in);

  OpBuilder &b;
  Location loc;
  IREmitter x;
  GatedRecurrenceOp op;
  const RecurrencePlan &p;
  GateKind kind;
  VectorType vecT;
  Value batch, head, kvHead, lane, col0;
  Value colOfLane;         // column (within the warp's cpw) this lane sums
  int64_t lanesPerCol = 1; // 32 / cpw
  SmallVector<Value> rows, rowOk; // rowOk empty when Dk % 32 == 0
};

Value RecurrenceKernel::warpSumScatter(Value vec) {
  SmallVector<Value> vals;
  for (int64_t j = 0; j < p.cpw; ++j)
    vals.push_back(vector::ExtractOp::create(b, loc, vec, j));
  auto shuffle = [&](Value v, int32_t off) {
    return gpu::ShuffleOp::create(b, loc, v, off, 32, gpu::ShuffleMode::XOR)
        .getShuffleResult();
  };
  for (int32_t off = 16; off >= 1; off /= 2) {
    if (vals.size() == 1) {
      vals[0] = x.fadd(vals[0], shuffle(vals[0], off));
      continue;
    }
    // Lanes with this bit set keep the upper half and send the lower one.
    Value upper = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                        x.rem(x.div(lane, off), 2), x.idx(0));
    size_t half = vals.size() / 2;
    SmallVector<Value> kept;
    for (size_t j = 0; j < half; ++j) {
      Value send = x.select(upper, vals[j], vals[half + j]);
      Value keep = x.select(upper, vals[half + j], vals[j]);
      kept.push_back(x.fadd(keep, shuffle(send, off)));
    }
    vals = kept;
  }
  return vals[0];
}

Value RecurrenceKernel::warpGather(Value mine) {
  SmallVector<Value> elems;
  for (int64_t j = 0; j < p.cpw; ++j) {
    Value src = x.constInt(b.getI32Type(), j * lanesPerCol);
    elems.push_back(gpu::ShuffleOp::create(b, loc, mine, src,
                                           x.constInt(b.getI32Type(), 32),
                                           gpu::ShuffleMode::IDX)
                        .getShuffleResult());
  }
  return vector::FromElementsOp::create(b, loc, vecT, elems);
}

SmallVector<Value> RecurrenceKernel::loadStep(Value t) {
  SmallVector<Value> in;
  Value zero = x.constF32(0.0);
  Value scale =
      x.constF32(op.getScale() ? op.getScale()->convertToDouble() : 1.0);
  auto rowValue = [&](Value mem, Value hd, int64_t i) {
    Value val = loadF32(b, loc, mem, {batch, hd, t, rows[i]});
    return rowOk.empty() ? val : x.select(rowOk[i], val, zero);
  };
  for (int64_t i = 0; i < p.R; ++i)
    in.push_back(rowValue(k, kvHead, i));
  for (int64_t i = 0; i < p.R; ++i)
    in.push_back(x.fmul(rowValue(q, head, i), scale));
  Type vElem = elemOf(v);
  int64_t bytes = p.cpw * vElem.getIntOrFloatBitWidth() / 8;
  Value vv =
      vector::LoadOp::create(b, loc, VectorType::get({p.cpw}, vElem), v,
                             ValueRange{batch, kvHead, t, col0}, false,
                             llvm::MaybeAlign(std::min<int64_t>(16, bytes)));
  in.push_back(vElem.isF32() ? vv : arith::ExtFOp::create(b, loc, vecT, vv));
  if (kind == GateKind::Vector) {
    for (int64_t i = 0; i < p.R; ++i)
      in.push_back(loadF32(b, loc, logGate, {batch, head, t, rows[i]}));
  } else if (gated()) {
    in.push_back(loadF32(b, loc, logGate, {batch, head, t}));
  }
  if (delta())
    in.push_back(loadF32(b, loc, beta, {batch, head, t}));
  return in;
}

SmallVector<Value> RecurrenceKernel::step(Value t, ValueRange state,
                                          ValueRange in) {
  SmallVector<Value> S(state.begin(), state.end());
  ValueRange kr = in.take_front(p.R), qr = in.slice(p.R, p.R);
  Value vt = in[2 * p.R];
  ValueRange rest = in.drop_front(2 * p.R + 1);
  if (kind == GateKind::Vector) {
    for (int64_t i = 0; i < p.R; ++i)
      S[i] = vmul(S[i], splat(math::ExpOp::create(b, loc, rest[i])));
    rest = rest.drop_front(p.R);
  } else if (gated()) {
    Value decay = splat(math::ExpOp::create(b, loc, rest[0]));
    for (Value &s : S)
      s = vmul(s, decay);
    rest = rest.drop_front(1);
  }
  Value u = vt;
  if (delta()) {
    Value kS = vmul(splat(kr[0]), S[0]);
    for (int64_t i = 1; i < p.R; ++i)
      kS = vadd(kS, vmul(splat(kr[i]), S[i]));
    // u for this lane's column, then every column's u to every lane.
    Value kSc = warpSumScatter(kS);
    Value vc = vector::ExtractOp::create(b, loc, vt, 0);
    for (int64_t j = 1; j < p.cpw; ++j)
      vc = x.select(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          colOfLane, x.idx(j)),
                    vector::ExtractOp::create(b, loc, vt, j), vc);
    u = warpGather(x.fmul(rest[0], x.fsub(vc, kSc)));
  }
  for (int64_t i = 0; i < p.R; ++i)
    S[i] = vadd(S[i], vmul(splat(kr[i]), u));
  Value o = vmul(splat(qr[0]), S[0]);
  for (int64_t i = 1; i < p.R; ++i)
    o = vadd(o, vmul(splat(qr[i]), S[i]));
  Value oc = warpSumScatter(o);
  // One lane per column stores it: lanes whose low bits are zero.
  ifThen(b, loc, x.lt(x.rem(lane, lanesPerCol), x.idx(1)), [&] {
    memref::StoreOp::create(b, loc, fromF32(b, loc, oc, elemOf(out)), out,
                            ValueRange{batch, head, t, x.add(col0, colOfLane)});
  });
  return S;
}

void RecurrenceKernel::build(gpu::LaunchOp launch) {
  Value tid = launch.getThreadIds().x;
  Value bh = launch.getBlockIds().y;
  batch = x.div(bh, p.H);
  head = x.rem(bh, p.H);
  kvHead = x.div(head, p.g);
  lane = x.rem(tid, 32);
  Value warp = x.div(tid, 32);
  col0 = x.mul(x.add(x.mul(launch.getBlockIds().x, p.warps), warp), p.cpw);
  lanesPerCol = 32 / p.cpw;
  colOfLane = x.div(lane, lanesPerCol);
  for (int64_t i = 0; i < p.R; ++i) {
    Value r = x.add(lane, 32 * i);
    if (p.Dk % 32) {
      rowOk.push_back(x.lt(r, x.idx(p.Dk)));
      r = x.minI(r, x.idx(p.Dk - 1));
    }
    rows.push_back(r);
  }

  // The state tile, read once.
  Type sElem = elemOf(fin);
  VectorType sVec = VectorType::get({p.cpw}, sElem);
  int64_t sBytes = p.cpw * sElem.getIntOrFloatBitWidth() / 8;
  llvm::MaybeAlign sAlign(std::min<int64_t>(16, sBytes));
  Value zeros = splat(x.constF32(0.0));
  SmallVector<Value> carried;
  for (int64_t i = 0; i < p.R; ++i) {
    if (!init) {
      carried.push_back(zeros);
      continue;
    }
    Value s = vector::LoadOp::create(b, loc, sVec, init,
                                     ValueRange{batch, head, rows[i], col0},
                                     false, sAlign);
    if (!sElem.isF32())
      s = arith::ExtFOp::create(b, loc, vecT, s);
    carried.push_back(rowOk.empty() ? s : x.select(rowOk[i], s, zeros));
  }
  carried.append(loadStep(x.idx(0)));

  auto loop =
      scf::ForOp::create(b, loc, x.idx(0), x.idx(p.T), x.idx(1), carried);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value t = loop.getInductionVar();
    ValueRange args = loop.getRegionIterArgs();
    // The next step's inputs are in flight while this step computes.
    SmallVector<Value> next = loadStep(x.minI(x.add(t, 1), x.idx(p.T - 1)));
    SmallVector<Value> S = step(t, args.take_front(p.R), args.drop_front(p.R));
    S.append(next);
    scf::YieldOp::create(b, loc, S);
  }

  // ... and written once.
  for (int64_t i = 0; i < p.R; ++i) {
    Value s = loop.getResult(i);
    if (!sElem.isF32())
      s = arith::TruncFOp::create(b, loc, sVec, s);
    if (sBytes == 32) {
      storePairedRows(s, i);
      continue;
    }
    auto store = [&] {
      vector::StoreOp::create(b, loc, s, fin,
                              ValueRange{batch, head, rows[i], col0}, false,
                              sAlign);
    };
    if (rowOk.empty())
      store();
    else
      ifThen(b, loc, rowOk[i], store);
  }
}

void RecurrenceKernel::storePairedRows(Value s, int64_t i) {
  // Lane 2j + q holds the 32-byte segment of row 2j + q (+ 32 i). Stored as
  // it is, each 16-byte store would write half of 32 sectors, and L2 takes
  // partial sector writes one by one (measured: twice the write sectors of
  // the state's size, L2-bound at 77% of its throughput). Lanes 2j and
  // 2j + 1 trade halves instead (one xor-1 shuffle per 4 bytes), so that
  // one store writes rows 2j + 32 i and the next rows 2j + 1 + 32 i, lane
  // 2j + q writing half q: every store fills whole sectors.
  auto vecType = cast<VectorType>(s.getType());
  int64_t n = vecType.getNumElements(), halfN = n / 2;
  auto halfType = VectorType::get({halfN}, vecType.getElementType());
  auto words = VectorType::get({4}, b.getI32Type());
  auto half = [&](int64_t h) {
    SmallVector<Value> elems;
    for (int64_t j = 0; j < halfN; ++j)
      elems.push_back(vector::ExtractOp::create(b, loc, s, h * halfN + j));
    return vector::FromElementsOp::create(b, loc, halfType, elems);
  };
  Value h0 = half(0), h1 = half(1);
  Value q = x.rem(lane, 2);
  Value odd = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, q,
                                    x.idx(0));
  // Lane q = 0 sends its half 1, lane q = 1 its half 0.
  Value send = vector::BitCastOp::create(b, loc, words, x.select(odd, h0, h1));
  SmallVector<Value> got;
  for (int64_t w = 0; w < 4; ++w) {
    Value word = vector::ExtractOp::create(b, loc, send, w);
    got.push_back(gpu::ShuffleOp::create(b, loc, word, 1, 32,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult());
  }
  Value recv = vector::BitCastOp::create(
      b, loc, halfType, vector::FromElementsOp::create(b, loc, words, got));
  // (rows[i] is clamped into Dk; the pair's rows are recomputed unclamped.)
  Value evenRow = x.add(x.sub(lane, q), x.idx(32 * i));
  Value col = x.add(col0, x.mul(q, halfN));
  llvm::MaybeAlign align(16);
  auto storeRow = [&](Value value, Value row) {
    auto store = [&] {
      vector::StoreOp::create(b, loc, value, fin,
                              ValueRange{batch, head, row, col}, false, align);
    };
    if (p.Dk % 32 == 0)
      store();
    else
      ifThen(b, loc, x.lt(row, x.idx(p.Dk)), store);
  };
  storeRow(x.select(odd, recv, h0), evenRow);
  storeRow(x.select(odd, h1, recv), x.add(evenRow, 1));
}

void rewriteRecurrence(GatedRecurrenceOp op, StringRef reason) {
  RecurrencePlan p = planRecurrence(op);
  OpBuilder b(op);
  Location loc = op.getLoc();
  RecurrenceKernel kernel(b, loc, op, p);
  kernel.q = toBuffer(b, loc, op.getQuery());
  kernel.k = toBuffer(b, loc, op.getKey());
  kernel.v = toBuffer(b, loc, op.getValue());
  if (op.getLogGate())
    kernel.logGate = toBuffer(b, loc, op.getLogGate());
  if (op.getBeta())
    kernel.beta = toBuffer(b, loc, op.getBeta());
  if (op.getInitialState())
    kernel.init = toBuffer(b, loc, op.getInitialState());
  kernel.out = allocFor(b, loc, op.getOutput());
  kernel.fin = allocFor(b, loc, op.getFinalState());
  gpu::LaunchOp l = launch(b, loc, p.colTiles, p.B * p.H, 32 * p.warps);
  l->setAttr(decision::kRecurrenceKernel,
             StringAttr::get(b.getContext(), "recurrent"));
  l->setAttr(decision::kRecurrenceReason,
             StringAttr::get(b.getContext(), reason));
  fillLaunch(b, loc, l, [&] { kernel.build(l); });
  replaceWithBuffer(b, loc, op.getOutput(), kernel.out);
  replaceWithBuffer(b, loc, op.getFinalState(), kernel.fin);
  op.erase();
}

/// Sequences longer than this take the chunked kernel where it applies;
/// decode steps and short prompts stay on the recurrent one.
constexpr int64_t kMinChunkedSeq = 32;

/// The chunked tensor-core kernel where it covers `op` (and the op does
/// not force "recurrent"), else the recurrent one.
void rewriteGatedRecurrence(GatedRecurrenceOp op) {
  auto forced = op->getAttrOfType<StringAttr>(decision::kRecurrenceKernel);
  std::string reason = forced && forced.getValue() == "recurrent"
                           ? "forced on the op"
                           : chunkedReason(op, kMinChunkedSeq);
  if (reason.empty()) {
    int64_t dvTile = 0;
    if (auto tile = op->getAttrOfType<IntegerAttr>(decision::kValueTile))
      dvTile = tile.getInt();
    rewriteChunked(op, planChunked(op, dvTile,
                                   forced ? forced.getValue() : StringRef()));
    return;
  }
  rewriteRecurrence(op, reason);
}

//===----------------------------------------------------------------------===//
// selective_scan: one thread per (batch, channel)
//===----------------------------------------------------------------------===//

constexpr int64_t kScanThreads = 128;

/// The scan of one channel; `buf` holds x, delta, A, Bm, Cm, D, z,
/// delta_bias, initial_state, y, final_state (absent ones null).
struct ScanBuffers {
  Value x, delta, A, Bm, Cm, D, z, bias, init, y, fin;
};

/// Lanes per channel of the scan kernel: 1 (h[N] in one thread's
/// registers) up to N = kMaxScanState, else the fewest power-of-two lanes
/// that divide N into slices of at most half that (their partial y summed
/// by shuffles); 0 when none does (N not a multiple of a small power of
/// two).
int64_t scanLanes(int64_t N) {
  if (N <= kMaxScanState)
    return 1;
  // Split slices hold at most 32 elements: 64 (with their prefetched B and
  // C columns) take all 255 registers and spill.
  for (int64_t g = 2; g <= 32; g *= 2)
    if (N % g == 0 && N / g <= kMaxScanState / 2)
      return g;
  return 0;
}

void buildScan(OpBuilder &b, Location loc, SelectiveScanOp op,
               gpu::LaunchOp launch, const ScanBuffers &m) {
  IREmitter x(b, loc);
  RankedTensorType xt = op.getX().getType();
  int64_t B = xt.getDimSize(0), C = xt.getDimSize(1), T = xt.getDimSize(2);
  int64_t N = op.getA().getType().getDimSize(1);
  const int64_t G = scanLanes(N), NL = N / G;
  Value thread = x.add(x.mul(launch.getBlockIds().x, kScanThreads),
                       launch.getThreadIds().x);
  // Thread G i + j: channel row i, state elements [j NL, (j + 1) NL). With
  // G > 1 the lanes of a channel meet in shuffles, so every thread runs the
  // loop (past the last channel on a copy of it) and only stores are
  // guarded.
  Value i = x.div(thread, G);
  Value active = x.lt(i, x.idx(B * C));
  Value n0 = x.mul(x.rem(thread, G), NL);
  auto body = [&] {
    Value row = G > 1 ? x.minI(i, x.idx(B * C - 1)) : i;
    Value bi = x.div(row, C), c = x.rem(row, C);
    auto nIdx = [&](int64_t n) { return x.add(n0, x.idx(n)); };
    Value zero = x.constF32(0.0), one = x.constF32(1.0);
    SmallVector<Value> A, carried;
    for (int64_t n = 0; n < NL; ++n)
      A.push_back(loadF32(b, loc, m.A, {c, nIdx(n)}));
    Value Dc = m.D ? loadF32(b, loc, m.D, {c}) : Value();
    Value bias = m.bias ? loadF32(b, loc, m.bias, {c}) : Value();
    for (int64_t n = 0; n < NL; ++n)
      carried.push_back(m.init ? loadF32(b, loc, m.init, {bi, c, nIdx(n)})
                               : zero);
    auto loadStep = [&](Value t) {
      SmallVector<Value> in = {loadF32(b, loc, m.x, {bi, c, t}),
                               loadF32(b, loc, m.delta, {bi, c, t})};
      if (m.z)
        in.push_back(loadF32(b, loc, m.z, {bi, c, t}));
      for (Value mem : {m.Bm, m.Cm})
        for (int64_t n = 0; n < NL; ++n)
          in.push_back(loadF32(b, loc, mem, {bi, nIdx(n), t}));
      return in;
    };
    carried.append(loadStep(x.idx(0)));
    auto loop =
        scf::ForOp::create(b, loc, x.idx(0), x.idx(T), x.idx(1), carried);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value t = loop.getInductionVar();
      ValueRange args = loop.getRegionIterArgs();
      SmallVector<Value> next = loadStep(x.minI(x.add(t, 1), x.idx(T - 1)));
      ValueRange h = args.take_front(NL), in = args.drop_front(NL);
      Value xv = in[0], d = in[1];
      Value zv = m.z ? in[2] : Value();
      ValueRange Bn = in.slice(m.z ? 3 : 2, NL),
                 Cn = in.drop_front((m.z ? 3 : 2) + NL);
      if (bias)
        d = x.fadd(d, bias);
      if (op.getDeltaSoftplus()) {
        Value sp =
            math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, d));
        Value big = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, d,
                                          x.constF32(20.0));
        d = x.select(big, d, sp);
      }
      Value dx = x.fmul(d, xv);
      SmallVector<Value> yielded;
      Value y = zero;
      for (int64_t n = 0; n < NL; ++n) {
        Value decay = math::ExpOp::create(b, loc, x.fmul(d, A[n]));
        Value hn = x.fadd(x.fmul(decay, h[n]), x.fmul(dx, Bn[n]));
        y = x.fadd(y, x.fmul(Cn[n], hn));
        yielded.push_back(hn);
      }
      for (int64_t off = G / 2; off >= 1; off /= 2)
        y = x.fadd(y, gpu::ShuffleOp::create(b, loc, y, off, 32,
                                             gpu::ShuffleMode::XOR)
                          .getShuffleResult());
      if (Dc)
        y = x.fadd(y, x.fmul(Dc, xv));
      if (zv) {
        Value e =
            math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, zv));
        y = x.fmul(y, arith::DivFOp::create(b, loc, zv, x.fadd(one, e)));
      }
      Value storeY = G > 1 ? x.land(active, x.lt(n0, x.idx(1))) : Value();
      auto store = [&] {
        memref::StoreOp::create(b, loc, fromF32(b, loc, y, elemOf(m.y)), m.y,
                                ValueRange{bi, c, t});
      };
      if (storeY)
        ifThen(b, loc, storeY, store);
      else
        store();
      yielded.append(next);
      scf::YieldOp::create(b, loc, yielded);
    }
    auto storeState = [&] {
      for (int64_t n = 0; n < NL; ++n)
        memref::StoreOp::create(
            b, loc, fromF32(b, loc, loop.getResult(n), elemOf(m.fin)), m.fin,
            ValueRange{bi, c, nIdx(n)});
    };
    if (G > 1)
      ifThen(b, loc, active, storeState);
    else
      storeState();
  };
  if (G > 1)
    body();
  else
    ifThen(b, loc, active, body);
}

void rewriteScan(SelectiveScanOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto buf = [&](Value v) { return v ? toBuffer(b, loc, v) : Value(); };
  ScanBuffers m{buf(op.getX()),
                buf(op.getDelta()),
                buf(op.getA()),
                buf(op.getBm()),
                buf(op.getCm()),
                buf(op.getD()),
                buf(op.getZ()),
                buf(op.getDeltaBias()),
                buf(op.getInitialState()),
                allocFor(b, loc, op.getY()),
                allocFor(b, loc, op.getFinalState())};
  RankedTensorType xt = op.getX().getType();
  int64_t threads = xt.getDimSize(0) * xt.getDimSize(1) *
                    scanLanes(op.getA().getType().getDimSize(1));
  gpu::LaunchOp l =
      launch(b, loc, ceilDiv(threads, kScanThreads), 1, kScanThreads);
  fillLaunch(b, loc, l, [&] { buildScan(b, loc, op, l, m); });
  replaceWithBuffer(b, loc, op.getY(), m.y);
  replaceWithBuffer(b, loc, op.getFinalState(), m.fin);
  op.erase();
}

//===----------------------------------------------------------------------===//
// causal_conv1d: one fused kernel for y and the new state
//===----------------------------------------------------------------------===//

constexpr int64_t kConvThreads = 256;

void rewriteConv(CausalConv1dOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  RankedTensorType xt = op.getX().getType();
  int64_t B = xt.getDimSize(0), C = xt.getDimSize(1), T = xt.getDimSize(2);
  int64_t K = op.getWeight().getType().getDimSize(1);
  int64_t span = T + K - 1; // y[0..T) then new_state[0..K-1)
  Value xm = toBuffer(b, loc, op.getX()), w = toBuffer(b, loc, op.getWeight());
  Value bias = op.getBias() ? toBuffer(b, loc, op.getBias()) : Value();
  Value state = op.getState() ? toBuffer(b, loc, op.getState()) : Value();
  Value y = allocFor(b, loc, op.getY()),
        ns = allocFor(b, loc, op.getNewState());
  gpu::LaunchOp l =
      launch(b, loc, ceilDiv(B * C * span, kConvThreads), 1, kConvThreads);
  fillLaunch(b, loc, l, [&] {
    IREmitter x(b, loc);
    Value i = x.add(x.mul(l.getBlockIds().x, kConvThreads), l.getThreadIds().x);
    ifThen(b, loc, x.lt(i, x.idx(B * C * span)), [&] {
      Value r = x.rem(i, span), bc = x.div(i, span);
      Value bi = x.div(bc, C), c = x.rem(bc, C);
      Value zero = x.constF32(0.0);
      // xs[j]: state[j] for j < K - 1, else x[j - K + 1].
      auto xs = [&](Value j) {
        Value fromX = loadF32(
            b, loc, xm,
            {bi, c,
             x.minI(x.maxI(x.sub(j, x.idx(K - 1)), x.idx(0)), x.idx(T - 1))});
        if (K == 1)
          return fromX;
        Value fromState =
            state ? loadF32(b, loc, state, {bi, c, x.minI(j, x.idx(K - 2))})
                  : zero;
        return x.select(x.lt(j, x.idx(K - 1)), fromState, fromX);
      };
      auto isY = scf::IfOp::create(b, loc, x.lt(r, x.idx(T)), true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&isY.getThenRegion().front());
        Value acc = bias ? loadF32(b, loc, bias, {c}) : zero;
        for (int64_t k = 0; k < K; ++k)
          acc = x.fadd(
              acc, x.fmul(loadF32(b, loc, w, {c, x.idx(k)}), xs(x.add(r, k))));
        if (op.getActivation() == ConvActivation::Silu) {
          Value e =
              math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, acc));
          acc = arith::DivFOp::create(b, loc, acc, x.fadd(x.constF32(1.0), e));
        }
        memref::StoreOp::create(b, loc, fromF32(b, loc, acc, elemOf(y)), y,
                                ValueRange{bi, c, r});
        b.setInsertionPointToStart(&isY.getElseRegion().front());
        if (K > 1)
          memref::StoreOp::create(b, loc, fromF32(b, loc, xs(r), elemOf(ns)),
                                  ns, ValueRange{bi, c, x.sub(r, x.idx(T))});
      }
    });
  });
  replaceWithBuffer(b, loc, op.getY(), y);
  replaceWithBuffer(b, loc, op.getNewState(), ns);
  op.erase();
}

struct GpuRecurrencePass : kestrel::impl::GpuRecurrenceBase<GpuRecurrencePass> {
  using GpuRecurrenceBase::GpuRecurrenceBase;

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<GatedRecurrenceOp, SelectiveScanOp, CausalConv1dOp>(op) &&
          unsupportedRecurrence(op).empty())
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto r = dyn_cast<GatedRecurrenceOp>(op))
        rewriteGatedRecurrence(r);
      else if (auto s = dyn_cast<SelectiveScanOp>(op))
        rewriteScan(s);
      else
        rewriteConv(cast<CausalConv1dOp>(op));
    }
  }
};

} // namespace

std::string kestrel::cuda::unsupportedRecurrence(Operation *op) {
  if (!allStatic(op))
    return "dynamic shapes";
  for (Type t : op->getOperandTypes())
    if (Type e = cast<ShapedType>(t).getElementType();
        !e.isF32() && !e.isF16() && !e.isBF16())
      return "an element type other than f32, f16 or bf16";
  if (auto scan = dyn_cast<SelectiveScanOp>(op))
    if (!scanLanes(scan.getA().getType().getDimSize(1)))
      return "a state of more than 64 elements per channel that is not "
             "2^k slices of at most 32 (k <= 5)";
  if (auto r = dyn_cast<GatedRecurrenceOp>(op))
    if (r.getQuery().getType().getDimSize(2) == 0)
      return "an empty sequence";
  if (auto s = dyn_cast<SelectiveScanOp>(op))
    if (s.getX().getType().getDimSize(2) == 0)
      return "an empty sequence";
  if (auto c = dyn_cast<CausalConv1dOp>(op))
    if (c.getX().getType().getDimSize(2) == 0)
      return "an empty sequence";
  return "";
}
