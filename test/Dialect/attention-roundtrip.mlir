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
