// kestrelc refuses selective_scan and causal_conv1d on cuda targets with a
// reason (they have no lowering yet) and writes nothing.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not kestrelc %s --target=cuda:sm_90a -o %t/scan.ptx 2>&1 | FileCheck %s
// RUN: not ls %t/scan.ptx

// CHECK: scan-targets.mlir:[[# @LINE + 3]]:{{[0-9]+}}: error: 'kestrel.causal_conv1d' op is not supported on cuda targets yet: it has no lowering yet

func.func @mixer(%x: tensor<1x4x8xf32>, %w: tensor<4x4xf32>, %dt: tensor<1x4x8xf32>, %a: tensor<4x16xf32>, %b: tensor<1x16x8xf32>, %c: tensor<1x16x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x16xf32>) {
  %xc, %cs = kestrel.causal_conv1d %x, %w activation = silu : tensor<1x4x8xf32>, tensor<4x4xf32> -> tensor<1x4x8xf32>, tensor<1x4x3xf32>
  %y, %h = kestrel.selective_scan %xc, %dt, %a, %b, %c delta_softplus : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<4x16xf32>, tensor<1x16x8xf32>, tensor<1x16x8xf32> -> tensor<1x4x8xf32>, tensor<1x4x16xf32>
  return %y, %h : tensor<1x4x8xf32>, tensor<1x4x16xf32>
}
