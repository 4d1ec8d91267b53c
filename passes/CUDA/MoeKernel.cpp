//===- MoeKernel.cpp - Sparse MoE on the GPU: dispatch, grouped GEMMs ----===//
//
// kestrel-gpu-moe rewrites each token-choice `kestrel.moe` with static shapes
// (docs/ops.md §3) into kernels on buffers that compute only the routed
// (token, expert) pairs:
//
//   dispatch   one block: per-expert counts (shared-memory atomics), their
//              prefix sums `offsets [E + 1]`, the prefix sums of each
//              GEMM's M tiles per expert `tiles [2, E + 1]`, `perm [P]`
//              (P = N k): the pairs n k + j grouped by expert (a counting
//              sort; the order within an expert is not fixed, which changes
//              no row's result), `slots [P]` (each pair's row in that
//              order, -1 outside every group) and `tile_expert [2, T]`
//              (each GEMM's M tile -> expert, E past the last one).
//              Indices outside [0, E) enter no group.
//   up         grouped GEMM, one launch for every expert: block -> (expert,
//              M tile, N tile) by one load from `tile_expert`, tiles past
//              the last expert exit; A rows gathered from x through perm
//              (token = pair / k), rows past the expert's count
//              zero-filled; B's columns interleave W1 and W3 in groups of G
//              (8 on tensor cores, half a warp tile on the FFMA kernel), so
//              every lane holds gate and up of the same columns and the
//              epilogue stores h = silu(gate) * up [P, F] in the operand
//              type.
//   down       grouped GEMM of h (rows in expert order) by W2[e]; the
//              epilogue stores y [P, d] = weight * row in f32 (0 for pairs
//              of weight 0), no atomics.
//   combine    out[n] = seed[n] + y[slots[n k + j]] for j = 0 .. k - 1 in
//              that order (routed pairs only), rounded to the result type:
//              deterministic for every k.
//
// Shared experts become linalg contractions and one elementwise generic
// (kestrel-gpu-gemm and the row kernels take them) whose f32 output is the
// combine's seed. bf16/f16 (or f32 under precision=bf16|f16) run on the
// tensor-core GEMM, f32 on the FFMA GEMM (GemmPlan.h, GemmHooks); planFor
// picks each GEMM's tiles (or tile-up / tile-down). Each launch records
// `kestrel.moe_stage`, the GEMMs also `kestrel.gemm_plan`.
// Expert choice, dynamic shapes and dims the copies cannot cover are left to
// the reference lowering.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/GemmEmit.h"
#include "passes/CUDA/GemmWgmmaKernel.h"
#include "passes/Passes.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

namespace kestrel {
#define GEN_PASS_DEF_GPUMOE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

constexpr int64_t kDispatchThreads = 1024;

/// The static extents of one kestrel.moe.
struct MoeShape {
  int64_t N, d, F, E, k, P;
  Type elem; // operand type of the expert products
};

/// Index arithmetic inside a launch (the GEMM emitter's helpers, public).
struct Emit : HookEmitter {
  using HookEmitter::HookEmitter;
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value loadIndex(Value memref, ValueRange at) {
    Value v = memref::LoadOp::create(b, loc, memref, at);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  void storeI32(Value memref, ValueRange at, Value v) {
    Value i = arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
    memref::StoreOp::create(b, loc, i, memref, at);
  }
  Value f32(Value v) {
    return v.getType().isF32()
               ? v
               : arith::ExtFOp::create(b, loc, b.getF32Type(), v).getResult();
  }
};

gpu::LaunchOp makeLaunch(OpBuilder &b, Location loc, int64_t blocks,
                         int64_t threads, int64_t smem) {
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value bytes = arith::ConstantIntOp::create(b, loc, b.getI32Type(), smem);
  return gpu::LaunchOp::create(b, loc, c(blocks), c(1), c(1), c(threads), c(1),
                               c(1), bytes, nullptr, ValueRange{});
}

/// The dispatch kernel (file comment): one block of 1024 threads.
void buildDispatch(OpBuilder &b, Location loc, const MoeShape &s,
                   GemmPlanAttr any, Value indices, Value offsets, Value tiles,
                   Value perm, Value slots, Value tileExpert,
                   ArrayRef<int64_t> tileM, ArrayRef<int64_t> maxTiles) {
  auto launch = makeLaunch(b, loc, 1, kDispatchThreads, 2 * s.E * 4);
  launch->setAttr("kestrel.moe_stage",
                  MoeStageAttr::get(b.getContext(), MoeStage::Dispatch));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  GemmProblem none;
  Emit e(b, loc, none, any);
  Value shared = e.base(dynamicSharedBytes(b, loc));
  Value tid = launch.getThreadIds().x;
  auto counter = [&](int64_t which, Value expert) {
    return e.pointer(e.add(shared, e.mul(e.add(expert, which * s.E), 4)), 3);
  };
  Value zero32 = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
  Value one32 = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 1);
  e.ifThen(e.lt(tid, s.E),
           [&] { LLVM::StoreOp::create(b, loc, zero32, counter(0, tid)); });
  gpu::BarrierOp::create(b, loc);
  // The expert of pair p when it is in [0, E); `outside` for the others.
  auto forPairs = [&](function_ref<void(Value pair, Value expert)> body,
                      function_ref<void(Value pair)> outside = {}) {
    auto loop =
        scf::ForOp::create(b, loc, tid, e.idx(s.P), e.idx(kDispatchThreads));
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(loop.getBody());
    Value pair = loop.getInductionVar();
    Value raw = memref::LoadOp::create(
        b, loc, indices, ValueRange{e.div(pair, s.k), e.rem(pair, s.k)});
    Value wide =
        raw.getType().isInteger(64)
            ? raw
            : arith::ExtSIOp::create(b, loc, b.getI64Type(), raw).getResult();
    Value inRange = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ult, wide,
        arith::ConstantIntOp::create(b, loc, b.getI64Type(), s.E));
    Value expert = arith::IndexCastOp::create(b, loc, b.getIndexType(), wide);
    if (!outside)
      return e.ifThen(inRange, [&] { body(pair, expert); });
    auto branch = scf::IfOp::create(b, loc, inRange, /*withElse=*/true);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    body(pair, expert);
    b.setInsertionPointToStart(&branch.getElseRegion().front());
    outside(pair);
  };
  forPairs([&](Value, Value expert) {
    LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::add,
                              counter(0, expert), one32,
                              LLVM::AtomicOrdering::monotonic);
  });
  gpu::BarrierOp::create(b, loc);
  // Thread 0: prefix sums of the counts and of each GEMM's M tiles.
  e.ifThen(
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, e.idx(0)),
      [&] {
        Value z = e.idx(0);
        auto loop = scf::ForOp::create(b, loc, z, e.idx(s.E), e.idx(1),
                                       ValueRange{z, z, z});
        {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPointToStart(loop.getBody());
          Value ex = loop.getInductionVar();
          Value run = loop.getRegionIterArgs()[0];
          Value count = arith::IndexCastOp::create(
              b, loc, b.getIndexType(),
              LLVM::LoadOp::create(b, loc, b.getI32Type(), counter(0, ex)));
          e.storeI32(offsets, ValueRange{ex}, run);
          LLVM::StoreOp::create(
              b, loc, arith::IndexCastOp::create(b, loc, b.getI32Type(), run),
              counter(1, ex));
          SmallVector<Value> next{e.add(run, count)};
          for (int64_t g = 0; g < 2; ++g) {
            Value t = loop.getRegionIterArgs()[1 + g];
            e.storeI32(tiles, ValueRange{e.idx(g), ex}, t);
            next.push_back(
                e.add(t, e.div(e.add(count, tileM[g] - 1), tileM[g])));
          }
          scf::YieldOp::create(b, loc, next);
        }
        e.storeI32(offsets, ValueRange{e.idx(s.E)}, loop.getResult(0));
        for (int64_t g = 0; g < 2; ++g)
          e.storeI32(tiles, ValueRange{e.idx(g), e.idx(s.E)},
                     loop.getResult(1 + g));
      });
  gpu::BarrierOp::create(b, loc);
  // perm[slot] = pair and slots[pair] = slot (-1: the pair enters no
  // group); the combine reads each token's rows through `slots`.
  forPairs(
      [&](Value pair, Value expert) {
        Value slot = LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::add,
                                               counter(1, expert), one32,
                                               LLVM::AtomicOrdering::monotonic);
        memref::StoreOp::create(
            b, loc, arith::IndexCastOp::create(b, loc, b.getI32Type(), pair),
            perm,
            ValueRange{
                arith::IndexCastOp::create(b, loc, b.getIndexType(), slot)});
        memref::StoreOp::create(b, loc, slot, slots, ValueRange{pair});
      },
      [&](Value pair) {
        Value none = arith::ConstantIntOp::create(b, loc, b.getI32Type(), -1);
        memref::StoreOp::create(b, loc, none, slots, ValueRange{pair});
      });
  // tileExpert[g][t] = the expert of M tile t of GEMM g (E past the last
  // expert's tiles): one load per block instead of a search over `tiles`.
  for (int64_t g = 0; g < 2; ++g) {
    auto perExpert =
        scf::ForOp::create(b, loc, tid, e.idx(s.E), e.idx(kDispatchThreads));
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(perExpert.getBody());
      Value ex = perExpert.getInductionVar();
      Value first = e.loadIndex(tiles, ValueRange{e.idx(g), ex});
      Value last = e.loadIndex(tiles, ValueRange{e.idx(g), e.add(ex, 1)});
      auto fill = scf::ForOp::create(b, loc, first, last, e.idx(1));
      b.setInsertionPointToStart(fill.getBody());
      e.storeI32(tileExpert, ValueRange{e.idx(g), fill.getInductionVar()}, ex);
    }
    Value used = e.loadIndex(tiles, ValueRange{e.idx(g), e.idx(s.E)});
    auto tail = scf::ForOp::create(b, loc, e.add(used, tid), e.idx(maxTiles[g]),
                                   e.idx(kDispatchThreads));
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(tail.getBody());
    e.storeI32(tileExpert, ValueRange{e.idx(g), tail.getInductionVar()},
               e.idx(s.E));
  }
  gpu::TerminatorOp::create(b, loc);
}

/// out [N, d] := seed (or 0) + sum over j < k of the rows slots[n k + j] of
/// y (those >= 0), added in the order of j, rounded to out's type; 4
/// columns per thread.
void buildCombine(OpBuilder &b, Location loc, const MoeShape &s,
                  GemmPlanAttr any, Value out, Value y, Value slots,
                  Value seed) {
  int64_t quads = s.N * s.d / 4;
  auto launch = makeLaunch(b, loc, llvm::divideCeil(quads, 256), 256, 0);
  launch->setAttr("kestrel.moe_stage",
                  MoeStageAttr::get(b.getContext(), MoeStage::Combine));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  GemmProblem none;
  Emit e(b, loc, none, any);
  Value i = e.add(e.mul(launch.getBlockIds().x, 256), launch.getThreadIds().x);
  auto v4 = VectorType::get({4}, b.getF32Type());
  Type outType = cast<MemRefType>(out.getType()).getElementType();
  int64_t outBytes = outType.getIntOrFloatBitWidth() / 8;
  e.ifThen(e.lt(i, quads), [&] {
    Value token = e.div(i, s.d / 4), col = e.mul(e.rem(i, s.d / 4), 4);
    Value sum;
    if (seed)
      sum = LLVM::LoadOp::create(
          b, loc, v4, e.pointer(e.add(e.base(seed), e.mul(i, 16)), 1), 16);
    else
      sum = arith::ConstantOp::create(
          b, loc, v4,
          DenseElementsAttr::get(v4,
                                 ArrayRef<Attribute>{b.getF32FloatAttr(0)}));
    Value zero32 = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
    for (int64_t j = 0; j < s.k; ++j) {
      Value slot = memref::LoadOp::create(
          b, loc, slots, ValueRange{e.add(e.mul(token, s.k), j)});
      Value routed = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                           slot, zero32);
      auto branch = scf::IfOp::create(b, loc, v4, routed, /*withElse=*/true);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(&branch.getThenRegion().front());
        Value row = arith::IndexCastOp::create(b, loc, b.getIndexType(), slot);
        Value v = LLVM::LoadOp::create(
            b, loc, v4,
            e.pointer(e.add(e.base(y), e.mul(e.add(e.mul(row, s.d), col), 4)),
                      1),
            16);
        scf::YieldOp::create(b, loc,
                             ValueRange{arith::AddFOp::create(b, loc, sum, v)});
        b.setInsertionPointToStart(&branch.getElseRegion().front());
        scf::YieldOp::create(b, loc, ValueRange{sum});
      }
      sum = branch.getResult(0);
    }
    if (!outType.isF32())
      sum = arith::TruncFOp::create(b, loc, VectorType::get({4}, outType), sum);
    LLVM::StoreOp::create(
        b, loc, sum, e.pointer(e.add(e.base(out), e.mul(i, 4 * outBytes)), 1),
        4 * outBytes);
  });
  gpu::TerminatorOp::create(b, loc);
}

/// One grouped GEMM: rows in expert order (perm), tile `g` of `tiles`.
struct GroupedGemm {
  const MoeShape &s;
  GemmKernelChoice kernel;
  int64_t which; // row of `tiles`
  int64_t N, K;  // C columns, reduction length
  Value offsets, tiles, perm, tileExpert;
  /// Row tiles of the grid: every expert's rows rounded up to whole tiles.
  static int64_t maxTiles(const MoeShape &s, const GemmKernelChoice &kernel) {
    return llvm::divideCeil(s.P, kernel.plan.getTileM()) + s.E;
  }
  int64_t maxTiles() const { return maxTiles(s, kernel); }
  GemmProblem problem() const {
    GemmProblem p;
    p.mDims = {0};
    p.nDims = {1};
    p.kDim = 2;
    p.M = maxTiles() * kernel.plan.getTileM();
    p.N = N;
    p.K = K;
    p.loopExtents = {p.M, N, K};
    p.strideA = {K, 0, 1};
    p.strideB = {0, 1, 0}; // k stride set by the caller
    p.strideC = {N, 1, 0};
    p.aType = p.bType = p.cType = s.elem;
    p.aKMajor = true;
    p.bKMajor = false;
    p.vecA = p.vecB = s.elem.isF32() ? 4 : 8;
    return p;
  }
};

/// Emits the grouped GEMM `g` into a new launch; `expert` receives the
/// block's expert (clamped) for the hooks built by `makeHooks`.
gpu::LaunchOp
buildGrouped(OpBuilder &b, Location loc, GroupedGemm &g, GemmProblem &p,
             MoeStage stage, Value aMem, Value bMem,
             function_ref<void(GemmHooks &, Emit &, Value &expert)> makeHooks) {
  GemmPlanAttr plan = g.kernel.plan;
  int64_t numN = llvm::divideCeil(g.N, plan.getTileN());
  auto launch = makeLaunch(b, loc, g.maxTiles() * numN, plan.warps() * 32,
                           gemmSharedBytes(plan, g.kernel.wgmma));
  launch->setAttr("kestrel.gemm_plan", plan);
  if (g.kernel.wgmma)
    launch->setAttr(kGemmMmaAttr, b.getStringAttr("wgmma"));
  launch->setAttr("kestrel.moe_stage",
                  MoeStageAttr::get(b.getContext(), stage));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value shared = dynamicSharedBytes(b, loc);
  Emit e(b, loc, p, plan);
  Value expert;
  GemmHooks hooks;
  int64_t tm = plan.getTileM();
  hooks.origin = [&, tm](gpu::LaunchOp l) {
    auto [row, col] = e.tileOrigin(l.getBlockIds().x);
    Value tile = e.div(row, tm);
    // The block's expert from the dispatch's table; E: no tile, exit.
    Value found = e.loadIndex(g.tileExpert, ValueRange{e.idx(g.which), tile});
    BlockOrigin o;
    o.active = e.lt(found, g.s.E);
    expert = e.minI(found, e.idx(g.s.E - 1));
    Value first = e.loadIndex(g.tiles, ValueRange{e.idx(g.which), expert});
    o.row = e.add(e.loadIndex(g.offsets, ValueRange{expert}),
                  e.mul(e.sub(tile, first), tm));
    o.rowLimit = e.loadIndex(g.offsets, ValueRange{e.add(expert, 1)});
    o.col = col;
    o.batchA = o.batchB = o.batchC = e.idx(0);
    return o;
  };
  makeHooks(hooks, e, expert);
  buildGemmBody(b, loc, p, plan, launch, aMem, bMem, Value(), Value(), shared,
                &hooks, g.kernel.wgmma);
  gpu::TerminatorOp::create(b, loc);
  return launch;
}

/// Width of the W1/W3 column groups of the up GEMM (file comment).
int64_t interleave(GemmPlanAttr plan) {
  return plan.getOperandType().isF32() ? plan.warpTileN() / 2 : 8;
}

enum class Product { Up, Down };

/// The tile plan of a grouped GEMM, or `override` (as kestrel-gpu-gemm's
/// `tile`). On tensor cores with at least 256 rows per expert on average
/// (P / E: each expert's rows fill whole 256-row tiles but for one ragged
/// tile) and at least 256 columns, the plans measured fastest on an H200
/// across the Mixtral (E 8, top-2) and fine-grained (E 64, top-6) layers
/// (bench/results/2026-12-04-H200-moe.md): gate/up 256 x 128 x 32 tiles of
/// 4 x 2 warps, 4 stages (the interleaved W1/W3 panel stays narrow); down
/// 128 x 256 x 64 of 2 x 4 warps, 3 stages. Otherwise kestrel-gpu-gemm's
/// choice for E products of the average row count. On sm_90a (chip / mma
/// as kestrel-gpu-gemm's, chooseGemmKernel) the wgmma kernel's plan for
/// that problem when the experts average more than 64 rows, but for the
/// up GEMM, when 256 x 128 tiles fill the SMs twice, 256 x 128 x 64 tiles
/// of four warpgroups in 4 stages (the wgmma counterpart of the narrow
/// interleaved panel: the Mixtral up GEMM 7.61 -> 4.89 ms, fine-grained
/// 1.28 -> 0.89 ms on an H200, bench/results/2026-12-04-H200-gemm-fusion-wgmma.md).
GemmKernelChoice planFor(const MoeShape &s, Product which, int64_t N, int64_t K,
                         ArrayRef<int64_t> override, StringRef chip,
                         StringRef mma) {
  GemmProblem p;
  p.batch = s.E;
  p.M = std::max<int64_t>(1, llvm::divideCeil(s.P, s.E));
  p.N = N;
  p.K = K;
  p.aKMajor = true;
  p.bKMajor = false;
  GemmKernelChoice choice =
      chooseGemmKernel(p, s.elem, override, chip, mma, [&] {
        if (override.empty() && !s.elem.isF32() && p.M >= 256 && N >= 256)
          return which == Product::Up
                     ? choosePlan(p, s.elem, {256, 128, 32, 4, 2, 4})
                     : choosePlan(p, s.elem, {128, 256, 64, 2, 4, 3});
        return choosePlan(p, s.elem, override);
      });
  int64_t wideBlocks = p.batch * llvm::divideCeil(p.M, int64_t(256)) *
                       llvm::divideCeil(p.N, int64_t(128));
  if (choice.wgmma && override.empty() && which == Product::Up &&
      wideBlocks >= 264) {
    std::string why;
    if (GemmPlanAttr wide =
            chooseWgmmaPlan(p, s.elem, {256, 128, 64, 16, 1, 4}, why))
      choice.plan = wide;
  }
  return choice;
}

/// The down GEMM's epilogue: y[m, n] = w * acc for the rows m < the
/// expert's end (w the routing weight of pair perm[m]; 0 where w is 0, so
/// an infinite expert output contributes nothing), adjacent columns stored
/// as pairs.
void storeWeightedRows(Emit &e, const MoeShape &s, GemmPlanAttr plan,
                       ArrayRef<Value> accs, Value row0, Value col0,
                       ArrayRef<std::pair<int64_t, int64_t>> at, Value expert,
                       Value offsets, Value perm, Value weights, Value y) {
  OpBuilder &b = e.builder();
  Location loc = e.location();
  Value limit = e.loadIndex(offsets, ValueRange{e.add(expert, 1)});
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  bool checkN = s.d % plan.getTileN() != 0;
  SmallVector<int64_t> rows;
  for (auto [dr, dc] : at)
    if (!llvm::is_contained(rows, dr))
      rows.push_back(dr);
  for (int64_t dr : rows) {
    Value m = e.add(row0, dr);
    e.ifThen(e.ult(m, limit), [&] {
      Value pair = e.loadIndex(perm, ValueRange{m});
      Value w = e.f32(memref::LoadOp::create(
          b, loc, weights, ValueRange{e.div(pair, s.k), e.rem(pair, s.k)}));
      Value nonzero =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, w, zero);
      Value rowBase = e.add(e.base(y), e.mul(m, s.d * 4));
      for (size_t i = 0; i < accs.size(); ++i) {
        if (at[i].first != dr)
          continue;
        int64_t dc = at[i].second;
        // A pair (dc, dc + 1) when this lane holds both and dc is even.
        bool pairWithNext = dc % 2 == 0 && i + 1 < accs.size() &&
                            at[i + 1] == std::make_pair(dr, dc + 1);
        bool secondOfPair =
            dc % 2 == 1 && i > 0 && at[i - 1] == std::make_pair(dr, dc - 1);
        if (secondOfPair)
          continue;
        int64_t width = pairWithNext ? 2 : 1;
        SmallVector<Value> vals;
        for (int64_t j = 0; j < width; ++j)
          vals.push_back(arith::SelectOp::create(
              b, loc, nonzero, arith::MulFOp::create(b, loc, w, accs[i + j]),
              zero));
        Value n = e.add(col0, dc);
        Value v = width == 1
                      ? vals[0]
                      : vector::FromElementsOp::create(
                            b, loc, VectorType::get({2}, b.getF32Type()), vals)
                            .getResult();
        e.ifThen(checkN ? e.lt(n, s.d) : Value(), [&] {
          LLVM::StoreOp::create(
              b, loc, v, e.pointer(e.add(rowBase, e.mul(n, 4)), 1), 4 * width);
        });
      }
    });
  }
}

struct GpuMoePass : kestrel::impl::GpuMoeBase<GpuMoePass> {
  using Base::Base;

  void runOnOperation() override {
    if (mma != "auto" && mma != "sync" && mma != "wgmma") {
      getOperation().emitError()
          << "kestrel-gpu-moe: mma must be auto, sync or wgmma, got '" << mma
          << "'";
      return signalPassFailure();
    }
    for (auto [name, tile] : {std::make_pair("tile-up", &tileUp),
                              std::make_pair("tile-down", &tileDown)})
      if (!tile->empty() && tile->size() != 6) {
        getOperation().emitError()
            << "kestrel-gpu-moe: " << name
            << " takes 6 numbers (tile_m, tile_n, tile_k, warps_m, warps_n, "
               "stages), got "
            << tile->size();
        return signalPassFailure();
      }
    SmallVector<MoeOp> ops;
    getOperation().walk([&](MoeOp op) { ops.push_back(op); });
    for (MoeOp op : ops)
      if (std::optional<MoeShape> s = shapeOf(op))
        if (failed(rewrite(op, *s)))
          return signalPassFailure();
  }

  std::optional<MoeShape> shapeOf(MoeOp op) {
    auto x = cast<RankedTensorType>(op.getX().getType());
    auto idx = cast<RankedTensorType>(op.getIndices().getType());
    auto w1 = cast<RankedTensorType>(op.getW1().getType());
    if (op.isExpertChoice() || x.getRank() != 2 || !x.hasStaticShape() ||
        !idx.hasStaticShape() || !w1.hasStaticShape() ||
        !cast<ShapedType>(op.getW2().getType()).hasStaticShape() ||
        !cast<ShapedType>(op.getWeights().getType()).hasStaticShape())
      return std::nullopt;
    if (op.getSharedW1() &&
        !cast<ShapedType>(op.getSharedW1().getType()).hasStaticShape())
      return std::nullopt;
    MoeShape s;
    s.N = x.getDimSize(0);
    s.d = x.getDimSize(1);
    s.E = w1.getDimSize(0);
    s.F = w1.getDimSize(2);
    s.k = idx.getDimSize(1);
    s.P = s.N * s.k;
    Builder b(op.getContext());
    Type t = x.getElementType();
    if (t.isF32() && (precision == "bf16" || precision == "f16"))
      t = precision == "bf16" ? Type(b.getBF16Type()) : Type(b.getF16Type());
    s.elem = t;
    // 16-byte row copies (8 bf16/f16, 4 f32).
    if (s.P == 0 || s.d % 8 || s.F % 8 || s.E > kDispatchThreads)
      return std::nullopt;
    return s;
  }

  LogicalResult rewrite(MoeOp op, const MoeShape &s);
};

LogicalResult GpuMoePass::rewrite(MoeOp op, const MoeShape &s) {
  GemmKernelChoice upKernel =
      planFor(s, Product::Up, 2 * s.F, s.d, tileUp, chip, mma);
  GemmKernelChoice downKernel =
      planFor(s, Product::Down, s.d, s.F, tileDown, chip, mma);
  for (const GemmKernelChoice &k : {upKernel, downKernel})
    if (!k.error.empty())
      return op.emitOpError("kestrel-gpu-moe: tile ") << k.error;
  GemmPlanAttr upPlan = upKernel.plan, downPlan = downKernel.plan;
  for (GemmPlanAttr plan : {upPlan, downPlan})
    if (failed(GemmPlanAttr::verify(
            [&] { return op.emitOpError(); }, plan.getTileM(), plan.getTileN(),
            plan.getTileK(), plan.getWarpsM(), plan.getWarpsN(),
            plan.getStages(), plan.getSplitK(), plan.getOperandType(),
            plan.getAKMajor(), plan.getBKMajor())))
      return op.emitOpError("kestrel-gpu-moe: unusable tile plan ") << plan;
  // W1/W3 column groups must tile F.
  if (s.F % interleave(upPlan) ||
      std::max(gemmSharedBytes(upPlan, upKernel.wgmma),
               gemmSharedBytes(downPlan, downKernel.wgmma)) > kMaxSharedBytes)
    return success();
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto operand = [&](Value v) {
    return s.elem == getElementTypeOrSelf(v.getType())
               ? v
               : convertOperand(b, loc, v, s.elem);
  };
  auto toBuffer = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  };
  auto alloc = [&](ArrayRef<int64_t> shape, Type t) -> Value {
    return memref::AllocOp::create(b, loc, MemRefType::get(shape, t));
  };
  Type f32 = b.getF32Type();

  // Shared experts: contractions + one generic, f32 out [N, d].
  Value seed;
  if (op.getSharedW1()) {
    Value x = operand(op.getX());
    auto zeros = [&](int64_t cols) {
      Value empty = tensor::EmptyOp::create(b, loc, {s.N, cols}, f32);
      Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
      return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
    };
    int64_t fs = cast<ShapedType>(op.getSharedW1().getType()).getDimSize(1);
    auto mm = [&](Value a, Value w, int64_t cols) {
      return linalg::MatmulOp::create(b, loc, ValueRange{a, operand(w)},
                                      ValueRange{zeros(cols)})
          .getResult(0);
    };
    Value gate = mm(x, op.getSharedW1(), fs), up = mm(x, op.getSharedW3(), fs);
    auto hType = RankedTensorType::get({s.N, fs}, s.elem);
    AffineMap id = b.getMultiDimIdentityMap(2);
    Value h =
        linalg::GenericOp::create(
            b, loc, hType, ValueRange{gate, up},
            ValueRange{
                tensor::EmptyOp::create(b, loc, hType.getShape(), s.elem)},
            ArrayRef<AffineMap>{id, id, id},
            SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value one =
                  arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1));
              Value neg = arith::NegFOp::create(nb, l, a[0]);
              Value den = arith::AddFOp::create(
                  nb, l, one, math::ExpOp::create(nb, l, neg));
              Value silu = arith::DivFOp::create(nb, l, a[0], den);
              Value v = arith::MulFOp::create(nb, l, silu, a[1]);
              if (!s.elem.isF32())
                v = arith::TruncFOp::create(nb, l, s.elem, v);
              linalg::YieldOp::create(nb, l, v);
            })
            .getResult(0);
    seed = toBuffer(mm(h, op.getSharedW2(), s.d));
  }

  Value x = toBuffer(operand(op.getX()));
  Value w1 = toBuffer(operand(op.getW1())), w3 = toBuffer(operand(op.getW3())),
        w2 = toBuffer(operand(op.getW2()));
  Value indices = toBuffer(op.getIndices());
  Value weights = toBuffer(op.getWeights());
  auto resultType = cast<RankedTensorType>(op.getResult().getType());

  int64_t tileM[2] = {upPlan.getTileM(), downPlan.getTileM()};
  int64_t maxTiles[2];
  for (int64_t g = 0; g < 2; ++g)
    maxTiles[g] = GroupedGemm::maxTiles(s, g ? downKernel : upKernel);
  Value offsets = alloc({s.E + 1}, b.getI32Type());
  Value tiles = alloc({2, s.E + 1}, b.getI32Type());
  Value tileExpert =
      alloc({2, std::max(maxTiles[0], maxTiles[1])}, b.getI32Type());
  Value perm = alloc({s.P}, b.getI32Type());
  Value slots = alloc({s.P}, b.getI32Type());
  Value h = alloc({s.P, s.F}, s.elem);
  Value y = alloc({s.P, s.d}, f32);
  int64_t eb = s.elem.getIntOrFloatBitWidth() / 8;

  buildDispatch(b, loc, s, upPlan, indices, offsets, tiles, perm, slots,
                tileExpert, tileM, maxTiles);

  // up: h = silu(x W1[e]) * (x W3[e]) on the rows of expert e.
  GroupedGemm up{s,       upKernel, 0,    2 * s.F,   s.d,
                 offsets, tiles,    perm, tileExpert};
  GemmProblem upP = up.problem();
  upP.strideB[2] = s.F;
  buildGrouped(
      b, loc, up, upP, MoeStage::Up, x, w1,
      [&](GemmHooks &hk, Emit &e, Value &expert) {
        int64_t G = interleave(upPlan);
        hk.rowA = [&](Value m) {
          Value token = e.div(e.loadIndex(perm, ValueRange{m}), s.k);
          return e.add(e.base(x), e.mul(token, s.d * eb));
        };
        hk.colB = [&, G](Value n) {
          Value hcol = e.add(e.mul(e.div(n, 2 * G), G), e.rem(n, G));
          Value isUp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                             e.rem(e.div(n, G), 2), e.idx(0));
          Value base =
              arith::SelectOp::create(b, loc, isUp, e.base(w3), e.base(w1));
          return e.add(base, e.mul(e.add(e.mul(expert, s.d * s.F), hcol), eb));
        };
        hk.epilogue = [&, G](ArrayRef<Value> accs, Value row0, Value col0,
                             ArrayRef<std::pair<int64_t, int64_t>> at) {
          Value limit = e.loadIndex(offsets, ValueRange{e.add(expert, 1)});
          int64_t vec = s.elem.isF32() ? 4 : 2;
          Value one = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1));
          for (size_t i = 0; i < accs.size(); ++i) {
            int64_t dr = at[i].first, dc = at[i].second;
            if ((dc / G) % 2 || dc % vec)
              continue;
            Value m = e.add(row0, dr);
            e.ifThen(e.ult(m, limit), [&] {
              SmallVector<Value> vals;
              for (int64_t j = 0; j < vec; ++j) {
                auto partnerOf = [&](int64_t c) {
                  for (size_t q = 0; q < at.size(); ++q)
                    if (at[q] == std::make_pair(dr, c))
                      return q;
                  llvm_unreachable("accumulator layout without a partner");
                };
                Value gate = accs[partnerOf(dc + j)];
                Value upv = accs[partnerOf(dc + j + G)];
                Value neg = arith::NegFOp::create(b, loc, gate);
                Value den = arith::AddFOp::create(
                    b, loc, one, math::ExpOp::create(b, loc, neg));
                Value v = arith::MulFOp::create(
                    b, loc, arith::DivFOp::create(b, loc, gate, den), upv);
                vals.push_back(s.elem.isF32()
                                   ? v
                                   : arith::TruncFOp::create(b, loc, s.elem, v)
                                         .getResult());
              }
              Value n = e.add(col0, dc);
              Value hcol = e.add(e.mul(e.div(n, 2 * G), G), e.rem(n, G));
              Value element = e.add(e.mul(m, s.F), hcol);
              Value vv = vector::FromElementsOp::create(
                  b, loc, VectorType::get({vec}, s.elem), vals);
              e.ifThen(e.lt(n, 2 * s.F), [&] {
                LLVM::StoreOp::create(
                    b, loc, vv,
                    e.pointer(e.add(e.base(h), e.mul(element, eb)), 1),
                    vec * eb);
              });
            });
          }
        };
      });

  // down: y[slot] = weight * h[slot] W2[e], rows in expert order.
  GroupedGemm down{s,       downKernel, 1,    s.d,       s.F,
                   offsets, tiles,      perm, tileExpert};
  GemmProblem downP = down.problem();
  downP.strideB[2] = s.d;
  buildGrouped(b, loc, down, downP, MoeStage::Down, h, w2,
               [&](GemmHooks &hk, Emit &e, Value &expert) {
                 hk.rowA = [&](Value m) {
                   return e.add(e.base(h), e.mul(m, s.F * eb));
                 };
                 hk.colB = [&](Value n) {
                   return e.add(e.base(w2),
                                e.mul(e.add(e.mul(expert, s.F * s.d), n), eb));
                 };
                 hk.epilogue = [&](ArrayRef<Value> accs, Value row0, Value col0,
                                   ArrayRef<std::pair<int64_t, int64_t>> at) {
                   storeWeightedRows(e, s, downPlan, accs, row0, col0, at,
                                     expert, offsets, perm, weights, y);
                 };
               });

  // combine: out[n] = seed[n] + the token's k rows of y, in the order of j.
  auto outBuffer = MemRefType::get({s.N, s.d}, resultType.getElementType());
  Value out = memref::AllocOp::create(b, loc, outBuffer);
  buildCombine(b, loc, s, upPlan, out, y, slots, seed);
  Value result = bufferization::ToTensorOp::create(
      b, loc, resultType, out, /*restrict=*/true, /*writable=*/true);
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  return success();
}

} // namespace
