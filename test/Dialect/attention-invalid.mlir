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

// -----

func.func @scale_finite(%q: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{scale must be finite, got INF}}
  %o = kestrel.attention %q, %q, %q scale = 0x7F800000 : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @block_size_without_map(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{block_size = [4, 4] needs a block_map}}
  %o = kestrel.attention %q, %q, %q block_size = [4, 4] : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @block_map_without_size(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{block_map needs block_size = [bq, bk]}}
  %o = kestrel.attention %q, %q, %q block_map = dense<true> : tensor<4x4xi1> : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @block_size_arity(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{block_size must hold two positive sizes [bq, bk], got [4, 4, 4]}}
  %o = kestrel.attention %q, %q, %q block_size = [4, 4, 4] block_map = dense<true> : tensor<4x4xi1> : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @block_size_positive(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{block_size must hold two positive sizes [bq, bk], got [0, 4]}}
  %o = kestrel.attention %q, %q, %q block_size = [0, 4] block_map = dense<true> : tensor<4x4xi1> : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @block_map_element_type(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{block_map must be a rank-2 tensor of i1, got 'tensor<4x4xi8>'}}
  %o = kestrel.attention %q, %q, %q block_size = [4, 4] block_map = dense<1> : tensor<4x4xi8> : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @block_map_rank(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{block_map must be a rank-2 tensor of i1, got 'tensor<16xi1>'}}
  %o = kestrel.attention %q, %q, %q block_size = [4, 4] block_map = dense<true> : tensor<16xi1> : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @block_map_float(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{attribute 'block_map' failed to satisfy constraint: integer elements attribute}}
  %o = "kestrel.attention"(%q, %q, %q) {block_size = array<i64: 4, 4>, block_map = dense<1.0> : tensor<4x4xf32>} : (tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// T = 10 rows in blocks of 4 need ceil(10 / 4) = 3 block rows.
func.func @block_map_shape(%q: tensor<1x1x10x8xf32>, %k: tensor<1x1x16x8xf32>) -> tensor<1x1x10x8xf32> {
  // expected-error @+1 {{block_map has shape [2, 4] but T = 10, S = 16 and block_size = [4, 4] need [ceil(T / bq), ceil(S / bk)] = [3, 4]}}
  %o = kestrel.attention %q, %k, %k block_size = [4, 4] block_map = dense<true> : tensor<2x4xi1> : tensor<1x1x10x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x10x8xf32>
  return %o : tensor<1x1x10x8xf32>
}

// -----

func.func @block_map_key_blocks(%q: tensor<1x1x8x8xf32>, %k: tensor<1x1x16x8xf32>) -> tensor<1x1x8x8xf32> {
  // expected-error @+1 {{block_map has shape [1, 3] but T = 8, S = 16 and block_size = [8, 8] need [ceil(T / bq), ceil(S / bk)] = [1, 2]}}
  %o = kestrel.attention %q, %k, %k block_size = [8, 8] block_map = dense<true> : tensor<1x3xi1> : tensor<1x1x8x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}

// -----

func.func @key_lengths_type(%q: tensor<2x1x8x8xf32>, %len: tensor<2xi64>) -> tensor<2x1x8x8xf32> {
  // expected-error @+1 {{key_lengths must be a rank-1 tensor of i32 ([B]), got 'tensor<2xi64>'}}
  %o = kestrel.attention %q, %q, %q key_lengths(%len : tensor<2xi64>) : tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32> -> tensor<2x1x8x8xf32>
  return %o : tensor<2x1x8x8xf32>
}

// -----

func.func @key_lengths_rank(%q: tensor<2x1x8x8xf32>, %len: tensor<2x1xi32>) -> tensor<2x1x8x8xf32> {
  // expected-error @+1 {{key_lengths must be a rank-1 tensor of i32 ([B]), got 'tensor<2x1xi32>'}}
  %o = kestrel.attention %q, %q, %q key_lengths(%len : tensor<2x1xi32>) : tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32> -> tensor<2x1x8x8xf32>
  return %o : tensor<2x1x8x8xf32>
}

// -----

func.func @key_lengths_batch(%q: tensor<2x1x8x8xf32>, %len: tensor<3xi32>) -> tensor<2x1x8x8xf32> {
  // expected-error @+1 {{key_lengths has 3 entries but the batch size is 2}}
  %o = kestrel.attention %q, %q, %q key_lengths(%len : tensor<3xi32>) : tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32>, tensor<2x1x8x8xf32> -> tensor<2x1x8x8xf32>
  return %o : tensor<2x1x8x8xf32>
}

// -----

func.func @lse_element_type(%q: tensor<2x4x8x8xf16>) -> tensor<2x4x8xf16> {
  // expected-error @+1 {{lse must be an f32 tensor of shape [B, H, T] = [2, 4, 8], got 'tensor<2x4x8xf16>'}}
  %o, %lse = kestrel.attention %q, %q, %q : tensor<2x4x8x8xf16>, tensor<2x4x8x8xf16>, tensor<2x4x8x8xf16> -> tensor<2x4x8x8xf16>, tensor<2x4x8xf16>
  return %lse : tensor<2x4x8xf16>
}

// -----

func.func @lse_shape(%q: tensor<2x4x8x8xf32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{lse must be an f32 tensor of shape [B, H, T] = [2, 4, 8], got 'tensor<2x8x4xf32>'}}
  %o, %lse = kestrel.attention %q, %q, %q : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>, tensor<2x8x4xf32>
  return %lse : tensor<2x8x4xf32>
}

// -----

func.func @lse_rank(%q: tensor<2x4x8x8xf32>) -> tensor<2x4x8x1xf32> {
  // expected-error @+1 {{lse must be an f32 tensor of shape [B, H, T] = [2, 4, 8], got 'tensor<2x4x8x1xf32>'}}
  %o, %lse = kestrel.attention %q, %q, %q : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>, tensor<2x4x8x1xf32>
  return %lse : tensor<2x4x8x1xf32>
}
