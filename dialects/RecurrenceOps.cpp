//===- RecurrenceOps.cpp - Verifiers of the recurrence op family ----------===//
//
// Shape and operand rules of docs/ops.md §2. Which optional operands must
// be present follows from the gate kind; every message names the operand and
// the sizes involved.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "dialects/VerifierUtils.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

LogicalResult GatedRecurrenceOp::verify() {
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType(), o = getOutput().getType(),
                   fs = getFinalState().getType();
  for (auto [name, type] :
       {std::pair{"query", q}, std::pair{"key", k}, std::pair{"value", v},
        std::pair{"output", o}, std::pair{"final_state", fs}})
    if (type.getRank() != 4)
      return emitOpError() << name << " must have rank 4, got " << type;

  // query, key and value share one storage type, which the output keeps;
  // the state, log-gates and beta are in that type or in f32 (docs/ops.md
  // §2: production models keep them in f32), and the final state in the
  // initial state's type when there is one. Every lowering widens each
  // operand to f32 once and narrows each result once.
  Type elt = q.getElementType(), f32 = Float32Type::get(getContext());
  auto typeOf = [](Value v) {
    return cast<ShapedType>(v.getType()).getElementType();
  };
  for (auto [name, value] : {std::pair<StringRef, Value>{"key", getKey()},
                             {"value", getValue()},
                             {"output", getOutput()}})
    if (typeOf(value) != elt)
      return emitOpError() << name << " has element type " << typeOf(value)
                           << " but query has " << elt
                           << "; query, key, value and output must share one";
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"log_gate", getLogGate()},
        {"beta", getBeta()},
        {"initial_state", getInitialState()},
        {"final_state", getFinalState()}})
    if (value && typeOf(value) != elt && typeOf(value) != f32)
      return emitOpError() << name << " has element type " << typeOf(value)
                           << " but must be f32 or query's type " << elt;
  if (Value s0 = getInitialState(); s0 && typeOf(s0) != fs.getElementType())
    return emitOpError() << "final_state has element type "
                         << fs.getElementType() << " but initial_state has "
                         << typeOf(s0) << "; they must match";

  auto dim = [](RankedTensorType t, unsigned i) { return t.getDimSize(i); };
  const int64_t B = dim(q, 0), H = dim(q, 1), T = dim(q, 2), Dk = dim(q, 3),
                Dv = dim(v, 3), Hkv = dim(k, 1);
  if (mismatch(B, dim(k, 0)) || mismatch(B, dim(v, 0)))
    return emitOpError() << "batch sizes differ: query " << B << ", key "
                         << dim(k, 0) << ", value " << dim(v, 0);
  if (mismatch(Hkv, dim(v, 1)))
    return emitOpError() << "key has " << Hkv << " heads but value has "
                         << dim(v, 1);
  if (T == 0)
    return emitOpError() << "has sequence length 0 (query " << q
                         << "): the recurrence needs at least one step";
  if (mismatch(T, dim(k, 2)) || mismatch(T, dim(v, 2)))
    return emitOpError() << "sequence lengths differ: query " << T << ", key "
                         << dim(k, 2) << ", value " << dim(v, 2);
  if (mismatch(Dk, dim(k, 3)))
    return emitOpError() << "query head dim (" << Dk
                         << ") differs from key head dim (" << dim(k, 3) << ")";
  if (!ShapedType::isDynamic(H) && !ShapedType::isDynamic(Hkv) &&
      (Hkv == 0 || H % Hkv != 0))
    return emitOpError() << "num_heads (" << H << ") must be a multiple of "
                         << "num_kv_heads (" << Hkv << ")";

  SmallVector<int64_t> outShape = {B, H, T, Dv}, stateShape = {B, H, Dk, Dv};
  if (shapeMismatch(o, outShape))
    return emitOpError() << "output must have shape [B, H, T, Dv] = "
                         << formatShape(outShape) << ", got " << o;
  if (shapeMismatch(fs, stateShape))
    return emitOpError() << "final_state must have shape [B, H, Dk, Dv] = "
                         << formatShape(stateShape) << ", got " << fs;
  if (Value s0 = getInitialState();
      s0 && shapeMismatch(cast<RankedTensorType>(s0.getType()), stateShape))
    return emitOpError() << "initial_state must have shape [B, H, Dk, Dv] = "
                         << formatShape(stateShape) << ", got " << s0.getType();

  GateKind kind = getGate();
  StringRef kindName = stringifyGateKind(kind);
  if (Value g = getLogGate()) {
    if (!isGated(kind))
      return emitOpError() << "gate kind '" << kindName
                           << "' takes no log_gate";
    bool perKey = kind == GateKind::Vector;
    SmallVector<int64_t> want = {B, H, T};
    if (perKey)
      want.push_back(Dk);
    if (shapeMismatch(cast<RankedTensorType>(g.getType()), want))
      return emitOpError() << "log_gate of gate kind '" << kindName
                           << "' must have shape "
                           << (perKey ? "[B, H, T, Dk]" : "[B, H, T]") << " = "
                           << formatShape(want) << ", got " << g.getType();
  } else if (isGated(kind)) {
    return emitOpError() << "gate kind '" << kindName
                         << "' needs a log_gate operand";
  }

  if (Value beta = getBeta()) {
    if (!isDelta(kind))
      return emitOpError() << "gate kind '" << kindName
                           << "' takes no beta (only delta and gated_delta do)";
    SmallVector<int64_t> want = {B, H, T};
    if (shapeMismatch(cast<RankedTensorType>(beta.getType()), want))
      return emitOpError() << "beta must have shape [B, H, T] = "
                           << formatShape(want) << ", got " << beta.getType();
  } else if (isDelta(kind)) {
    return emitOpError() << "gate kind '" << kindName
                         << "' needs a beta operand";
  }

  if (std::optional<APFloat> sc = getScale();
      sc && !std::isfinite(sc->convertToDouble()))
    return emitOpError() << "scale must be finite, got "
                         << sc->convertToDouble();
  return success();
}

/// `value` (if present) must have element type `want`; otherwise emits
/// "<name> has element type X but <what>".
static LogicalResult checkElementType(Operation *op, StringRef name,
                                      Value value, Type want, StringRef what) {
  if (!value)
    return success();
  Type got = cast<ShapedType>(value.getType()).getElementType();
  if (got == want)
    return success();
  return op->emitOpError() << name << " has element type " << got << " but "
                           << what;
}

LogicalResult SelectiveScanOp::verify() {
  auto rt = [](Value v) { return cast<RankedTensorType>(v.getType()); };
  RankedTensorType x = rt(getX()), a = rt(getA());
  if (x.getRank() != 3)
    return emitOpError() << "x must have rank 3 [B, C, T], got " << x;
  if (a.getRank() != 2)
    return emitOpError() << "A must have rank 2 [C, N], got " << a;
  // B, C and T come from x, N from A: every other operand is checked
  // against them, so a disagreement is reported on the operand that differs.
  const int64_t B = x.getDimSize(0), C = x.getDimSize(1), T = x.getDimSize(2),
                N = a.getDimSize(1);

  // Activations share x's storage type; parameters and states are f32
  // (see the op description for why).
  Type elt = x.getElementType(), f32 = Float32Type::get(getContext());
  for (auto [name, value] : {std::pair<StringRef, Value>{"delta", getDelta()},
                             {"Bm", getBm()},
                             {"Cm", getCm()},
                             {"z", getZ()},
                             {"y", getY()}})
    if (failed(checkElementType(*this, name, value, elt,
                                "x has the storage type of the activations")))
      return failure();
  for (auto [name, value] : {std::pair<StringRef, Value>{"A", getA()},
                             {"D", getD()},
                             {"delta_bias", getDeltaBias()},
                             {"initial_state", getInitialState()},
                             {"final_state", getFinalState()}})
    if (failed(checkElementType(*this, name, value, f32, "must be f32")))
      return failure();

  SmallVector<int64_t> act = {B, C, T}, bc = {B, N, T}, param = {C, N},
                       vec = {C}, state = {B, C, N};
  SmallVector<std::tuple<StringRef, StringRef, Value, ArrayRef<int64_t>>>
      shapes = {{"delta", "[B, C, T]", getDelta(), act},
                {"A", "[C, N]", getA(), param},
                {"Bm", "[B, N, T]", getBm(), bc},
                {"Cm", "[B, N, T]", getCm(), bc},
                {"D", "[C]", getD(), vec},
                {"z", "[B, C, T]", getZ(), act},
                {"delta_bias", "[C]", getDeltaBias(), vec},
                {"initial_state", "[B, C, N]", getInitialState(), state},
                {"y", "[B, C, T]", getY(), act},
                {"final_state", "[B, C, N]", getFinalState(), state}};
  for (auto [name, layout, value, want] : shapes)
    if (value && shapeMismatch(rt(value), want))
      return emitOpError() << name << " must have shape " << layout << " = "
                           << formatShape(want) << ", got " << value.getType();
  return success();
}

LogicalResult CausalConv1dOp::verify() {
  auto rt = [](Value v) { return cast<RankedTensorType>(v.getType()); };
  RankedTensorType x = rt(getX()), w = rt(getWeight());
  if (x.getRank() != 3)
    return emitOpError() << "x must have rank 3 [B, C, T], got " << x;
  if (w.getRank() != 2)
    return emitOpError() << "weight must have rank 2 [C, K], got " << w;
  const int64_t B = x.getDimSize(0), C = x.getDimSize(1), T = x.getDimSize(2),
                K = w.getDimSize(1);
  if (ShapedType::isDynamic(K))
    return emitOpError() << "weight must have a static kernel size K, got "
                         << w;
  if (K < 1)
    return emitOpError() << "kernel size K must be at least 1, got " << K;

  Type elt = x.getElementType();
  std::string what;
  llvm::raw_string_ostream(what)
      << "x has '" << elt << "'; all operands and results must share one";
  for (auto [name, value] : {std::pair<StringRef, Value>{"weight", getWeight()},
                             {"bias", getBias()},
                             {"state", getState()},
                             {"y", getY()},
                             {"new_state", getNewState()}})
    if (failed(checkElementType(*this, name, value, elt, what)))
      return failure();

  SmallVector<int64_t> wShape = {C, K}, vec = {C}, state = {B, C, K - 1},
                       act = {B, C, T};
  SmallVector<std::tuple<StringRef, StringRef, Value, ArrayRef<int64_t>>>
      shapes = {{"weight", "[C, K]", getWeight(), wShape},
                {"bias", "[C]", getBias(), vec},
                {"state", "[B, C, K-1]", getState(), state},
                {"y", "[B, C, T]", getY(), act},
                {"new_state", "[B, C, K-1]", getNewState(), state}};
  for (auto [name, layout, value, want] : shapes)
    if (value && shapeMismatch(rt(value), want))
      return emitOpError() << name << " must have shape " << layout << " = "
                           << formatShape(want) << ", got " << value.getType();
  return success();
}
