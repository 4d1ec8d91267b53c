//===- SupportOps.cpp - Verifiers of the supporting ops -------------------===//
//
// Shape and attribute rules of rms_norm, rope and gated_mlp (docs/ops.md
// §1, "Supporting ops"). Messages name the offending values.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "dialects/VerifierUtils.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

LogicalResult RmsNormOp::verify() {
  RankedTensorType x = getInput().getType(), w = getWeight().getType(),
                   r = getResult().getType();
  if (x.getRank() < 1)
    return emitOpError() << "input must have rank >= 1 ([..., N]), got " << x;
  if (w.getRank() != 1)
    return emitOpError() << "weight must have rank 1 ([N]), got " << w;
  if (w.getElementType() != x.getElementType() || r != x)
    return emitOpError() << "weight element type and result type must match "
                            "the input "
                         << x << ", got " << w << " and " << r;
  int64_t n = x.getDimSize(x.getRank() - 1);
  if (mismatch(n, w.getDimSize(0)))
    return emitOpError() << "weight length (" << w.getDimSize(0)
                         << ") differs from the normalized dim N (" << n << ")";
  double eps = getEps().convertToDouble();
  if (!(eps >= 0) || !std::isfinite(eps))
    return emitOpError() << "eps must be non-negative and finite, got " << eps;
  return success();
}

LogicalResult RopeOp::verify() {
  RankedTensorType x = getInput().getType(), r = getResult().getType();
  if (x.getRank() != 4)
    return emitOpError() << "input must have rank 4 ([B, H, T, D]), got " << x;
  if (r != x)
    return emitOpError() << "result type " << r << " differs from input type "
                         << x;
  if (Value p = getPositions()) {
    auto pt = cast<RankedTensorType>(p.getType());
    if (pt.getRank() != 2 || mismatch(pt.getDimSize(0), x.getDimSize(0)) ||
        mismatch(pt.getDimSize(1), x.getDimSize(2)))
      return emitOpError() << "positions must have shape [B, T] = ["
                           << x.getDimSize(0) << ", " << x.getDimSize(2)
                           << "], got " << pt;
  }
  int64_t d = getHeadDim();
  if (std::optional<uint64_t> rd = getRotaryDim()) {
    auto rot = static_cast<int64_t>(*rd);
    if (rot <= 0 || rot % 2 != 0)
      return emitOpError() << "rotary_dim (" << rot
                           << ") must be positive and even";
    if (!ShapedType::isDynamic(d) && rot > d)
      return emitOpError() << "rotary_dim (" << rot
                           << ") exceeds the head dim D (" << d << ")";
  } else if (!ShapedType::isDynamic(d) && d % 2 != 0) {
    return emitOpError() << "head dim D (" << d
                         << ") must be even when rotary_dim is not given";
  }
  if (std::optional<APFloat> b = getBase()) {
    double base = b->convertToDouble();
    if (!(base > 0) || !std::isfinite(base))
      return emitOpError() << "base must be positive and finite, got " << base;
  }
  if (std::optional<uint64_t> off = getOffset();
      off && static_cast<int64_t>(*off) < 0)
    return emitOpError() << "offset must be non-negative, got "
                         << static_cast<int64_t>(*off);
  return success();
}

LogicalResult GatedMlpOp::verify() {
  RankedTensorType x = getInput().getType(), w1 = getW1().getType(),
                   w3 = getW3().getType(), w2 = getW2().getType(),
                   r = getResult().getType();
  for (auto [name, type] :
       {std::pair{"input", x}, std::pair{"w1", w1}, std::pair{"w3", w3},
        std::pair{"w2", w2}, std::pair{"result", r}})
    if (type.getRank() != 2)
      return emitOpError() << name << " must have rank 2, got " << type;
  Type elt = x.getElementType();
  if (w1.getElementType() != elt || w3.getElementType() != elt ||
      w2.getElementType() != elt || r.getElementType() != elt)
    return emitOpError() << "input, w1, w3, w2 and result must share one "
                            "element type, got "
                         << elt << ", " << w1.getElementType() << ", "
                         << w3.getElementType() << ", " << w2.getElementType()
                         << ", " << r.getElementType();
  int64_t d = x.getDimSize(1);
  if (mismatch(w1.getDimSize(0), d) || mismatch(w3.getDimSize(0), d))
    return emitOpError() << "w1 and w3 must have d = " << d
                         << " rows (the input features), got "
                         << w1.getDimSize(0) << " and " << w3.getDimSize(0);
  if (mismatch(w1.getDimSize(1), w3.getDimSize(1)) ||
      mismatch(w1.getDimSize(1), w2.getDimSize(0)))
    return emitOpError() << "hidden sizes differ: w1 has " << w1.getDimSize(1)
                         << " columns, w3 " << w3.getDimSize(1) << ", w2 has "
                         << w2.getDimSize(0) << " rows";
  if (mismatch(w2.getDimSize(1), d))
    return emitOpError() << "w2 must have d = " << d
                         << " columns (the output features), got "
                         << w2.getDimSize(1);
  if (mismatch(r.getDimSize(0), x.getDimSize(0)) ||
      mismatch(r.getDimSize(1), d))
    return emitOpError() << "result shape must be [N, d] = [" << x.getDimSize(0)
                         << ", " << d << "], got " << r;
  return success();
}
