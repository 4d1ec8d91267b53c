// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

// One case per verifier branch of kestrel.gated_recurrence, then the parser's
// and ODS's own checks.

func.func @rank(%q: tensor<4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{query must have rank 4, got 'tensor<4x8x4xf32>'}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @element_type(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf16>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{key has element type 'f16' but query has 'f32'; query, key, value and output must share one}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf16>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @gate_element_type(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>, %g: tensor<1x4x8xbf16>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{log_gate has element type 'bf16' but must be f32 or query's type 'f32'}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x4x8xbf16>) : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @state_element_types(%q: tensor<1x4x8x4xbf16>, %k: tensor<1x4x8x4xbf16>, %v: tensor<1x4x8x6xbf16>, %s0: tensor<1x4x4x6xf32>) -> (tensor<1x4x8x6xbf16>, tensor<1x4x4x6xbf16>) {
  // expected-error @+1 {{final_state has element type 'bf16' but initial_state has 'f32'; they must match}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none initial_state(%s0 : tensor<1x4x4x6xf32>) : tensor<1x4x8x4xbf16>, tensor<1x4x8x4xbf16>, tensor<1x4x8x6xbf16> -> tensor<1x4x8x6xbf16>, tensor<1x4x4x6xbf16>
  return %o, %s : tensor<1x4x8x6xbf16>, tensor<1x4x4x6xbf16>
}

// -----

func.func @batch(%q: tensor<1x4x8x4xf32>, %k: tensor<2x4x8x4xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{batch sizes differ: query 1, key 2, value 1}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @kv_heads(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x2x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{key has 4 heads but value has 2}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x2x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @seq_len(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x7x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{sequence lengths differ: query 8, key 8, value 7}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x7x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @head_dim(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x5xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{query head dim (4) differs from key head dim (5)}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xf32>, tensor<1x4x8x5xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @groups(%q: tensor<1x4x8x4xf32>, %k: tensor<1x3x8x4xf32>, %v: tensor<1x3x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{num_heads (4) must be a multiple of num_kv_heads (3)}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xf32>, tensor<1x3x8x4xf32>, tensor<1x3x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @output(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x4xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{output must have shape [B, H, T, Dv] = [1, 4, 8, 6], got 'tensor<1x4x8x4xf32>'}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x4xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x4xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @final_state(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x6x4xf32>) {
  // expected-error @+1 {{final_state must have shape [B, H, Dk, Dv] = [1, 4, 4, 6], got 'tensor<1x4x6x4xf32>'}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x6x4xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x6x4xf32>
}

// -----

func.func @initial_state(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>, %s0: tensor<1x4x4x5xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{initial_state must have shape [B, H, Dk, Dv] = [1, 4, 4, 6], got 'tensor<1x4x4x5xf32>'}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none initial_state(%s0 : tensor<1x4x4x5xf32>) : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @gate_not_taken(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>, %g: tensor<1x4x8xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{gate kind 'none' takes no log_gate}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none log_gate(%g : tensor<1x4x8xf32>) : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @gate_missing(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{gate kind 'scalar' needs a log_gate operand}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @gate_shape_scalar(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>, %g: tensor<1x4x8x4xf32>, %b: tensor<1x4x8xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{log_gate of gate kind 'gated_delta' must have shape [B, H, T] = [1, 4, 8], got 'tensor<1x4x8x4xf32>'}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x4x8x4xf32>) beta(%b : tensor<1x4x8xf32>) : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @gate_shape_vector(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>, %g: tensor<1x4x8xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{log_gate of gate kind 'vector' must have shape [B, H, T, Dk] = [1, 4, 8, 4], got 'tensor<1x4x8xf32>'}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<1x4x8xf32>) : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @beta_not_taken(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>, %g: tensor<1x4x8xf32>, %b: tensor<1x4x8xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{gate kind 'scalar' takes no beta (only delta and gated_delta do)}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x4x8xf32>) beta(%b : tensor<1x4x8xf32>) : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @beta_missing(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>, %g: tensor<1x4x8xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{gate kind 'gated_delta' needs a beta operand}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x4x8xf32>) : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @beta_shape(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>, %b: tensor<1x2x8xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{beta must have shape [B, H, T] = [1, 4, 8], got 'tensor<1x2x8xf32>'}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = delta beta(%b : tensor<1x2x8xf32>) : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @scale(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{scale must be finite, got INF}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none scale = 0x7F800000 : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @unknown_kind(%q: tensor<1x4x8x4xf32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'gate' [none, scalar, vector, delta, gated_delta]}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = rwkv : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @storage_type(%q: tensor<1x4x8x4xi32>, %k: tensor<1x4x8x4xf32>, %v: tensor<1x4x8x6xf32>) -> (tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x4x8x4xi32>, tensor<1x4x8x4xf32>, tensor<1x4x8x6xf32> -> tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x8x6xf32>, tensor<1x4x4x6xf32>
}
