// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-tile,kestrel-gpu-recurrence))' | FileCheck %s

// Prefill of a scalar-decay recurrence (RetNet / Mamba2 SSD / simple GLA),
// bf16, T = 256: kestrel-tile decides the chunk (64), and
// kestrel-gpu-recurrence gives it the chunked tensor-core kernel: C / 16 =
// 4 warps, one block per (Dv tile, b * H + h). B * H = 2 heads would
// leave SMs idle, so the Dv tile shrinks from 64 to 16: grid (4, 2).
// Dynamic shared memory: two stages of Q, K (64 x (64 + 8) bf16 each) and
// V (64 x (16 + 8)), the bf16 state copy (64 x (16 + 8)) and 64 f32 gates:
// 2 * (9216 + 9216 + 3072) + 3072 + 256 = 46336 bytes.
// CHECK-LABEL: func.func @prefill_scalar
// CHECK-NOT: kestrel.gated_recurrence
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() : memref<1x2x256x64xbf16>
// CHECK-DAG: %[[FIN:.*]] = memref.alloc() : memref<1x2x64x64xbf16>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c2, {{.*}}) threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c46336_i32
// The initial state copy in shared memory, chunk 0's copies in flight.
// CHECK: llvm.store
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg, {{.*}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK: nvvm.cp.async.commit.group
// The loop over the 4 chunks carries the f32 state fragments (1 key-row
// tile x 2 column tiles x 4 per lane) and the next chunk's gates (2/lane).
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c4{{.*}} step %c1{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// Warp 0 scans the chunk's log-gates into shared memory.
// CHECK: scf.if
// CHECK-COUNT-5: gpu.shuffle  up
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// Q K^T: 4 k-steps x 8 key tiles, then Q S and P V (4 k-steps x 2 column
// tiles each), then the state update (4 token k-steps x 2 column tiles).
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK: llvm.nvvm.ex2.approx.ftz.f
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK: vector.store {{.*}}, %[[OUT]]
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-COUNT-4: vector.store {{.*}}, %[[FIN]]
// CHECK: gpu.terminator
// CHECK-NEXT: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunked_mma", kestrel.value_tile = 16 : i64}
// CHECK: bufferization.to_tensor %[[OUT]]
func.func @prefill_scalar(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %g: tensor<1x2x256xbf16>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x256xbf16>) : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
}

// -----

// No gate (linear attention), f16 q/k/v with an f32 state, GQA (4 heads
// over 2 KV heads), ragged T = 67 (2 chunks, the second zero-filled past
// T), a chunk of 32 set on the op (2 warps; kestrel-tile keeps it) and a Dv
// tile of 32 forced: grid (2, 4), 64 threads. No gates: no scan, no
// exponentials. The state is read from and written to f32.
// CHECK-LABEL: func.func @none_f32_state
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2, {{.*}} = %c4, {{.*}}) threads({{.*}}) in ({{.*}} = %c64,
// CHECK: memref.load {{.*}} : memref<1x4x64x64xf32>
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c3 step %c1{{.*}}
// CHECK-NOT: gpu.shuffle
// CHECK-NOT: llvm.nvvm.ex2.approx.ftz.f
// CHECK: scf.yield
// CHECK: vector.store {{.*}} : memref<1x4x64x64xf32>, vector<2xf32>
// CHECK: } {kestrel.chunk = #kestrel.chunk<32>, kestrel.recurrence_kernel = "chunked_mma", kestrel.value_tile = 32 : i64}
func.func @none_f32_state(%q: tensor<1x4x67x64xf16>, %k: tensor<1x2x67x64xf16>, %v: tensor<1x2x67x64xf16>, %s0: tensor<1x4x64x64xf32>) -> (tensor<1x4x67x64xf16>, tensor<1x4x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none initial_state(%s0 : tensor<1x4x64x64xf32>) {kestrel.chunk = #kestrel.chunk<32>, kestrel.value_tile = 32 : i64} : tensor<1x4x67x64xf16>, tensor<1x2x67x64xf16>, tensor<1x2x67x64xf16> -> tensor<1x4x67x64xf16>, tensor<1x4x64x64xf32>
  return %o, %s : tensor<1x4x67x64xf16>, tensor<1x4x64x64xf32>
}

// -----

// What stays on the recurrent kernel, each recorded on its launch with the
// reason: a decode step (T = 1), f32 storage, and an op that forces it
// (the vector gate's: gpu-recurrence-gla.mlir).
// CHECK-LABEL: func.func @recurrent_cases
// CHECK-NOT: chunked_mma
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "sequence of at most 32 steps (decode / short prompt)"
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "q is not f16 or bf16"
// CHECK: kestrel.recurrence_kernel = "recurrent", kestrel.recurrence_reason = "forced on the op"
// CHECK-NOT: chunked_mma
func.func @recurrent_cases(%q1: tensor<1x2x1x64xbf16>, %g1: tensor<1x2x1xbf16>, %q: tensor<1x2x128x64xbf16>, %g: tensor<1x2x128xbf16>, %qf: tensor<1x2x128x64xf32>) -> (tensor<1x2x1x64xbf16>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xbf16>) {
  %o1, %s1 = kestrel.gated_recurrence %q1, %q1, %q1 gate = scalar log_gate(%g1 : tensor<1x2x1xbf16>) : tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16> -> tensor<1x2x1x64xbf16>, tensor<1x2x64x64xbf16>
  %o3, %s3 = kestrel.gated_recurrence %qf, %qf, %qf gate = none : tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32> -> tensor<1x2x128x64xf32>, tensor<1x2x64x64xf32>
  %o4, %s4 = kestrel.gated_recurrence %q, %q, %q gate = scalar log_gate(%g : tensor<1x2x128xbf16>) {kestrel.recurrence_kernel = "recurrent"} : tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16> -> tensor<1x2x128x64xbf16>, tensor<1x2x64x64xbf16>
  return %o1, %o3, %o4 : tensor<1x2x1x64xbf16>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xbf16>
}

// -----

// Two kernels (forced on the op; measured beside the fused kernel): the
// scores P = (Q Kᵀ ⊙ decay mask) of every chunk by a launch parallel over
// chunks, grid (4 chunks, B * H), stored as P V's A fragments (C / 4 = 16
// words per lane) in a scratch buffer; the chunk walk reads them one chunk
// ahead instead of computing Q Kᵀ: per chunk only Q S, P V and the state
// update on mma.sync (8 each: 24).
// CHECK-LABEL: func.func @two_kernels
// CHECK: %[[P:.*]] = memref.alloc() : memref<16384xi32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}, {{.*}} = %c2{{.*}}, {{.*}})
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK-COUNT-4: vector.store {{.*}}, %[[P]]{{.*}} : memref<16384xi32>, vector<4xi32>
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunk_scores"}
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK-COUNT-4: vector.load %[[P]]
// CHECK-COUNT-24: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunked_mma_scores", kestrel.value_tile = 16 : i64}
func.func @two_kernels(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %g: tensor<1x2x256xbf16>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x256xbf16>) {kestrel.recurrence_kernel = "chunked_mma_scores"} : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
}
