//===- RecognizeRmsNorm.cpp - Decomposed RMSNorm -> kestrel.rms_norm -----===//
//
// kestrel-recognize, RMSNorm (docs/architecture.md §1), run by Recognize.cpp
// after the pattern families.
//
// RMSNorm. Over elementwise linalg.generic ops (all loops parallel, a body of
// one arith/math op, operands broadcast by projected indexing maps, scalar
// constants as operands, captured or defined in the body) and one sum
// reduction:
//
//   sq   = powf(x, 2) | mulf(x, x)                          [..., N]
//   sum  = Σ_last sq         (a reduction of the last loop dim into a fill 0)
//   mean = mulf(sum, 1/N) | divf(sum, N)        (tensor.reshape / expand_shape
//                                                adding unit dims looked
//                                                through)
//   s    = addf(mean, eps)                           (eps a constant >= 0)
//   y    = mulf(x, rsqrt(s)) | divf(x, sqrt(s))      (rsqrt(s) = math.rsqrt(s),
//                                         divf(1, sqrt(s)), powf(s, -0.5))
//   out  = y  |  mulf(y, w)             (w a constant [N] or [1, ..., N])
//
// where x has static shape [..., N] and the rsqrt operand is broadcast along
// the last dim only. The closing op becomes `kestrel.rms_norm x, w` (w all
// ones when absent); the matched ops that are left without users are erased.
// Anything else (another axis, a non-constant or broadcast weight, a
// negative eps, a square of another tensor) is left alone.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/RecognizeMatchers.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace kestrel::recognize;

namespace {

/// The loop dims an operand read through `map` varies with, in order, or
/// std::nullopt unless each map result is a loop dim of the operand's size or
/// the constant 0 on a unit dim.
std::optional<SmallVector<int64_t>> dimsRead(AffineMap map, Value operand,
                                             ArrayRef<int64_t> loopSizes) {
  auto type = dyn_cast<RankedTensorType>(operand.getType());
  if (!type || !type.hasStaticShape() ||
      type.getRank() != (int64_t)map.getNumResults())
    return std::nullopt;
  SmallVector<int64_t> dims;
  for (auto [i, expr] : llvm::enumerate(map.getResults())) {
    if (auto d = dyn_cast<AffineDimExpr>(expr)) {
      if (type.getDimSize(i) != loopSizes[d.getPosition()])
        return std::nullopt;
      dims.push_back(d.getPosition());
    } else if (auto c = dyn_cast<AffineConstantExpr>(expr)) {
      if (c.getValue() != 0 || type.getDimSize(i) != 1)
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  return dims;
}

struct RmsNormMatch {
  Value x;
  double eps;
  SmallVector<Operation *> ops; // matched, closing op last
};

class RmsNormMatcher {
public:
  /// Σ_last x² / N (+ the ops on the way) for x, or false.
  bool meanSquare(Value v, Value &x, SmallVectorImpl<Operation *> &ops) {
    v = throughUnitReshapes(v);
    std::optional<Elementwise> scale = asElementwise(v);
    if (!scale || scale->args.size() != 2)
      return false;
    bool isMul = isa<arith::MulFOp>(scale->body),
         isDiv = isa<arith::DivFOp>(scale->body);
    if (!isMul && !isDiv)
      return false;
    for (unsigned i : {0u, 1u}) {
      if (isDiv && i == 1)
        break;
      std::optional<double> c = splatValue(scale->args[1 - i]);
      if (!c || !isIdentityOperand(*scale, i))
        continue;
      // The sum of squares over the last dim.
      auto red = scale->args[i].getDefiningOp<linalg::GenericOp>();
      if (!red || red.getNumDpsInputs() != 1 || red.getNumDpsInits() != 1 ||
          red.getNumResults() != 1 || !red.hasPureTensorSemantics())
        continue;
      auto iters = red.getIteratorTypesArray();
      int64_t loops = iters.size();
      if (loops < 1 || red.getNumReductionLoops() != 1 ||
          iters.back() != utils::IteratorType::reduction)
        continue;
      Block &blk = red.getRegion().front();
      if (!llvm::hasSingleElement(blk.without_terminator()))
        continue;
      auto add = dyn_cast<arith::AddFOp>(&blk.front());
      auto yield = cast<linalg::YieldOp>(blk.getTerminator());
      if (!add || yield.getOperand(0) != add.getResult() ||
          !llvm::is_contained({add.getLhs(), add.getRhs()},
                              blk.getArgument(0)) ||
          !llvm::is_contained({add.getLhs(), add.getRhs()}, blk.getArgument(1)))
        continue;
      Value init = red.getDpsInitOperand(0)->get();
      auto fill = init.getDefiningOp<linalg::FillOp>();
      std::optional<double> zero =
          fill ? splatValue(fill.getInputs()[0]) : splatValue(init);
      if (zero != 0.0)
        continue;
      SmallVector<int64_t> loopSizes = red.getStaticLoopRanges();
      Value sq = red.getDpsInputOperand(0)->get();
      auto inDims = dimsRead(red.getIndexingMapsArray()[0], sq, loopSizes);
      auto outDims =
          dimsRead(red.getIndexingMapsArray()[1], red.getResult(0), loopSizes);
      SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, loops));
      if (!inDims || *inDims != all || !outDims ||
          *outDims != ArrayRef<int64_t>(all).drop_back())
        continue;
      int64_t n = loopSizes.back();
      bool meanOk = isMul ? std::abs(*c * n - 1.0) <= 1e-6 : *c == (double)n;
      if (!meanOk)
        continue;
      // sq = powf(x, 2) | mulf(x, x)
      std::optional<Elementwise> s = asElementwise(sq);
      if (!s || s->args.size() != 2 || !isIdentityOperand(*s, 0))
        continue;
      Value cand = s->args[0];
      bool ok = (isa<math::PowFOp>(s->body) && splatValue(s->args[1]) == 2.0) ||
                (isa<arith::MulFOp>(s->body) && s->args[1] == cand &&
                 isIdentityOperand(*s, 1));
      if (!ok)
        continue;
      x = cand;
      ops.append({s->op, red, scale->op});
      return true;
    }
    return false;
  }

  /// mean(x²) + eps -> eps.
  std::optional<double> plusEps(Value v, Value &x,
                                SmallVectorImpl<Operation *> &ops) {
    std::optional<Elementwise> add = asElementwise(v);
    if (!add || !isa<arith::AddFOp>(add->body))
      return std::nullopt;
    for (unsigned i : {0u, 1u}) {
      std::optional<double> eps = splatValue(add->args[1 - i]);
      if (!eps || !(*eps >= 0) || !std::isfinite(*eps) ||
          !isIdentityOperand(*add, i))
        continue;
      if (!meanSquare(add->args[i], x, ops))
        continue;
      ops.push_back(add->op);
      return eps;
    }
    return std::nullopt;
  }

  /// s = mean(x²) + eps under sqrt: the sqrt op's operand.
  static std::optional<Elementwise> sqrtOf(Value v) {
    std::optional<Elementwise> e = asElementwise(v);
    if (!e || !isa<math::SqrtOp>(e->body) || !isIdentityOperand(*e, 0))
      return std::nullopt;
    return e;
  }

  /// rsqrt(mean(x²) + eps) at v.
  std::optional<double> rsqrtOf(Value v, Value &x,
                                SmallVectorImpl<Operation *> &ops) {
    std::optional<Elementwise> e = asElementwise(v);
    if (!e)
      return std::nullopt;
    Value s;
    SmallVector<Operation *> between;
    if (isa<math::RsqrtOp>(e->body) && isIdentityOperand(*e, 0)) {
      s = e->args[0];
    } else if (isa<arith::DivFOp>(e->body) && splatValue(e->args[0]) == 1.0 &&
               isIdentityOperand(*e, 1)) {
      std::optional<Elementwise> sq = sqrtOf(e->args[1]);
      if (!sq)
        return std::nullopt;
      s = sq->args[0];
      between.push_back(sq->op);
    } else if (isa<math::PowFOp>(e->body) && splatValue(e->args[1]) == -0.5 &&
               isIdentityOperand(*e, 0)) {
      s = e->args[0];
    } else {
      return std::nullopt;
    }
    std::optional<double> eps = plusEps(s, x, ops);
    if (!eps)
      return std::nullopt;
    ops.append(between);
    ops.push_back(e->op);
    return eps;
  }

  /// x · rsqrt(mean(x²) + eps) at v (the broadcast of the per-row factor).
  std::optional<RmsNormMatch> normalized(Value v) {
    std::optional<Elementwise> e = asElementwise(v);
    if (!e || e->args.size() != 2 ||
        !(isa<arith::MulFOp>(e->body) || isa<arith::DivFOp>(e->body)))
      return std::nullopt;
    bool isDiv = isa<arith::DivFOp>(e->body);
    SmallVector<int64_t> loopSizes = e->op.getStaticLoopRanges();
    int64_t rank = loopSizes.size();
    SmallVector<int64_t> rows =
        llvm::to_vector(llvm::seq<int64_t>(0, rank - 1));
    for (unsigned i : {0u, 1u}) {
      if (isDiv && i == 1)
        break;
      Value x = e->args[i], r = e->args[1 - i];
      if (!isIdentityOperand(*e, i) || !e->maps[1 - i])
        continue;
      std::optional<SmallVector<int64_t>> rd =
          dimsRead(e->maps[1 - i], r, loopSizes);
      if (!rd || *rd != rows)
        continue;
      RmsNormMatch m;
      Value rowFactor = throughUnitReshapes(r);
      std::optional<double> eps;
      Value found;
      if (isDiv) {
        if (std::optional<Elementwise> sq = sqrtOf(rowFactor)) {
          eps = plusEps(sq->args[0], found, m.ops);
          m.ops.push_back(sq->op);
        }
      } else {
        eps = rsqrtOf(rowFactor, found, m.ops);
      }
      if (!eps || found != x)
        continue;
      m.x = x;
      m.eps = *eps;
      m.ops.push_back(e->op);
      return m;
    }
    return std::nullopt;
  }
};

} // namespace

void kestrel::recognize::recognizeRmsNorms(func::FuncOp fn) {
  {
    SmallVector<linalg::GenericOp> candidates;
    fn.walk([&](linalg::GenericOp op) { candidates.push_back(op); });
    llvm::DenseSet<Operation *> erased;
    // Last to first: a weighted norm is matched before the weightless one
    // inside it, which then has no users left.
    for (linalg::GenericOp op : llvm::reverse(candidates)) {
      if (erased.contains(op))
        continue;
      std::optional<RmsNormMatch> m;
      DenseElementsAttr weight;
      RmsNormMatcher matcher;
      Value result = op.getNumResults() == 1 ? op.getResult(0) : Value();
      auto type = result ? dyn_cast<RankedTensorType>(result.getType())
                         : RankedTensorType();
      if (!type || !type.hasStaticShape() || type.getRank() < 1 ||
          !isa<FloatType>(type.getElementType()))
        continue;
      int64_t n = type.getShape().back();
      if (std::optional<Elementwise> e = asElementwise(result);
          e && isa<arith::MulFOp>(e->body) && e->args.size() == 2) {
        SmallVector<int64_t> loopSizes = op.getStaticLoopRanges();
        for (unsigned i : {0u, 1u}) {
          DenseElementsAttr w;
          if (!e->maps[1 - i] || !isIdentityOperand(*e, i) ||
              !matchPattern(e->args[1 - i], m_Constant(&w)))
            continue;
          std::optional<SmallVector<int64_t>> wd =
              dimsRead(e->maps[1 - i], e->args[1 - i], loopSizes);
          if (!wd || *wd != SmallVector<int64_t>{type.getRank() - 1} ||
              w.getElementType() != type.getElementType())
            continue;
          if ((m = matcher.normalized(e->args[i]))) {
            weight = w;
            m->ops.push_back(op);
            break;
          }
        }
      }
      if (!m)
        m = matcher.normalized(result);
      if (!m || m->x.getType() != type)
        continue;
      OpBuilder b(op);
      auto weightType = RankedTensorType::get({n}, type.getElementType());
      weight =
          weight ? weight.reshape(weightType)
                 : DenseElementsAttr::get(
                       weightType, FloatAttr::get(type.getElementType(), 1.0));
      Value w = arith::ConstantOp::create(b, op.getLoc(), weight);
      auto norm = kestrel::RmsNormOp::create(b, op.getLoc(), type, m->x, w,
                                             b.getF32FloatAttr((float)m->eps));
      result.replaceAllUsesWith(norm.getResult());
      // What the match leaves without users (and only that), closing op first.
      SmallVector<Operation *> worklist{op};
      while (!worklist.empty()) {
        Operation *o = worklist.pop_back_val();
        if (erased.contains(o) || !isOpTriviallyDead(o))
          continue;
        // Operands, and values captured by the body from above.
        o->walk([&](Operation *inner) {
          for (Value operand : inner->getOperands())
            if (Operation *def = operand.getDefiningOp();
                def && !o->isAncestor(def))
              worklist.push_back(def);
        });
        erased.insert(o);
        o->erase();
      }
    }
  }
}
