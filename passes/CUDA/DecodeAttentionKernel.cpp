//===- DecodeAttentionKernel.cpp - Split-KV decode kernels for NVIDIA -----===//
//
// Rewrites kestrel.decode_attention into two gpu.launch ops, for the cuda
// target; the pass also rewrites kestrel.kv_append (KVAppendKernel.cpp).
//
// Decode is memory bound: every key and value of the cache is read once per
// step, and the arithmetic per byte is small (2·g·T FMAs per element for g
// query heads per KV head), so the kernel uses CUDA-core FMAs on f32 and
// spends its effort on reading the cache at full bandwidth:
//
//   split kernel: grid = (NS, B · Hkv), block = 128 threads.
//     Block (sp, b·Hkv + j) owns KV head j of batch row b and the keys
//     [sp · Ks, (sp + 1) · Ks) of the cache; it serves all R = g · T query
//     rows of that KV group at once, so each key and value is read from
//     global memory once for the g heads sharing it (GQA without
//     replicating K/V). Per tile of Bc keys:
//       A  K and V tiles to shared memory with 16-byte vector loads through
//          the layout (head-major, token-major, paged via the block table,
//          MLA latent), rows padded against bank conflicts; the next tile's
//          vectors are loaded into registers while this one is computed;
//       B  scores x[r, s] = log2(e) · scale · q_r · k_s (f32), masked by
//          the causal-with-offset rule and the split's end;
//       C  online softmax per row (one warp per row, shuffles);
//       D  acc[r, :] = alpha_r · acc[r, :] + Σ_s p[r, s] · v_s, each thread
//          owning a few columns of a few rows in registers.
//     It writes the split's normalised partial output O_sp (f32) and
//     lse_sp = ln Σ exp(scale · q·k) over its keys (-inf when it saw none).
//   merge kernel: grid = B · H · T, block = Dv threads:
//     M = max_sp lse_sp, w_sp = exp(lse_sp - M),
//     out = Σ w_sp O_sp / Σ w_sp, lse = M + ln Σ w_sp (0 and -inf if none).
//
// The split count is chosen so that about `target-blocks` blocks run (the
// option `split-keys` fixes the keys per split instead); splits past a
// row's length exit at once.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/Kestrel.h"
#include "passes/CUDA/KVCacheAddressing.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

namespace kestrel {
#define GEN_PASS_DEF_GPUDECODEATTENTION
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;
using namespace kestrel::cuda;

namespace {

constexpr int64_t kThreads = 128;
constexpr int64_t kWarps = kThreads / 32;
constexpr int64_t kMaxRows = 64;            // g · T rows of one block
constexpr int64_t kMaxAccum = 64;           // f32 accumulators per thread in D
constexpr int64_t kSharedBytes = 48 * 1024; // static shared memory limit
constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

/// The tile and split shape of one decode_attention.
struct DecodePlan {
  int64_t B, H, Hkv, g, T, D, Dv, S, R;
  int64_t vec, pad, Bc;
  int64_t numSplits, splitKeys;
  bool prefetch; // next tile's vectors loaded into registers a tile ahead
  int64_t rowGroups, rowsB;                          // phase B
  int64_t colThreads, colsPerThread, rowSets, rowsD; // phase D
};

/// Why `op` cannot use the split-KV kernel, or an empty string; fills
/// `plan` when it can.
std::string planDecode(DecodeAttentionOp op, int64_t splitKeysOption,
                       int64_t targetBlocks, DecodePlan &plan) {
  RankedTensorType qType = op.getQuery().getType();
  Type elem = qType.getElementType();
  if (!elem.isF16() && !elem.isBF16() && !elem.isF32())
    return "storage type is not f16, bf16 or f32";
  for (NamedAttribute attr : op->getDiscardableAttrs())
    if (!isKnownAnnotation(attr.getName().strref()))
      return ("attribute '" + attr.getName().strref() + "'").str();
  DecodePlan &p = plan;
  p.B = qType.getDimSize(0);
  p.H = qType.getDimSize(1);
  p.T = qType.getDimSize(2);
  p.D = qType.getDimSize(3);
  p.Dv = op.getResult().getType().getDimSize(3);
  p.Hkv = op.getNumKvHeads();
  p.g = p.H / p.Hkv;
  p.S = op.getCapacity();
  p.R = p.g * p.T;
  p.vec = vectorWidth(elem);
  p.pad = p.vec;
  if (p.D % p.vec || p.Dv % p.vec)
    return "head dims are not multiples of a 16-byte vector";
  if (p.R > kMaxRows)
    return "more than 64 query rows (heads per KV head x T) per KV head";
  // Phase D: each thread owns `colsPerThread` adjacent columns (at least
  // 2) of every `rowSets`-th row.
  p.colThreads = std::min<int64_t>(kThreads, p.Dv / 2);
  if (p.Dv % 2 || p.Dv % p.colThreads || kThreads % p.colThreads)
    return "value head dim does not map onto 128 threads";
  p.colsPerThread = p.Dv / p.colThreads;
  p.rowSets = kThreads / p.colThreads;
  p.rowsD = ceilDiv(p.R, p.rowSets);
  if (p.rowsD * p.colsPerThread > kMaxAccum)
    return "too many accumulators per thread (rows x value columns)";
  // The largest key tile whose shared buffers fit.
  int64_t bytes = elem.getIntOrFloatBitWidth() / 8;
  p.Bc = 0;
  for (int64_t bc : {64, 32}) {
    int64_t shared = bc * (p.D + p.pad) * bytes + bc * (p.Dv + p.pad) * bytes +
                     p.R * p.D * 4 + p.R * bc * 4 + 3 * p.R * 4 + 64;
    if (shared <= kSharedBytes) {
      p.Bc = bc;
      break;
    }
  }
  if (!p.Bc)
    return "K/V tiles do not fit in 48 KiB of shared memory";
  // Register prefetch costs 2 x 16 bytes x vectors per thread; with many
  // rows the accumulators need those registers (ptxas spills otherwise).
  p.prefetch = p.R <= 8;
  if (auto attr = op->getAttrOfType<BoolAttr>(decision::kDecodePrefetch))
    p.prefetch = attr.getValue();
  p.rowGroups = kThreads / p.Bc;
  p.rowsB = ceilDiv(p.R, p.rowGroups);
  // Splits of whole tiles.
  int64_t tiles = ceilDiv(p.S, p.Bc);
  int64_t keys;
  // A `kestrel.split_keys` attribute on the op overrides the option (one
  // op of a module can be tuned alone, e.g. by the decode bench).
  if (auto attr = op->getAttrOfType<IntegerAttr>(decision::kSplitKeys);
      attr && attr.getInt() > 0)
    splitKeysOption = attr.getInt();
  if (splitKeysOption > 0) {
    keys = ceilDiv(splitKeysOption, p.Bc) * p.Bc;
  } else {
    int64_t groups = p.B * p.Hkv;
    int64_t splits = std::max<int64_t>(1, ceilDiv(targetBlocks, groups));
    // At least 4 tiles per split: the Q load and the partial result are
    // paid once per split.
    splits = std::min(splits, std::max<int64_t>(1, tiles / 4));
    keys = ceilDiv(tiles, splits) * p.Bc;
  }
  p.splitKeys = std::min(keys, tiles * p.Bc);
  p.numSplits = ceilDiv(p.S, p.splitKeys);
  return "";
}

/// Builds the split kernel inside its gpu.launch.
class SplitKernel {
public:
  SplitKernel(OpBuilder &b, Location loc, const DecodePlan &p, Type elem,
              double scale, const CacheAddressing &kAddr,
              const CacheAddressing &vAddr)
      : b(b), loc(loc), x{b, loc}, p(p), elem(elem), scale(scale), kAddr(kAddr),
        vAddr(vAddr) {}

  Value q, k, v, lens, oPart, lsePart;    // global buffers
  Value kTile, vTile, qS, pS, mS, lS, aS; // shared buffers

  void build(gpu::LaunchOp launch);

private:
  Value toF32(Value vecElem) {
    if (elem.isF32())
      return vecElem;
    auto type = VectorType::get(cast<VectorType>(vecElem.getType()).getShape(),
                                b.getF32Type());
    return arith::ExtFOp::create(b, loc, type, vecElem);
  }
  Value warpReduce(Value val, bool isMax) {
    for (int32_t off : {16, 8, 4, 2, 1}) {
      Value other =
          gpu::ShuffleOp::create(b, loc, val, off, 32, gpu::ShuffleMode::XOR)
              .getShuffleResult();
      val = isMax ? x.fmax(val, other) : x.fadd(val, other);
    }
    return val;
  }

  /// Global-memory vectors of one K or V tile that thread `tid` moves.
  int64_t vectorsPerThread(int64_t dim) const {
    return ceilDiv(p.Bc * dim / p.vec, kThreads);
  }
  /// Loads this thread's share of the tile starting at key `tileStart`
  /// (rows past `keyEnd` repeat the last key, which is a valid token).
  SmallVector<Value> loadTile(Value src, const CacheAddressing &addr,
                              int64_t dim, Value tileStart, Value keyEnd);
  void storeTile(ValueRange regs, Value dst, int64_t dim);
  /// Runs `body(linear)` for this thread's vectors of a tile, under a guard
  /// when the tile's vectors do not divide evenly among the threads.
  void forTileVectors(int64_t dim,
                      function_ref<void(int64_t, Value, Value, Value)> body);

  // The steps of build(), in order.
  /// Block coordinates and the split's key range [s0, keyEnd).
  void setUp(gpu::LaunchOp launch);
  /// Q rows to shared memory (scaled, f32); running max and sum reset.
  void stageQuery();
  /// With prefetch: the first tile's K and V vectors in registers.
  SmallVector<Value> prefetchFirstTile();
  /// One key tile: phases A to D; returns the values the loop carries.
  SmallVector<Value> tileStep(Value tile, ValueRange carried);
  /// A: this tile to shared memory; returns the next tile's registers
  /// (with prefetch) or nothing.
  SmallVector<Value> stageTile(Value tileStart, ValueRange carried);
  /// B: scores of this tile's keys into pS.
  void scoreTile(Value tileStart);
  /// C: online softmax of the tile's scores, rows split among the warps.
  void softmaxTile();
  /// D: acc = alpha · acc + P V over the tile's keys.
  SmallVector<Value> accumulateTile(ValueRange accs);
  /// The split's partial result O / l and its lse.
  void writePartial(ValueRange finalAcc);

  OpBuilder &b;
  Location loc;
  IREmitter x;
  const DecodePlan &p;
  Type elem;
  double scale;
  const CacheAddressing &kAddr, &vAddr;
  Value tid, batch, kvHead, lastPos;
  Value split, warp, lane, negInf, zero;
  Value s0, keyEnd, numTiles;
  Value colBase, rowSet; // phase D: columns [colBase, +colsPerThread)
  VectorType accType;
  int64_t nK = 0, nV = 0; // prefetched K and V vectors per thread
};

void SplitKernel::forTileVectors(
    int64_t dim, function_ref<void(int64_t, Value, Value, Value)> body) {
  int64_t perRow = dim / p.vec, total = p.Bc * perRow;
  for (int64_t it = 0; it < vectorsPerThread(dim); ++it) {
    Value linear = x.add(tid, it * kThreads);
    Value row = x.div(linear, perRow);
    Value col = x.mul(x.rem(linear, perRow), p.vec);
    if ((it + 1) * kThreads <= total) {
      body(it, linear, row, col);
      continue;
    }
    // A partial last round: rows past the tile are clamped (loads) or
    // skipped (stores) by the body through `row`.
    body(it, linear, x.minI(row, x.idx(p.Bc - 1)), col);
  }
}

SmallVector<Value> SplitKernel::loadTile(Value src, const CacheAddressing &addr,
                                         int64_t dim, Value tileStart,
                                         Value keyEnd) {
  SmallVector<Value> regs;
  auto vecType = VectorType::get({p.vec}, elem);
  Value lastKey = x.add(keyEnd, -1);
  forTileVectors(dim, [&](int64_t, Value, Value row, Value col) {
    Value key = x.minI(x.add(tileStart, row), lastKey);
    SmallVector<Value> idx =
        addr.indices(x, batch, kvHead, key, col, /*clampPage=*/true);
    regs.push_back(vector::LoadOp::create(b, loc, vecType, src, idx, false,
                                          llvm::MaybeAlign(16)));
  });
  return regs;
}

void SplitKernel::storeTile(ValueRange regs, Value dst, int64_t dim) {
  int64_t total = p.Bc * dim / p.vec;
  forTileVectors(dim, [&](int64_t it, Value linear, Value row, Value col) {
    if ((it + 1) * kThreads <= total) {
      vector::StoreOp::create(b, loc, regs[it], dst, ValueRange{row, col},
                              false, llvm::MaybeAlign(16));
      return;
    }
    auto inside = scf::IfOp::create(b, loc, x.lt(linear, x.idx(total)), false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&inside.getThenRegion().front());
    vector::StoreOp::create(b, loc, regs[it], dst, ValueRange{row, col}, false,
                            llvm::MaybeAlign(16));
  });
}

void SplitKernel::setUp(gpu::LaunchOp launch) {
  split = launch.getBlockIds().x;
  Value group = launch.getBlockIds().y;
  tid = launch.getThreadIds().x;
  batch = x.div(group, p.Hkv);
  kvHead = x.rem(group, p.Hkv);
  warp = x.div(tid, 32);
  lane = x.rem(tid, 32);
  negInf = x.constF32(-INFINITY);
  zero = x.constF32(0.0);

  // Cache tokens of this row: L clamped to [0, S]; query t sees keys
  // s <= t + L - T. The split's keys: [s0, keyEnd).
  Value len = x.loadIndex(lens, {batch});
  Value valid = x.maxI(x.minI(len, x.idx(p.S)), x.idx(0));
  lastPos = x.add(len, -p.T); // + t: the last key query t sees
  s0 = x.mul(split, p.splitKeys);
  keyEnd = x.minI(x.add(s0, p.splitKeys), valid);
  Value count = x.maxI(x.sub(keyEnd, s0), x.idx(0));
  numTiles = x.div(x.add(count, p.Bc - 1), p.Bc);
}

void SplitKernel::stageQuery() {
  // Q rows of the group, scaled into base 2, in shared memory as f32;
  // row r is query head j·g + r / T, query t = r % T.
  int64_t perRow = p.D / p.vec, total = p.R * perRow;
  auto vecType = VectorType::get({p.vec}, elem);
  Value qScale = vector::BroadcastOp::create(
      b, loc, VectorType::get({p.vec}, x.f32), x.constF32(scale * kLog2e));
  for (int64_t it = 0; it < ceilDiv(total, kThreads); ++it) {
    Value linear = x.add(tid, it * kThreads);
    OpBuilder::InsertionGuard guard(b);
    if ((it + 1) * kThreads > total) {
      auto inside =
          scf::IfOp::create(b, loc, x.lt(linear, x.idx(total)), false);
      b.setInsertionPointToStart(&inside.getThenRegion().front());
    }
    Value r = x.div(linear, perRow);
    Value col = x.mul(x.rem(linear, perRow), p.vec);
    Value head = x.add(x.mul(kvHead, p.g), x.div(r, p.T));
    Value data = vector::LoadOp::create(
        b, loc, vecType, q, ValueRange{batch, head, x.rem(r, p.T), col}, false,
        llvm::MaybeAlign(16));
    vector::StoreOp::create(b, loc, x.fmul(toF32(data), qScale), qS,
                            ValueRange{r, col}, false, llvm::MaybeAlign(16));
  }
  // Running max and sum per row.
  auto init = scf::IfOp::create(b, loc, x.lt(tid, x.idx(p.R)), false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&init.getThenRegion().front());
  memref::StoreOp::create(b, loc, negInf, mS, ValueRange{tid});
  memref::StoreOp::create(b, loc, zero, lS, ValueRange{tid});
}

SmallVector<Value> SplitKernel::prefetchFirstTile() {
  SmallVector<Type> types;
  types.append(vectorsPerThread(p.D), VectorType::get({p.vec}, elem));
  types.append(vectorsPerThread(p.Dv), VectorType::get({p.vec}, elem));
  auto first = scf::IfOp::create(b, loc, types, x.lt(x.idx(0), numTiles), true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&first.getThenRegion().front());
  SmallVector<Value> regs = loadTile(k, kAddr, p.D, s0, keyEnd);
  llvm::append_range(regs, loadTile(v, vAddr, p.Dv, s0, keyEnd));
  scf::YieldOp::create(b, loc, regs);
  b.setInsertionPointToStart(&first.getElseRegion().front());
  SmallVector<Value> zeros;
  for (Type t : first.getResultTypes())
    zeros.push_back(arith::ConstantOp::create(
        b, loc, t,
        DenseElementsAttr::get(cast<ShapedType>(t), b.getZeroAttr(elem))));
  scf::YieldOp::create(b, loc, zeros);
  return SmallVector<Value>(first.getResults());
}

SmallVector<Value> SplitKernel::stageTile(Value tileStart, ValueRange carried) {
  // The next tile's loads are issued now and complete while this tile is
  // computed.
  if (!p.prefetch) {
    storeTile(loadTile(k, kAddr, p.D, tileStart, keyEnd), kTile, p.D);
    storeTile(loadTile(v, vAddr, p.Dv, tileStart, keyEnd), vTile, p.Dv);
    return {};
  }
  storeTile(carried.take_front(nK), kTile, p.D);
  storeTile(carried.slice(nK, nV), vTile, p.Dv);
  Value nextStart = x.add(tileStart, p.Bc);
  auto prefetch =
      scf::IfOp::create(b, loc, TypeRange(carried.take_front(nK + nV)),
                        x.lt(nextStart, keyEnd), true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&prefetch.getThenRegion().front());
  SmallVector<Value> regs = loadTile(k, kAddr, p.D, nextStart, keyEnd);
  llvm::append_range(regs, loadTile(v, vAddr, p.Dv, nextStart, keyEnd));
  scf::YieldOp::create(b, loc, regs);
  b.setInsertionPointToStart(&prefetch.getElseRegion().front());
  scf::YieldOp::create(b, loc, carried.take_front(nK + nV));
  return SmallVector<Value>(prefetch.getResults());
}

void SplitKernel::scoreTile(Value tileStart) {
  // Scores of key `myKey` for rows rowGroup + i · rowGroups.
  Value myKey = x.rem(tid, p.Bc);
  Value rowGroup = x.div(tid, p.Bc);
  Value key = x.add(tileStart, myKey);
  Value inSplit = x.lt(key, keyEnd);
  auto f32Vec = VectorType::get({p.vec}, x.f32);
  constexpr int64_t kChunk = 4; // rows per pass over the key row
  for (int64_t i0 = 0; i0 < p.rowsB; i0 += kChunk) {
    int64_t n = std::min(kChunk, p.rowsB - i0);
    SmallVector<Value> rows, dots;
    for (int64_t i = 0; i < n; ++i) {
      rows.push_back(x.add(rowGroup, (i0 + i) * p.rowGroups));
      dots.push_back(vector::BroadcastOp::create(b, loc, f32Vec, zero));
    }
    for (int64_t c = 0; c < p.D; c += p.vec) {
      Value kv = toF32(vector::LoadOp::create(
          b, loc, VectorType::get({p.vec}, elem), kTile,
          ValueRange{myKey, x.idx(c)}, false, llvm::MaybeAlign(16)));
      for (int64_t i = 0; i < n; ++i) {
        Value qr = vector::LoadOp::create(
            b, loc, f32Vec, qS,
            ValueRange{x.minI(rows[i], x.idx(p.R - 1)), x.idx(c)}, false,
            llvm::MaybeAlign(16));
        dots[i] = vector::FMAOp::create(b, loc, kv, qr, dots[i]);
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      Value s = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                            dots[i]);
      Value t = x.rem(rows[i], p.T);
      Value seen = x.land(inSplit, x.le(key, x.add(lastPos, t)));
      s = x.select(seen, s, negInf);
      OpBuilder::InsertionGuard guard(b);
      if ((i0 + i + 1) * p.rowGroups > p.R) {
        auto inside =
            scf::IfOp::create(b, loc, x.lt(rows[i], x.idx(p.R)), false);
        b.setInsertionPointToStart(&inside.getThenRegion().front());
      }
      memref::StoreOp::create(b, loc, s, pS, ValueRange{rows[i], myKey});
    }
  }
}

void SplitKernel::softmaxTile() {
  // Warp w on rows w + 4 i.
  for (int64_t i = 0; i < ceilDiv(p.R, kWarps); ++i) {
    Value r = x.add(warp, i * kWarps);
    OpBuilder::InsertionGuard guard(b);
    if ((i + 1) * kWarps > p.R) {
      auto inside = scf::IfOp::create(b, loc, x.lt(r, x.idx(p.R)), false);
      b.setInsertionPointToStart(&inside.getThenRegion().front());
    }
    SmallVector<Value> s;
    Value tileMax = negInf;
    for (int64_t e = 0; e < p.Bc / 32; ++e) {
      s.push_back(memref::LoadOp::create(b, loc, pS,
                                         ValueRange{r, x.add(lane, e * 32)}));
      tileMax = x.fmax(tileMax, s.back());
    }
    Value mOld = memref::LoadOp::create(b, loc, mS, ValueRange{r});
    Value mNew = x.fmax(mOld, warpReduce(tileMax, /*isMax=*/true));
    // A row that has seen only masked keys keeps max -inf; subtracting 0
    // then keeps exp2(-inf) = 0 instead of NaN.
    Value none =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mNew, negInf);
    Value mUse = x.select(none, zero, mNew);
    Value alpha = math::Exp2Op::create(b, loc, x.fsub(mOld, mUse));
    Value sum = zero;
    for (int64_t e = 0; e < p.Bc / 32; ++e) {
      Value pe = math::Exp2Op::create(b, loc, x.fsub(s[e], mUse));
      memref::StoreOp::create(b, loc, pe, pS,
                              ValueRange{r, x.add(lane, e * 32)});
      sum = x.fadd(sum, pe);
    }
    sum = warpReduce(sum, /*isMax=*/false);
    Value lOld = memref::LoadOp::create(b, loc, lS, ValueRange{r});
    // Every lane holds the same values; lane 0 writes them.
    auto first = scf::IfOp::create(b, loc, x.lt(lane, x.idx(1)), false);
    b.setInsertionPointToStart(&first.getThenRegion().front());
    memref::StoreOp::create(b, loc, mNew, mS, ValueRange{r});
    memref::StoreOp::create(b, loc, x.fadd(x.fmul(lOld, alpha), sum), lS,
                            ValueRange{r});
    memref::StoreOp::create(b, loc, alpha, aS, ValueRange{r});
  }
}

SmallVector<Value> SplitKernel::accumulateTile(ValueRange accsIn) {
  SmallVector<Value> accs(accsIn);
  SmallVector<Value> rowsD;
  for (int64_t i = 0; i < p.rowsD; ++i) {
    Value r = x.minI(x.add(rowSet, i * p.rowSets), x.idx(p.R - 1));
    rowsD.push_back(r);
    Value alpha = memref::LoadOp::create(b, loc, aS, ValueRange{r});
    accs[i] = arith::MulFOp::create(
        b, loc, accs[i], vector::BroadcastOp::create(b, loc, accType, alpha));
  }
  auto p4 = VectorType::get({4}, x.f32);
  auto keyLoop =
      scf::ForOp::create(b, loc, x.idx(0), x.idx(p.Bc), x.idx(4), accs);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(keyLoop.getBody());
  Value k0 = keyLoop.getInductionVar();
  SmallVector<Value> a(keyLoop.getRegionIterArgs());
  SmallVector<Value> probs;
  for (int64_t i = 0; i < p.rowsD; ++i)
    probs.push_back(vector::LoadOp::create(
        b, loc, p4, pS, ValueRange{rowsD[i], k0}, false, llvm::MaybeAlign(16)));
  for (int64_t kk = 0; kk < 4; ++kk) {
    Value vv = toF32(vector::LoadOp::create(
        b, loc, VectorType::get({p.colsPerThread}, elem), vTile,
        ValueRange{x.add(k0, kk), colBase}, false,
        llvm::MaybeAlign(p.colsPerThread * elem.getIntOrFloatBitWidth() / 8)));
    for (int64_t i = 0; i < p.rowsD; ++i) {
      Value pr =
          vector::ExtractOp::create(b, loc, probs[i], ArrayRef<int64_t>{kk});
      a[i] = vector::FMAOp::create(
          b, loc, vector::BroadcastOp::create(b, loc, accType, pr), vv, a[i]);
    }
  }
  scf::YieldOp::create(b, loc, a);
  return SmallVector<Value>(keyLoop.getResults());
}

SmallVector<Value> SplitKernel::tileStep(Value tile, ValueRange carried) {
  Value tileStart = x.add(s0, x.mul(tile, p.Bc));
  SmallVector<Value> next = stageTile(tileStart, carried);
  gpu::BarrierOp::create(b, loc);
  scoreTile(tileStart);
  gpu::BarrierOp::create(b, loc);
  softmaxTile();
  gpu::BarrierOp::create(b, loc);
  SmallVector<Value> accs = accumulateTile(carried.drop_front(nK + nV));
  // The next iteration overwrites the tiles and the scores.
  gpu::BarrierOp::create(b, loc);
  llvm::append_range(next, accs);
  return next;
}

void SplitKernel::writePartial(ValueRange finalAcc) {
  // O / l and ln Σ exp over the split's keys.
  for (int64_t i = 0; i < p.rowsD; ++i) {
    Value r = x.add(rowSet, i * p.rowSets);
    OpBuilder::InsertionGuard guard(b);
    if ((i + 1) * p.rowSets > p.R) {
      auto inside = scf::IfOp::create(b, loc, x.lt(r, x.idx(p.R)), false);
      b.setInsertionPointToStart(&inside.getThenRegion().front());
    }
    Value l = memref::LoadOp::create(b, loc, lS, ValueRange{r});
    Value empty =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l, zero);
    Value inv = x.select(empty, zero,
                         arith::DivFOp::create(b, loc, x.constF32(1.0), l));
    Value out = arith::MulFOp::create(
        b, loc, finalAcc[i], vector::BroadcastOp::create(b, loc, accType, inv));
    Value head = x.add(x.mul(kvHead, p.g), x.div(r, p.T));
    vector::StoreOp::create(
        b, loc, out, oPart,
        ValueRange{batch, head, x.rem(r, p.T), split, colBase}, false,
        llvm::MaybeAlign(4));
    // One thread per row writes its lse.
    auto writer = scf::IfOp::create(
        b, loc, x.lt(x.rem(tid, p.colThreads), x.idx(1)), false);
    b.setInsertionPointToStart(&writer.getThenRegion().front());
    Value m = memref::LoadOp::create(b, loc, mS, ValueRange{r});
    Value lse =
        x.fmul(x.fadd(m, math::Log2Op::create(b, loc, l)), x.constF32(kLn2));
    lse = x.select(empty, negInf, lse);
    memref::StoreOp::create(b, loc, lse, lsePart,
                            ValueRange{batch, head, x.rem(r, p.T), split});
  }
}

void SplitKernel::build(gpu::LaunchOp launch) {
  setUp(launch);
  stageQuery();

  // Phase D's coordinates: columns [colBase, + colsPerThread) of rows
  // rowSet + i · rowSets.
  colBase = x.mul(x.rem(tid, p.colThreads), p.colsPerThread);
  rowSet = x.div(tid, p.colThreads);
  accType = VectorType::get({p.colsPerThread}, x.f32);
  Value accZero = vector::BroadcastOp::create(b, loc, accType, zero);

  // With prefetch: the first tile's vectors, then the loop: each iteration
  // stores the tile it carries, starts loading the next one, and computes.
  // Without: each iteration loads its tile and stores it.
  SmallVector<Value> state;
  if (p.prefetch)
    state = prefetchFirstTile();
  nK = p.prefetch ? vectorsPerThread(p.D) : 0;
  nV = p.prefetch ? vectorsPerThread(p.Dv) : 0;
  state.append(p.rowsD, accZero);
  gpu::BarrierOp::create(b, loc); // Q, m and l are in shared memory

  auto loop = scf::ForOp::create(b, loc, x.idx(0), numTiles, x.idx(1), state);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    scf::YieldOp::create(
        b, loc, tileStep(loop.getInductionVar(), loop.getRegionIterArgs()));
  }
  writePartial(loop.getResults().drop_front(nK + nV));
}

/// The merge kernel: one block per (b, h, t), one thread per column.
void buildMerge(OpBuilder &b, Location loc, gpu::LaunchOp launch,
                const DecodePlan &p, Type elem, Value oPart, Value lsePart,
                Value out, Value lseOut) {
  IREmitter x(b, loc);
  Value row = launch.getBlockIds().x;
  Value col = launch.getThreadIds().x;
  Value batch = x.div(row, p.H * p.T);
  Value head = x.rem(x.div(row, p.T), p.H);
  Value t = x.rem(row, p.T);
  Value negInf = x.constF32(-INFINITY), zero = x.constF32(0.0);
  auto maxLoop = scf::ForOp::create(b, loc, x.idx(0), x.idx(p.numSplits),
                                    x.idx(1), ValueRange{negInf});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(maxLoop.getBody());
    Value l = memref::LoadOp::create(
        b, loc, lsePart, ValueRange{batch, head, t, maxLoop.getInductionVar()});
    scf::YieldOp::create(b, loc,
                         ValueRange{arith::MaximumFOp::create(
                             b, loc, maxLoop.getRegionIterArgs()[0], l)});
  }
  Value M = maxLoop.getResult(0);
  Value none =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, M, negInf);
  Value mUse = x.select(none, zero, M);
  auto sumLoop = scf::ForOp::create(b, loc, x.idx(0), x.idx(p.numSplits),
                                    x.idx(1), ValueRange{zero, zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(sumLoop.getBody());
    Value sp = sumLoop.getInductionVar();
    Value l =
        memref::LoadOp::create(b, loc, lsePart, ValueRange{batch, head, t, sp});
    Value w =
        math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, l, mUse));
    Value o = memref::LoadOp::create(b, loc, oPart,
                                     ValueRange{batch, head, t, sp, col});
    Value acc = sumLoop.getRegionIterArgs()[0];
    Value sum = sumLoop.getRegionIterArgs()[1];
    scf::YieldOp::create(
        b, loc,
        ValueRange{arith::AddFOp::create(b, loc, acc,
                                         arith::MulFOp::create(b, loc, w, o)),
                   arith::AddFOp::create(b, loc, sum, w)});
  }
  Value acc = sumLoop.getResult(0), sum = sumLoop.getResult(1);
  Value empty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum, zero);
  Value o = x.select(empty, zero, arith::DivFOp::create(b, loc, acc, sum));
  if (!elem.isF32())
    o = arith::TruncFOp::create(b, loc, elem, o);
  memref::StoreOp::create(b, loc, o, out, ValueRange{batch, head, t, col});
  if (lseOut) {
    auto writer = scf::IfOp::create(b, loc, x.lt(col, x.idx(1)), false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&writer.getThenRegion().front());
    Value lse =
        arith::AddFOp::create(b, loc, M, math::LogOp::create(b, loc, sum));
    memref::StoreOp::create(b, loc, x.select(empty, negInf, lse), lseOut,
                            ValueRange{batch, head, t});
  }
}

void rewriteDecode(DecodeAttentionOp op, const DecodePlan &p) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type elem = op.getQuery().getType().getElementType();
  Value bt =
      op.getBlockTable() ? toBuffer(b, loc, op.getBlockTable()) : Value();
  int64_t maxPages = bt ? op.getBlockTable().getType().getDimSize(1) : 0;
  CacheAddressing addr =
      addressingOf(op.getLayout(), op.getKey().getType(), bt, maxPages);
  Value q = toBuffer(b, loc, op.getQuery());
  Value k = toBuffer(b, loc, op.getKey());
  Value v = op.getValue() ? toBuffer(b, loc, op.getValue()) : k;
  Value lens = toBuffer(b, loc, op.getSeqLens());
  Type f32 = b.getF32Type();
  Value oPart = memref::AllocOp::create(
      b, loc, MemRefType::get({p.B, p.H, p.T, p.numSplits, p.Dv}, f32));
  Value lsePart = memref::AllocOp::create(
      b, loc, MemRefType::get({p.B, p.H, p.T, p.numSplits}, f32));
  auto resultType = op.getResult().getType();
  Value out = memref::AllocOp::create(
      b, loc, MemRefType::get(resultType.getShape(), elem));
  Value lseOut;
  if (op.getLse())
    lseOut =
        memref::AllocOp::create(b, loc, MemRefType::get({p.B, p.H, p.T}, f32));

  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  auto shared = [&](ArrayRef<int64_t> shape, Type t) {
    return MemRefType::get(shape, t, MemRefLayoutAttrInterface(), workgroup);
  };
  SmallVector<Type> wg = {shared({p.Bc, p.D + p.pad}, elem),
                          shared({p.Bc, p.Dv + p.pad}, elem),
                          shared({p.R, p.D}, f32),
                          shared({p.R, p.Bc}, f32),
                          shared({p.R}, f32),
                          shared({p.R}, f32),
                          shared({p.R}, f32)};
  gpu::LaunchOp split = launch(b, loc, p.numSplits, p.B * p.Hkv, kThreads, wg);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&split.getBody().front());
    SplitKernel kernel(b, loc, p, elem, op.getEffectiveScale(), addr, addr);
    kernel.q = q;
    kernel.k = k;
    kernel.v = v;
    kernel.lens = lens;
    kernel.oPart = oPart;
    kernel.lsePart = lsePart;
    auto attrs = split.getWorkgroupAttributions();
    kernel.kTile = attrs[0];
    kernel.vTile = attrs[1];
    kernel.qS = attrs[2];
    kernel.pS = attrs[3];
    kernel.mS = attrs[4];
    kernel.lS = attrs[5];
    kernel.aS = attrs[6];
    kernel.build(split);
    gpu::TerminatorOp::create(b, loc);
  }
  gpu::LaunchOp merge = launch(b, loc, p.B * p.H * p.T, 1, p.Dv);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&merge.getBody().front());
    buildMerge(b, loc, merge, p, elem, oPart, lsePart, out, lseOut);
    gpu::TerminatorOp::create(b, loc);
  }
  op.getResult().replaceAllUsesWith(bufferization::ToTensorOp::create(
      b, loc, resultType, out, /*restrict=*/true, /*writable=*/true));
  if (op.getLse())
    op.getLse().replaceAllUsesWith(bufferization::ToTensorOp::create(
        b, loc, op.getLse().getType(), lseOut, true, true));
  op.erase();
}

struct GpuDecodeAttentionPass
    : kestrel::impl::GpuDecodeAttentionBase<GpuDecodeAttentionPass> {
  using GpuDecodeAttentionBase::GpuDecodeAttentionBase;

  void runOnOperation() override {
    SmallVector<std::pair<DecodeAttentionOp, DecodePlan>> decodes;
    SmallVector<KVAppendOp> appends;
    getOperation().walk([&](Operation *op) {
      if (auto d = dyn_cast<DecodeAttentionOp>(op)) {
        DecodePlan plan;
        if (planDecode(d, splitKeys, targetBlocks, plan).empty())
          decodes.push_back({d, plan});
      } else if (auto a = dyn_cast<KVAppendOp>(op)) {
        if (unsupportedAppend(a).empty())
          appends.push_back(a);
      }
    });
    for (auto &[op, plan] : decodes)
      rewriteDecode(op, plan);
    for (KVAppendOp op : appends)
      rewriteAppend(op);
  }
};

} // namespace
