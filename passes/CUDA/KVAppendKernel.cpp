//===- KVAppendKernel.cpp - Scatter kernel of kv_append for NVIDIA --------===//
//
// Rewrites kestrel.kv_append (docs/ops.md, KV cache ops) into a copy plus a
// scatter launch, for the cuda target; kestrel-gpu-decode-attention applies
// it beside the decode kernels (DecodeAttentionKernel.cpp).
//
// The result is a new cache value, so the cache is copied into the result
// buffer (a memref.copy the runtime replays as a device copy) and a scatter
// kernel writes the new tokens with 16-byte vectors, one thread per vector
// of one (b, i, j) token row; on paged caches a write is skipped when a
// later (b, i) of the op writes the same slot, which keeps "the later write
// wins" exact.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/KVCacheAddressing.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace kestrel;
using namespace kestrel::cuda;

namespace {
constexpr int64_t kThreads = 128;
} // namespace

/// Why `op` cannot use the scatter kernel, or an empty string.
std::string kestrel::cuda::unsupportedAppend(KVAppendOp op) {
  Type elem = op.getCache().getType().getElementType();
  if (!elem.isF16() && !elem.isBF16() && !elem.isF32())
    return "storage type is not f16, bf16 or f32";
  for (NamedAttribute attr : op->getDiscardableAttrs())
    if (!isKnownAnnotation(attr.getName().strref()))
      return ("attribute '" + attr.getName().strref() + "'").str();
  return "";
}

void kestrel::cuda::rewriteAppend(KVAppendOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  IREmitter x(b, loc);
  RankedTensorType cacheType = op.getCache().getType();
  RankedTensorType newType = op.getNewTokens().getType();
  Type elem = cacheType.getElementType();
  int64_t B = newType.getDimSize(0), Hkv = newType.getDimSize(1),
          Tn = newType.getDimSize(2), D = newType.getDimSize(3);
  // The widest vector of at most 16 bytes that divides D.
  int64_t vec = vectorWidth(elem);
  while (D % vec)
    vec /= 2;
  Value bt =
      op.getBlockTable() ? toBuffer(b, loc, op.getBlockTable()) : Value();
  int64_t maxPages = bt ? op.getBlockTable().getType().getDimSize(1) : 0;
  CacheAddressing addr = addressingOf(op.getLayout(), cacheType, bt, maxPages);
  Value cache = toBuffer(b, loc, op.getCache());
  Value fresh = toBuffer(b, loc, op.getNewTokens());
  Value pos = toBuffer(b, loc, op.getPositions());
  Value out = memref::AllocOp::create(
      b, loc, MemRefType::get(cacheType.getShape(), elem));
  memref::CopyOp::create(b, loc, cache, out);

  int64_t perItem = D / vec, total = B * Tn * Hkv * perItem;
  gpu::LaunchOp scatter = launch(b, loc, ceilDiv(total, kThreads), 1, kThreads);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&scatter.getBody().front());
    Value linear = x.add(x.mul(scatter.getBlockIds().x, kThreads),
                         scatter.getThreadIds().x);
    auto inside = scf::IfOp::create(b, loc, x.lt(linear, x.idx(total)), false);
    b.setInsertionPointToStart(&inside.getThenRegion().front());
    Value col = x.mul(x.rem(linear, perItem), vec);
    Value item = x.div(linear, perItem); // (b, i, j), j fastest
    Value j = x.rem(item, Hkv);
    Value i = x.rem(x.div(item, Hkv), Tn);
    Value bIdx = x.div(item, Hkv * Tn);
    Value p = x.add(x.loadIndex(pos, {bIdx}), i);
    Value ok = x.land(x.le(x.idx(0), p), x.lt(p, x.idx(addr.capacity)));
    Value pc = x.maxI(x.minI(p, x.idx(addr.capacity - 1)), x.idx(0));
    Value pageOk;
    SmallVector<Value> idx =
        addr.indices(x, bIdx, j, pc, col, /*clampPage=*/true, &pageOk);
    if (pageOk) {
      ok = x.land(ok, pageOk);
      // The slot this write reaches; a later (b', i') writing the same one
      // wins.
      Value page = idx[0], slot = idx[1];
      auto overB = scf::ForOp::create(b, loc, x.idx(0), x.idx(B), x.idx(1),
                                      ValueRange{ok});
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(overB.getBody());
        Value b2 = overB.getInductionVar();
        auto overI = scf::ForOp::create(b, loc, x.idx(0), x.idx(Tn), x.idx(1),
                                        overB.getRegionIterArgs());
        b.setInsertionPointToStart(overI.getBody());
        Value i2 = overI.getInductionVar();
        Value keep = overI.getRegionIterArgs()[0];
        Value isLater = x.lor(
            x.lt(bIdx, b2),
            x.land(x.cmp(arith::CmpIPredicate::eq, bIdx, b2), x.lt(i, i2)));
        Value p2 = x.add(x.loadIndex(pos, {b2}), i2);
        Value ok2 = x.land(x.le(x.idx(0), p2), x.lt(p2, x.idx(addr.capacity)));
        Value p2c = x.maxI(x.minI(p2, x.idx(addr.capacity - 1)), x.idx(0));
        Value page2 = x.loadIndex(bt, {b2, x.div(p2c, addr.pageSize)});
        Value same = x.land(
            x.cmp(arith::CmpIPredicate::eq, page, page2),
            x.cmp(arith::CmpIPredicate::eq, slot, x.rem(p2c, addr.pageSize)));
        Value shadowed = x.land(x.land(isLater, ok2), same);
        Value notShadowed = arith::XOrIOp::create(
            b, loc, shadowed,
            arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
        scf::YieldOp::create(b, loc, ValueRange{x.land(keep, notShadowed)});
        b.setInsertionPointToEnd(overB.getBody());
        scf::YieldOp::create(b, loc, overI.getResults());
      }
      ok = overB.getResult(0);
    }
    auto write = scf::IfOp::create(b, loc, ok, false);
    b.setInsertionPointToStart(&write.getThenRegion().front());
    Value data = vector::LoadOp::create(
        b, loc, VectorType::get({vec}, elem), fresh,
        ValueRange{bIdx, j, i, col}, false,
        llvm::MaybeAlign(vec * elem.getIntOrFloatBitWidth() / 8));
    vector::StoreOp::create(
        b, loc, data, out, idx, false,
        llvm::MaybeAlign(vec * elem.getIntOrFloatBitWidth() / 8));
    b.setInsertionPointToEnd(&scatter.getBody().front());
    gpu::TerminatorOp::create(b, loc);
  }
  op.getResult().replaceAllUsesWith(bufferization::ToTensorOp::create(
      b, loc, cacheType, out, /*restrict=*/true, /*writable=*/true));
  op.erase();
}
