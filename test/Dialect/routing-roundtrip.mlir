// RUN: kestrel-opt %s | kestrel-opt | FileCheck %s

// Mixtral: softmax, top-2, renormalized; nothing optional printed.
// CHECK-LABEL: func @route_mixtral
// CHECK: kestrel.route %{{.*}} score = softmax k = 2 renormalize : tensor<16x8xbf16> -> tensor<16x2xi32>, tensor<16x2xbf16>
func.func @route_mixtral(%l: tensor<16x8xbf16>) -> (tensor<16x2xi32>, tensor<16x2xbf16>) {
  %i, %w = kestrel.route %l score = softmax k = 2 renormalize : tensor<16x8xbf16> -> tensor<16x2xi32>, tensor<16x2xbf16>
  return %i, %w : tensor<16x2xi32>, tensor<16x2xbf16>
}

// DeepSeek-V3: sigmoid, aux-loss-free bias, group-limited, f32 weights.
// CHECK-LABEL: func @route_deepseek
// CHECK: kestrel.route %{{.*}} score = sigmoid k = 8 selection_bias(%{{.*}} : tensor<256xf32>) renormalize n_groups = 8 topk_groups = 4 : tensor<4x256xbf16> -> tensor<4x8xi64>, tensor<4x8xf32>
func.func @route_deepseek(%l: tensor<4x256xbf16>, %b: tensor<256xf32>) -> (tensor<4x8xi64>, tensor<4x8xf32>) {
  %i, %w = kestrel.route %l score = sigmoid k = 8 selection_bias(%b : tensor<256xf32>) renormalize n_groups = 8 topk_groups = 4 : tensor<4x256xbf16> -> tensor<4x8xi64>, tensor<4x8xf32>
  return %i, %w : tensor<4x8xi64>, tensor<4x8xf32>
}

// Token choice with a capacity factor (Switch-style drop); k = E; the
// default mode spelled out is accepted.
// CHECK-LABEL: func @route_capacity
// CHECK: kestrel.route %{{.*}} score = softmax k = 4 capacity_factor = 1.250000e+00 mode = token_choice : tensor<32x4xf32>
func.func @route_capacity(%l: tensor<32x4xf32>) -> (tensor<32x4xi32>, tensor<32x4xf32>) {
  %i, %w = kestrel.route %l score = softmax k = 4 capacity_factor = 1.25 mode = token_choice : tensor<32x4xf32> -> tensor<32x4xi32>, tensor<32x4xf32>
  return %i, %w : tensor<32x4xi32>, tensor<32x4xf32>
}

// Expert choice, capacity from the factor: min(10, ceil(2.0 * 10 * 2 / 4)) = 10.
// CHECK-LABEL: func @route_expert_choice_factor
// CHECK: kestrel.route %{{.*}} score = softmax k = 2 capacity_factor = 2.000000e+00 mode = expert_choice : tensor<10x4xf16> -> tensor<4x10xi32>, tensor<4x10xf16>
func.func @route_expert_choice_factor(%l: tensor<10x4xf16>) -> (tensor<4x10xi32>, tensor<4x10xf16>) {
  %i, %w = kestrel.route %l score = softmax k = 2 capacity_factor = 2.0 mode = expert_choice : tensor<10x4xf16> -> tensor<4x10xi32>, tensor<4x10xf16>
  return %i, %w : tensor<4x10xi32>, tensor<4x10xf16>
}

// Expert choice with an explicit capacity.
// CHECK-LABEL: func @route_expert_choice_capacity
// CHECK: kestrel.route %{{.*}} score = sigmoid k = 1 mode = expert_choice capacity = 3 : tensor<10x4xf32> -> tensor<4x3xi64>, tensor<4x3xf32>
func.func @route_expert_choice_capacity(%l: tensor<10x4xf32>) -> (tensor<4x3xi64>, tensor<4x3xf32>) {
  %i, %w = kestrel.route %l score = sigmoid k = 1 mode = expert_choice capacity = 3 : tensor<10x4xf32> -> tensor<4x3xi64>, tensor<4x3xf32>
  return %i, %w : tensor<4x3xi64>, tensor<4x3xf32>
}

// Dynamic token count (the reference lowering needs it specialized first).
// CHECK-LABEL: func @route_dynamic
// CHECK: kestrel.route %{{.*}} score = softmax k = 2 : tensor<?x8xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
func.func @route_dynamic(%l: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>) {
  %i, %w = kestrel.route %l score = softmax k = 2 : tensor<?x8xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
  return %i, %w : tensor<?x2xi32>, tensor<?x2xf32>
}

// MoE without shared experts.
// CHECK-LABEL: func @moe_routed
// CHECK: kestrel.moe %{{.*}}, %{{.*}}, %{{.*}} experts(%{{.*}}, %{{.*}}, %{{.*}}) : tensor<16x64xbf16>, tensor<16x2xi32>, tensor<16x2xf32>, tensor<8x64x32xbf16>, tensor<8x64x32xbf16>, tensor<8x32x64xbf16> -> tensor<16x64xbf16>
func.func @moe_routed(%x: tensor<16x64xbf16>, %i: tensor<16x2xi32>, %w: tensor<16x2xf32>, %w1: tensor<8x64x32xbf16>, %w3: tensor<8x64x32xbf16>, %w2: tensor<8x32x64xbf16>) -> tensor<16x64xbf16> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<16x64xbf16>, tensor<16x2xi32>, tensor<16x2xf32>, tensor<8x64x32xbf16>, tensor<8x64x32xbf16>, tensor<8x32x64xbf16> -> tensor<16x64xbf16>
  return %y : tensor<16x64xbf16>
}

// MoE with shared experts, routed by expert choice.
// CHECK-LABEL: func @moe_shared_expert_choice
// CHECK: kestrel.moe %{{.*}}, %{{.*}}, %{{.*}} experts(%{{.*}}, %{{.*}}, %{{.*}}) shared(%{{.*}}, %{{.*}}, %{{.*}} : tensor<64x128xf32>, tensor<64x128xf32>, tensor<128x64xf32>) mode = expert_choice : tensor<16x64xf32>, tensor<8x4xi64>, tensor<8x4xf32>
func.func @moe_shared_expert_choice(%x: tensor<16x64xf32>, %i: tensor<8x4xi64>, %w: tensor<8x4xf32>, %w1: tensor<8x64x32xf32>, %w3: tensor<8x64x32xf32>, %w2: tensor<8x32x64xf32>, %s1: tensor<64x128xf32>, %s3: tensor<64x128xf32>, %s2: tensor<128x64xf32>) -> tensor<16x64xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) shared(%s1, %s3, %s2 : tensor<64x128xf32>, tensor<64x128xf32>, tensor<128x64xf32>) mode = expert_choice : tensor<16x64xf32>, tensor<8x4xi64>, tensor<8x4xf32>, tensor<8x64x32xf32>, tensor<8x64x32xf32>, tensor<8x32x64xf32> -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// ONNX TopK: largest is the default and not printed.
// CHECK-LABEL: func @top_k
// CHECK: kestrel.top_k %{{.*}} {axis = 1 : i64, k = 2 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
// CHECK: kestrel.top_k %{{.*}} {axis = 0 : i64, k = 3 : i64, largest = false} : tensor<5x2xi32> -> tensor<3x2xi32>, tensor<3x2xi64>
func.func @top_k(%x: tensor<4x8xf32>, %y: tensor<5x2xi32>) -> (tensor<4x2xf32>, tensor<4x2xi64>, tensor<3x2xi32>, tensor<3x2xi64>) {
  %v, %i = kestrel.top_k %x {k = 2 : i64, axis = 1 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  %w, %j = kestrel.top_k %y {k = 3 : i64, axis = 0 : i64, largest = false} : tensor<5x2xi32> -> tensor<3x2xi32>, tensor<3x2xi64>
  return %v, %i, %w, %j : tensor<4x2xf32>, tensor<4x2xi64>, tensor<3x2xi32>, tensor<3x2xi64>
}
