//===- FlashSimtKernel.cpp - The f32 SIMT flash attention kernel ----------===//
//
// f32 kestrel.attention on CUDA cores (FFMA), never materializing the
// T x S scores: the same key-tile walk and online softmax as the
// tensor-core kernel (FlashKernel.cpp), with f32 products throughout.
//
//   grid  = (ceil(T / Br), B * H), block = 128 threads; the query tiles
//           run in reverse order, so under a causal mask the longest
//           tiles start first. Thread t is lane kg = t % 8 of row group
//           rg = t / 8: it owns the R = Br / 16 query rows rg R .. rg R + R
//           of the tile (R = 2 or 4, Br = 32 or 64), and of each key tile
//           of Bc (32 or 64) keys the keys kg + 8 j;
//   Q, K and V tiles sit in padded dynamic shared memory (rows padded by 4
//           floats, so the 8 lanes of a row group read 8 different banks
//           groups with 16-byte loads); Q is copied once, K(j + 1) by
//           cp.async during step j's softmax and P V, V(j + 1) during step
//           j + 1's Q K^T, as in the tensor-core kernel;
//   per key tile:
//     S = Q K^T: R x Bc / 8 FFMA accumulators per thread, 16-byte loads of
//           Q (broadcast within the row group) and K;
//     scale, soft-cap, mask (only tiles that straddle a mask edge), online
//           softmax in base 2, the row max and sum reduced over the 8 lanes
//           of a row group with shuffles;
//     P goes to a shared [Br, Bc] tile; O += P V with each thread owning
//           its R rows x Dv / 8 columns (4 adjacent columns every 32).
//   O / l (0 for a row that saw no key); lse = m ln 2 + ln l (-inf).
//
// Nothing of size T x S exists: per block, shared memory holds
// (Br + Bc) x (D + 4) + Bc x (Dv + 4) + Br x (Bc + 4) floats.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/FlashSimtKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;
using namespace kestrel::cuda;

static constexpr double kLn2 = 0.6931471805599453;

int64_t kestrel::cuda::simtSharedBytes(const SimtPlan &plan, int64_t headDim,
                                       int64_t valueDim) {
  int64_t br = plan.tileRows(), bc = plan.tileKeys;
  return 4 * ((br + bc) * (headDim + kSimtPad) + bc * (valueDim + kSimtPad) +
              br * (bc + kSimtPad));
}

Value FlashSimtKernel::sharedView(int64_t byteOffset, int64_t rows,
                                  int64_t cols) {
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  auto type = MemRefType::get({rows, cols}, b.getF32Type(),
                              MemRefLayoutAttrInterface(), workgroup);
  return memref::ViewOp::create(b, loc, type, shared, idx(byteOffset),
                                ValueRange{});
}

void FlashSimtKernel::copyRowsAsync(Value srcBase, Value rowBase,
                                    Value firstRow, int64_t rows,
                                    int64_t lastRow, int64_t width,
                                    Value dstBase) {
  // 128 threads move rows x width floats in 16-byte copies (width is a
  // multiple of 16 and rows of 32: every thread copies the same count).
  int64_t vecsPerRow = width / 4;
  int64_t iterations = rows * vecsPerRow / kSimtThreads;
  auto globalPtr = LLVM::LLVMPointerType::get(b.getContext(), 1);
  auto sharedPtr = LLVM::LLVMPointerType::get(b.getContext(), 3);
  for (int64_t it = 0; it < iterations; ++it) {
    Value linear = add(tid, it * kSimtThreads);
    Value r = div(linear, vecsPerRow);
    Value col = mul(rem(linear, vecsPerRow), 4);
    // Rows past the end repeat the last one: their scores are masked (keys)
    // or never stored (queries), and no NaN comes from uninitialized memory.
    Value row = minI(add(firstRow, r), idx(lastRow));
    Value element = add(mul(add(rowBase, row), width), col);
    Value srcByte = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                               add(srcBase, mul(element, 4)));
    Value src = LLVM::IntToPtrOp::create(b, loc, globalPtr, srcByte);
    Value dstByte = add(dstBase, mul(add(mul(r, width + kSimtPad), col), 4));
    Value dst = LLVM::IntToPtrOp::create(
        b, loc, sharedPtr,
        Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), dstByte)));
    NVVM::CpAsyncOp::create(b, loc, dst, src, 16,
                            NVVM::LoadCacheModifierKind::CG,
                            /*cpSize=*/Value());
  }
}

void FlashSimtKernel::copyKeyTileAsync(Value srcBase, int64_t width,
                                       Value dstBase, Value keyTile) {
  // Row 0 of this (batch, KV head) in the [B, Hkv, S, width] operand.
  Value headRow = mul(add(mul(batch, Hkv), kvHead), S);
  copyRowsAsync(srcBase, headRow, mul(keyTile, tileKeys), tileKeys, S - 1,
                width, dstBase);
}

void FlashSimtKernel::waitForTile() {
  // Every tile copy is one group and one more (the other operand's tile)
  // may still be in flight; the barrier makes all threads' copies (and
  // the P tile) visible.
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 1);
  gpu::BarrierOp::create(b, loc);
}

Value FlashSimtKernel::rowReduce(Value x, bool isMax) {
  // The 8 lanes of a row group are adjacent: xor 1, 2, 4 stays inside it.
  for (int32_t offset : {1, 2, 4}) {
    Value other =
        gpu::ShuffleOp::create(b, loc, x, offset, 32, gpu::ShuffleMode::XOR)
            .getShuffleResult();
    x = isMax ? fmax(x, other) : fadd(x, other);
  }
  return x;
}

FlashSimtKernel::Scores FlashSimtKernel::queryKeyScores() {
  // S = Q K^T over the head dim in steps of 8 (two 16-byte loads per
  // operand row), the R x Bc / 8 scores carried by an scf.for.
  const int64_t R = plan.rowsPerThread, J = tileKeys / kSimtKeyLanes;
  SmallVector<Value> init(R * J, constF32(0.0));
  auto vec4 = VectorType::get({4}, b.getF32Type());
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(D), idx(8), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value d = loop.getInductionVar();
    SmallVector<Value> acc(loop.getRegionIterArgs());
    for (int64_t half = 0; half < 2; ++half) {
      Value col = add(d, half * 4);
      SmallVector<Value> qv, kv;
      for (int64_t r = 0; r < R; ++r)
        qv.push_back(vector::LoadOp::create(b, loc, vec4, qTile,
                                            ValueRange{add(localRow0, r), col},
                                            false, llvm::MaybeAlign(16)));
      for (int64_t j = 0; j < J; ++j)
        kv.push_back(vector::LoadOp::create(
            b, loc, vec4, kTile,
            ValueRange{add(keyLane, j * kSimtKeyLanes), col}, false,
            llvm::MaybeAlign(16)));
      for (int64_t e = 0; e < 4; ++e) {
        SmallVector<Value> qe, ke;
        for (Value x : qv)
          qe.push_back(vector::ExtractOp::create(b, loc, x, e));
        for (Value x : kv)
          ke.push_back(vector::ExtractOp::create(b, loc, x, e));
        for (int64_t r = 0; r < R; ++r)
          for (int64_t j = 0; j < J; ++j)
            acc[r * J + j] =
                LLVM::FMAOp::create(b, loc, qe[r], ke[j], acc[r * J + j]);
      }
    }
    scf::YieldOp::create(b, loc, acc);
  }
  Scores s(R);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t j = 0; j < J; ++j)
      s[r].push_back(loop.getResult(r * J + j));
  return s;
}

void FlashSimtKernel::scaleAndMask(Scores &s, Value i, Value keyTile,
                                   bool fused) {
  // Scores in base 2: x = log2(e) * (softcap?) (scale * q.k). Fused (no
  // soft cap, positive scale): raw, the max commutes with the scaling.
  for (auto &row : s)
    for (Value &x : row) {
      if (softcap) {
        x = fmul(x, constF32(scale / *softcap));
        x = fmul(math::TanhOp::create(b, loc, x), constF32(*softcap * kLog2e));
      } else if (!fused) {
        x = fmul(x, constF32(scale * kLog2e));
      }
    }
  if (neverMasked())
    return;
  // Only tiles that straddle a mask edge (or S) pay for the index
  // arithmetic.
  SmallVector<Value> flat;
  for (auto &row : s)
    flat.append(row);
  SmallVector<Type> types(flat.size(), b.getF32Type());
  auto masked = scf::IfOp::create(b, loc, types, stepNeedsMask(i, keyTile),
                                  /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&masked.getThenRegion().front());
    Value keyBase = add(mul(keyTile, tileKeys), keyLane);
    SmallVector<Value> out;
    for (int64_t r = 0; r < plan.rowsPerThread; ++r) {
      Value row = add(tileRow0, add(localRow0, r));
      for (size_t j = 0; j < s[r].size(); ++j)
        out.push_back(select(
            visible(row, add(keyBase, static_cast<int64_t>(j) * kSimtKeyLanes)),
            s[r][j], negInf));
    }
    scf::YieldOp::create(b, loc, out);
    b.setInsertionPointToStart(&masked.getElseRegion().front());
    scf::YieldOp::create(b, loc, flat);
  }
  int64_t at = 0;
  for (auto &row : s)
    for (Value &x : row)
      x = masked.getResult(at++);
}

void FlashSimtKernel::softmaxToShared(Scores &s, Rows &rows, bool fused) {
  const double c = scale * kLog2e;
  for (int64_t r = 0; r < plan.rowsPerThread; ++r) {
    RowState &st = rows[r];
    Value tileMax = negInf;
    for (Value x : s[r])
      tileMax = fmax(tileMax, x);
    Value rowMax = rowReduce(tileMax, /*isMax=*/true);
    if (fused)
      rowMax = fmul(rowMax, constF32(c));
    Value mNew = fmax(st.m, rowMax);
    // A row that has seen only masked keys keeps max -inf; subtracting 0
    // instead keeps exp2(-inf - x) = 0 rather than NaN.
    Value allMasked =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mNew, negInf);
    Value mUse = select(allMasked, constF32(0.0), mNew);
    Value alpha = exp2(fsub(st.m, mUse));
    Value negM = arith::NegFOp::create(b, loc, mUse);
    st.m = mNew;
    Value sum = constF32(0.0);
    Value row = add(localRow0, r);
    for (size_t j = 0; j < s[r].size(); ++j) {
      Value x = s[r][j];
      Value shifted =
          fused ? LLVM::FMAOp::create(b, loc, x, constF32(c), negM).getResult()
                : fadd(x, negM);
      Value p = exp2(shifted);
      sum = fadd(sum, p);
      memref::StoreOp::create(
          b, loc, p, pTile,
          ValueRange{row,
                     add(keyLane, static_cast<int64_t>(j) * kSimtKeyLanes)});
    }
    st.l = fadd(fmul(st.l, alpha), sum);
    for (Value &a : st.acc)
      a = fmul(a, alpha);
  }
}

void FlashSimtKernel::accumulateValues(Rows &rows) {
  // O += P V, 4 keys per iteration: one 16-byte load of P per row
  // (broadcast in the row group), one of V per 4 columns per key.
  const int64_t R = plan.rowsPerThread, C = Dv / 32;
  SmallVector<Value> init;
  for (RowState &st : rows)
    init.append(st.acc);
  auto vec4 = VectorType::get({4}, b.getF32Type());
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(tileKeys), idx(4), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value key0 = loop.getInductionVar();
    SmallVector<Value> acc(loop.getRegionIterArgs());
    SmallVector<Value> pv;
    for (int64_t r = 0; r < R; ++r)
      pv.push_back(vector::LoadOp::create(b, loc, vec4, pTile,
                                          ValueRange{add(localRow0, r), key0},
                                          false, llvm::MaybeAlign(16)));
    Value col0 = mul(keyLane, 4);
    for (int64_t e = 0; e < 4; ++e) {
      Value key = add(key0, e);
      SmallVector<Value> vv;
      for (int64_t c = 0; c < C; ++c)
        vv.push_back(vector::LoadOp::create(b, loc, vec4, vTile,
                                            ValueRange{key, add(col0, c * 32)},
                                            false, llvm::MaybeAlign(16)));
      for (int64_t r = 0; r < R; ++r) {
        Value p = vector::ExtractOp::create(b, loc, pv[r], e);
        for (int64_t c = 0; c < C; ++c)
          for (int64_t x = 0; x < 4; ++x) {
            Value vx = vector::ExtractOp::create(b, loc, vv[c], x);
            Value &a = acc[(r * C + c) * 4 + x];
            a = LLVM::FMAOp::create(b, loc, p, vx, a);
          }
      }
    }
    scf::YieldOp::create(b, loc, acc);
  }
  for (int64_t r = 0; r < R; ++r)
    for (int64_t j = 0; j < C * 4; ++j)
      rows[r].acc[j] = loop.getResult(r * C * 4 + j);
}

SmallVector<Value> FlashSimtKernel::tileStep(Value i, Value count,
                                             ValueRange state) {
  const int64_t R = plan.rowsPerThread, nAcc = Dv / 8;
  const int64_t per = nAcc + 2;
  Rows rows(R);
  for (int64_t r = 0; r < R; ++r) {
    ValueRange st = state.slice(r * per, per);
    rows[r].m = st[0];
    rows[r].l = st[1];
    rows[r].acc.assign(st.begin() + 2, st.end());
  }
  Value keyTile = tileOf(i);
  Value next = add(i, 1);
  Value hasNext = cmp(arith::CmpIPredicate::slt, next, count);
  Value nextTile = tileOf(next);

  // Pipeline as in the tensor-core kernel: K(i) and V(i) were issued
  // before this step; groups are committed unconditionally (empty past the
  // last tile), so "all but the newest group" is the operand needed now.
  waitForTile();
  Scores s = queryKeyScores();
  // Every thread is done with the K tile: start loading the next one.
  gpu::BarrierOp::create(b, loc);
  ifThen(hasNext, [&] { copyKeyTileAsync(kGlobal, D, kAddr, nextTile); });
  NVVM::CpAsyncCommitGroupOp::create(b, loc);

  const bool fused = !softcap && scale > 0;
  scaleAndMask(s, i, keyTile, fused);
  softmaxToShared(s, rows, fused);

  // V(i) has arrived; the barrier also publishes P.
  waitForTile();
  accumulateValues(rows);
  // Every thread is done with V and P: start loading the next V.
  gpu::BarrierOp::create(b, loc);
  ifThen(hasNext, [&] { copyKeyTileAsync(vGlobal, Dv, vAddr, nextTile); });
  NVVM::CpAsyncCommitGroupOp::create(b, loc);

  SmallVector<Value> carried;
  for (RowState &st : rows) {
    carried.append({st.m, st.l});
    carried.append(st.acc);
  }
  return carried;
}

SmallVector<Value> FlashSimtKernel::keyLoop(Value count, ValueRange state) {
  // Prologue: Q, then the first tile's K and V, one group each.
  copyRowsAsync(qGlobal, mul(add(mul(batch, H), head), T), tileRow0, tileRows,
                T - 1, D, qAddr);
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  Value first = tileOf(idx(0));
  copyKeyTileAsync(kGlobal, D, kAddr, first);
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  copyKeyTileAsync(vGlobal, Dv, vAddr, first);
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  auto loop = scf::ForOp::create(b, loc, idx(0), count, idx(1), state);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    scf::YieldOp::create(
        b, loc,
        tileStep(loop.getInductionVar(), count, loop.getRegionIterArgs()));
  }
  // No copy may be in flight when the block exits (count can be 0).
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  return SmallVector<Value>(loop.getResults());
}

void FlashSimtKernel::store(ArrayRef<Value> state) {
  // O = acc / l; a row without visible keys (l = 0) stores 0 and lse -inf.
  const int64_t per = Dv / 8 + 2, C = Dv / 32;
  auto vec4 = VectorType::get({4}, b.getF32Type());
  for (int64_t r = 0; r < plan.rowsPerThread; ++r) {
    ArrayRef<Value> st = state.slice(r * per, per);
    Value l = rowReduce(st[1], /*isMax=*/false);
    Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l,
                                        constF32(0.0));
    Value inv = select(empty, constF32(0.0),
                       arith::DivFOp::create(b, loc, constF32(1.0), l));
    Value row = add(tileRow0, add(localRow0, r));
    ifThen(cmp(arith::CmpIPredicate::slt, row, idx(T)), [&] {
      for (int64_t c = 0; c < C; ++c) {
        SmallVector<Value> xs;
        for (int64_t x = 0; x < 4; ++x)
          xs.push_back(fmul(st[2 + c * 4 + x], inv));
        Value out = vector::FromElementsOp::create(b, loc, vec4, xs);
        vector::StoreOp::create(
            b, loc, out, o,
            ValueRange{batch, head, row, add(mul(keyLane, 4), c * 32)}, false,
            llvm::MaybeAlign(16));
      }
      if (!lse)
        return;
      ifThen(cmp(arith::CmpIPredicate::eq, keyLane, idx(0)), [&] {
        Value value =
            fadd(fmul(st[0], constF32(kLn2)), math::LogOp::create(b, loc, l));
        memref::StoreOp::create(b, loc, select(empty, negInf, value), lse,
                                ValueRange{batch, head, row});
      });
    });
  }
}

void FlashSimtKernel::build(gpu::LaunchOp launch) {
  const int64_t br = tileRows, bc = tileKeys;
  int64_t numTiles = llvm::divideCeil(T, br);
  queryTile = sub(idx(numTiles - 1), launch.getBlockIds().x);
  Value bh = launch.getBlockIds().y;
  tid = launch.getThreadIds().x;
  batch = div(bh, H);
  head = rem(bh, H);
  kvHead = div(head, H / Hkv);
  rowGroup = div(tid, kSimtKeyLanes);
  keyLane = rem(tid, kSimtKeyLanes);
  localRow0 = mul(rowGroup, plan.rowsPerThread);
  tileRow0 = mul(queryTile, br);
  negInf = constF32(-INFINITY);

  int64_t qBytes = 4 * br * (D + kSimtPad), kBytes = 4 * bc * (D + kSimtPad),
          vBytes = 4 * bc * (Dv + kSimtPad);
  qTile = sharedView(0, br, D + kSimtPad);
  kTile = sharedView(qBytes, bc, D + kSimtPad);
  vTile = sharedView(qBytes + kBytes, bc, Dv + kSimtPad);
  pTile = sharedView(qBytes + kBytes + vBytes, br, bc + kSimtPad);
  qAddr = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
  kAddr = add(qAddr, qBytes);
  vAddr = add(kAddr, kBytes);
  qGlobal = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, q);
  kGlobal = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, k);
  vGlobal = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, v);

  SmallVector<Value> state;
  for (int64_t r = 0; r < plan.rowsPerThread; ++r) {
    state.append({negInf, constF32(0.0)});
    state.append(Dv / 8, constF32(0.0));
  }
  state = keyLoop(visitCount(), state);
  store(state);
}
