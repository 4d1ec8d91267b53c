//===- GemmPlan.cpp - Contraction analysis and GEMM tile plans ------------===//
//
// Reads a linalg contraction (linalg.matmul, batch_matmul or a generic whose
// body is `out + a * b`, with transposed or broadcast operands) as a
// GemmProblem, and chooses the #kestrel.gemm_plan a kernel runs it with.
// No IR is created here.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/GemmPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

using namespace mlir;

namespace kestrel {

namespace {

/// `v` with arith.extf / arith.truncf stripped.
Value skipCasts(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

/// Whether the body yields `out + a * b` (operands in any order, each
/// possibly cast between float types) and nothing else.
bool isMulAddBody(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  if (yield.getNumOperands() != 1)
    return false;
  auto add = skipCasts(yield.getOperand(0)).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body->getArgument(2);
  for (int order = 0; order < 2; ++order) {
    Value acc = skipCasts(add.getOperand(order));
    auto mul =
        skipCasts(add.getOperand(1 - order)).getDefiningOp<arith::MulFOp>();
    if (acc != out || !mul)
      continue;
    Value x = skipCasts(mul.getLhs()), y = skipCasts(mul.getRhs());
    Value a = body->getArgument(0), bArg = body->getArgument(1);
    if ((x == a && y == bArg) || (x == bArg && y == a))
      return true;
  }
  return false;
}

/// Element strides of an operand along every loop dim, or failure when an
/// index is not a loop dim or the constant 0.
FailureOr<SmallVector<int64_t>> loopStrides(AffineMap map,
                                            ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(map.getNumDims(), 0);
  int64_t stride = 1;
  for (int64_t r = map.getNumResults() - 1; r >= 0; --r) {
    AffineExpr e = map.getResult(r);
    if (auto d = dyn_cast<AffineDimExpr>(e))
      strides[d.getPosition()] += stride;
    else if (auto c = dyn_cast<AffineConstantExpr>(e); !c || c.getValue())
      return failure();
    stride *= shape[r];
  }
  return strides;
}

bool is16BitOr32BitFloat(Type t) {
  return t.isBF16() || t.isF16() || t.isF32();
}

/// Largest copy width (8, 4 or 2 elements) such that every stride but the
/// contiguous one, and the contiguous dim's extent, are multiples of it.
int64_t vectorWidth(ArrayRef<int64_t> strides, unsigned contiguous,
                    int64_t extent) {
  for (int64_t v : {8, 4, 2}) {
    bool ok = extent % v == 0;
    for (auto [d, s] : llvm::enumerate(strides))
      if (d != contiguous && s % v)
        ok = false;
    if (ok)
      return v;
  }
  return 1;
}

} // namespace

int64_t flatExtent(const GemmProblem &p, ArrayRef<unsigned> dims) {
  int64_t n = 1;
  for (unsigned d : dims)
    n *= p.loopExtents[d];
  return n;
}

FailureOr<GemmProblem> analyzeContraction(linalg::LinalgOp op,
                                          std::string &why) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics())
    return why = "not two tensor inputs and one tensor init", failure();
  if (op.hasIndexSemantics() || !isMulAddBody(op))
    return why = "body is not out + a * b", failure();
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return why = "an index that is not a loop dim or 0", failure();
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->k.size() != 1)
    return why = "not exactly one reduction dim", failure();
  GemmProblem p;
  p.op = op;
  p.batchDims.assign(dims->batch.begin(), dims->batch.end());
  p.mDims.assign(dims->m.begin(), dims->m.end());
  p.nDims.assign(dims->n.begin(), dims->n.end());
  llvm::sort(p.batchDims);
  llvm::sort(p.mDims);
  llvm::sort(p.nDims);
  p.kDim = dims->k.front();
  if (p.batchDims.size() + p.mDims.size() + p.nDims.size() + 1 !=
      op.getNumLoops())
    return why = "loop dims outside batch, m, n and k", failure();
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = cast<RankedTensorType>(operand.get().getType());
    if (!type.hasStaticShape())
      return why = "dynamic shape", failure();
    if (!is16BitOr32BitFloat(type.getElementType()))
      return why = "element type is not bf16, f16 or f32", failure();
  }
  p.loopExtents = op.getStaticLoopRanges();
  p.batch = flatExtent(p, p.batchDims);
  p.M = flatExtent(p, p.mDims);
  p.N = flatExtent(p, p.nDims);
  p.K = p.loopExtents[p.kDim];
  auto maps = op.getIndexingMapsArray();
  SmallVector<int64_t> *strides[3] = {&p.strideA, &p.strideB, &p.strideC};
  for (int i = 0; i < 3; ++i) {
    auto type = cast<RankedTensorType>(op->getOperand(i).getType());
    auto s = loopStrides(maps[i], type.getShape());
    if (failed(s))
      return why = "an index that is not a loop dim or 0", failure();
    *strides[i] = std::move(*s);
  }
  p.aType = cast<ShapedType>(op->getOperand(0).getType()).getElementType();
  p.bType = cast<ShapedType>(op->getOperand(1).getType()).getElementType();
  p.cType = cast<ShapedType>(op->getOperand(2).getType()).getElementType();

  // Contiguous dims: K, or the fastest-varying M (A) / N (B) dim.
  auto contiguousOf = [&](ArrayRef<int64_t> strides,
                          ArrayRef<unsigned> mn) -> std::optional<unsigned> {
    if (strides[p.kDim] == 1)
      return p.kDim;
    if (!mn.empty() && strides[mn.back()] == 1)
      return mn.back();
    return std::nullopt;
  };
  auto aDim = contiguousOf(p.strideA, p.mDims);
  auto bDim = contiguousOf(p.strideB, p.nDims);
  if (!aDim || !bDim)
    return why = "no operand dim is contiguous", failure();
  p.aKMajor = *aDim == p.kDim;
  p.bKMajor = *bDim == p.kDim;
  p.vecA = vectorWidth(p.strideA, *aDim, p.loopExtents[*aDim]);
  p.vecB = vectorWidth(p.strideB, *bDim, p.loopExtents[*bDim]);
  if (p.vecA < 2 || p.vecB < 2)
    return why = "odd extents or strides (no 4-byte copies)", failure();
  p.cPairs = !p.nDims.empty() && p.strideC[p.nDims.back()] == 1 &&
             p.loopExtents[p.nDims.back()] % 2 == 0;
  for (auto [d, s] : llvm::enumerate(p.strideC))
    if (s % 2 && d != (p.nDims.empty() ? -1u : p.nDims.back()))
      p.cPairs = false;

  Value init = op.getDpsInits()[0];
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    if (auto cst = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>())
      if (auto f = dyn_cast<FloatAttr>(cst.getValue()))
        p.initConstant = f.getValueAsDouble();
  }
  return p;
}

GemmPlanAttr choosePlan(const GemmProblem &p, Type operandType,
                        ArrayRef<int64_t> override) {
  MLIRContext *ctx = operandType.getContext();
  auto make = [&](int64_t tm, int64_t tn, int64_t tk, int64_t wm, int64_t wn,
                  int64_t stages) {
    return GemmPlanAttr::get(ctx, tm, tn, tk, wm, wn, stages, /*splitK=*/1,
                             operandType, p.aKMajor, p.bKMajor);
  };
  if (override.size() == 6)
    return make(override[0], override[1], override[2], override[3], override[4],
                override[5]);
  auto blocksOf = [&](int64_t tm, int64_t tn) {
    return p.batch * llvm::divideCeil(p.M, tm) * llvm::divideCeil(p.N, tn);
  };
  if (operandType.isF32()) {
    // FFMA: 8 x 8 outputs per lane, warps of 64 x 32; 128 x 128 x 16
    // tiles of 8 warps double-buffered (measured fastest on an H200 among
    // tile_k 8-32 with 2-3 stages, bench/results), 64 x 128 of 4 warps
    // when that would leave most SMs idle, one warp of 32 x 64 for a few
    // rows.
    if (p.M <= 32)
      return make(32, 64, 32, 1, 1, 4);
    if (blocksOf(128, 128) < 66)
      return make(64, 128, 16, 1, 4, 2);
    return make(128, 128, 16, 2, 4, 2);
  }
  // tf32 operands take twice the bytes of bf16/f16 ones: the same tiles
  // with half the K extent per stage keep the same shared memory per stage
  // (and the same 64-byte K-major rows), two m16n8k8 steps per tile.
  const int64_t kScale = operandBytes(operandType) / 2;
  // Decode shapes (a few rows): every block streams a 64-column panel of B
  // through four stages; the mma rows past M are wasted, but the kernel is
  // bound by reading B.
  if (p.M <= 16)
    return make(16, 64, 64 / kScale, 1, 4, 4);
  if (p.M <= 64)
    return make(64, 64, 32 / kScale, 2, 2, 3);
  // Big shapes: 128 x 256 tiles of 8 warps of 64 x 64 (a k step of 32
  // mma.sync per 8 ldmatrix), four stages of 32 along K; smaller tiles
  // when that would leave SMs idle.
  if (blocksOf(128, 256) >= 264)
    return make(128, 256, 32 / kScale, 2, 4, 4);
  if (blocksOf(128, 128) >= 66)
    return make(128, 128, 32 / kScale, 2, 4, 3);
  return make(64, 128, 32 / kScale, 2, 2, 3);
}

int64_t planSharedBytes(GemmPlanAttr plan) {
  int64_t tm = plan.getTileM(), tn = plan.getTileN(), tk = plan.getTileK();
  if (plan.getOperandType().isF32())
    return plan.getStages() * tk * (tm + tn + 2 * kSimtPad) * 4;
  return plan.getStages() * (tm + tn) * tk * operandBytes(plan.getOperandType());
}

} // namespace kestrel
