// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-decode-attention))' | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-decode-attention{split-keys=128}))' | FileCheck %s --check-prefix=SPLIT

// Paged bf16 GQA (8 query heads over 2 KV heads, T = 2: 8 rows per KV
// group), S = 32 pages x 16 = 512 keys: 8 tiles of 64 keys, at least 4 per
// split -> 2 splits. Split kernel: grid (2 splits, B * Hkv = 4), 128 threads;
// partial O [B, H, T, splits, Dv] and lse [B, H, T, splits] in f32; merge
// kernel: one block per (b, h, t) = 32, one thread per value column.
// CHECK-LABEL: func.func @paged
// CHECK-NOT: kestrel.decode_attention
// CHECK-DAG: %[[OP:.*]] = memref.alloc() : memref<2x8x2x2x128xf32>
// CHECK-DAG: %[[LP:.*]] = memref.alloc() : memref<2x8x2x2xf32>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() : memref<2x8x2x128xbf16>
// CHECK-DAG: %[[LSE:.*]] = memref.alloc() : memref<2x8x2xf32>
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C2]], {{.*}} = %[[C4]], {{.*}}) threads({{.*}}) in ({{.*}} = %{{.*}}, {{.*}}) workgroup(%[[KT:.*]] : memref<64x136xbf16, #gpu.address_space<workgroup>>, %[[VT:.*]] : memref<64x136xbf16, #gpu.address_space<workgroup>>, %[[QS:.*]] : memref<8x128xf32, #gpu.address_space<workgroup>>, %[[PS:.*]] : memref<8x64xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8xf32, {{.*}}>, %{{.*}} : memref<8xf32, {{.*}}>, %{{.*}} : memref<8xf32, {{.*}}>)
// The row's length bounds the split's keys.
// CHECK: memref.load %{{.*}} : memref<2xi32>
// Q rows of the group, scaled by log2(e) / sqrt(128), as f32.
// CHECK: arith.constant 0.127517432 : f32
// CHECK: vector.store {{.*}}, %[[QS]]
// The first tile's vectors are loaded through the block table.
// CHECK: scf.if
// CHECK: memref.load %{{.*}} : memref<2x32xi32>
// CHECK: vector.load {{.*}} {alignment = 16 : i64} : memref<70x16x2x128xbf16>, vector<8xbf16>
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} iter_args
// A: store this tile, prefetch the next one into registers.
// CHECK: vector.store {{.*}}, %[[KT]]
// CHECK: vector.store {{.*}}, %[[VT]]
// CHECK: scf.if
// CHECK: vector.load {{.*}} : memref<70x16x2x128xbf16>, vector<8xbf16>
// CHECK: gpu.barrier
// B: scores with f32 FMAs over 16-byte vectors of K.
// CHECK: vector.load %[[KT]]
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: vector.reduction <add>
// CHECK: memref.store {{.*}}, %[[PS]]
// CHECK: gpu.barrier
// C: online softmax, a warp per row.
// CHECK: gpu.shuffle  xor
// CHECK: math.exp2
// CHECK: gpu.barrier
// D: P V into per-thread accumulators.
// CHECK: scf.for
// CHECK: vector.load %[[PS]]
// CHECK: vector.load %[[VT]]
// CHECK: vector.fma {{.*}} : vector<2xf32>
// CHECK: gpu.barrier
// Partial results.
// CHECK: vector.store {{.*}}, %[[OP]]
// CHECK: math.log2
// CHECK: memref.store {{.*}}, %[[LP]]
// CHECK: gpu.terminator
// The merge: max, then exp-weighted sum over the splits.
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c32
// CHECK: scf.for
// CHECK: memref.load %[[LP]]
// CHECK: arith.maximumf
// CHECK: scf.for
// CHECK: math.exp
// CHECK: memref.load %[[OP]]
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: memref.store {{.*}}, %[[OUT]]
// CHECK: math.log
// CHECK: memref.store {{.*}}, %[[LSE]]
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: bufferization.to_tensor %[[LSE]] restrict writable
// split-keys=128 gives 4 splits of 2 tiles.
// SPLIT-LABEL: func.func @paged
// SPLIT: memref.alloc() : memref<2x8x2x4x128xf32>
func.func @paged(%q: tensor<2x8x2x128xbf16>, %k: tensor<70x16x2x128xbf16>, %v: tensor<70x16x2x128xbf16>, %len: tensor<2xi32>, %bt: tensor<2x32xi32>) -> (tensor<2x8x2x128xbf16>, tensor<2x8x2xf32>) {
  %o, %l = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 16> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x32xi32>)
      : tensor<2x8x2x128xbf16>, tensor<70x16x2x128xbf16>, tensor<70x16x2x128xbf16> -> tensor<2x8x2x128xbf16>, tensor<2x8x2xf32>
  return %o, %l : tensor<2x8x2x128xbf16>, tensor<2x8x2xf32>
}

// -----

// MLA latent: one KV head, values are the first 128 of the 192 channels
// of the same rows; 16 rows and 192 + 128 columns make 64-key tiles too big
// for 48 KiB of shared memory, so tiles hold 32 keys.
// CHECK-LABEL: func.func @mla
// CHECK: workgroup(%{{.*}} : memref<32x200xf16, {{.*}}>, %{{.*}} : memref<32x136xf16, {{.*}}>, %{{.*}} : memref<16x192xf32, {{.*}}>, %{{.*}} : memref<16x32xf32, {{.*}}>
// CHECK-NOT: kestrel.decode_attention
func.func @mla(%q: tensor<2x16x1x192xf16>, %lat: tensor<2x1024x192xf16>, %len: tensor<2xi32>) -> tensor<2x16x1x128xf16> {
  %o = kestrel.decode_attention %q, %lat layout = #kestrel.kv_layout<mla_latent> seq_lens(%len : tensor<2xi32>)
      : tensor<2x16x1x192xf16>, tensor<2x1024x192xf16> -> tensor<2x16x1x128xf16>
  return %o : tensor<2x16x1x128xf16>
}

// -----

// More than 64 rows per KV group (g = 32, T = 4) is left to the reference
// lowering.
// CHECK-LABEL: func.func @too_many_rows
// CHECK: kestrel.decode_attention
// CHECK-NOT: gpu.launch
func.func @too_many_rows(%q: tensor<1x32x4x64xbf16>, %k: tensor<1x1x256x64xbf16>, %v: tensor<1x1x256x64xbf16>, %len: tensor<1xi32>) -> tensor<1x32x4x64xbf16> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<1xi32>)
      : tensor<1x32x4x64xbf16>, tensor<1x1x256x64xbf16>, tensor<1x1x256x64xbf16> -> tensor<1x32x4x64xbf16>
  return %o : tensor<1x32x4x64xbf16>
}

// -----

// kv_append on a paged cache: copy into the result, then one scatter
// launch over B * Hkv * Tn * D / 8 vectors; each write checks every later
// (b, i) for the same slot.
// CHECK-LABEL: func.func @append
// CHECK: %[[R:.*]] = memref.alloc() : memref<9x4x2x64xbf16>
// CHECK: memref.copy %{{.*}}, %[[R]]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1
// CHECK: scf.if
// CHECK: memref.load %{{.*}} : memref<2x4xi32>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.if
// CHECK: vector.load {{.*}} : memref<2x2x3x64xbf16>, vector<8xbf16>
// CHECK: vector.store {{.*}}, %[[R]]
// CHECK: bufferization.to_tensor %[[R]]
func.func @append(%n: tensor<2x2x3x64xbf16>, %c: tensor<9x4x2x64xbf16>, %pos: tensor<2xi32>, %bt: tensor<2x4xi32>) -> tensor<9x4x2x64xbf16> {
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<paged, page_size = 4> positions(%pos : tensor<2xi32>) block_table(%bt : tensor<2x4xi32>)
      : tensor<2x2x3x64xbf16> into tensor<9x4x2x64xbf16>
  return %o : tensor<9x4x2x64xbf16>
}

// -----

// The op's kestrel.split_keys attribute overrides the split size: 192 keys
// (3 tiles of 64) per split, so S = 1000 takes 6 splits, the last one of
// 40 keys.
// CHECK-LABEL: func.func @split_attr
// CHECK: memref.alloc() : memref<1x4x1x6x64xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c6{{.*}}, {{.*}} = %c2
func.func @split_attr(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x1000x64xbf16>, %v: tensor<1x2x1000x64xbf16>, %len: tensor<1xi32>) -> tensor<1x4x1x64xbf16> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<1xi32>) {kestrel.split_keys = 192 : i64}
      : tensor<1x4x1x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x2x1000x64xbf16> -> tensor<1x4x1x64xbf16>
  return %o : tensor<1x4x1x64xbf16>
}

// -----

// 16 rows per KV group (g = 4, T = 4): no register prefetch by default, each
// iteration loads its own tile (the loop carries only the accumulators);
// kestrel.decode_prefetch = true brings it back (the K/V vectors are
// carried too).
// CHECK-LABEL: func.func @prefetch_default_off
// CHECK: scf.for {{.*}} -> (vector<2xf32>, vector<2xf32>, vector<2xf32>, vector<2xf32>, vector<2xf32>, vector<2xf32>, vector<2xf32>, vector<2xf32>)
// CHECK-NEXT: arith.constant 64 : index
// CHECK: vector.load {{.*}} : memref<1x2x1000x128xbf16>, vector<8xbf16>
// CHECK-LABEL: func.func @prefetch_on
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xbf16>,
func.func @prefetch_default_off(%q: tensor<1x8x4x128xbf16>, %k: tensor<1x2x1000x128xbf16>, %v: tensor<1x2x1000x128xbf16>, %len: tensor<1xi32>) -> tensor<1x8x4x128xbf16> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<1xi32>)
      : tensor<1x8x4x128xbf16>, tensor<1x2x1000x128xbf16>, tensor<1x2x1000x128xbf16> -> tensor<1x8x4x128xbf16>
  return %o : tensor<1x8x4x128xbf16>
}
func.func @prefetch_on(%q: tensor<1x8x4x128xbf16>, %k: tensor<1x2x1000x128xbf16>, %v: tensor<1x2x1000x128xbf16>, %len: tensor<1xi32>) -> tensor<1x8x4x128xbf16> {
  %o = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<head_major> seq_lens(%len : tensor<1xi32>) {kestrel.decode_prefetch = true}
      : tensor<1x8x4x128xbf16>, tensor<1x2x1000x128xbf16>, tensor<1x2x1000x128xbf16> -> tensor<1x8x4x128xbf16>
  return %o : tensor<1x8x4x128xbf16>
}
