//===- Tile.cpp - Tile sizes of kestrel ops for the cache -----------------===//
//
// Chooses Br × Bc for every kestrel.attention so that one tile's working set
// (Q, K, V tiles, the score tile and the accumulator, f32) stays in cache,
// and records it as `kestrel.tile = #kestrel.attention_tiles<...>`: the
// decision is visible in the IR and every later pass reads it from there. A
// block-sparse map caps the tile at its block sizes so that whole tiles can be
// skipped. Gated recurrences get their chunk length `#kestrel.chunk<C>`
// (clamped to T) for the chunked form. MoE layers get the register tile
// #kestrel.moe_register_tile<rows = MR, cols = NR> of their expert products, NR
// chosen so that the packed weight panels stay in cache.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Passes.h"

namespace kestrel {
#define GEN_PASS_DEF_TILE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

struct TilePass : kestrel::impl::TileBase<TilePass> {
  using Base::Base;

  void runOnOperation() override {
    if (blockQ < 0 || blockK < 0 || cacheKiB <= 0 || chunkSize <= 0) {
      getOperation().emitError("kestrel-tile: block sizes must be >= 0, "
                               "cache-kib and chunk-size > 0");
      return signalPassFailure();
    }
    if (moeRows <= 0 || moeCols < 0) {
      getOperation().emitError("kestrel-tile: moe-rows must be > 0 and "
                               "moe-cols >= 0");
      return signalPassFailure();
    }
    getOperation().walk([&](GatedRecurrenceOp op) {
      if (op->hasAttr(decision::kChunk) ||
          !op.getQuery().getType().hasStaticShape())
        return;
      int64_t chunk = std::min<int64_t>(chunkSize, op.getSeqLen());
      op->setAttr(decision::kChunk,
                  ChunkAttr::get(op.getContext(), std::max<int64_t>(chunk, 1)));
    });
    if (recurrencesOnly)
      return;
    if (denoiseLanes <= 0) {
      getOperation().emitError("kestrel-tile: denoise-lanes must be > 0");
      return signalPassFailure();
    }
    // Denoise steps: the vocabulary block of the fused one-pass form, the
    // entries read per vector step of each position's loop (the lanes of
    // its online max/sum/argmax), capped at the vocabulary.
    getOperation().walk([&](DenoiseStepOp op) {
      if (op->hasAttr(decision::kTile) ||
          !op.getLogits().getType().hasStaticShape())
        return;
      int64_t vocab = op.getLogits().getType().getDimSize(2);
      int64_t lanes = 1;
      while (lanes * 2 <= std::min<int64_t>(denoiseLanes, vocab))
        lanes *= 2;
      op->setAttr(decision::kTile, VocabBlockAttr::get(op.getContext(), lanes));
    });
    getOperation().walk([&](MoeOp op) {
      if (op->hasAttr(decision::kTile))
        return;
      // Register tile of the expert products (kestrel-moe-dispatch):
      // MR token rows × NR weight columns. NR: the widest of 16, 8, 4 whose
      // packed panels fit the budget: W1 and W3 panels (2 · d · NR f32) in
      // the up projection, the W2 panel (ff · NR f32) in the down one, each
      // reused from cache by every row tile of an expert.
      auto w1 = cast<RankedTensorType>(op.getW1().getType());
      int64_t d = w1.getDimSize(1), ff = w1.getDimSize(2);
      if (ShapedType::isDynamic(d) || ShapedType::isDynamic(ff))
        return;
      int64_t cols = 4;
      for (int64_t c : {16, 8, 4})
        if (4 * std::max(2 * d * c, ff * c) <= cacheKiB * 1024) {
          cols = c;
          break;
        }
      op->setAttr(decision::kTile,
                  MoeRegisterTileAttr::get(op.getContext(), moeRows,
                                           moeCols ? moeCols : cols));
    });
    getOperation().walk([&](AttentionOp op) {
      if (op->hasAttr(decision::kTile) ||
          !op.getQuery().getType().hasStaticShape() ||
          !op.getKey().getType().hasStaticShape())
        return;
      int64_t D = op.getHeadDim(), Dv = op.getValueDim();
      int64_t chosen = 16;
      for (int64_t b : {128, 64, 32, 16}) {
        int64_t bytes = 4 * (b * D + b * D + b * Dv + b * b + b * Dv);
        if (bytes <= cacheKiB * 1024) {
          chosen = b;
          break;
        }
      }
      int64_t br = blockQ ? blockQ : chosen, bc = blockK ? blockK : chosen;
      // With a block-sparse map, a tile no larger than a block can be
      // skipped or run unmasked as a whole; blocks under 16 would make
      // tiles too small to pay for their loop overhead.
      if (std::optional<ArrayRef<int64_t>> blocks = op.getBlockSize()) {
        if (!blockQ && (*blocks)[0] >= 16)
          br = std::min(br, (*blocks)[0]);
        if (!blockK && (*blocks)[1] >= 16)
          bc = std::min(bc, (*blocks)[1]);
      }
      br = std::min(br, op.getQueryLen());
      bc = std::min(bc, op.getKeyLen());
      op->setAttr(decision::kTile,
                  AttentionTilesAttr::get(op.getContext(), br, bc));
    });
  }
};

} // namespace
