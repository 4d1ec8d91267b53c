// RUN: kestrel-opt %s | kestrel-opt | FileCheck %s
// RUN: kestrel-opt %s --mlir-print-op-generic | kestrel-opt | FileCheck %s

// CHECK-LABEL: func @plain
// CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
func.func @plain(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = kestrel.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// CHECK-LABEL: func @every_attribute
// CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} causal window = 1024 sinks = 4 scale = 1.250000e-01 softcap = 5.000000e+01 : tensor<2x32x8x128xbf16>, tensor<2x8x4096x128xbf16>, tensor<2x8x4096x64xbf16> -> tensor<2x32x8x64xbf16>
func.func @every_attribute(%q: tensor<2x32x8x128xbf16>, %k: tensor<2x8x4096x128xbf16>, %v: tensor<2x8x4096x64xbf16>) -> tensor<2x32x8x64xbf16> {
  %o = kestrel.attention %q, %k, %v causal window = 1024 sinks = 4 scale = 0.125 softcap = 50.0
      : tensor<2x32x8x128xbf16>, tensor<2x8x4096x128xbf16>, tensor<2x8x4096x64xbf16> -> tensor<2x32x8x64xbf16>
  return %o : tensor<2x32x8x64xbf16>
}

// Dynamic sizes verify; they are checked where known.
// CHECK-LABEL: func @dynamic
// CHECK: kestrel.attention {{.*}} causal : tensor<?x8x?x64xf16>
func.func @dynamic(%q: tensor<?x8x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x8x?x64xf16> {
  %o = kestrel.attention %q, %k, %v causal : tensor<?x8x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x8x?x64xf16>
  return %o : tensor<?x8x?x64xf16>
}

// A block-sparse layout (local + global blocks) composed with causality,
// per-row key lengths and the log-sum-exp result.
// CHECK-LABEL: func @sparse_lengths_lse
// CHECK: %{{.*}}, %{{.*}} = kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} key_lengths(%{{.*}} : tensor<2xi32>) causal block_size = [4, 8] block_map = dense<{{\[}}[true, false], [true, false], [true, true]]> : tensor<3x2xi1> : tensor<2x4x12x8xf16>, tensor<2x2x16x8xf16>, tensor<2x2x16x8xf16> -> tensor<2x4x12x8xf16>, tensor<2x4x12xf32>
func.func @sparse_lengths_lse(%q: tensor<2x4x12x8xf16>, %k: tensor<2x2x16x8xf16>, %v: tensor<2x2x16x8xf16>, %len: tensor<2xi32>) -> (tensor<2x4x12x8xf16>, tensor<2x4x12xf32>) {
  %o, %lse = kestrel.attention %q, %k, %v key_lengths(%len : tensor<2xi32>) causal block_size = [4, 8]
      block_map = dense<[[true, false], [true, false], [true, true]]> : tensor<3x2xi1>
      : tensor<2x4x12x8xf16>, tensor<2x2x16x8xf16>, tensor<2x2x16x8xf16> -> tensor<2x4x12x8xf16>, tensor<2x4x12xf32>
  return %o, %lse : tensor<2x4x12x8xf16>, tensor<2x4x12xf32>
}

// Each feature alone; ragged last blocks (T = 10, S = 10, 4 × 4 blocks).
// CHECK-LABEL: func @block_map_ragged
// CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} block_size = [4, 4] block_map = dense<{{.*}}> : tensor<3x3xi1> : tensor<1x1x10x8xf32>
func.func @block_map_ragged(%q: tensor<1x1x10x8xf32>) -> tensor<1x1x10x8xf32> {
  %o = kestrel.attention %q, %q, %q block_size = [4, 4]
      block_map = dense<[[true, false, true], [false, true, false], [true, true, true]]> : tensor<3x3xi1>
      : tensor<1x1x10x8xf32>, tensor<1x1x10x8xf32>, tensor<1x1x10x8xf32> -> tensor<1x1x10x8xf32>
  return %o : tensor<1x1x10x8xf32>
}

// CHECK-LABEL: func @lse_only
// CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x8xbf16>, tensor<1x1x5x8xbf16>, tensor<1x1x5x8xbf16> -> tensor<1x2x3x8xbf16>, tensor<1x2x3xf32>
func.func @lse_only(%q: tensor<1x2x3x8xbf16>, %k: tensor<1x1x5x8xbf16>) -> tensor<1x2x3xf32> {
  %o, %lse = kestrel.attention %q, %k, %k : tensor<1x2x3x8xbf16>, tensor<1x1x5x8xbf16>, tensor<1x1x5x8xbf16> -> tensor<1x2x3x8xbf16>, tensor<1x2x3xf32>
  return %lse : tensor<1x2x3xf32>
}

// CHECK-LABEL: func @key_lengths_dynamic
// CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} key_lengths(%{{.*}} : tensor<?xi32>) : tensor<?x2x4x8xf32>
func.func @key_lengths_dynamic(%q: tensor<?x2x4x8xf32>, %k: tensor<?x2x6x8xf32>, %len: tensor<?xi32>) -> tensor<?x2x4x8xf32> {
  %o = kestrel.attention %q, %k, %k key_lengths(%len : tensor<?xi32>) : tensor<?x2x4x8xf32>, tensor<?x2x6x8xf32>, tensor<?x2x6x8xf32> -> tensor<?x2x4x8xf32>
  return %o : tensor<?x2x4x8xf32>
}
