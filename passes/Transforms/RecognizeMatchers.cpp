//===- RecognizeMatchers.cpp - Reading linalg forms back ------------------===//
//
// The matchers of RecognizeMatchers.h: each reads one building block
// (elementwise op, matmul, transpose, sum, softmax, sigmoid) written in
// upstream dialects back into its operands, or says no.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/RecognizeMatchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace kestrel::recognize {

std::optional<Elementwise> asElementwise(Value v) {
  auto gen = v ? v.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!gen || gen.getNumResults() != 1 || gen.getNumDpsInits() != 1 ||
      gen.getNumReductionLoops() != 0 || !gen.hasPureTensorSemantics())
    return std::nullopt;
  Block &blk = gen.getRegion().front();
  Operation *body = nullptr;
  for (Operation &o : blk.without_terminator()) {
    if (isa<arith::ConstantOp>(o))
      continue;
    if (body)
      return std::nullopt;
    body = &o;
  }
  if (!body)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(blk.getTerminator());
  if (yield.getNumOperands() != 1 ||
      yield.getOperand(0) != body->getResult(0) || body->getNumResults() != 1 ||
      body->getNumRegions() != 0)
    return std::nullopt;
  if (!gen.getIndexingMapsArray().back().isIdentity())
    return std::nullopt;
  Elementwise e{gen, body, {}, {}};
  for (Value operand : body->getOperands()) {
    if (auto arg = dyn_cast<BlockArgument>(operand);
        arg && arg.getOwner() == &blk) {
      if (arg.getArgNumber() >= gen.getNumDpsInputs())
        return std::nullopt; // reads the init
      OpOperand *in = gen.getDpsInputOperand(arg.getArgNumber());
      e.args.push_back(in->get());
      e.maps.push_back(gen.getMatchingIndexingMap(in));
    } else {
      if (isa<ShapedType>(operand.getType()))
        return std::nullopt;
      e.args.push_back(operand); // captured scalar
      e.maps.push_back(AffineMap());
    }
  }
  return e;
}

bool isIdentityOperand(const Elementwise &e, unsigned i) {
  auto t = dyn_cast<RankedTensorType>(e.args[i].getType());
  return e.maps[i] && e.maps[i].isIdentity() && t &&
         t.getShape() == cast<RankedTensorType>(e.body->getResult(0)
                                                    .getParentBlock()
                                                    ->getParentOp()
                                                    ->getResult(0)
                                                    .getType())
                             .getShape();
}

std::optional<double> splatValue(Value v) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return (double)i.getValue().getSExtValue();
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() == 0)
    return std::nullopt;
  std::optional<double> first;
  if (isa<FloatType>(dense.getElementType())) {
    for (APFloat x : dense.getValues<APFloat>()) {
      if (first && *first != x.convertToDouble())
        return std::nullopt;
      first = x.convertToDouble();
    }
  } else if (auto it = dyn_cast<IntegerType>(dense.getElementType());
             it && it.getWidth() > 1) {
    for (const APInt &x : dense.getValues<APInt>()) {
      if (first && *first != (double)x.getSExtValue())
        return std::nullopt;
      first = (double)x.getSExtValue();
    }
  }
  return first;
}

DenseElementsAttr denseConstant(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return nullptr;
  return attr;
}

bool isMinusInf(double v) {
  // -inf, or the lowest finite f32, f16 (-65504) or bf16 (-0x1.fep127):
  // Hugging Face fills masks with finfo(dtype).min.
  return v == -std::numeric_limits<double>::infinity() ||
         v == (double)std::numeric_limits<float>::lowest() || v == -65504.0 ||
         v == -0x1.fep127;
}

Value unaryOf(Value v, StringRef opName) {
  std::optional<Elementwise> e = asElementwise(v);
  if (!e || e->body->getName().getStringRef() != opName ||
      e->args.size() != 1 || !isIdentityOperand(*e, 0))
    return nullptr;
  return e->args[0];
}

Value sigmoidOf(Value v) {
  auto gen = v ? v.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!gen || gen.getNumDpsInputs() != 1 || gen.getNumResults() != 1 ||
      gen.getNumReductionLoops() != 0 || !gen.hasPureTensorSemantics() ||
      !llvm::all_of(gen.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }) ||
      gen.getInputs()[0].getType() != v.getType())
    return nullptr;
  Block &blk = gen.getRegion().front();
  auto yield = cast<linalg::YieldOp>(blk.getTerminator());
  auto isOne = [](Value c) { return splatValue(c) == 1.0; };
  auto div = yield.getOperand(0).getDefiningOp<arith::DivFOp>();
  if (!div || !isOne(div.getLhs()))
    return nullptr;
  auto add = div.getRhs().getDefiningOp<arith::AddFOp>();
  if (!add)
    return nullptr;
  for (auto [one, other] : {std::pair(add.getLhs(), add.getRhs()),
                            std::pair(add.getRhs(), add.getLhs())}) {
    auto exp = other.getDefiningOp<math::ExpOp>();
    auto neg =
        exp ? exp.getOperand().getDefiningOp<arith::NegFOp>() : arith::NegFOp();
    if (isOne(one) && neg && neg.getOperand() == blk.getArgument(0))
      return gen.getInputs()[0];
  }
  return nullptr;
}

Value siluOf(Value v) {
  std::optional<Elementwise> e = asElementwise(v);
  if (!e || !isa<arith::MulFOp>(e->body) || !isIdentityOperand(*e, 0) ||
      !isIdentityOperand(*e, 1))
    return nullptr;
  for (int i : {0, 1})
    if (sigmoidOf(e->args[1 - i]) == e->args[i])
      return e->args[i];
  return nullptr;
}

/// Whether `init` is a zero fill (or a zero constant).
static bool isZeroInit(Value init) {
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    return splatValue(fill.getInputs()[0]) == 0.0;
  return splatValue(init) == 0.0;
}

std::optional<std::pair<Value, Value>> matmulOf(Value v) {
  if (!v)
    return std::nullopt;
  if (auto mm = v.getDefiningOp<linalg::MatmulOp>();
      mm && mm.hasPureTensorSemantics() &&
      llvm::all_of(mm.getIndexingMapsArray(),
                   [](AffineMap m) { return m.isProjectedPermutation(); }) &&
      !mm.hasUserDefinedMaps() && isZeroInit(mm.getOutputs()[0]))
    return std::pair(mm.getInputs()[0], mm.getInputs()[1]);
  if (auto mm = v.getDefiningOp<linalg::BatchMatmulOp>();
      mm && mm.hasPureTensorSemantics() && !mm.hasUserDefinedMaps() &&
      isZeroInit(mm.getOutputs()[0]))
    return std::pair(mm.getInputs()[0], mm.getInputs()[1]);
  auto gen = v.getDefiningOp<linalg::GenericOp>();
  if (!gen || gen.getNumDpsInputs() != 2 || gen.getNumResults() != 1 ||
      !gen.hasPureTensorSemantics() || gen.getNumReductionLoops() != 1 ||
      !isZeroInit(gen.getDpsInits()[0]))
    return std::nullopt;
  int64_t rank = gen.getNumLoops();
  if (rank < 3)
    return std::nullopt;
  auto iters = gen.getIteratorTypesArray();
  if (iters.back() != utils::IteratorType::reduction)
    return std::nullopt;
  MLIRContext *ctx = v.getContext();
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> a, b, c;
  for (int64_t i = 0; i < rank - 3; ++i) {
    a.push_back(d(i));
    b.push_back(d(i));
    c.push_back(d(i));
  }
  a.append({d(rank - 3), d(rank - 1)});
  b.append({d(rank - 1), d(rank - 2)});
  c.append({d(rank - 3), d(rank - 2)});
  SmallVector<AffineMap> want = {AffineMap::get(rank, 0, a, ctx),
                                 AffineMap::get(rank, 0, b, ctx),
                                 AffineMap::get(rank, 0, c, ctx)};
  if (gen.getIndexingMapsArray() != want)
    return std::nullopt;
  Block &blk = gen.getRegion().front();
  auto yield = cast<linalg::YieldOp>(blk.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || blk.getOperations().size() != 3)
    return std::nullopt;
  for (auto [acc, prod] : {std::pair(add.getLhs(), add.getRhs()),
                           std::pair(add.getRhs(), add.getLhs())}) {
    auto mul = prod.getDefiningOp<arith::MulFOp>();
    if (acc != blk.getArgument(2) || !mul)
      continue;
    if ((mul.getLhs() == blk.getArgument(0) &&
         mul.getRhs() == blk.getArgument(1)) ||
        (mul.getLhs() == blk.getArgument(1) &&
         mul.getRhs() == blk.getArgument(0)))
      return std::pair(gen.getInputs()[0], gen.getInputs()[1]);
  }
  return std::nullopt;
}

std::optional<std::pair<Value, SmallVector<int64_t>>> transposeOf(Value v) {
  if (!v)
    return std::nullopt;
  if (auto t = v.getDefiningOp<linalg::TransposeOp>();
      t && t.hasPureTensorSemantics())
    return std::pair(t.getInput(), SmallVector<int64_t>(t.getPermutation()));
  auto gen = v.getDefiningOp<linalg::GenericOp>();
  if (!gen || gen.getNumDpsInputs() != 1 || gen.getNumResults() != 1 ||
      gen.getNumReductionLoops() != 0 || !gen.hasPureTensorSemantics())
    return std::nullopt;
  Block &blk = gen.getRegion().front();
  auto yield = cast<linalg::YieldOp>(blk.getTerminator());
  if (blk.getOperations().size() != 1 ||
      yield.getOperand(0) != blk.getArgument(0))
    return std::nullopt;
  AffineMap in = gen.getIndexingMapsArray()[0],
            out = gen.getIndexingMapsArray()[1];
  if (!out.isIdentity() || !in.isPermutation())
    return std::nullopt;
  // in: loop dim i (= result dim i) reads source dim j where in(j) = d_i.
  SmallVector<int64_t> perm(in.getNumResults());
  for (auto [j, e] : llvm::enumerate(in.getResults()))
    perm[cast<AffineDimExpr>(e).getPosition()] = j;
  return std::pair(gen.getInputs()[0], perm);
}

Value lastAxisSumOf(Value v) {
  auto red = v ? v.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!red || red.getNumDpsInputs() != 1 || red.getNumResults() != 1 ||
      !red.hasPureTensorSemantics() || red.getNumReductionLoops() != 1 ||
      !isZeroInit(red.getDpsInits()[0]))
    return nullptr;
  int64_t rank = red.getNumLoops();
  if (red.getIteratorTypesArray().back() != utils::IteratorType::reduction)
    return nullptr;
  AffineMap in = red.getIndexingMapsArray()[0],
            out = red.getIndexingMapsArray()[1];
  if (!in.isIdentity() ||
      out != AffineMap::getMultiDimIdentityMap(rank, v.getContext())
                 .getMajorSubMap(rank - 1))
    return nullptr;
  Block &blk = red.getRegion().front();
  auto add = dyn_cast<arith::AddFOp>(&blk.front());
  if (!add || blk.getOperations().size() != 2 ||
      cast<linalg::YieldOp>(blk.getTerminator()).getOperand(0) != add ||
      !llvm::is_contained({add.getLhs(), add.getRhs()}, blk.getArgument(0)) ||
      !llvm::is_contained({add.getLhs(), add.getRhs()}, blk.getArgument(1)))
    return nullptr;
  return red.getInputs()[0];
}

Value reshapeSource(Value v) {
  Operation *def = v ? v.getDefiningOp() : nullptr;
  if (!def ||
      !isa<tensor::ReshapeOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
          def))
    return nullptr;
  return def->getOperand(0);
}

Value throughUnitReshapes(Value v) {
  auto drop = [](ArrayRef<int64_t> s) {
    SmallVector<int64_t> out;
    for (int64_t d : s)
      if (d != 1)
        out.push_back(d);
    return out;
  };
  while (Value src = reshapeSource(v)) {
    auto st = dyn_cast<RankedTensorType>(src.getType());
    auto rt = dyn_cast<RankedTensorType>(v.getType());
    if (!st || !rt || !st.hasStaticShape() || !rt.hasStaticShape() ||
        drop(st.getShape()) != drop(rt.getShape()))
      break;
    v = src;
  }
  return v;
}

/// x of the max over the last dim of x (into a -inf fill), or null.
static Value lastAxisMaxOf(Value v) {
  auto red = v ? v.getDefiningOp<linalg::GenericOp>() : linalg::GenericOp();
  if (!red || red.getNumDpsInputs() != 1 || red.getNumResults() != 1 ||
      !red.hasPureTensorSemantics() || red.getNumReductionLoops() != 1)
    return nullptr;
  auto fill = red.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  std::optional<double> init =
      fill ? splatValue(fill.getInputs()[0]) : std::nullopt;
  int64_t rank = red.getNumLoops();
  if (!init || !std::isinf(*init) || *init > 0 ||
      red.getIteratorTypesArray().back() != utils::IteratorType::reduction ||
      !red.getIndexingMapsArray()[0].isIdentity() ||
      red.getIndexingMapsArray()[1] !=
          AffineMap::getMultiDimIdentityMap(rank, v.getContext())
              .getMajorSubMap(rank - 1))
    return nullptr;
  Block &blk = red.getRegion().front();
  auto mx = dyn_cast<arith::MaximumFOp>(&blk.front());
  if (!mx || blk.getOperations().size() != 2 ||
      !llvm::is_contained({mx.getLhs(), mx.getRhs()}, blk.getArgument(0)) ||
      !llvm::is_contained({mx.getLhs(), mx.getRhs()}, blk.getArgument(1)))
    return nullptr;
  return red.getInputs()[0];
}

/// Whether `map` broadcasts a [..., 1] row operand along the last loop dim
/// of an identity-shaped elementwise op (rows read at their own index).
static bool isRowBroadcast(AffineMap map, Value operand) {
  auto t = dyn_cast<RankedTensorType>(operand.getType());
  int64_t rank = map.getNumDims();
  if (!t || t.getRank() != rank || t.getShape().back() != 1 ||
      map.getNumResults() != rank)
    return false;
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (map.getResult(i) != getAffineDimExpr(i, map.getContext()))
      return false;
  auto c = dyn_cast<AffineConstantExpr>(map.getResult(rank - 1));
  return (c && c.getValue() == 0) ||
         map.getResult(rank - 1) ==
             getAffineDimExpr(rank - 1, map.getContext());
}

/// src of a reshape adding one trailing unit dim ([..] -> [.., 1]), or null.
static Value keptDimSource(Value v) {
  Value src = reshapeSource(v);
  if (!src)
    return nullptr;
  auto st = cast<RankedTensorType>(src.getType());
  auto rt = cast<RankedTensorType>(v.getType());
  if (rt.getRank() != st.getRank() + 1 ||
      rt.getShape().drop_back() != st.getShape() || rt.getShape().back() != 1)
    return nullptr;
  return src;
}

Value softmaxOf(Value v) {
  if (!v)
    return nullptr;
  if (auto sm = v.getDefiningOp<linalg::SoftmaxOp>();
      sm && sm.hasPureTensorSemantics() &&
      (int64_t)sm.getDimension() == sm.getInputOperandType().getRank() - 1)
    return sm.getInput();
  // e / Σ e, e = exp(x - max x), both reductions kept as unit dims.
  std::optional<Elementwise> div = asElementwise(v);
  if (!div || !isa<arith::DivFOp>(div->body) || div->args.size() != 2 ||
      !isIdentityOperand(*div, 0) || !div->maps[1] ||
      !isRowBroadcast(div->maps[1], div->args[1]))
    return nullptr;
  Value e = div->args[0];
  if (lastAxisSumOf(keptDimSource(div->args[1])) != e)
    return nullptr;
  auto gen = e.getDefiningOp<linalg::GenericOp>();
  if (!gen || gen.getNumDpsInputs() != 2 || gen.getNumResults() != 1 ||
      gen.getNumReductionLoops() != 0)
    return nullptr;
  Block &blk = gen.getRegion().front();
  auto exp = cast<linalg::YieldOp>(blk.getTerminator())
                 .getOperand(0)
                 .getDefiningOp<math::ExpOp>();
  auto sub =
      exp ? exp.getOperand().getDefiningOp<arith::SubFOp>() : arith::SubFOp();
  if (!sub || blk.getOperations().size() != 3 ||
      sub.getLhs() != blk.getArgument(0) || sub.getRhs() != blk.getArgument(1))
    return nullptr;
  Value x = gen.getInputs()[0], mx = gen.getInputs()[1];
  auto maps = gen.getIndexingMapsArray();
  if (!maps[0].isIdentity() || !maps[2].isIdentity() ||
      x.getType() != v.getType() || !isRowBroadcast(maps[1], mx) ||
      lastAxisMaxOf(keptDimSource(mx)) != x)
    return nullptr;
  return x;
}

} // namespace kestrel::recognize
