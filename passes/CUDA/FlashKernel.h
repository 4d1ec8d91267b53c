//===- FlashKernel.h - The tensor-core attention kernel --------*- C++ -*-===//
//
// The kernel body FlashAttentionKernel.cpp places inside its gpu.launch
// (the design is described at the top of that file); FlashKernel.cpp emits
// it.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_FLASHKERNEL_H
#define KESTREL_PASSES_CUDA_FLASHKERNEL_H

#include "dialects/Kestrel.h"
#include "passes/Common/IRBuilder.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <array>
#include <optional>

namespace kestrel::cuda {

using namespace mlir;

constexpr int64_t kWarps = 4;
constexpr int64_t kBlockKeys = 64; // Bc
constexpr int64_t kPad = 8;        // shared-memory row padding, in elements
constexpr int64_t kKeyN8Tiles = kBlockKeys / 8; // n8 tiles of S per key tile
constexpr double kLog2e = 1.4426950408889634;

/// How one kernel divides its work: each warp owns `mTiles` m16 row tiles
/// (every K/V fragment it loads feeds that many mma), and Q sits in
/// registers or, when its fragments would not fit beside the accumulators,
/// in shared memory, re-read once per k-step.
struct KernelShape {
  int64_t mTiles;
  bool qShared;
  int64_t blockRows() const { return kWarps * 16 * mTiles; }
};

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

  // The steps of tileStep(), in order. Scores are [mt][n8 tile][4]: the
  // C fragments of each row tile's S = Q K^T.
  using Scores = SmallVector<SmallVector<SmallVector<Value>>>;
  /// What one row tile carries across key tiles: the O accumulators (D / 8
  /// n8 tiles x 4) and per row (g, g + 8) the running max and sum.
  struct RowTileState {
    SmallVector<Value> acc;
    std::array<Value, 2> m, l;
  };
  using RowTiles = SmallVector<RowTileState>;
  Scores queryKeyScores();
  /// Scale and soft cap into base 2 (only the soft cap when `fused`).
  void scaleScores(Scores &s, bool fused);
  /// -inf for the keys of step `i` (tile `keyTile`) a row cannot see.
  void maskScores(Scores &s, Value i, Value keyTile);
  void onlineSoftmax(SmallVector<SmallVector<Value>> &s, RowTileState &rt,
                     bool fused);
  /// O += P V over the V tile in shared memory.
  void accumulateValues(const Scores &s, RowTiles &rt);
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
  Value quad2, negInf; // 2 (lane % 4); -inf (set per key tile)
  SmallVector<SmallVector<Value>> qFrag; // [mt][D/16 * 4], when in registers
  // Block-sparse ops only (null otherwise).
  Value visits, counts, blockMap, queryTile;
  int64_t blockQ = 0, blockK = 0;
};

} // namespace kestrel::cuda

#endif // KESTREL_PASSES_CUDA_FLASHKERNEL_H
