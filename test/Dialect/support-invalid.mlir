// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

func.func @rms_norm_rank(%x: tensor<f32>, %w: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{input must have rank >= 1 ([..., N]), got 'tensor<f32>'}}
  %y = kestrel.rms_norm %x, %w eps = 1.0e-6 : tensor<f32>, tensor<4xf32> -> tensor<f32>
  return %y : tensor<f32>
}

// -----

func.func @rms_norm_weight_rank(%x: tensor<2x4xf32>, %w: tensor<1x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{weight must have rank 1 ([N]), got 'tensor<1x4xf32>'}}
  %y = kestrel.rms_norm %x, %w eps = 1.0e-6 : tensor<2x4xf32>, tensor<1x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @rms_norm_types(%x: tensor<2x4xf32>, %w: tensor<4xbf16>) -> tensor<2x4xf32> {
  // expected-error @+1 {{weight element type and result type must match the input 'tensor<2x4xf32>', got 'tensor<4xbf16>' and 'tensor<2x4xf32>'}}
  %y = kestrel.rms_norm %x, %w eps = 1.0e-6 : tensor<2x4xf32>, tensor<4xbf16> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @rms_norm_weight_length(%x: tensor<2x4xf32>, %w: tensor<8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{weight length (8) differs from the normalized dim N (4)}}
  %y = kestrel.rms_norm %x, %w eps = 1.0e-6 : tensor<2x4xf32>, tensor<8xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @rms_norm_eps(%x: tensor<2x4xf32>, %w: tensor<4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{eps must be non-negative and finite, got -1.000000e-01}}
  %y = kestrel.rms_norm %x, %w eps = -0.1 : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @rope_rank(%x: tensor<8x16x64xf32>) -> tensor<8x16x64xf32> {
  // expected-error @+1 {{input must have rank 4 ([B, H, T, D]), got 'tensor<8x16x64xf32>'}}
  %y = kestrel.rope %x : tensor<8x16x64xf32> -> tensor<8x16x64xf32>
  return %y : tensor<8x16x64xf32>
}

// -----

func.func @rope_result(%x: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf16> {
  // expected-error @+1 {{result type 'tensor<1x8x16x64xf16>' differs from input type 'tensor<1x8x16x64xf32>'}}
  %y = kestrel.rope %x : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf16>
  return %y : tensor<1x8x16x64xf16>
}

// -----

func.func @rope_positions(%x: tensor<2x8x16x64xf32>, %p: tensor<2x15xi64>) -> tensor<2x8x16x64xf32> {
  // expected-error @+1 {{positions must have shape [B, T] = [2, 16], got 'tensor<2x15xi64>'}}
  %y = kestrel.rope %x positions(%p : tensor<2x15xi64>) : tensor<2x8x16x64xf32> -> tensor<2x8x16x64xf32>
  return %y : tensor<2x8x16x64xf32>
}

// -----

func.func @rope_odd_rotary_dim(%x: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{rotary_dim (31) must be positive and even}}
  %y = kestrel.rope %x rotary_dim = 31 : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %y : tensor<1x8x16x64xf32>
}

// -----

func.func @rope_rotary_dim_too_big(%x: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{rotary_dim (128) exceeds the head dim D (64)}}
  %y = kestrel.rope %x rotary_dim = 128 : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %y : tensor<1x8x16x64xf32>
}

// -----

func.func @rope_odd_head_dim(%x: tensor<1x8x16x65xf32>) -> tensor<1x8x16x65xf32> {
  // expected-error @+1 {{head dim D (65) must be even when rotary_dim is not given}}
  %y = kestrel.rope %x : tensor<1x8x16x65xf32> -> tensor<1x8x16x65xf32>
  return %y : tensor<1x8x16x65xf32>
}

// -----

func.func @rope_base(%x: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{base must be positive and finite, got 0.000000e+00}}
  %y = kestrel.rope %x base = 0.0 : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %y : tensor<1x8x16x64xf32>
}

// -----

func.func @rope_offset(%x: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{offset must be non-negative, got -2}}
  %y = kestrel.rope %x offset = -2 : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %y : tensor<1x8x16x64xf32>
}

// -----

func.func @rope_positions_type(%x: tensor<2x8x16x64xf32>, %p: tensor<2x16xi32>) -> tensor<2x8x16x64xf32> {
  // expected-error @+1 {{operand #1 must be ranked tensor of 64-bit signless integer values, but got 'tensor<2x16xi32>'}}
  %y = kestrel.rope %x positions(%p : tensor<2x16xi32>) : tensor<2x8x16x64xf32> -> tensor<2x8x16x64xf32>
  return %y : tensor<2x8x16x64xf32>
}

// -----

func.func @mlp_rank(%x: tensor<16xf32>, %w1: tensor<16x32xf32>, %w3: tensor<16x32xf32>, %w2: tensor<32x16xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{input must have rank 2, got 'tensor<16xf32>'}}
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<16xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<32x16xf32> -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

func.func @mlp_types(%x: tensor<4x16xf32>, %w1: tensor<16x32xf32>, %w3: tensor<16x32xbf16>, %w2: tensor<32x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{input, w1, w3, w2 and result must share one element type, got 'f32', 'f32', 'bf16', 'f32', 'f32'}}
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<4x16xf32>, tensor<16x32xf32>, tensor<16x32xbf16>, tensor<32x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @mlp_in_features(%x: tensor<4x16xf32>, %w1: tensor<8x32xf32>, %w3: tensor<16x32xf32>, %w2: tensor<32x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{w1 and w3 must have d = 16 rows (the input features), got 8 and 16}}
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<4x16xf32>, tensor<8x32xf32>, tensor<16x32xf32>, tensor<32x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @mlp_hidden(%x: tensor<4x16xf32>, %w1: tensor<16x32xf32>, %w3: tensor<16x32xf32>, %w2: tensor<24x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{hidden sizes differ: w1 has 32 columns, w3 32, w2 has 24 rows}}
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<4x16xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<24x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @mlp_out_features(%x: tensor<4x16xf32>, %w1: tensor<16x32xf32>, %w3: tensor<16x32xf32>, %w2: tensor<32x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{w2 must have d = 16 columns (the output features), got 8}}
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<4x16xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<32x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @mlp_result(%x: tensor<4x16xf32>, %w1: tensor<16x32xf32>, %w3: tensor<16x32xf32>, %w2: tensor<32x16xf32>) -> tensor<5x16xf32> {
  // expected-error @+1 {{result shape must be [N, d] = [4, 16], got 'tensor<5x16xf32>'}}
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<4x16xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<32x16xf32> -> tensor<5x16xf32>
  return %y : tensor<5x16xf32>
}
