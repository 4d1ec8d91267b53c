// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-route | FileCheck %s

// Softmax top-2 over 8 experts, 100 tokens: one warp per token, 4 per
// block (25 blocks of 128 threads); the row max and sum by 5 xor shuffles
// each, then per selected expert a warp argmax of (key, expert, score),
// renormalized; lane 0 stores indices and weights.
// CHECK-LABEL: func.func @softmax_top2
// CHECK-NOT: kestrel.route
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c25, {{.*}}) threads({{.*}}) in ({{.*}} = %c128,
// CHECK: gpu.shuffle  xor {{.*}}, %c16_i32{{.*}} : f32
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: gpu.shuffle  xor {{.*}} : i32
// CHECK: arith.divf
// CHECK: memref.store {{.*}} : memref<100x2xi32>
// CHECK: memref.store {{.*}} : memref<100x2xf32>
func.func @softmax_top2(%l: tensor<100x8xf32>) -> (tensor<100x2xi32>, tensor<100x2xf32>) {
  %i, %w = kestrel.route %l score = softmax k = 2 renormalize
      : tensor<100x8xf32> -> tensor<100x2xi32>, tensor<100x2xf32>
  return %i, %w : tensor<100x2xi32>, tensor<100x2xf32>
}

// -----

// Sigmoid scores with a selection bias over 64 experts (two per lane), i64
// indices and bf16 weights.
// CHECK-LABEL: func.func @sigmoid_bias
// CHECK: gpu.launch
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: memref.load {{.*}} : memref<64xf32>
// CHECK: arith.extsi {{.*}} : i32 to i64
// CHECK: arith.truncf {{.*}} : f32 to bf16
func.func @sigmoid_bias(%l: tensor<64x64xbf16>, %b: tensor<64xf32>) -> (tensor<64x6xi64>, tensor<64x6xbf16>) {
  %i, %w = kestrel.route %l score = sigmoid k = 6 selection_bias(%b : tensor<64xf32>) renormalize
      : tensor<64x64xbf16> -> tensor<64x6xi64>, tensor<64x6xbf16>
  return %i, %w : tensor<64x6xi64>, tensor<64x6xbf16>
}

// -----

// Group-limited routing keeps the reference lowering.
// CHECK-LABEL: func.func @groups_stay
// CHECK: kestrel.route
// CHECK-NOT: gpu.launch
func.func @groups_stay(%l: tensor<16x64xf32>) -> (tensor<16x4xi32>, tensor<16x4xf32>) {
  %i, %w = kestrel.route %l score = sigmoid k = 4 n_groups = 8 topk_groups = 2
      : tensor<16x64xf32> -> tensor<16x4xi32>, tensor<16x4xf32>
  return %i, %w : tensor<16x4xi32>, tensor<16x4xf32>
}
