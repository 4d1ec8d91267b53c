// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile))" | FileCheck %s
// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile{cache-kib=64}))" | FileCheck %s --check-prefix=SMALL
// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile{moe-rows=4 moe-cols=8}))" | FileCheck %s --check-prefix=FORCED

// Mixtral-sized experts, d = 1024, ff = 2816: with NR = 16 the W1 + W3
// panels take 2·1024·16·4 = 128 KiB and the W2 panel 2816·16·4 = 176 KiB,
// within the default 256 KiB; 64 KiB only fits NR = 4 (W2: 44 KiB; NR = 8
// would need 88 KiB).
// CHECK-LABEL: func @mixtral
// CHECK: kestrel.moe {{.*}} {kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 16>}
// SMALL-LABEL: func @mixtral
// SMALL: kestrel.moe {{.*}} {kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 4>}
// FORCED-LABEL: func @mixtral
// FORCED: kestrel.moe {{.*}} {kestrel.tile = #kestrel.moe_register_tile<rows = 4, cols = 8>}
func.func @mixtral(%x: tensor<4x1024xf32>, %i: tensor<4x2xi32>, %w: tensor<4x2xf32>,
    %w1: tensor<8x1024x2816xf32>, %w3: tensor<8x1024x2816xf32>, %w2: tensor<8x2816x1024xf32>) -> tensor<4x1024xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      : tensor<4x1024xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<8x1024x2816xf32>,
        tensor<8x1024x2816xf32>, tensor<8x2816x1024xf32> -> tensor<4x1024xf32>
  return %y : tensor<4x1024xf32>
}

// -----

// Small experts fit at NR = 16 under both budgets; a tile already recorded
// is kept.
// CHECK-LABEL: func @small
// CHECK: kestrel.moe {{.*}} {kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 16>}
// CHECK: kestrel.moe {{.*}} {kestrel.tile = #kestrel.moe_register_tile<rows = 2, cols = 4>}
// SMALL-LABEL: func @small
// SMALL: kestrel.moe {{.*}} {kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 16>}
func.func @small(%x: tensor<4x64xf32>, %i: tensor<4x2xi32>, %w: tensor<4x2xf32>,
    %w1: tensor<4x64x96xf32>, %w3: tensor<4x64x96xf32>, %w2: tensor<4x96x64xf32>) -> (tensor<4x64xf32>, tensor<4x64xf32>) {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      : tensor<4x64xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x64x96xf32>,
        tensor<4x64x96xf32>, tensor<4x96x64xf32> -> tensor<4x64xf32>
  %z = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) {kestrel.tile = #kestrel.moe_register_tile<rows = 2, cols = 4>}
      : tensor<4x64xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x64x96xf32>,
        tensor<4x64x96xf32>, tensor<4x96x64xf32> -> tensor<4x64xf32>
  return %y, %z : tensor<4x64xf32>, tensor<4x64xf32>
}
