//===- FlashAttentionKernel.cpp -------------------------------------------===//
//
// Rewrites kestrel.attention with f16/bf16 storage into a gpu.launch whose
// body is a FlashAttention-2 style kernel built from the op's attributes:
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
// naive kernels. Ops this kernel does not cover (f32, head dims other than
// 64/128/256, Dv != D, dynamic shapes, key lengths, the lse result)
// are left to the reference lowering.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/AttentionMask.h"
#include "dialects/Kestrel.h"
#include "passes/CUDA/FlashKernel.h"

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

/// Why `op` cannot use the tensor-core kernel, or an empty string.
std::string unsupportedReason(AttentionOp op) {
  auto qType = op.getQuery().getType();
  Type elem = qType.getElementType();
  if (!elem.isF16() && !elem.isBF16())
    return "storage type is not f16 or bf16";
  for (Value v : {op.getKey(), op.getValue(), op.getResult()})
    if (cast<RankedTensorType>(v.getType()).getElementType() != elem)
      return "operands mix element types";
  if (!qType.hasStaticShape() || !op.getKey().getType().hasStaticShape() ||
      !op.getValue().getType().hasStaticShape())
    return "shapes are not static";
  if (op.getHeadDim() != op.getValueDim())
    return "Dv differs from D";
  if (op.getHeadDim() != 64 && op.getHeadDim() != 128 && op.getHeadDim() != 256)
    return "head dim is not 64, 128 or 256";
  // Features this kernel does not implement are left to the reference
  // lowering, never dropped.
  if (op.getKeyLengths())
    return "runtime key lengths";
  if (op.getLse())
    return "log-sum-exp result";
  for (NamedAttribute attr : op->getDiscardableAttrs())
    return ("attribute '" + attr.getName().strref() + "'").str();
  return "";
}

struct GpuFlashAttentionPass
    : kestrel::impl::GpuFlashAttentionBase<GpuFlashAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    if (rowsPerWarp != 0 && rowsPerWarp != 16 && rowsPerWarp != 32) {
      getOperation().emitError()
          << "kestrel-gpu-flash-attention: rows-per-warp must be 0 (auto), "
             "16 or 32, got "
          << static_cast<int64_t>(rowsPerWarp);
      return signalPassFailure();
    }
    SmallVector<AttentionOp> ops;
    getOperation().walk([&](AttentionOp op) {
      if (unsupportedReason(op).empty())
        ops.push_back(op);
    });
    for (AttentionOp op : ops)
      rewrite(op);
  }

  void rewrite(AttentionOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto toBuffer = [&](Value tensor) {
      auto type = cast<RankedTensorType>(tensor.getType());
      return bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()),
          tensor, /*read_only=*/true);
    };
    Value q = toBuffer(op.getQuery()), k = toBuffer(op.getKey()),
          v = toBuffer(op.getValue());
    auto resultType = op.getResult().getType();
    Value out = memref::AllocOp::create(
        b, loc,
        MemRefType::get(resultType.getShape(), resultType.getElementType()));

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

    // Block-sparse: classify every (query tile, key tile) pair at compile
    // time -- skipped, full or partial, exactly as kestrel-specialize-sparsity
    // does (AttentionMask.h) -- and hand the kernel, per query tile, the key
    // tiles to visit with a needs-mask bit, plus the block map for the
    // element mask of partial tiles. The tables are constants (uploaded with
    // the model's weights on cuda).
    Value visitTable, visitCounts, blockMap;
    if (DenseIntElementsAttr map = op.getBlockMapAttr()) {
      int64_t T = op.getQueryLen(), S = op.getKeyLen();
      int64_t br = shape.blockRows();
      int64_t nQ = llvm::divideCeil(T, br),
              nK = llvm::divideCeil(S, kBlockKeys);
      AttentionMask mask(T, S, op.getCausal(),
                         static_cast<int64_t>(op.getWindow().value_or(0)),
                         static_cast<int64_t>(op.getSinks().value_or(0)));
      std::vector<bool> allowed;
      SmallVector<int8_t> mapBytes;
      for (const APInt &bit : map.getValues<APInt>()) {
        allowed.push_back(!bit.isZero());
        mapBytes.push_back(bit.isZero() ? 0 : 1);
      }
      ArrayRef<int64_t> sizes = *op.getBlockSize();
      mask.setBlockMap(std::move(allowed), sizes[0], sizes[1]);
      SmallVector<SmallVector<int32_t>> lists(nQ);
      int64_t widest = 1;
      for (int64_t i = 0; i < nQ; ++i) {
        for (int64_t j = 0; j < nK; ++j) {
          TileClass c =
              mask.classify(i * br, std::min(T, (i + 1) * br), j * kBlockKeys,
                            std::min(S, (j + 1) * kBlockKeys));
          if (c == TileClass::Skip)
            continue;
          // A tile running past S holds padding keys: always masked.
          bool partial = c == TileClass::Partial || (j + 1) * kBlockKeys > S;
          lists[i].push_back(static_cast<int32_t>(2 * j + (partial ? 1 : 0)));
        }
        widest = std::max<int64_t>(widest, lists[i].size());
      }
      SmallVector<int32_t> table, lengths;
      for (auto &list : lists) {
        lengths.push_back(static_cast<int32_t>(list.size()));
        table.append(list);
        table.append(widest - list.size(), 0);
      }
      auto constantBuffer = [&](ArrayRef<int64_t> shape, Type type,
                                DenseElementsAttr data) -> Value {
        Value t = arith::ConstantOp::create(b, loc, data);
        return bufferization::ToBufferOp::create(
            b, loc, MemRefType::get(shape, type), t, /*read_only=*/true);
      };
      Type i32 = b.getI32Type(), i8 = b.getI8Type();
      visitTable = constantBuffer(
          {nQ, widest}, i32,
          DenseElementsAttr::get(RankedTensorType::get({nQ, widest}, i32),
                                 ArrayRef<int32_t>(table)));
      visitCounts = constantBuffer(
          {nQ}, i32,
          DenseElementsAttr::get(RankedTensorType::get({nQ}, i32),
                                 ArrayRef<int32_t>(lengths)));
      auto mapShape = cast<ShapedType>(map.getType()).getShape();
      blockMap = constantBuffer(
          mapShape, i8,
          DenseElementsAttr::get(RankedTensorType::get(mapShape, i8),
                                 ArrayRef<int8_t>(mapBytes)));
    }
    auto idx = [&](int64_t c) {
      return arith::ConstantIndexOp::create(b, loc, c);
    };
    Value one = idx(1);
    int64_t rows = shape.blockRows();
    // Dynamic shared memory: above 48 KiB (Q in shared memory at D = 128)
    // the runtime opts the kernel in (docs/runtime.md).
    Value smem = arith::ConstantIntOp::create(
        b, loc, b.getI32Type(), sharedBytes(shape, op.getHeadDim()));
    auto launch = gpu::LaunchOp::create(
        b, loc, idx((op.getQueryLen() + rows - 1) / rows),
        idx(op.getBatch() * op.getNumHeads()), one, idx(kWarps * 32), one, one,
        smem, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/ValueRange{});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&launch.getBody().front());
      auto workgroup = gpu::AddressSpaceAttr::get(
          b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
      Value shared = gpu::DynamicSharedMemoryOp::create(
          b, loc,
          MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                          MemRefLayoutAttrInterface(), workgroup));
      FlashKernel kernel(b, loc, op, shape, q, k, v, out, shared);
      if (visitTable)
        kernel.setBlockSparse(visitTable, visitCounts, blockMap);
      kernel.build(launch);
      gpu::TerminatorOp::create(b, loc);
    }
    Value result = bufferization::ToTensorOp::create(
        b, loc, resultType, out, /*restrict=*/true, /*writable=*/true);
    op.getResult().replaceAllUsesWith(result);
    op.erase();
  }
};

} // namespace
