// RUN: kestrel-opt %s --kestrel-lower-to-linalg --split-input-file | FileCheck %s

// The reference lowering of the block map, key lengths and lse. The block
// map is unpacked by a small generic from its bits packed into i64 words
// (here 0b1101 = 13: bit i·nbk + j is map[i][j]), then read through
// (t floordiv bq, s floordiv bk); the lengths through (b); both join the
// causal test in one conjunction. lse is m + log l, -inf where l = 0.
// CHECK-DAG: #[[BLOCKS:.*]] = affine_map<(d0, d1, d2, d3) -> (d2 floordiv 3, d3 floordiv 4)>
// CHECK-DAG: #[[BATCH:.*]] = affine_map<(d0, d1, d2, d3) -> (d0)>
// CHECK-LABEL: func @all_masks_lse
// CHECK-NOT: kestrel.attention
// CHECK-DAG: %[[WORD:.*]] = arith.constant 13 : i64
// CHECK: %[[MAP:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2xi32>)
// CHECK:   arith.remui
// CHECK:   arith.shrui %[[WORD]]
// CHECK:   arith.trunci %{{.*}} : i64 to i32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BLOCKS]], #[[BATCH]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %[[MAP]], %{{.*}} : tensor<2x1x6x8xf32>, tensor<2x2xi32>, tensor<2xi32>)
// CHECK: ^bb0(%{{.*}}: f32, %[[ALLOWED:.*]]: i32, %[[LEN:.*]]: i32, %{{.*}}: f32):
// CHECK:   arith.cmpi sle
// CHECK:   arith.cmpi ne, %[[ALLOWED]], %{{.*}} : i32
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

// -----

// A map of 9 × 9 = 81 blocks takes two words (all ones: 2^64 - 1 = -1,
// then 2^17 - 1), chosen by a switch on the word index.
// CHECK-LABEL: func @two_words
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<9x9xi32>)
// CHECK:   %[[W:.*]] = arith.divui %{{.*}}, %c64_i64
// CHECK:   %[[WI:.*]] = arith.index_cast %[[W]] : i64 to index
// CHECK:   %[[WORD:.*]] = scf.index_switch %[[WI]] -> i64
// CHECK:   case 0 {
// CHECK:     scf.yield %c-1_i64 : i64
// CHECK:   default {
// CHECK:     scf.yield %c131071_i64 : i64
// CHECK:   arith.shrui %[[WORD]]
func.func @two_words(%q: tensor<1x1x9x4xf32>) -> tensor<1x1x9x4xf32> {
  %o = kestrel.attention %q, %q, %q block_size = [1, 1] block_map = dense<true> : tensor<9x9xi1>
      : tensor<1x1x9x4xf32>, tensor<1x1x9x4xf32>, tensor<1x1x9x4xf32> -> tensor<1x1x9x4xf32>
  return %o : tensor<1x1x9x4xf32>
}
