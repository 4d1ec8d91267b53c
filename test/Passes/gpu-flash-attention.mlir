// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention))' | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{rows-per-warp=16}))' | FileCheck %s --check-prefix=R16
// RUN: not kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{rows-per-warp=48}))' 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: kestrel-gpu-flash-attention: rows-per-warp must be 16 or 32, got 48

// bf16 GQA (4 query heads over 2 KV heads), causal window with sinks, T not
// a multiple of the query tile: one block per (query tile, batch x head),
// K/V tiles in padded dynamic shared memory, ldmatrix + mma.sync for both
// products. By default each warp owns 32 rows (128 per block: one query
// tile here), with 16 rows per warp 64 (two tiles). At D = 64, Q stays in
// registers: 18432 bytes = K and V tiles of 64 x (64 + 8) bf16.
// CHECK-LABEL: func.func @gqa_window
// CHECK-NOT: kestrel.attention
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<2x4x100x64xbf16>
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 18432 : i32
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{(_[0-9]+)?}}, {{.*}} = %[[C8]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C128]], {{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK: gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// Q fragments of both row tiles are loaded once into registers.
// CHECK-COUNT-32: vector.load {{.*}} : memref<2x4x100x64xbf16>, vector<2xbf16>
// CHECK-NOT: vector.load
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
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
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

// Left for the reference lowering: f32 storage, head dim 96, Dv != D.
// CHECK-LABEL: func.func @not_covered
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: kestrel.attention
func.func @not_covered(%q: tensor<1x1x8x64xf32>, %k: tensor<1x1x8x64xf32>, %v: tensor<1x1x8x64xf32>,
                       %q2: tensor<1x1x8x96xbf16>, %k2: tensor<1x1x8x96xbf16>, %v2: tensor<1x1x8x96xbf16>,
                       %v3: tensor<1x1x8x128xbf16>, %q3: tensor<1x1x8x64xbf16>, %k3: tensor<1x1x8x64xbf16>)
    -> (tensor<1x1x8x64xf32>, tensor<1x1x8x96xbf16>, tensor<1x1x8x128xbf16>) {
  %a = kestrel.attention %q, %k, %v : tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32> -> tensor<1x1x8x64xf32>
  %b = kestrel.attention %q2, %k2, %v2 : tensor<1x1x8x96xbf16>, tensor<1x1x8x96xbf16>, tensor<1x1x8x96xbf16> -> tensor<1x1x8x96xbf16>
  %c = kestrel.attention %q3, %k3, %v3 : tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16>, tensor<1x1x8x128xbf16> -> tensor<1x1x8x128xbf16>
  return %a, %b, %c : tensor<1x1x8x64xf32>, tensor<1x1x8x96xbf16>, tensor<1x1x8x128xbf16>
}

// -----

// Runtime key lengths, the lse result and block maps are not implemented by
// the kernel: such ops stay for the reference lowering.
// CHECK-LABEL: func.func @features_left
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: kestrel.attention
func.func @features_left(%q: tensor<1x2x64x64xbf16>, %k: tensor<1x2x64x64xbf16>, %v: tensor<1x2x64x64xbf16>, %len: tensor<1xi32>)
    -> (tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>, tensor<1x2x64x64xbf16>) {
  %a = kestrel.attention %q, %k, %v key_lengths(%len : tensor<1xi32>) : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  %b, %lse = kestrel.attention %q, %k, %v causal : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>
  %c = kestrel.attention %q, %k, %v block_size = [32, 32] block_map = dense<[[true, false], [true, true]]> : tensor<2x2xi1> : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %a, %b, %lse, %c : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>, tensor<1x2x64x64xbf16>
}
