//===- ContractionCodegen.cpp ---------------------------------------------===//
//
// kestrel-cpu-choose-contraction: annotates every static contraction with
// `kestrel.contraction_config = #kestrel.contraction<...>` (register tile,
// blocking, packing of B, epilogue fusion).
// kestrel-cpu-contraction: rewrites each annotated contraction (and its
// fused consumer) into the packed, register-tiled loop nest of
// ContractionKernel.cpp.
//
//===----------------------------------------------------------------------===//

#include "passes/CPU/Contraction.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kestrel {
#define GEN_PASS_DEF_CHOOSECONTRACTION
#define GEN_PASS_DEF_CONTRACTIONCODEGEN
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

struct TileOverrides {
  int64_t mr, nr, kc, mb, nb;
};

static int64_t roundUp(int64_t x, int64_t to) {
  return llvm::divideCeil(x, to) * to;
}

/// The decisions for one contraction (docs/pipelines.md, CPU contractions).
static ContractionConfigAttr chooseConfig(MLIRContext *ctx, ContractionMatch &c,
                                          const TileOverrides &o) {
  Type outElt = c.consumer
                    ? getElementTypeOrSelf(c.consumer.getResult(0).getType())
                    : c.cElt;
  int64_t outer = 1;
  for (unsigned d : c.outer)
    outer *= c.sizes[d];
  const bool gemv = c.M <= 16;
  int64_t mr, nr, kc, mb, nb;
  if (gemv) {
    // All rows in one block: each panel of B is read from memory once. At
    // most 16 accumulator registers of 16 lanes.
    // Up to 8 rows per tile: beyond, the rows of A no longer stay in L1
    // while a panel streams; two 8-row tiles re-read the panel from L2.
    mr = std::min<int64_t>(c.M, 8);
    nr = c.M <= 4 ? 64 : 32;
    kc = c.K;
    mb = roundUp(c.M, mr);
  } else {
    mr = 8;
    nr = 32;
    kc = 256;
    mb = 64;
  }
  if (o.mr)
    mr = o.mr;
  if (o.nr)
    nr = o.nr;
  if (o.kc)
    kc = o.kc;
  // Partial sums between K blocks live in the output: only in f32.
  if (!outElt.isF32() || kc >= c.K)
    kc = c.K;
  mb = o.mb ? o.mb : std::min(mb, roundUp(c.M, mr));
  const int64_t np = llvm::divideCeil(c.N, nr);
  if (o.nb) {
    nb = o.nb;
  } else if (gemv) {
    // ~16 blocks of panels: enough to balance the threads.
    nb = nr * std::max<int64_t>(1, np / 16);
  } else {
    nb = std::min<int64_t>(roundUp(c.N, nr), 256);
    // At least 8 parallel blocks when the shape allows.
    while (outer * llvm::divideCeil(c.M, mb) * llvm::divideCeil(c.N, nb) < 8 &&
           nb > nr)
      nb = roundUp(nb / 2, nr);
  }
  StringRef pack = "runtime";
  if (c.bConst)
    pack = "compile_time";
  else if (gemv && c.b.posOf(c.n) + 1 == (int64_t)c.b.map.getNumResults())
    pack = "none";
  return ContractionConfigAttr::get(ctx, gemv ? "gemv" : "gemm", mr, nr, kc, mb,
                                    nb, pack, c.consumer ? "fused" : "none");
}

struct ChooseContractionPass
    : kestrel::impl::ChooseContractionBase<ChooseContractionPass> {
  using ChooseContractionBase::ChooseContractionBase;

  void runOnOperation() override {
    TileOverrides o{mr, nr, kc, mb, nb};
    if (nr % 16 != 0 || mr < 0 || kc < 0 || mb % std::max<int64_t>(mr, 1) ||
        nb % std::max<int64_t>(nr, 1)) {
      getOperation().emitError(
          "kestrel-cpu-choose-contraction: nr must be a multiple of 16, mb "
          "of mr and nb of nr");
      return signalPassFailure();
    }
    llvm::SmallPtrSet<Operation *, 8> claimed;
    getOperation().walk([&](linalg::LinalgOp op) {
      FailureOr<ContractionMatch> c = matchContraction(op);
      if (failed(c))
        return;
      Value result = op->getResult(0);
      if (fuseEpilogue && result.hasOneUse()) {
        Operation *user = *result.getUsers().begin();
        if (!claimed.contains(user) && matchEpilogue(*c, user))
          claimed.insert(user);
      }
      op->setAttr(kContractionConfig, chooseConfig(&getContext(), *c, o));
    });
  }
};

/// Rewrites an annotated contraction (and its fused consumer).
struct ContractionPattern : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    auto cfg = op->getAttrOfType<ContractionConfigAttr>(kContractionConfig);
    if (!cfg)
      return failure();
    FailureOr<ContractionMatch> c = matchContraction(op);
    if (failed(c))
      return rewriter.notifyMatchFailure(op, "not a static contraction");
    if (cfg.getEpilogue() == "fused") {
      Value result = op->getResult(0);
      if (!result.hasOneUse() || !matchEpilogue(*c, *result.getUsers().begin()))
        return rewriter.notifyMatchFailure(op, "consumer not fusable");
    }
    Operation *replaced = c->consumer ? c->consumer.getOperation() : op;
    rewriter.setInsertionPoint(replaced);
    Value v = emitContraction(rewriter, *c, cfg);
    rewriter.replaceOp(replaced, v);
    // Without a consumer, `op` itself was replaced (and freed) just now.
    if (replaced != op && op->use_empty())
      rewriter.eraseOp(op);
    return success();
  }
};

/// Checks what emitContraction relies on.
static LogicalResult verifyConfig(Operation *op, ContractionConfigAttr cfg) {
  StringRef pack = cfg.getPackB(), epi = cfg.getEpilogue(),
            path = cfg.getPath();
  if (cfg.getMr() < 1 || cfg.getNr() < 1 || cfg.getKc() < 1 ||
      cfg.getMb() % cfg.getMr() || cfg.getNb() % cfg.getNr() ||
      cfg.getMb() < 1 || cfg.getNb() < 1 ||
      !llvm::is_contained({"compile_time", "runtime", "none"}, pack) ||
      !llvm::is_contained({"fused", "none"}, epi) ||
      !llvm::is_contained({"gemm", "gemv"}, path))
    return op->emitOpError("has an invalid ")
           << kContractionConfig << ": " << cfg;
  return success();
}

struct ContractionCodegenPass
    : kestrel::impl::ContractionCodegenBase<ContractionCodegenPass> {
  // The GEMV micro-kernel prefetches its panels through a read-only
  // bufferization.to_buffer (ContractionKernel.cpp).
  void getDependentDialects(DialectRegistry &registry) const override {
    ContractionCodegenBase::getDependentDialects(registry);
    registry.insert<bufferization::BufferizationDialect,
                    memref::MemRefDialect>();
  }

  void runOnOperation() override {
    bool bad = false;
    getOperation().walk([&](Operation *op) {
      if (auto cfg =
              op->getAttrOfType<ContractionConfigAttr>(kContractionConfig))
        bad |= failed(verifyConfig(op, cfg));
    });
    if (bad)
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<ContractionPattern>(&getContext());
    GreedyRewriteConfig config;
    config.enableFolding(false).setRegionSimplificationLevel(
        GreedySimplifyRegionLevel::Disabled);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    getOperation().walk([&](Operation *op) {
      if (op->hasAttr(kContractionConfig)) {
        op->emitOpError("carries ")
            << kContractionConfig
            << " but is not a static contraction (or its consumer changed)";
        bad = true;
      }
    });
    if (bad)
      signalPassFailure();
  }
};

} // namespace
