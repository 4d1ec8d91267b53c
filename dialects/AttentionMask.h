//===- AttentionMask.h - Static attention masks as integer sets -*- C++ -*-===//
//
// The statically known part of kestrel.attention's mask (causal with offset,
// sliding window, sinks, static block-sparse layout; docs/ops.md §1): per
// row, a union of at most two key intervals intersected with the row's
// allowed key blocks. Passes use it to decide, at compile time, which
// (query tile, key tile) pairs are skipped, fully visible or partial.
// Runtime masks (key_lengths) are not part of it: they can only hide more.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DIALECTS_ATTENTIONMASK_H
#define KESTREL_DIALECTS_ATTENTIONMASK_H

#include <algorithm>
#include <cstdint>
#include <vector>

namespace kestrel {

/// What a tile of the score matrix needs.
enum class TileClass : int8_t {
  Skip = 0,    // no visible key: not computed at all
  Full = 1,    // every key visible: no mask arithmetic
  Partial = 2, // mixed: masked element by element
};

class AttentionMask {
public:
  /// `window` = 0 means no window; `sinks` only matters with a window.
  AttentionMask(int64_t T, int64_t S, bool causal, int64_t window,
                int64_t sinks)
      : offset(S - T), S(S), causal(causal), window(window), sinks(sinks) {}

  /// Adds a block-sparse layout: `allowed` is the row-major
  /// [ceil(T / bq), ceil(S / bk)] block map; key s is visible from row t only
  /// if allowed[t / bq][s / bk].
  void setBlockMap(std::vector<bool> allowed, int64_t bq, int64_t bk) {
    blocks = std::move(allowed);
    blockQ = bq;
    blockK = bk;
    blockCols = (S + bk - 1) / bk;
  }

  /// Number of keys in [s0, s1) visible from query row t.
  int64_t visibleInRange(int64_t t, int64_t s0, int64_t s1) const {
    if (blocks.empty())
      return visibleInBand(t, s0, s1);
    // Sum over the key blocks that meet [s0, s1) and that row t may see.
    int64_t count = 0;
    const int64_t row = t / blockQ;
    for (int64_t j = s0 / blockK; j * blockK < s1; ++j)
      if (blocks[row * blockCols + j])
        count += visibleInBand(t, std::max(s0, j * blockK),
                               std::min(s1, (j + 1) * blockK));
    return count;
  }

private:
  /// visibleInRange under causal/window/sinks only.
  int64_t visibleInBand(int64_t t, int64_t s0, int64_t s1) const {
    if (!causal)
      return s1 - s0;
    int64_t last = std::min(t + offset, S - 1); // inclusive
    int64_t bandBegin =
        window > 0 ? std::max<int64_t>(last - window + 1, 0) : 0;
    // Sinks [0, min(sinks, bandBegin)) sit before the band; no double count.
    int64_t sinkEnd = window > 0 ? std::min(sinks, bandBegin) : 0;
    return overlap(0, sinkEnd, s0, s1) + overlap(bandBegin, last + 1, s0, s1);
  }

public:
  /// Classifies the tile of rows [t0, t1) and keys [s0, s1).
  TileClass classify(int64_t t0, int64_t t1, int64_t s0, int64_t s1) const {
    int64_t visible = 0;
    for (int64_t t = t0; t < t1; ++t)
      visible += visibleInRange(t, s0, s1);
    if (visible == 0)
      return TileClass::Skip;
    return visible == (t1 - t0) * (s1 - s0) ? TileClass::Full
                                            : TileClass::Partial;
  }

private:
  static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
    return std::max<int64_t>(0, std::min(a1, b1) - std::max(a0, b0));
  }

  int64_t offset, S;
  bool causal;
  int64_t window, sinks;
  std::vector<bool> blocks; // empty: no block-sparse layout
  int64_t blockQ = 1, blockK = 1, blockCols = 0;
};

} // namespace kestrel

#endif // KESTREL_DIALECTS_ATTENTIONMASK_H
