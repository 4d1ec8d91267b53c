// RUN: kestrel-opt %s --split-input-file --kestrel-lower-to-linalg | FileCheck %s

// Expanded: per-head key/value up-projections, then attention over H KV
// heads (lowered in the same pass: no kestrel op survives).
// CHECK-LABEL: func @expanded
// CHECK-NOT: kestrel.
// CHECK: linalg.generic {{.*}}ins(%{{.*}}, %{{.*}} : tensor<1x16x32xf32>, tensor<4x32x8xf32>) outs(%{{.*}} : tensor<1x4x16x8xf32>)
// CHECK: linalg.generic {{.*}}ins(%{{.*}}, %{{.*}} : tensor<1x16x32xf32>, tensor<4x32x6xf32>) outs(%{{.*}} : tensor<1x4x16x6xf32>)
// CHECK: tensor<1x4x16x12xf32>
// CHECK: tensor<1x4x2x16xf32>
func.func @expanded(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xf32>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>, %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x6xf32> {
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv causal : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}

// -----

// Absorbed: the query is projected into the latent space (d_c = 32) and
// attends over a single latent KV head of width d_c + d_r = 36; the latent
// output is up-projected last.
// CHECK-LABEL: func @absorbed
// CHECK-NOT: kestrel.
// CHECK: linalg.generic {{.*}}ins(%{{.*}}, %{{.*}} : tensor<1x4x2x8xf32>, tensor<4x32x8xf32>) outs(%{{.*}} : tensor<1x4x2x32xf32>)
// CHECK: tensor<1x1x16x36xf32>
// CHECK: linalg.generic {{.*}}ins(%{{.*}}, %{{.*}} : tensor<1x4x2x32xf32>, tensor<4x32x6xf32>) outs(%{{.*}} : tensor<1x4x2x6xf32>)
func.func @absorbed(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xf32>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>, %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x6xf32> {
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv causal absorbed : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}
