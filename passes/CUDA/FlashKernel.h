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
#include "passes/CUDA/FlashTileWalk.h"
#include "passes/CUDA/MmaEmit.h"

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
class FlashKernel : FlashTileWalk {
public:
  FlashKernel(OpBuilder &b, Location loc, AttentionOp op, KernelShape shape,
              Value q, Value k, Value v, Value o, Value shared)
      : FlashTileWalk(b, loc, op, shape.blockRows(), kBlockKeys), shape(shape),
        q(q), k(k), v(v), o(o), shared(shared) {}

  using FlashTileWalk::setBlockSparse;
  void build(gpu::LaunchOp launch);

private:
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
    return emitLdMatrixX4(b, loc, address, trans, elem);
  }

  /// c += a * b on one m16n8k16 tile; `c` holds the 4 f32 accumulators.
  void mma(ArrayRef<Value> a, ArrayRef<Value> bOps, SmallVectorImpl<Value> &c) {
    emitMmaM16N8K16(b, loc, elem, a, bOps, c);
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

  KernelShape shape;
  Value q, k, v, o, shared;

  // Per-thread coordinates, set by build().
  Value batch, head, kvHead, tid, lane, group, quad, lane8, matrix;
  Value warpRow;                   // the warp's first row within the tile
  SmallVector<Value> rows[2];      // [r][mt]: rows g and g + 8 of row tile mt
  Value qBase, kBase, vBase;       // shared tiles' addresses, as integers
  Value qGlobal, kGlobal, vGlobal; // operands' global addresses
  Value quad2, negInf;             // 2 (lane % 4); -inf (set per key tile)
  SmallVector<SmallVector<Value>> qFrag; // [mt][D/16 * 4], when in registers
};

} // namespace kestrel::cuda

#endif // KESTREL_PASSES_CUDA_FLASHKERNEL_H
