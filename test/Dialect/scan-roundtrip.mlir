// RUN: kestrel-opt %s | kestrel-opt | FileCheck %s

// Bare scan: no optional operands, no softplus (nothing extra printed).
// CHECK-LABEL: func @scan_bare
// CHECK: kestrel.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
func.func @scan_bare(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// Everything: bf16 activations, f32 parameters and states, decode (T = 1).
// CHECK-LABEL: func @scan_full
// CHECK: kestrel.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} D(%{{.*}} : tensor<8xf32>) z(%{{.*}} : tensor<1x8x1xbf16>) delta_bias(%{{.*}} : tensor<8xf32>) initial_state(%{{.*}} : tensor<1x8x16xf32>) delta_softplus : tensor<1x8x1xbf16>
func.func @scan_full(%x: tensor<1x8x1xbf16>, %dt: tensor<1x8x1xbf16>, %a: tensor<8x16xf32>, %b: tensor<1x16x1xbf16>, %c: tensor<1x16x1xbf16>, %d: tensor<8xf32>, %z: tensor<1x8x1xbf16>, %db: tensor<8xf32>, %h0: tensor<1x8x16xf32>) -> (tensor<1x8x1xbf16>, tensor<1x8x16xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c D(%d : tensor<8xf32>) z(%z : tensor<1x8x1xbf16>) delta_bias(%db : tensor<8xf32>) initial_state(%h0 : tensor<1x8x16xf32>) delta_softplus : tensor<1x8x1xbf16>, tensor<1x8x1xbf16>, tensor<8x16xf32>, tensor<1x16x1xbf16>, tensor<1x16x1xbf16> -> tensor<1x8x1xbf16>, tensor<1x8x16xf32>
  return %y, %h : tensor<1x8x1xbf16>, tensor<1x8x16xf32>
}

// Dynamic batch and length.
// CHECK-LABEL: func @scan_dynamic
// CHECK: kestrel.selective_scan {{.*}} : tensor<?x8x?xf16>
func.func @scan_dynamic(%x: tensor<?x8x?xf16>, %dt: tensor<?x8x?xf16>, %a: tensor<8x4xf32>, %b: tensor<?x4x?xf16>, %c: tensor<?x4x?xf16>) -> (tensor<?x8x?xf16>, tensor<?x8x4xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c delta_softplus : tensor<?x8x?xf16>, tensor<?x8x?xf16>, tensor<8x4xf32>, tensor<?x4x?xf16>, tensor<?x4x?xf16> -> tensor<?x8x?xf16>, tensor<?x8x4xf32>
  return %y, %h : tensor<?x8x?xf16>, tensor<?x8x4xf32>
}

// CHECK-LABEL: func @conv_bare
// CHECK: kestrel.causal_conv1d %{{.*}}, %{{.*}} activation = none : tensor<2x8x5xf32>, tensor<8x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
func.func @conv_bare(%x: tensor<2x8x5xf32>, %w: tensor<8x4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = none : tensor<2x8x5xf32>, tensor<8x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// Decode step with bias and state, K = 2.
// CHECK-LABEL: func @conv_full
// CHECK: kestrel.causal_conv1d %{{.*}}, %{{.*}} activation = silu bias(%{{.*}} : tensor<8xbf16>) state(%{{.*}} : tensor<1x8x1xbf16>) : tensor<1x8x1xbf16>, tensor<8x2xbf16> -> tensor<1x8x1xbf16>, tensor<1x8x1xbf16>
func.func @conv_full(%x: tensor<1x8x1xbf16>, %w: tensor<8x2xbf16>, %b: tensor<8xbf16>, %s0: tensor<1x8x1xbf16>) -> (tensor<1x8x1xbf16>, tensor<1x8x1xbf16>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu bias(%b : tensor<8xbf16>) state(%s0 : tensor<1x8x1xbf16>) : tensor<1x8x1xbf16>, tensor<8x2xbf16> -> tensor<1x8x1xbf16>, tensor<1x8x1xbf16>
  return %y, %s : tensor<1x8x1xbf16>, tensor<1x8x1xbf16>
}
