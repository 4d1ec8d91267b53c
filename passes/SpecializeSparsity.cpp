//===- SpecializeSparsity.cpp - Static tile classification ----------------===//
//
// For every tiled kestrel.attention, decides at compile time which
// (query tile, key tile) pairs see no key (skipped), see every key (full:
// no mask arithmetic) or need the mask (partial), from the op's static mask
// (causal/window/sinks and the block-sparse map; AttentionMask.h). The
// classes are recorded in the IR as a dense i8 table, which is what
// kestrel-fuse-io-aware specializes on and what tests check. Runtime key
// lengths can only hide more keys: fuse-io-aware refines "full" at run time.
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

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](AttentionOp op) {
      if (!op.getQuery().getType().hasStaticShape() ||
          !op.getKey().getType().hasStaticShape())
        return WalkResult::advance();
      MLIRContext *ctx = op.getContext();
      auto tile = op->getAttrOfType<DenseI64ArrayAttr>("kestrel.tile");
      if (!tile) {
        if (blockQ <= 0 || blockK <= 0) {
          op.emitError("kestrel-specialize-sparsity: block-q and block-k must "
                       "be positive");
          return WalkResult::interrupt();
        }
        tile = DenseI64ArrayAttr::get(ctx, {blockQ, blockK});
        op->setAttr("kestrel.tile", tile);
      }
      if (tile.size() != 2 || tile[0] <= 0 || tile[1] <= 0) {
        op.emitError("kestrel.tile must hold two positive sizes, got ")
            << tile;
        return WalkResult::interrupt();
      }
      int64_t T = op.getQueryLen(), S = op.getKeyLen();
      int64_t br = tile[0], bc = tile[1];
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
      int64_t counts[3] = {0, 0, 0};
      for (int64_t i = 0; i < nQ; ++i)
        for (int64_t j = 0; j < nK; ++j) {
          TileClass c = mask.classify(i * br, std::min(T, (i + 1) * br),
                                      j * bc, std::min(S, (j + 1) * bc));
          classes.push_back(static_cast<int8_t>(c));
          ++counts[static_cast<int>(c)];
        }
      auto type = RankedTensorType::get({nQ, nK}, IntegerType::get(ctx, 8));
      op->setAttr("kestrel.tile_classes",
                  DenseElementsAttr::get(type, ArrayRef<int8_t>(classes)));
      op->setAttr("kestrel.tile_counts",
                  DenseI64ArrayAttr::get(ctx, {counts[0], counts[1], counts[2]}));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
