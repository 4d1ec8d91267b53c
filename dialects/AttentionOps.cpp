//===- AttentionOps.cpp - Verifiers of the attention op family ------------===//
//
// Shape and attribute rules of docs/ops.md §1. Every message names the
// offending values so that a user can fix the graph without reading code.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "dialects/VerifierUtils.h"

#include "llvm/Support/InterleavedRange.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

double AttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> s = getScale())
    return s->convertToDouble();
  return 1.0 / std::sqrt(static_cast<double>(getHeadDim()));
}

LogicalResult AttentionOp::verify() {
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType(), r = getResult().getType();
  for (auto [name, type] : {std::pair{"query", q}, std::pair{"key", k},
                            std::pair{"value", v}, std::pair{"result", r}})
    if (type.getRank() != 4)
      return emitOpError() << name
                           << " must have rank 4 ([B, heads, len, dim]), got "
                           << type;

  Type elt = q.getElementType();
  if (k.getElementType() != elt || v.getElementType() != elt ||
      r.getElementType() != elt)
    return emitOpError()
           << "query, key, value and result must share one element "
              "type, got "
           << elt << ", " << k.getElementType() << ", " << v.getElementType()
           << ", " << r.getElementType();

  auto dim = [](RankedTensorType t, unsigned i) { return t.getDimSize(i); };
  if (mismatch(dim(q, 0), dim(k, 0)) || mismatch(dim(q, 0), dim(v, 0)) ||
      mismatch(dim(q, 0), dim(r, 0)))
    return emitOpError() << "batch sizes differ: query " << dim(q, 0)
                         << ", key " << dim(k, 0) << ", value " << dim(v, 0)
                         << ", result " << dim(r, 0);
  if (mismatch(dim(k, 1), dim(v, 1)))
    return emitOpError() << "key has " << dim(k, 1) << " heads but value has "
                         << dim(v, 1);
  if (mismatch(dim(k, 2), dim(v, 2)))
    return emitOpError() << "key length (" << dim(k, 2)
                         << ") differs from value length (" << dim(v, 2) << ")";
  if (mismatch(dim(q, 3), dim(k, 3)))
    return emitOpError() << "query head dim (" << dim(q, 3)
                         << ") differs from key head dim (" << dim(k, 3) << ")";
  if (mismatch(dim(r, 1), dim(q, 1)) || mismatch(dim(r, 2), dim(q, 2)) ||
      mismatch(dim(r, 3), dim(v, 3)))
    return emitOpError() << "result shape must be [B, H, T, Dv] = ["
                         << dim(q, 0) << ", " << dim(q, 1) << ", " << dim(q, 2)
                         << ", " << dim(v, 3) << "], got " << r;

  int64_t h = dim(q, 1), hkv = dim(k, 1);
  if (!ShapedType::isDynamic(h) && !ShapedType::isDynamic(hkv) &&
      (hkv == 0 || h % hkv != 0))
    return emitOpError() << "num_heads (" << h << ") must be a multiple of "
                         << "num_kv_heads (" << hkv << ")";

  int64_t t = dim(q, 2), s = dim(k, 2);
  if (getCausal() && !ShapedType::isDynamic(t) && !ShapedType::isDynamic(s) &&
      s < t)
    return emitOpError()
           << "causal attention needs key length >= query length, "
              "got S = "
           << s << " < T = " << t;
  if (getWindow() && !getCausal())
    return emitOpError() << "window = " << *getWindow()
                         << " requires 'causal' (the window looks back from "
                            "each query)";
  if (getSinks() && !getWindow())
    return emitOpError()
           << "sinks = " << *getSinks()
           << " requires a window (sinks are keys exempt from it)";
  if (std::optional<APFloat> sc = getSoftcap();
      sc && !(sc->convertToDouble() > 0))
    return emitOpError() << "softcap must be positive, got "
                         << sc->convertToDouble();
  if (std::optional<APFloat> sc = getScale();
      sc && !std::isfinite(sc->convertToDouble()))
    return emitOpError() << "scale must be finite, got "
                         << sc->convertToDouble();
  if (failed(verifyBlockMap()))
    return failure();

  int64_t batch = dim(q, 0);
  if (Value lengths = getKeyLengths()) {
    auto type = cast<RankedTensorType>(lengths.getType());
    if (type.getRank() != 1 || !type.getElementType().isSignlessInteger(32))
      return emitOpError() << "key_lengths must be a rank-1 tensor of i32 "
                              "([B]), got "
                           << type;
    if (mismatch(type.getDimSize(0), batch))
      return emitOpError() << "key_lengths has " << type.getDimSize(0)
                           << " entries but the batch size is " << batch;
  }
  if (Value lse = getLse()) {
    auto type = cast<RankedTensorType>(lse.getType());
    if (type.getRank() != 3 || !type.getElementType().isF32() ||
        mismatch(type.getDimSize(0), batch) ||
        mismatch(type.getDimSize(1), h) || mismatch(type.getDimSize(2), t))
      return emitOpError() << "lse must be an f32 tensor of shape [B, H, T] = ["
                           << batch << ", " << h << ", " << t << "], got "
                           << type;
  }
  return success();
}

LogicalResult AttentionOp::verifyBlockMap() {
  std::optional<ArrayRef<int64_t>> sizes = getBlockSize();
  DenseIntElementsAttr map = getBlockMapAttr();
  if (!map && !sizes)
    return success();
  if (!map)
    return emitOpError() << "block_size = [" << llvm::interleaved(*sizes)
                         << "] needs a block_map";
  if (!sizes)
    return emitOpError() << "block_map needs block_size = [bq, bk]";
  if (sizes->size() != 2 || (*sizes)[0] <= 0 || (*sizes)[1] <= 0)
    return emitOpError() << "block_size must hold two positive sizes [bq, bk], "
                            "got ["
                         << llvm::interleaved(*sizes) << "]";
  auto type = cast<ShapedType>(map.getType());
  if (type.getRank() != 2 || !type.getElementType().isInteger(1))
    return emitOpError() << "block_map must be a rank-2 tensor of i1, got "
                         << type;
  int64_t bq = (*sizes)[0], bk = (*sizes)[1];
  int64_t t = getQuery().getType().getDimSize(2),
          s = getKey().getType().getDimSize(2);
  auto blocks = [](int64_t len, int64_t size) {
    return ShapedType::isDynamic(len) ? len : llvm::divideCeil(len, size);
  };
  int64_t rows = blocks(t, bq), cols = blocks(s, bk);
  if (mismatch(type.getDimSize(0), rows) || mismatch(type.getDimSize(1), cols))
    return emitOpError() << "block_map has shape [" << type.getDimSize(0)
                         << ", " << type.getDimSize(1) << "] but T = " << t
                         << ", S = " << s << " and block_size = [" << bq << ", "
                         << bk << "] need [ceil(T / bq), ceil(S / bk)] = ["
                         << rows << ", " << cols << "]";
  return success();
}
