//===- LowerFeatureMap.cpp - kx.feature_map to linalg ---------------------===//
//
// `kx-lower-feature-map`: each kx.feature_map becomes one elementwise
// linalg.generic, after which Kestrel's own pipelines take over.
//
//===----------------------------------------------------------------------===//

#include "Kx/Kx.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace {

struct LowerFeatureMapPattern : OpRewritePattern<kx::FeatureMapOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(kx::FeatureMapOp op,
                                PatternRewriter &rw) const override {
    auto type = op.getInput().getType();
    if (!type.hasStaticShape())
      return rw.notifyMatchFailure(op, "static shapes only");
    Location loc = op.getLoc();
    Value init = tensor::EmptyOp::create(rw, loc, type.getShape(),
                                         type.getElementType());
    AffineMap id = rw.getMultiDimIdentityMap(type.getRank());
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rw, loc, type, op.getInput(), init, ArrayRef<AffineMap>{id, id},
        iterators, [](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0];
          Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
          Value one = arith::ConstantOp::create(b, l, b.getF32FloatAttr(1));
          Value positive =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, zero);
          Value result = arith::SelectOp::create(
              b, l, positive, arith::AddFOp::create(b, l, x, one),
              math::ExpOp::create(b, l, x));
          linalg::YieldOp::create(b, l, ValueRange{result});
        });
    rw.replaceOp(op, generic.getResults());
    return success();
  }
};

struct LowerFeatureMapPass : PassWrapper<LowerFeatureMapPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerFeatureMapPass)

  StringRef getArgument() const override { return "kx-lower-feature-map"; }
  StringRef getDescription() const override {
    return "Lower kx.feature_map to linalg.generic";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect,
                    math::MathDialect, tensor::TensorDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerFeatureMapPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void kx::registerPasses() { PassRegistration<LowerFeatureMapPass>(); }
