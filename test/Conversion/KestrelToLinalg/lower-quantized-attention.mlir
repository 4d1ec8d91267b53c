// RUN: kestrel-opt %s --kestrel-lower-to-linalg | FileCheck %s

// K is centred over tokens, Q and K are rounded to their per-block int8
// grids (blocks viewed through expand_shape, half-to-even rounding clamped
// to ±127), and the dequantized tensors go through plain attention.
// CHECK-LABEL: func @smooth
// CHECK-NOT: kestrel.
// CHECK-DAG: arith.constant -1.270000e+02 : f32
// CHECK-DAG: arith.constant 1.270000e+02 : f32
// CHECK: arith.subf
// CHECK: tensor.expand_shape {{.*}} into tensor<1x4x4x4x8xf32>
// CHECK: math.absf
// CHECK: math.roundeven
// CHECK: tensor.expand_shape {{.*}} into tensor<1x2x2x8x8xf32>
// CHECK: math.roundeven
// CHECK: math.exp
func.func @smooth(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = kestrel.quantized_attention %q, %k, %k causal smooth_k block_q = 4 block_k = 8 : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}
