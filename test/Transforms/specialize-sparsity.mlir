// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-specialize-sparsity{block-q=4 block-k=4}))" | FileCheck %s

// Causal, T = S = 16, 4×4 tiles: tiles above the diagonal are skipped,
// diagonal tiles are partial, tiles below are full.
// CHECK-LABEL: func @causal
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile = #kestrel.attention_tiles<query = 4, key = 4>
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{\[}}"p...", "fp..", "ffp.", "fffp"], skipped = 6, full = 6, partial = 4>
func.func @causal(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = kestrel.attention %q, %q, %q causal : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// Sliding window 4 with 2 sinks over 24 positions: a band of partial tiles
// along the diagonal, the sink column partial, everything else skipped.
// CHECK-LABEL: func @window_sinks
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{\[}}"p.....", "pp....", "ppp...", "p.pp..", "p..pp.", "p...pp"], skipped = 21, full = 0, partial = 15>
func.func @window_sinks(%q: tensor<1x1x24x8xf32>) -> tensor<1x1x24x8xf32> {
  %o = kestrel.attention %q, %q, %q causal window = 4 sinks = 2 : tensor<1x1x24x8xf32>, tensor<1x1x24x8xf32>, tensor<1x1x24x8xf32> -> tensor<1x1x24x8xf32>
  return %o : tensor<1x1x24x8xf32>
}

// -----

// Decode with a cache: the single query (position 9 of 10) sees every key,
// including the ragged last tile.
// CHECK-LABEL: func @decode
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{\[}}"fff"], skipped = 0, full = 3, partial = 0>
func.func @decode(%q: tensor<1x1x1x8xf32>, %k: tensor<1x1x10x8xf32>) -> tensor<1x1x1x8xf32> {
  %o = kestrel.attention %q, %k, %k causal {kestrel.tile = #kestrel.attention_tiles<query = 1, key = 4>} : tensor<1x1x1x8xf32>, tensor<1x1x10x8xf32>, tensor<1x1x10x8xf32> -> tensor<1x1x1x8xf32>
  return %o : tensor<1x1x1x8xf32>
}

// -----

// No mask: every tile is full.
// CHECK-LABEL: func @unmasked
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{.*}}, skipped = 0, full = 4, partial = 0>
func.func @unmasked(%q: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %o = kestrel.attention %q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32> -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}

// -----

// Block-sparse map alone (local band + global first block row and column,
// Longformer style), tiles equal to the 4×4 blocks: the classes are the map
// itself, 1 (full: no mask arithmetic) where a block is allowed and 0
// (skipped) where it is not.
// CHECK-LABEL: func @longformer
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{\[}}"ffff", "fff.", "ffff", "f.ff"], skipped = 2, full = 14, partial = 0>
func.func @longformer(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = kestrel.attention %q, %q, %q block_size = [4, 4]
      block_map = dense<[[true, true, true, true], [true, true, true, false], [true, true, true, true], [true, false, true, true]]> : tensor<4x4xi1>
      : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// Block map composed with causality: a tile is visited only if both allow
// it. Diagonal tiles stay partial; below the diagonal, allowed blocks are
// full and disallowed ones skipped; above it everything is skipped even
// where the map says true.
// CHECK-LABEL: func @causal_block_map
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{\[}}"p...", ".p..", "ffp.", "f.fp"], skipped = 8, full = 4, partial = 4>
func.func @causal_block_map(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = kestrel.attention %q, %q, %q causal block_size = [4, 4]
      block_map = dense<[[true, true, false, false], [false, true, false, true], [true, true, true, false], [true, false, true, true]]> : tensor<4x4xi1>
      : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// Tiles (4×4) that do not match the blocks (8×2): a tile whose keys span an
// allowed and a disallowed block is partial (tiles (2, 2) and (3, 2): key
// blocks 4 = true and 5 = false); the others are full or skipped.
// CHECK-LABEL: func @unaligned_blocks
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{\[}}"f.ff", "f.ff", "..pf", "..pf"], skipped = 6, full = 8, partial = 2>
func.func @unaligned_blocks(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = kestrel.attention %q, %q, %q block_size = [8, 2]
      block_map = dense<[[true, true, false, false, true, true, true, true], [false, false, false, false, true, false, true, true]]> : tensor<2x8xi1>
      : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// Ragged blocks and tiles (T = S = 10, blocks 3×4, tiles 4×4), with sinks:
// counts are exact per element.
// CHECK-LABEL: func @ragged_window_sinks
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{\[}}"p..", "pp.", "p.p"], skipped = 4, full = 0, partial = 5>
func.func @ragged_window_sinks(%q: tensor<1x1x10x8xf32>) -> tensor<1x1x10x8xf32> {
  %o = kestrel.attention %q, %q, %q causal window = 3 sinks = 1 block_size = [3, 4]
      block_map = dense<[[true, true, true], [true, true, true], [true, false, true], [true, false, true]]> : tensor<4x3xi1>
      : tensor<1x1x10x8xf32>, tensor<1x1x10x8xf32>, tensor<1x1x10x8xf32> -> tensor<1x1x10x8xf32>
  return %o : tensor<1x1x10x8xf32>
}

// -----

// Runtime key lengths do not change the static classes: full tiles are
// re-checked against the length at run time by kestrel-fuse-io-aware.
// CHECK-LABEL: func @key_lengths
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = #kestrel.tile_classes<{{\[}}"ff", "ff"], skipped = 0, full = 4, partial = 0>
func.func @key_lengths(%q: tensor<2x1x8x8xf32>, %len: tensor<2xi32>) -> tensor<2x1x8x8xf32> {
  %o = kestrel.attention %q, %q, %q key_lengths(%len : tensor<2xi32>) : tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32> -> tensor<2x1x8x8xf32>
  return %o : tensor<2x1x8x8xf32>
}
