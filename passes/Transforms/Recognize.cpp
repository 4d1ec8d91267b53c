//===- Recognize.cpp - The kestrel-recognize pass -------------------------===//
//
// kestrel-recognize: the "recognize" arrow of docs/architecture.md §1 on the
// IR every frontend produces (func/arith/tensor/linalg on tensors, plus
// kestrel.top_k for ONNX TopK), so that it runs alike on imported ONNX models
// and hand-written MLIR. Decomposed attention, RoPE, MoE routing + experts,
// causal conv1d and the unrolled selective scan (one pattern file each,
// Recognize<Family>.cpp; the scan unless selective-scan=false) are
// rewritten by one greedy application of their patterns (bottom-up, so the
// op closing a subgraph is seen before the ops inside it; no folding, so
// nothing else changes; what a match leaves unused is erased), then RMSNorm
// (RecognizeRmsNorm.cpp).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Transforms/RecognizeMatchers.h"

#include "dialects/Kestrel.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kestrel {
#define GEN_PASS_DEF_RECOGNIZE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

struct RecognizePass : kestrel::impl::RecognizeBase<RecognizePass> {
  using RecognizeBase::RecognizeBase;

  // The kestrel dialect (not in Passes.td's list, which Passes.h would have
  // to include the dialect for): the input may hold no kestrel op yet.
  void getDependentDialects(DialectRegistry &registry) const override {
    RecognizeBase::getDependentDialects(registry);
    registry.insert<kestrel::KestrelDialect>();
  }

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    kestrel::recognize::populateRecognizeAttentionPatterns(patterns);
    kestrel::recognize::populateRecognizeRopePatterns(patterns);
    kestrel::recognize::populateRecognizeMoePatterns(patterns);
    kestrel::recognize::populateRecognizeMoeGatheredPatterns(patterns);
    kestrel::recognize::populateRecognizeCausalConvPatterns(patterns);
    if (selectiveScan)
      kestrel::recognize::populateRecognizeSelectiveScanPatterns(patterns);
    GreedyRewriteConfig config;
    config.enableFolding(false).enableConstantCSE(false);
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    kestrel::recognize::recognizeRmsNorms(getOperation());
  }
};

} // namespace
