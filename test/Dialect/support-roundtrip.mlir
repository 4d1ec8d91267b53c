// RUN: kestrel-opt %s | kestrel-opt | FileCheck %s
// RUN: kestrel-opt %s --mlir-print-op-generic | kestrel-opt | FileCheck %s

// CHECK-LABEL: func @rms_norm
// CHECK: kestrel.rms_norm %{{.*}}, %{{.*}} eps = 9.99999997E-7 : tensor<4x16x64xbf16>, tensor<64xbf16> -> tensor<4x16x64xbf16>
func.func @rms_norm(%x: tensor<4x16x64xbf16>, %w: tensor<64xbf16>) -> tensor<4x16x64xbf16> {
  %y = kestrel.rms_norm %x, %w eps = 1.0e-6 : tensor<4x16x64xbf16>, tensor<64xbf16> -> tensor<4x16x64xbf16>
  return %y : tensor<4x16x64xbf16>
}

// CHECK-LABEL: func @rms_norm_dynamic
// CHECK: kestrel.rms_norm %{{.*}}, %{{.*}} eps = 0.000000e+00 : tensor<?x?xf32>, tensor<?xf32> -> tensor<?x?xf32>
func.func @rms_norm_dynamic(%x: tensor<?x?xf32>, %w: tensor<?xf32>) -> tensor<?x?xf32> {
  %y = kestrel.rms_norm %x, %w eps = 0.0 : tensor<?x?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// CHECK-LABEL: func @rope_default
// CHECK: kestrel.rope %{{.*}} : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
func.func @rope_default(%x: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %y = kestrel.rope %x : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %y : tensor<1x8x16x64xf32>
}

// CHECK-LABEL: func @rope_every_attribute
// CHECK: kestrel.rope %{{.*}} interleaved rotary_dim = 32 base = 5.000000e+05 offset = 128 : tensor<1x32x1x128xbf16> -> tensor<1x32x1x128xbf16>
func.func @rope_every_attribute(%x: tensor<1x32x1x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %y = kestrel.rope %x interleaved rotary_dim = 32 base = 500000.0 offset = 128 : tensor<1x32x1x128xbf16> -> tensor<1x32x1x128xbf16>
  return %y : tensor<1x32x1x128xbf16>
}

// CHECK-LABEL: func @rope_positions
// CHECK: kestrel.rope %{{.*}} positions(%{{.*}} : tensor<2x16xi64>) offset = 3 : tensor<2x8x16x64xf16> -> tensor<2x8x16x64xf16>
func.func @rope_positions(%x: tensor<2x8x16x64xf16>, %p: tensor<2x16xi64>) -> tensor<2x8x16x64xf16> {
  %y = kestrel.rope %x positions(%p : tensor<2x16xi64>) offset = 3 : tensor<2x8x16x64xf16> -> tensor<2x8x16x64xf16>
  return %y : tensor<2x8x16x64xf16>
}

// CHECK-LABEL: func @gated_mlp
// CHECK: kestrel.gated_mlp %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<16x64xbf16>, tensor<64x172xbf16>, tensor<64x172xbf16>, tensor<172x64xbf16> -> tensor<16x64xbf16>
func.func @gated_mlp(%x: tensor<16x64xbf16>, %w1: tensor<64x172xbf16>, %w3: tensor<64x172xbf16>, %w2: tensor<172x64xbf16>) -> tensor<16x64xbf16> {
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<16x64xbf16>, tensor<64x172xbf16>, tensor<64x172xbf16>, tensor<172x64xbf16> -> tensor<16x64xbf16>
  return %y : tensor<16x64xbf16>
}
