// RUN: kestrel-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func @roundtrip
// CHECK: kestrel.quantized_attention %{{.*}}, %{{.*}}, %{{.*}} causal smooth_k block_q = 4 block_k = 8 : tensor<1x4x16x8xbf16>
func.func @roundtrip(%q: tensor<1x4x16x8xbf16>, %k: tensor<1x2x16x8xbf16>) -> tensor<1x4x16x8xbf16> {
  %o = kestrel.quantized_attention %q, %k, %k causal smooth_k block_q = 4 block_k = 8 : tensor<1x4x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16> -> tensor<1x4x16x8xbf16>
  return %o : tensor<1x4x16x8xbf16>
}

// -----

func.func @block_q(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{block_q (5) must divide the query length (16)}}
  %o = kestrel.quantized_attention %q, %k, %k block_q = 5 block_k = 8 : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @block_k(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{block_k (3) must divide the key length (16)}}
  %o = kestrel.quantized_attention %q, %k, %k block_q = 4 block_k = 3 : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @gqa(%q: tensor<1x4x16x8xf32>, %k: tensor<1x3x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{num_heads (4) must be a multiple of num_kv_heads (3)}}
  %o = kestrel.quantized_attention %q, %k, %k block_q = 4 block_k = 4 : tensor<1x4x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @head_dim(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x4xf32>) -> tensor<1x4x16x4xf32> {
  // expected-error @+1 {{query head dim (8) differs from key head dim (4)}}
  %o = kestrel.quantized_attention %q, %k, %k block_q = 4 block_k = 4 : tensor<1x4x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32> -> tensor<1x4x16x4xf32>
  return %o : tensor<1x4x16x4xf32>
}

// -----

func.func @result(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{result shape must be [B, H, T, Dv] = [1, 4, 16, 8], got 'tensor<1x4x8x8xf32>'}}
  %o = kestrel.quantized_attention %q, %k, %k block_q = 4 block_k = 4 : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

func.func @causal(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x8x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{causal attention needs key length >= query length, got S = 8 < T = 16}}
  %o = kestrel.quantized_attention %q, %k, %k causal block_q = 4 block_k = 4 : tensor<1x4x16x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @value(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x1x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{value must be [B, 2, 16, Dv] like key, got 'tensor<1x1x16x8xf32>'}}
  %o = kestrel.quantized_attention %q, %k, %v block_q = 4 block_k = 4 : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}
