//===- MLAOps.cpp - Verifier of kestrel.mla -------------------------------===//
//
// Shape rules of multi-head latent attention (docs/ops.md §1, MLA); each
// message names the operand and the sizes that disagree.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

double MLAOp::getEffectiveScale() {
  if (std::optional<APFloat> s = getScale())
    return s->convertToDouble();
  int64_t dn = getQC().getType().getDimSize(3);
  int64_t dr = getQR().getType().getDimSize(3);
  return 1.0 / std::sqrt(static_cast<double>(dn + dr));
}

LogicalResult MLAOp::verify() {
  struct Operand {
    const char *name;
    RankedTensorType type;
    int64_t rank;
    const char *layout;
  };
  const Operand operands[] = {
      {"q_c", getQC().getType(), 4, "[B, H, T, d_nope]"},
      {"q_r", getQR().getType(), 4, "[B, H, T, d_r]"},
      {"c_kv", getCKv().getType(), 3, "[B, S, d_c]"},
      {"k_r", getKR().getType(), 3, "[B, S, d_r]"},
      {"w_uk", getWUk().getType(), 3, "[H, d_c, d_nope]"},
      {"w_uv", getWUv().getType(), 3, "[H, d_c, d_v]"},
      {"result", getResult().getType(), 4, "[B, H, T, d_v]"}};
  for (const Operand &o : operands) {
    if (o.type.getRank() != o.rank)
      return emitOpError() << o.name << " must be " << o.layout << ", got "
                           << o.type;
    if (!o.type.hasStaticShape())
      return emitOpError() << o.name << " must have a static shape, got "
                           << o.type;
    if (o.type.getElementType() != operands[0].type.getElementType())
      return emitOpError() << "all operands and the result must share one "
                              "element type; "
                           << o.name << " has " << o.type.getElementType()
                           << ", q_c has " << operands[0].type.getElementType();
  }
  auto dim = [&](int i, unsigned d) { return operands[i].type.getDimSize(d); };
  // Each rule: (operand, dim) must equal (reference operand, dim).
  struct Rule {
    int a;
    unsigned ad;
    int b;
    unsigned bd;
    const char *what;
  };
  const Rule rules[] = {
      {1, 0, 0, 0, "batch"},          {2, 0, 0, 0, "batch"},
      {3, 0, 0, 0, "batch"},          {6, 0, 0, 0, "batch"},
      {1, 1, 0, 1, "heads"},          {4, 0, 0, 1, "heads"},
      {5, 0, 0, 1, "heads"},          {6, 1, 0, 1, "heads"},
      {1, 2, 0, 2, "query length"},   {6, 2, 0, 2, "query length"},
      {3, 1, 2, 1, "key length"},     {3, 2, 1, 3, "rope dim d_r"},
      {4, 1, 2, 2, "latent dim d_c"}, {5, 1, 2, 2, "latent dim d_c"},
      {4, 2, 0, 3, "d_nope"},         {6, 3, 5, 2, "value dim d_v"}};
  for (const Rule &r : rules)
    if (dim(r.a, r.ad) != dim(r.b, r.bd))
      return emitOpError() << r.what << " of " << operands[r.a].name << " ("
                           << dim(r.a, r.ad) << ") differs from "
                           << operands[r.b].name << " (" << dim(r.b, r.bd)
                           << ")";
  if (getCausal() && dim(2, 1) < dim(0, 2))
    return emitOpError() << "causal attention needs key length >= query "
                            "length, got S = "
                         << dim(2, 1) << " < T = " << dim(0, 2);
  if (std::optional<APFloat> s = getScale();
      s && !std::isfinite(s->convertToDouble()))
    return emitOpError() << "scale must be finite";
  return success();
}
