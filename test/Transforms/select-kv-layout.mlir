// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-select-kv-layout{target=cuda}))' | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-select-kv-layout{target=cpu page-size=16}))' | FileCheck %s --check-prefix=PAGED
// RUN: not kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-select-kv-layout{target=tpu}))' 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: unknown target 'tpu' (expected cpu or cuda)

// A head-major cache from the caller is already the preferred layout.
// CHECK-LABEL: func.func @arg_head_major
// CHECK: kestrel.decode_attention {{.*}} layout = #kestrel.kv_layout<head_major>
// CHECK-SAME: kestrel.kv_layout_reason = "head_major: contiguous decode on cuda: the 256x64 keys of a KV head are one run that each KV split streams with 16-byte loads, read once for the 4 query heads of the group"
// CHECK-NOT: kv_layout_from
// With page-size=16 paging is preferred, but the caller's cache is kept.
// PAGED-LABEL: func.func @arg_head_major
// PAGED: layout = #kestrel.kv_layout<head_major>
// PAGED-SAME: kestrel.kv_layout_reason = "head_major kept (preferred paged<16>: page-size=16 requested and the capacity 256 is 16 whole pages): the cache is function argument #1, whose layout the caller fixes; converting it would copy 0.1 MiB per call"
func.func @arg_head_major(%q: tensor<2x8x1x64xbf16>, %k: tensor<2x2x256x64xbf16>, %v: tensor<2x2x256x64xbf16>, %len: tensor<2xi32>) -> tensor<2x8x1x64xbf16> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>)
      : tensor<2x8x1x64xbf16>, tensor<2x2x256x64xbf16>, tensor<2x2x256x64xbf16> -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// -----

// A token-major cache from the caller: head-major is preferred, but
// converting would copy the cache on every call, so it is kept.
// CHECK-LABEL: func.func @arg_token_major
// CHECK: layout = #kestrel.kv_layout<token_major>
// CHECK-SAME: kestrel.kv_layout_reason = "token_major kept (preferred head_major: contiguous decode on cuda: {{.*}}): the cache is function argument #1, whose layout the caller fixes; converting it would copy 0.1 MiB per call"
func.func @arg_token_major(%q: tensor<2x8x1x64xbf16>, %k: tensor<2x256x2x64xbf16>, %v: tensor<2x256x2x64xbf16>, %len: tensor<2xi32>) -> tensor<2x8x1x64xbf16> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<token_major> seq_lens(%len : tensor<2xi32>)
      : tensor<2x8x1x64xbf16>, tensor<2x256x2x64xbf16>, tensor<2x256x2x64xbf16> -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// -----

// The function builds its caches (tensor.empty, a splat constant): the
// whole chain kv_append -> decode_attention is re-laid out for free.
// CHECK-LABEL: func.func @created
// CHECK-DAG: %[[E:.*]] = tensor.empty() : tensor<2x2x256x64xbf16>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<2x2x256x64xbf16>
// CHECK: %[[K:.*]] = kestrel.kv_append %{{.*}} into %[[E]] layout = #kestrel.kv_layout<head_major>
// CHECK-SAME: kestrel.kv_layout_from = #kestrel.kv_layout<token_major>
// CHECK-SAME: kestrel.kv_layout_reason = "head_major: contiguous decode on cuda: {{.*}}; the function creates the cache, so it takes this layout at no cost"
// CHECK: %[[V:.*]] = kestrel.kv_append %{{.*}} into %[[Z]] layout = #kestrel.kv_layout<head_major>
// CHECK: kestrel.decode_attention %{{.*}}, %[[K]], %[[V]] layout = #kestrel.kv_layout<head_major>
// CHECK-SAME: kestrel.kv_layout_from = #kestrel.kv_layout<token_major>
// CHECK-SAME: tensor<2x2x256x64xbf16>, tensor<2x2x256x64xbf16> -> tensor<2x8x1x64xbf16>
// With page-size=16: pages of 16 tokens and the identity block table.
// PAGED-LABEL: func.func @created
// PAGED-DAG: %[[E:.*]] = tensor.empty() : tensor<32x16x2x64xbf16>
// PAGED-DAG: %[[BT:.*]] = arith.constant dense<{{\[\[}}0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [16, {{.*}}, 31]]> : tensor<2x16xi32>
// PAGED: kestrel.kv_append %{{.*}} into %[[E]] layout = #kestrel.kv_layout<paged, page_size = 16> positions({{.*}}) block_table(%[[BT]] : tensor<2x16xi32>)
// PAGED-SAME: kestrel.kv_layout_reason = "paged<16>: page-size=16 requested and the capacity 256 is 16 whole pages; the function creates the cache, so it takes this layout at no cost"
// PAGED: kestrel.decode_attention {{.*}} layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens({{.*}}) block_table(%[[BT]] : tensor<2x16xi32>)
func.func @created(%q: tensor<2x8x1x64xbf16>, %nk: tensor<2x2x1x64xbf16>, %nv: tensor<2x2x1x64xbf16>, %len: tensor<2xi32>) -> tensor<2x8x1x64xbf16> {
  %e = tensor.empty() : tensor<2x256x2x64xbf16>
  %z = arith.constant dense<0.0> : tensor<2x256x2x64xbf16>
  %pos = arith.constant dense<0> : tensor<2xi32>
  %k = kestrel.kv_append %nk into %e layout = #kestrel.kv_layout<token_major> positions(%pos : tensor<2xi32>) : tensor<2x2x1x64xbf16> into tensor<2x256x2x64xbf16>
  %v = kestrel.kv_append %nv into %z layout = #kestrel.kv_layout<token_major> positions(%pos : tensor<2xi32>) : tensor<2x2x1x64xbf16> into tensor<2x256x2x64xbf16>
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<token_major> seq_lens(%len : tensor<2xi32>)
      : tensor<2x8x1x64xbf16>, tensor<2x256x2x64xbf16>, tensor<2x256x2x64xbf16> -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// -----

// The appended cache is also returned: retyping it would change the
// function's result, so the layout stays.
// CHECK-LABEL: func.func @escapes
// CHECK: kestrel.kv_append {{.*}} layout = #kestrel.kv_layout<token_major>
// CHECK-SAME: kestrel.kv_layout_reason = "token_major kept (preferred head_major: {{.*}}): a cache is also used by 'func.return', which would see the new layout; converting it would copy 0.1 MiB per call"
func.func @escapes(%q: tensor<2x8x1x64xbf16>, %nk: tensor<2x2x1x64xbf16>, %v: tensor<2x256x2x64xbf16>, %len: tensor<2xi32>) -> (tensor<2x8x1x64xbf16>, tensor<2x256x2x64xbf16>) {
  %e = tensor.empty() : tensor<2x256x2x64xbf16>
  %pos = arith.constant dense<0> : tensor<2xi32>
  %k = kestrel.kv_append %nk into %e layout = #kestrel.kv_layout<token_major> positions(%pos : tensor<2xi32>) : tensor<2x2x1x64xbf16> into tensor<2x256x2x64xbf16>
  %o = kestrel.decode_attention %q, %k, %k layout = #kestrel.kv_layout<token_major> seq_lens(%len : tensor<2xi32>)
      : tensor<2x8x1x64xbf16>, tensor<2x256x2x64xbf16>, tensor<2x256x2x64xbf16> -> tensor<2x8x1x64xbf16>
  return %o, %k : tensor<2x8x1x64xbf16>, tensor<2x256x2x64xbf16>
}

// -----

// Paged caches (the caller owns the block table) and the MLA latent cache
// keep their layout.
// CHECK-LABEL: func.func @paged_and_mla
// CHECK: layout = #kestrel.kv_layout<paged, page_size = 4>
// CHECK-SAME: kestrel.kv_layout_reason = "paged<4> kept: the caller owns the pages through the block table"
// CHECK: layout = #kestrel.kv_layout<mla_latent>
// CHECK-SAME: kestrel.kv_layout_reason = "mla_latent kept: the absorbed MLA form reads one latent head [c_kv ; k_r] for every query head, values being its first d_c channels"
func.func @paged_and_mla(%q: tensor<2x4x1x8xf32>, %k: tensor<6x4x2x8xf32>, %v: tensor<6x4x2x8xf32>, %len: tensor<2xi32>, %bt: tensor<2x3xi32>,
                         %qm: tensor<2x4x1x24xf32>, %lat: tensor<2x32x24xf32>) -> (tensor<2x4x1x8xf32>, tensor<2x4x1x16xf32>) {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 4> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x3xi32>)
      : tensor<2x4x1x8xf32>, tensor<6x4x2x8xf32>, tensor<6x4x2x8xf32> -> tensor<2x4x1x8xf32>
  %m = kestrel.decode_attention %qm, %lat layout = #kestrel.kv_layout<mla_latent> seq_lens(%len : tensor<2xi32>)
      : tensor<2x4x1x24xf32>, tensor<2x32x24xf32> -> tensor<2x4x1x16xf32>
  return %o, %m : tensor<2x4x1x8xf32>, tensor<2x4x1x16xf32>
}
