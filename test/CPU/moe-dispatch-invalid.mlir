// RUN: kestrel-opt %s --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(func.func(kestrel-moe-dispatch))"

func.func @bad_tile(%x: tensor<4x16xf32>, %i: tensor<4x2xi32>, %w: tensor<4x2xf32>,
    %w1: tensor<4x16x32xf32>, %w3: tensor<4x16x32xf32>, %w2: tensor<4x32x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{#kestrel.moe_register_tile: rows must be positive, got 0}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) {kestrel.tile = #kestrel.moe_register_tile<rows = 0, cols = 16>}
      : tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x16x32xf32>,
        tensor<4x16x32xf32>, tensor<4x32x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @bad_bounds(%x: tensor<4x16xf32>, %i: tensor<4x2xi32>, %w: tensor<4x2xf32>,
    %w1: tensor<4x16x32xf32>, %w3: tensor<4x16x32xf32>, %w2: tensor<4x32x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kestrel.moe' op cannot carry kestrel.moe_bounds = array<i64: 8>: expected #kestrel.moe_bounds<...> on a kestrel.moe}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) {kestrel.moe_bounds = array<i64: 8>}
      : tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x16x32xf32>,
        tensor<4x16x32xf32>, tensor<4x32x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
