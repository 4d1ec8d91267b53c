// RUN: kestrel-opt %s --split-input-file | FileCheck %s
// RUN: kestrel-opt %s --split-input-file | kestrel-opt --split-input-file | FileCheck %s

// The decisions passes record (DecisionAttrs.td) print in readable form
// and parse back to the same attributes.

// CHECK-LABEL: func @attention
// CHECK: kestrel.attention {{.*}} {kestrel.tile = #kestrel.attention_tiles<query = 8, key = 4>, kestrel.tile_classes = #kestrel.tile_classes<["pp..", "ffpp"], skipped = 2, full = 2, partial = 4>}
func.func @attention(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = kestrel.attention %q, %q, %q causal {kestrel.tile = #kestrel.attention_tiles<query = 8, key = 4>, kestrel.tile_classes = #kestrel.tile_classes<["pp..", "ffpp"], skipped = 2, full = 2, partial = 4>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// CHECK-LABEL: func @moe
// CHECK: kestrel.moe {{.*}} {kestrel.moe_bounds = #kestrel.moe_bounds<pairs = 8, per_expert = 0>, kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 16>}
func.func @moe(%x: tensor<4x16xf32>, %i: tensor<4x2xi32>, %w: tensor<4x2xf32>,
    %w1: tensor<4x16x32xf32>, %w3: tensor<4x16x32xf32>, %w2: tensor<4x32x16xf32>) -> tensor<4x16xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) {kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 16>, kestrel.moe_bounds = #kestrel.moe_bounds<pairs = 8, per_expert = 0>}
      : tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x16x32xf32>,
        tensor<4x16x32xf32>, tensor<4x32x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func @recurrence_and_denoise
// CHECK: kestrel.gated_recurrence {{.*}} {kestrel.chunk = #kestrel.chunk<4>}
// CHECK: kestrel.denoise_step {{.*}} {kestrel.tile = #kestrel.vocab_block<8>}
// CHECK: scf.for {{.*}} {
// CHECK: } {kestrel.moe_pack, kestrel.moe_stage = #kestrel.moe_stage<shared_up>}
func.func @recurrence_and_denoise(%q: tensor<1x1x4x8xf32>, %l: tensor<1x4x20xf32>, %t: tensor<1x4xi64>) -> (tensor<1x1x4x8xf32>, tensor<1x4xi64>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = none {kestrel.chunk = #kestrel.chunk<4>}
      : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 1 {kestrel.tile = #kestrel.vocab_block<8>}
      : tensor<1x4x20xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c1 step %c1 {
  } {kestrel.moe_pack, kestrel.moe_stage = #kestrel.moe_stage<shared_up>}
  return %o, %n : tensor<1x1x4x8xf32>, tensor<1x4xi64>
}
