// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-specialize-sparsity))" | FileCheck %s

// Token choice, N = 10, k = 2 of E = 8: at most N·k = 20 routed pairs, and
// any expert may receive all 10 tokens.
// CHECK-LABEL: func @token_choice
// CHECK: kestrel.moe {{.*}} {kestrel.moe_bounds = #kestrel.moe_bounds<pairs = 20, per_expert = 10>}
func.func @token_choice(%x: tensor<10x16xf32>, %i: tensor<10x2xi32>, %w: tensor<10x2xf32>,
    %w1: tensor<8x16x32xf32>, %w3: tensor<8x16x32xf32>, %w2: tensor<8x32x16xf32>) -> tensor<10x16xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      : tensor<10x16xf32>, tensor<10x2xi32>, tensor<10x2xf32>, tensor<8x16x32xf32>,
        tensor<8x16x32xf32>, tensor<8x32x16xf32> -> tensor<10x16xf32>
  return %y : tensor<10x16xf32>
}

// -----

// k = 6 > E = 4: a token reaches each expert at most once, so N·E = 40.
// CHECK-LABEL: func @k_above_e
// CHECK: kestrel.moe_bounds = #kestrel.moe_bounds<pairs = 40, per_expert = 10>
func.func @k_above_e(%x: tensor<10x16xf32>, %i: tensor<10x6xi64>, %w: tensor<10x6xf32>,
    %w1: tensor<4x16x32xf32>, %w3: tensor<4x16x32xf32>, %w2: tensor<4x32x16xf32>) -> tensor<10x16xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      : tensor<10x16xf32>, tensor<10x6xi64>, tensor<10x6xf32>, tensor<4x16x32xf32>,
        tensor<4x16x32xf32>, tensor<4x32x16xf32> -> tensor<10x16xf32>
  return %y : tensor<10x16xf32>
}

// -----

// Expert choice, [E, c] = [3, 12] over N = 9 tokens: c clamps to N, so at
// most 3·9 = 27 pairs and 9 tokens per expert.
// CHECK-LABEL: func @expert_choice
// CHECK: kestrel.moe_bounds = #kestrel.moe_bounds<pairs = 27, per_expert = 9>
func.func @expert_choice(%x: tensor<9x16xf32>, %i: tensor<3x12xi64>, %w: tensor<3x12xf32>,
    %w1: tensor<3x16x32xf32>, %w3: tensor<3x16x32xf32>, %w2: tensor<3x32x16xf32>) -> tensor<9x16xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) mode = expert_choice
      : tensor<9x16xf32>, tensor<3x12xi64>, tensor<3x12xf32>, tensor<3x16x32xf32>,
        tensor<3x16x32xf32>, tensor<3x32x16xf32> -> tensor<9x16xf32>
  return %y : tensor<9x16xf32>
}

// -----

// Dynamic token count: nothing is recorded.
// CHECK-LABEL: func @dynamic
// CHECK-NOT: kestrel.moe_bounds
func.func @dynamic(%x: tensor<?x16xf32>, %i: tensor<?x2xi32>, %w: tensor<?x2xf32>,
    %w1: tensor<4x16x32xf32>, %w3: tensor<4x16x32xf32>, %w2: tensor<4x32x16xf32>) -> tensor<?x16xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      : tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<4x16x32xf32>,
        tensor<4x16x32xf32>, tensor<4x32x16xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
