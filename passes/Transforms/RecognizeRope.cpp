//===- RecognizeRope.cpp - Rotate-half RoPE -> kestrel.rope ---------------===//
//
// kestrel-recognize, RoPE (docs/architecture.md §1). At the closing addf:
//
//   addf(mulf(x, cos), mulf(concat(negf(x[..., D/2:D]), x[..., 0:D/2],
//        dim = 3), sin))          (operands of addf and mulf in any order)
//
// (slices as tensor.extract_slice, the concat as tensor.concat, elementwise
// ops as linalg.generic) on x [B, H, T, D] f32 becomes kestrel.rope, when
// the constants cos/sin ([T, D], leading unit dims allowed, read at (t, d))
// are cos/sin(t · base^(-2i/D)) for positions t = 0..T-1, i = j mod D/2,
// element by element (tolerance 1e-6 + 2.5e-7 · t, the f32 error of an
// exporter's own table); base is read off the table.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/RecognizeMatchers.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;

namespace kestrel::recognize {
namespace {

/// The base of the rotate-half tables cos/sin [T, D] (positions 0..T-1), or
/// std::nullopt when they are not such tables.
/// `eps` is the rounding of the tables' storage type (f32, f16, bf16).
std::optional<double> ropeTableBase(ArrayRef<float> cosT, ArrayRef<float> sinT,
                                    int64_t T, int64_t D, double eps) {
  if (T < 2 || D < 4 || D % 2)
    return std::nullopt;
  int64_t half = D / 2;
  // θ(1, 1) = base^(-2/D).
  double th = std::atan2((double)sinT[D + 1], (double)cosT[D + 1]);
  if (!(th > 0) || th >= 1)
    return std::nullopt;
  double raw = std::pow(th, -(double)half);
  auto fits = [&](double base) {
    for (int64_t t = 0; t < T; ++t) {
      double tol =
          eps < 1e-6 ? 1e-6 + 2.5e-7 * (double)t : 2 * eps + 2.5e-7 * (double)t;
      for (int64_t j = 0; j < D; ++j) {
        double i = (double)(j % half);
        double theta = (double)t * std::pow(base, -2.0 * i / (double)D);
        if (std::abs(cosT[t * D + j] - std::cos(theta)) > tol ||
            std::abs(sinT[t * D + j] - std::sin(theta)) > tol)
          return false;
      }
    }
    return true;
  };
  // Prefer the integer base the table was most likely made from. f16 /
  // bf16 tables estimate it too coarsely (10000 reads as 9997): there the
  // common bases are tried first.
  SmallVector<double> bases = {std::round(raw), raw};
  bases.insert(eps > 0 ? bases.begin() : bases.end(),
               {1e4, 5e5, 1e6, 1e5, 5e4});
  for (double base : bases)
    if (base > 1 && fits(base))
      return base;
  return std::nullopt;
}

/// The table [T, D] of element type `elt` read by an op with loops
/// [B, H, T, D] through `map` (leading dims of size 1 read at 0, the last
/// two at d2, d3), as floats, or empty.
std::vector<float> tableOf(DenseElementsAttr a, AffineMap map, int64_t T,
                           int64_t D, Type elt) {
  if (!a || a.getElementType() != elt || !map)
    return {};
  auto shape = cast<ShapedType>(a.getType()).getShape();
  int64_t rank = shape.size();
  if (rank < 2 || rank > 4 || map.getNumResults() != (unsigned)rank ||
      shape.take_back(2) != ArrayRef<int64_t>{T, D})
    return {};
  for (int64_t i = 0; i + 2 < rank; ++i)
    if (shape[i] != 1)
      return {};
  MLIRContext *ctx = map.getContext();
  if (map.getResult(rank - 2) != getAffineDimExpr(2, ctx) ||
      map.getResult(rank - 1) != getAffineDimExpr(3, ctx))
    return {};
  std::vector<float> out;
  for (const APFloat &f : a.getValues<APFloat>())
    out.push_back((float)f.convertToDouble());
  return out;
}

/// Whether `v` is x[..., lo:hi] (step 1, whole other dims).
bool isLastAxisSlice(Value v, Value x, int64_t lo, int64_t hi) {
  auto s = v.getDefiningOp<tensor::ExtractSliceOp>();
  if (!s || s.getSource() != x || !s.hasUnitStride() ||
      !s.getType().hasStaticShape())
    return false;
  auto xs = cast<RankedTensorType>(x.getType()).getShape();
  int64_t rank = xs.size();
  SmallVector<int64_t> offsets(rank, 0), sizes(xs);
  offsets.back() = lo;
  sizes.back() = hi - lo;
  return s.getStaticOffsets() == ArrayRef<int64_t>(offsets) &&
         s.getStaticSizes() == ArrayRef<int64_t>(sizes) &&
         s.getType().getShape() == ArrayRef<int64_t>(sizes);
}

/// Whether `v` is rotate_half(x) = concat(-x[.., D/2:], x[.., :D/2]).
bool isRotateHalf(Value v, Value x) {
  auto cat = v.getDefiningOp<tensor::ConcatOp>();
  int64_t D = cast<RankedTensorType>(x.getType()).getShape().back();
  if (!cat || cat.getInputs().size() != 2 ||
      (int64_t)cat.getDim() != cat.getType().getRank() - 1)
    return false;
  Value hi = unaryOf(cat.getInputs()[0], "arith.negf");
  return hi && isLastAxisSlice(hi, x, D / 2, D) &&
         isLastAxisSlice(cat.getInputs()[1], x, 0, D / 2);
}

struct RecognizeRope : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp root,
                                PatternRewriter &rewriter) const override {
    std::optional<Elementwise> add = root.getNumResults() == 1
                                         ? asElementwise(root.getResult(0))
                                         : std::nullopt;
    if (!add || !isa<arith::AddFOp>(add->body) || add->args.size() != 2 ||
        !isIdentityOperand(*add, 0) || !isIdentityOperand(*add, 1))
      return failure();
    for (int i : {0, 1}) {
      std::optional<Elementwise> mc = asElementwise(add->args[i]);
      std::optional<Elementwise> ms = asElementwise(add->args[1 - i]);
      if (!mc || !ms || !isa<arith::MulFOp>(mc->body) ||
          !isa<arith::MulFOp>(ms->body) || mc->args.size() != 2 ||
          ms->args.size() != 2)
        continue;
      for (int a : {0, 1}) {
        Value x = mc->args[a];
        auto xt = dyn_cast<RankedTensorType>(x.getType());
        if (!isIdentityOperand(*mc, a) || !xt || xt.getRank() != 4 ||
            !xt.hasStaticShape() ||
            !(xt.getElementType().isF32() || xt.getElementType().isF16() ||
              xt.getElementType().isBF16()))
          continue;
        Type elt = xt.getElementType();
        // Half an ulp at 1.0 of the storage type.
        double eps = elt.isF32() ? 0 : elt.isF16() ? 0x1p-11 : 0x1p-8;
        int64_t T = xt.getDimSize(2), D = xt.getDimSize(3);
        for (int c : {0, 1}) {
          if (!isIdentityOperand(*ms, c) || !isRotateHalf(ms->args[c], x))
            continue;
          std::vector<float> cv = tableOf(denseConstant(mc->args[1 - a]),
                                          mc->maps[1 - a], T, D, elt);
          std::vector<float> sv = tableOf(denseConstant(ms->args[1 - c]),
                                          ms->maps[1 - c], T, D, elt);
          if (cv.empty() || sv.empty())
            return failure();
          std::optional<double> base = ropeTableBase(cv, sv, T, D, eps);
          if (!base)
            return failure();
          auto op = kestrel::RopeOp::create(
              rewriter, root.getLoc(), xt, x, Value(), UnitAttr(),
              IntegerAttr(), rewriter.getF32FloatAttr((float)*base),
              IntegerAttr());
          rewriter.replaceOp(root, op.getResult());
          return success();
        }
      }
    }
    return failure();
  }
};

} // namespace

void populateRecognizeRopePatterns(RewritePatternSet &patterns) {
  patterns.add<RecognizeRope>(patterns.getContext());
}

} // namespace kestrel::recognize
