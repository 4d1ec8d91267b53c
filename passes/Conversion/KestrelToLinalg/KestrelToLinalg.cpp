//===- KestrelToLinalg.cpp - The kestrel-lower-to-linalg pass -------------===//
//
// Applies every op family's reference-lowering patterns (see
// ReferenceLowering.h) and reports any kestrel op left behind.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Conversion/KestrelToLinalg/ReferenceLowering.h"
#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kestrel {
#define GEN_PASS_DEF_LOWERTOLINALG
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

struct LowerToLinalgPass : kestrel::impl::LowerToLinalgBase<LowerToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateAttentionReferencePatterns(patterns);
    populateMLAReferencePatterns(patterns);
    populateQuantReferencePatterns(patterns);
    populateRecurrenceReferencePatterns(patterns);
    populateScanReferencePatterns(patterns);
    populateSupportReferencePatterns(patterns);
    populateDenoiseReferencePatterns(patterns);
    populateRoutingReferencePatterns(patterns);
    populateKVCacheReferencePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();

    // Anything left is an op this lowering cannot handle: say which and why.
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (isa<KestrelDialect>(op->getDialect())) {
        bool dynamic = llvm::any_of(op->getOperandTypes(), [](Type t) {
          auto shaped = dyn_cast<ShapedType>(t);
          return shaped && !shaped.hasStaticShape();
        });
        if (dynamic)
          op->emitError() << "the reference lowering needs static shapes; "
                             "specialize dynamic dimensions first";
        else
          op->emitError() << "no reference lowering for this op";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
