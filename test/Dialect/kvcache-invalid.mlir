// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

func.func @dynamic(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x?x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{'kestrel.decode_attention' op needs static shapes; operand #1 is 'tensor<2x2x?x64xf32>'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x?x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @query_rank(%q: tensor<2x8x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{query must be [B, H, T, D], got 'tensor<2x8x64xf32>'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @element_types(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf16>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{query, key, value and result must share one element type, got 'f32', 'f16', 'f32', 'f32'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf16>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @mla_with_value(%q: tensor<2x8x1x64xf32>, %k: tensor<2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{the mla_latent layout takes no value operand: the values are the first Dv channels of the key cache}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<mla_latent> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @missing_value(%q: tensor<2x8x1x64xf32>, %k: tensor<2x128x2x64xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{the token_major layout needs a value cache operand}}
  %o = kestrel.decode_attention %q, %k layout = #kestrel.kv_layout<token_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x128x2x64xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @paged_without_table(%q: tensor<2x8x1x64xf32>, %k: tensor<10x16x2x64xf32>, %v: tensor<10x16x2x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{the paged layout needs a block_table operand}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<10x16x2x64xf32>, tensor<10x16x2x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @table_not_paged(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>, %bt: tensor<2x8xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{block_table is only meaningful with the paged layout, not head_major}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x8xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @key_rank(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64x1xf32>, %v: tensor<2x128x2x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{key cache must be [B, S, Hkv, D] in the token_major layout, got 'tensor<2x2x128x64x1xf32>'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<token_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64x1xf32>, tensor<2x128x2x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @value_rank(%q: tensor<2x8x1x64xf32>, %k: tensor<10x16x2x64xf32>, %v: tensor<10x16x64xf32>, %len: tensor<2xi32>, %bt: tensor<2x8xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{value cache must be [num_pages, page_size, Hkv, D] in the paged layout, got 'tensor<10x16x64xf32>'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x8xi32>) : tensor<2x8x1x64xf32>, tensor<10x16x2x64xf32>, tensor<10x16x64xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @page_size(%q: tensor<2x8x1x64xf32>, %k: tensor<10x8x2x64xf32>, %v: tensor<10x8x2x32xf32>, %len: tensor<2xi32>, %bt: tensor<2x8xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{key cache pages hold 8 tokens but the layout's page_size is 16}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x8xi32>) : tensor<2x8x1x64xf32>, tensor<10x8x2x64xf32>, tensor<10x8x2x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @table_rank(%q: tensor<2x8x1x64xf32>, %k: tensor<10x16x2x64xf32>, %v: tensor<10x16x2x32xf32>, %len: tensor<2xi32>, %bt: tensor<16xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{block_table must be [B, max_pages], got 'tensor<16xi32>'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<16xi32>) : tensor<2x8x1x64xf32>, tensor<10x16x2x64xf32>, tensor<10x16x2x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @value_shape(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x64x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{value cache 'tensor<2x2x64x32xf32>' must match the key cache 'tensor<2x2x128x64xf32>' in all but the last dimension}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x64x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @batch(%q: tensor<2x8x1x64xf32>, %k: tensor<3x2x128x64xf32>, %v: tensor<3x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{batch sizes differ: query 2, key cache 3}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<3x2x128x64xf32>, tensor<3x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @batch_paged(%q: tensor<2x8x1x64xf32>, %k: tensor<10x16x2x64xf32>, %v: tensor<10x16x2x32xf32>, %len: tensor<2xi32>, %bt: tensor<4x8xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{batch sizes differ: query 2, block_table 4}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<4x8xi32>) : tensor<2x8x1x64xf32>, tensor<10x16x2x64xf32>, tensor<10x16x2x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @seq_lens(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<3xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{seq_lens must be [B] = [2], got 'tensor<3xi32>'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<3xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @head_dim(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x48xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{query head dim (64) differs from the key cache's (48)}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x48xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @heads(%q: tensor<2x8x1x64xf32>, %k: tensor<2x3x128x64xf32>, %v: tensor<2x3x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{num_heads (8) must be a multiple of num_kv_heads (3)}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x3x128x64xf32>, tensor<2x3x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @mla_value_dim(%q: tensor<2x8x1x64xf32>, %k: tensor<2x128x64xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x72xf32> {
  // expected-error @+1 {{result must be [B, H, T, Dv] with Dv = d_c <= D = 64 in the mla_latent layout, got 'tensor<2x8x1x72xf32>'}}
  %o = kestrel.decode_attention %q, %k layout = #kestrel.kv_layout<mla_latent> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x128x64xf32> -> tensor<2x8x1x72xf32>
  return %o : tensor<2x8x1x72xf32>
}

// -----

func.func @result(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x2x32xf32> {
  // expected-error @+1 {{result must be [B, H, T, Dv] = [2, 8, 1, 32], got 'tensor<2x8x2x32xf32>'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x2x32xf32>
  return %o : tensor<2x8x2x32xf32>
}

// -----

func.func @lse(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{lse must be [B, H, T] = [2, 8, 1], got 'tensor<2x8xf32>'}}
  %o0, %o1 = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>, tensor<2x8xf32>
  return %o0 : tensor<2x8x1x32xf32>
}

// -----

func.func @scale(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{scale must be finite, got INF}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) scale = 0x7F800000 : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

// expected-error @+1 {{unknown KV cache layout 'row_major' (expected head_major, token_major, paged or mla_latent)}}
func.func @unknown_layout() attributes {kestrel.l = #kestrel.kv_layout<row_major>} {
  return
}

// -----

// expected-error @+1 {{the paged KV layout needs page_size > 0, got 0}}
func.func @paged_no_size() attributes {kestrel.l = #kestrel.kv_layout<paged>} {
  return
}

// -----

// expected-error @+1 {{page_size is only meaningful in the paged KV layout, not token_major}}
func.func @size_not_paged() attributes {kestrel.l = #kestrel.kv_layout<token_major, page_size = 16>} {
  return
}

// -----

// expected-error @+1 {{expected 'page_size'}}
func.func @bad_syntax() attributes {kestrel.l = #kestrel.kv_layout<paged, size = 16>} {
  return
}

// -----

func.func @not_a_layout(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{expected a #kestrel.kv_layout<...> attribute, got 16 : i64}}
  %o = kestrel.decode_attention %q, %k, %v layout = 16 seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @append_dynamic(%n: tensor<2x2x?x64xf32>, %c: tensor<2x2x128x64xf32>, %pos: tensor<2xi32>) -> tensor<2x2x128x64xf32> {
  // expected-error @+1 {{'kestrel.kv_append' op needs static shapes; operand #0 is 'tensor<2x2x?x64xf32>'}}
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<head_major> positions(%pos : tensor<2xi32>) : tensor<2x2x?x64xf32> into tensor<2x2x128x64xf32>
  return %o : tensor<2x2x128x64xf32>
}

// -----

func.func @append_element_type(%n: tensor<2x2x1x64xf16>, %c: tensor<2x2x128x64xf32>, %pos: tensor<2xi32>) -> tensor<2x2x128x64xf32> {
  // expected-error @+1 {{new tokens ('f16') and cache ('f32') must share one element type}}
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<head_major> positions(%pos : tensor<2xi32>) : tensor<2x2x1x64xf16> into tensor<2x2x128x64xf32>
  return %o : tensor<2x2x128x64xf32>
}

// -----

func.func @append_layout(%n: tensor<2x1x1x64xf32>, %c: tensor<2x2x128x64xf32>, %pos: tensor<2xi32>) -> tensor<2x2x128x64xf32> {
  // expected-error @+1 {{the cache must be [B, S, D] in the mla_latent layout, got 'tensor<2x2x128x64xf32>'}}
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<mla_latent> positions(%pos : tensor<2xi32>) : tensor<2x1x1x64xf32> into tensor<2x2x128x64xf32>
  return %o : tensor<2x2x128x64xf32>
}

// -----

func.func @append_table(%n: tensor<2x2x1x64xf32>, %c: tensor<10x16x2x64xf32>, %pos: tensor<2xi32>) -> tensor<10x16x2x64xf32> {
  // expected-error @+1 {{the paged layout needs a block_table operand}}
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<paged, page_size = 16> positions(%pos : tensor<2xi32>) : tensor<2x2x1x64xf32> into tensor<10x16x2x64xf32>
  return %o : tensor<10x16x2x64xf32>
}

// -----

func.func @append_new_shape(%n: tensor<2x4x1x64xf32>, %c: tensor<10x16x2x64xf32>, %pos: tensor<2xi32>, %bt: tensor<2x8xi32>) -> tensor<10x16x2x64xf32> {
  // expected-error @+1 {{new tokens must be [B, Hkv, Tn, D] = [2, 2, Tn, 64] for this cache, got 'tensor<2x4x1x64xf32>'}}
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<paged, page_size = 16> positions(%pos : tensor<2xi32>) block_table(%bt : tensor<2x8xi32>) : tensor<2x4x1x64xf32> into tensor<10x16x2x64xf32>
  return %o : tensor<10x16x2x64xf32>
}

// -----

func.func @append_positions(%n: tensor<2x2x1x64xf32>, %c: tensor<2x2x128x64xf32>, %pos: tensor<2x1xi32>) -> tensor<2x2x128x64xf32> {
  // expected-error @+1 {{positions must be [B] = [2], got 'tensor<2x1xi32>'}}
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<head_major> positions(%pos : tensor<2x1xi32>) : tensor<2x2x1x64xf32> into tensor<2x2x128x64xf32>
  return %o : tensor<2x2x128x64xf32>
}

// -----

func.func @select_dynamic(%q: tensor<2x8x64xf32>, %mn: tensor<2x2x?x64xf32>, %mx: tensor<2x2x?x64xf32>, %len: tensor<2xi32>) -> tensor<2x2x2xi32> {
  // expected-error @+1 {{'kestrel.select_kv_pages' op needs static shapes; operand #1 is 'tensor<2x2x?x64xf32>'}}
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 2 page_size = 16 : tensor<2x8x64xf32>, tensor<2x2x?x64xf32> -> tensor<2x2x2xi32>
  return %o : tensor<2x2x2xi32>
}

// -----

func.func @select_query(%q: tensor<2x8x2x64xf32>, %mn: tensor<2x2x8x64xf32>, %mx: tensor<2x2x8x64xf32>, %len: tensor<2xi32>) -> tensor<2x2x2xi32> {
  // expected-error @+1 {{query must be [B, H, D] or [B, H, 1, D], got 'tensor<2x8x2x64xf32>'}}
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 2 page_size = 16 : tensor<2x8x2x64xf32>, tensor<2x2x8x64xf32> -> tensor<2x2x2xi32>
  return %o : tensor<2x2x2xi32>
}

// -----

func.func @select_element_type(%q: tensor<2x8x64xf16>, %mn: tensor<2x2x8x64xf32>, %mx: tensor<2x2x8x64xf32>, %len: tensor<2xi32>) -> tensor<2x2x2xi32> {
  // expected-error @+1 {{query ('f16') and page key bounds ('f32') must share one element type}}
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 2 page_size = 16 : tensor<2x8x64xf16>, tensor<2x2x8x64xf32> -> tensor<2x2x2xi32>
  return %o : tensor<2x2x2xi32>
}

// -----

func.func @select_bounds(%q: tensor<2x8x64xf32>, %mn: tensor<2x2x8x32xf32>, %mx: tensor<2x2x8x32xf32>, %len: tensor<2xi32>) -> tensor<2x2x2xi32> {
  // expected-error @+1 {{key_min and key_max must be [B, Hkv, P, D] with B = 2, D = 64, got 'tensor<2x2x8x32xf32>'}}
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 2 page_size = 16 : tensor<2x8x64xf32>, tensor<2x2x8x32xf32> -> tensor<2x2x2xi32>
  return %o : tensor<2x2x2xi32>
}

// -----

func.func @select_heads(%q: tensor<2x8x64xf32>, %mn: tensor<2x3x8x64xf32>, %mx: tensor<2x3x8x64xf32>, %len: tensor<2xi32>) -> tensor<2x3x2xi32> {
  // expected-error @+1 {{num_heads (8) must be a multiple of num_kv_heads (3)}}
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 2 page_size = 16 : tensor<2x8x64xf32>, tensor<2x3x8x64xf32> -> tensor<2x3x2xi32>
  return %o : tensor<2x3x2xi32>
}

// -----

func.func @select_seq_lens(%q: tensor<2x8x64xf32>, %mn: tensor<2x2x8x64xf32>, %mx: tensor<2x2x8x64xf32>, %len: tensor<1xi32>) -> tensor<2x2x2xi32> {
  // expected-error @+1 {{seq_lens must be [B] = [2], got 'tensor<1xi32>'}}
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<1xi32>) k = 2 page_size = 16 : tensor<2x8x64xf32>, tensor<2x2x8x64xf32> -> tensor<2x2x2xi32>
  return %o : tensor<2x2x2xi32>
}

// -----

func.func @select_result(%q: tensor<2x8x64xf32>, %mn: tensor<2x2x8x64xf32>, %mx: tensor<2x2x8x64xf32>, %len: tensor<2xi32>) -> tensor<2x2x4xi32> {
  // expected-error @+1 {{result must be [B, Hkv, k] = [2, 2, 2], got 'tensor<2x2x4xi32>'}}
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 2 page_size = 16 : tensor<2x8x64xf32>, tensor<2x2x8x64xf32> -> tensor<2x2x4xi32>
  return %o : tensor<2x2x4xi32>
}

// -----

func.func @select_k(%q: tensor<2x8x64xf32>, %mn: tensor<2x2x8x64xf32>, %mx: tensor<2x2x8x64xf32>, %len: tensor<2xi32>) -> tensor<2x2x0xi32> {
  // expected-error @+1 {{attribute 'k' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 0 page_size = 16 : tensor<2x8x64xf32>, tensor<2x2x8x64xf32> -> tensor<2x2x0xi32>
  return %o : tensor<2x2x0xi32>
}

// -----

func.func @select_min_max(%q: tensor<2x8x64xf32>, %mn: tensor<2x2x8x64xf32>, %mx: tensor<2x2x4x64xf32>, %len: tensor<2xi32>) -> tensor<2x2x2xi32> {
  // expected-error @+1 {{all of {key_min, key_max} have same type}}
  %o = "kestrel.select_kv_pages"(%q, %mn, %mx, %len) {k = 2 : i64, page_size = 16 : i64} : (tensor<2x8x64xf32>, tensor<2x2x8x64xf32>, tensor<2x2x4x64xf32>, tensor<2xi32>) -> tensor<2x2x2xi32>
  return %o : tensor<2x2x2xi32>
}

// -----

func.func @no_pages(%q: tensor<2x8x1x64xf32>, %k: tensor<0x16x2x64xf32>, %v: tensor<0x16x2x32xf32>, %len: tensor<2xi32>, %bt: tensor<2x8xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{key cache has no pages: 'tensor<0x16x2x64xf32>'}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x8xi32>) : tensor<2x8x1x64xf32>, tensor<0x16x2x64xf32>, tensor<0x16x2x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @zero_kv_heads(%q: tensor<2x8x1x64xf32>, %k: tensor<2x0x128x64xf32>, %v: tensor<2x0x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  // expected-error @+1 {{num_heads (8) must be a multiple of num_kv_heads (0)}}
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x0x128x64xf32>, tensor<2x0x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// -----

func.func @mla_element_types(%q: tensor<1x4x1x16xbf16>, %c: tensor<1x32x16xf16>, %len: tensor<1xi32>) -> tensor<1x4x1x8xbf16> {
  // expected-error @+1 {{query, key and result must share one element type, got 'bf16', 'f16', 'bf16'}}
  %o = kestrel.decode_attention %q, %c layout = #kestrel.kv_layout<mla_latent> seq_lens(%len : tensor<1xi32>) : tensor<1x4x1x16xbf16>, tensor<1x32x16xf16> -> tensor<1x4x1x8xbf16>
  return %o : tensor<1x4x1x8xbf16>
}
