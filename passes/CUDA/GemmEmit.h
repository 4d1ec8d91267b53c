//===- GemmEmit.h - Shared IR building of the GEMM kernels ------*- C++ -*-===//
//
// What the tensor-core (GemmKernel.cpp) and the f32 SIMT (GemmSimtKernel.cpp)
// kernels of kestrel-gpu-gemm share: index arithmetic, the block -> tile
// order, the cp.async tile copies of a K step into a shared-memory stage
// (the layout of the stage is the kernel's, given as a function), and the
// epilogue's handling of C's init value.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_GEMMEMIT_H
#define KESTREL_PASSES_CUDA_GEMMEMIT_H

#include "passes/CUDA/GemmPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <functional>
#include <optional>

namespace kestrel {

/// One operand's tile loads: which elements each thread copies per K step,
/// decided once before the K loop.
struct TileCopies {
  int64_t strideK;    // element stride along k
  int64_t bytes;      // bytes per copy
  int64_t elemBytes;  // bytes per element
  int64_t tileOffset; // bytes from the stage's start
  bool checkK;        // K is not a multiple of tile_k
  // Per copy of this thread: global byte address at k = 0 (index), k within
  // the tile, in-bounds flag along M/N (null: always), whether the thread
  // has this copy at all (null: always; false past the tile's last copy
  // when the copies do not divide over the threads), byte offset within
  // the tile.
  llvm::SmallVector<mlir::Value> src, kIn, valid, issue, smem;
};

/// Where the element (mn, k) of a tile lands: byte offset within the tile.
using TileLayout =
    llvm::function_ref<mlir::Value(mlir::Value mn, mlir::Value k)>;

/// Where a block of a launch works: its C tile and the element offsets of
/// its batch in A, B and C. `active` (null: always) false means the block
/// has no tile and exits; `rowLimit` (null: the problem's static M) bounds
/// the rows of A and C that exist for this block (ragged M).
struct BlockOrigin {
  mlir::Value row, col, batchA, batchB, batchC;
  mlir::Value active, rowLimit;
};

/// How a grouped GEMM (the expert products of kestrel-gpu-moe,
/// docs/pipelines.md) departs from a plain contraction; both kernels take
/// it. Unset members keep the contraction's behaviour.
struct GemmHooks {
  /// The block's tile (replaces GemmEmitter::blockOrigin).
  std::function<BlockOrigin(mlir::gpu::LaunchOp)> origin;
  /// Byte address (index) of element k = 0 of A row `m` / of B column `n`
  /// (rows and columns as `origin` numbers them, already clamped into the
  /// rows that exist): gathers A rows through a permutation, picks B's
  /// columns from several weights.
  std::function<mlir::Value(mlir::Value m)> rowA;
  std::function<mlir::Value(mlir::Value n)> colB;
  /// Replaces the epilogue. Accumulator i (f32) of this lane is C element
  /// (row0 + at[i].first, col0 + at[i].second) of the problem.
  std::function<void(llvm::ArrayRef<mlir::Value> acc, mlir::Value row0,
                     mlir::Value col0,
                     llvm::ArrayRef<std::pair<int64_t, int64_t>> at)>
      epilogue;
};

class GemmEmitter {
public:
  GemmEmitter(mlir::OpBuilder &b, mlir::Location loc, const GemmProblem &p,
              GemmPlanAttr plan, const GemmHooks *hooks = nullptr)
      : b(b), loc(loc), p(p), plan(plan), hooks(hooks) {}

protected:
  mlir::Value idx(int64_t c) {
    return mlir::arith::ConstantIndexOp::create(b, loc, c);
  }
  mlir::Value add(mlir::Value x, mlir::Value y) {
    return mlir::arith::AddIOp::create(b, loc, x, y);
  }
  mlir::Value add(mlir::Value x, int64_t c) { return c ? add(x, idx(c)) : x; }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return mlir::arith::MulIOp::create(b, loc, x, y);
  }
  mlir::Value mul(mlir::Value x, int64_t c) {
    return c == 1 ? x : mul(x, idx(c));
  }
  mlir::Value div(mlir::Value x, int64_t c) {
    return c == 1 ? x : mlir::arith::DivUIOp::create(b, loc, x, idx(c));
  }
  mlir::Value rem(mlir::Value x, int64_t c) {
    return mlir::arith::RemUIOp::create(b, loc, x, idx(c));
  }
  mlir::Value xorI(mlir::Value x, mlir::Value y) {
    return mlir::arith::XOrIOp::create(b, loc, x, y);
  }
  mlir::Value xorI(mlir::Value x, int64_t c) { return c ? xorI(x, idx(c)) : x; }
  mlir::Value minI(mlir::Value x, mlir::Value y) {
    return mlir::arith::MinUIOp::create(b, loc, x, y);
  }
  mlir::Value lt(mlir::Value x, int64_t c) {
    return mlir::arith::CmpIOp::create(b, loc, mlir::arith::CmpIPredicate::ult,
                                       x, idx(c));
  }
  mlir::Value andI(mlir::Value x, mlir::Value y) {
    if (!x)
      return y;
    return y ? mlir::arith::AndIOp::create(b, loc, x, y) : x;
  }
  mlir::Value pointer(mlir::Value address, unsigned space);
  /// Emits `body` under `cond` (unconditionally when `cond` is null).
  void ifThen(mlir::Value cond, llvm::function_ref<void()> body);

  /// Element offset of the flattened index `flat` over `dims` (row-major,
  /// last dim fastest) in an operand with `strides`.
  mlir::Value offsetOf(llvm::ArrayRef<unsigned> dims, mlir::Value flat,
                       llvm::ArrayRef<int64_t> strides);
  /// Block id -> (row start, column start) of its C tile: groups of 8 M
  /// tiles walked column by column, so neighbouring blocks share A and B
  /// panels in L2.
  std::pair<mlir::Value, mlir::Value> tileOrigin(mlir::Value pid);
  /// Where a launch's block works: its C tile (tileOrigin of block id x)
  /// and the element offsets of its batch (block id y) in A, B and C; the
  /// hooks' origin when they give one.
  BlockOrigin blockOrigin(mlir::gpu::LaunchOp launch);
  /// Emits `body` in the blocks that have a tile (origin.active).
  void ifActive(const BlockOrigin &origin, llvm::function_ref<void()> body) {
    ifThen(origin.active, body);
  }
  /// The copies of one operand's tile: `vec` elements of `elemBytes` each
  /// along the operand's contiguous dim (k when `kMajor`), `tileRows` rows
  /// along M or N starting at `tileStart`, landing where `layout` says.
  /// `limit` (null: `extent`) is a runtime bound on the rows along M/N;
  /// `address` (null: base + strides) the byte address of a row at k = 0.
  TileCopies
  planCopies(mlir::Value base, llvm::ArrayRef<int64_t> strides, bool kMajor,
             int64_t vec, int64_t elemBytes, int64_t tileRows,
             llvm::ArrayRef<unsigned> mnDims, int64_t extent,
             mlir::Value tileStart, mlir::Value batchOffset, int64_t tileOffset,
             mlir::Value tid, int64_t threads, TileLayout layout,
             mlir::Value limit = {},
             const std::function<mlir::Value(mlir::Value)> *address = nullptr);
  /// Moves the insertion point into `scf.if active` (nothing when `active`
  /// is null) until `guard` is reset: blocks without a tile (grouped GEMMs:
  /// past the last expert's tiles) skip the kernel's body.
  void enterActive(mlir::Value active,
                   std::optional<mlir::OpBuilder::InsertionGuard> &guard);
  /// The copies of A's and B's tiles of the block at `o` (the hooks' row and
  /// column addresses when given): `vecA` / `vecB` elements of `elemBytes`
  /// per copy, A at byte 0 of a stage laid out by `layoutA`, B at `bOffset`
  /// laid out by `layoutB`.
  std::pair<TileCopies, TileCopies>
  planOperandCopies(const BlockOrigin &o, mlir::Value aMem, mlir::Value bMem,
                    mlir::Value tid, int64_t threads, int64_t vecA,
                    int64_t vecB, int64_t elemBytes, int64_t bOffset,
                    TileLayout layoutA, TileLayout layoutB);
  /// Issues the copies of K tile `kTile` into ring buffer `slot` (stages of
  /// `stageBytes` from `ring`).
  void issueStage(const TileCopies &a, const TileCopies &bt, mlir::Value ring,
                  int64_t stageBytes, mlir::Value kTile, mlir::Value slot);
  /// Issues the copies of the K tile starting at `k0` into `stage`: a copy
  /// out of bounds zero-fills its chunk; a thread without the copy (the
  /// last round of copies that do not divide over the threads) issues
  /// nothing, so that no chunk has two writers.
  void issueCopies(const TileCopies &t, mlir::Value k0, mlir::Value stage);
  /// The plain epilogue from registers: accumulator i of this lane (C
  /// element (row0 + at[i].first, col0 + at[i].second); accumulators 2 j
  /// and 2 j + 1 side by side in a row) plus the init value, rounded to C's
  /// type and stored -- in pairs where C's last dim allows -- into `cMem`
  /// (element offsets from `batchC`), rows and columns past the problem
  /// skipped.
  void storeC(llvm::ArrayRef<mlir::Value> acc,
              llvm::ArrayRef<std::pair<int64_t, int64_t>> at, mlir::Value row0,
              mlir::Value col0, mlir::Value batchC, mlir::Value cMem,
              mlir::Value initMem);
  /// `v` (f32) plus C's initial value at `element`, rounded to C's type.
  mlir::Value finishC(mlir::Value v, mlir::Value element, mlir::Value initBase);

  mlir::OpBuilder &b;
  mlir::Location loc;
  const GemmProblem &p;
  GemmPlanAttr plan;
  const GemmHooks *hooks;
};

/// The launch's dynamic shared memory as a memref of bytes (workgroup
/// address space), at the builder's insertion point inside the launch.
mlir::Value dynamicSharedBytes(mlir::OpBuilder &b, mlir::Location loc);

/// The emitter's index arithmetic, public, for the epilogue hooks of the
/// fused (GemmFusion.cpp) and grouped (MoeKernel.cpp) GEMMs.
struct HookEmitter : GemmEmitter {
  using GemmEmitter::add;
  using GemmEmitter::andI;
  using GemmEmitter::div;
  using GemmEmitter::GemmEmitter;
  using GemmEmitter::idx;
  using GemmEmitter::ifThen;
  using GemmEmitter::lt;
  using GemmEmitter::minI;
  using GemmEmitter::mul;
  using GemmEmitter::offsetOf;
  using GemmEmitter::pointer;
  using GemmEmitter::rem;
  using GemmEmitter::tileOrigin;
  mlir::OpBuilder &builder() { return b; }
  mlir::Location location() { return loc; }
  /// The aligned base address (index) of `memref`.
  mlir::Value base(mlir::Value memref);
};

} // namespace kestrel

#endif // KESTREL_PASSES_CUDA_GEMMEMIT_H
