//===- ApproximateMath.cpp - Polynomial math for the CPU vectorizers ------===//
//
// math.exp / tanh / erf become MLIR's polynomial approximations (plain
// arithmetic) instead of libm calls, so LLVM vectorizes the loops that
// contain them: softmax evaluates one exp per attention score.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kestrel {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

struct ApproximateMathPass
    : kestrel::impl::ApproximateMathBase<ApproximateMathPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::string> names(ops.begin(), ops.end());
    if (names.empty())
      names = {"exp", "tanh", "erf"};
    // The upstream predicate sees full op names ("math.exp").
    for (std::string &name : names)
      if (!StringRef(name).starts_with("math."))
        name = "math." + name;
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [&](StringRef name) {
      return llvm::is_contained(names, name);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
