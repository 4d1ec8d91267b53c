//===- FlashTileWalk.h - Key tiles a flash attention block visits -*- C++
//-*-===//
//
// What the tensor-core (FlashKernel) and the f32 SIMT (FlashSimtKernel)
// attention kernels share: the op's shape and masks, which key tiles one
// query tile of `tileRows` rows visits (sink tiles first, then the
// causal/window band, or a compile-time visit list for block-sparse maps),
// which of them straddle a mask edge, and the per-score visibility rule of
// docs/ops.md ("Visibility"). FlashTileWalk.cpp emits it.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_FLASHTILEWALK_H
#define KESTREL_PASSES_CUDA_FLASHTILEWALK_H

#include "dialects/Kestrel.h"
#include "passes/Common/IRBuilder.h"

#include <optional>

namespace kestrel::cuda {

using namespace mlir;

constexpr double kLog2e = 1.4426950408889634;

/// Block-sparse visit tables in global memory (null without a block map).
struct VisitTables {
  Value visits, counts, blockMap;
};

/// Classifies every (query tile, key tile) pair of a block-sparse `op` at
/// compile time -- skipped, full or partial, exactly as
/// kestrel-specialize-sparsity does (AttentionMask.h) -- and builds, before
/// `b`'s insertion point, per query tile the key tiles to visit with a
/// needs-mask bit ([query tiles, max visits] i32, entry = 2 * key tile +
/// needs-mask), the row lengths ([query tiles] i32) and the block map as i8.
/// Returns null tables for ops without a block map.
VisitTables buildVisitTables(OpBuilder &b, Location loc, AttentionOp op,
                             int64_t tileRows, int64_t tileKeys);

class FlashTileWalk : protected IREmitter {
public:
  FlashTileWalk(OpBuilder &b, Location loc, AttentionOp op, int64_t tileRows,
                int64_t tileKeys);

  void setBlockSparse(const VisitTables &tables) {
    visits = tables.visits;
    counts = tables.counts;
    blockMap = tables.blockMap;
  }

protected:
  /// 2^x with ex2.approx.ftz: one MUFU instruction. (math.exp2 becomes
  /// libdevice's __nv_exp2f, which adds denormal scaling around it; softmax
  /// weights below 2^-126 are negligible next to the row sum, which is >= 1.)
  Value exp2(Value x);
  /// Whether query `row` sees key `key` (both absolute).
  Value visible(Value row, Value key);
  /// Sets bandLo and sinkTiles for the query tile at `tileRow0` and returns
  /// the number of key tiles to visit.
  Value visitCount();
  /// The key tile visited at step `i`: tiles [0, sinkTiles), then tiles
  /// from `bandLo` on (or the visit list's entry).
  Value tileOf(Value i);
  /// Whether some score of `keyTile` may be masked for this query tile.
  Value needsMask(Value keyTile);
  /// Block-sparse ops: the visit table's needs-mask bit of step `i`.
  Value visitNeedsMask(Value i);
  /// needsMask or visitNeedsMask, as the op needs.
  Value stepNeedsMask(Value i, Value keyTile) {
    return visits ? visitNeedsMask(i) : needsMask(keyTile);
  }
  /// Whether no key tile can ever need a mask (no causal mask, S a tile
  /// multiple, no block map).
  bool neverMasked() const { return !causal && S % tileKeys == 0 && !visits; }
  void ifThen(Value cond, llvm::function_ref<void()> body);

  int64_t tileRows, tileKeys;
  Type elem;
  int64_t B, H, Hkv, T, S, D, Dv, window, sinks;
  bool causal;
  double scale;
  std::optional<double> softcap;
  int64_t blockQ = 0, blockK = 0;

  // Set by the kernel before the walk: the query tile and its first row.
  Value queryTile, tileRow0;
  // Set by visitCount().
  Value bandLo, sinkTiles;
  // Block-sparse ops only (null otherwise).
  Value visits, counts, blockMap;
};

} // namespace kestrel::cuda

#endif // KESTREL_PASSES_CUDA_FLASHTILEWALK_H
