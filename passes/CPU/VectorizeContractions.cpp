//===- VectorizeContractions.cpp - Register-tiled tile products -----------===//
//
// Tiles each `kestrel.contraction` generic (iterators: parallel, reduction,
// parallel — the QKᵀ and PV products of fused attention) into mr × nr output
// blocks with scf.for loops and vectorizes every block into a vector.contract
// (lowered later to outer products). The accumulator block lives in vector
// registers for the whole reduction, which the scalar loop nest cannot do.
//
//===----------------------------------------------------------------------===//

#include "dialects/DecisionAttrs.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kestrel {
#define GEN_PASS_DEF_VECTORIZECONTRACTIONS
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

struct VectorizeContractionsPass
    : kestrel::impl::VectorizeContractionsBase<VectorizeContractionsPass> {
  using Base::Base;

  /// Static loop bounds that the register tile divides, or failure.
  static bool fits(linalg::GenericOp op, int64_t mr, int64_t nr) {
    using utils::IteratorType;
    auto iterators = op.getIteratorTypesArray();
    if (iterators.size() != 3 || iterators[0] != IteratorType::parallel ||
        iterators[1] != IteratorType::reduction ||
        iterators[2] != IteratorType::parallel)
      return false;
    SmallVector<int64_t> bounds = op.getStaticLoopRanges();
    return llvm::none_of(bounds, ShapedType::isDynamic) &&
           bounds[0] % mr == 0 && bounds[2] % nr == 0;
  }

  void runOnOperation() override {
    if (mr <= 0 || nr <= 0) {
      getOperation().emitError("kestrel-vectorize-contractions: mr and nr "
                               "must be positive");
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> candidates;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kestrel::decision::kContraction))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates) {
      op->removeAttr(kestrel::decision::kContraction);
      if (!fits(op, mr, nr))
        continue;
      rewriter.setInsertionPoint(op);
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), {mr, 0, nr}));
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled)) {
        op.emitError("cannot tile the contraction into ")
            << mr << "x" << nr << " register blocks";
        return signalPassFailure();
      }
      rewriter.replaceOp(op, tiled->replacements);
      for (Operation *block : tiled->tiledOps) {
        rewriter.setInsertionPoint(block);
        FailureOr<linalg::VectorizationResult> vectorized =
            linalg::vectorize(rewriter, block, /*inputVectorSizes=*/{},
                              /*inputScalableVecDims=*/{},
                              /*vectorizeNDExtract=*/false,
                              /*flatten1DDepthwiseConv=*/false,
                              /*assumeDynamicDimsMatchVecSizes=*/false,
                              /*createNamedContraction=*/true);
        if (failed(vectorized)) {
          block->emitError("cannot vectorize the register block");
          return signalPassFailure();
        }
        rewriter.replaceOp(block, vectorized->replacements);
      }
    }
    if (failed(vectorizeRowOps(rewriter)))
      return signalPassFailure();
    // The vectorizer states a generic contraction as broadcasts, a multiply
    // and a multi_reduction; fold that back into vector.contract, whose
    // outer-product lowering keeps the accumulator in registers.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorReductionToContractPatterns(patterns);
    // Broadcasting transfer_reads become plain reads plus vector.broadcast,
    // which the contraction patterns then fold into indexing maps.
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // Row reductions become one vector.reduction per row.
    RewritePatternSet reductions(&getContext());
    vector::populateVectorMultiReductionLoweringPatterns(
        reductions, vector::VectorMultiReductionLowering::InnerReduction);
    if (failed(applyPatternsGreedily(getOperation(), std::move(reductions))))
      return signalPassFailure();
  }

  /// Row ops (`kestrel.row_op`) with static shapes: 2-d ops are tiled into
  /// single rows (scf.for), then each row or 1-d op is vectorized whole.
  /// Other shapes keep their scalar loops.
  LogicalResult vectorizeRowOps(RewriterBase &rewriter) {
    SmallVector<linalg::GenericOp> rowOps;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kestrel::decision::kRowOp))
        rowOps.push_back(op);
    });
    for (linalg::GenericOp op : rowOps) {
      op->removeAttr(kestrel::decision::kRowOp);
      SmallVector<int64_t> bounds = op.getStaticLoopRanges();
      if (bounds.empty() || bounds.size() > 2 ||
          llvm::any_of(bounds, ShapedType::isDynamic) ||
          op.getIteratorTypesArray()[0] != utils::IteratorType::parallel)
        continue;
      SmallVector<Operation *> rows = {op};
      rewriter.setInsertionPoint(op);
      if (bounds.size() == 2) {
        scf::SCFTilingOptions options;
        options.setTileSizes(getAsIndexOpFoldResult(&getContext(), {1, 0}));
        FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
            rewriter, cast<TilingInterface>(op.getOperation()), options);
        if (failed(tiled))
          return op.emitError("cannot tile the row op into rows");
        rewriter.replaceOp(op, tiled->replacements);
        rows.assign(tiled->tiledOps.begin(), tiled->tiledOps.end());
      }
      for (Operation *row : rows) {
        rewriter.setInsertionPoint(row);
        FailureOr<linalg::VectorizationResult> vectorized =
            linalg::vectorize(rewriter, row);
        if (failed(vectorized))
          return row->emitError("cannot vectorize the row op");
        rewriter.replaceOp(row, vectorized->replacements);
      }
    }
    return success();
  }
};

} // namespace
