// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

// One case per verifier branch of kestrel.selective_scan and
// kestrel.causal_conv1d (every shape rule has its own case).

func.func @scan_x_rank(%x: tensor<8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{x must have rank 3 [B, C, T], got 'tensor<8x5xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_a_rank(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<32xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{A must have rank 2 [C, N], got 'tensor<32xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<32xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_act_type(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf16>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{Bm has element type 'f16' but x has the storage type of the activations}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf16>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_z_type(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>, %o: tensor<2x8x5xbf16>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{z has element type 'bf16' but x has the storage type of the activations}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c z(%o : tensor<2x8x5xbf16>) : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_param_type(%x: tensor<2x8x5xbf16>, %dt: tensor<2x8x5xbf16>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xbf16>, %c: tensor<2x4x5xbf16>, %o: tensor<8xbf16>) -> (tensor<2x8x5xbf16>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{D has element type 'bf16' but must be f32}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c D(%o : tensor<8xbf16>) : tensor<2x8x5xbf16>, tensor<2x8x5xbf16>, tensor<8x4xf32>, tensor<2x4x5xbf16>, tensor<2x4x5xbf16> -> tensor<2x8x5xbf16>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xbf16>, tensor<2x8x4xf32>
}

// -----

func.func @scan_state_type(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf16>) {
  // expected-error @+1 {{final_state has element type 'f16' but must be f32}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf16>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf16>
}

// -----

func.func @scan_delta_shape(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x6xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{delta must have shape [B, C, T] = [2, 8, 5], got 'tensor<2x8x6xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x6xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_a_channels(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<7x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{A must have shape [C, N] = [8, 4], got 'tensor<7x4xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<7x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_b_state_dim(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x3x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{Bm must have shape [B, N, T] = [2, 4, 5], got 'tensor<2x3x5xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x3x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_c_shape(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<1x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{Cm must have shape [B, N, T] = [2, 4, 5], got 'tensor<1x4x5xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<1x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_d_shape(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>, %o: tensor<4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{D must have shape [C] = [8], got 'tensor<4xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c D(%o : tensor<4xf32>) : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_z_shape(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>, %o: tensor<2x8x4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{z must have shape [B, C, T] = [2, 8, 5], got 'tensor<2x8x4xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c z(%o : tensor<2x8x4xf32>) : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_bias_shape(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>, %o: tensor<8x1xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{delta_bias must have shape [C] = [8], got 'tensor<8x1xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c delta_bias(%o : tensor<8x1xf32>) : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_h0_shape(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>, %o: tensor<2x8x16xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{initial_state must have shape [B, C, N] = [2, 8, 4], got 'tensor<2x8x16xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c initial_state(%o : tensor<2x8x16xf32>) : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_y_shape(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x5x8xf32>, tensor<2x8x4xf32>) {
  // expected-error @+1 {{y must have shape [B, C, T] = [2, 8, 5], got 'tensor<2x5x8xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x5x8xf32>, tensor<2x8x4xf32>
  return %y, %h : tensor<2x5x8xf32>, tensor<2x8x4xf32>
}

// -----

func.func @scan_final_shape(%x: tensor<2x8x5xf32>, %dt: tensor<2x8x5xf32>, %a: tensor<8x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x4x5xf32>) -> (tensor<2x8x5xf32>, tensor<2x4x8xf32>) {
  // expected-error @+1 {{final_state must have shape [B, C, N] = [2, 8, 4], got 'tensor<2x4x8xf32>'}}
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<2x8x5xf32>, tensor<2x8x5xf32>, tensor<8x4xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x8x5xf32>, tensor<2x4x8xf32>
  return %y, %h : tensor<2x8x5xf32>, tensor<2x4x8xf32>
}

// -----

func.func @conv_x_rank(%x: tensor<8x5xf32>, %w: tensor<8x4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{x must have rank 3 [B, C, T], got 'tensor<8x5xf32>'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu : tensor<8x5xf32>, tensor<8x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_w_rank(%x: tensor<2x8x5xf32>, %w: tensor<8xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{weight must have rank 2 [C, K], got 'tensor<8xf32>'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu : tensor<2x8x5xf32>, tensor<8xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_dynamic_k(%x: tensor<2x8x5xf32>, %w: tensor<8x?xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{weight must have a static kernel size K, got 'tensor<8x?xf32>'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu : tensor<2x8x5xf32>, tensor<8x?xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_zero_k(%x: tensor<2x8x5xf32>, %w: tensor<8x0xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{kernel size K must be at least 1, got 0}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu : tensor<2x8x5xf32>, tensor<8x0xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_w_type(%x: tensor<2x8x5xf32>, %w: tensor<8x4xf16>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{weight has element type 'f16' but x has 'f32'; all operands and results must share one}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu : tensor<2x8x5xf32>, tensor<8x4xf16> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_state_type(%x: tensor<2x8x5xf32>, %w: tensor<8x4xf32>, %o: tensor<2x8x3xbf16>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{state has element type 'bf16' but x has 'f32'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu state(%o : tensor<2x8x3xbf16>) : tensor<2x8x5xf32>, tensor<8x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_w_channels(%x: tensor<2x8x5xf32>, %w: tensor<4x4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{weight must have shape [C, K] = [8, 4], got 'tensor<4x4xf32>'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu : tensor<2x8x5xf32>, tensor<4x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_bias_shape(%x: tensor<2x8x5xf32>, %w: tensor<8x4xf32>, %o: tensor<4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{bias must have shape [C] = [8], got 'tensor<4xf32>'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu bias(%o : tensor<4xf32>) : tensor<2x8x5xf32>, tensor<8x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_state_shape(%x: tensor<2x8x5xf32>, %w: tensor<8x4xf32>, %o: tensor<2x8x4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{state must have shape [B, C, K-1] = [2, 8, 3], got 'tensor<2x8x4xf32>'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu state(%o : tensor<2x8x4xf32>) : tensor<2x8x5xf32>, tensor<8x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_y_shape(%x: tensor<2x8x5xf32>, %w: tensor<8x4xf32>) -> (tensor<2x8x4xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{y must have shape [B, C, T] = [2, 8, 5], got 'tensor<2x8x4xf32>'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu : tensor<2x8x5xf32>, tensor<8x4xf32> -> tensor<2x8x4xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x4xf32>, tensor<2x8x3xf32>
}

// -----

func.func @conv_new_state_shape(%x: tensor<2x8x5xf32>, %w: tensor<8x4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x2xf32>) {
  // expected-error @+1 {{new_state must have shape [B, C, K-1] = [2, 8, 3], got 'tensor<2x8x2xf32>'}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu : tensor<2x8x5xf32>, tensor<8x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x2xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x2xf32>
}

// -----

func.func @conv_bad_activation(%x: tensor<2x8x5xf32>, %w: tensor<8x4xf32>) -> (tensor<2x8x5xf32>, tensor<2x8x3xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'activation' [none, silu]}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = gelu : tensor<2x8x5xf32>, tensor<8x4xf32> -> tensor<2x8x5xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x5xf32>, tensor<2x8x3xf32>
}
