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
