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
  // the tile, in-bounds flag along M/N (null: always), byte offset within
  // the tile.
  llvm::SmallVector<mlir::Value> src, kIn, valid, smem;
};

/// Where the element (mn, k) of a tile lands: byte offset within the tile.
using TileLayout =
    llvm::function_ref<mlir::Value(mlir::Value mn, mlir::Value k)>;

class GemmEmitter {
public:
  GemmEmitter(mlir::OpBuilder &b, mlir::Location loc, const GemmProblem &p,
              GemmPlanAttr plan)
      : b(b), loc(loc), p(p), plan(plan) {}

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
  /// and the element offsets of its batch (block id y) in A, B and C.
  struct BlockOrigin {
    mlir::Value row, col, batchA, batchB, batchC;
  };
  BlockOrigin blockOrigin(mlir::gpu::LaunchOp launch);
  /// The copies of one operand's tile: `vec` elements of `elemBytes` each
  /// along the operand's contiguous dim (k when `kMajor`), `tileRows` rows
  /// along M or N starting at `tileStart`, landing where `layout` says.
  TileCopies planCopies(mlir::Value base, llvm::ArrayRef<int64_t> strides,
                        bool kMajor, int64_t vec, int64_t elemBytes,
                        int64_t tileRows, llvm::ArrayRef<unsigned> mnDims,
                        int64_t extent, mlir::Value tileStart,
                        mlir::Value batchOffset, int64_t tileOffset,
                        mlir::Value tid, int64_t threads, TileLayout layout);
  /// Issues the copies of the K tile starting at `k0` into `stage`.
  void issueCopies(const TileCopies &t, mlir::Value k0, mlir::Value stage);
  /// `v` (f32) plus C's initial value at `element`, rounded to C's type.
  mlir::Value finishC(mlir::Value v, mlir::Value element, mlir::Value initBase);

  mlir::OpBuilder &b;
  mlir::Location loc;
  const GemmProblem &p;
  GemmPlanAttr plan;
};

} // namespace kestrel

#endif // KESTREL_PASSES_CUDA_GEMMEMIT_H
