//===- FuseElementwise.cpp - Producer/consumer fusion of elementwise ops --===//
//
// Rewrites chains of elementwise linalg ops into single linalg.generic ops:
// named data-movement and elementwise ops (linalg.transpose, broadcast,
// copy, add, exp, map, ...) are generalized first, so a transpose or broadcast
// feeding an elementwise op or a row reduction becomes an indexing map of the
// consumer instead of a materialized tensor; then every all-parallel generic
// producer is fused into its generic consumer (upstream elementwise fusion)
// when the producer only moves data (a copy is cheaper to recompute than to
// store), or has no other use and the consumer iterates over no more points
// than the producer (no arithmetic is repeated). Contractions
// (docs/architecture.md: the GEMM codegen) are never producer or consumer, nor
// is any op nested in a loop or carrying a kestrel.* attribute (the fused
// kernels' own tile ops).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Transforms/GenericTargets.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace kestrel {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

/// A generic whose body only yields one of its inputs: a transpose,
/// broadcast or copy.
bool movesDataOnly(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 1)
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  return llvm::all_of(yield.getValues(), [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &body &&
           arg.getArgNumber() < op.getNumDpsInputs();
  });
}

/// The number of points of `op`'s static iteration domain (a dynamic
/// extent counts as unbounded).
int64_t iterationPoints(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp)
    return std::numeric_limits<int64_t>::max();
  int64_t points = 1;
  for (int64_t extent : linalgOp.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(extent))
      return std::numeric_limits<int64_t>::max();
    points *= extent;
  }
  return points;
}

/// linalg.transpose / broadcast / copy and named elementwise ops (add, exp,
/// map, elementwise, ...) as generics.
struct GeneralizeDataMovement : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    Operation *raw = op.getOperation();
    bool movesOrMaps =
        isa<linalg::TransposeOp, linalg::BroadcastOp, linalg::CopyOp>(raw) ||
        (linalg::isElementwise(op) && !isa<linalg::FillOp>(raw));
    if (isa<linalg::GenericOp>(raw) || !movesOrMaps ||
        !op.hasPureTensorSemantics() || !kestrel::isGenericCodegenTarget(raw))
      return failure();
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

struct FuseElementwisePass
    : kestrel::impl::FuseElementwiseBase<FuseElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<GeneralizeDataMovement>(ctx);
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          Operation *producer = fused->get().getDefiningOp();
          Operation *consumer = fused->getOwner();
          auto generic = dyn_cast_or_null<linalg::GenericOp>(producer);
          if (!generic || !kestrel::isGenericCodegenTarget(producer) ||
              !kestrel::isGenericCodegenTarget(consumer))
            return false;
          if (movesDataOnly(generic))
            return true;
          // Recomputing anything but a copy in every consumer would repeat
          // its arithmetic; such producers stay materialized. So do
          // producers whose one consumer iterates over more points than
          // they compute (RoPE into the reference attention's score
          // reduction: sin/cos once per score and channel instead of once
          // per channel).
          return generic->hasOneUse() &&
                 iterationPoints(consumer) <= iterationPoints(producer);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
