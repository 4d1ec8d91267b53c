// RUN: kestrel-opt %s --split-input-file --verify-diagnostics

// Malformed or misplaced decisions are rejected by the IR verifier
// (DecisionAttrs.cpp), before any pass reads them.

func.func @zero_query_tile(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{#kestrel.attention_tiles: query must be positive, got 0}}
  %o = kestrel.attention %q, %q, %q {kestrel.tile = #kestrel.attention_tiles<query = 0, key = 4>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @negative_key_tile(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{#kestrel.attention_tiles: key must be positive, got -4}}
  %o = kestrel.attention %q, %q, %q {kestrel.tile = #kestrel.attention_tiles<query = 4, key = -4>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// The untyped form of the old string-keyed attribute is no longer accepted.
func.func @untyped_tile(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{'kestrel.attention' op cannot carry kestrel.tile = array<i64: 4, 4>: expected #kestrel.attention_tiles<query = Br, key = Bc> on a kestrel.attention}}
  %o = kestrel.attention %q, %q, %q {kestrel.tile = array<i64: 4, 4>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// A MoE register tile means nothing on an attention.
func.func @moe_tile_on_attention(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{'kestrel.attention' op cannot carry kestrel.tile = #kestrel.moe_register_tile<rows = 4, cols = 16>}}
  %o = kestrel.attention %q, %q, %q {kestrel.tile = #kestrel.moe_register_tile<rows = 4, cols = 16>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

// A chunk length only means something on a gated recurrence.
func.func @chunk_on_rms_norm(%x: tensor<4x8xf32>, %w: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'kestrel.rms_norm' op cannot carry kestrel.chunk = #kestrel.chunk<4>: expected #kestrel.chunk<C> on a kestrel.gated_recurrence or gpu.launch}}
  %y = kestrel.rms_norm %x, %w eps = 1.0e-06 {kestrel.chunk = #kestrel.chunk<4>} : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @zero_vocab_block(%l: tensor<1x4x20xf32>, %t: tensor<1x4xi64>) -> (tensor<1x4xi64>, tensor<1x4xf32>) {
  // expected-error @+1 {{#kestrel.vocab_block: the block must be positive, got 0}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 1 {kestrel.tile = #kestrel.vocab_block<0>}
      : tensor<1x4x20xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %c : tensor<1x4xi64>, tensor<1x4xf32>
}

// -----

func.func @negative_bounds(%x: tensor<4x16xf32>, %i: tensor<4x2xi32>, %w: tensor<4x2xf32>,
    %w1: tensor<4x16x32xf32>, %w3: tensor<4x16x32xf32>, %w2: tensor<4x32x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{#kestrel.moe_bounds: pairs and per_expert must be >= 0, got -1 and 4}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) {kestrel.moe_bounds = #kestrel.moe_bounds<pairs = -1, per_expert = 4>}
      : tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x16x32xf32>,
        tensor<4x16x32xf32>, tensor<4x32x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// The table must have as many rows and columns as the op's tiles: 16 / 8
// query tiles, 16 / 4 key tiles.
func.func @classes_wrong_shape(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{'kestrel.attention' op kestrel.tile_classes is a 2x2 table, but #kestrel.attention_tiles<query = 8, key = 4> over T = 16, S = 16 makes 2x4 tiles}}
  %o = kestrel.attention %q, %q, %q causal {kestrel.tile = #kestrel.attention_tiles<query = 8, key = 4>, kestrel.tile_classes = #kestrel.tile_classes<["p.", "fp"], skipped = 1, full = 1, partial = 2>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @classes_without_tile(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{'kestrel.attention' op has kestrel.tile_classes but no kestrel.tile = #kestrel.attention_tiles<...> they classify}}
  %o = kestrel.attention %q, %q, %q causal {kestrel.tile_classes = #kestrel.tile_classes<["p.", "fp"], skipped = 1, full = 1, partial = 2>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @classes_bad_char(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{#kestrel.tile_classes: 'x' is none of '.' (skipped), 'f' (full), 'p' (partial)}}
  %o = kestrel.attention %q, %q, %q causal {kestrel.tile = #kestrel.attention_tiles<query = 8, key = 8>, kestrel.tile_classes = #kestrel.tile_classes<["px", "fp"], skipped = 1, full = 1, partial = 2>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @classes_ragged(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{#kestrel.tile_classes: row 1 has 1 key tiles, the first has 2}}
  %o = kestrel.attention %q, %q, %q causal {kestrel.tile = #kestrel.attention_tiles<query = 8, key = 8>, kestrel.tile_classes = #kestrel.tile_classes<["p.", "f"], skipped = 1, full = 1, partial = 1>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @classes_wrong_counts(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-error @+1 {{#kestrel.tile_classes: the table has 2 partial tiles, the summary says 1}}
  %o = kestrel.attention %q, %q, %q causal {kestrel.tile = #kestrel.attention_tiles<query = 8, key = 8>, kestrel.tile_classes = #kestrel.tile_classes<["p.", "fp"], skipped = 1, full = 1, partial = 1>} : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// -----

func.func @contraction_on_loop() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{'scf.for' op cannot carry kestrel.contraction = unit: expected a unit attribute on a linalg.generic}}
  scf.for %i = %c0 to %c1 step %c1 {
  } {kestrel.contraction}
  return
}

// -----

func.func @stage_as_string() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{'scf.for' op cannot carry kestrel.moe_stage = "up": expected #kestrel.moe_stage<...> on an scf.for, scf.forall or gpu.launch}}
  scf.for %i = %c0 to %c1 step %c1 {
  } {kestrel.moe_stage = "up"}
  return
}

// -----

func.func @split_keys_zero(%q: tensor<1x4x1x64xf16>, %k: tensor<1x1x256x64xf16>, %len: tensor<1xi32>) -> tensor<1x4x1x64xf16> {
  // expected-error @+1 {{'kestrel.decode_attention' op cannot carry kestrel.split_keys = 0 : i64: expected a positive integer on a kestrel.decode_attention}}
  %o = kestrel.decode_attention %q, %k, %k layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<1xi32>) {kestrel.split_keys = 0 : i64}
      : tensor<1x4x1x64xf16>, tensor<1x1x256x64xf16>, tensor<1x1x256x64xf16> -> tensor<1x4x1x64xf16>
  return %o : tensor<1x4x1x64xf16>
}

// -----

func.func @recurrence_kernel_unknown(%q: tensor<1x1x4x8xf32>) -> (tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>) {
  // expected-error @+1 {{'kestrel.gated_recurrence' op cannot carry kestrel.recurrence_kernel = "wgmma": expected "chunked_mma", "chunked_mma_scores", "chunk_scores", "chunk_wy", "chunk_gla", "chunk_states", "chunk_output" or "recurrent" on a kestrel.gated_recurrence or gpu.launch}}
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = none {kestrel.recurrence_kernel = "wgmma"} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
  return %o, %s : tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
}

// -----

func.func @value_tile_zero(%q: tensor<1x1x4x8xf32>) -> (tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>) {
  // expected-error @+1 {{'kestrel.gated_recurrence' op cannot carry kestrel.value_tile = 0 : i64: expected a positive integer on a kestrel.gated_recurrence or gpu.launch}}
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = none {kestrel.value_tile = 0 : i64} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
  return %o, %s : tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
}
