// RUN: kestrel-opt %s --kestrel-lower-to-linalg --split-input-file | FileCheck %s

// top_k with a block: pass 1 is one reduction producing the max (f32) and
// the first argmax (i64, strict '>' keeps the earlier index); pass 2 sums
// exp(l - m); confidence is 1/s at masked positions; the rank is an
// [B, L, L] reduction counting eligible (masked, in-block [2, 6)) positions
// q that beat p; the final generic unmasks where rank < 2.
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[Q:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func @top_k_block
// CHECK-NOT: kestrel.denoise_step
// CHECK: %[[MA:.*]]:2 = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<2x8xi64>)
// CHECK:   arith.extf %{{.*}} : bf16 to f32
// CHECK:   arith.cmpf ogt
// CHECK:   linalg.index 2
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[ROW]], #[[ROW]]]
// CHECK:   math.exp
// CHECK: %[[CONF:.*]] = linalg.generic
// CHECK:   arith.cmpi eq, %{{.*}}, %c99_i64
// CHECK:   arith.divf
// CHECK: %[[RANK:.*]] = linalg.generic {indexing_maps = [#[[ROW]], #[[Q]], #[[Q]], #[[ROW]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[CONF]], %[[CONF]], %{{.*}} : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xi64>)
// CHECK:   arith.cmpf ogt
// CHECK:   arith.cmpf oeq
// CHECK:   arith.cmpi sge, %{{.*}}, %c2
// CHECK:   arith.cmpi slt, %{{.*}}, %c6
// CHECK:   arith.extui
// CHECK: %[[NEW:.*]] = linalg.generic
// CHECK-SAME: ins(%{{.*}}, %[[MA]]#1, %[[CONF]], %[[RANK]] :
// CHECK:   arith.cmpi slt, %{{.*}}, %c2_i64
// CHECK:   arith.select
// CHECK: return %[[NEW]], %[[CONF]]
func.func @top_k_block(%l: tensor<2x8x16xbf16>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 99 top_k = 2 block = [2, 4] : tensor<2x8x16xbf16>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

// threshold: unmask where c > τ or rank == 0 (at least the most confident).
// Without a block every position is in range [0, L).
// CHECK-LABEL: func @threshold
// CHECK-DAG: %[[TAU:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: linalg.generic
// CHECK: arith.cmpi slt, %{{.*}}, %c8
// CHECK: linalg.generic
// CHECK:   arith.cmpf ogt, %{{.*}}, %[[TAU]]
// CHECK:   arith.cmpi eq, %{{.*}}, %c0_i64
// CHECK:   arith.ori
func.func @threshold(%l: tensor<1x8x16xf32>, %t: tensor<1x8xi64>) -> (tensor<1x8xi64>, tensor<1x8xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 99 threshold = 0.5 : tensor<1x8x16xf32>, tensor<1x8xi64> -> tensor<1x8xi64>, tensor<1x8xf32>
  return %n, %c : tensor<1x8xi64>, tensor<1x8xf32>
}

// -----

// Temperature sampling: pass 1 also hashes (seed, b, p, v) with splitmix64
// into Gumbel noise in f64 and keeps the noisy argmax; pass 2 also picks
// the sampled token's logit for the confidence.
// CHECK-LABEL: func @sampled
// CHECK-NOT: kestrel.denoise_step
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4xf32>, tensor<1x4xf64>, tensor<1x4xi64>)
// CHECK: arith.shrui
// CHECK: arith.uitofp {{.*}} : i64 to f64
// CHECK: math.log {{.*}} : f64
// CHECK: arith.divf {{.*}} : f64
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<1x4xf32>, tensor<1x4xf32>)
// CHECK: math.exp
func.func @sampled(%l: tensor<1x4x32xf32>, %t: tensor<1x4xi64>) -> (tensor<1x4xi64>, tensor<1x4xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 5 top_k = 1 temperature = 0.7 seed = 42 : tensor<1x4x32xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %c : tensor<1x4xi64>, tensor<1x4xf32>
}
