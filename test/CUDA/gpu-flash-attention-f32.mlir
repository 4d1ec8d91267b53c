// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention))' | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{f32-query-tile=64}))' | FileCheck %s --check-prefix=Q64
// RUN: not kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{f32-query-tile=48}))' 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: kestrel-gpu-flash-attention: f32-query-tile must be 0 (auto), 32 or 64, got 48

// f32 GQA (4 query heads over 2 KV heads), causal window with sinks, the
// lse result, T not a multiple of the query tile: the SIMT kernel. A small
// problem (auto): 32 query rows per block (2 per thread), so
// ceil(100 / 32) = 4 query tiles x B * H = 4; 64-key tiles at D = 64.
// Shared memory: Q 32 x 68, K 64 x 68, V 64 x 68, P 32 x 68 floats
// (rows padded by 4) = 52224 bytes.
// CHECK-LABEL: func.func @f32_gqa_window_lse
// CHECK-NOT: kestrel.attention {{%}}
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() : memref<1x4x100x64xf32>
// CHECK-DAG: %[[LSE:.*]] = memref.alloc() : memref<1x4x100xf32>
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 52224 : i32
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{(_[0-9]+)?}}, {{.*}} = %c4{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in ({{.*}} = %[[C128]], {{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK: %[[SH:.*]] = gpu.dynamic_shared_memory
// CHECK: memref.view %[[SH]][%c0{{.*}}][] : {{.*}} to memref<32x68xf32, #gpu.address_space<workgroup>>
// CHECK: memref.view %[[SH]][%c8704{{.*}}][] : {{.*}} to memref<64x68xf32, #gpu.address_space<workgroup>>
// CHECK: memref.view %[[SH]][%c26112{{.*}}][] : {{.*}} to memref<64x68xf32, #gpu.address_space<workgroup>>
// CHECK: %[[P:.*]] = memref.view %[[SH]][%c43520{{.*}}][] : {{.*}} to memref<32x68xf32, #gpu.address_space<workgroup>>
// Prologue: Q (4 copies of 16 bytes per thread), then K and V of the first
// key tile (8 each), three cp.async groups.
// CHECK-COUNT-4: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK-COUNT-8: nvvm.cp.async.shared.global
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK-COUNT-8: nvvm.cp.async.shared.global
// CHECK-NEXT: nvvm.cp.async.commit.group
// One loop over the key tiles, carrying per row (2) max, sum and 8
// accumulators. Each step waits for K, computes S = Q K^T with FFMA over
// the head dim in steps of 8 (16-byte shared loads), starts the next K,
// masks (only straddling tiles), runs the online softmax with the row
// reduced over 8 lanes, writes P, waits for V, accumulates P V over 4 keys
// per iteration and starts the next V.
// CHECK: scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c64{{.*}} step %c8
// CHECK: vector.load {{.*}} : memref<32x68xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: vector.load {{.*}} : memref<64x68xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: llvm.intr.fma
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.if {{.*}} -> (f32,
// CHECK: arith.select
// CHECK: } else {
// CHECK-NEXT: scf.yield
// CHECK: gpu.shuffle xor {{.*}}, %c1_i32
// CHECK: gpu.shuffle xor {{.*}}, %c2_i32
// CHECK: gpu.shuffle xor {{.*}}, %c4_i32
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: memref.store {{.*}}, %[[P]]
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c64{{.*}} step %c4
// CHECK: vector.load %[[P]]
// CHECK: llvm.intr.fma
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 0
// Rows past T are not stored; lane 0 of each row group writes the lse.
// CHECK: scf.if
// CHECK: vector.store {{.*}}, %[[OUT]]{{.*}} : memref<1x4x100x64xf32>, vector<4xf32>
// CHECK: math.log
// CHECK: memref.store {{.*}}, %[[LSE]]
// CHECK: gpu.terminator
// CHECK-NEXT: } {kestrel.attention_kernel = "simt_f32", kestrel.tile = #kestrel.attention_tiles<query = 32, key = 64>}
// CHECK-DAG: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-DAG: bufferization.to_tensor %[[LSE]] restrict writable
// Q64: kestrel.attention_kernel = "simt_f32", kestrel.tile = #kestrel.attention_tiles<query = 64, key = 64>
func.func @f32_gqa_window_lse(%q: tensor<1x4x100x64xf32>, %k: tensor<1x2x100x64xf32>, %v: tensor<1x2x100x64xf32>) -> (tensor<1x4x100x64xf32>, tensor<1x4x100xf32>) {
  %o, %lse = kestrel.attention %q, %k, %v causal window = 32 sinks = 4 : tensor<1x4x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32> -> tensor<1x4x100x64xf32>, tensor<1x4x100xf32>
  return %o, %lse : tensor<1x4x100x64xf32>, tensor<1x4x100xf32>
}

// -----

// A big problem (auto): 64 query rows per block (4 per thread); at
// D = 128 32-key tiles, so the tiles take 4 x (96 x 132 + 32 x 132 +
// 64 x 36) = 76800 bytes (two blocks per SM). The longest causal query
// tiles run first: block x reads query tile 63 - x.
// CHECK-LABEL: func.func @f32_big
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in ({{.*}} = %[[C64]], {{.*}} = %[[C16]], {{.*}}) threads({{.*}}) dynamic_shared_memory_size %c76800_i32
// CHECK: arith.subi %c63{{.*}}, %[[BX]] : index
// No mask on non-causal tiles that divide S: causal here, so a mask step.
// CHECK: scf.if {{.*}} -> (f32,
// CHECK: kestrel.tile = #kestrel.attention_tiles<query = 64, key = 32>
func.func @f32_big(%q: tensor<1x16x4096x128xf32>, %k: tensor<1x16x4096x128xf32>, %v: tensor<1x16x4096x128xf32>) -> tensor<1x16x4096x128xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x16x4096x128xf32>, tensor<1x16x4096x128xf32>, tensor<1x16x4096x128xf32> -> tensor<1x16x4096x128xf32>
  return %o : tensor<1x16x4096x128xf32>
}

// -----

// Without a causal mask and with S a multiple of the key tile no score is
// ever masked: no mask step. Dv (32) differs from D (64).
// CHECK-LABEL: func.func @f32_unmasked_dv
// CHECK: gpu.launch
// CHECK-NOT: scf.if {{.*}} -> (f32
// CHECK: vector.store {{.*}} : memref<2x2x64x32xf32>, vector<4xf32>
// CHECK: kestrel.attention_kernel = "simt_f32"
func.func @f32_unmasked_dv(%q: tensor<2x2x64x64xf32>, %k: tensor<2x2x128x64xf32>, %v: tensor<2x2x128x32xf32>) -> tensor<2x2x64x32xf32> {
  %o = kestrel.attention %q, %k, %v : tensor<2x2x64x64xf32>, tensor<2x2x128x64xf32>, tensor<2x2x128x32xf32> -> tensor<2x2x64x32xf32>
  return %o : tensor<2x2x64x32xf32>
}

// -----

// Left for the reference lowering: runtime key lengths, Dv not a multiple
// of 32, dynamic shapes.
// CHECK-LABEL: func.func @f32_not_covered
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: kestrel.attention %
func.func @f32_not_covered(%q: tensor<1x2x64x64xf32>, %k: tensor<1x2x64x64xf32>, %v: tensor<1x2x64x64xf32>, %len: tensor<1xi32>,
                           %v2: tensor<1x2x64x48xf32>, %qd: tensor<1x2x?x64xf32>, %kd: tensor<1x2x?x64xf32>)
    -> (tensor<1x2x64x64xf32>, tensor<1x2x64x48xf32>, tensor<1x2x?x64xf32>) {
  %a = kestrel.attention %q, %k, %v key_lengths(%len : tensor<1xi32>) : tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x2x64x64xf32>
  %b = kestrel.attention %q, %k, %v2 : tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x48xf32> -> tensor<1x2x64x48xf32>
  %c = kestrel.attention %qd, %kd, %kd : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32> -> tensor<1x2x?x64xf32>
  return %a, %b, %c : tensor<1x2x64x64xf32>, tensor<1x2x64x48xf32>, tensor<1x2x?x64xf32>
}
