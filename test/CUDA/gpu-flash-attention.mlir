// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{rows-per-warp=32}))' | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention))' | FileCheck %s --check-prefix=AUTO
// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{rows-per-warp=16}))' | FileCheck %s --check-prefix=R16
// RUN: not kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{rows-per-warp=48}))' 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: kestrel-gpu-flash-attention: rows-per-warp must be 0 (auto), 16 or 32, got 48

// bf16 GQA (4 query heads over 2 KV heads), causal window with sinks, T not
// a multiple of the query tile: one block per (query tile, batch x head),
// K/V tiles in padded dynamic shared memory, ldmatrix + mma.sync for both
// products. By default each warp owns 32 rows (128 per block: one query
// tile here), with 16 rows per warp 64 (two tiles). At D = 64, Q stays in
// registers: 18432 bytes = K and V tiles of 64 x (64 + 8) bf16.
// CHECK-LABEL: func.func @gqa_window
// CHECK-NOT: kestrel.attention {{%}}
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<2x4x100x64xbf16>
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 18432 : i32
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{(_[0-9]+)?}}, {{.*}} = %[[C8]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C128]], {{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK: gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// Q fragments of both row tiles are loaded once into registers.
// CHECK-COUNT-32: vector.load {{.*}} : memref<2x4x100x64xbf16>, vector<2xbf16>
// CHECK-NOT: vector.load
// By default (auto) 32 rows per warp would launch 8 blocks, fewer than an
// H100's 132 SMs: 16 rows per warp, two query tiles.
// AUTO-LABEL: func.func @gqa_window
// AUTO: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{(_[0-9]+)?}}, {{.*}} = %c8{{(_[0-9]+)?}}
// R16-LABEL: func.func @gqa_window
// R16-DAG: %[[C2:.*]] = arith.constant 2 : index
// R16-DAG: %[[C8:.*]] = arith.constant 8 : index
// R16: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C2]], {{.*}} = %[[C8]], {{.*}}) threads
// R16-COUNT-16: vector.load {{.*}} : memref<2x4x100x64xbf16>, vector<2xbf16>
// R16-NOT: vector.load
// R16: nvvm.mma.sync
// Prologue: the first tile's K and V as two cp.async groups (16 bytes per
// copy, straight into the padded shared tiles).
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// One loop over key tiles: sink tiles first, then the band. Each step waits
// for K, computes S = Q K^T, starts the next K while it does the softmax,
// waits for V, computes P V and starts the next V.
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>, num = 4
// CHECK: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// Only tiles that straddle a mask edge pay for the mask.
// CHECK: scf.if {{.*}} -> (f32,
// CHECK: arith.select
// CHECK: } else {
// CHECK-NEXT: scf.yield
// CHECK: gpu.shuffle xor
// CHECK: llvm.intr.fma
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>, num = 4
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.yield
// Nothing is in flight when the block exits.
// CHECK: nvvm.cp.async.wait.group 0
// Rows past T are not stored.
// CHECK: scf.if
// CHECK: vector.store {{.*}}, %[[OUT]]
// CHECK: gpu.terminator
// The launch records the kernel and its tiles.
// CHECK-NEXT: } {kestrel.attention_kernel = "mma_sync", kestrel.tile = #kestrel.attention_tiles<query = 128, key = 64>}
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// R16: kestrel.tile = #kestrel.attention_tiles<query = 64, key = 64>
func.func @gqa_window(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x2x100x64xbf16>, %v: tensor<2x2x100x64xbf16>) -> tensor<2x4x100x64xbf16> {
  %o = kestrel.attention %q, %k, %v causal window = 32 sinks = 4 : tensor<2x4x100x64xbf16>, tensor<2x2x100x64xbf16>, tensor<2x2x100x64xbf16> -> tensor<2x4x100x64xbf16>
  return %o : tensor<2x4x100x64xbf16>
}

// -----

// f16, D = 128: shared rows padded to 136 elements. Two row tiles per warp
// at D = 128 put Q in shared memory (69632 bytes = a 128-row Q tile plus
// the 64-row K and V tiles), copied as the first cp.async group and read
// with ldmatrix per k-step; with 16 rows per warp Q stays in registers and
// only K and V are shared (34816 bytes). Not causal and S a multiple of the
// key tile: no tile is masked, so no mask code at all.
// CHECK-LABEL: func.func @f16_d128
// CHECK: arith.constant 69632 : i32
// CHECK: gpu.dynamic_shared_memory
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>, num = 4
// CHECK: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// R16-LABEL: func.func @f16_d128
// R16: arith.constant 34816 : i32
// CHECK-NOT: scf.if {{.*}} -> (f32
// CHECK: math.tanh
// CHECK-NOT: scf.if {{.*}} -> (f32
// CHECK: nvvm.cp.async.wait.group 0
func.func @f16_d128(%q: tensor<1x2x64x128xf16>, %k: tensor<1x2x64x128xf16>, %v: tensor<1x2x64x128xf16>) -> tensor<1x2x64x128xf16> {
  %o = kestrel.attention %q, %k, %v softcap = 30.0 : tensor<1x2x64x128xf16>, tensor<1x2x64x128xf16>, tensor<1x2x64x128xf16> -> tensor<1x2x64x128xf16>
  return %o : tensor<1x2x64x128xf16>
}

// -----

// Auto at prefill size: B1 H16 T4096 gives 512 blocks of 128 rows, so two
// row tiles per warp and Q in shared memory (D = 128).
// AUTO-LABEL: func.func @auto_large
// AUTO: arith.constant 69632 : i32
// AUTO: gpu.launch blocks({{.*}}) in ({{.*}} = %c32{{(_[0-9]+)?}}, {{.*}} = %c16{{(_[0-9]+)?}}
func.func @auto_large(%q: tensor<1x16x4096x128xbf16>, %k: tensor<1x16x4096x128xbf16>, %v: tensor<1x16x4096x128xbf16>) -> tensor<1x16x4096x128xbf16> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x16x4096x128xbf16>, tensor<1x16x4096x128xbf16>, tensor<1x16x4096x128xbf16> -> tensor<1x16x4096x128xbf16>
  return %o : tensor<1x16x4096x128xbf16>
}

// -----

// Left for the reference lowering: f32 with a head dim that is not a
// multiple of 16 (the f32 kernel's), bf16 head dim 96, bf16 Dv != D.
// CHECK-LABEL: func.func @not_covered
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: kestrel.attention
func.func @not_covered(%q: tensor<1x1x8x40xf32>, %k: tensor<1x1x8x40xf32>, %v: tensor<1x1x8x64xf32>,
                       %q2: tensor<1x1x8x96xbf16>, %k2: tensor<1x1x8x96xbf16>, %v2: tensor<1x1x8x96xbf16>,
                       %v3: tensor<1x1x8x128xbf16>, %q3: tensor<1x1x8x64xbf16>, %k3: tensor<1x1x8x64xbf16>)
    -> (tensor<1x1x8x64xf32>, tensor<1x1x8x96xbf16>, tensor<1x1x8x128xbf16>) {
  %a = kestrel.attention %q, %k, %v : tensor<1x1x8x40xf32>, tensor<1x1x8x40xf32>, tensor<1x1x8x64xf32> -> tensor<1x1x8x64xf32>
  %b = kestrel.attention %q2, %k2, %v2 : tensor<1x1x8x96xbf16>, tensor<1x1x8x96xbf16>, tensor<1x1x8x96xbf16> -> tensor<1x1x8x96xbf16>
  %c = kestrel.attention %q3, %k3, %v3 : tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16>, tensor<1x1x8x128xbf16> -> tensor<1x1x8x128xbf16>
  return %a, %b, %c : tensor<1x1x8x64xf32>, tensor<1x1x8x96xbf16>, tensor<1x1x8x128xbf16>
}

// -----

// Runtime key lengths and the lse result are not implemented by the kernel:
// such ops stay for the reference lowering.
// CHECK-LABEL: func.func @features_left
// CHECK-NOT: gpu.launch
// CHECK-COUNT-2: kestrel.attention
func.func @features_left(%q: tensor<1x2x64x64xbf16>, %k: tensor<1x2x64x64xbf16>, %v: tensor<1x2x64x64xbf16>, %len: tensor<1xi32>)
    -> (tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>) {
  %a = kestrel.attention %q, %k, %v key_lengths(%len : tensor<1xi32>) : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  %b, %lse = kestrel.attention %q, %k, %v causal : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>
  return %a, %b, %lse : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>
}

// -----

// Block-sparse (32 x 32 blocks over T = S = 192, 64-key tiles): every
// (query tile, key tile) pair is classified at compile time; entries are
// 2 * key tile + needs-mask, padded with 0. With 64-row query tiles (auto,
// a small problem): query tile 0 sees key tile 0 only (partial: block
// (1, 1) is off); query tile 1 skips key tile 0 entirely (blocks (2..3,
// 0..1) are off) and sees key tile 1 in full; query tile 2 sees key tiles
// 0 (partial) and 2 (full).
// AUTO-LABEL: func.func @block_sparse
// AUTO-DAG: arith.constant dense<{{\[}}[1, 0], [2, 0], [1, 4]]> : tensor<3x2xi32>
// AUTO-DAG: arith.constant dense<[1, 1, 2]> : tensor<3xi32>
// AUTO-DAG: arith.constant dense<{{.*}}> : tensor<6x6xi8>
// AUTO: gpu.launch
// Partial tiles AND the block map into the element mask.
// AUTO: memref.load {{.*}} : memref<6x6xi8>
// AUTO-NOT: kestrel.attention {{%}}
// With 128-row query tiles (rows-per-warp=32): query tile 0 sees key
// tiles 0 and 1, both partial; query tile 1 key tiles 0 (partial) and 2
// (full).
// CHECK-LABEL: func.func @block_sparse
// CHECK-DAG: arith.constant dense<{{\[}}[1, 3], [1, 4]]> : tensor<2x2xi32>
// CHECK-DAG: arith.constant dense<2> : tensor<2xi32>
func.func @block_sparse(%q: tensor<1x2x192x64xbf16>, %k: tensor<1x2x192x64xbf16>, %v: tensor<1x2x192x64xbf16>) -> tensor<1x2x192x64xbf16> {
  %o = kestrel.attention %q, %k, %v block_size = [32, 32] block_map = dense<[
      [true, false, false, false, false, false],
      [true, false, false, false, false, false],
      [false, false, true, true, false, false],
      [false, false, true, true, false, false],
      [true, false, false, false, true, true],
      [true, true, false, false, true, true]]> : tensor<6x6xi1> : tensor<1x2x192x64xbf16>, tensor<1x2x192x64xbf16>, tensor<1x2x192x64xbf16> -> tensor<1x2x192x64xbf16>
  return %o : tensor<1x2x192x64xbf16>
}
