// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-tile,kestrel-gpu-recurrence))' | FileCheck %s

// Prefill of Gated DeltaNet (gate gated_delta), bf16 q/k/v with f32
// log-gates, beta and state, T = 256: kestrel-tile decides the chunk (64)
// and kestrel-gpu-recurrence gives the op two launches. First the WY
// kernel ("chunk_wy"), parallel over chunks: grid (4 chunks, B * H = 2),
// C / 16 = 4 warps; it writes W = T diag(beta e^b) K and U = T diag(beta) V
// of every chunk to two scratch buffers (B * H * T * D bf16 each). Its
// shared memory: K and V (64 x (64 + 8) bf16 each), gates and beta (64 f32
// each), A and T (64 x 64 f32 each), the blocked inverse's scratch (3
// blocks of 16 x 16 f32), four 64 x (64 + 8) 16-bit tiles of T (hi and lo
// halves of T diag(beta e^b) and T diag(beta)):
// 9216 + 9216 + 256 + 256 + 2 * 16384 + 3072 + 4 * 9216 = 91648 bytes.
// CHECK-LABEL: func.func @prefill_gated_delta
// CHECK-NOT: kestrel.gated_recurrence
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() : memref<1x2x256x64xbf16>
// CHECK-DAG: %[[FIN:.*]] = memref.alloc() : memref<1x2x64x64xf32>
// CHECK-DAG: %[[W:.*]] = memref.alloc() : memref<32768xbf16>
// CHECK-DAG: %[[U:.*]] = memref.alloc() : memref<32768xbf16>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c2, {{.*}}) threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c91648_i32
// K and V by cp.async, warp 0 scans the gates, beta into shared memory.
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.if
// CHECK-COUNT-5: gpu.shuffle  up
// CHECK: scf.if
// CHECK: memref.load {{.*}} : memref<1x2x256xf32>
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// K K^T of the warp's 16 rows (4 k-steps x 8 key tiles), strictly lower,
// times e^(b_i - b_j) and beta_i, stored as f32 rows of A.
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK: arith.cmpi slt
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<3>
// CHECK: gpu.barrier
// T = (I + A)^-1 in 16 x 16 blocks: zeros above the diagonal blocks of
// the four 16-bit tiles (6 block pairs x 128 16-byte stores / 128
// threads), the diagonal blocks by forward substitution (threads 0..63, a
// column each, A's rows read as 4-wide broadcasts), then the off-diagonal
// blocks by distance 1, 2, 3 (M = sum A_ik T_kj, then T_ij = -T_ii M; a
// barrier after each).
// CHECK-COUNT-6: llvm.store {{.*}} : vector<4xi32>, !llvm.ptr<3>
// CHECK: scf.if
// CHECK: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<4xf32>
// CHECK: llvm.store {{.*}} : bf16, !llvm.ptr<3>
// CHECK-COUNT-7: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.mma.sync
// W = T1 K and U = T2 V: 4 token k-steps x 8 column tiles x (hi, lo).
// CHECK-COUNT-63: nvvm.mma.sync
// CHECK: vector.store {{.*}}, %[[W]]
// CHECK-COUNT-64: nvvm.mma.sync
// CHECK: vector.store {{.*}}, %[[U]]
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.terminator
// CHECK-NEXT: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunk_wy"}
// Then the chunk walk, grid (Dv / 16, B * H): the chunked kernel of
// gate scalar with W beside Q and K in each stage and U in V's place:
// 2 * (3 * 9216 + 64 * (16 + 8) * 2) + 64 * (16 + 8) * 2 + 256 = 64768.
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}, {{.*}} = %c2{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c128{{.*}}, {{.*}}) dynamic_shared_memory_size %c64768_i32
// CHECK: scf.for {{.*}} iter_args
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// V' = U - W S on the warp's rows (4 k-steps x 2 column tiles), written
// over U in the V tile, then a barrier: every warp reads all of V'.
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK: arith.subf
// CHECK: llvm.store
// CHECK: gpu.barrier
// Q K^T (32), Q S and P V' (16), the state update with V' (8).
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK: llvm.nvvm.ex2.approx.ftz.f
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK: vector.store {{.*}}, %[[OUT]]
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: vector.store {{.*}}, %[[FIN]]
// CHECK: gpu.terminator
// CHECK-NEXT: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunked_mma", kestrel.value_tile = 16 : i64}
func.func @prefill_gated_delta(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %g: tensor<1x2x256xf32>, %beta: tensor<1x2x256xf32>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x2x256xf32>) beta(%beta : tensor<1x2x256xf32>) : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>
}

// -----

// DeltaNet (gate delta: no gates), f16, GQA (4 heads over 2 KV heads: W
// and U per query head, K and V of head h / 2), ragged T = 67 and a chunk
// of 32 set on the op (2 warps): the WY kernel's grid is (3 chunks, 4), the
// walk's (Dv / 32, 4) with the Dv tile forced to 32. No gates: no scan and
// no exponentials in either kernel.
// CHECK-LABEL: func.func @delta_f16_gqa
// CHECK-DAG: %[[W:.*]] = memref.alloc() : memref<17152xf16>
// CHECK-DAG: %[[U:.*]] = memref.alloc() : memref<17152xf16>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c4, {{.*}}) threads({{.*}}) in ({{.*}} = %c64,
// CHECK-NOT: gpu.shuffle
// CHECK-NOT: llvm.nvvm.ex2.approx.ftz.f
// CHECK: memref.load {{.*}} : memref<1x4x67xf16>
// CHECK: } {kestrel.chunk = #kestrel.chunk<32>, kestrel.recurrence_kernel = "chunk_wy"}
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c4{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}},
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c3{{.*}} step %c1{{.*}}
// CHECK-NOT: gpu.shuffle
// CHECK-NOT: llvm.nvvm.ex2.approx.ftz.f
// CHECK: scf.yield
// CHECK: } {kestrel.chunk = #kestrel.chunk<32>, kestrel.recurrence_kernel = "chunked_mma", kestrel.value_tile = 32 : i64}
func.func @delta_f16_gqa(%q: tensor<1x4x67x64xf16>, %k: tensor<1x2x67x64xf16>, %v: tensor<1x2x67x64xf16>, %beta: tensor<1x4x67xf16>, %s0: tensor<1x4x64x64xf32>) -> (tensor<1x4x67x64xf16>, tensor<1x4x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = delta beta(%beta : tensor<1x4x67xf16>) initial_state(%s0 : tensor<1x4x64x64xf32>) {kestrel.chunk = #kestrel.chunk<32>, kestrel.value_tile = 32 : i64} : tensor<1x4x67x64xf16>, tensor<1x2x67x64xf16>, tensor<1x2x67x64xf16> -> tensor<1x4x67x64xf16>, tensor<1x4x64x64xf32>
  return %o, %s : tensor<1x4x67x64xf16>, tensor<1x4x64x64xf32>
}

// -----

// Two kernels for a delta rule: the WY launch, the scores launch, then the
// walk reading P (V' = U - W S, Q S, P V', state: 8 mma each).
// CHECK-LABEL: func.func @gated_delta_two_kernels
// CHECK: kestrel.recurrence_kernel = "chunk_wy"
// CHECK: kestrel.recurrence_kernel = "chunk_scores"
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: kestrel.recurrence_kernel = "chunked_mma_scores"
func.func @gated_delta_two_kernels(%q: tensor<1x2x256x64xbf16>, %g: tensor<1x2x256xbf16>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = gated_delta log_gate(%g : tensor<1x2x256xbf16>) beta(%g : tensor<1x2x256xbf16>) {kestrel.recurrence_kernel = "chunked_mma_scores"} : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
}

// -----

// What stays on the recurrent kernel for the delta rules, each with its
// reason on the launch: a decode step (T = 1), a chunk of 128 (the UT
// solve keeps a column of C values per thread), f32 q/k/v.
// CHECK-LABEL: func.func @delta_recurrent_cases
// CHECK-NOT: chunk_wy
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "sequence of at most 32 steps (decode / short prompt)"
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "chunk length 128 with a delta rule (the UT solve keeps a column of C values per thread: 32 or 64)"
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "q is not f16 or bf16"
// CHECK-NOT: chunk_wy
func.func @delta_recurrent_cases(%q1: tensor<1x2x1x64xbf16>, %b1: tensor<1x2x1xf32>, %q: tensor<1x2x256x64xbf16>, %b: tensor<1x2x256xf32>, %qf: tensor<1x2x256x64xf32>) -> (tensor<1x2x1x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xf32>) {
  %o1, %s1 = kestrel.gated_recurrence %q1, %q1, %q1 gate = gated_delta log_gate(%b1 : tensor<1x2x1xf32>) beta(%b1 : tensor<1x2x1xf32>) : tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16> -> tensor<1x2x1x64xbf16>, tensor<1x2x64x64xbf16>
  %o2, %s2 = kestrel.gated_recurrence %q, %q, %q gate = delta beta(%b : tensor<1x2x256xf32>) {kestrel.chunk = #kestrel.chunk<128>} : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
  %o3, %s3 = kestrel.gated_recurrence %qf, %qf, %qf gate = delta beta(%b : tensor<1x2x256xf32>) : tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32> -> tensor<1x2x256x64xf32>, tensor<1x2x64x64xf32>
  return %o1, %o2, %o3 : tensor<1x2x1x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xf32>
}
