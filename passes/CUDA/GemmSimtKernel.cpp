//===- GemmSimtKernel.cpp - f32 SIMT GEMM kernel of kestrel-gpu-gemm ------===//
//
// The kernel kestrel-gpu-gemm emits for an f32 contraction under
// precision=f32 (a #kestrel.gemm_plan with operand_type = f32): plain FFMA
// on CUDA cores, f32 numerics throughout.
//
//   block tile tile_m x tile_n, warps_m x warps_n warps, each warp a
//           (tile_m / warps_m) x (tile_n / warps_n) tile laid out as
//           lanes_m x lanes_n lanes (warp tile / 8 each), every lane an 8 x 8
//           tile of C in registers: rows lane_m * 4 + {0..3} of both halves
//           of the warp tile's rows, columns likewise;
//   K walked in tile_k steps through a ring of `stages` shared buffers
//           filled by cp.async: both operands stored [k][m] / [k][n] (rows
//           padded by 4 floats), operands contiguous along K copied 4 bytes
//           at a time into that transposed layout, others 8-16 bytes;
//   each k: two 16-byte shared loads of A and two of B per lane (a warp
//           reads 8 and 4 distinct float4s: one wavefront each), 64 FFMA.
//   epilogue: C's init value added, 16-byte stores where C's rows allow.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/GemmEmit.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <optional>

using namespace mlir;

namespace kestrel {

namespace {

class SimtGemm : public GemmEmitter {
public:
  SimtGemm(OpBuilder &b, Location loc, const GemmProblem &p, GemmPlanAttr plan,
           const GemmHooks *hooks)
      : GemmEmitter(b, loc, p, plan, hooks) {
    threads = plan.warps() * 32;
    rowA = (plan.getTileM() + kSimtPad) * 4;
    rowB = (plan.getTileN() + kSimtPad) * 4;
    aTileBytes = plan.getTileK() * rowA;
    stageBytes = aTileBytes + plan.getTileK() * rowB;
  }

  void build(gpu::LaunchOp launch, Value aMem, Value bMem, Value cMem,
             Value initMem, Value shared);

private:
  /// One k row of this lane's 8 A (or B) values: two float4 loads.
  SmallVector<Value> loadRow(Value at, int64_t half);
  void epilogue(ArrayRef<Value> acc, Value cMem, Value initMem, Value batchC,
                Value row0, Value col0);

  int64_t threads, rowA, rowB, aTileBytes, stageBytes;
};

SmallVector<Value> SimtGemm::loadRow(Value at, int64_t half) {
  auto v4 = VectorType::get({4}, b.getF32Type());
  SmallVector<Value> out;
  for (int64_t s = 0; s < 2; ++s) {
    Value v = LLVM::LoadOp::create(b, loc, v4, pointer(add(at, s * half), 3),
                                   /*alignment=*/16);
    for (int64_t i = 0; i < 4; ++i)
      out.push_back(vector::ExtractOp::create(b, loc, v, i));
  }
  return out;
}

void SimtGemm::epilogue(ArrayRef<Value> acc, Value cMem, Value initMem,
                        Value batchC, Value row0, Value col0) {
  const int64_t halfM = plan.warpTileM() / 2, halfN = plan.warpTileN() / 2;
  Value cBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, cMem);
  Value initBase;
  if (initMem)
    initBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, initMem);
  // 16-byte stores: C's last N dim contiguous, a multiple of 4 long, every
  // other stride a multiple of 4.
  bool quads = p.cType.isF32() && !p.nDims.empty() &&
               p.strideC[p.nDims.back()] == 1 &&
               p.loopExtents[p.nDims.back()] % 4 == 0;
  for (auto [d, s] : llvm::enumerate(p.strideC))
    if (s % 4 && (p.nDims.empty() || d != p.nDims.back()))
      quads = false;
  bool checkM = p.M % plan.getTileM() != 0, checkN = p.N % plan.getTileN() != 0;
  int64_t cBytes = p.cType.getIntOrFloatBitWidth() / 8;
  for (int64_t i = 0; i < 8; ++i) {
    Value m = add(row0, (i / 4) * halfM + i % 4);
    ifThen(checkM ? lt(m, p.M) : Value(), [&] {
      Value rowOff = add(batchC, offsetOf(p.mDims, m, p.strideC));
      for (int64_t s = 0; s < 2; ++s) {
        Value n = add(col0, s * halfN);
        auto store = [&](int64_t j0, int64_t count) {
          Value nj = add(n, j0);
          ifThen(checkN ? lt(nj, p.N) : Value(), [&] {
            Value element = add(rowOff, offsetOf(p.nDims, nj, p.strideC));
            SmallVector<Value> vals;
            for (int64_t j = j0; j < j0 + count; ++j)
              vals.push_back(finishC(acc[i * 8 + s * 4 + j],
                                     add(element, j - j0), initBase));
            Value v = count == 1 ? vals[0]
                                 : vector::FromElementsOp::create(
                                       b, loc,
                                       VectorType::get({count}, p.cType), vals);
            LLVM::StoreOp::create(b, loc, v,
                                  pointer(add(cBase, mul(element, cBytes)), 1),
                                  count * cBytes);
          });
        };
        if (quads) {
          store(0, 4);
          continue;
        }
        for (int64_t j = 0; j < 4; ++j)
          store(j, 1);
      }
    });
  }
}

void SimtGemm::build(gpu::LaunchOp launch, Value aMem, Value bMem, Value cMem,
                     Value initMem, Value shared) {
  const int64_t tk = plan.getTileK(), stages = plan.getStages();
  const int64_t numK = llvm::divideCeil(p.K, tk);
  Value tid = launch.getThreadIds().x;
  Value sharedBase =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
  BlockOrigin origin = blockOrigin(launch);
  Value rowStart = origin.row, colStart = origin.col, batchC = origin.batchC;
  std::optional<OpBuilder::InsertionGuard> inActive;
  enterActive(origin.active, inActive);
  auto layoutA = [&](Value mn, Value k) {
    return add(mul(k, rowA), mul(mn, 4));
  };
  auto layoutB = [&](Value mn, Value k) {
    return add(mul(k, rowB), mul(mn, 4));
  };
  // Operands contiguous along M/N keep up to 16-byte copies; along K, one
  // element per copy (transposed into [k][mn] on the way).
  int64_t vecA = plan.getAKMajor() ? 1 : std::min<int64_t>(p.vecA, 4);
  int64_t vecB = plan.getBKMajor() ? 1 : std::min<int64_t>(p.vecB, 4);
  auto copies = planOperandCopies(origin, aMem, bMem, tid, threads, vecA, vecB,
                                  4, aTileBytes, layoutA, layoutB);
  auto issueStage = [&](Value kTile, Value slot) {
    GemmEmitter::issueStage(copies.first, copies.second, sharedBase, stageBytes,
                            kTile, slot);
  };

  // This lane's rows and columns (file comment).
  int64_t lanesN = plan.warpTileN() / 8;
  Value lane = rem(tid, 32), warp = div(tid, 32);
  Value mIn = add(mul(div(warp, plan.getWarpsN()), plan.warpTileM()),
                  mul(div(lane, lanesN), 4));
  Value nIn = add(mul(rem(warp, plan.getWarpsN()), plan.warpTileN()),
                  mul(rem(lane, lanesN), 4));
  Value aLane = mul(mIn, 4), bLane = add(mul(nIn, 4), aTileBytes);

  for (int64_t s = 0; s + 1 < stages; ++s) {
    if (s < numK)
      issueStage(idx(s), idx(s));
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  }
  Value zero =
      arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(0.0f));
  SmallVector<Value> init(64, zero);
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(numK), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    // Tile kt has landed and every warp is done with the slot the next
    // copy overwrites.
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
    Value stage = add(sharedBase, mul(rem(kt, stages), stageBytes));
    Value aAt = add(stage, aLane), bAt = add(stage, bLane);
    for (int64_t k = 0; k < tk; ++k) {
      SmallVector<Value> av =
          loadRow(add(aAt, k * rowA), plan.warpTileM() / 2 * 4);
      SmallVector<Value> bv =
          loadRow(add(bAt, k * rowB), plan.warpTileN() / 2 * 4);
      for (int64_t i = 0; i < 8; ++i)
        for (int64_t j = 0; j < 8; ++j)
          acc[i * 8 + j] =
              LLVM::FMAOp::create(b, loc, av[i], bv[j], acc[i * 8 + j]);
    }
    scf::YieldOp::create(b, loc, acc);
  }
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  if (hooks && hooks->epilogue) {
    // Accumulator i 8 + s 4 + j: row (i / 4) halfM + i % 4, column
    // s halfN + j of the lane's (mIn, nIn) (file comment).
    const int64_t halfM = plan.warpTileM() / 2, halfN = plan.warpTileN() / 2;
    SmallVector<std::pair<int64_t, int64_t>> at;
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t j = 0; j < 8; ++j)
        at.push_back({(i / 4) * halfM + i % 4, (j / 4) * halfN + j % 4});
    return hooks->epilogue(SmallVector<Value>(loop.getResults()),
                           add(rowStart, mIn), add(colStart, nIn), at);
  }
  epilogue(SmallVector<Value>(loop.getResults()), cMem, initMem, batchC,
           add(rowStart, mIn), add(colStart, nIn));
}

} // namespace

void buildSimtGemm(OpBuilder &b, Location loc, const GemmProblem &p,
                   GemmPlanAttr plan, gpu::LaunchOp launch, Value a, Value bm,
                   Value c, Value init, Value shared, const GemmHooks *hooks) {
  SimtGemm(b, loc, p, plan, hooks).build(launch, a, bm, c, init, shared);
}

} // namespace kestrel
