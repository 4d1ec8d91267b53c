//===- FlashAttentionKernel.cpp -------------------------------------------===//
//
// Rewrites kestrel.attention with f16/bf16 storage into a gpu.launch whose
// body is a FlashAttention-2 style kernel built from the op's attributes:
//
//   grid  = (ceil(T / Br), B * H), block = 4 warps; warp w owns query rows
//           [Br x + R w, +R) of head h as R / 16 m16 row tiles (R =
//           rows-per-warp, 32 by default, Br = 4 R), so each K/V fragment
//           it loads feeds R / 16 mma. Q fragments live in registers, or in
//           shared memory when they would not fit (two row tiles at
//           D = 128), re-read with ldmatrix once per k-step;
//   loop over the key tiles (64 keys) this query tile can see -- sink tiles
//           first, then the causal/window band, so fully masked tiles are
//           never loaded. K and V tiles of the KV head h / g arrive in
//           shared memory by cp.async (16-byte copies, rows padded by 8
//           elements against bank conflicts), software-pipelined: K(j + 1)
//           loads during step j's softmax and P V, V(j + 1) during step
//           j + 1's Q K^T --
//     S = Q K^T with mma.sync m16n8k16 (f32 accumulation), k-steps
//           outermost;
//     scale, soft-cap; mask only tiles that straddle a mask edge or S;
//           online softmax in base 2 with the row max reduced over the 4
//           lanes that share a row;
//     O += P V with mma.sync, P taken straight from the S accumulators
//           (the C fragment of two n8 tiles is the A fragment of one k16,
//           rounded pairwise with one cvt.rn.{bf16x2,f16x2}).
//   O / l, rows that saw no key give 0.
//
// All shared tiles live in one dynamic shared memory buffer (Q, K, V), so
// the kernel can exceed the 48 KiB of static shared memory; the runtime
// opts such kernels in.
//
// Fragment layouts follow the PTX ISA's mma.m16n8k16 description: lane
// l = 4 g + q holds rows g and g + 8 and columns 2q, 2q + 1 (+8).
//
// The kernel is written with gpu, memref, vector, arith, math, scf and the
// nvvm.mma.sync op, so the rest of kestrel-cuda-pipeline lowers it like the
// naive kernels. Ops this kernel does not cover (f32, head dims other than
// 64/128/256, Dv != D, dynamic shapes, key lengths, the lse result)
// are left to the reference lowering.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/AttentionMask.h"
#include "dialects/Kestrel.h"
#include "passes/Common/IRBuilder.h"

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

#include <cmath>

namespace kestrel {
#define GEN_PASS_DEF_GPUFLASHATTENTION
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

constexpr int64_t kWarps = 4;
constexpr int64_t kBlockKeys = 64; // Bc
constexpr int64_t kPad = 8;        // shared-memory row padding, in elements
/// rows-per-warp=0 picks 16 when 32 would launch fewer blocks than this.
constexpr int64_t kAutoMinBlocks = 132;

/// How one kernel divides its work: each warp owns `mTiles` m16 row tiles
/// (every K/V fragment it loads feeds that many mma), and Q sits in
/// registers or, when its fragments would not fit beside the accumulators,
/// in shared memory, re-read once per k-step.
struct KernelShape {
  int64_t mTiles;
  bool qShared;
  int64_t blockRows() const { return kWarps * 16 * mTiles; }
};

KernelShape chooseShape(int64_t headDim, int64_t rowsPerWarp) {
  int64_t mTiles = rowsPerWarp / 16;
  // Q fragments take mTiles * D / 4 registers per thread, beside
  // mTiles * D / 2 accumulators and mTiles * 32 scores: at D = 128 with two
  // row tiles (or D = 256 with one) that would be 256, so Q moves to shared
  // memory there.
  return {mTiles, mTiles * headDim > 128};
}

/// Bytes of dynamic shared memory: the padded Q tile (when shared), then
/// the K and V tiles.
int64_t sharedBytes(const KernelShape &shape, int64_t headDim) {
  int64_t row = (headDim + kPad) * 2;
  return (shape.qShared ? shape.blockRows() * row : 0) + 2 * kBlockKeys * row;
}

/// Why `op` cannot use the tensor-core kernel, or an empty string.
std::string unsupportedReason(AttentionOp op) {
  auto qType = op.getQuery().getType();
  Type elem = qType.getElementType();
  if (!elem.isF16() && !elem.isBF16())
    return "storage type is not f16 or bf16";
  for (Value v : {op.getKey(), op.getValue(), op.getResult()})
    if (cast<RankedTensorType>(v.getType()).getElementType() != elem)
      return "operands mix element types";
  if (!qType.hasStaticShape() || !op.getKey().getType().hasStaticShape() ||
      !op.getValue().getType().hasStaticShape())
    return "shapes are not static";
  if (op.getHeadDim() != op.getValueDim())
    return "Dv differs from D";
  if (op.getHeadDim() != 64 && op.getHeadDim() != 128 && op.getHeadDim() != 256)
    return "head dim is not 64, 128 or 256";
  // Features this kernel does not implement are left to the reference
  // lowering, never dropped.
  if (op.getKeyLengths())
    return "runtime key lengths";
  if (op.getLse())
    return "log-sum-exp result";
  for (NamedAttribute attr : op->getDiscardableAttrs())
    return ("attribute '" + attr.getName().strref() + "'").str();
  return "";
}

/// Builds the kernel body inside a gpu.launch.
class FlashKernel : IREmitter {
public:
  FlashKernel(OpBuilder &b, Location loc, AttentionOp op, KernelShape shape,
              Value q, Value k, Value v, Value o, Value shared)
      : IREmitter(b, loc), shape(shape), q(q), k(k), v(v), o(o),
        shared(shared) {
    if (auto sizes = op.getBlockSize()) {
      blockQ = (*sizes)[0];
      blockK = (*sizes)[1];
    }
    elem = op.getQuery().getType().getElementType();
    B = op.getBatch();
    H = op.getNumHeads();
    Hkv = op.getNumKvHeads();
    T = op.getQueryLen();
    S = op.getKeyLen();
    D = op.getHeadDim();
    causal = op.getCausal();
    window = op.getWindow().value_or(0);
    sinks = op.getSinks().value_or(0);
    scale = op.getEffectiveScale();
    if (auto cap = op.getSoftcap())
      softcap = cap->convertToDouble();
  }

  /// Block-sparse ops: the visit table ([query tiles, max visits] i32,
  /// entry = 2 * key tile + needs-mask), its row lengths ([query tiles]
  /// i32) and the block map ([T / bq, S / bk] i8), all in global memory.
  void setBlockSparse(Value visitTable, Value visitCounts, Value map) {
    visits = visitTable;
    counts = visitCounts;
    blockMap = map;
  }

  void build(gpu::LaunchOp launch);

private:
  // Scalars (the rest come from IREmitter).
  /// 2^x with ex2.approx.ftz: one MUFU instruction. (math.exp2 becomes
  /// libdevice's __nv_exp2f, which adds denormal scaling around it; softmax
  /// weights below 2^-126 are negligible next to the row sum, which is >= 1.)
  Value exp2(Value x) {
    return LLVM::CallIntrinsicOp::create(
               b, loc, b.getF32Type(),
               b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"), ValueRange{x})
        ->getResult(0);
  }

  /// Two adjacent elements of `mem` at `indices` (last index even), as one
  /// mma operand register: vector<2xf16> for f16, i32 for bf16.
  Value loadPair(Value mem, ValueRange indices) {
    auto vecType = VectorType::get({2}, elem);
    Value pair =
        vector::LoadOp::create(b, loc, vecType, mem, indices,
                               /*nontemporal=*/false, llvm::MaybeAlign(4));
    return asOperand(pair);
  }
  Value asOperand(Value pair) {
    if (elem.isF16())
      return pair;
    Value word = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), pair);
    return vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
  }
  Value narrow(Value x) { return arith::TruncFOp::create(b, loc, elem, x); }
  /// Two f32 values rounded to the storage type as one operand register
  /// (one cvt.rn.{bf16x2,f16x2}.f32 instead of two conversions).
  Value narrowPair(Value lo, Value hi) {
    Value wide = vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, b.getF32Type()), ValueRange{lo, hi});
    return asOperand(
        arith::TruncFOp::create(b, loc, VectorType::get({2}, elem), wide));
  }

  /// The address of tile[row, col] in shared memory, from the tile's base
  /// address (an integer) and its padded row length.
  Value sharedAddress(Value base, Value row, Value col) {
    Value offset = add(mul(row, D + kPad), col);
    Value bytes = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                             add(base, mul(offset, 2)));
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3), bytes);
  }

  /// ldmatrix.x4 (transposed with `trans`): lane l passes the address of
  /// row l % 8 of 8x8 matrix l / 8 and receives, per matrix, the mma
  /// operand register of its fragment position.
  SmallVector<Value> loadMatrices(Value address, bool trans) {
    Type i32 = b.getI32Type();
    auto type =
        LLVM::LLVMStructType::getLiteral(b.getContext(), {i32, i32, i32, i32});
    Value regs = NVVM::LdMatrixOp::create(
        b, loc, type, address, 4,
        trans ? NVVM::MMALayout::col : NVVM::MMALayout::row,
        NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
        NVVM::LdStMatrixEltType::B16);
    SmallVector<Value> out;
    for (int64_t i = 0; i < 4; ++i) {
      Value word = LLVM::ExtractValueOp::create(b, loc, regs, i);
      if (elem.isF16())
        word =
            LLVM::BitcastOp::create(b, loc, VectorType::get({2}, elem), word);
      out.push_back(word);
    }
    return out;
  }

  /// c += a * b on one m16n8k16 tile; `c` holds the 4 f32 accumulators.
  void mma(ArrayRef<Value> a, ArrayRef<Value> bOps, SmallVectorImpl<Value> &c) {
    Type f32Type = b.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), {f32Type, f32Type, f32Type, f32Type});
    NVVM::MMATypes ptx =
        elem.isF16() ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
    Value d = NVVM::MmaOp::create(
        b, loc, resultType, a, bOps, c, ArrayRef<int64_t>{16, 8, 16},
        std::nullopt, std::nullopt, std::array<NVVM::MMATypes, 2>{ptx, ptx},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    for (int64_t i = 0; i < 4; ++i)
      c[i] = LLVM::ExtractValueOp::create(b, loc, d, i);
  }

  /// `x` combined over the 4 lanes of a quad (the lanes sharing a row).
  Value quadReduce(Value x, bool isMax) {
    for (int32_t offset : {1, 2}) {
      Value other =
          gpu::ShuffleOp::create(b, loc, x, offset, 32, gpu::ShuffleMode::XOR)
              .getShuffleResult();
      x = isMax ? fmax(x, other) : fadd(x, other);
    }
    return x;
  }

  /// Issues cp.async copies of `rows` rows of `src` (global address
  /// `srcBase`, element offset `rowBase` of its row 0, rows clamped to
  /// `lastRow`) starting at `firstRow`, into the padded shared tile at
  /// `dstBase`; the caller commits them as a group.
  void copyRowsAsync(Value srcBase, Value rowBase, Value firstRow, int64_t rows,
                     int64_t lastRow, Value dstBase);
  void copyKeyTileAsync(Value srcBase, Value dstBase, Value keyTile);
  /// Waits for the older of the two copy groups in flight and publishes it
  /// to the block.
  void waitForTile();
  /// The key tile visited at step `i`: tiles [0, sinkTiles), then tiles
  /// from `bandLo` on.
  Value tileOf(Value i);
  /// Whether some score of `keyTile` may be masked for this query tile.
  Value needsMask(Value keyTile);
  /// Block-sparse ops: the visit table's needs-mask bit of step `i`.
  Value visitNeedsMask(Value i);
  void ifThen(Value cond, llvm::function_ref<void()> body);
  /// The A fragment (4 registers) of k-step `kk` of row tile `mt`.
  SmallVector<Value> queryFragment(int64_t mt, int64_t kk);
  /// Processes `count` key tiles over the loop-carried state.
  SmallVector<Value> keyLoop(Value count, ValueRange state);
  SmallVector<Value> tileStep(Value i, Value count, ValueRange state);
  Value visible(Value row, Value key);

  KernelShape shape;
  Value q, k, v, o, shared;
  Type elem;
  int64_t B, H, Hkv, T, S, D, window, sinks;
  bool causal;
  double scale;
  std::optional<double> softcap;

  // Per-thread coordinates, set by build().
  Value batch, head, kvHead, tid, lane, group, quad, lane8, matrix;
  Value warpRow;                   // the warp's first row within the tile
  SmallVector<Value> rows[2];      // [r][mt]: rows g and g + 8 of row tile mt
  Value qBase, kBase, vBase;       // shared tiles' addresses, as integers
  Value qGlobal, kGlobal, vGlobal; // operands' global addresses
  Value tileRow0;                  // the query tile's first row
  Value bandLo, sinkTiles;
  SmallVector<SmallVector<Value>> qFrag; // [mt][D/16 * 4], when in registers
  // Block-sparse ops only (null otherwise).
  Value visits, counts, blockMap, queryTile;
  int64_t blockQ = 0, blockK = 0;
};

Value FlashKernel::visible(Value row, Value key) {
  Value ok = cmp(arith::CmpIPredicate::slt, key, idx(S));
  if (blockMap) {
    // Rows past T and keys past S read an in-bounds entry; `ok` already
    // hides those keys and those rows are never stored.
    Value qb = div(minI(row, idx(T - 1)), blockQ);
    Value kb = div(minI(key, idx(S - 1)), blockK);
    Value bit = memref::LoadOp::create(b, loc, blockMap, ValueRange{qb, kb});
    ok = arith::AndIOp::create(
        b, loc, ok,
        arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ne, bit,
            arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0)));
  }
  if (!causal)
    return ok;
  Value last = add(row, S - T); // the last key row `row` sees
  ok = arith::AndIOp::create(b, loc, ok,
                             cmp(arith::CmpIPredicate::sle, key, last));
  if (window > 0) {
    Value inBand = cmp(arith::CmpIPredicate::sgt, key, add(last, -window));
    if (sinks > 0)
      inBand = arith::OrIOp::create(
          b, loc, inBand, cmp(arith::CmpIPredicate::slt, key, idx(sinks)));
    ok = arith::AndIOp::create(b, loc, ok, inBand);
  }
  return ok;
}

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

Value FlashKernel::tileOf(Value i) {
  if (visits) {
    // The last step asks for the tile after the last visit: clamp (its copy
    // is not issued).
    Value at =
        minI(i, idx(cast<MemRefType>(visits.getType()).getDimSize(1) - 1));
    Value entry =
        memref::LoadOp::create(b, loc, visits, ValueRange{queryTile, at});
    return arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::ShRUIOp::create(
            b, loc, entry,
            arith::ConstantIntOp::create(b, loc, b.getI32Type(), 1)));
  }
  Value inBand = cmp(arith::CmpIPredicate::sge, i, sinkTiles);
  return arith::SelectOp::create(
      b, loc, inBand, add(bandLo, arith::SubIOp::create(b, loc, i, sinkTiles)),
      i);
}

Value FlashKernel::visitNeedsMask(Value i) {
  Value entry =
      memref::LoadOp::create(b, loc, visits, ValueRange{queryTile, i});
  Value bit = arith::AndIOp::create(
      b, loc, entry, arith::ConstantIntOp::create(b, loc, b.getI32Type(), 1));
  return arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne, bit,
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0));
}

Value FlashKernel::needsMask(Value keyTile) {
  // A tile needs no mask when every key in it is visible to every row of
  // the query tile: inside [0, S), at or before the first row's last key
  // (causal), and after the last row's band start (window).
  Value first = mul(keyTile, kBlockKeys);
  Value last = add(first, kBlockKeys - 1);
  Value need = cmp(arith::CmpIPredicate::sge, last, idx(S));
  if (!causal)
    return need;
  need = arith::OrIOp::create(
      b, loc, need, cmp(arith::CmpIPredicate::sgt, last, add(tileRow0, S - T)));
  if (window > 0)
    need = arith::OrIOp::create(
        b, loc, need,
        cmp(arith::CmpIPredicate::sle, first,
            add(tileRow0, shape.blockRows() - 1 + S - T - window)));
  return need;
}

void FlashKernel::ifThen(Value cond, llvm::function_ref<void()> body) {
  auto op = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&op.getThenRegion().front());
  body();
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
  SmallVector<SmallVector<Value>> acc(M);
  SmallVector<std::array<Value, 2>> m(M), l(M);
  for (int64_t mt = 0; mt < M; ++mt) {
    ValueRange st = state.slice(mt * per, per);
    acc[mt].assign(st.begin(), st.begin() + nAcc);
    m[mt] = {st[nAcc], st[nAcc + 1]};
    l[mt] = {st[nAcc + 2], st[nAcc + 3]};
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

  // S = Q K^T: 8 n8 tiles of keys per row tile, k-steps outermost so each
  // K fragment (and, from shared memory, each Q fragment) is loaded once.
  // Lane l addresses row l % 8 of matrix l / 8: for K the matrices are the
  // head-dim blocks [8 j, 8 j + 8) of 8 keys, i.e. (b0, b1) of two k-steps.
  constexpr int64_t nTiles = kBlockKeys / 8;
  SmallVector<SmallVector<SmallVector<Value>>> s(
      M, SmallVector<SmallVector<Value>>(nTiles));
  for (int64_t mt = 0; mt < M; ++mt)
    for (int64_t n = 0; n < nTiles; ++n)
      s[mt][n].assign(4, constF32(0.0));
  Value quad2 = mul(quad, 2);
  for (int64_t kk = 0; kk < D / 16; kk += 2) {
    SmallVector<SmallVector<Value>> a0(M), a1(M);
    for (int64_t mt = 0; mt < M; ++mt) {
      a0[mt] = queryFragment(mt, kk);
      a1[mt] = queryFragment(mt, kk + 1);
    }
    for (int64_t n = 0; n < nTiles; ++n) {
      SmallVector<Value> regs = loadMatrices(
          sharedAddress(kBase, add(lane8, n * 8), add(mul(matrix, 8), kk * 16)),
          /*trans=*/false);
      for (int64_t mt = 0; mt < M; ++mt) {
        mma(a0[mt], {regs[0], regs[1]}, s[mt][n]);
        mma(a1[mt], {regs[2], regs[3]}, s[mt][n]);
      }
    }
  }

  // Every warp is done with the K tile: start loading the next one.
  gpu::BarrierOp::create(b, loc);
  ifThen(hasNext, [&] { copyKeyTileAsync(kGlobal, kBase, nextTile); });
  NVVM::CpAsyncCommitGroupOp::create(b, loc);

  // Scores in base 2: x = log2(e) * (softcap?) (scale * q.k), masked.
  // Without a soft cap and with a positive scale, the scores stay raw: the
  // max commutes with the scaling, and exp2 takes fma(s, c, -c max).
  constexpr double log2e = 1.4426950408889634;
  const bool fused = !softcap && scale > 0;
  const double c = scale * log2e;
  Value negInf = constF32(-INFINITY);
  for (auto &tiles : s)
    for (auto &tile : tiles)
      for (Value &x : tile) {
        if (softcap) {
          x = fmul(x, constF32(scale / *softcap));
          x = fmul(math::TanhOp::create(b, loc, x), constF32(*softcap * log2e));
        } else if (!fused) {
          x = fmul(x, constF32(c));
        }
      }
  // Masking only where the tile straddles a mask edge (or S): interior
  // tiles skip the index arithmetic. Without a causal mask and with S a
  // multiple of the tile, no tile needs it.
  if (causal || S % kBlockKeys != 0 || visits) {
    SmallVector<Value> flat;
    for (auto &tiles : s)
      for (auto &tile : tiles)
        flat.append(tile);
    SmallVector<Type> types(flat.size(), b.getF32Type());
    Value need = visits ? visitNeedsMask(i) : needsMask(keyTile);
    auto masked = scf::IfOp::create(b, loc, types, need,
                                    /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&masked.getThenRegion().front());
      Value keyBase = add(mul(keyTile, kBlockKeys), quad2);
      SmallVector<Value> out;
      for (int64_t mt = 0; mt < M; ++mt)
        for (int64_t n = 0; n < nTiles; ++n)
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

  // Online softmax per row tile: new running max, rescale of what was
  // accumulated.
  for (int64_t mt = 0; mt < M; ++mt) {
    Value tileMax[2] = {negInf, negInf};
    for (int64_t n = 0; n < nTiles; ++n)
      for (int64_t e = 0; e < 4; ++e)
        tileMax[e / 2] = fmax(tileMax[e / 2], s[mt][n][e]);
    Value alpha[2], negM[2];
    for (int r = 0; r < 2; ++r) {
      Value rowMax = quadReduce(tileMax[r], /*isMax=*/true);
      if (fused)
        rowMax = fmul(rowMax, constF32(c));
      Value mNew = fmax(m[mt][r], rowMax);
      // A row that has seen only masked keys keeps max -inf; subtracting 0
      // instead keeps exp2(-inf - x) = 0 rather than NaN.
      Value allMasked = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                              mNew, negInf);
      Value mUse =
          arith::SelectOp::create(b, loc, allMasked, constF32(0.0), mNew);
      alpha[r] = exp2(fsub(m[mt][r], mUse));
      negM[r] = arith::NegFOp::create(b, loc, mUse);
      m[mt][r] = mNew;
    }
    Value rowSum[2] = {constF32(0.0), constF32(0.0)};
    for (int64_t n = 0; n < nTiles; ++n)
      for (int64_t e = 0; e < 4; ++e) {
        // llvm.intr.fma, not math.fma: the pipeline's math-expand-ops
        // would split the latter into a multiply and an add.
        Value x = s[mt][n][e];
        Value shifted =
            fused ? LLVM::FMAOp::create(b, loc, x, constF32(c), negM[e / 2])
                        .getResult()
                  : fadd(x, negM[e / 2]);
        s[mt][n][e] = exp2(shifted);
        rowSum[e / 2] = fadd(rowSum[e / 2], s[mt][n][e]);
      }
    for (int r = 0; r < 2; ++r)
      l[mt][r] = fadd(fmul(l[mt][r], alpha[r]), rowSum[r]);
    for (int64_t j = 0; j < nAcc; ++j)
      acc[mt][j] = fmul(acc[mt][j], alpha[(j % 4) / 2]);
  }

  // O += P V: P's C fragments of n8 tiles 2t, 2t+1 are the A fragment of
  // the k16 step t; each V fragment feeds every row tile.
  waitForTile();
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
          SmallVector<Value> cfrag(acc[mt].begin() + at,
                                   acc[mt].begin() + at + 4);
          mma(a[mt], {regs[2 * half], regs[2 * half + 1]}, cfrag);
          llvm::copy(cfrag, acc[mt].begin() + at);
        }
    }
  }
  // Every warp is done with the V tile: start loading the next one.
  gpu::BarrierOp::create(b, loc);
  ifThen(hasNext, [&] { copyKeyTileAsync(vGlobal, vBase, nextTile); });
  NVVM::CpAsyncCommitGroupOp::create(b, loc);

  SmallVector<Value> carried;
  for (int64_t mt = 0; mt < M; ++mt) {
    carried.append(acc[mt]);
    carried.append({m[mt][0], m[mt][1], l[mt][0], l[mt][1]});
  }
  return carried;
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

  // The key tiles this query tile can see: with a causal mask, keys up to
  // the last row's position; with a window, from the first row's band
  // start, plus the sink tiles before the band. One loop walks the sink
  // tiles, then the band (one copy of the body keeps register use down).
  int64_t numKeyTiles = (S + kBlockKeys - 1) / kBlockKeys;
  Value bandHi = idx(numKeyTiles);
  bandLo = idx(0);
  sinkTiles = idx(0);
  if (causal) {
    Value lastKey = add(minI(add(tileRow0, blockRows - 1), lastRow), S - T);
    Value end = minI(add(lastKey, 1), idx(S));
    bandHi = div(add(maxI(end, idx(0)), kBlockKeys - 1), kBlockKeys);
    if (window > 0) {
      Value firstKey = maxI(add(tileRow0, S - T - window + 1), idx(0));
      bandLo = minI(div(firstKey, kBlockKeys), bandHi);
      if (sinks > 0)
        sinkTiles = minI(idx((sinks + kBlockKeys - 1) / kBlockKeys), bandLo);
    }
  }
  Value count = add(sinkTiles, arith::SubIOp::create(b, loc, bandHi, bandLo));
  // Block-sparse: the visit list decided at compile time (every tile pair
  // classified as kestrel-specialize-sparsity does, AttentionMask.h).
  if (visits)
    count = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        memref::LoadOp::create(b, loc, counts, ValueRange{queryTile}));
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

struct GpuFlashAttentionPass
    : kestrel::impl::GpuFlashAttentionBase<GpuFlashAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    if (rowsPerWarp != 0 && rowsPerWarp != 16 && rowsPerWarp != 32) {
      getOperation().emitError()
          << "kestrel-gpu-flash-attention: rows-per-warp must be 0 (auto), "
             "16 or 32, got "
          << static_cast<int64_t>(rowsPerWarp);
      return signalPassFailure();
    }
    SmallVector<AttentionOp> ops;
    getOperation().walk([&](AttentionOp op) {
      if (unsupportedReason(op).empty())
        ops.push_back(op);
    });
    for (AttentionOp op : ops)
      rewrite(op);
  }

  void rewrite(AttentionOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto toBuffer = [&](Value tensor) {
      auto type = cast<RankedTensorType>(tensor.getType());
      return bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()),
          tensor, /*read_only=*/true);
    };
    Value q = toBuffer(op.getQuery()), k = toBuffer(op.getKey()),
          v = toBuffer(op.getValue());
    auto resultType = op.getResult().getType();
    Value out = memref::AllocOp::create(
        b, loc,
        MemRefType::get(resultType.getShape(), resultType.getElementType()));

    // Auto: two row tiles per warp, unless the grid would then leave SMs
    // idle (an H100 has 132; small problems run faster on more, smaller
    // blocks).
    int64_t rowsWanted = rowsPerWarp;
    if (rowsWanted == 0) {
      int64_t blocks =
          (op.getQueryLen() + 127) / 128 * op.getBatch() * op.getNumHeads();
      rowsWanted = blocks < kAutoMinBlocks ? 16 : 32;
    }
    // At D = 256 one row tile already holds 128 accumulators per thread.
    if (op.getHeadDim() == 256)
      rowsWanted = 16;
    KernelShape shape = chooseShape(op.getHeadDim(), rowsWanted);

    // Block-sparse: classify every (query tile, key tile) pair at compile
    // time -- skipped, full or partial, exactly as kestrel-specialize-sparsity
    // does (AttentionMask.h) -- and hand the kernel, per query tile, the key
    // tiles to visit with a needs-mask bit, plus the block map for the
    // element mask of partial tiles. The tables are constants (uploaded with
    // the model's weights on cuda).
    Value visitTable, visitCounts, blockMap;
    if (DenseIntElementsAttr map = op.getBlockMapAttr()) {
      int64_t T = op.getQueryLen(), S = op.getKeyLen();
      int64_t br = shape.blockRows();
      int64_t nQ = llvm::divideCeil(T, br),
              nK = llvm::divideCeil(S, kBlockKeys);
      AttentionMask mask(T, S, op.getCausal(),
                         static_cast<int64_t>(op.getWindow().value_or(0)),
                         static_cast<int64_t>(op.getSinks().value_or(0)));
      std::vector<bool> allowed;
      SmallVector<int8_t> mapBytes;
      for (const APInt &bit : map.getValues<APInt>()) {
        allowed.push_back(!bit.isZero());
        mapBytes.push_back(bit.isZero() ? 0 : 1);
      }
      ArrayRef<int64_t> sizes = *op.getBlockSize();
      mask.setBlockMap(std::move(allowed), sizes[0], sizes[1]);
      SmallVector<SmallVector<int32_t>> lists(nQ);
      int64_t widest = 1;
      for (int64_t i = 0; i < nQ; ++i) {
        for (int64_t j = 0; j < nK; ++j) {
          TileClass c =
              mask.classify(i * br, std::min(T, (i + 1) * br), j * kBlockKeys,
                            std::min(S, (j + 1) * kBlockKeys));
          if (c == TileClass::Skip)
            continue;
          // A tile running past S holds padding keys: always masked.
          bool partial = c == TileClass::Partial || (j + 1) * kBlockKeys > S;
          lists[i].push_back(static_cast<int32_t>(2 * j + (partial ? 1 : 0)));
        }
        widest = std::max<int64_t>(widest, lists[i].size());
      }
      SmallVector<int32_t> table, lengths;
      for (auto &list : lists) {
        lengths.push_back(static_cast<int32_t>(list.size()));
        table.append(list);
        table.append(widest - list.size(), 0);
      }
      auto constantBuffer = [&](ArrayRef<int64_t> shape, Type type,
                                DenseElementsAttr data) -> Value {
        Value t = arith::ConstantOp::create(b, loc, data);
        return bufferization::ToBufferOp::create(
            b, loc, MemRefType::get(shape, type), t, /*read_only=*/true);
      };
      Type i32 = b.getI32Type(), i8 = b.getI8Type();
      visitTable = constantBuffer(
          {nQ, widest}, i32,
          DenseElementsAttr::get(RankedTensorType::get({nQ, widest}, i32),
                                 ArrayRef<int32_t>(table)));
      visitCounts = constantBuffer(
          {nQ}, i32,
          DenseElementsAttr::get(RankedTensorType::get({nQ}, i32),
                                 ArrayRef<int32_t>(lengths)));
      auto mapShape = cast<ShapedType>(map.getType()).getShape();
      blockMap = constantBuffer(
          mapShape, i8,
          DenseElementsAttr::get(RankedTensorType::get(mapShape, i8),
                                 ArrayRef<int8_t>(mapBytes)));
    }
    auto idx = [&](int64_t c) {
      return arith::ConstantIndexOp::create(b, loc, c);
    };
    Value one = idx(1);
    int64_t rows = shape.blockRows();
    // Dynamic shared memory: above 48 KiB (Q in shared memory at D = 128)
    // the runtime opts the kernel in (docs/runtime.md).
    Value smem = arith::ConstantIntOp::create(
        b, loc, b.getI32Type(), sharedBytes(shape, op.getHeadDim()));
    auto launch = gpu::LaunchOp::create(
        b, loc, idx((op.getQueryLen() + rows - 1) / rows),
        idx(op.getBatch() * op.getNumHeads()), one, idx(kWarps * 32), one, one,
        smem, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/ValueRange{});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&launch.getBody().front());
      auto workgroup = gpu::AddressSpaceAttr::get(
          b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
      Value shared = gpu::DynamicSharedMemoryOp::create(
          b, loc,
          MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                          MemRefLayoutAttrInterface(), workgroup));
      FlashKernel kernel(b, loc, op, shape, q, k, v, out, shared);
      if (visitTable)
        kernel.setBlockSparse(visitTable, visitCounts, blockMap);
      kernel.build(launch);
      gpu::TerminatorOp::create(b, loc);
    }
    Value result = bufferization::ToTensorOp::create(
        b, loc, resultType, out, /*restrict=*/true, /*writable=*/true);
    op.getResult().replaceAllUsesWith(result);
    op.erase();
  }
};

} // namespace
