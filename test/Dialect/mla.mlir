// RUN: kestrel-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func @roundtrip
// CHECK: kestrel.mla %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} causal absorbed scale = 1.250000e-01 : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
func.func @roundtrip(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xf32>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>, %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x6xf32> {
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv causal absorbed scale = 0.125 : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}

// -----

func.func @latent_dim(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xf32>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>, %wuk: tensor<4x16x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x6xf32> {
  // expected-error @+1 {{latent dim d_c of w_uk (16) differs from c_kv (32)}}
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<4x16x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}

// -----

func.func @rope_dim(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xf32>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x2xf32>, %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x6xf32> {
  // expected-error @+1 {{rope dim d_r of k_r (2) differs from q_r (4)}}
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x2xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}

// -----

func.func @heads(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xf32>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>, %wuk: tensor<2x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x6xf32> {
  // expected-error @+1 {{heads of w_uk (2) differs from q_c (4)}}
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<2x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}

// -----

func.func @value_dim(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xf32>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>, %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x8xf32> {
  // expected-error @+1 {{value dim d_v of result (8) differs from w_uv (6)}}
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x8xf32>
  return %o : tensor<1x4x2x8xf32>
}

// -----

func.func @rank(%qc: tensor<4x2x8xf32>, %qr: tensor<1x4x2x4xf32>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>, %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x6xf32> {
  // expected-error @+1 {{q_c must be [B, H, T, d_nope], got 'tensor<4x2x8xf32>'}}
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv : tensor<4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}

// -----

func.func @causal_short(%qc: tensor<1x4x8x8xf32>, %qr: tensor<1x4x8x4xf32>, %c: tensor<1x4x32xf32>, %kr: tensor<1x4x4xf32>, %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x8x6xf32> {
  // expected-error @+1 {{causal attention needs key length >= query length, got S = 4 < T = 8}}
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv causal : tensor<1x4x8x8xf32>, tensor<1x4x8x4xf32>, tensor<1x4x32xf32>, tensor<1x4x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x8x6xf32>
  return %o : tensor<1x4x8x6xf32>
}

// -----

func.func @element_type(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xbf16>, %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>, %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>) -> tensor<1x4x2x6xf32> {
  // expected-error @+1 {{all operands and the result must share one element type; q_r has 'bf16', q_c has 'f32'}}
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv : tensor<1x4x2x8xf32>, tensor<1x4x2x4xbf16>, tensor<1x16x32xf32>, tensor<1x16x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32> -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}
