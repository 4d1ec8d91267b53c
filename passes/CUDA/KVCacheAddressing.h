//===- KVCacheAddressing.h --------------------------------------*- C++ -*-===//
//
// What the CUDA KV-cache kernels share (DecodeAttentionKernel.cpp reads
// the cache, KVAppendKernel.cpp writes it): how a cache layout (docs/ops.md,
// KV layouts) maps (b, j, s, d) to an element of its buffer, the decision
// annotations earlier passes may leave on the ops, and the launch plumbing.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_KVCACHEADDRESSING_H
#define KESTREL_PASSES_CUDA_KVCACHEADDRESSING_H

#include "dialects/Kestrel.h"
#include "passes/Common/IRBuilder.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <string>

namespace kestrel::cuda {

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Attributes the passes before the KV kernels may leave on the ops: they
/// record decisions, not semantics.
inline bool isKnownAnnotation(llvm::StringRef name) {
  return name == decision::kKVLayoutReason || name == decision::kKVLayoutFrom ||
         name == decision::kSplitKeys || name == decision::kDecodePrefetch;
}

/// Elements per 16-byte vector of `elem`.
inline int64_t vectorWidth(mlir::Type elem) {
  return 128 / static_cast<int64_t>(elem.getIntOrFloatBitWidth());
}

/// How one KV cache maps (b, j, s, d) to an element of its buffer.
struct CacheAddressing {
  KVLayoutKind kind;
  int64_t pageSize = 0, numPages = 0, capacity = 0;
  mlir::Value blockTable; // memref<B x max_pages x i32>, paged only

  /// Indices of token `s` (valid: 0 <= s < capacity) of KV head `j` of row
  /// `b`, column `d`. A paged entry outside [0, num_pages) is clamped when
  /// `clampPage`, else `*pageOk` (if given) says whether it is in range.
  llvm::SmallVector<mlir::Value> indices(IREmitter &x, mlir::Value b,
                                         mlir::Value j, mlir::Value s,
                                         mlir::Value d, bool clampPage,
                                         mlir::Value *pageOk = nullptr) const {
    switch (kind) {
    case KVLayoutKind::HeadMajor:
      return {b, j, s, d};
    case KVLayoutKind::TokenMajor:
      return {b, s, j, d};
    case KVLayoutKind::MLALatent:
      return {b, s, d};
    case KVLayoutKind::Paged: {
      mlir::Value page = x.loadIndex(blockTable, {b, x.div(s, pageSize)});
      if (pageOk)
        *pageOk = x.land(x.le(x.idx(0), page), x.lt(page, x.idx(numPages)));
      if (clampPage)
        page = x.maxI(x.minI(page, x.idx(numPages - 1)), x.idx(0));
      return {page, x.rem(s, pageSize), j, d};
    }
    }
    llvm_unreachable("unknown KV layout");
  }
};

inline CacheAddressing addressingOf(KVLayoutAttr layout,
                                    mlir::RankedTensorType cache,
                                    mlir::Value blockTable, int64_t maxPages) {
  CacheAddressing a;
  a.kind = layout.getKind();
  a.blockTable = blockTable;
  llvm::ArrayRef<int64_t> s = cache.getShape();
  switch (a.kind) {
  case KVLayoutKind::HeadMajor:
    a.capacity = s[2];
    break;
  case KVLayoutKind::TokenMajor:
  case KVLayoutKind::MLALatent:
    a.capacity = s[1];
    break;
  case KVLayoutKind::Paged:
    a.pageSize = layout.getPageSize();
    a.numPages = s[0];
    a.capacity = a.pageSize * maxPages;
    break;
  }
  return a;
}

/// A read-only buffer view of `tensor`.
inline mlir::Value toBuffer(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value tensor) {
  auto type = mlir::cast<mlir::RankedTensorType>(tensor.getType());
  return mlir::bufferization::ToBufferOp::create(
      b, loc, mlir::MemRefType::get(type.getShape(), type.getElementType()),
      tensor,
      /*read_only=*/true);
}

/// A gpu.launch of grid (gx, gy) and `threads` threads per block.
inline mlir::gpu::LaunchOp launch(mlir::OpBuilder &b, mlir::Location loc,
                                  int64_t gx, int64_t gy, int64_t threads,
                                  mlir::TypeRange workgroup = {}) {
  IREmitter x(b, loc);
  mlir::Value one = x.idx(1);
  return mlir::gpu::LaunchOp::create(b, loc, x.idx(gx), x.idx(gy), one,
                                     x.idx(threads), one, one, nullptr, nullptr,
                                     mlir::ValueRange{}, workgroup);
}

/// Why kv_append `op` cannot use the scatter kernel, or an empty string.
std::string unsupportedAppend(KVAppendOp op);
/// Rewrites kv_append `op` into a cache copy plus the scatter launch
/// (KVAppendKernel.cpp).
void rewriteAppend(KVAppendOp op);

} // namespace kestrel::cuda

#endif // KESTREL_PASSES_CUDA_KVCACHEADDRESSING_H
