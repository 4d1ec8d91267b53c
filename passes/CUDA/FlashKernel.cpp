//===- FlashKernel.cpp - Emission of the tensor-core attention kernel -----===//
//
// FlashKernel's methods: the FlashAttention-2 style kernel body described
// in FlashAttentionKernel.cpp, built op by op inside its gpu.launch.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/FlashKernel.h"

#include "dialects/AttentionMask.h"

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

void FlashKernel::copyRowsAsync(Value srcBase, Value rowBase, Value firstRow,
                                int64_t rows, int64_t lastRow, Value dstBase) {
  // 128 threads move rows x D elements in 16-byte cp.async copies, which
  // land in shared memory while the warps compute.
  int64_t vecsPerRow = D / 8;
  int64_t iterations = rows * vecsPerRow / (kWarps * 32);
  auto globalPtr = LLVM::LLVMPointerType::get(b.getContext(), 1);
  for (int64_t it = 0; it < iterations; ++it) {
    Value linear = add(tid, it * kWarps * 32);
    Value r = div(linear, vecsPerRow);
    Value col = mul(rem(linear, vecsPerRow), 8);
    // Rows past the end repeat the last one: their scores are masked (keys)
    // or never stored (queries), and no NaN comes from uninitialized memory.
    Value row = minI(add(firstRow, r), idx(lastRow));
    Value element = add(mul(add(rowBase, row), D), col);
    Value bytes = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                             add(srcBase, mul(element, 2)));
    Value src = LLVM::IntToPtrOp::create(b, loc, globalPtr, bytes);
    NVVM::CpAsyncOp::create(b, loc, sharedAddress(dstBase, r, col), src, 16,
                            NVVM::LoadCacheModifierKind::CG,
                            /*cpSize=*/Value());
  }
}

void FlashKernel::copyKeyTileAsync(Value srcBase, Value dstBase,
                                   Value keyTile) {
  // Row 0 of this (batch, KV head) in the [B, Hkv, S, D] operand.
  Value headRow = mul(add(mul(batch, Hkv), kvHead), S);
  copyRowsAsync(srcBase, headRow, mul(keyTile, kBlockKeys), kBlockKeys, S - 1,
                dstBase);
}

void FlashKernel::waitForTile() {
  // Every tile copy is one group and one more (the other operand's tile)
  // may still be in flight; the barrier makes all threads' copies visible.
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 1);
  gpu::BarrierOp::create(b, loc);
}

SmallVector<Value> FlashKernel::queryFragment(int64_t mt, int64_t kk) {
  if (!shape.qShared)
    return SmallVector<Value>(ArrayRef<Value>(qFrag[mt]).slice(kk * 4, 4));
  // ldmatrix.x4 of the 16 x 16 block: lane l addresses row l % 16 at
  // column 8 (l / 16); the four matrices come back in A-fragment order.
  Value row = add(add(warpRow, mt * 16), rem(lane, 16));
  Value col = add(mul(div(lane, 16), 8), kk * 16);
  return loadMatrices(sharedAddress(qBase, row, col), /*trans=*/false);
}

SmallVector<Value> FlashKernel::tileStep(Value i, Value count,
                                         ValueRange state) {
  const int64_t M = shape.mTiles;
  const int64_t nAcc = D / 8 * 4;
  const int64_t per = nAcc + 4; // carried values per row tile
  RowTiles rt(M);
  for (int64_t mt = 0; mt < M; ++mt) {
    ValueRange st = state.slice(mt * per, per);
    rt[mt].acc.assign(st.begin(), st.begin() + nAcc);
    rt[mt].m = {st[nAcc], st[nAcc + 1]};
    rt[mt].l = {st[nAcc + 2], st[nAcc + 3]};
  }
  Value keyTile = tileOf(i);
  Value next = add(i, 1);
  Value hasNext = cmp(arith::CmpIPredicate::slt, next, count);
  Value nextTile = tileOf(next);

  // Pipeline: K(i) and V(i) were issued before this step. K(i + 1) loads
  // during the softmax and P V, V(i + 1) during the next step's Q K^T.
  // Groups are committed unconditionally (empty ones past the last tile),
  // so "all but the newest group" is always the operand needed now.
  waitForTile();
  Scores s = queryKeyScores();

  // Every warp is done with the K tile: start loading the next one.
  gpu::BarrierOp::create(b, loc);
  ifThen(hasNext, [&] { copyKeyTileAsync(kGlobal, kBase, nextTile); });
  NVVM::CpAsyncCommitGroupOp::create(b, loc);

  // Scores in base 2: x = log2(e) * (softcap?) (scale * q.k), masked.
  // Without a soft cap and with a positive scale, the scores stay raw: the
  // max commutes with the scaling, and exp2 takes fma(s, c, -c max).
  const bool fused = !softcap && scale > 0;
  scaleScores(s, fused);
  maskScores(s, i, keyTile);
  for (int64_t mt = 0; mt < M; ++mt)
    onlineSoftmax(s[mt], rt[mt], fused);

  waitForTile();
  accumulateValues(s, rt);
  // Every warp is done with the V tile: start loading the next one.
  gpu::BarrierOp::create(b, loc);
  ifThen(hasNext, [&] { copyKeyTileAsync(vGlobal, vBase, nextTile); });
  NVVM::CpAsyncCommitGroupOp::create(b, loc);

  SmallVector<Value> carried;
  for (RowTileState &r : rt) {
    carried.append(r.acc);
    carried.append({r.m[0], r.m[1], r.l[0], r.l[1]});
  }
  return carried;
}

FlashKernel::Scores FlashKernel::queryKeyScores() {
  // S = Q K^T: 8 n8 tiles of keys per row tile, k-steps outermost so each
  // K fragment (and, from shared memory, each Q fragment) is loaded once.
  // Lane l addresses row l % 8 of matrix l / 8: for K the matrices are the
  // head-dim blocks [8 j, 8 j + 8) of 8 keys, i.e. (b0, b1) of two k-steps.
  const int64_t M = shape.mTiles;
  Scores s(M, SmallVector<SmallVector<Value>>(kKeyN8Tiles));
  for (int64_t mt = 0; mt < M; ++mt)
    for (int64_t n = 0; n < kKeyN8Tiles; ++n)
      s[mt][n].assign(4, constF32(0.0));
  // (Built here, before the k-steps, as the masking step reads it.)
  quad2 = mul(quad, 2);
  for (int64_t kk = 0; kk < D / 16; kk += 2) {
    SmallVector<SmallVector<Value>> a0(M), a1(M);
    for (int64_t mt = 0; mt < M; ++mt) {
      a0[mt] = queryFragment(mt, kk);
      a1[mt] = queryFragment(mt, kk + 1);
    }
    for (int64_t n = 0; n < kKeyN8Tiles; ++n) {
      SmallVector<Value> regs = loadMatrices(
          sharedAddress(kBase, add(lane8, n * 8), add(mul(matrix, 8), kk * 16)),
          /*trans=*/false);
      for (int64_t mt = 0; mt < M; ++mt) {
        mma(a0[mt], {regs[0], regs[1]}, s[mt][n]);
        mma(a1[mt], {regs[2], regs[3]}, s[mt][n]);
      }
    }
  }
  return s;
}

void FlashKernel::scaleScores(Scores &s, bool fused) {
  negInf = constF32(-INFINITY);
  for (auto &tiles : s)
    for (auto &tile : tiles)
      for (Value &x : tile) {
        if (softcap) {
          x = fmul(x, constF32(scale / *softcap));
          x = fmul(math::TanhOp::create(b, loc, x),
                   constF32(*softcap * kLog2e));
        } else if (!fused) {
          x = fmul(x, constF32(scale * kLog2e));
        }
      }
}

void FlashKernel::maskScores(Scores &s, Value i, Value keyTile) {
  // Masking only where the tile straddles a mask edge (or S): interior
  // tiles skip the index arithmetic. Without a causal mask and with S a
  // multiple of the tile, no tile needs it.
  if (neverMasked())
    return;
  SmallVector<Value> flat;
  for (auto &tiles : s)
    for (auto &tile : tiles)
      flat.append(tile);
  SmallVector<Type> types(flat.size(), b.getF32Type());
  Value need = stepNeedsMask(i, keyTile);
  auto masked = scf::IfOp::create(b, loc, types, need,
                                  /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&masked.getThenRegion().front());
    Value keyBase = add(mul(keyTile, kBlockKeys), quad2);
    SmallVector<Value> out;
    for (int64_t mt = 0; mt < shape.mTiles; ++mt)
      for (int64_t n = 0; n < kKeyN8Tiles; ++n)
        for (int64_t e = 0; e < 4; ++e) {
          Value key = add(keyBase, n * 8 + (e & 1));
          out.push_back(arith::SelectOp::create(
              b, loc, visible(rows[e / 2][mt], key), s[mt][n][e], negInf));
        }
    scf::YieldOp::create(b, loc, out);
    b.setInsertionPointToStart(&masked.getElseRegion().front());
    scf::YieldOp::create(b, loc, flat);
  }
  int64_t at = 0;
  for (auto &tiles : s)
    for (auto &tile : tiles)
      for (Value &x : tile)
        x = masked.getResult(at++);
}

void FlashKernel::onlineSoftmax(SmallVector<SmallVector<Value>> &s,
                                RowTileState &rt, bool fused) {
  // New running max per row, rescale of what was accumulated.
  const double c = scale * kLog2e;
  Value tileMax[2] = {negInf, negInf};
  for (int64_t n = 0; n < kKeyN8Tiles; ++n)
    for (int64_t e = 0; e < 4; ++e)
      tileMax[e / 2] = fmax(tileMax[e / 2], s[n][e]);
  Value alpha[2], negM[2];
  for (int r = 0; r < 2; ++r) {
    Value rowMax = quadReduce(tileMax[r], /*isMax=*/true);
    if (fused)
      rowMax = fmul(rowMax, constF32(c));
    Value mNew = fmax(rt.m[r], rowMax);
    // A row that has seen only masked keys keeps max -inf; subtracting 0
    // instead keeps exp2(-inf - x) = 0 rather than NaN.
    Value allMasked =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mNew, negInf);
    Value mUse =
        arith::SelectOp::create(b, loc, allMasked, constF32(0.0), mNew);
    alpha[r] = exp2(fsub(rt.m[r], mUse));
    negM[r] = arith::NegFOp::create(b, loc, mUse);
    rt.m[r] = mNew;
  }
  Value rowSum[2] = {constF32(0.0), constF32(0.0)};
  for (int64_t n = 0; n < kKeyN8Tiles; ++n)
    for (int64_t e = 0; e < 4; ++e) {
      // llvm.intr.fma, not math.fma: the pipeline's math-expand-ops
      // would split the latter into a multiply and an add.
      Value x = s[n][e];
      Value shifted =
          fused ? LLVM::FMAOp::create(b, loc, x, constF32(c), negM[e / 2])
                      .getResult()
                : fadd(x, negM[e / 2]);
      s[n][e] = exp2(shifted);
      rowSum[e / 2] = fadd(rowSum[e / 2], s[n][e]);
    }
  for (int r = 0; r < 2; ++r)
    rt.l[r] = fadd(fmul(rt.l[r], alpha[r]), rowSum[r]);
  for (size_t j = 0; j < rt.acc.size(); ++j)
    rt.acc[j] = fmul(rt.acc[j], alpha[(j % 4) / 2]);
}

void FlashKernel::accumulateValues(const Scores &s, RowTiles &rt) {
  // O += P V: P's C fragments of n8 tiles 2t, 2t+1 are the A fragment of
  // the k16 step t; each V fragment feeds every row tile.
  const int64_t M = shape.mTiles;
  for (int64_t t = 0; t < kBlockKeys / 16; ++t) {
    SmallVector<SmallVector<Value>> a(M);
    for (int64_t mt = 0; mt < M; ++mt)
      a[mt] = {narrowPair(s[mt][2 * t][0], s[mt][2 * t][1]),
               narrowPair(s[mt][2 * t][2], s[mt][2 * t][3]),
               narrowPair(s[mt][2 * t + 1][0], s[mt][2 * t + 1][1]),
               narrowPair(s[mt][2 * t + 1][2], s[mt][2 * t + 1][3])};
    // Transposed ldmatrix of V: matrices (keys +0 / +8) x (columns of
    // n8 tiles dn, dn + 1) give (b0, b1) of both tiles.
    Value keyRow = add(add(lane8, mul(rem(matrix, 2), 8)), t * 16);
    Value colBase = mul(div(matrix, 2), 8);
    for (int64_t dn = 0; dn < D / 8; dn += 2) {
      SmallVector<Value> regs = loadMatrices(
          sharedAddress(vBase, keyRow, add(colBase, dn * 8)), /*trans=*/true);
      for (int64_t mt = 0; mt < M; ++mt)
        for (int64_t half = 0; half < 2; ++half) {
          int64_t at = (dn + half) * 4;
          SmallVector<Value> cfrag(rt[mt].acc.begin() + at,
                                   rt[mt].acc.begin() + at + 4);
          mma(a[mt], {regs[2 * half], regs[2 * half + 1]}, cfrag);
          llvm::copy(cfrag, rt[mt].acc.begin() + at);
        }
    }
  }
}

SmallVector<Value> FlashKernel::keyLoop(Value count, ValueRange state) {
  // Prologue: the first tile's K and V, one group each (after Q's, when Q
  // is in shared memory).
  Value first = tileOf(idx(0));
  copyKeyTileAsync(kGlobal, kBase, first);
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  copyKeyTileAsync(vGlobal, vBase, first);
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  auto loop = scf::ForOp::create(b, loc, idx(0), count, idx(1), state);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next =
        tileStep(loop.getInductionVar(), count, loop.getRegionIterArgs());
    scf::YieldOp::create(b, loc, next);
  }
  // No copy may be in flight when the block exits (count can be 0).
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  return SmallVector<Value>(loop.getResults());
}

void FlashKernel::build(gpu::LaunchOp launch) {
  const int64_t M = shape.mTiles;
  const int64_t blockRows = shape.blockRows();
  int64_t g = H / Hkv;
  queryTile = launch.getBlockIds().x;
  Value bh = launch.getBlockIds().y;
  tid = launch.getThreadIds().x;
  batch = div(bh, H);
  head = rem(bh, H);
  kvHead = div(head, g);
  Value warp = div(tid, 32);
  lane = rem(tid, 32);
  group = div(lane, 4);
  quad = rem(lane, 4);
  lane8 = rem(lane, 8);
  matrix = div(lane, 8);
  int64_t rowBytes = (D + kPad) * 2;
  qBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
  kBase = add(qBase, shape.qShared ? blockRows * rowBytes : 0);
  vBase = add(kBase, kBlockKeys * rowBytes);
  qGlobal = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, q);
  kGlobal = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, k);
  vGlobal = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, v);
  tileRow0 = mul(queryTile, blockRows);
  warpRow = mul(warp, 16 * M);
  for (int64_t mt = 0; mt < M; ++mt) {
    Value row = add(add(add(tileRow0, warpRow), mt * 16), group);
    rows[0].push_back(row);
    rows[1].push_back(add(row, 8));
  }

  // Q: copied into shared memory as the first cp.async group, or loaded
  // into registers for the whole kernel. Rows past T read row T - 1; their
  // results are never stored.
  Value lastRow = idx(T - 1);
  Value quad2 = mul(quad, 2);
  if (shape.qShared) {
    copyRowsAsync(qGlobal, mul(add(mul(batch, H), head), T), tileRow0,
                  blockRows, T - 1, qBase);
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  } else {
    qFrag.resize(M);
    for (int64_t mt = 0; mt < M; ++mt) {
      Value qRow0 = minI(rows[0][mt], lastRow),
            qRow1 = minI(rows[1][mt], lastRow);
      for (int64_t kk = 0; kk < D / 16; ++kk) {
        Value col = add(quad2, kk * 16);
        Value col8 = add(col, 8);
        qFrag[mt].push_back(loadPair(q, {batch, head, qRow0, col}));
        qFrag[mt].push_back(loadPair(q, {batch, head, qRow1, col}));
        qFrag[mt].push_back(loadPair(q, {batch, head, qRow0, col8}));
        qFrag[mt].push_back(loadPair(q, {batch, head, qRow1, col8}));
      }
    }
  }

  SmallVector<Value> state;
  for (int64_t mt = 0; mt < M; ++mt) {
    state.append(D / 8 * 4, constF32(0.0));
    state.append({constF32(-INFINITY), constF32(-INFINITY), constF32(0.0),
                  constF32(0.0)});
  }

  Value count = visitCount();
  state = keyLoop(count, state);

  // O = acc / l; a row without visible keys (l = 0) stores 0.
  auto vecType = VectorType::get({2}, elem);
  const int64_t per = D / 8 * 4 + 4;
  for (int64_t mt = 0; mt < M; ++mt) {
    ArrayRef<Value> st = ArrayRef<Value>(state).slice(mt * per, per);
    for (int r = 0; r < 2; ++r) {
      Value l = quadReduce(st[D / 8 * 4 + 2 + r], /*isMax=*/false);
      Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l,
                                          constF32(0.0));
      Value inv = arith::SelectOp::create(
          b, loc, empty, constF32(0.0),
          arith::DivFOp::create(b, loc, constF32(1.0), l));
      Value row = rows[r][mt];
      auto inside = scf::IfOp::create(
          b, loc, cmp(arith::CmpIPredicate::slt, row, idx(T)), false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&inside.getThenRegion().front());
      for (int64_t dn = 0; dn < D / 8; ++dn) {
        Value lo = narrow(fmul(st[dn * 4 + 2 * r], inv));
        Value hi = narrow(fmul(st[dn * 4 + 2 * r + 1], inv));
        Value pair =
            vector::FromElementsOp::create(b, loc, vecType, ValueRange{lo, hi});
        vector::StoreOp::create(
            b, loc, pair, o, ValueRange{batch, head, row, add(quad2, dn * 8)},
            false, llvm::MaybeAlign(4));
      }
    }
  }
}
