// RUN: kestrel-opt %s --kestrel-lower-to-linalg --split-input-file | FileCheck %s

// The reference lowering of the block map, key lengths and lse: the block
// map is an i8 constant read through (t floordiv bq, s floordiv bk), the
// lengths through (b); both join the causal test in one conjunction. lse is
// m + log l, -inf where l = 0.
// CHECK-DAG: #[[BLOCKS:.*]] = affine_map<(d0, d1, d2, d3) -> (d2 floordiv 3, d3 floordiv 4)>
// CHECK-DAG: #[[BATCH:.*]] = affine_map<(d0, d1, d2, d3) -> (d0)>
// CHECK-LABEL: func @all_masks_lse
// CHECK-NOT: kestrel.attention
// CHECK: %[[MAP:.*]] = arith.constant dense<{{\[}}[1, 0], [1, 1]]> : tensor<2x2xi8>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BLOCKS]], #[[BATCH]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %[[MAP]], %{{.*}} : tensor<2x1x6x8xf32>, tensor<2x2xi8>, tensor<2xi32>)
// CHECK: ^bb0(%{{.*}}: f32, %[[ALLOWED:.*]]: i8, %[[LEN:.*]]: i32, %{{.*}}: f32):
// CHECK:   arith.cmpi sle
// CHECK:   arith.cmpi ne, %[[ALLOWED]], %{{.*}} : i8
// CHECK:   arith.andi
// CHECK:   arith.extsi %[[LEN]] : i32 to i64
// CHECK:   arith.cmpi slt
// CHECK:   arith.andi
// CHECK:   arith.select
// CHECK: math.log
// CHECK: arith.addf
// CHECK: return %{{.*}}, %{{.*}} : tensor<2x1x6x4xf32>, tensor<2x1x6xf32>
func.func @all_masks_lse(%q: tensor<2x1x6x4xf32>, %k: tensor<2x1x8x4xf32>, %len: tensor<2xi32>) -> (tensor<2x1x6x4xf32>, tensor<2x1x6xf32>) {
  %o, %l = kestrel.attention %q, %k, %k key_lengths(%len : tensor<2xi32>) causal block_size = [3, 4]
      block_map = dense<[[true, false], [true, true]]> : tensor<2x2xi1>
      : tensor<2x1x6x4xf32>, tensor<2x1x8x4xf32>, tensor<2x1x8x4xf32> -> tensor<2x1x6x4xf32>, tensor<2x1x6xf32>
  return %o, %l : tensor<2x1x6x4xf32>, tensor<2x1x6xf32>
}

// -----

// key_lengths alone make a mask even without causality.
// CHECK-LABEL: func @lengths_only
// CHECK: ^bb0(%{{.*}}: f32, %[[LEN:.*]]: i32, %{{.*}}: f32):
// CHECK-NOT: arith.cmpi sle
// CHECK: arith.extsi %[[LEN]]
// CHECK: arith.cmpi slt
// CHECK: arith.select
func.func @lengths_only(%q: tensor<2x1x6x4xf32>, %len: tensor<2xi32>) -> tensor<2x1x6x4xf32> {
  %o = kestrel.attention %q, %q, %q key_lengths(%len : tensor<2xi32>) : tensor<2x1x6x4xf32>, tensor<2x1x6x4xf32>, tensor<2x1x6x4xf32> -> tensor<2x1x6x4xf32>
  return %o : tensor<2x1x6x4xf32>
}
