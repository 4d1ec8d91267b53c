//===- SpecializeSparsity.cpp - Static tile classification ----------------===//
//
// For every tiled kestrel.attention, decides at compile time which
// (query tile, key tile) pairs see no key (skipped), see every key (full:
// no mask arithmetic) or need the mask (partial), from the op's static mask
// (causal/window/sinks and the block-sparse map; AttentionMask.h). The
// classes are recorded in the IR as #kestrel.tile_classes, which is what
// kestrel-fuse-io-aware specializes on and what tests check. Runtime key
// lengths can only hide more keys: fuse-io-aware refines "full" at run time.
// For kestrel.moe, the static k (or expert capacity c) and E bound the
// routed (token, expert) pairs, recorded for kestrel-moe-dispatch.
//
//===----------------------------------------------------------------------===//

#include "dialects/AttentionMask.h"
#include "dialects/Kestrel.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace kestrel {
#define GEN_PASS_DEF_SPECIALIZESPARSITY
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

struct SpecializeSparsityPass
    : kestrel::impl::SpecializeSparsityBase<SpecializeSparsityPass> {
  using Base::Base;

  /// MoE: from the static k (token choice) or c (expert choice) and E,
  /// the most (token, expert) pairs the routing can make and the most
  /// tokens one expert can receive, recorded as
  /// `kestrel.moe_bounds = #kestrel.moe_bounds<pairs = .., per_expert = ..>`.
  /// kestrel-moe-dispatch sizes its packed row space from them.
  static void boundMoe(MoeOp op) {
    auto idx = cast<RankedTensorType>(op.getIndices().getType());
    auto x = op.getX().getType();
    auto w1 = cast<RankedTensorType>(op.getW1().getType());
    if (!idx.hasStaticShape() || ShapedType::isDynamic(x.getDimSize(0)) ||
        ShapedType::isDynamic(w1.getDimSize(0)))
      return;
    const int64_t N = x.getDimSize(0), E = w1.getDimSize(0);
    const int64_t cols = idx.getDimSize(1);
    int64_t pairs, perExpert;
    if (op.isExpertChoice()) {
      // [E, c] token indices: an expert receives at most min(c, N) tokens.
      perExpert = std::min(cols, N);
      pairs = std::min(idx.getDimSize(0), E) * perExpert;
    } else {
      // [N, k] expert indices: a token reaches at most min(k, E) experts.
      perExpert = N;
      pairs = N * std::min(cols, E);
    }
    op->setAttr(decision::kMoeBounds,
                MoeBoundsAttr::get(op.getContext(), pairs, perExpert));
  }

  void runOnOperation() override {
    getOperation().walk([&](MoeOp op) { boundMoe(op); });
    WalkResult result = getOperation().walk([&](AttentionOp op) {
      if (!op.getQuery().getType().hasStaticShape() ||
          !op.getKey().getType().hasStaticShape())
        return WalkResult::advance();
      MLIRContext *ctx = op.getContext();
      // (A malformed or misplaced tile fails the IR verifier before this.)
      auto tile = op->getAttrOfType<AttentionTilesAttr>(decision::kTile);
      if (!tile) {
        if (blockQ <= 0 || blockK <= 0) {
          op.emitError("kestrel-specialize-sparsity: block-q and block-k must "
                       "be positive");
          return WalkResult::interrupt();
        }
        tile = AttentionTilesAttr::get(ctx, blockQ, blockK);
        op->setAttr(decision::kTile, tile);
      }
      int64_t T = op.getQueryLen(), S = op.getKeyLen();
      int64_t br = tile.getQuery(), bc = tile.getKey();
      int64_t nQ = llvm::divideCeil(T, br), nK = llvm::divideCeil(S, bc);
      AttentionMask mask(T, S, op.getCausal(),
                         static_cast<int64_t>(op.getWindow().value_or(0)),
                         static_cast<int64_t>(op.getSinks().value_or(0)));
      if (DenseIntElementsAttr map = op.getBlockMapAttr()) {
        std::vector<bool> allowed;
        for (const APInt &bit : map.getValues<APInt>())
          allowed.push_back(!bit.isZero());
        ArrayRef<int64_t> sizes = *op.getBlockSize();
        mask.setBlockMap(std::move(allowed), sizes[0], sizes[1]);
      }
      SmallVector<int8_t> classes;
      classes.reserve(nQ * nK);
      for (int64_t i = 0; i < nQ; ++i)
        for (int64_t j = 0; j < nK; ++j) {
          TileClass c = mask.classify(i * br, std::min(T, (i + 1) * br), j * bc,
                                      std::min(S, (j + 1) * bc));
          classes.push_back(static_cast<int8_t>(c));
        }
      op->setAttr(decision::kTileClasses,
                  TileClassesAttr::get(ctx, nQ, nK, classes));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
