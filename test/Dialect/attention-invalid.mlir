// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

func.func @rank(%q: tensor<4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{query must have rank 4 ([B, heads, len, dim]), got 'tensor<4x16x8xf32>'}}
  %o = kestrel.attention %q, %k, %v : tensor<4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @element_types(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf16>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{query, key, value and result must share one element type, got 'f32', 'f16', 'f32', 'f32'}}
  %o = kestrel.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @storage_type(%q: tensor<1x4x16x8xi32>, %k: tensor<1x4x16x8xi32>, %v: tensor<1x4x16x8xi32>) -> tensor<1x4x16x8xi32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %o = kestrel.attention %q, %k, %v : tensor<1x4x16x8xi32>, tensor<1x4x16x8xi32>, tensor<1x4x16x8xi32> -> tensor<1x4x16x8xi32>
  return %o : tensor<1x4x16x8xi32>
}

// -----

func.func @batch(%q: tensor<2x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  // expected-error @+1 {{batch sizes differ: query 2, key 1, value 1, result 2}}
  %o = kestrel.attention %q, %k, %v : tensor<2x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<2x4x16x8xf32>
  return %o : tensor<2x4x16x8xf32>
}

// -----

func.func @kv_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{key has 4 heads but value has 2}}
  %o = kestrel.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @kv_len(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x17x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{key length (16) differs from value length (17)}}
  %o = kestrel.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x17x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @head_dim(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x16xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{query head dim (8) differs from key head dim (16)}}
  %o = kestrel.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @result_shape(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x32xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{result shape must be [B, H, T, Dv] = [1, 4, 16, 32], got 'tensor<1x4x16x8xf32>'}}
  %o = kestrel.attention %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x32xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @gqa(%q: tensor<1x32x16x8xf32>, %k: tensor<1x6x16x8xf32>, %v: tensor<1x6x16x8xf32>) -> tensor<1x32x16x8xf32> {
  // expected-error @+1 {{num_heads (32) must be a multiple of num_kv_heads (6)}}
  %o = kestrel.attention %q, %k, %v : tensor<1x32x16x8xf32>, tensor<1x6x16x8xf32>, tensor<1x6x16x8xf32> -> tensor<1x32x16x8xf32>
  return %o : tensor<1x32x16x8xf32>
}

// -----

func.func @causal_short_keys(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x8x8xf32>, %v: tensor<1x4x8x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{causal attention needs key length >= query length, got S = 8 < T = 16}}
  %o = kestrel.attention %q, %k, %v causal : tensor<1x4x16x8xf32>, tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @window_needs_causal(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{window = 4 requires 'causal'}}
  %o = kestrel.attention %q, %k, %v window = 4 : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @sinks_need_window(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{sinks = 4 requires a window}}
  %o = kestrel.attention %q, %k, %v causal sinks = 4 : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @window_positive(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{attribute 'window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %o = kestrel.attention %q, %k, %v causal window = 0 : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @softcap_positive(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{softcap must be positive, got -1}}
  %o = kestrel.attention %q, %k, %v softcap = -1.0 : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}
