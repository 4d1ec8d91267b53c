//===- VectorizeGenerics.cpp - Parallel, vectorized elementwise/row ops ---===//
//
// Rewrites every statically shaped linalg op that kestrel-fuse-elementwise
// leaves (elementwise chains, transposes, fills, and row reductions such as
// softmax, RMSNorm, LayerNorm, mean or max, whose reduced dimensions come
// last) into
//
//   scf.forall over the leading parallel dimensions (one row per iteration,
//     OpenMP threads after scf-forall-to-parallel / convert-scf-to-openmp)
//     [scf.for over the innermost dimension in blocks of `4 × vector-width`
//      lanes, for all-parallel ops]
//       vector ops along the innermost dimension (linalg::vectorize);
//       a row reduction is one vector.multi_reduction over the row.
//
// The decision per op is recorded on the forall as
// `kestrel.generic_codegen = "rows" | "rows-blocked" | "rows-scalar"`
// ("rows-scalar": rows longer than `max-vector` lanes, reductions over
// f16/bf16, or bodies the vectorizer rejects, keep scalar loops inside the
// forall). Ops without a
// leading parallel dimension or with dynamic shapes are left to
// convert-linalg-to-loops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Transforms/GenericTargets.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kestrel {
#define GEN_PASS_DEF_VECTORIZEGENERICS
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using utils::IteratorType;

namespace {

/// How one op is generated.
struct Plan {
  SmallVector<int64_t> forallTiles; // 1 on tiled rows, 0 elsewhere
  int64_t innerBlock = 0;           // scf.for block of the last dim, or 0
  bool vectorize = false;
  StringRef kind;
};

/// Leading parallel dimensions followed only by reductions, static bounds,
/// at least one row: else no plan.
std::optional<Plan> planFor(linalg::LinalgOp op, int64_t width,
                            int64_t maxVector) {
  SmallVector<int64_t> bounds = op.getStaticLoopRanges();
  if (bounds.empty() || llvm::any_of(bounds, ShapedType::isDynamic))
    return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  const int64_t n = bounds.size();
  int64_t par = 0;
  while (par < n && iterators[par] == IteratorType::parallel)
    ++par;
  if (llvm::any_of(ArrayRef(iterators).drop_front(par),
                   [](IteratorType t) { return t != IteratorType::reduction; }))
    return std::nullopt;

  Plan plan;
  // Rows: every leading parallel dimension but the innermost loop, which
  // stays whole for the vectors.
  const int64_t rowDims = std::min(par, n - 1);
  plan.forallTiles.assign(n, 0);
  int64_t rows = 1;
  for (int64_t d = 0; d < rowDims; ++d) {
    if (bounds[d] > 1)
      plan.forallTiles[d] = 1;
    rows *= bounds[d];
  }
  if (rows <= 1)
    return std::nullopt;
  int64_t rowLanes = 1;
  for (int64_t d = rowDims; d < n; ++d)
    rowLanes *= bounds[d];

  const int64_t last = bounds.back();
  if (par == n && last > 4 * width && last % (4 * width) == 0) {
    plan.innerBlock = 4 * width;
    plan.kind = "rows-blocked";
  } else if (par == n && last > width && last % width == 0) {
    plan.innerBlock = width;
    plan.kind = "rows-blocked";
  } else {
    plan.kind = "rows";
  }
  const int64_t lanes = plan.innerBlock ? plan.innerBlock : rowLanes;
  // A row shorter than 4 lanes gains nothing from vectors (and all-unit
  // vector shapes make the unit-dimension patterns cycle).
  // Maps with constant results (a 0 into a unit dimension) make
  // transfers the unit-dimension patterns keep rewriting: scalar bodies.
  // Reductions over f16/bf16 rows stay scalar: the x86 backend cannot
  // legalize vector.reduce.fadd/fmaximum of such vectors at every length
  // (bf16 softmax over 9 lanes aborts instruction selection).
  bool narrowReduction =
      par < n && llvm::any_of(
                     op->getOperandTypes(),
                     [](Type t) {
                       auto s = dyn_cast<ShapedType>(t);
                       return s && isa<FloatType>(s.getElementType()) &&
                              s.getElementType().getIntOrFloatBitWidth() < 32;
                     });
  plan.vectorize = lanes <= maxVector && last >= 4 && !narrowReduction &&
                   llvm::all_of(op.getIndexingMapsArray(), [](AffineMap m) {
                     return m.isProjectedPermutation();
                   });
  if (!plan.vectorize)
    plan.kind = "rows-scalar";
  return plan;
}

struct VectorizeGenericsPass
    : kestrel::impl::VectorizeGenericsBase<VectorizeGenericsPass> {
  using Base::Base;

  /// Tiles `op` by `tiles` with the loop type given; returns the tiled op.
  FailureOr<scf::SCFTilingResult>
  tile(RewriterBase &rewriter, Operation *op, ArrayRef<int64_t> tiles,
       scf::SCFTilingOptions::LoopType loopType) {
    scf::SCFTilingOptions options;
    options.setLoopType(loopType);
    options.setTileSizes(getAsIndexOpFoldResult(op->getContext(), tiles));
    rewriter.setInsertionPoint(op);
    return scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
  }

  LogicalResult generate(RewriterBase &rewriter, linalg::LinalgOp op,
                         const Plan &plan,
                         SmallVectorImpl<Operation *> &loops) {
    FailureOr<scf::SCFTilingResult> rows =
        tile(rewriter, op, plan.forallTiles,
             scf::SCFTilingOptions::LoopType::ForallOp);
    if (failed(rows) || rows->loops.empty())
      return failure();
    rewriter.replaceOp(op, rows->replacements);
    Operation *forall = rows->loops.front();
    forall->setAttr("kestrel.generic_codegen",
                    rewriter.getStringAttr(plan.kind));
    loops.push_back(forall);
    Operation *tiled = rows->tiledOps.back();

    if (plan.innerBlock) {
      SmallVector<int64_t> blockTiles(plan.forallTiles.size(), 0);
      blockTiles.back() = plan.innerBlock;
      FailureOr<scf::SCFTilingResult> blocks = tile(
          rewriter, tiled, blockTiles, scf::SCFTilingOptions::LoopType::ForOp);
      if (failed(blocks))
        return failure();
      rewriter.replaceOp(tiled, blocks->replacements);
      tiled = blocks->tiledOps.back();
    }
    // Gathers (tensor.extract in the body: kestrel ops' reference forms)
    // keep scalar bodies: their data-dependent indices vectorize into
    // gathers that cost more than they save, and nested ones (an index
    // read through another extract) blow up the vectorizer.
    bool gathers = !tiled->getRegion(0).getOps<tensor::ExtractOp>().empty();
    if (!plan.vectorize || gathers ||
        failed(linalg::vectorizeOpPrecondition(tiled, {}, {},
                                               /*vectorizeNDExtract=*/false))) {
      forall->setAttr("kestrel.generic_codegen",
                      rewriter.getStringAttr("rows-scalar"));
      return success();
    }
    FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
        rewriter, tiled, {}, {}, /*vectorizeNDExtract=*/false);
    if (failed(vectorized))
      return failure();
    rewriter.replaceOp(tiled, vectorized->replacements);
    return success();
  }

  void runOnOperation() override {
    if (vectorWidth <= 0 || maxVector < vectorWidth) {
      getOperation().emitError("kestrel-vectorize-generics: vector-width "
                               "must be positive and at most max-vector");
      return signalPassFailure();
    }
    SmallVector<std::pair<linalg::LinalgOp, Plan>> work;
    for (Operation &op : getOperation().getBody().getOps()) {
      auto linalgOp = dyn_cast<linalg::LinalgOp>(&op);
      if (!linalgOp || !linalgOp.hasPureTensorSemantics() ||
          !kestrel::isGenericCodegenTarget(&op) || !isa<TilingInterface>(&op))
        continue;
      if (std::optional<Plan> plan = planFor(linalgOp, vectorWidth, maxVector))
        work.emplace_back(linalgOp, *plan);
    }
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> loops;
    for (auto &[op, plan] : work)
      if (failed(generate(rewriter, op, plan, loops))) {
        op.emitOpError("kestrel-vectorize-generics: tiling failed");
        return signalPassFailure();
      }

    // Unit dimensions of the row vectors dropped, row reductions as
    // vector.reduction, transposed reads as plain reads and transposes.
    RewritePatternSet patterns(&getContext());
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerReduction);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateSinkVectorOpsPatterns(patterns);
    // Bounded: every intermediate state is valid IR that the later
    // lowerings accept, so a pattern pair that keeps rewriting each other
    // costs code quality, never memory without end.
    FrozenRewritePatternSet frozen(std::move(patterns));
    GreedyRewriteConfig config;
    config.setMaxIterations(8).setMaxNumRewrites(20000);
    for (Operation *loop : loops)
      (void)applyPatternsGreedily(loop->getRegion(0), frozen, config);
  }
};

} // namespace
