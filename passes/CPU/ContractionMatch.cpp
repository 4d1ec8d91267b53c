//===- ContractionMatch.cpp -----------------------------------------------===//
//
// Recognizes the static contractions kestrel-cpu-contraction rewrites,
//   C[o.., m, n] (+)= Σ_k cast(A[.., m, .., k]) · cast(B[.., k, .., n])
// (linalg.matmul / batch_matmul / transposed forms, and the linalg.generic
// contractions of the ONNX importer and the reference lowerings), with
// transposing copies in front of A or B looked through; the elementwise
// consumer that can be fused into the store; and the compile-time packing
// of a constant B into nr-wide panels [o.., ⌈N/nr⌉, K, nr].
//
//===----------------------------------------------------------------------===//

#include "passes/CPU/Contraction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

#include <cstring>

using namespace mlir;
using namespace kestrel;

int64_t ContractionOperand::posOf(unsigned dim) const {
  for (auto [i, e] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == dim)
      return i;
  return -1;
}

/// Every result a dim or a constant, no dim twice.
static bool isDimOrConstMap(AffineMap map) {
  llvm::SmallBitVector seen(map.getNumDims());
  for (AffineExpr e : map.getResults()) {
    if (isa<AffineConstantExpr>(e))
      continue;
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d || seen.test(d.getPosition()))
      return false;
    seen.set(d.getPosition());
  }
  return true;
}

/// `v` with a pure permutation copy (linalg.transpose, or a generic that
/// yields its input through a permutation map) in front looked through.
static ContractionOperand lookThroughCopies(Value v, AffineMap map) {
  while (auto copy = v.getDefiningOp<linalg::LinalgOp>()) {
    if (copy.getNumDpsInputs() != 1 || copy.getNumDpsInits() != 1 ||
        copy.getNumReductionLoops() != 0 || !copy.hasPureTensorSemantics())
      break;
    SmallVector<AffineMap> maps = copy.getIndexingMapsArray();
    if (!maps[0].isPermutation() || !maps[1].isIdentity())
      break;
    Block *body = copy.getBlock();
    auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
    if (!yield || yield.getNumOperands() != 1 ||
        yield.getOperand(0) != body->getArgument(0))
      break;
    map = maps[0].compose(map);
    v = copy.getDpsInputOperand(0)->get();
  }
  return {v, map};
}

/// `v` or `v` widened by arith.extf.
static Value stripExt(Value v) {
  if (auto ext = v.getDefiningOp<arith::ExtFOp>())
    return ext.getIn();
  return v;
}

/// Body `yield out + cast(a) · cast(b)` (either operand order).
static bool isMulAddBody(Block &body) {
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!yield || yield.getNumOperands() != 1)
    return false;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body.getArgument(2), prod;
  if (add.getLhs() == out)
    prod = add.getRhs();
  else if (add.getRhs() == out)
    prod = add.getLhs();
  else
    return false;
  auto mul = prod.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  Value x = stripExt(mul.getLhs()), y = stripExt(mul.getRhs());
  return (x == body.getArgument(0) && y == body.getArgument(1)) ||
         (x == body.getArgument(1) && y == body.getArgument(0));
}

static bool isStorageFloat(Type t) {
  return t.isF32() || t.isF16() || t.isBF16();
}

FailureOr<ContractionMatch> kestrel::matchContraction(linalg::LinalgOp op) {
  if (!isa<func::FuncOp>(op->getParentOp()) || !op.hasPureTensorSemantics() ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || op.getNumReductionLoops() != 1 ||
      !isMulAddBody(*op.getBlock()))
    return failure();
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->k.size() != 1)
    return failure();
  ContractionMatch c;
  c.op = op;
  c.sizes = op.getStaticLoopRanges();
  if (llvm::any_of(c.sizes, ShapedType::isDynamic))
    return failure();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  c.cMap = maps[2];
  if (!c.cMap.isProjectedPermutation() ||
      c.cMap.getNumResults() != op.getNumParallelLoops() ||
      c.cMap.getNumResults() < 2)
    return failure();
  c.k = dims->k.front();
  c.m = cast<AffineDimExpr>(c.cMap.getResult(c.cMap.getNumResults() - 2))
            .getPosition();
  c.n = cast<AffineDimExpr>(c.cMap.getResults().back()).getPosition();
  for (unsigned i = 0; i + 2 < c.cMap.getNumResults(); ++i)
    c.outer.push_back(cast<AffineDimExpr>(c.cMap.getResult(i)).getPosition());
  if (!isDimOrConstMap(maps[0]) || !isDimOrConstMap(maps[1]))
    return failure();
  c.a = lookThroughCopies(op.getDpsInputOperand(0)->get(), maps[0]);
  c.b = lookThroughCopies(op.getDpsInputOperand(1)->get(), maps[1]);
  if (c.a.posOf(c.m) < 0 || c.a.posOf(c.k) < 0 || c.a.posOf(c.n) >= 0 ||
      c.b.posOf(c.n) < 0 || c.b.posOf(c.k) < 0 || c.b.posOf(c.m) >= 0)
    return failure();
  c.init = op.getDpsInitOperand(0)->get();
  c.aElt = getElementTypeOrSelf(c.a.value.getType());
  c.bElt = getElementTypeOrSelf(c.b.value.getType());
  c.cElt = getElementTypeOrSelf(c.init.getType());
  if (!isStorageFloat(c.aElt) || !isStorageFloat(c.bElt) ||
      !isStorageFloat(c.cElt))
    return failure();
  c.M = c.sizes[c.m];
  c.N = c.sizes[c.n];
  c.K = c.sizes[c.k];
  if (auto fill = c.init.getDefiningOp<linalg::FillOp>())
    c.zeroInit = matchPattern(fill.value(), m_PosZeroFloat());
  DenseElementsAttr cst;
  if (matchPattern(c.b.value, m_Constant(&cst)))
    c.bConst = cst;
  return c;
}

/// Body ops computable on vector<nr x T>: arith/math without regions,
/// elementwise-mappable, or scalar constants.
static bool isVectorizableBody(Block &body) {
  for (Operation &op : body.without_terminator()) {
    Dialect *d = op.getDialect();
    if (!d || !isa<arith::ArithDialect, math::MathDialect>(d) ||
        op.getNumRegions() != 0)
      return false;
    if (!isa<arith::ConstantOp>(op) &&
        !mlir::OpTrait::hasElementwiseMappableTraits(&op))
      return false;
    if (llvm::any_of(op.getResultTypes(),
                     [](Type t) { return !t.isIntOrIndexOrFloat(); }))
      return false;
  }
  return true;
}

bool kestrel::matchEpilogue(ContractionMatch &c, Operation *user) {
  auto g = dyn_cast<linalg::GenericOp>(user);
  Value result = c.op->getResult(0);
  if (!g || !result.hasOneUse() || !g.hasPureTensorSemantics() ||
      g.getNumDpsInits() != 1 || g.getNumResults() != 1 ||
      g.getNumReductionLoops() != 0 ||
      g.getNumLoops() != c.cMap.getNumResults())
    return false;
  int64_t which = -1;
  for (OpOperand *in : g.getDpsInputOperands())
    if (in->get() == result)
      which = in->getOperandNumber();
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  if (which < 0 || !maps[which].isIdentity() || !maps.back().isIdentity())
    return false;
  Block &body = *g.getBody();
  if (!body.getArguments().back().use_empty() || !isVectorizableBody(body))
    return false;
  if (!isStorageFloat(getElementTypeOrSelf(g.getResult(0).getType())))
    return false;
  // Other inputs: static, read along the last (n) dim or broadcast over it.
  unsigned last = g.getNumLoops() - 1;
  for (OpOperand *in : g.getDpsInputOperands()) {
    if (in->getOperandNumber() == which)
      continue;
    AffineMap map = maps[in->getOperandNumber()];
    auto type = dyn_cast<RankedTensorType>(in->get().getType());
    // i1 vectors would be loaded bit-packed, memrefs of i1 hold bytes.
    if (!type || !type.hasStaticShape() || !isDimOrConstMap(map) ||
        !type.getElementType().isIntOrFloat() ||
        type.getElementType().getIntOrFloatBitWidth() < 8)
      return false;
    for (auto [i, e] : llvm::enumerate(map.getResults()))
      if (auto d = dyn_cast<AffineDimExpr>(e);
          d && d.getPosition() == last && i + 1 != map.getNumResults())
        return false;
  }
  c.consumer = g;
  c.consumerInput = which;
  return true;
}

DenseElementsAttr kestrel::packConstantB(const ContractionMatch &c,
                                         int64_t nr) {
  DenseElementsAttr src = c.bConst;
  auto srcType = cast<RankedTensorType>(src.getType());
  const int64_t bytes = srcType.getElementTypeBitWidth() / 8;
  ArrayRef<int64_t> shape = srcType.getShape();
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  // Stride of an iteration dim in the source, and the constant offset.
  auto strideOf = [&](unsigned dim) {
    int64_t p = c.b.posOf(dim);
    return p < 0 ? 0 : strides[p];
  };
  int64_t base = 0;
  for (auto [i, e] : llvm::enumerate(c.b.map.getResults()))
    if (auto cst = dyn_cast<AffineConstantExpr>(e))
      base += cst.getValue() * strides[i];
  SmallVector<unsigned> outer;
  SmallVector<int64_t> packedShape;
  for (unsigned d : c.outer)
    if (c.b.posOf(d) >= 0) {
      outer.push_back(d);
      packedShape.push_back(c.sizes[d]);
    }
  const int64_t NP = llvm::divideCeil(c.N, nr);
  packedShape.append({NP, c.K, nr});
  int64_t outerCount = 1;
  for (unsigned d : outer)
    outerCount *= c.sizes[d];
  ArrayRef<char> raw = src.getRawData();
  const bool splat = src.isSplat();
  std::vector<char> out(outerCount * NP * c.K * nr * bytes, 0);
  const int64_t sk = strideOf(c.k), sn = strideOf(c.n);
  char *dst = out.data();
  for (int64_t o = 0; o < outerCount; ++o) {
    int64_t off = base, rest = o;
    for (int64_t i = (int64_t)outer.size() - 1; i >= 0; --i) {
      off += (rest % c.sizes[outer[i]]) * strideOf(outer[i]);
      rest /= c.sizes[outer[i]];
    }
    for (int64_t p = 0; p < NP; ++p)
      for (int64_t k = 0; k < c.K; ++k, dst += nr * bytes)
        for (int64_t j = 0, n = p * nr; j < nr && n < c.N; ++j, ++n) {
          int64_t at = splat ? 0 : off + k * sk + n * sn;
          std::memcpy(dst + j * bytes, raw.data() + at * bytes, bytes);
        }
  }
  return DenseElementsAttr::getFromRawBuffer(
      RankedTensorType::get(packedShape, c.bElt), ArrayRef<char>(out));
}
