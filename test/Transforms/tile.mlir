// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile))" | FileCheck %s
// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile{cache-kib=64}))" | FileCheck %s --check-prefix=SMALL
// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile{block-q=32 block-k=16}))" | FileCheck %s --check-prefix=FORCED

// D = 64: a 128×128 tile needs 4·(3·128·64 + 128·128 + 128·64) = 256 KiB,
// which fits the default budget; 64 KiB only fits 64×64 (80 KiB does not:
// the next size down, 32×32, is chosen).
// CHECK-LABEL: func @prefill
// CHECK: kestrel.tile = #kestrel.attention_tiles<query = 128, key = 128>
// SMALL-LABEL: func @prefill
// SMALL: kestrel.tile = #kestrel.attention_tiles<query = 32, key = 32>
// FORCED-LABEL: func @prefill
// FORCED: kestrel.tile = #kestrel.attention_tiles<query = 32, key = 16>
func.func @prefill(%q: tensor<1x4x512x64xf32>, %k: tensor<1x4x512x64xf32>, %v: tensor<1x4x512x64xf32>) -> tensor<1x4x512x64xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x4x512x64xf32>, tensor<1x4x512x64xf32>, tensor<1x4x512x64xf32> -> tensor<1x4x512x64xf32>
  return %o : tensor<1x4x512x64xf32>
}

// -----

// Decode: the query tile is clamped to T = 1.
// CHECK-LABEL: func @decode
// CHECK: kestrel.tile = #kestrel.attention_tiles<query = 1, key = 128>
func.func @decode(%q: tensor<1x4x1x64xf32>, %k: tensor<1x4x512x64xf32>, %v: tensor<1x4x512x64xf32>) -> tensor<1x4x1x64xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x4x1x64xf32>, tensor<1x4x512x64xf32>, tensor<1x4x512x64xf32> -> tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}

// -----

// A tile chosen earlier is kept.
// CHECK-LABEL: func @kept
// CHECK: kestrel.tile = #kestrel.attention_tiles<query = 8, key = 8>
func.func @kept(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = kestrel.attention %q, %q, %q {kestrel.tile = #kestrel.attention_tiles<query = 8, key = 8>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// A block map with 32×64 blocks caps the 128×128 tile at the blocks;
// blocks under 16 do not shrink tiles; explicit sizes win.
// CHECK-LABEL: func @block_map
// CHECK: kestrel.tile = #kestrel.attention_tiles<query = 32, key = 64>
// CHECK: kestrel.tile = #kestrel.attention_tiles<query = 128, key = 128>
// FORCED-LABEL: func @block_map
// FORCED: kestrel.tile = #kestrel.attention_tiles<query = 32, key = 16>
// FORCED: kestrel.tile = #kestrel.attention_tiles<query = 32, key = 16>
func.func @block_map(%q: tensor<1x1x256x64xf32>) -> (tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>) {
  %o = kestrel.attention %q, %q, %q block_size = [32, 64] block_map = dense<true> : tensor<8x4xi1>
      : tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x256x64xf32>
  %p = kestrel.attention %q, %q, %q block_size = [8, 8] block_map = dense<true> : tensor<32x32xi1>
      : tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x256x64xf32>
  return %o, %p : tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>
}
