// RUN: kestrel-opt %s --split-input-file --kestrel-lower-to-linalg | FileCheck %s

// Paged decode: K and V are gathered through the block table (page index
// clamped into [0, num_pages), slot s % 4) into head-major f32 [B, Hkv, S, D]
// with S = max_pages · page_size = 12, reading 0 past seq_lens; the mask is
// s + T <= t + seq_lens[b]; lse = m + log l.
// CHECK-LABEL: func @paged
// CHECK-NOT: kestrel.
// CHECK: linalg.generic {{.*}}ins(%{{.*}} : tensor<2xi32>) outs(%{{.*}} : tensor<2x2x12x8xf32>)
// CHECK: arith.divui %{{.*}}, %c4
// CHECK: arith.remui %{{.*}}, %c4
// CHECK: tensor.extract %{{.*}} : tensor<2x3xi32>
// CHECK: arith.maxsi %{{.*}}, %c0
// CHECK: arith.minsi %{{.*}}, %c5
// CHECK: tensor.extract %{{.*}} : tensor<6x4x2x8xf32>
// CHECK: arith.select
// CHECK: outs(%{{.*}} : tensor<2x4x2x12xf32>)
// CHECK: arith.addi %{{.*}}, %c2
// CHECK: arith.cmpi sle
// CHECK: math.log
// CHECK: return %{{.*}}, %{{.*}} : tensor<2x4x2x8xf32>, tensor<2x4x2xf32>
func.func @paged(%q: tensor<2x4x2x8xf32>, %k: tensor<6x4x2x8xf32>, %v: tensor<6x4x2x8xf32>, %len: tensor<2xi32>, %bt: tensor<2x3xi32>) -> (tensor<2x4x2x8xf32>, tensor<2x4x2xf32>) {
  %o, %l = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 4> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x3xi32>)
      : tensor<2x4x2x8xf32>, tensor<6x4x2x8xf32>, tensor<6x4x2x8xf32> -> tensor<2x4x2x8xf32>, tensor<2x4x2xf32>
  return %o, %l : tensor<2x4x2x8xf32>, tensor<2x4x2xf32>
}

// -----

// Token-major: element (b, j, s, d) is read at [b, s, j, d].
// CHECK-LABEL: func @token_major
// CHECK: ^bb0(%[[LEN:.*]]: i32, %{{.*}}: f32):
// CHECK: %[[B:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK: %[[S:.*]] = linalg.index 2
// CHECK: %[[D:.*]] = linalg.index 3
// CHECK: tensor.extract %{{.*}}[%[[B]], %[[S]], %[[J]], %[[D]]] : tensor<2x16x2x4xbf16>
// CHECK: arith.extf
// CHECK: arith.truncf
func.func @token_major(%q: tensor<2x2x1x4xbf16>, %k: tensor<2x16x2x4xbf16>, %v: tensor<2x16x2x4xbf16>, %len: tensor<2xi32>) -> tensor<2x2x1x4xbf16> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<token_major> seq_lens(%len : tensor<2xi32>)
      : tensor<2x2x1x4xbf16>, tensor<2x16x2x4xbf16>, tensor<2x16x2x4xbf16> -> tensor<2x2x1x4xbf16>
  return %o : tensor<2x2x1x4xbf16>
}

// -----

// MLA latent: one KV head; values are the first 6 of the 10 latent channels.
// CHECK-LABEL: func @mla_latent
// CHECK: outs(%{{.*}} : tensor<1x1x16x10xf32>)
// CHECK: tensor.extract %{{.*}} : tensor<1x16x10xf32>
// CHECK: outs(%{{.*}} : tensor<1x1x16x6xf32>)
// CHECK: tensor.extract %{{.*}} : tensor<1x16x10xf32>
// CHECK: return %{{.*}} : tensor<1x4x1x6xf32>
func.func @mla_latent(%q: tensor<1x4x1x10xf32>, %c: tensor<1x16x10xf32>, %len: tensor<1xi32>) -> tensor<1x4x1x6xf32> {
  %o = kestrel.decode_attention %q, %c layout = #kestrel.kv_layout<mla_latent> seq_lens(%len : tensor<1xi32>)
      : tensor<1x4x1x10xf32>, tensor<1x16x10xf32> -> tensor<1x4x1x6xf32>
  return %o : tensor<1x4x1x6xf32>
}

// -----

// Append: loops over (b, i); the write at p = positions[b] + i happens only
// when 0 <= p < S = 12 and the page entry names a page of the pool; the
// [Hkv, D] row is copied into the slice at [page, p % 4].
// CHECK-LABEL: func @append_paged
// CHECK: scf.for %[[B:.*]] = %c0 to %c2
// CHECK: scf.for %[[I:.*]] = %c0 to %c3
// CHECK: arith.cmpi slt, %{{.*}}, %c12
// CHECK: arith.cmpi slt, %{{.*}}, %c6
// CHECK: scf.if
// CHECK: tensor.extract_slice %{{.*}}[%[[B]], 0, %[[I]], 0] [1, 2, 1, 8] [1, 1, 1, 1] : tensor<2x2x3x8xf32> to tensor<2x8xf32>
// CHECK: arith.remui %{{.*}}, %c4
// CHECK: linalg.copy
// CHECK: tensor.insert_slice %{{.*}} [1, 1, 2, 8] [1, 1, 1, 1] : tensor<2x8xf32> into tensor<6x4x2x8xf32>
// CHECK: } else {
func.func @append_paged(%n: tensor<2x2x3x8xf32>, %c: tensor<6x4x2x8xf32>, %pos: tensor<2xi32>, %bt: tensor<2x3xi32>) -> tensor<6x4x2x8xf32> {
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<paged, page_size = 4> positions(%pos : tensor<2xi32>) block_table(%bt : tensor<2x3xi32>)
      : tensor<2x2x3x8xf32> into tensor<6x4x2x8xf32>
  return %o : tensor<6x4x2x8xf32>
}

// -----

// Head-major append writes the slice [b, 0, p, 0] of sizes [1, Hkv, 1, D].
// CHECK-LABEL: func @append_head_major
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%{{.*}}, 0, %{{.*}}, 0] [1, 2, 1, 8] [1, 1, 1, 1] : tensor<2x8xf32> into tensor<1x2x16x8xf32>
func.func @append_head_major(%n: tensor<1x2x1x8xf32>, %c: tensor<1x2x16x8xf32>, %pos: tensor<1xi32>) -> tensor<1x2x16x8xf32> {
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<head_major> positions(%pos : tensor<1xi32>)
      : tensor<1x2x1x8xf32> into tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// Quest: per-head bounds [B, H, P], summed over the group of 2 heads
// (unrolled reads of heads 2j and 2j + 1); ranks count better candidates; slot r takes the
// page of rank r - 1, slot 0 the current page n - 1 with n = ceil(L / 4)
// clamped to 5.
// CHECK-LABEL: func @select
// CHECK: linalg.generic {{.*}}ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x1x8xf32>, tensor<2x2x5x8xf32>, tensor<2x2x5x8xf32>) outs(%{{.*}} : tensor<2x4x5xf32>)
// CHECK: arith.maximumf
// CHECK: outs(%{{.*}} : tensor<2x2x5xf32>)
// CHECK: arith.muli %{{.*}}, %c2
// CHECK: tensor.extract %{{.*}} : tensor<2x4x5xf32>
// CHECK: arith.addi %{{.*}}, %c1
// CHECK: tensor.extract %{{.*}} : tensor<2x4x5xf32>
// CHECK: outs(%{{.*}} : tensor<2x2x5xi32>)
// CHECK: arith.cmpf ogt
// CHECK: arith.ceildivsi %{{.*}}, %c4
// CHECK: arith.minsi %{{.*}}, %c5
// CHECK: outs(%{{.*}} : tensor<2x2x3xi32>)
// CHECK: arith.maxsi %{{.*}}, %{{.*}} : i32
func.func @select(%q: tensor<2x4x1x8xf32>, %mn: tensor<2x2x5x8xf32>, %mx: tensor<2x2x5x8xf32>, %len: tensor<2xi32>) -> tensor<2x2x3xi32> {
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 3 page_size = 4
      : tensor<2x4x1x8xf32>, tensor<2x2x5x8xf32> -> tensor<2x2x3xi32>
  return %o : tensor<2x2x3xi32>
}

// -----

// A cache with no position (max_pages = 0) takes no write: the cache itself.
// CHECK-LABEL: func @append_nowhere
// CHECK-NOT: scf.for
// CHECK: return %arg1
func.func @append_nowhere(%n: tensor<1x2x1x8xf32>, %c: tensor<3x4x2x8xf32>, %pos: tensor<1xi32>, %bt: tensor<1x0xi32>) -> tensor<3x4x2x8xf32> {
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<paged, page_size = 4> positions(%pos : tensor<1xi32>) block_table(%bt : tensor<1x0xi32>)
      : tensor<1x2x1x8xf32> into tensor<3x4x2x8xf32>
  return %o : tensor<3x4x2x8xf32>
}
