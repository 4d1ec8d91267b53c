// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-specialize-sparsity{block-q=4 block-k=4}))" | FileCheck %s

// Causal, T = S = 16, 4×4 tiles: tiles above the diagonal are skipped,
// diagonal tiles are partial, tiles below are full.
// CHECK-LABEL: func @causal
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile = array<i64: 4, 4>
// CHECK-SAME: kestrel.tile_classes = dense<{{\[}}[2, 0, 0, 0], [1, 2, 0, 0], [1, 1, 2, 0], [1, 1, 1, 2]]> : tensor<4x4xi8>
// CHECK-SAME: kestrel.tile_counts = array<i64: 6, 6, 4>
func.func @causal(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = kestrel.attention %q, %q, %q causal : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// Sliding window 4 with 2 sinks over 24 positions: a band of partial tiles
// along the diagonal, the sink column partial, everything else skipped.
// CHECK-LABEL: func @window_sinks
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = dense<{{\[}}[2, 0, 0, 0, 0, 0], [2, 2, 0, 0, 0, 0], [2, 2, 2, 0, 0, 0], [2, 0, 2, 2, 0, 0], [2, 0, 0, 2, 2, 0], [2, 0, 0, 0, 2, 2]]> : tensor<6x6xi8>
// CHECK-SAME: kestrel.tile_counts = array<i64: 21, 0, 15>
func.func @window_sinks(%q: tensor<1x1x24x8xf32>) -> tensor<1x1x24x8xf32> {
  %o = kestrel.attention %q, %q, %q causal window = 4 sinks = 2 : tensor<1x1x24x8xf32>, tensor<1x1x24x8xf32>, tensor<1x1x24x8xf32> -> tensor<1x1x24x8xf32>
  return %o : tensor<1x1x24x8xf32>
}

// -----

// Decode with a cache: the single query (position 9 of 10) sees every key,
// including the ragged last tile.
// CHECK-LABEL: func @decode
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_classes = dense<1> : tensor<1x3xi8>
func.func @decode(%q: tensor<1x1x1x8xf32>, %k: tensor<1x1x10x8xf32>) -> tensor<1x1x1x8xf32> {
  %o = kestrel.attention %q, %k, %k causal {kestrel.tile = array<i64: 1, 4>} : tensor<1x1x1x8xf32>, tensor<1x1x10x8xf32>, tensor<1x1x10x8xf32> -> tensor<1x1x1x8xf32>
  return %o : tensor<1x1x1x8xf32>
}

// -----

// No mask: every tile is full.
// CHECK-LABEL: func @unmasked
// CHECK: kestrel.attention
// CHECK-SAME: kestrel.tile_counts = array<i64: 0, 4, 0>
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
// CHECK-SAME: kestrel.tile_classes = dense<{{\[}}[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1], [1, 0, 1, 1]]> : tensor<4x4xi8>
// CHECK-SAME: kestrel.tile_counts = array<i64: 2, 14, 0>
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
// CHECK-SAME: kestrel.tile_classes = dense<{{\[}}[2, 0, 0, 0], [0, 2, 0, 0], [1, 1, 2, 0], [1, 0, 1, 2]]> : tensor<4x4xi8>
// CHECK-SAME: kestrel.tile_counts = array<i64: 8, 4, 4>
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
// CHECK-SAME: kestrel.tile_classes = dense<{{\[}}[1, 0, 1, 1], [1, 0, 1, 1], [0, 0, 2, 1], [0, 0, 2, 1]]> : tensor<4x4xi8>
// CHECK-SAME: kestrel.tile_counts = array<i64: 6, 8, 2>
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
// CHECK-SAME: kestrel.tile_classes = dense<{{\[}}[2, 0, 0], [2, 2, 0], [2, 0, 2]]> : tensor<3x3xi8>
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
// CHECK-SAME: kestrel.tile_classes = dense<1> : tensor<2x2xi8>
func.func @key_lengths(%q: tensor<2x1x8x8xf32>, %len: tensor<2xi32>) -> tensor<2x1x8x8xf32> {
  %o = kestrel.attention %q, %q, %q key_lengths(%len : tensor<2xi32>) : tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32> -> tensor<2x1x8x8xf32>
  return %o : tensor<2x1x8x8xf32>
}
