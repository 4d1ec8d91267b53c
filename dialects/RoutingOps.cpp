//===- RoutingOps.cpp - Verifiers of the routing op family ----------------===//
//
// Shape and attribute rules of kestrel.route and kestrel.moe (docs/ops.md
// §3). Sizes come from the logits (route) and from x and w1 (moe); every
// other operand is checked against them, and every message names the operand
// or attribute and the values involved.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "dialects/VerifierUtils.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

static RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// ceil(cf · N · k / E) in double precision, as the op description states.
static int64_t capacityFor(double cf, int64_t n, int64_t k, int64_t e) {
  return static_cast<int64_t>(
      std::ceil(cf * static_cast<double>(n) * static_cast<double>(k) /
                static_cast<double>(e)));
}

std::optional<int64_t> RouteOp::getEffectiveCapacity() {
  const int64_t n = getNumTokens(), e = getNumExperts();
  if (isExpertChoice() && getCapacity())
    return static_cast<int64_t>(*getCapacity());
  std::optional<APFloat> cf = getCapacityFactor();
  if (!cf || ShapedType::isDynamic(n) || ShapedType::isDynamic(e))
    return std::nullopt;
  int64_t c =
      capacityFor(cf->convertToDouble(), n, static_cast<int64_t>(getK()), e);
  return isExpertChoice() ? std::min(c, n) : c;
}

LogicalResult RouteOp::verify() {
  RankedTensorType logits = getLogits().getType();
  if (logits.getRank() != 2)
    return emitOpError() << "logits must have rank 2 [N, E], got " << logits;
  const int64_t n = getNumTokens(), e = getNumExperts();
  const int64_t k = static_cast<int64_t>(getK());
  if (k < 1)
    return emitOpError() << "k must be at least 1, got " << k;
  if (!ShapedType::isDynamic(e) && k > e)
    return emitOpError() << "k (" << k
                         << ") must not exceed the number of experts E (" << e
                         << ")";

  if (Value bias = getSelectionBias()) {
    SmallVector<int64_t> want = {e};
    if (shapeMismatch(rankedType(bias), want))
      return emitOpError() << "selection_bias must have shape [E] = "
                           << formatShape(want) << ", got " << bias.getType();
  }

  std::optional<uint64_t> groups = getNGroups(), topGroups = getTopkGroups();
  if (groups.has_value() != topGroups.has_value())
    return emitOpError() << "n_groups and topk_groups must be given together";
  if (groups) {
    const int64_t g = static_cast<int64_t>(*groups),
                  m = static_cast<int64_t>(*topGroups);
    if (g < 1)
      return emitOpError() << "n_groups must be at least 1, got " << g;
    if (m < 1 || m > g)
      return emitOpError() << "topk_groups (" << m
                           << ") must lie in [1, n_groups] = [1, " << g << "]";
    if (!ShapedType::isDynamic(e)) {
      if (e % g != 0)
        return emitOpError()
               << "the number of experts E (" << e
               << ") must be a multiple of n_groups (" << g << ")";
      if (k > m * (e / g))
        return emitOpError() << "k (" << k << ") exceeds the " << m * (e / g)
                             << " experts of the topk_groups (" << m
                             << ") groups that stay eligible";
    }
  }

  if (std::optional<APFloat> cf = getCapacityFactor()) {
    double v = cf->convertToDouble();
    if (!std::isfinite(v) || v <= 0)
      return emitOpError() << "capacity_factor must be positive and finite, "
                              "got "
                           << v;
  }

  RankedTensorType indices = getIndices().getType(),
                   weights = getWeights().getType();
  if (!isExpertChoice()) {
    if (getCapacity())
      return emitOpError() << "capacity is only meaningful in expert_choice "
                              "mode; token_choice drops by capacity_factor";
    SmallVector<int64_t> want = {n, k};
    if (shapeMismatch(indices, want))
      return emitOpError() << "indices must have shape [N, k] = "
                           << formatShape(want) << ", got " << indices;
    if (shapeMismatch(weights, want))
      return emitOpError() << "weights must have shape [N, k] = "
                           << formatShape(want) << ", got " << weights;
    return success();
  }

  // Expert choice: per-expert top-c over tokens.
  if (getSelectionBias())
    return emitOpError() << "expert_choice mode takes no selection_bias: a "
                            "per-expert bias cannot change which tokens an "
                            "expert prefers";
  if (getRenormalize())
    return emitOpError() << "expert_choice mode does not renormalize";
  if (groups)
    return emitOpError() << "expert_choice mode takes no n_groups/topk_groups";
  if (getCapacity().has_value() == getCapacityFactor().has_value())
    return emitOpError() << "expert_choice mode needs exactly one of capacity "
                            "and capacity_factor";
  if (std::optional<uint64_t> c = getCapacity()) {
    int64_t cap = static_cast<int64_t>(*c);
    if (cap < 1)
      return emitOpError() << "capacity must be at least 1, got " << cap;
    if (!ShapedType::isDynamic(n) && cap > n)
      return emitOpError() << "capacity (" << cap
                           << ") must not exceed the number of tokens N (" << n
                           << ")";
  }
  int64_t c = getEffectiveCapacity().value_or(ShapedType::kDynamic);
  SmallVector<int64_t> want = {e, c};
  if (shapeMismatch(indices, want))
    return emitOpError() << "indices must have shape [E, c] = "
                         << formatShape(want) << " in expert_choice mode, got "
                         << indices;
  if (shapeMismatch(weights, want))
    return emitOpError() << "weights must have shape [E, c] = "
                         << formatShape(want) << " in expert_choice mode, got "
                         << weights;
  return success();
}

LogicalResult MoeOp::verify() {
  RankedTensorType x = getX().getType(), w1 = getW1().getType();
  if (x.getRank() != 2)
    return emitOpError() << "x must have rank 2 [N, d], got " << x;
  if (w1.getRank() != 3)
    return emitOpError() << "w1 must have rank 3 [E, d, ff], got " << w1;
  const int64_t n = x.getDimSize(0), d = x.getDimSize(1), e = w1.getDimSize(0),
                ff = w1.getDimSize(2);

  // The experts (and the shared expert) are computed in x's storage type;
  // the routing weights may be stored differently (often f32).
  Type elt = x.getElementType();
  for (auto [name, value] : {std::pair<StringRef, Value>{"w1", getW1()},
                             {"w3", getW3()},
                             {"w2", getW2()},
                             {"shared_w1", getSharedW1()},
                             {"shared_w3", getSharedW3()},
                             {"shared_w2", getSharedW2()},
                             {"result", getResult()}})
    if (value && rankedType(value).getElementType() != elt)
      return emitOpError() << name << " has element type "
                           << rankedType(value).getElementType()
                           << " but x has " << elt
                           << "; x, the expert weights and the result must "
                              "share one";

  RankedTensorType indices = getIndices().getType(),
                   weights = getWeights().getType();
  if (indices.getRank() != 2)
    return emitOpError() << "indices must have rank 2, got " << indices;
  if (isExpertChoice()) {
    if (mismatch(indices.getDimSize(0), e))
      return emitOpError() << "indices must have shape [E, c] with E = " << e
                           << " in expert_choice mode, got " << indices;
  } else if (mismatch(indices.getDimSize(0), n)) {
    return emitOpError() << "indices must have shape [N, k] with N = " << n
                         << ", got " << indices;
  }
  if (shapeMismatch(weights, indices.getShape()))
    return emitOpError() << "weights must have the shape of indices "
                         << formatShape(indices.getShape()) << ", got "
                         << weights;

  SmallVector<int64_t> up = {e, d, ff}, down = {e, ff, d}, out = {n, d};
  for (auto [name, layout, value, want] :
       {std::tuple<StringRef, StringRef, Value, ArrayRef<int64_t>>{
            "w3", "[E, d, ff]", getW3(), up},
        {"w2", "[E, ff, d]", getW2(), down},
        {"result", "[N, d]", getResult(), out}})
    if (shapeMismatch(rankedType(value), want))
      return emitOpError() << name << " must have shape " << layout << " = "
                           << formatShape(want) << ", got " << value.getType();

  Value s1 = getSharedW1(), s3 = getSharedW3(), s2 = getSharedW2();
  if (!s1 && !s3 && !s2)
    return success();
  if (!s1 || !s3 || !s2)
    return emitOpError() << "shared_w1, shared_w3 and shared_w2 must be given "
                            "together";
  if (rankedType(s1).getRank() != 2)
    return emitOpError() << "shared_w1 must have rank 2 [d, fs], got "
                         << s1.getType();
  const int64_t fs = rankedType(s1).getDimSize(1);
  SmallVector<int64_t> sUp = {d, fs}, sDown = {fs, d};
  for (auto [name, layout, value, want] :
       {std::tuple<StringRef, StringRef, Value, ArrayRef<int64_t>>{
            "shared_w1", "[d, fs]", s1, sUp},
        {"shared_w3", "[d, fs]", s3, sUp},
        {"shared_w2", "[fs, d]", s2, sDown}})
    if (shapeMismatch(rankedType(value), want))
      return emitOpError() << name << " must have shape " << layout << " = "
                           << formatShape(want) << ", got " << value.getType();
  return success();
}

LogicalResult TopKOp::verify() {
  RankedTensorType x = rankedType(getInput());
  Type elt = x.getElementType();
  if (x.getRank() < 1)
    return emitOpError() << "input must have rank >= 1, got " << x;
  if (!isa<FloatType, IntegerType>(elt) || elt.isInteger(1))
    return emitOpError() << "input must hold floats or integers (not i1), got "
                         << x;
  int64_t axis = getAxis(), k = getK();
  if (axis < 0 || axis >= x.getRank())
    return emitOpError() << "axis " << axis << " is outside [0, " << x.getRank()
                         << ")";
  int64_t dim = x.getDimSize(axis);
  if (k < 0 || (!ShapedType::isDynamic(dim) && k > dim))
    return emitOpError() << "k = " << k << " must be in [0, " << dim
                         << "] (the size of axis " << axis << ")";
  SmallVector<int64_t> want(x.getShape());
  want[axis] = k;
  RankedTensorType v = rankedType(getValues()), i = rankedType(getIndices());
  if (shapeMismatch(v, want) || v.getElementType() != elt)
    return emitOpError() << "values must have shape " << formatShape(want)
                         << " and the input's element type, got " << v;
  if (shapeMismatch(i, want) || !i.getElementType().isInteger(64))
    return emitOpError() << "indices must be i64 of shape " << formatShape(want)
                         << ", got " << i;
  return success();
}
