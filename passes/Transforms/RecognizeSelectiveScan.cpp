//===- RecognizeSelectiveScan.cpp - Unrolled Mamba scan -> kestrel op -----===//
//
// kestrel-recognize, selective scan (docs/ops.md "kestrel.selective_scan"),
// as an exporter writes the sequential reference loop of a Mamba(1) mixer
// with activations [B, T, C] (time second):
//
//   dA  = exp(delta [B,T,C] [..., None] · A [C,N])              [B,T,C,N]
//   dBx = (delta · x) [B,T,C] [..., None] · Bm [B,T,N] [:, :, None, :]
//   h_t = dA[:, t] · h_{t-1} + dBx[:, t]      t = 0..T-1, h_{-1} = h0 or 0
//   y_t = Σ_n h_t · Cm[:, t][:, None, :]                        [B, C]
//   y   = concat(y_0[:, None], ..., y_{T-1}[:, None], axis 1)   [B, T, C]
//
// i.e. T copies of the step, each reading its time slice `t` of dA, dBx and
// Cm (the importer's gather generic with a constant index, or an
// extract_slice) and the previous step's state. Every step is checked: the
// same ops on the same three sources, at time index t exactly (the gather's
// index expression is evaluated), chained through the state; the first step
// may start from a zero constant (no initial state), any [B, C, N] f32 value
// (initial_state) or none (h_0 = dBx[:, 0]). Anything else leaves the
// graph as it is. The concat becomes
//
//   transpose(kestrel.selective_scan(xᵀ, deltaᵀ, A, Bmᵀ, Cmᵀ).y)
//
// (channels-first operands, docs/ops.md), and other users of the last state
// h_{T-1} read the op's final_state. The unrolled chain, dA and dBx are left
// without users (erased by the pass).
//
// Hugging Face's sequential Mamba mixer (MambaMixer.slow_forward, also
// Jamba's) writes the same recurrence channels first: dA, dBx [B, C, T, N]
// sliced at axis 2, y_t = (h_t @ Cm[:, t, :, None])[:, :, 0] (a batched
// matmul), the steps stacked on the last axis, A read as A[None, :, None, :]
// and dBx as delta · Bm · x in either association (matchChannelsFirst). It
// becomes kestrel.selective_scan(x, delta, A [C, N], Bmᵀ, Cmᵀ) with x, delta
// and y in place.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/RecognizeMatchers.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace kestrel::recognize {
namespace {

RankedTensorType rt(Value v) { return dyn_cast<RankedTensorType>(v.getType()); }

/// Whether `v` is a static f32 tensor of shape `shape`.
bool isF32(Value v, ArrayRef<int64_t> shape) {
  RankedTensorType t = v ? rt(v) : RankedTensorType();
  return t && t.hasStaticShape() && t.getElementType().isF32() &&
         t.getShape() == shape;
}

/// The source of a reshape of `v` that only inserts a unit dim at `dim`, or
/// null.
Value unitDimInserted(Value v, int64_t dim) {
  Value src = reshapeSource(v);
  if (!src || !rt(src) || !rt(v) || !rt(src).hasStaticShape() ||
      !rt(v).hasStaticShape())
    return nullptr;
  SmallVector<int64_t> shape(rt(src).getShape());
  if (dim > (int64_t)shape.size())
    return nullptr;
  shape.insert(shape.begin() + dim, 1);
  return ArrayRef<int64_t>(shape) == rt(v).getShape() ? src : Value();
}

/// Evaluates an index computation in a gather body whose only free input is
/// the block argument `arg` (the gather's index, value `argValue`): integer
/// constants, casts, add/sub/mul, min/max, compares, select, and/or. Anything
/// else (linalg.index, tensor reads) is not a constant: std::nullopt.
std::optional<int64_t> evalIndex(Value v, BlockArgument arg, int64_t argValue,
                                 int depth = 0) {
  if (depth > 32)
    return std::nullopt;
  if (v == arg)
    return argValue;
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  auto ev = [&](Value o) { return evalIndex(o, arg, argValue, depth + 1); };
  if (auto c = dyn_cast<arith::ConstantOp>(def)) {
    if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      return i.getValue().getSExtValue();
    return std::nullopt;
  }
  if (isa<arith::IndexCastOp, arith::ExtSIOp>(def))
    return ev(def->getOperand(0));
  if (auto sel = dyn_cast<arith::SelectOp>(def)) {
    std::optional<int64_t> c = ev(sel.getCondition());
    return c ? ev(*c ? sel.getTrueValue() : sel.getFalseValue()) : c;
  }
  if (def->getNumOperands() != 2)
    return std::nullopt;
  std::optional<int64_t> a = ev(def->getOperand(0)), b = ev(def->getOperand(1));
  if (!a || !b)
    return std::nullopt;
  if (auto cmp = dyn_cast<arith::CmpIOp>(def)) {
    using P = arith::CmpIPredicate;
    switch (cmp.getPredicate()) {
    case P::eq:
      return *a == *b;
    case P::ne:
      return *a != *b;
    case P::slt:
      return *a < *b;
    case P::sle:
      return *a <= *b;
    case P::sgt:
      return *a > *b;
    case P::sge:
      return *a >= *b;
    default:
      return std::nullopt; // unsigned compares: not written by the importer
    }
  }
  return llvm::TypeSwitch<Operation *, std::optional<int64_t>>(def)
      .Case([&](arith::AddIOp) { return *a + *b; })
      .Case([&](arith::SubIOp) { return *a - *b; })
      .Case([&](arith::MulIOp) { return *a * *b; })
      .Case([&](arith::MaxSIOp) { return std::max(*a, *b); })
      .Case([&](arith::MinSIOp) { return std::min(*a, *b); })
      .Case([&](arith::AndIOp) { return *a & *b; })
      .Case([&](arith::OrIOp) { return *a | *b; })
      .Default([](Operation *) { return std::nullopt; });
}

/// src[:, t] for `v` = the time slice t (axis `axis`, 1 or 2) of a static
/// tensor src, as the importer's Gather with a constant scalar index (a
/// generic reading src[i0, f(idx), i1, ...] with f evaluated here; for axis
/// 2 src[i0, i1, f(idx), ...]) or a unit-stride extract_slice of size 1
/// along the axis (rank-reduced, or with the unit dim then dropped by a
/// reshape).
struct TimeSlice {
  Value src;
  int64_t t;
};
std::optional<TimeSlice> timeSlice(Value v, int64_t axis = 1) {
  if (!v || !rt(v) || !rt(v).hasStaticShape() || rt(v).getRank() < axis)
    return std::nullopt;
  auto sliceOf = [&](Value from) -> std::optional<TimeSlice> {
    auto s = from.getDefiningOp<tensor::ExtractSliceOp>();
    if (!s || !s.hasUnitStride() || !rt(s.getSource()) ||
        !rt(s.getSource()).hasStaticShape() ||
        ShapedType::isDynamicShape(s.getStaticOffsets()) ||
        ShapedType::isDynamicShape(s.getStaticSizes()))
      return std::nullopt;
    ArrayRef<int64_t> src = rt(s.getSource()).getShape();
    SmallVector<int64_t> rest(src);
    if ((int64_t)rest.size() <= axis)
      return std::nullopt;
    rest.erase(rest.begin() + axis);
    // Offsets 0 but at the axis, sizes the whole source but 1 there.
    for (auto [i, off, size] :
         llvm::enumerate(s.getStaticOffsets(), s.getStaticSizes()))
      if (((int64_t)i != axis && (off != 0 || size != src[i])) ||
          ((int64_t)i == axis && size != 1))
        return std::nullopt;
    if (rt(v).getShape() != ArrayRef<int64_t>(rest))
      return std::nullopt;
    return TimeSlice{s.getSource(), s.getStaticOffsets()[axis]};
  };
  if (v.getDefiningOp<tensor::ExtractSliceOp>())
    return sliceOf(v);
  // A reshape dropping the unit axis of a [B, 1, ...] slice.
  if (Value src = reshapeSource(v)) {
    SmallVector<int64_t> shape(rt(v).getShape());
    shape.insert(shape.begin() + axis, 1);
    if (rt(src) && rt(src).getShape() == ArrayRef<int64_t>(shape))
      return sliceOf(src);
    return std::nullopt;
  }
  auto gen = v.getDefiningOp<linalg::GenericOp>();
  if (!gen || gen.getNumDpsInputs() != 1 || gen.getNumResults() != 1 ||
      gen.getNumReductionLoops() != 0 || !gen.hasPureTensorSemantics())
    return std::nullopt;
  int64_t rank = rt(v).getRank();
  Value index = gen.getInputs()[0];
  auto indexType = rt(index);
  std::optional<double> indexValue = splatValue(index);
  if (!indexType || indexType.getRank() != 0 ||
      !isa<IntegerType>(indexType.getElementType()) || !indexValue ||
      gen.getIndexingMapsArray()[0].getNumResults() != 0 ||
      !gen.getIndexingMapsArray()[1].isIdentity())
    return std::nullopt;
  Block &blk = gen.getRegion().front();
  auto ex = cast<linalg::YieldOp>(blk.getTerminator())
                .getOperand(0)
                .getDefiningOp<tensor::ExtractOp>();
  if (!ex || ex->getBlock() != &blk)
    return std::nullopt;
  Value src = ex.getTensor();
  if (src.getParentBlock() == &blk || !rt(src) || !rt(src).hasStaticShape() ||
      rt(src).getRank() != rank + 1)
    return std::nullopt;
  // Indices (index 0, .., f(idx) at the axis, .., index rank-1), extents
  // matching.
  for (int64_t i = 0; i <= rank; ++i) {
    if (i == axis)
      continue;
    int64_t loop = i < axis ? i : i - 1;
    auto idx = ex.getIndices()[i].getDefiningOp<linalg::IndexOp>();
    if (!idx || (int64_t)idx.getDim() != loop ||
        rt(src).getDimSize(i) != rt(v).getDimSize(loop))
      return std::nullopt;
  }
  std::optional<int64_t> t = evalIndex(ex.getIndices()[axis],
                                      blk.getArgument(0), (int64_t)*indexValue);
  if (!t || *t < 0 || *t >= rt(src).getDimSize(axis))
    return std::nullopt;
  return TimeSlice{src, *t};
}

/// The matched scan: operands of kestrel.selective_scan in the exported
/// layout: x, delta [B, T, C] (channels first: [B, C, T]), Bm, Cm [B, T, N]
/// and A [C, N] (channels first: [1, C, 1, N]).
struct ScanMatch {
  Value x, delta, A, Bm, Cm, init; // init null: zero initial state
  Value hLast;                     // h_{T-1}
  Operation *lastReadout; // the op reading h_{T-1} for y_{T-1}
  bool channelsFirst = false;
};

/// Whether `map` reads an operand of shape `shape` at results `want` (a loop
/// dim, or -1 for the constant 0); a unit dim may be read either way.
bool readsAs(AffineMap map, ArrayRef<int64_t> shape, ArrayRef<int> want) {
  if (!map || map.getNumResults() != want.size() || shape.size() != want.size())
    return false;
  for (auto [i, e] : llvm::enumerate(map.getResults())) {
    auto c = dyn_cast<AffineConstantExpr>(e);
    auto d = dyn_cast<AffineDimExpr>(e);
    bool ok = want[i] < 0 ? c && c.getValue() == 0
                          : d && (int)d.getPosition() == want[i];
    if (!ok && !(shape[i] == 1 && ((c && c.getValue() == 0) || d)))
      return false;
  }
  return true;
}

/// The operands of a two-input elementwise multiply as (value, map, shape)
/// in both orders, or empty.
struct Factor {
  Value v;
  AffineMap map;
  ArrayRef<int64_t> shape;
};
SmallVector<std::pair<Factor, Factor>, 2> mulFactors(Value v) {
  std::optional<Elementwise> e = asElementwise(v);
  if (!e || !isa<arith::MulFOp>(e->body) || e->args.size() != 2 ||
      !e->maps[0] || !e->maps[1] || !rt(e->args[0]) || !rt(e->args[1]))
    return {};
  Factor a{e->args[0], e->maps[0], rt(e->args[0]).getShape()};
  Factor b{e->args[1], e->maps[1], rt(e->args[1]).getShape()};
  return {{a, b}, {b, a}};
}

/// Binary elementwise `op` (arith op name) of two identity operands, as
/// (a, b) in both orders.
SmallVector<std::pair<Value, Value>, 2> identityPairs(Value v,
                                                      StringRef opName) {
  std::optional<Elementwise> e = asElementwise(v);
  if (!e || e->body->getName().getStringRef() != opName ||
      e->args.size() != 2 || !isIdentityOperand(*e, 0) ||
      !isIdentityOperand(*e, 1))
    return {};
  return {{e->args[0], e->args[1]}, {e->args[1], e->args[0]}};
}

/// Matches step `t` of the chain: the readout y_t [B, C] (before its unit
/// dim is inserted) from the state h_{t-1} = `prev` (null at t = 0). Sets
/// the sources the first time, checks them after. Returns h_t.
struct ChainMatcher {
  Value dA, dBx, Cm, init;
  /// The time axis of dA and dBx: 1 ([B, T, C, N]) or 2 ([B, C, T, N]).
  int64_t axis = 1;
  bool noDecayAtStart = false;
  Operation *readout = nullptr;

  bool sameSource(Value &have, const std::optional<TimeSlice> &s, int64_t t) {
    if (!s || s->t != t || (have && have != s->src))
      return false;
    have = s->src;
    return true;
  }

  /// h_t = dA[:, t] · prev + dBx[:, t] (prev null: the first step, whose
  /// prev is recorded as init, or h_0 = dBx[:, 0]).
  bool stateStep(Value h, Value prev, int64_t t) {
    if (t == 0 && !prev) {
      Value saveB = dBx;
      if (sameSource(dBx, timeSlice(h, axis), 0)) {
        noDecayAtStart = true;
        return true;
      }
      dBx = saveB;
    }
    for (auto [dec, g] : identityPairs(h, "arith.addf")) {
      Value saveA = dA, saveB = dBx, saveInit = init;
      if (!sameSource(dBx, timeSlice(g, axis), t)) {
        dBx = saveB;
        continue;
      }
      for (auto [ga, p] : identityPairs(dec, "arith.mulf")) {
        if ((prev && p != prev) || !sameSource(dA, timeSlice(ga, axis), t)) {
          dA = saveA;
          continue;
        }
        if (!prev)
          init = p;
        return true;
      }
      dA = saveA;
      dBx = saveB;
      init = saveInit;
    }
    return false;
  }

  /// y_t = Σ_n h_t · Cm[:, t][:, None, :]; returns h_t or null.
  Value readoutStep(Value y, Value prev, int64_t t) {
    Value p = lastAxisSumOf(y);
    std::optional<Elementwise> e = asElementwise(p);
    if (!e || !isa<arith::MulFOp>(e->body) || e->args.size() != 2)
      return nullptr;
    MLIRContext *ctx = y.getContext();
    auto d = [&](int i) { return getAffineDimExpr(i, ctx); };
    AffineMap bcast3 =
        AffineMap::get(3, 0, {d(0), getAffineConstantExpr(0, ctx), d(2)}, ctx);
    AffineMap bcast2 = AffineMap::get(3, 0, {d(0), d(2)}, ctx);
    for (int i = 0; i < 2; ++i) {
      Value h = e->args[i], c = e->args[1 - i];
      AffineMap cm = e->maps[1 - i];
      if (!isIdentityOperand(*e, i) || !cm)
        continue;
      Value cT = cm == bcast3   ? unitDimInserted(c, 1)
                 : cm == bcast2 ? c
                                : Value();
      Value saveC = Cm;
      if (!cT || !sameSource(Cm, timeSlice(cT), t)) {
        Cm = saveC;
        continue;
      }
      if (!stateStep(h, prev, t)) {
        Cm = saveC;
        continue;
      }
      readout = e->op;
      return h;
    }
    return nullptr;
  }

  /// Channels first (Hugging Face's sequential Mamba path): y_t [B, C] =
  /// (h_t @ Cm[:, t][:, :, None])[:, :, 0] with h_t [B, C, N]; returns h_t
  /// or null.
  Value readoutMatmulStep(Value y, Value prev, int64_t t) {
    std::optional<TimeSlice> col = timeSlice(y, 2);
    if (!col || col->t != 0)
      return nullptr;
    std::optional<std::pair<Value, Value>> mm = matmulOf(col->src);
    if (!mm)
      return nullptr;
    auto [h, c] = *mm;
    Value cT = unitDimInserted(c, 2);
    Value saveC = Cm;
    if (!cT || !sameSource(Cm, timeSlice(cT, 1), t) ||
        !stateStep(h, prev, t)) {
      Cm = saveC;
      return nullptr;
    }
    readout = col->src.getDefiningOp();
    return h;
  }
};

/// delta and A of dA = exp(delta[..., None] · A) ([B,T,C,1] read at
/// (b,t,c,0), A [C,N] at (c,n)).
std::optional<std::pair<Value, Value>> decayOf(Value dA) {
  Value u = unaryOf(dA, "math.exp");
  std::optional<Elementwise> e = asElementwise(u);
  if (!e || !isa<arith::MulFOp>(e->body) || e->args.size() != 2)
    return std::nullopt;
  MLIRContext *ctx = dA.getContext();
  auto d = [&](int i) { return getAffineDimExpr(i, ctx); };
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  AffineMap col = AffineMap::get(4, 0, {d(0), d(1), d(2), zero}, ctx);
  AffineMap param = AffineMap::get(4, 0, {d(2), d(3)}, ctx);
  for (int i = 0; i < 2; ++i)
    if (e->maps[i] == col && e->maps[1 - i] == param)
      if (Value delta = unitDimInserted(e->args[i], 3))
        return std::pair(delta, e->args[1 - i]);
  return std::nullopt;
}

/// (e, Bm) of dBx = e[..., None] · Bm[:, :, None, :] with e [B,T,C], Bm
/// [B,T,N].
std::optional<std::pair<Value, Value>> inputOf(Value dBx) {
  std::optional<Elementwise> e = asElementwise(dBx);
  if (!e || !isa<arith::MulFOp>(e->body) || e->args.size() != 2)
    return std::nullopt;
  MLIRContext *ctx = dBx.getContext();
  auto d = [&](int i) { return getAffineDimExpr(i, ctx); };
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  AffineMap col = AffineMap::get(4, 0, {d(0), d(1), d(2), zero}, ctx);
  AffineMap row = AffineMap::get(4, 0, {d(0), d(1), zero, d(3)}, ctx);
  for (int i = 0; i < 2; ++i)
    if (e->maps[i] == col && e->maps[1 - i] == row) {
      Value ex = unitDimInserted(e->args[i], 3);
      Value bm = unitDimInserted(e->args[1 - i], 2);
      if (ex && bm)
        return std::pair(ex, bm);
    }
  return std::nullopt;
}

/// The chain of steps behind `cat`, the concat of the readouts y_t along
/// `axis`: 1 for [B, T, C] outputs read out by Σ_n (readoutStep), 2 for
/// channels-first [B, C, T] ones read out by a matmul (readoutMatmulStep);
/// dA and dBx are sliced on the same axis. Fills `m`; returns h_{T-1}, or
/// null when any step differs.
Value matchChain(tensor::ConcatOp cat, int64_t axis, ChainMatcher &m) {
  auto type = rt(cat.getResult());
  if ((int64_t)cat.getDim() != axis || !type || type.getRank() != 3 ||
      cat.getInputs().size() < 2 || !isF32(cat.getResult(), type.getShape()))
    return Value();
  int64_t B = type.getDimSize(0), C = type.getDimSize(axis == 1 ? 2 : 1);
  m.axis = axis;
  Value prev;
  for (auto [t, in] : llvm::enumerate(cat.getInputs())) {
    Value y = unitDimInserted(in, axis);
    if (!y || !isF32(y, {B, C}))
      return Value();
    prev = axis == 1 ? m.readoutStep(y, prev, t)
                     : m.readoutMatmulStep(y, prev, t);
    if (!prev)
      return Value();
  }
  return prev;
}

/// The channels-first scan of Hugging Face's sequential Mamba mixer
/// (`slow_forward`): hidden states and the time step [B, C, T],
///
///   dA  = exp(A[None, :, None, :] · delta[..., None])         [B,C,T,N]
///   dBx = delta[..., None] · Bm[:, None] · x[..., None]       (either
///         association: (delta · x)[..., None] · Bm[:, None] too)
///   h_t = dA[:, :, t] · h_{t-1} + dBx[:, :, t]
///   y_t = (h_t @ Cm[:, t][..., None])[..., 0]                  [B, C]
///   y   = stack(y_0, ..., y_{T-1}, axis -1)                    [B, C, T]
std::optional<ScanMatch> matchChannelsFirst(tensor::ConcatOp cat) {
  ChainMatcher m;
  Value prev = matchChain(cat, 2, m);
  if (!prev)
    return std::nullopt;
  auto type = rt(cat.getResult());
  int64_t T = cat.getInputs().size();
  int64_t B = type.getDimSize(0), C = type.getDimSize(1);
  int64_t N = rt(m.Cm).getRank() == 3 ? rt(m.Cm).getDimSize(2) : -1;
  if (m.noDecayAtStart || !isF32(m.dA, {B, C, T, N}) ||
      !isF32(m.dBx, {B, C, T, N}) || !isF32(m.Cm, {B, T, N}) ||
      (m.init && !isF32(m.init, {B, C, N}) && splatValue(m.init) != 0.0))
    return std::nullopt;
  // dA = exp(A4 · delta4): A4 [1, C, 1, N], delta4 = delta [B, C, T, 1].
  Value delta, A;
  for (auto [a, d] : mulFactors(unaryOf(m.dA, "math.exp")))
    if (readsAs(a.map, a.shape, {-1, 1, -1, 3}) && isF32(a.v, {1, C, 1, N}) &&
        readsAs(d.map, d.shape, {0, 1, 2, -1}))
      if (Value src = unitDimInserted(d.v, 3); src && isF32(src, {B, C, T})) {
        delta = src;
        A = a.v;
      }
  if (!delta)
    return std::nullopt;
  // dBx: (delta4 · Bm4) · x4, or (delta · x)4 · Bm4; Bm4 = Bm [B, 1, T, N].
  auto bmOf = [&](const Factor &f) -> Value {
    if (!readsAs(f.map, f.shape, {0, -1, 2, 3}))
      return Value();
    Value src = unitDimInserted(f.v, 1);
    return src && isF32(src, {B, T, N}) ? src : Value();
  };
  auto columnOf = [&](const Factor &f) -> Value {
    if (!readsAs(f.map, f.shape, {0, 1, 2, -1}))
      return Value();
    Value src = unitDimInserted(f.v, 3);
    return src && isF32(src, {B, C, T}) ? src : Value();
  };
  Value x, Bm;
  for (auto [p, q] : mulFactors(m.dBx)) {
    if (Value bm = bmOf(q); bm && !x) {
      // (delta · x)4 · Bm4
      if (Value dx = columnOf(p))
        for (auto [u, w] : identityPairs(dx, "arith.mulf"))
          if (u == delta && isF32(w, {B, C, T})) {
            x = w;
            Bm = bm;
          }
    }
    if (Value col = columnOf(q); col && !x && isF32(p.v, {B, C, T, N}) &&
                                 readsAs(p.map, p.shape, {0, 1, 2, 3})) {
      // (delta4 · Bm4) · x4
      for (auto [u, w] : mulFactors(p.v))
        if (columnOf(u) == delta)
          if (Value bm = bmOf(w)) {
            x = col;
            Bm = bm;
          }
    }
  }
  if (!x)
    return std::nullopt;
  Value init = m.init && splatValue(m.init) != 0.0 ? m.init : Value();
  ScanMatch s{x, delta, A, Bm, m.Cm, init, prev, m.readout};
  s.channelsFirst = true;
  return s;
}

std::optional<ScanMatch> matchScan(tensor::ConcatOp cat) {
  if (cat.getDim() == 2)
    return matchChannelsFirst(cat);
  ChainMatcher m;
  Value prev = matchChain(cat, 1, m);
  if (!prev)
    return std::nullopt;
  auto type = rt(cat.getResult());
  int64_t T = cat.getInputs().size();
  int64_t B = type.getDimSize(0), C = type.getDimSize(2);
  // The sources: dA, dBx [B,T,C,N], Cm [B,T,N], all f32, read in full.
  int64_t N = rt(m.Cm).getRank() == 3 ? rt(m.Cm).getDimSize(2) : -1;
  if (!isF32(m.dA, {B, T, C, N}) || !isF32(m.dBx, {B, T, C, N}) ||
      !isF32(m.Cm, {B, T, N}) ||
      (m.init && !isF32(m.init, {B, C, N}) && splatValue(m.init) != 0.0))
    return std::nullopt;
  std::optional<std::pair<Value, Value>> dec = decayOf(m.dA);
  std::optional<std::pair<Value, Value>> inp = inputOf(m.dBx);
  if (!dec || !inp)
    return std::nullopt;
  auto [delta, A] = *dec;
  auto [deltaX, Bm] = *inp;
  if (!isF32(delta, {B, T, C}) || !isF32(A, {C, N}) || !isF32(Bm, {B, T, N}))
    return std::nullopt;
  // deltaX = delta · x, either order.
  Value x;
  for (auto [a, b] : identityPairs(deltaX, "arith.mulf"))
    if (a == delta && isF32(b, {B, T, C}))
      x = b;
  if (!x)
    return std::nullopt;
  Value init = m.init && splatValue(m.init) != 0.0 ? m.init : Value();
  return ScanMatch{x, delta, A, Bm, m.Cm, init, prev, m.readout};
}

/// v [B, P, Q] -> [B, Q, P] as the importer writes a transpose.
Value swapLastTwo(PatternRewriter &rewriter, Location loc, Value v) {
  auto t = rt(v);
  MLIRContext *ctx = rewriter.getContext();
  auto d = [&](int i) { return getAffineDimExpr(i, ctx); };
  auto outType = RankedTensorType::get(
      {t.getDimSize(0), t.getDimSize(2), t.getDimSize(1)}, t.getElementType());
  Value init = tensor::EmptyOp::create(rewriter, loc, outType.getShape(),
                                       t.getElementType());
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {d(0), d(2), d(1)}, ctx),
                                 AffineMap::getMultiDimIdentityMap(3, ctx)};
  SmallVector<utils::IteratorType> iters(3, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             rewriter, loc, outType, v, init, maps, iters,
             [](OpBuilder &b, Location l, ValueRange args) {
               linalg::YieldOp::create(b, l, args[0]);
             })
      .getResult(0);
}

struct RecognizeSelectiveScan : OpRewritePattern<tensor::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ConcatOp cat,
                                PatternRewriter &rewriter) const override {
    std::optional<ScanMatch> m = matchScan(cat);
    if (!m)
      return failure();
    Location loc = cat.getLoc();
    bool first = m->channelsFirst;
    Value x = first ? m->x : swapLastTwo(rewriter, loc, m->x);
    Value delta = first ? m->delta : swapLastTwo(rewriter, loc, m->delta);
    Value bm = swapLastTwo(rewriter, loc, m->Bm);
    Value cm = swapLastTwo(rewriter, loc, m->Cm);
    Value A = m->A;
    if (first) // [1, C, 1, N] -> [C, N]
      A = tensor::CollapseShapeOp::create(
          rewriter, loc, A, SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
    auto hType = rt(m->hLast);
    auto scan = kestrel::SelectiveScanOp::create(
        rewriter, loc, rt(x), hType, x, delta, A, bm, cm, /*D=*/Value(),
        /*z=*/Value(), /*delta_bias=*/Value(), m->init,
        /*delta_softplus=*/false);
    Value y = first ? scan.getY() : swapLastTwo(rewriter, loc, scan.getY());
    rewriter.replaceUsesWithIf(
        m->hLast, scan.getFinalState(),
        [&](OpOperand &use) { return use.getOwner() != m->lastReadout; });
    rewriter.replaceOp(cat, y);
    return success();
  }
};

} // namespace

void populateRecognizeSelectiveScanPatterns(RewritePatternSet &patterns) {
  patterns.add<RecognizeSelectiveScan>(patterns.getContext());
}

} // namespace kestrel::recognize
