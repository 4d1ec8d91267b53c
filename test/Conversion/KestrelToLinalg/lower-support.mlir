// RUN: kestrel-opt %s --kestrel-lower-to-linalg --split-input-file | FileCheck %s

// rms_norm: a row reduction of x² in f32, then one elementwise generic that
// divides by sqrt(ss/N + eps), multiplies by w and narrows to bf16 once.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[FEAT:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @rms_norm_bf16
// CHECK-NOT: kestrel.rms_norm
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: outs(%{{.*}} : tensor<2xf32>)
// CHECK:   arith.extf %{{.*}} : bf16 to f32
// CHECK:   arith.mulf
// CHECK:   arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[FEAT]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK:   arith.divf %{{.*}}, %[[N:.*]] : f32
// CHECK:   math.sqrt
// CHECK:   arith.divf
// CHECK:   arith.mulf
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
func.func @rms_norm_bf16(%x: tensor<2x8xbf16>, %w: tensor<8xbf16>) -> tensor<2x8xbf16> {
  %y = kestrel.rms_norm %x, %w eps = 1.0e-6 : tensor<2x8xbf16>, tensor<8xbf16> -> tensor<2x8xbf16>
  return %y : tensor<2x8xbf16>
}

// -----

// rope, rotate-half with partial rotary_dim 8 of 16 and offset 3: the
// partner of d is d ± 4, features d >= 8 are selected unchanged. Without
// positions the angles θ(t, i) = (3 + t) · 10000^(-i/4) are tables [T, 4]:
// cos θ(0, 0) = cos 3 = -0.98999, cos θ(0, 1) = cos 0.3 = 0.95534,
// sin θ(0, 0) = sin 3 = 0.14112, sin θ(1, 0) = sin 4 = -0.75680.
// CHECK-LABEL: func @rope_rotate_half_partial
// CHECK-DAG: %[[COS:.*]] = arith.constant dense<{{\[}}[-0.98999{{[0-9]*}}, 0.95533{{[0-9]*}}, {{.*}}> : tensor<4x4xf32>
// CHECK-DAG: %[[SIN:.*]] = arith.constant dense<{{\[}}[1.41{{[0-9]*}}e-01, {{.*}}], [-0.75680{{[0-9]*}}, {{.*}}> : tensor<4x4xf32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK:   %[[D:.*]] = linalg.index 3
// CHECK:   arith.cmpi slt, %[[D]], %c8
// CHECK:   arith.cmpi slt, %[[D]], %c4
// CHECK:   tensor.extract %arg0
// CHECK:   %[[T:.*]] = linalg.index 2
// CHECK:   tensor.extract %[[COS]][%[[T]], %{{.*}}]
// CHECK:   tensor.extract %[[SIN]][%[[T]], %{{.*}}]
// CHECK-NOT: math.
// CHECK:   arith.select
func.func @rope_rotate_half_partial(%x: tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32> {
  %y = kestrel.rope %x rotary_dim = 8 offset = 3 : tensor<1x2x4x16xf32> -> tensor<1x2x4x16xf32>
  return %y : tensor<1x2x4x16xf32>
}

// -----

// Interleaved pairs (2i, 2i+1): parity picks the member, d / 2 the pair;
// explicit positions are read at [b, t] and the angle is computed in the
// loop (exponent -2 ln(10000) / 8 = -2.30258512).
// CHECK-DAG: #[[POS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2)>
// CHECK-LABEL: func @rope_interleaved_positions
// CHECK: arith.constant -2.30258512 : f32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[POS]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<2x2x4x8xf16>, tensor<2x4xi64>)
// CHECK:   arith.remui
// CHECK:   arith.divui
// CHECK:   tensor.extract
// CHECK:   arith.sitofp %{{.*}} : i64 to f32
// CHECK:   math.exp
// CHECK:   math.cos
// CHECK:   math.sin
// CHECK:   arith.truncf %{{.*}} : f32 to f16
func.func @rope_interleaved_positions(%x: tensor<2x2x4x8xf16>, %p: tensor<2x4xi64>) -> tensor<2x2x4x8xf16> {
  %y = kestrel.rope %x positions(%p : tensor<2x4xi64>) interleaved : tensor<2x2x4x8xf16> -> tensor<2x2x4x8xf16>
  return %y : tensor<2x2x4x8xf16>
}

// -----

// gated_mlp: x W1 and x W3 as f32 matmul generics, silu(a) · g elementwise
// in f32, h W2, then one narrowing to the storage type.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @gated_mlp_bf16
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%{{.*}} : tensor<4x32xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%{{.*}} : tensor<4x32xf32>)
// CHECK: linalg.generic
// CHECK:   arith.negf
// CHECK:   math.exp
// CHECK:   arith.divf
// CHECK:   arith.mulf
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]]
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<4x32xf32>, tensor<32x16xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @gated_mlp_bf16(%x: tensor<4x16xbf16>, %w1: tensor<16x32xbf16>, %w3: tensor<16x32xbf16>, %w2: tensor<32x16xbf16>) -> tensor<4x16xbf16> {
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<4x16xbf16>, tensor<16x32xbf16>, tensor<16x32xbf16>, tensor<32x16xbf16> -> tensor<4x16xbf16>
  return %y : tensor<4x16xbf16>
}
