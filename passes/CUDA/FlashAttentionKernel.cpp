//===- FlashAttentionKernel.cpp -------------------------------------------===//
//
// Rewrites kestrel.attention into a gpu.launch of a flash kernel: f32
// storage gets the SIMT kernel of FlashSimtKernel.cpp (FFMA, exact f32);
// f16/bf16 storage a FlashAttention-2 style tensor-core kernel built from
// the op's attributes:
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
// naive kernels. Ops neither kernel covers (dynamic shapes, runtime key
// lengths; for f16/bf16 head dims other than 64/128/256, Dv != D or the lse
// result) are left to the reference lowering. Each launch records the
// kernel and tiles it chose (kestrel.attention_kernel, kestrel.tile).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/DecisionAttrs.h"
#include "dialects/Kestrel.h"
#include "passes/CUDA/FlashKernel.h"
#include "passes/CUDA/FlashSimtKernel.h"
#include "passes/CUDA/GemmPlan.h"

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
using namespace kestrel::cuda;

namespace {

/// rows-per-warp=0 picks 16 when 32 would launch fewer blocks than this.
constexpr int64_t kAutoMinBlocks = 132;

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

/// Why `op` cannot use a flash kernel (either), or an empty string.
std::string commonReason(AttentionOp op) {
  auto qType = op.getQuery().getType();
  Type elem = qType.getElementType();
  for (Value v : {op.getKey(), op.getValue(), op.getResult()})
    if (cast<RankedTensorType>(v.getType()).getElementType() != elem)
      return "operands mix element types";
  if (!qType.hasStaticShape() || !op.getKey().getType().hasStaticShape() ||
      !op.getValue().getType().hasStaticShape())
    return "shapes are not static";
  // Features the kernels do not implement are left to the reference
  // lowering, never dropped.
  if (op.getKeyLengths())
    return "runtime key lengths";
  for (NamedAttribute attr : op->getDiscardableAttrs())
    return ("attribute '" + attr.getName().strref() + "'").str();
  return "";
}

/// Why `op` cannot use the tensor-core kernel, or an empty string.
std::string mmaReason(AttentionOp op) {
  Type elem = op.getQuery().getType().getElementType();
  if (!elem.isF16() && !elem.isBF16())
    return "storage type is not f16 or bf16";
  if (op.getHeadDim() != op.getValueDim())
    return "Dv differs from D";
  if (op.getHeadDim() != 64 && op.getHeadDim() != 128 && op.getHeadDim() != 256)
    return "head dim is not 64, 128 or 256";
  if (op.getLse())
    return "log-sum-exp result";
  return "";
}

/// H100/H200: the most dynamic shared memory one block may opt into.
constexpr int64_t kMaxSharedBytes = 227 * 1024;

/// The f32 kernel's tiles: 64 keys per tile while both head dims are at
/// most 64, else 32 (shared memory for two blocks per SM at D = 128); 64
/// query rows (4 per thread) unless that launches fewer than two blocks
/// per SM of an H100, then 32. `queryTile` (32 or 64) overrides the rows.
SimtPlan chooseSimtPlan(AttentionOp op, int64_t queryTile) {
  SimtPlan plan{4, op.getHeadDim() <= 64 && op.getValueDim() <= 64 ? 64 : 32};
  if (queryTile != 0)
    plan.rowsPerThread = queryTile / kSimtRowGroups;
  else if (llvm::divideCeil(op.getQueryLen(), 64) * op.getBatch() *
               op.getNumHeads() <
           2 * kAutoMinBlocks)
    plan.rowsPerThread = 2;
  return plan;
}

/// Why `op` cannot use the f32 SIMT kernel, or an empty string.
std::string simtReason(AttentionOp op) {
  if (!op.getQuery().getType().getElementType().isF32())
    return "storage type is not f32";
  if (op.getHeadDim() % 16 || op.getHeadDim() > 256)
    return "head dim is not a multiple of 16 up to 256";
  if (op.getValueDim() % 32 || op.getValueDim() > 128)
    return "value head dim is not a multiple of 32 up to 128";
  if (simtSharedBytes(chooseSimtPlan(op, 64), op.getHeadDim(),
                      op.getValueDim()) > kMaxSharedBytes)
    return "tiles exceed shared memory";
  return "";
}

/// Under precision=bf16|f16, an f32 `op` the tensor-core kernel takes at
/// `narrow` becomes that attention over rounded q, k, v, its result
/// widened back; returns the new op, or null when `op` stays f32.
AttentionOp narrowAttention(AttentionOp op, Type narrow) {
  if (!op.getQuery().getType().getElementType().isF32() ||
      !commonReason(op).empty() || op.getLse() ||
      op.getHeadDim() != op.getValueDim() ||
      (op.getHeadDim() != 64 && op.getHeadDim() != 128 &&
       op.getHeadDim() != 256))
    return nullptr;
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value q = convertOperand(b, loc, op.getQuery(), narrow);
  Value k = convertOperand(b, loc, op.getKey(), narrow);
  Value v = convertOperand(b, loc, op.getValue(), narrow);
  auto clone = cast<AttentionOp>(b.clone(*op));
  clone.getQueryMutable().set(q);
  clone.getKeyMutable().set(k);
  clone.getValueMutable().set(v);
  Value result = clone.getResult();
  result.setType(cast<RankedTensorType>(result.getType()).clone(narrow));
  b.setInsertionPointAfter(clone);
  op.getResult().replaceAllUsesWith(widenOperand(b, loc, result));
  op.erase();
  return clone;
}

struct GpuFlashAttentionPass
    : kestrel::impl::GpuFlashAttentionBase<GpuFlashAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    Type narrow;
    if (precision == "bf16")
      narrow = BFloat16Type::get(&getContext());
    else if (precision == "f16")
      narrow = Float16Type::get(&getContext());
    else if (precision != "f32" && precision != "tf32") {
      getOperation().emitError()
          << "kestrel-gpu-flash-attention: precision must be f32, tf32, "
             "bf16 or f16, got '"
          << precision << "'";
      return signalPassFailure();
    }
    if (narrow) {
      SmallVector<AttentionOp> wide;
      getOperation().walk([&](AttentionOp op) { wide.push_back(op); });
      for (AttentionOp op : wide)
        narrowAttention(op, narrow);
    }
    if (rowsPerWarp != 0 && rowsPerWarp != 16 && rowsPerWarp != 32) {
      getOperation().emitError()
          << "kestrel-gpu-flash-attention: rows-per-warp must be 0 (auto), "
             "16 or 32, got "
          << static_cast<int64_t>(rowsPerWarp);
      return signalPassFailure();
    }
    if (f32QueryTile != 0 && f32QueryTile != 32 && f32QueryTile != 64) {
      getOperation().emitError()
          << "kestrel-gpu-flash-attention: f32-query-tile must be 0 (auto), "
             "32 or 64, got "
          << static_cast<int64_t>(f32QueryTile);
      return signalPassFailure();
    }
    SmallVector<std::pair<AttentionOp, bool>> ops; // (op, tensor cores)
    getOperation().walk([&](AttentionOp op) {
      if (!commonReason(op).empty())
        return;
      if (mmaReason(op).empty())
        ops.push_back({op, true});
      else if (simtReason(op).empty())
        ops.push_back({op, false});
    });
    for (auto [op, mma] : ops)
      rewrite(op, mma);
  }

  /// Replaces `op` by the launch `emitKernel` fills, over buffers of its
  /// operands and results; records the kernel and its tiles on the launch.
  void rewrite(AttentionOp op, bool mma);
  void emitMma(OpBuilder &b, AttentionOp op, Value q, Value k, Value v,
               Value out);
  void emitSimt(OpBuilder &b, AttentionOp op, Value q, Value k, Value v,
                Value out, Value lse);
};

gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, int64_t blocksX,
                           int64_t blocksY, int64_t threads,
                           int64_t smemBytes) {
  auto idx = [&](int64_t c) {
    return arith::ConstantIndexOp::create(b, loc, c);
  };
  Value one = idx(1);
  // Dynamic shared memory: above 48 KiB the runtime opts the kernel in
  // (docs/runtime.md).
  Value smem = arith::ConstantIntOp::create(b, loc, b.getI32Type(), smemBytes);
  return gpu::LaunchOp::create(b, loc, idx(blocksX), idx(blocksY), one,
                               idx(threads), one, one, smem,
                               /*asyncTokenType=*/nullptr,
                               /*asyncDependencies=*/ValueRange{});
}

Value dynamicShared(OpBuilder &b, Location loc) {
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  return gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface(), workgroup));
}

void recordDecision(gpu::LaunchOp launch, StringRef kernel, int64_t rows,
                    int64_t keys) {
  MLIRContext *ctx = launch.getContext();
  launch->setAttr(decision::kAttentionKernel, StringAttr::get(ctx, kernel));
  launch->setAttr(decision::kTile, AttentionTilesAttr::get(ctx, rows, keys));
}

void GpuFlashAttentionPass::rewrite(AttentionOp op, bool mma) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto toBuffer = [&](Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  };
  auto alloc = [&](RankedTensorType type) {
    return memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()));
  };
  Value q = toBuffer(op.getQuery()), k = toBuffer(op.getKey()),
        v = toBuffer(op.getValue());
  auto resultType = op.getResult().getType();
  Value out = alloc(resultType), lse;
  if (Value lseResult = op.getLse())
    lse = alloc(cast<RankedTensorType>(lseResult.getType()));
  if (mma)
    emitMma(b, op, q, k, v, out);
  else
    emitSimt(b, op, q, k, v, out, lse);
  auto toTensor = [&](Value buffer, Value result) {
    result.replaceAllUsesWith(bufferization::ToTensorOp::create(
        b, loc, result.getType(), buffer, /*restrict=*/true,
        /*writable=*/true));
  };
  toTensor(out, op.getResult());
  if (lse)
    toTensor(lse, op.getLse());
  op.erase();
}

void GpuFlashAttentionPass::emitMma(OpBuilder &b, AttentionOp op, Value q,
                                    Value k, Value v, Value out) {
  Location loc = op.getLoc();
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
  int64_t rows = shape.blockRows();
  // Block-sparse: the key tiles each query tile visits, decided at compile
  // time (FlashTileWalk.h).
  VisitTables tables = buildVisitTables(b, loc, op, rows, kBlockKeys);
  auto launch = createLaunch(b, loc, llvm::divideCeil(op.getQueryLen(), rows),
                             op.getBatch() * op.getNumHeads(), kWarps * 32,
                             sharedBytes(shape, op.getHeadDim()));
  recordDecision(launch, "mma_sync", rows, kBlockKeys);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  FlashKernel kernel(b, loc, op, shape, q, k, v, out, dynamicShared(b, loc));
  kernel.setBlockSparse(tables);
  kernel.build(launch);
  gpu::TerminatorOp::create(b, loc);
}

void GpuFlashAttentionPass::emitSimt(OpBuilder &b, AttentionOp op, Value q,
                                     Value k, Value v, Value out, Value lse) {
  Location loc = op.getLoc();
  SimtPlan plan = chooseSimtPlan(op, f32QueryTile);
  int64_t rows = plan.tileRows();
  VisitTables tables = buildVisitTables(b, loc, op, rows, plan.tileKeys);
  auto launch =
      createLaunch(b, loc, llvm::divideCeil(op.getQueryLen(), rows),
                   op.getBatch() * op.getNumHeads(), kSimtThreads,
                   simtSharedBytes(plan, op.getHeadDim(), op.getValueDim()));
  recordDecision(launch, "simt_f32", rows, plan.tileKeys);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  FlashSimtKernel kernel(b, loc, op, plan, q, k, v, out, lse,
                         dynamicShared(b, loc));
  kernel.setBlockSparse(tables);
  kernel.build(launch);
  gpu::TerminatorOp::create(b, loc);
}

} // namespace
