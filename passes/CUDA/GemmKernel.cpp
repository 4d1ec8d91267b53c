//===- GemmKernel.cpp -----------------------------------------------------===//
//
// Rewrites every static linalg contraction (matmul, batch_matmul, generic
// `out + a * b` with transposed or broadcast operands) into a gpu.launch of
// a GEMM kernel tiled by the #kestrel.gemm_plan chosen in GemmPlan.cpp:
// bf16/f16 operands -- or f32 under `precision=bf16|f16`, converted first
// (constant weights at compile time) -- get the tensor-core kernel below,
// and so do f32 operands under precision=tf32 (read as f32, rounded to tf32
// in registers, mma.sync m16n8k8); f32 operands with an f32 result under
// precision=f32 the FFMA kernel of GemmSimtKernel.cpp. The tensor-core
// kernel:
//
//   grid  = (M tiles * N tiles, flattened batch), block = warps_m * warps_n
//           warps; consecutive blocks walk groups of 8 M tiles column by
//           column, so the A and B panels they share stay in L2;
//   the K range is walked in tile_k steps through a ring of `stages`
//           shared-memory buffers filled by 4-16 byte cp.async copies
//           (`stages - 1` tiles in flight), elements past M, N or K
//           zero-filled; tiles unpadded, 16-byte chunks XOR-swizzled per
//           row so ldmatrix and cp.async are free of bank conflicts;
//   every warp owns a (tile_m / warps_m) x (tile_n / warps_n) tile of C as
//           m16n8 accumulator fragments (f32), fed by ldmatrix (.trans for
//           operands whose contiguous dim is M or N) and mma.sync m16n8k16;
//           the fragments of the next k step are loaded (carried through
//           the loop) while this step's mmas run, one barrier per K tile;
//   epilogue: accumulators (+ the init value) rounded to C's type and
//           stored in pairs where C's last dim allows, rows/columns past the
//           edges skipped.
//
// Fragment layouts follow the PTX ISA's mma.m16n8k16 description: lane
// l = 4 g + q holds rows g and g + 8 and columns 2q, 2q + 1 (+8). With tf32
// (m16n8k8) a register holds one element and a k step is 8 elements: the
// same 32 bytes of K, so K-major tiles are read by the same ldmatrix
// (non-transposed, each 32-bit element a pair of b16). ldmatrix cannot
// transpose 32-bit elements, so tf32 tiles contiguous along M or N are read
// by 4-byte loads, with a swizzle that spreads the 4 k rows one load
// touches over distinct banks (swizzleOf).
//
// Everything the analysis rejects (dynamic shapes, odd strides, several
// reduction dims) is left to the naive kernels of
// convert-linalg-to-parallel-loops.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/GemmEmit.h"
#include "passes/CUDA/GemmFusion.h"
#include "passes/CUDA/GemmWgmmaKernel.h"
#include "passes/CUDA/MmaEmit.h"
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

#include <optional>

namespace kestrel {
#define GEN_PASS_DEF_GPUGEMM
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

/// The 16-byte chunk permutation of a swizzled shared tile whose rows hold
/// `chunks` 16-byte chunks: chunk c of row r is stored at c ^ s(r), s(r)
/// taking 8 values over 8 consecutive rows (for rows under 128 bytes, over
/// the rows sharing one 128-byte line), so the 8 rows one ldmatrix matrix
/// reads and the 8 chunks of a 128-byte cp.async phase hit 8 distinct bank
/// groups. Widths that are neither powers of two nor multiples of 8 stay
/// unswizzled.
class TensorCoreGemm : public GemmEmitter {
public:
  TensorCoreGemm(OpBuilder &b, Location loc, const GemmProblem &p,
                 GemmPlanAttr plan, Value a, Value bm, Value c, Value init,
                 Value shared, const GemmHooks *hooks)
      : GemmEmitter(b, loc, p, plan, hooks), aMem(a), bMem(bm), cMem(c),
        initMem(init), shared(shared) {
    elem = plan.getOperandType();
    elemBytes = operandBytes(elem);
    chunkElems = 16 / elemBytes;
    mmaK = elem.isTF32() ? 8 : 16;
    threads = plan.warps() * 32;
    int64_t tk = plan.getTileK();
    rowElemsA = plan.getAKMajor() ? tk : plan.getTileM();
    rowElemsB = plan.getBKMajor() ? tk : plan.getTileN();
    scalarA = elem.isTF32() && !plan.getAKMajor();
    scalarB = elem.isTF32() && !plan.getBKMajor();
    aTileBytes = plan.getTileM() * tk * elemBytes;
    stageBytes = aTileBytes + plan.getTileN() * tk * elemBytes;
  }

  void build(gpu::LaunchOp launch);

private:
  /// Per lane: where its ldmatrix rows of one operand start (see fragOffset).
  struct FragAddr {
    bool kMajor;
    int64_t rowBytes;
    Value rowBase, chunk;        // K-major: row offset, chunk before xor
    SmallVector<Value> chunkOff; // MN-major: swizzled chunk bytes per tile
  };

  /// The chunk permutation of row `row` (class comment); `scalar`: the
  /// tile is read by 4-byte loads (tf32, contiguous along M/N).
  Value swizzleOf(Value row, int64_t rowElems, bool scalar);
  /// Byte offset in a tile of `rowElems`-element rows of element (row, col).
  Value tileOffset(Value row, Value col, int64_t rowElems, bool scalar);
  /// Byte offset within the operand's tile of fragment tile `t` (16 rows
  /// of M, or 16 columns of N) at k step `kk`.
  Value fragOffset(const FragAddr &f, int64_t t, int64_t kk);
  FragAddr fragAddr(bool kMajor, int64_t rowElems, Value mnRow, Value kRow,
                    Value kChunk, Value mnChunk, Value warpMN, int64_t tiles);
  /// tf32 operands contiguous along M or N, which ldmatrix cannot
  /// transpose (it moves 16-bit halves): the byte offsets in the tile of
  /// the elements this lane's fragments take at k step 0, in register
  /// order (A: a0..a3 of every m16 tile; B: b0, b1 of every n8 tile); k
  /// step kk is 8 kk rows further.
  SmallVector<Value> scalarOffsets(bool isA, Value warpMN, int64_t rowElems);
  /// Rounds an operand register holding an f32 to tf32 (cvt.rna).
  Value roundToTf32(Value word);
  void issueStage(Value kTile, Value slot);
  /// ldmatrix.x4 at a shared address: 4 operand registers.
  SmallVector<Value> loadMatrices(Value address, bool trans);
  /// The A and B fragments of k step `kk` of the tile in `slot`.
  SmallVector<Value> loadFragments(Value slot, int64_t kk);
  /// c += a * b on one m16n8k16 tile (4 f32 accumulators).
  void mma(ArrayRef<Value> a, ArrayRef<Value> bOps, MutableArrayRef<Value> c);
  /// The mmas of one k step over the accumulators.
  void mmaStep(ArrayRef<Value> frags, MutableArrayRef<Value> acc);
  /// Where this lane's accumulators lie in C: accumulator i at (row0 +
  /// at[i].first, col0 + at[i].second).
  struct LanePlaces {
    Value row0, col0;
    SmallVector<std::pair<int64_t, int64_t>> at;
  };
  LanePlaces lanePlaces(Value rowStart, Value colStart);

  Value aMem, bMem, cMem, initMem, shared;
  Type elem;
  int64_t elemBytes, chunkElems, mmaK;
  int64_t threads, rowElemsA, rowElemsB, aTileBytes, stageBytes;
  bool scalarA, scalarB;
  Value sharedBase, tid;
  TileCopies copiesA, copiesB;
  FragAddr fragA, fragB;
  SmallVector<Value> scalarOffA, scalarOffB;
};

Value TensorCoreGemm::swizzleOf(Value row, int64_t rowElems, bool scalar) {
  int64_t chunks = rowElems / chunkElems;
  if (scalar) {
    // A 4-byte fragment load reads rows k0 + q (q = lane % 4), 2 chunks of
    // each: rows q take the chunk pairs 0, 2, 4, 6 apart (rows of 4 chunks
    // share a 128-byte line in pairs), 32 distinct banks.
    if (chunks % 8 == 0)
      return mul(rem(row, 4), 2);
    if (chunks == 4)
      return mul(rem(div(row, 2), 2), 2);
    return idx(0);
  }
  if (chunks % 8 == 0)
    return rem(row, 8);
  if (chunks >= 2 && llvm::isPowerOf2_64(chunks))
    return rem(div(row, 8 / chunks), chunks);
  return idx(0);
}

Value TensorCoreGemm::tileOffset(Value row, Value col, int64_t rowElems,
                                 bool scalar) {
  Value chunk = xorI(div(col, chunkElems), swizzleOf(row, rowElems, scalar));
  return add(mul(row, rowElems * elemBytes),
             add(mul(chunk, 16), mul(rem(col, chunkElems), elemBytes)));
}

Value TensorCoreGemm::fragOffset(const FragAddr &f, int64_t t, int64_t kk) {
  if (f.kMajor) // rows along M/N, k step kk = chunks 2 kk and 2 kk + 1
    return add(add(f.rowBase, t * 16 * f.rowBytes),
               mul(xorI(f.chunk, 2 * kk), 16));
  return add(add(f.rowBase, kk * 16 * f.rowBytes), f.chunkOff[t]);
}

TensorCoreGemm::FragAddr TensorCoreGemm::fragAddr(bool kMajor, int64_t rowElems,
                                                  Value mnRow, Value kRow,
                                                  Value kChunk, Value mnChunk,
                                                  Value warpMN, int64_t tiles) {
  FragAddr f;
  f.kMajor = kMajor;
  f.rowBytes = rowElems * elemBytes;
  if (kMajor) {
    Value row = add(warpMN, mnRow);
    f.rowBase = mul(row, f.rowBytes);
    // s(row) depends on row % 8 only, the same for every tile and k step.
    f.chunk = xorI(kChunk, swizzleOf(row, rowElems, /*scalar=*/false));
    return f;
  }
  f.rowBase = mul(kRow, f.rowBytes);
  Value s = swizzleOf(kRow, rowElems, /*scalar=*/false);
  for (int64_t t = 0; t < tiles; ++t) {
    Value chunk = add(add(div(warpMN, 8), mnChunk), 2 * t);
    f.chunkOff.push_back(mul(xorI(chunk, s), 16));
  }
  return f;
}

void TensorCoreGemm::issueStage(Value kTile, Value slot) {
  GemmEmitter::issueStage(copiesA, copiesB, sharedBase, stageBytes, kTile,
                          slot);
}

SmallVector<Value> TensorCoreGemm::scalarOffsets(bool isA, Value warpMN,
                                                 int64_t rowElems) {
  // PTX ISA, mma.m16n8k8 with .tf32: lane 4 g + q holds A (g, q), (g + 8,
  // q), (g, q + 4), (g + 8, q + 4) and B (k = q, n = g), (q + 4, g).
  Value lane = rem(tid, 32);
  Value g = div(lane, 4), q = rem(lane, 4);
  auto at = [&](Value mn, int64_t k) {
    return tileOffset(add(q, k), add(warpMN, mn), rowElems, /*scalar=*/true);
  };
  SmallVector<Value> offsets;
  if (isA) {
    for (int64_t mt = 0; mt < plan.warpTileM() / 16; ++mt)
      for (auto [dm, dk] : {std::pair<int64_t, int64_t>{0, 0}, {8, 0}, {0, 4},
                            {8, 4}})
        offsets.push_back(at(add(g, mt * 16 + dm), dk));
    return offsets;
  }
  for (int64_t nt = 0; nt < plan.warpTileN() / 8; ++nt)
    for (int64_t dk : {0, 4})
      offsets.push_back(at(add(g, nt * 8), dk));
  return offsets;
}

Value TensorCoreGemm::roundToTf32(Value word) {
  Value f = LLVM::BitcastOp::create(b, loc, b.getF32Type(), word);
  return NVVM::ConvertFloatToTF32Op::create(b, loc, b.getI32Type(), f,
                                            NVVM::FPRoundingMode::RNA);
}

SmallVector<Value> TensorCoreGemm::loadMatrices(Value address, bool trans) {
  SmallVector<Value> regs = emitLdMatrixX4(b, loc, address, trans, elem);
  if (elem.isTF32())
    for (Value &r : regs)
      r = roundToTf32(r);
  return regs;
}

SmallVector<Value> TensorCoreGemm::loadFragments(Value slot, int64_t kk) {
  Value stage = add(sharedBase, mul(slot, stageBytes));
  Value stageB = add(stage, aTileBytes);
  SmallVector<Value> frags;
  auto loadScalars = [&](Value base, ArrayRef<Value> offsets,
                         int64_t rowElems) {
    for (Value off : offsets) {
      Value at = pointer(add(base, add(off, kk * 8 * rowElems * elemBytes)), 3);
      frags.push_back(
          roundToTf32(LLVM::LoadOp::create(b, loc, b.getI32Type(), at)));
    }
  };
  // One operand: 4-byte loads, or ldmatrix.x4 per 16 rows of M (A) or 16
  // columns of N (B).
  auto operand = [&](Value base, bool scalar, ArrayRef<Value> offsets,
                     int64_t rowElems, const FragAddr &f, int64_t tiles,
                     bool kMajor) {
    if (scalar)
      return loadScalars(base, offsets, rowElems);
    for (int64_t t = 0; t < tiles; ++t)
      llvm::append_range(frags,
                         loadMatrices(pointer(add(base, fragOffset(f, t, kk)), 3),
                                      /*trans=*/!kMajor));
  };
  operand(stage, scalarA, scalarOffA, rowElemsA, fragA, plan.warpTileM() / 16,
          plan.getAKMajor());
  operand(stageB, scalarB, scalarOffB, rowElemsB, fragB, plan.warpTileN() / 16,
          plan.getBKMajor());
  return frags;
}

void TensorCoreGemm::mma(ArrayRef<Value> a, ArrayRef<Value> bOps,
                         MutableArrayRef<Value> c) {
  if (elem.isTF32())
    emitMmaM16N8K8Tf32(b, loc, a, bOps, c);
  else
    emitMmaM16N8K16(b, loc, elem, a, bOps, c);
}

void TensorCoreGemm::mmaStep(ArrayRef<Value> frags,
                             MutableArrayRef<Value> acc) {
  const int64_t mTiles = plan.warpTileM() / 16, nTiles = plan.warpTileN() / 8;
  ArrayRef<Value> aRegs = frags.take_front(mTiles * 4);
  ArrayRef<Value> bRegs = frags.drop_front(mTiles * 4);
  // B registers of n8 tile nt: (b0, b1) = bRegs[2 nt], bRegs[2 nt + 1]
  // (ldmatrix.x4 of a 16-column pair gives tile 2 np, then 2 np + 1).
  for (int64_t mt = 0; mt < mTiles; ++mt)
    for (int64_t j = 0; j < nTiles; ++j) {
      int64_t nt = mt % 2 ? nTiles - 1 - j : j; // serpentine: B reuse
      mma(aRegs.slice(mt * 4, 4), bRegs.slice(nt * 2, 2),
          acc.slice((mt * nTiles + nt) * 4, 4));
    }
}

TensorCoreGemm::LanePlaces TensorCoreGemm::lanePlaces(Value rowStart,
                                                      Value colStart) {
  const int64_t mTiles = plan.warpTileM() / 16, nTiles = plan.warpTileN() / 8;
  Value lane = rem(tid, 32), warp = div(tid, 32);
  LanePlaces l;
  l.row0 =
      add(add(rowStart, mul(div(warp, plan.getWarpsN()), plan.warpTileM())),
          div(lane, 4));
  l.col0 =
      add(add(colStart, mul(rem(warp, plan.getWarpsN()), plan.warpTileN())),
          mul(rem(lane, 4), 2));
  // Fragment layout (file comment): accumulator (mt nTiles + nt) 4 + 2 h + e
  // is row mt 16 + 8 h, column nt 8 + e of the lane's (row0, col0).
  for (int64_t mt = 0; mt < mTiles; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int64_t i = 0; i < 4; ++i)
        l.at.push_back({mt * 16 + 8 * (i / 2), nt * 8 + i % 2});
  return l;
}

void TensorCoreGemm::build(gpu::LaunchOp launch) {
  const int64_t tk = plan.getTileK(), stages = plan.getStages();
  const int64_t numK = llvm::divideCeil(p.K, tk), steps = tk / mmaK;
  tid = launch.getThreadIds().x;
  sharedBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
  BlockOrigin origin = blockOrigin(launch);
  Value rowStart = origin.row, colStart = origin.col;
  std::optional<OpBuilder::InsertionGuard> inActive;
  enterActive(origin.active, inActive);
  auto layoutOf = [&](bool kMajor, int64_t rowElems, bool scalar) {
    return [this, kMajor, rowElems, scalar](Value mn, Value k) {
      return kMajor ? tileOffset(mn, k, rowElems, scalar)
                    : tileOffset(k, mn, rowElems, scalar);
    };
  };
  auto layoutA = layoutOf(plan.getAKMajor(), rowElemsA, scalarA);
  auto layoutB = layoutOf(plan.getBKMajor(), rowElemsB, scalarB);
  // p.vecA / vecB count 16-bit elements: at most a 16-byte chunk of wider
  // ones per copy.
  std::tie(copiesA, copiesB) = planOperandCopies(
      origin, aMem, bMem, tid, threads, std::min(p.vecA, chunkElems),
      std::min(p.vecB, chunkElems), elemBytes, aTileBytes, layoutA, layoutB);

  // This lane's ldmatrix rows (PTX ISA, ldmatrix: lane l addresses row
  // l % 8 of matrix l / 8). A: a0..a3 = (m +0/+8) x (k +0/+8); B: (b0, b1)
  // of n8 tiles 2 np and 2 np + 1.
  Value lane = rem(tid, 32), warp = div(tid, 32);
  Value matrix = div(lane, 8), row8 = rem(lane, 8);
  Value warpM = mul(div(warp, plan.getWarpsN()), plan.warpTileM());
  Value warpN = mul(rem(warp, plan.getWarpsN()), plan.warpTileN());
  Value mHalf = rem(matrix, 2), kHalf = div(matrix, 2);
  fragA = fragAddr(plan.getAKMajor(), rowElemsA, rem(lane, 16),
                   add(row8, mul(kHalf, 8)), div(lane, 16), mHalf, warpM,
                   plan.warpTileM() / 16);
  fragB = fragAddr(plan.getBKMajor(), rowElemsB, add(row8, mul(kHalf, 8)),
                   add(row8, mul(mHalf, 8)), mHalf, kHalf, warpN,
                   plan.warpTileN() / 16);
  if (scalarA)
    scalarOffA = scalarOffsets(/*isA=*/true, warpM, rowElemsA);
  if (scalarB)
    scalarOffB = scalarOffsets(/*isA=*/false, warpN, rowElemsB);

  // Prologue: the first stages - 1 K tiles in flight, one group each; then
  // tile 0 landed and its first fragments in registers.
  for (int64_t s = 0; s + 1 < stages; ++s) {
    if (s < numK)
      issueStage(idx(s), idx(s));
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  }
  NVVM::CpAsyncWaitGroupOp::create(b, loc, stages - 2);
  gpu::BarrierOp::create(b, loc);
  SmallVector<Value> first = loadFragments(idx(0), 0);
  int64_t accCount = plan.warpTileM() / 16 * plan.warpTileN() / 8 * 4;
  Value zero =
      arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(0.0f));
  SmallVector<Value> init(accCount, zero);
  llvm::append_range(init, first);
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(numK), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    SmallVector<Value> acc(loop.getRegionIterArgs().take_front(accCount));
    SmallVector<Value> frags(loop.getRegionIterArgs().drop_front(accCount));
    Value slot = rem(kt, stages);
    for (int64_t kk = 0; kk < steps; ++kk) {
      if (kk == 0) {
        // Tile kt + stages - 1 into the slot tile kt - 1 used: every warp
        // read its last fragments before the barrier that ended it.
        Value next = add(kt, stages - 1);
        auto ifNext = scf::IfOp::create(b, loc, lt(next, numK), false);
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(&ifNext.getThenRegion().front());
        issueStage(next, rem(next, stages));
      }
      if (kk == 0)
        NVVM::CpAsyncCommitGroupOp::create(b, loc);
      // Fragments of the next k step while this one's mmas run; at the
      // tile's last step, those of the next tile once it has landed (at
      // most stages - 2 younger groups pending) and every warp is past
      // this tile's reads.
      SmallVector<Value> nextFrags;
      if (kk + 1 < steps) {
        nextFrags = loadFragments(slot, kk + 1);
      } else {
        NVVM::CpAsyncWaitGroupOp::create(b, loc, stages - 2);
        gpu::BarrierOp::create(b, loc);
        nextFrags = loadFragments(rem(add(kt, 1), stages), 0);
      }
      mmaStep(frags, acc);
      frags = std::move(nextFrags);
    }
    SmallVector<Value> yield(acc);
    llvm::append_range(yield, frags);
    scf::YieldOp::create(b, loc, yield);
  }
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  SmallVector<Value> acc(loop.getResults().take_front(accCount));
  LanePlaces l = lanePlaces(rowStart, colStart);
  if (hooks && hooks->epilogue)
    return hooks->epilogue(acc, l.row0, l.col0, l.at);
  storeC(acc, l.at, l.row0, l.col0, origin.batchC, cMem, initMem);
}

} // namespace

void kestrel::buildTensorCoreGemm(OpBuilder &b, Location loc,
                                  const GemmProblem &p, GemmPlanAttr plan,
                                  gpu::LaunchOp launch, Value a, Value bm,
                                  Value c, Value init, Value shared,
                                  const GemmHooks *hooks) {
  TensorCoreGemm(b, loc, p, plan, a, bm, c, init, shared, hooks).build(launch);
}

Value kestrel::convertOperand(OpBuilder &b, Location loc, Value value,
                              Type type) {
  auto tensorType = cast<RankedTensorType>(value.getType());
  if (tensorType.getElementType() == type)
    return value;
  if (Value narrow = convertInProducer(b, loc, value, type))
    return narrow;
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

Value kestrel::widenOperand(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  auto wide = type.clone(b.getF32Type());
  Value empty =
      tensor::EmptyOp::create(b, loc, wide.getShape(), wide.getElementType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  return linalg::GenericOp::create(
             b, loc, wide, value, empty, ArrayRef<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(type.getRank(),
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value x = arith::ExtFOp::create(nb, l, nb.getF32Type(), args[0]);
               linalg::YieldOp::create(nb, l, x);
             })
      .getResult(0);
}

gpu::LaunchOp kestrel::buildGemmLaunch(OpBuilder &b, Location loc,
                                       const GemmProblem &p, GemmPlanAttr plan,
                                       Value a, Value bm, Value out, Value init,
                                       const GemmHooks *hooks, bool wgmma) {
  auto idx = [&](int64_t c) {
    return arith::ConstantIndexOp::create(b, loc, c);
  };
  Value one = idx(1);
  int64_t blocks = llvm::divideCeil(p.M, plan.getTileM()) *
                   llvm::divideCeil(p.N, plan.getTileN());
  Value smem = arith::ConstantIntOp::create(b, loc, b.getI32Type(),
                                            gemmSharedBytes(plan, wgmma));
  auto launch = gpu::LaunchOp::create(b, loc, idx(blocks), idx(p.batch), one,
                                      idx(plan.warps() * 32), one, one, smem,
                                      /*asyncTokenType=*/nullptr,
                                      /*asyncDependencies=*/ValueRange{});
  launch->setAttr("kestrel.gemm_plan", plan);
  if (wgmma)
    launch->setAttr(kGemmMmaAttr, b.getStringAttr("wgmma"));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value shared = dynamicSharedBytes(b, loc);
  buildGemmBody(b, loc, p, plan, launch, a, bm, out, init, shared, hooks,
                wgmma);
  gpu::TerminatorOp::create(b, loc);
  return launch;
}

void kestrel::buildGemmBody(OpBuilder &b, Location loc, const GemmProblem &p,
                            GemmPlanAttr plan, gpu::LaunchOp launch, Value a,
                            Value bm, Value c, Value init, Value shared,
                            const GemmHooks *hooks, bool wgmma) {
  if (plan.getOperandType().isF32())
    buildSimtGemm(b, loc, p, plan, launch, a, bm, c, init, shared, hooks);
  else if (wgmma)
    buildWgmmaGemm(b, loc, p, plan, launch, a, bm, c, init, shared, hooks);
  else
    buildTensorCoreGemm(b, loc, p, plan, launch, a, bm, c, init, shared, hooks);
}

namespace {

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
    if (mma != "auto" && mma != "sync" && mma != "wgmma") {
      getOperation().emitError()
          << "kestrel-gpu-gemm: mma must be auto, sync or wgmma, got '" << mma
          << "'";
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
    // Epilogue fusions (GemmFusion.h): sibling contractions become one
    // launch (on the kernel chooseKernel picks for the merged problem); a
    // residual add becomes the init of the contraction it follows.
    fuseSiblingGemms(
        work, [&](const GemmProblem &p) { return operandType(p); },
        [&](const GemmProblem &p, Type elem) { return chooseKernel(p, elem); });
    for (auto &[op, problem] : work) {
      foldResidualAdd(op, problem);
      if (failed(rewrite(op, problem)))
        return signalPassFailure();
    }
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
    if (!p.cType.isF32())
      return Type();
    // tf32: f32 in memory, tf32 on the tensor cores; f32: the FFMA kernel.
    return precision == "tf32" ? b.getTF32Type() : b.getF32Type();
  }

  /// sm_90a: the wgmma kernel (GemmWgmmaKernel.cpp) where it takes the
  /// contraction; the mma.sync (or FFMA) kernel otherwise.
  GemmKernelChoice chooseKernel(const GemmProblem &p, Type elem) {
    SmallVector<int64_t> override(tile.begin(), tile.end());
    return chooseGemmKernel(p, elem, override, chip, mma,
                            [&] { return choosePlan(p, elem, override); });
  }

  LogicalResult rewrite(linalg::LinalgOp op, const GemmProblem &p) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Type elem = operandType(p);
    GemmKernelChoice choice = chooseKernel(p, elem);
    if (!choice.error.empty())
      return op.emitOpError("kestrel-gpu-gemm: tile ") << choice.error;
    GemmPlanAttr plan = choice.plan;
    const bool wgmma = choice.wgmma;
    if (failed(GemmPlanAttr::verify(
            [&] { return op.emitOpError(); }, plan.getTileM(), plan.getTileN(),
            plan.getTileK(), plan.getWarpsM(), plan.getWarpsN(),
            plan.getStages(), plan.getSplitK(), elem, plan.getAKMajor(),
            plan.getBKMajor())))
      return op.emitOpError("kestrel-gpu-gemm: unusable tile plan ") << plan;
    int64_t sharedBytes = gemmSharedBytes(plan, wgmma);
    if (sharedBytes > kMaxSharedBytes)
      return op.emitOpError("kestrel-gpu-gemm: tile plan ")
             << plan << " needs " << sharedBytes
             << " bytes of shared memory, over " << kMaxSharedBytes;
    auto toBuffer = [&](Value tensor) -> Value {
      auto type = cast<RankedTensorType>(tensor.getType());
      return bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()),
          tensor, /*read_only=*/true);
    };
    Type storage = operandStorageType(elem);
    Value a = toBuffer(convertOperand(b, loc, op->getOperand(0), storage));
    Value bm = toBuffer(convertOperand(b, loc, op->getOperand(1), storage));
    Value init = p.initConstant ? Value() : toBuffer(op->getOperand(2));
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Value out = memref::AllocOp::create(
        b, loc,
        MemRefType::get(resultType.getShape(), resultType.getElementType()));
    gpu::LaunchOp launch = buildGemmLaunch(b, loc, p, plan, a, bm, out, init,
                                           /*hooks=*/nullptr, wgmma);
    if (Attribute fusion = op->getAttr(kGemmFusionAttr))
      launch->setAttr(kGemmFusionAttr, fusion);
    Value result = bufferization::ToTensorOp::create(
        b, loc, resultType, out, /*restrict=*/true, /*writable=*/true);
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
    return success();
  }
};

} // namespace
