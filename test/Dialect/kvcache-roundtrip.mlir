// RUN: kestrel-opt %s | kestrel-opt | FileCheck %s
// RUN: kestrel-opt %s --mlir-print-op-generic | kestrel-opt | FileCheck %s

// Every layout of #kestrel.kv_layout, as an attribute on its own.
// CHECK-LABEL: func @layouts
// CHECK-SAME: kestrel.a = #kestrel.kv_layout<head_major>
// CHECK-SAME: kestrel.b = #kestrel.kv_layout<token_major>
// CHECK-SAME: kestrel.c = #kestrel.kv_layout<paged, page_size = 16>
// CHECK-SAME: kestrel.d = #kestrel.kv_layout<mla_latent>
func.func @layouts() attributes {kestrel.a = #kestrel.kv_layout<head_major>, kestrel.b = #kestrel.kv_layout<token_major>, kestrel.c = #kestrel.kv_layout<paged, page_size = 16>, kestrel.d = #kestrel.kv_layout<mla_latent>} {
  return
}

// CHECK-LABEL: func @head_major
// CHECK: kestrel.decode_attention %{{.*}}, %{{.*}}, %{{.*}} layout = #kestrel.kv_layout<head_major> seq_lens(%{{.*}} : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
func.func @head_major(%q: tensor<2x8x1x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>, %len: tensor<2xi32>) -> tensor<2x8x1x32xf32> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<2xi32>)
      : tensor<2x8x1x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x8x1x32xf32>
  return %o : tensor<2x8x1x32xf32>
}

// CHECK-LABEL: func @token_major_lse
// CHECK: kestrel.decode_attention %{{.*}}, %{{.*}}, %{{.*}} layout = #kestrel.kv_layout<token_major> seq_lens(%{{.*}} : tensor<1xi32>) scale = 2.500000e-01 : tensor<1x4x4x16xbf16>, tensor<1x64x4x16xbf16>, tensor<1x64x4x16xbf16> -> tensor<1x4x4x16xbf16>, tensor<1x4x4xf32>
func.func @token_major_lse(%q: tensor<1x4x4x16xbf16>, %k: tensor<1x64x4x16xbf16>, %v: tensor<1x64x4x16xbf16>, %len: tensor<1xi32>) -> (tensor<1x4x4x16xbf16>, tensor<1x4x4xf32>) {
  %o, %lse = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<token_major> seq_lens(%len : tensor<1xi32>) scale = 0.25
      : tensor<1x4x4x16xbf16>, tensor<1x64x4x16xbf16>, tensor<1x64x4x16xbf16> -> tensor<1x4x4x16xbf16>, tensor<1x4x4xf32>
  return %o, %lse : tensor<1x4x4x16xbf16>, tensor<1x4x4xf32>
}

// CHECK-LABEL: func @paged
// CHECK: kestrel.decode_attention %{{.*}}, %{{.*}}, %{{.*}} layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%{{.*}} : tensor<2xi32>) block_table(%{{.*}} : tensor<2x8xi32>) : tensor<2x32x1x128xf16>, tensor<64x16x8x128xf16>, tensor<64x16x8x128xf16> -> tensor<2x32x1x128xf16>
func.func @paged(%q: tensor<2x32x1x128xf16>, %k: tensor<64x16x8x128xf16>, %v: tensor<64x16x8x128xf16>, %len: tensor<2xi32>, %bt: tensor<2x8xi32>) -> tensor<2x32x1x128xf16> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x8xi32>)
      : tensor<2x32x1x128xf16>, tensor<64x16x8x128xf16>, tensor<64x16x8x128xf16> -> tensor<2x32x1x128xf16>
  return %o : tensor<2x32x1x128xf16>
}

// The MLA latent cache has no value operand: values are its first d_c = 512
// channels.
// CHECK-LABEL: func @mla_latent
// CHECK: kestrel.decode_attention %{{.*}}, %{{.*}} layout = #kestrel.kv_layout<mla_latent> seq_lens(%{{.*}} : tensor<1xi32>) : tensor<1x16x1x576xbf16>, tensor<1x4096x576xbf16> -> tensor<1x16x1x512xbf16>
func.func @mla_latent(%q: tensor<1x16x1x576xbf16>, %c: tensor<1x4096x576xbf16>, %len: tensor<1xi32>) -> tensor<1x16x1x512xbf16> {
  %o = kestrel.decode_attention %q, %c layout = #kestrel.kv_layout<mla_latent> seq_lens(%len : tensor<1xi32>)
      : tensor<1x16x1x576xbf16>, tensor<1x4096x576xbf16> -> tensor<1x16x1x512xbf16>
  return %o : tensor<1x16x1x512xbf16>
}

// CHECK-LABEL: func @append
// CHECK: kestrel.kv_append %{{.*}} into %{{.*}} layout = #kestrel.kv_layout<token_major> positions(%{{.*}} : tensor<2xi32>) : tensor<2x8x1x128xf16> into tensor<2x4096x8x128xf16>
// CHECK: kestrel.kv_append %{{.*}} into %{{.*}} layout = #kestrel.kv_layout<paged, page_size = 16> positions(%{{.*}} : tensor<2xi32>) block_table(%{{.*}} : tensor<2x8xi32>) : tensor<2x4x3x64xf32> into tensor<20x16x4x64xf32>
// CHECK: kestrel.kv_append %{{.*}} into %{{.*}} layout = #kestrel.kv_layout<mla_latent> positions(%{{.*}} : tensor<1xi32>) : tensor<1x1x2x72xf32> into tensor<1x64x72xf32>
// CHECK: kestrel.kv_append %{{.*}} into %{{.*}} layout = #kestrel.kv_layout<head_major> positions(%{{.*}} : tensor<1xi32>) : tensor<1x2x2x8xf32> into tensor<1x2x16x8xf32>
func.func @append(%n: tensor<2x8x1x128xf16>, %c: tensor<2x4096x8x128xf16>, %pos: tensor<2xi32>,
                  %np: tensor<2x4x3x64xf32>, %pages: tensor<20x16x4x64xf32>, %bt: tensor<2x8xi32>,
                  %nl: tensor<1x1x2x72xf32>, %lat: tensor<1x64x72xf32>, %p1: tensor<1xi32>,
                  %nh: tensor<1x2x2x8xf32>, %hm: tensor<1x2x16x8xf32>)
    -> (tensor<2x4096x8x128xf16>, tensor<20x16x4x64xf32>, tensor<1x64x72xf32>, tensor<1x2x16x8xf32>) {
  %0 = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<token_major> positions(%pos : tensor<2xi32>)
      : tensor<2x8x1x128xf16> into tensor<2x4096x8x128xf16>
  %1 = kestrel.kv_append %np into %pages layout = #kestrel.kv_layout<paged, page_size = 16> positions(%pos : tensor<2xi32>) block_table(%bt : tensor<2x8xi32>)
      : tensor<2x4x3x64xf32> into tensor<20x16x4x64xf32>
  %2 = kestrel.kv_append %nl into %lat layout = #kestrel.kv_layout<mla_latent> positions(%p1 : tensor<1xi32>)
      : tensor<1x1x2x72xf32> into tensor<1x64x72xf32>
  %3 = kestrel.kv_append %nh into %hm layout = #kestrel.kv_layout<head_major> positions(%p1 : tensor<1xi32>)
      : tensor<1x2x2x8xf32> into tensor<1x2x16x8xf32>
  return %0, %1, %2, %3 : tensor<2x4096x8x128xf16>, tensor<20x16x4x64xf32>, tensor<1x64x72xf32>, tensor<1x2x16x8xf32>
}

// CHECK-LABEL: func @select
// CHECK: kestrel.select_kv_pages %{{.*}}, %{{.*}}, %{{.*}} seq_lens(%{{.*}} : tensor<2xi32>) k = 8 page_size = 16 : tensor<2x32x128xf32>, tensor<2x8x256x128xf32> -> tensor<2x8x8xi32>
// CHECK: kestrel.select_kv_pages %{{.*}}, %{{.*}}, %{{.*}} seq_lens(%{{.*}} : tensor<2xi32>) k = 2 page_size = 64 : tensor<2x32x1x128xf32>, tensor<2x8x256x128xf32> -> tensor<2x8x2xi32>
func.func @select(%q: tensor<2x32x128xf32>, %q4: tensor<2x32x1x128xf32>, %mn: tensor<2x8x256x128xf32>, %mx: tensor<2x8x256x128xf32>, %len: tensor<2xi32>) -> (tensor<2x8x8xi32>, tensor<2x8x2xi32>) {
  %0 = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 8 page_size = 16
      : tensor<2x32x128xf32>, tensor<2x8x256x128xf32> -> tensor<2x8x8xi32>
  %1 = kestrel.select_kv_pages %q4, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 2 page_size = 64
      : tensor<2x32x1x128xf32>, tensor<2x8x256x128xf32> -> tensor<2x8x2xi32>
  return %0, %1 : tensor<2x8x8xi32>, tensor<2x8x2xi32>
}
