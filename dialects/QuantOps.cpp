//===- QuantOps.cpp - Verifier of kestrel.quantized_attention -------------===//

#include "dialects/Kestrel.h"

using namespace mlir;
using namespace kestrel;

LogicalResult QuantizedAttentionOp::verify() {
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType(), r = getResult().getType();
  for (auto [name, type] : {std::pair{"query", q}, std::pair{"key", k},
                            std::pair{"value", v}, std::pair{"result", r}}) {
    if (type.getRank() != 4)
      return emitOpError() << name
                           << " must have rank 4 ([B, heads, len, dim]), "
                           << "got " << type;
    if (!type.hasStaticShape())
      return emitOpError() << name << " must have a static shape, got " << type;
  }
  if (k.getElementType() != q.getElementType() ||
      v.getElementType() != q.getElementType() ||
      r.getElementType() != q.getElementType())
    return emitOpError("query, key, value and result must share one element "
                       "type");
  int64_t B = q.getDimSize(0), H = q.getDimSize(1), T = q.getDimSize(2),
          D = q.getDimSize(3), Hkv = k.getDimSize(1), S = k.getDimSize(2);
  if (k.getDimSize(0) != B || v.getDimSize(0) != B || r.getDimSize(0) != B)
    return emitOpError() << "batch sizes differ";
  if (k.getDimSize(3) != D)
    return emitOpError() << "query head dim (" << D
                         << ") differs from key head dim (" << k.getDimSize(3)
                         << ")";
  if (v.getDimSize(1) != Hkv || v.getDimSize(2) != S)
    return emitOpError() << "value must be [B, " << Hkv << ", " << S
                         << ", Dv] like key, got " << v;
  if (r.getDimSize(1) != H || r.getDimSize(2) != T ||
      r.getDimSize(3) != v.getDimSize(3))
    return emitOpError() << "result shape must be [B, H, T, Dv] = [" << B
                         << ", " << H << ", " << T << ", " << v.getDimSize(3)
                         << "], got " << r;
  if (H % Hkv != 0)
    return emitOpError() << "num_heads (" << H
                         << ") must be a multiple of num_kv_heads (" << Hkv
                         << ")";
  if (getCausal() && S < T)
    return emitOpError() << "causal attention needs key length >= query "
                            "length, got S = "
                         << S << " < T = " << T;
  if (T % static_cast<int64_t>(getBlockQ()) != 0)
    return emitOpError() << "block_q (" << getBlockQ()
                         << ") must divide the query length (" << T << ")";
  if (S % static_cast<int64_t>(getBlockK()) != 0)
    return emitOpError() << "block_k (" << getBlockK()
                         << ") must divide the key length (" << S << ")";
  return success();
}
