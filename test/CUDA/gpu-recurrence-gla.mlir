// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-tile,kestrel-gpu-recurrence))' | FileCheck %s

// Prefill of GLA (gate vector: per-key-dimension log-gates [B, H, T, Dk]),
// bf16 q/k/v with f32 log-gates and state, T = 256: kestrel-tile decides
// the chunk (64) and kestrel-gpu-recurrence gives the op two launches.
// First "chunk_gla", parallel over chunks: grid (4 chunks, B * H = 2),
// C / 16 = 4 warps. Scratch: P of every chunk (the two-kernel walk's
// fragment layout, 2 * 4 * 4 * 32 * 16 i32), Q e^b and K e^(b_last - b)
// (B * H * T * Dk bf16 each) and e^(b_last) (B * H * chunks * Dk f32).
// Its shared memory: Q and K (64 x (64 + 8) bf16 each) and the cumulated
// gates b (64 x (64 + 8) f32): 9216 + 9216 + 18432 = 36864 bytes.
// CHECK-LABEL: func.func @prefill_gla
// CHECK-NOT: kestrel.gated_recurrence
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() : memref<1x2x256x64xbf16>
// CHECK-DAG: %[[FIN:.*]] = memref.alloc() : memref<1x2x64x64xf32>
// CHECK-DAG: %[[P:.*]] = memref.alloc() : memref<16384xi32>
// CHECK-DAG: %[[QG:.*]] = memref.alloc() : memref<32768xbf16>
// CHECK-DAG: %[[KG:.*]] = memref.alloc() : memref<32768xbf16>
// CHECK-DAG: %[[DEC:.*]] = memref.alloc() : memref<512xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c2, {{.*}}) threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c36864_i32
// Q and K by cp.async; b by a thread per key dimension (64 of the 128
// threads: Dk = 64), rows of g read in order, e^(b_last) to DEC.
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.if
// CHECK: memref.load {{.*}} : memref<1x2x256x64xf32>
// CHECK: llvm.nvvm.ex2.approx.ftz.f
// CHECK: memref.store {{.*}}, %[[DEC]]
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// 8 elements per thread and step (4 steps): Q e^b and K e^(b_last - b) to
// the scratch buffers (rows before T), Q e^(b - b_r) back over Q.
// CHECK-COUNT-4: vector.store {{.*}}, %[[QG]]{{.*}} : memref<32768xbf16>, vector<8xbf16>
// CHECK: gpu.barrier
// P for the warp's 16 rows: 4 k-steps x 8 key tiles, K scaled by
// e^(b_r - b_j) in the ldmatrix registers, stored as P V's A fragments.
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK-COUNT-4: vector.store {{.*}}, %[[P]]{{.*}} : memref<16384xi32>, vector<4xi32>
// CHECK-NOT: nvvm.mma.sync
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunk_gla"}
// Then the two-kernel walk, grid (Dv / 16, B * H), over Q e^b, K e^(b_last
// - b) and V; per chunk P one chunk ahead, the decay e^(b_last) of the
// lane's 2 state rows (Dk 64 over 4 warps), Q S and P V (16 mma) and the
// state update (8).
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}, {{.*}} = %c2{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c128{{.*}}, {{.*}}) dynamic_shared_memory_size %c46336_i32
// CHECK-COUNT-4: vector.load %[[P]]
// CHECK: scf.for
// CHECK-NOT: llvm.nvvm.ex2.approx.ftz.f
// CHECK: gpu.barrier
// CHECK: memref.load %[[DEC]]
// CHECK: memref.load %[[DEC]]
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK: vector.store {{.*}}, %[[OUT]]
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: vector.store {{.*}}, %[[FIN]]
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunked_mma_scores", kestrel.value_tile = 16 : i64}
func.func @prefill_gla(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %g: tensor<1x2x256x64xf32>, %s0: tensor<1x2x64x64xf32>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<1x2x256x64xf32>) initial_state(%s0 : tensor<1x2x64x64xf32>) : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>
}

// -----

// GQA (4 heads over 2 KV heads: Q e^b and K e^(b_last - b) per query head,
// K and V of head h / 2), ragged T = 67 and a chunk of 32 set on the op (2
// warps, 64 threads: Dk = 128 takes two dimensions per thread in the gate
// scan), Dv tile forced to 32: chunk_gla's grid (3 chunks, 4), the walk's
// (2, 4).
// CHECK-LABEL: func.func @gla_gqa_chunk32
// CHECK-DAG: memref.alloc() : memref<34304xbf16>
// CHECK-DAG: memref.alloc() : memref<1536xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c4, {{.*}}) threads({{.*}}) in ({{.*}} = %c64,
// CHECK: memref.load {{.*}} : memref<1x4x67x128xbf16>
// CHECK: } {kestrel.chunk = #kestrel.chunk<32>, kestrel.recurrence_kernel = "chunk_gla"}
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c4{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}},
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c3{{.*}} step %c1{{.*}}
// CHECK: } {kestrel.chunk = #kestrel.chunk<32>, kestrel.recurrence_kernel = "chunked_mma_scores", kestrel.value_tile = 32 : i64}
func.func @gla_gqa_chunk32(%q: tensor<1x4x67x128xbf16>, %k: tensor<1x2x67x128xbf16>, %v: tensor<1x2x67x64xbf16>, %g: tensor<1x4x67x128xbf16>) -> (tensor<1x4x67x64xbf16>, tensor<1x4x128x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<1x4x67x128xbf16>) scale = 0.5 {kestrel.chunk = #kestrel.chunk<32>, kestrel.value_tile = 32 : i64} : tensor<1x4x67x128xbf16>, tensor<1x2x67x128xbf16>, tensor<1x2x67x64xbf16> -> tensor<1x4x67x64xbf16>, tensor<1x4x128x64xbf16>
  return %o, %s : tensor<1x4x67x64xbf16>, tensor<1x4x128x64xbf16>
}

// -----

// What stays on the recurrent kernel with a vector gate, each with its
// reason on the launch: a decode step (T = 1), f16 q/k/v (the diagonal
// blocks' key factors can pass f16's range), a forced kernel.
// CHECK-LABEL: func.func @gla_recurrent_cases
// CHECK-NOT: chunk_gla
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "sequence of at most 32 steps (decode / short prompt)"
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "f16 q/k/v with a vector gate (the diagonal blocks' key factors e^{b_r - b_j} span up to 15 steps and can pass f16's range)"
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "forced on the op"
// CHECK-NOT: chunk_gla
func.func @gla_recurrent_cases(%q1: tensor<1x2x1x64xbf16>, %g1: tensor<1x2x1x64xf32>, %qh: tensor<1x2x128x64xf16>, %gh: tensor<1x2x128x64xf16>, %q: tensor<1x2x128x64xbf16>, %g: tensor<1x2x128x64xbf16>) -> (tensor<1x2x1x64xbf16>, tensor<1x2x128x64xf16>, tensor<1x2x128x64xbf16>) {
  %o1, %s1 = kestrel.gated_recurrence %q1, %q1, %q1 gate = vector log_gate(%g1 : tensor<1x2x1x64xf32>) : tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16> -> tensor<1x2x1x64xbf16>, tensor<1x2x64x64xbf16>
  %o2, %s2 = kestrel.gated_recurrence %qh, %qh, %qh gate = vector log_gate(%gh : tensor<1x2x128x64xf16>) : tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16> -> tensor<1x2x128x64xf16>, tensor<1x2x64x64xf16>
  %o3, %s3 = kestrel.gated_recurrence %q, %q, %q gate = vector log_gate(%g : tensor<1x2x128x64xbf16>) {kestrel.recurrence_kernel = "recurrent"} : tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16> -> tensor<1x2x128x64xbf16>, tensor<1x2x64x64xbf16>
  return %o1, %o2, %o3 : tensor<1x2x1x64xbf16>, tensor<1x2x128x64xf16>, tensor<1x2x128x64xbf16>
}
