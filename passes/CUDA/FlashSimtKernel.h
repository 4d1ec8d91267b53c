//===- FlashSimtKernel.h - The f32 SIMT attention kernel --------*- C++ -*-===//
//
// The kernel body FlashAttentionKernel.cpp places inside its gpu.launch for
// f32 attention (the design is described at the top of
// FlashSimtKernel.cpp, which emits it).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_FLASHSIMTKERNEL_H
#define KESTREL_PASSES_CUDA_FLASHSIMTKERNEL_H

#include "passes/CUDA/FlashTileWalk.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace kestrel::cuda {

constexpr int64_t kSimtThreads = 128;
constexpr int64_t kSimtKeyLanes = 8;   // lanes sharing a row group
constexpr int64_t kSimtRowGroups = 16; // kSimtThreads / kSimtKeyLanes
constexpr int64_t kSimtPad = 4;        // shared row padding, in floats

/// How the f32 kernel divides a query tile: each thread owns
/// `rowsPerThread` rows (of 16 row groups) and, of every key tile of
/// `tileKeys` keys, the keys congruent to its lane mod 8.
struct SimtPlan {
  int64_t rowsPerThread; // 2 or 4
  int64_t tileKeys;      // 32 or 64
  int64_t tileRows() const { return kSimtRowGroups * rowsPerThread; }
};

/// Bytes of dynamic shared memory: padded Q, K, V and P tiles (f32).
int64_t simtSharedBytes(const SimtPlan &plan, int64_t headDim,
                        int64_t valueDim);

/// Builds the kernel body inside a gpu.launch of
/// (ceil(T / tileRows), B * H) blocks of 128 threads.
class FlashSimtKernel : FlashTileWalk {
public:
  FlashSimtKernel(OpBuilder &b, Location loc, AttentionOp op, SimtPlan plan,
                  Value q, Value k, Value v, Value o, Value lse, Value shared)
      : FlashTileWalk(b, loc, op, plan.tileRows(), plan.tileKeys), plan(plan),
        q(q), k(k), v(v), o(o), lse(lse), shared(shared) {}

  using FlashTileWalk::setBlockSparse;
  void build(gpu::LaunchOp launch);

private:
  /// Carried per row: running max (base 2), this lane's partial sum, and
  /// the lane's accumulators (Dv / 32 groups of 4 columns).
  struct RowState {
    Value m, l;
    SmallVector<Value> acc;
  };
  using Rows = SmallVector<RowState>;
  /// Scores [row][key j]: key kg + 8 j of the tile.
  using Scores = SmallVector<SmallVector<Value>>;

  Value sharedView(int64_t byteOffset, int64_t rows, int64_t cols);
  /// cp.async of `rows` rows (of `width` floats) of the operand at global
  /// address `srcBase`, starting at row `firstRow` of the slab at element
  /// row `rowBase`, clamped to `lastRow`, into the padded tile at shared
  /// address `dstBase`. The caller commits the group.
  void copyRowsAsync(Value srcBase, Value rowBase, Value firstRow, int64_t rows,
                     int64_t lastRow, int64_t width, Value dstBase);
  void copyKeyTileAsync(Value srcBase, int64_t width, Value dstBase,
                        Value keyTile);
  void waitForTile();
  Value rowReduce(Value x, bool isMax);
  SmallVector<Value> keyLoop(Value count, ValueRange state);
  SmallVector<Value> tileStep(Value i, Value count, ValueRange state);
  Scores queryKeyScores();
  void scaleAndMask(Scores &s, Value i, Value keyTile, bool fused);
  void softmaxToShared(Scores &s, Rows &rows, bool fused);
  void accumulateValues(Rows &rows);
  void store(ArrayRef<Value> state);

  SimtPlan plan;
  Value q, k, v, o, lse, shared;
  // Per-thread coordinates and shared tiles, set by build().
  Value batch, head, kvHead, tid, rowGroup, keyLane, localRow0;
  Value qTile, kTile, vTile, pTile; // typed views of shared memory
  Value kAddr, vAddr, qAddr;        // their addresses, as integers
  Value qGlobal, kGlobal, vGlobal, negInf;
};

} // namespace kestrel::cuda

#endif // KESTREL_PASSES_CUDA_FLASHSIMTKERNEL_H
