// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-tile,kestrel-gpu-recurrence))' | FileCheck %s

// The states form of the chunked kernels, forced on the op
// (kestrel.recurrence_kernel = "chunk_states"). Scalar gate, bf16, B1 H2
// T256 D64, chunk 64 (kestrel-tile). Two launches. The walk, grid (64 / 16, 2): per chunk only K and the
// block's V columns arrive (4 + 1 cp.async per thread: no queries), the
// state entering the chunk goes to the states buffer (1 x 2 x 4 chunks x
// 64 x 64 = 32768 bf16; 4 stores per lane), then the state update (8
// mma.sync: no Q K^T, Q S or P V on the sequential path).
// CHECK-LABEL: func.func @states_scalar
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() : memref<1x2x256x64xbf16>
// CHECK-DAG: %[[FIN:.*]] = memref.alloc() : memref<1x2x64x64xf32>
// CHECK-DAG: memref.alloc() : memref<32768xbf16>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c2, {{.*}}) threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c46336_i32
// CHECK-COUNT-5: nvvm.cp.async.shared.global
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: scf.for
// CHECK-COUNT-5: nvvm.cp.async.shared.global
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-4: llvm.store {{.*}} : i32, !llvm.ptr<1>
// CHECK-NOT: vector.store
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: vector.store {{.*}}, %[[FIN]]
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunk_states", kestrel.value_tile = 16 : i64}
// chunk_output, grid (4 chunks x 1 value tile of 64, 2): one stage of Q, K,
// V (64 x (64 + 8) bf16 each) and the entering state (64 x (64 + 8)) plus
// 64 f32 gates = 37120 bytes; Q K^T, Q S and P V (32 mma.sync each).
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}, {{.*}} = %c2{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c128{{.*}}) dynamic_shared_memory_size %c37120_i32
// CHECK-NOT: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-96: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: vector.store {{.*}}, %[[OUT]]
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunk_output", kestrel.value_tile = 64 : i64}
// CHECK: bufferization.to_tensor %[[OUT]]
func.func @states_scalar(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %g: tensor<1x2x256xf32>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x256xf32>) {kestrel.recurrence_kernel = "chunk_states"} : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xf32>
}

// -----

// Delta rule: chunk_wy, then the walk (W S for V' = U - W S, then the
// update: 16 mma.sync per chunk), which writes V' over U in U's buffer
// (4 stores per lane) beside the entering state (4 more), then
// chunk_output reading V' in V's place.
// CHECK-LABEL: func.func @states_delta
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunk_wy"}
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-COUNT-4: llvm.store {{.*}} : i32, !llvm.ptr<1>
// CHECK: gpu.barrier
// CHECK-COUNT-4: llvm.store {{.*}} : i32, !llvm.ptr<1>
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunk_states", kestrel.value_tile = 16 : i64}
// CHECK: gpu.launch
// CHECK-COUNT-96: nvvm.mma.sync
// CHECK: } {kestrel.chunk = #kestrel.chunk<64>, kestrel.recurrence_kernel = "chunk_output", kestrel.value_tile = 64 : i64}
func.func @states_delta(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %b: tensor<1x2x256xbf16>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = delta beta(%b : tensor<1x2x256xbf16>) {kestrel.recurrence_kernel = "chunk_states"} : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
}

// -----

// The vector gate keeps its chunk_gla walk: "chunk_states" does not apply.
// CHECK-LABEL: func.func @states_vector
// CHECK: kestrel.recurrence_kernel = "chunk_gla"
// CHECK: kestrel.recurrence_kernel = "chunked_mma_scores"
// CHECK-NOT: chunk_states
func.func @states_vector(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %g: tensor<1x2x256x64xbf16>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<1x2x256x64xbf16>) {kestrel.recurrence_kernel = "chunk_states"} : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
}

// -----

// The default choice (no kestrel.recurrence_kernel on the op): the states
// form for an f32 state over few heads and at least 64 chunks (B1 H2 T4096
// D64: 2 blocks at tile 64, 64 chunks), as measured on the H200.
// CHECK-LABEL: func.func @default_states
// CHECK: kestrel.recurrence_kernel = "chunk_states"
// CHECK: kestrel.recurrence_kernel = "chunk_output"
func.func @default_states(%q: tensor<1x2x4096x64xbf16>, %k: tensor<1x2x4096x64xbf16>, %v: tensor<1x2x4096x64xbf16>, %g: tensor<1x2x4096xf32>) -> (tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x4096xf32>) : tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16> -> tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>
}

// -----

// The delta rules alike (gated delta needs a gate as well: plain delta).
// CHECK-LABEL: func.func @default_states_delta
// CHECK: kestrel.recurrence_kernel = "chunk_wy"
// CHECK: kestrel.recurrence_kernel = "chunk_states"
// CHECK: kestrel.recurrence_kernel = "chunk_output"
func.func @default_states_delta(%q: tensor<1x2x4096x64xbf16>, %k: tensor<1x2x4096x64xbf16>, %v: tensor<1x2x4096x64xbf16>, %g: tensor<1x2x4096xbf16>) -> (tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = delta beta(%g : tensor<1x2x4096xbf16>) : tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16> -> tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>
}

// -----

// A bf16 state stays fused (the states form measured even there).
// CHECK-LABEL: func.func @default_bf16_state
// CHECK: kestrel.recurrence_kernel = "chunked_mma"
// CHECK-NOT: chunk_states
func.func @default_bf16_state(%q: tensor<1x2x4096x64xbf16>, %k: tensor<1x2x4096x64xbf16>, %v: tensor<1x2x4096x64xbf16>, %g: tensor<1x2x4096xf32>) -> (tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x4096xf32>) : tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16> -> tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xbf16>
  return %o, %s : tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xbf16>
}

// -----

// 63 chunks: fused.
// CHECK-LABEL: func.func @default_short
// CHECK: kestrel.recurrence_kernel = "chunked_mma"
// CHECK-NOT: chunk_states
func.func @default_short(%q: tensor<1x2x4032x64xbf16>, %k: tensor<1x2x4032x64xbf16>, %v: tensor<1x2x4032x64xbf16>, %g: tensor<1x2x4032xf32>) -> (tensor<1x2x4032x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x4032xf32>) : tensor<1x2x4032x64xbf16>, tensor<1x2x4032x64xbf16>, tensor<1x2x4032x64xbf16> -> tensor<1x2x4032x64xbf16>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x4032x64xbf16>, tensor<1x2x64x64xf32>
}

// -----

// B4 H16 Dv 128: 128 blocks at tile 64, most SMs busy: fused.
// CHECK-LABEL: func.func @default_many_heads
// CHECK: kestrel.recurrence_kernel = "chunked_mma"
// CHECK-NOT: chunk_states
func.func @default_many_heads(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>, %g: tensor<4x16x4096xf32>) -> (tensor<4x16x4096x128xbf16>, tensor<4x16x128x128xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<4x16x4096xf32>) : tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16> -> tensor<4x16x4096x128xbf16>, tensor<4x16x128x128xf32>
  return %o, %s : tensor<4x16x4096x128xbf16>, tensor<4x16x128x128xf32>
}

// -----

// "chunked_mma" on the op forces the fused form where the default would
// take the states form.
// CHECK-LABEL: func.func @forced_fused
// CHECK: kestrel.recurrence_kernel = "chunked_mma"
// CHECK-NOT: chunk_states
func.func @forced_fused(%q: tensor<1x2x4096x64xbf16>, %k: tensor<1x2x4096x64xbf16>, %v: tensor<1x2x4096x64xbf16>, %g: tensor<1x2x4096xf32>) -> (tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x4096xf32>) {kestrel.recurrence_kernel = "chunked_mma"} : tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16> -> tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x4096x64xbf16>, tensor<1x2x64x64xf32>
}
