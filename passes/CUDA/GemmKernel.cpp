//===- GemmKernel.cpp -----------------------------------------------------===//
//
// Rewrites every static linalg contraction (matmul, batch_matmul, generic
// `out + a * b` with transposed or broadcast operands) whose operands are
// bf16/f16 -- or f32 under `precision=bf16|f16`, converted first (constant
// weights at compile time) -- into a gpu.launch of a tensor-core GEMM kernel
// tiled by the #kestrel.gemm_plan chosen in GemmPlan.cpp:
//
//   grid  = (M tiles * N tiles, flattened batch), block = warps_m * warps_n
//           warps; consecutive blocks walk groups of 8 M tiles column by
//           column, so the A and B panels they share stay in L2;
//   the K range is walked in tile_k steps through a ring of `stages`
//           shared-memory buffers filled by 4-16 byte cp.async copies
//           (`stages - 1` tiles in flight), rows padded by 16 bytes against
//           ldmatrix bank conflicts, elements past M, N or K zero-filled;
//   every warp owns a (tile_m / warps_m) x (tile_n / warps_n) tile of C as
//           m16n8 accumulator fragments (f32), fed by ldmatrix (.trans for
//           operands whose contiguous dim is M or N) and mma.sync m16n8k16;
//   epilogue: accumulators (+ the init value) rounded to C's type and
//           stored in pairs where C's last dim allows, rows/columns past the
//           edges skipped.
//
// Fragment layouts follow the PTX ISA's mma.m16n8k16 description: lane
// l = 4 g + q holds rows g and g + 8 and columns 2q, 2q + 1 (+8). The small
// fragment helpers (ldmatrix, mma) duplicate those of
// FlashAttentionKernel.cpp for now, until they move to a shared header.
//
// Contractions in f32 under precision=f32|tf32 and everything the analysis
// rejects (dynamic shapes, odd strides, several reduction dims) are left to
// the naive kernels of convert-linalg-to-parallel-loops.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/GemmPlan.h"
#include "passes/Passes.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace kestrel {
#define GEN_PASS_DEF_GPUGEMM
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

/// M tiles per group of the block order (see the file comment).
constexpr int64_t kGroupM = 8;

/// One operand's tile loads: which 16-bit elements each thread copies per
/// K step, decided once before the K loop.
struct TileCopies {
  Value base;         // global address (index)
  int64_t strideK;    // element stride along k
  int64_t vec;        // elements per copy
  int64_t tileOffset; // bytes from the stage's start
  // Per copy of this thread: element offset without k, in-bounds flag, k
  // within the tile, byte offset within the tile.
  SmallVector<Value> fixed, valid, kIn, smem;
};

class GemmKernel {
public:
  GemmKernel(OpBuilder &b, Location loc, const GemmProblem &p,
             GemmPlanAttr plan, Value a, Value bm, Value c, Value init,
             Value shared)
      : b(b), loc(loc), p(p), plan(plan), aMem(a), bMem(bm), cMem(c),
        initMem(init), shared(shared) {
    elem = plan.getOperandType();
    threads = plan.warps() * 32;
    rowA = plan.getAKMajor() ? plan.getTileK() + kGemmPad
                             : plan.getTileM() + kGemmPad;
    rowB = plan.getBKMajor() ? plan.getTileK() + kGemmPad
                             : plan.getTileN() + kGemmPad;
    int64_t aRows = plan.getAKMajor() ? plan.getTileM() : plan.getTileK();
    int64_t bRows = plan.getBKMajor() ? plan.getTileN() : plan.getTileK();
    aTileBytes = aRows * rowA * 2;
    stageBytes = aTileBytes + bRows * rowB * 2;
  }

  void build(gpu::LaunchOp launch);

private:
  Value idx(int64_t c) { return arith::ConstantIndexOp::create(b, loc, c); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t c) { return c ? add(x, idx(c)) : x; }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t c) { return c == 1 ? x : mul(x, idx(c)); }
  Value div(Value x, int64_t c) {
    return c == 1 ? x : arith::DivUIOp::create(b, loc, x, idx(c));
  }
  Value rem(Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, idx(c));
  }
  Value minI(Value x, Value y) { return arith::MinUIOp::create(b, loc, x, y); }
  Value lt(Value x, int64_t c) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, idx(c));
  }
  Value andI(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value pointer(Value address, unsigned space) {
    Value bytes = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext(), space), bytes);
  }

  /// Element offset of the flattened index `flat` over `dims` (row-major,
  /// last dim fastest) in an operand with `strides`.
  Value offsetOf(ArrayRef<unsigned> dims, Value flat,
                 ArrayRef<int64_t> strides);
  TileCopies planCopies(Value base, ArrayRef<int64_t> strides, bool kMajor,
                        int64_t vec, int64_t tileRows, int64_t rowElems,
                        ArrayRef<unsigned> mnDims, int64_t extent,
                        Value tileStart, Value batchOffset, int64_t tileOffset);
  /// Issues the copies of the K tile starting at `k0` into `stage`.
  void issueCopies(const TileCopies &t, Value k0, Value stage);
  void issueStage(Value kTile, Value slot);
  /// ldmatrix.x4 at a shared address: 4 operand registers.
  SmallVector<Value> loadMatrices(Value address, bool trans);
  /// c += a * b on one m16n8k16 tile (4 f32 accumulators).
  void mma(ArrayRef<Value> a, ArrayRef<Value> bOps, MutableArrayRef<Value> c);
  /// The mma of one K tile in `slot` over the accumulators.
  void computeStage(Value slot, MutableArrayRef<Value> acc);
  void epilogue(ArrayRef<Value> acc, Value batchC, Value rowStart,
                Value colStart);

  OpBuilder &b;
  Location loc;
  const GemmProblem &p;
  GemmPlanAttr plan;
  Value aMem, bMem, cMem, initMem, shared;
  Type elem;
  int64_t threads, rowA, rowB, aTileBytes, stageBytes;

  Value sharedBase, tid;
  TileCopies copiesA, copiesB;
  // Byte offsets within a stage of this lane's ldmatrix rows at k step 0:
  // one per m16 tile (A) and per pair of n8 tiles (B).
  SmallVector<Value> fragA, fragB;
};

Value GemmKernel::offsetOf(ArrayRef<unsigned> dims, Value flat,
                           ArrayRef<int64_t> strides) {
  Value offset = idx(0);
  Value rest = flat;
  for (unsigned d : llvm::reverse(dims)) {
    int64_t extent = p.loopExtents[d];
    bool last = d == dims.front();
    Value digit = last ? rest : rem(rest, extent);
    if (strides[d])
      offset = add(offset, mul(digit, strides[d]));
    if (!last)
      rest = div(rest, extent);
  }
  return offset;
}

TileCopies GemmKernel::planCopies(Value base, ArrayRef<int64_t> strides,
                                  bool kMajor, int64_t vec, int64_t tileRows,
                                  int64_t rowElems, ArrayRef<unsigned> mnDims,
                                  int64_t extent, Value tileStart,
                                  Value batchOffset, int64_t tileOffset) {
  // K-major tiles are [mn][k], MN-major ones [k][mn]; `tileRows` counts the
  // mn rows/columns of the tile.
  int64_t tk = plan.getTileK();
  int64_t inner = kMajor ? tk : tileRows;
  int64_t perRow = inner / vec;
  int64_t total = tileRows * tk / vec;
  TileCopies t;
  t.base = base;
  t.strideK = strides[p.kDim];
  t.vec = vec;
  t.tileOffset = tileOffset;
  for (int64_t it = 0; it * threads < total; ++it) {
    Value linear = add(tid, it * threads);
    Value partial;
    if ((it + 1) * threads > total) {
      partial = lt(linear, total);
      linear = minI(linear, idx(total - 1));
    }
    Value r = div(linear, perRow);
    Value c = mul(rem(linear, perRow), vec);
    Value mn = add(tileStart, kMajor ? r : c);
    Value valid = lt(mn, extent);
    if (partial)
      valid = andI(valid, partial);
    Value clamped = minI(mn, idx(extent - 1));
    t.fixed.push_back(add(batchOffset, offsetOf(mnDims, clamped, strides)));
    t.valid.push_back(valid);
    t.kIn.push_back(kMajor ? c : r);
    t.smem.push_back(mul(add(mul(r, rowElems), c), 2));
  }
  return t;
}

void GemmKernel::issueCopies(const TileCopies &t, Value k0, Value stage) {
  int64_t bytes = t.vec * 2;
  auto modifier = bytes == 16 ? NVVM::LoadCacheModifierKind::CG
                              : NVVM::LoadCacheModifierKind::CA;
  Value full = arith::ConstantIntOp::create(b, loc, b.getI32Type(), bytes);
  Value none = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
  for (size_t i = 0; i < t.fixed.size(); ++i) {
    Value k = add(k0, t.kIn[i]);
    Value ok = andI(t.valid[i], lt(k, p.K));
    // Out of bounds: the (aligned) base address, zero bytes read, the copy
    // zero-fills.
    Value element = add(t.fixed[i], mul(k, t.strideK));
    Value address = arith::SelectOp::create(
        b, loc, ok, add(t.base, mul(element, 2)), t.base);
    Value src = pointer(address, 1);
    Value size = arith::SelectOp::create(b, loc, ok, full, none);
    Value dst = pointer(add(add(stage, t.tileOffset), t.smem[i]), 3);
    NVVM::CpAsyncOp::create(b, loc, dst, src, bytes, modifier, size);
  }
}

void GemmKernel::issueStage(Value kTile, Value slot) {
  Value stage = add(sharedBase, mul(slot, stageBytes));
  Value k0 = mul(kTile, plan.getTileK());
  issueCopies(copiesA, k0, stage);
  issueCopies(copiesB, k0, stage);
}

SmallVector<Value> GemmKernel::loadMatrices(Value address, bool trans) {
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
      word = LLVM::BitcastOp::create(b, loc, VectorType::get({2}, elem), word);
    out.push_back(word);
  }
  return out;
}

void GemmKernel::mma(ArrayRef<Value> a, ArrayRef<Value> bOps,
                     MutableArrayRef<Value> c) {
  Type f32 = b.getF32Type();
  auto resultType =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
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

void GemmKernel::computeStage(Value slot, MutableArrayRef<Value> acc) {
  const int64_t mTiles = plan.warpTileM() / 16, nTiles = plan.warpTileN() / 8;
  Value stage = add(sharedBase, mul(slot, stageBytes));
  for (int64_t kk = 0; kk < plan.getTileK() / 16; ++kk) {
    // Moving 16 along k: 32 bytes in a K-major row, 16 rows otherwise.
    int64_t stepA = plan.getAKMajor() ? kk * 32 : kk * 16 * rowA * 2;
    int64_t stepB = plan.getBKMajor() ? kk * 32 : kk * 16 * rowB * 2;
    SmallVector<SmallVector<Value>> a;
    for (int64_t mt = 0; mt < mTiles; ++mt)
      a.push_back(loadMatrices(pointer(add(add(stage, fragA[mt]), stepA), 3),
                               /*trans=*/!plan.getAKMajor()));
    for (int64_t np = 0; np < nTiles / 2; ++np) {
      SmallVector<Value> regs = loadMatrices(
          pointer(add(add(stage, aTileBytes + stepB), fragB[np]), 3),
          /*trans=*/!plan.getBKMajor());
      for (int64_t half = 0; half < 2; ++half) {
        int64_t nt = 2 * np + half;
        for (int64_t mt = 0; mt < mTiles; ++mt)
          mma(a[mt], {regs[2 * half], regs[2 * half + 1]},
              acc.slice((mt * nTiles + nt) * 4, 4));
      }
    }
  }
}

void GemmKernel::epilogue(ArrayRef<Value> acc, Value batchC, Value rowStart,
                          Value colStart) {
  const int64_t mTiles = plan.warpTileM() / 16, nTiles = plan.warpTileN() / 8;
  Value lane = rem(tid, 32), warp = div(tid, 32);
  Value group = div(lane, 4), quad2 = mul(rem(lane, 4), 2);
  Value warpRow =
      add(rowStart, mul(div(warp, plan.getWarpsN()), plan.warpTileM()));
  Value warpCol =
      add(colStart, mul(rem(warp, plan.getWarpsN()), plan.warpTileN()));
  Type cType = p.cType;
  Value cBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, cMem);
  Value initBase;
  if (initMem)
    initBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, initMem);
  int64_t cBytes = cType.getIntOrFloatBitWidth() / 8;
  auto finish = [&](Value v, Value element) -> Value {
    if (p.initConstant && *p.initConstant != 0.0)
      v = arith::AddFOp::create(
          b, loc, v,
          arith::ConstantFloatOp::create(
              b, loc, b.getF32Type(),
              APFloat(static_cast<float>(*p.initConstant))));
    if (initMem) {
      Value at = pointer(add(initBase, mul(element, cBytes)), 1);
      Value old = LLVM::LoadOp::create(b, loc, cType, at);
      if (!cType.isF32())
        old = arith::ExtFOp::create(b, loc, b.getF32Type(), old);
      v = arith::AddFOp::create(b, loc, v, old);
    }
    return cType.isF32() ? v : arith::TruncFOp::create(b, loc, cType, v);
  };
  auto ifThen = [&](Value cond, llvm::function_ref<void()> body) {
    auto op = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&op.getThenRegion().front());
    body();
  };
  for (int64_t mt = 0; mt < mTiles; ++mt)
    for (int64_t h = 0; h < 2; ++h) {
      Value m = add(add(warpRow, group), mt * 16 + 8 * h);
      ifThen(lt(m, p.M), [&] {
        Value rowOff = add(batchC, offsetOf(p.mDims, m, p.strideC));
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          Value n = add(add(warpCol, quad2), nt * 8);
          int64_t at = (mt * nTiles + nt) * 4 + 2 * h;
          if (p.cPairs) {
            ifThen(lt(n, p.N), [&] {
              Value element = add(rowOff, offsetOf(p.nDims, n, p.strideC));
              Value lo = finish(acc[at], element);
              Value hi = finish(acc[at + 1], add(element, 1));
              Value pair = vector::FromElementsOp::create(
                  b, loc, VectorType::get({2}, cType), ValueRange{lo, hi});
              LLVM::StoreOp::create(
                  b, loc, pair, pointer(add(cBase, mul(element, cBytes)), 1),
                  /*alignment=*/2 * cBytes);
            });
            continue;
          }
          for (int64_t e = 0; e < 2; ++e) {
            Value ne = add(n, e);
            ifThen(lt(ne, p.N), [&] {
              Value element = add(rowOff, offsetOf(p.nDims, ne, p.strideC));
              LLVM::StoreOp::create(
                  b, loc, finish(acc[at + e], element),
                  pointer(add(cBase, mul(element, cBytes)), 1), cBytes);
            });
          }
        }
      });
    }
}

void GemmKernel::build(gpu::LaunchOp launch) {
  const int64_t tm = plan.getTileM(), tn = plan.getTileN(),
                tk = plan.getTileK(), stages = plan.getStages();
  const int64_t numM = llvm::divideCeil(p.M, tm),
                numN = llvm::divideCeil(p.N, tn),
                numK = llvm::divideCeil(p.K, tk);
  tid = launch.getThreadIds().x;
  sharedBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);

  // Block -> (M tile, N tile): groups of kGroupM M tiles, walked column by
  // column.
  Value pid = launch.getBlockIds().x;
  int64_t width = kGroupM * numN;
  Value firstM = mul(div(pid, width), kGroupM);
  Value groupSize =
      minI(arith::SubIOp::create(b, loc, idx(numM), firstM), idx(kGroupM));
  Value within = rem(pid, width);
  Value tileM = add(firstM, arith::RemUIOp::create(b, loc, within, groupSize));
  Value tileN = arith::DivUIOp::create(b, loc, within, groupSize);
  Value rowStart = mul(tileM, tm), colStart = mul(tileN, tn);
  Value batchIdx = launch.getBlockIds().y;
  Value batchA = offsetOf(p.batchDims, batchIdx, p.strideA);
  Value batchB = offsetOf(p.batchDims, batchIdx, p.strideB);
  Value batchC = offsetOf(p.batchDims, batchIdx, p.strideC);

  Value aBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, aMem);
  Value bBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, bMem);
  copiesA = planCopies(aBase, p.strideA, plan.getAKMajor(), p.vecA, tm, rowA,
                       p.mDims, p.M, rowStart, batchA, 0);
  copiesB = planCopies(bBase, p.strideB, plan.getBKMajor(), p.vecB, tn, rowB,
                       p.nDims, p.N, colStart, batchB, aTileBytes);

  // This lane's ldmatrix row addresses (see the PTX ISA's ldmatrix: lane l
  // addresses row l % 8 of matrix l / 8).
  Value lane = rem(tid, 32), warp = div(tid, 32);
  Value matrix = div(lane, 8), row8 = rem(lane, 8);
  Value warpM = mul(div(warp, plan.getWarpsN()), plan.warpTileM());
  Value warpN = mul(rem(warp, plan.getWarpsN()), plan.warpTileN());
  auto bytesAt = [&](Value r, Value c, int64_t rowElems) {
    return mul(add(mul(r, rowElems), c), 2);
  };
  for (int64_t mt = 0; mt < plan.warpTileM() / 16; ++mt) {
    Value m0 = add(warpM, mt * 16);
    if (plan.getAKMajor()) // a0..a3 = rows +0/+8 x k +0/+8
      fragA.push_back(
          bytesAt(add(m0, rem(lane, 16)), mul(div(lane, 16), 8), rowA));
    else // stored [k][m], transposed by ldmatrix
      fragA.push_back(bytesAt(add(row8, mul(div(matrix, 2), 8)),
                              add(m0, mul(rem(matrix, 2), 8)), rowA));
  }
  for (int64_t np = 0; np < plan.warpTileN() / 16; ++np) {
    Value n0 = add(warpN, np * 16);
    if (plan.getBKMajor()) // (b0, b1) of n8 tiles 2 np and 2 np + 1
      fragB.push_back(bytesAt(add(add(n0, row8), mul(div(matrix, 2), 8)),
                              mul(rem(matrix, 2), 8), rowB));
    else
      fragB.push_back(bytesAt(add(row8, mul(rem(matrix, 2), 8)),
                              add(n0, mul(div(matrix, 2), 8)), rowB));
  }

  // Prologue: the first stages - 1 K tiles in flight, one group each.
  for (int64_t s = 0; s + 1 < stages; ++s) {
    if (s < numK)
      issueStage(idx(s), idx(s));
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  }
  int64_t accCount = plan.warpTileM() / 16 * plan.warpTileN() / 8 * 4;
  Value zero =
      arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(0.0f));
  SmallVector<Value> init(accCount, zero);
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(numK), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    // Tile kt has landed (at most stages - 2 younger groups pending), and
    // every warp is done with the slot the next copy overwrites.
    NVVM::CpAsyncWaitGroupOp::create(b, loc, stages - 2);
    gpu::BarrierOp::create(b, loc);
    Value next = add(kt, stages - 1);
    auto ifNext = scf::IfOp::create(b, loc, lt(next, numK), false);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(&ifNext.getThenRegion().front());
      issueStage(next, rem(next, stages));
    }
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
    SmallVector<Value> acc(loop.getRegionIterArgs());
    computeStage(rem(kt, stages), acc);
    scf::YieldOp::create(b, loc, acc);
  }
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  epilogue(SmallVector<Value>(loop.getResults()), batchC, rowStart, colStart);
}

/// `value` (a tensor of f32) as a tensor of `type`: constants are converted
/// now (round to nearest even), anything else by an elementwise kernel.
Value convertOperand(OpBuilder &b, Location loc, Value value, Type type) {
  auto tensorType = cast<RankedTensorType>(value.getType());
  if (tensorType.getElementType() == type)
    return value;
  auto newType = tensorType.clone(type);
  DenseElementsAttr dense;
  if (matchPattern(value, m_Constant(&dense))) {
    const llvm::fltSemantics &sem = cast<FloatType>(type).getFloatSemantics();
    SmallVector<APFloat> values;
    values.reserve(dense.getNumElements());
    for (APFloat v : dense.getValues<APFloat>()) {
      bool lost;
      v.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      values.push_back(v);
    }
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(newType, values));
  }
  Value empty = tensor::EmptyOp::create(b, loc, newType.getShape(), type);
  int64_t rank = tensorType.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  return linalg::GenericOp::create(
             b, loc, newType, value, empty, ArrayRef<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(rank,
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value t = arith::TruncFOp::create(nb, l, type, args[0]);
               linalg::YieldOp::create(nb, l, t);
             })
      .getResult(0);
}

struct GpuGemmPass : kestrel::impl::GpuGemmBase<GpuGemmPass> {
  using Base::Base;

  void runOnOperation() override {
    if (precision != "f32" && precision != "tf32" && precision != "bf16" &&
        precision != "f16") {
      getOperation().emitError()
          << "kestrel-gpu-gemm: precision must be f32, tf32, bf16 or f16, got '"
          << precision << "'";
      return signalPassFailure();
    }
    if (!tile.empty() && tile.size() != 6) {
      getOperation().emitError()
          << "kestrel-gpu-gemm: tile takes 6 numbers (tile_m, tile_n, tile_k, "
             "warps_m, warps_n, stages), got "
          << tile.size();
      return signalPassFailure();
    }
    std::vector<std::pair<linalg::LinalgOp, GemmProblem>> work;
    getOperation().walk([&](linalg::LinalgOp op) {
      std::string why;
      FailureOr<GemmProblem> problem = analyzeContraction(op, why);
      if (succeeded(problem) && operandType(*problem))
        work.emplace_back(op, std::move(*problem));
    });
    for (auto &[op, problem] : work)
      if (failed(rewrite(op, problem)))
        return signalPassFailure();
  }

  /// The fragment type the contraction runs on, or null to leave it alone.
  Type operandType(const GemmProblem &p) {
    Builder b(&getContext());
    auto narrow = [](Type t) { return t.isBF16() || t.isF16(); };
    if (narrow(p.aType) && narrow(p.bType))
      return p.aType == p.bType ? p.aType : Type();
    if (narrow(p.aType) || narrow(p.bType))
      return narrow(p.aType) ? p.aType : p.bType;
    if (precision == "bf16")
      return b.getBF16Type();
    if (precision == "f16")
      return b.getF16Type();
    return Type(); // f32 numerics: the naive kernels
  }

  LogicalResult rewrite(linalg::LinalgOp op, const GemmProblem &p) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Type elem = operandType(p);
    SmallVector<int64_t> override(tile.begin(), tile.end());
    GemmPlanAttr plan = choosePlan(p, elem, override);
    if (failed(GemmPlanAttr::verify(
            [&] { return op.emitOpError(); }, plan.getTileM(), plan.getTileN(),
            plan.getTileK(), plan.getWarpsM(), plan.getWarpsN(),
            plan.getStages(), plan.getSplitK(), elem, plan.getAKMajor(),
            plan.getBKMajor())))
      return op.emitOpError("kestrel-gpu-gemm: unusable tile plan ") << plan;
    auto toBuffer = [&](Value tensor) -> Value {
      auto type = cast<RankedTensorType>(tensor.getType());
      return bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()),
          tensor, /*read_only=*/true);
    };
    Value a = toBuffer(convertOperand(b, loc, op->getOperand(0), elem));
    Value bm = toBuffer(convertOperand(b, loc, op->getOperand(1), elem));
    Value init = p.initConstant ? Value() : toBuffer(op->getOperand(2));
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Value out = memref::AllocOp::create(
        b, loc,
        MemRefType::get(resultType.getShape(), resultType.getElementType()));
    auto idx = [&](int64_t c) {
      return arith::ConstantIndexOp::create(b, loc, c);
    };
    Value one = idx(1);
    int64_t blocks = llvm::divideCeil(p.M, plan.getTileM()) *
                     llvm::divideCeil(p.N, plan.getTileN());
    Value smem = arith::ConstantIntOp::create(b, loc, b.getI32Type(),
                                              planSharedBytes(plan));
    auto launch = gpu::LaunchOp::create(b, loc, idx(blocks), idx(p.batch), one,
                                        idx(plan.warps() * 32), one, one, smem,
                                        /*asyncTokenType=*/nullptr,
                                        /*asyncDependencies=*/ValueRange{});
    launch->setAttr("kestrel.gemm_plan", plan);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&launch.getBody().front());
      auto workgroup = gpu::AddressSpaceAttr::get(
          b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
      Value shared = gpu::DynamicSharedMemoryOp::create(
          b, loc,
          MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                          MemRefLayoutAttrInterface(), workgroup));
      GemmKernel kernel(b, loc, p, plan, a, bm, out, init, shared);
      kernel.build(launch);
      gpu::TerminatorOp::create(b, loc);
    }
    Value result = bufferization::ToTensorOp::create(
        b, loc, resultType, out, /*restrict=*/true, /*writable=*/true);
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
    return success();
  }
};

} // namespace
