// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-recurrence))' | FileCheck %s

// Decode step of Gated DeltaNet, f32, GQA (4 heads over 2 KV heads):
// cpw = 8 columns (one 32-byte sector of a state row) per warp, 64 / 8 = 8
// warps per head in 2 blocks of 4 warps: grid (2, B * H = 8), 128 threads.
// Lane l owns key rows l and l + 32. The state is read once as 32-byte
// vectors, kept in the loop's carried values with the next step's inputs,
// and written once.
// CHECK-LABEL: func.func @decode_gated_delta
// CHECK-NOT: kestrel.gated_recurrence
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() : memref<2x4x1x64xf32>
// CHECK-DAG: %[[FIN:.*]] = memref.alloc() : memref<2x4x64x64xf32>
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C2]], {{.*}} = %[[C8]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C128]],
// CHECK-COUNT-2: vector.load {{.*}} {alignment = 16 : i64} : memref<2x4x64x64xf32>, vector<8xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, f32, f32, f32, f32, vector<8xf32>, f32, f32)
// The decay, then k S reduce-scattered over the lanes (3 halving levels of
// 4, 2 and 1 shuffles, then 2 full ones), u gathered back to every lane.
// CHECK: math.exp
// CHECK-COUNT-9: gpu.shuffle  xor
// CHECK-COUNT-8: gpu.shuffle  idx
// o = q S, reduce-scattered; one lane per column stores it.
// CHECK-COUNT-9: gpu.shuffle  xor
// CHECK: scf.if
// CHECK: memref.store {{.*}}, %[[OUT]]
// CHECK: scf.yield
// The state, 32 bytes of a row per lane, leaves in whole sectors: lanes 2j
// and 2j + 1 trade 16-byte halves (4 xor-1 shuffles per row), then write
// rows 2j and 2j + 1 (lane 2j + q half q), twice per lane row.
// CHECK-COUNT-4: gpu.shuffle  xor {{.*}}, %c1_i32
// CHECK: vector.store {{.*}}, %[[FIN]]{{.*}} : memref<2x4x64x64xf32>, vector<4xf32>
// CHECK: vector.store {{.*}}, %[[FIN]]{{.*}} : memref<2x4x64x64xf32>, vector<4xf32>
// CHECK-COUNT-4: gpu.shuffle  xor {{.*}}, %c1_i32
// CHECK-COUNT-2: vector.store {{.*}}, %[[FIN]]
// CHECK: gpu.terminator
// CHECK: bufferization.to_tensor %[[OUT]]
// CHECK: bufferization.to_tensor %[[FIN]]
func.func @decode_gated_delta(%q: tensor<2x4x1x64xf32>, %k: tensor<2x2x1x64xf32>, %v: tensor<2x2x1x64xf32>, %g: tensor<2x4x1xf32>, %b: tensor<2x4x1xf32>, %s0: tensor<2x4x64x64xf32>) -> (tensor<2x4x1x64xf32>, tensor<2x4x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<2x4x1xf32>) beta(%b : tensor<2x4x1xf32>) initial_state(%s0 : tensor<2x4x64x64xf32>) scale = 0.125 : tensor<2x4x1x64xf32>, tensor<2x2x1x64xf32>, tensor<2x2x1x64xf32> -> tensor<2x4x1x64xf32>, tensor<2x4x64x64xf32>
  return %o, %s : tensor<2x4x1x64xf32>, tensor<2x4x64x64xf32>
}

// -----

// Prefill, scalar decay, bf16, B * H = 2 heads, T = 256 > 64: the columns
// per warp halve from 16 (32 bytes of bf16) to 1 while fewer than 2112 warps
// would run: 64 warps per head in 16 blocks of 4: grid (16, 2). With one
// column per warp the reductions are plain 5-level butterflies; there is no
// k S (no delta rule), so no gather.
// CHECK-LABEL: func.func @prefill_scalar
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C16]], {{.*}} = %[[C2]], {{.*}})
// CHECK: scf.for {{.*}} -> (vector<1xf32>, vector<1xf32>, f32, f32, f32, f32, vector<1xf32>, f32)
// CHECK: arith.extf {{.*}} : vector<1xbf16> to vector<1xf32>
// CHECK: math.exp
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK-NOT: gpu.shuffle
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: scf.yield
// CHECK: arith.truncf {{.*}} : vector<1xf32> to vector<1xbf16>
func.func @prefill_scalar(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %g: tensor<1x2x256xbf16>) -> (tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x256xbf16>) : tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
  return %o, %s : tensor<1x2x256x64xbf16>, tensor<1x2x64x64xbf16>
}

// -----

// Dk = 40 is not a multiple of 32: lane l's second row l + 32 exists for
// l < 8 only; its index is clamped and its values read as zero. Dv = 24:
// 3 warps of 8 columns per head, one warp per block (neither 4 nor 2
// divides 3): grid (3, 2), 32 threads. bf16 activations with f32 log-gates
// and state: loads widen per operand, the output is rounded to bf16, the
// state stays f32.
// CHECK-LABEL: func.func @vector_dk40_mixed
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C3]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C32]],
// CHECK: %[[ROW:.*]] = arith.addi %{{.*}}, %c32
// CHECK: %[[OK:.*]] = arith.cmpi slt, %[[ROW]], %c40
// CHECK: arith.minsi %[[ROW]], %c39
// CHECK: vector.load {{.*}} : memref<1x2x40x24xf32>, vector<8xf32>
// CHECK: arith.select %[[OK]]
// CHECK: memref.load {{.*}} : memref<1x2x3x40xf32>
// CHECK: scf.for
// CHECK: memref.store {{.*}} : memref<1x2x3x24xbf16>
// The second lane row's pair (rows 2j + 32, 2j + 33) exists below 40 only.
// CHECK: gpu.shuffle  xor
// CHECK: %[[EVEN:.*]] = arith.addi %{{.*}}, %c32
// CHECK: %[[LIVE:.*]] = arith.cmpi slt, %[[EVEN]], %c40
// CHECK: scf.if %[[LIVE]]
// CHECK: vector.store {{.*}} : memref<1x2x40x24xf32>, vector<4xf32>
func.func @vector_dk40_mixed(%q: tensor<1x2x3x40xbf16>, %k: tensor<1x1x3x40xbf16>, %v: tensor<1x1x3x24xbf16>, %g: tensor<1x2x3x40xf32>, %s0: tensor<1x2x40x24xf32>) -> (tensor<1x2x3x24xbf16>, tensor<1x2x40x24xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<1x2x3x40xf32>) initial_state(%s0 : tensor<1x2x40x24xf32>) : tensor<1x2x3x40xbf16>, tensor<1x1x3x40xbf16>, tensor<1x1x3x24xbf16> -> tensor<1x2x3x24xbf16>, tensor<1x2x40x24xf32>
  return %o, %s : tensor<1x2x3x24xbf16>, tensor<1x2x40x24xf32>
}

// -----

// Selective scan: one thread per (batch, channel), 2 x 200 = 400 -> 4 blocks
// of 128; h[16] carried with the next step's x, delta, z, B and C columns.
// CHECK-LABEL: func.func @scan
// CHECK-NOT: kestrel.selective_scan
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C4]], {{.*}}) threads({{.*}}) in ({{.*}} = %c128
// CHECK: scf.if
// CHECK: scf.for
// CHECK: math.log1p
// CHECK: memref.store {{.*}} : memref<2x200x5xbf16>
// CHECK: scf.yield
// CHECK-COUNT-16: memref.store {{.*}} : memref<2x200x16xf32>
func.func @scan(%x: tensor<2x200x5xbf16>, %dt: tensor<2x200x5xbf16>, %a: tensor<200x16xf32>, %b: tensor<2x16x5xbf16>, %c: tensor<2x16x5xbf16>, %z: tensor<2x200x5xbf16>) -> (tensor<2x200x5xbf16>, tensor<2x200x16xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c z(%z : tensor<2x200x5xbf16>) delta_softplus : tensor<2x200x5xbf16>, tensor<2x200x5xbf16>, tensor<200x16xf32>, tensor<2x16x5xbf16>, tensor<2x16x5xbf16> -> tensor<2x200x5xbf16>, tensor<2x200x16xf32>
  return %y, %h : tensor<2x200x5xbf16>, tensor<2x200x16xf32>
}

// -----

// N = 128 (Mamba2-sized state): 4 lanes per channel, 32 state elements
// each; 1 x 30 channels x 4 = 120 threads, one block. Every thread runs the
// loop (lanes past the last channel on a copy of it) so the two xor
// shuffles summing the partial y see the whole warp; lane 0 of a channel
// stores y, each lane its 32 final-state elements, under the channel
// bound.
// CHECK-LABEL: func.func @scan_n128
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c128
// CHECK: %[[ROW:.*]] = arith.divui %{{.*}}, %c4
// CHECK: %[[ACTIVE:.*]] = arith.cmpi slt, %[[ROW]], %c30
// CHECK: arith.minsi %[[ROW]], %c29
// CHECK-NOT: scf.if
// CHECK: scf.for
// CHECK: gpu.shuffle  xor {{.*}}, %c2_i32
// CHECK: gpu.shuffle  xor {{.*}}, %c1_i32
// CHECK: %[[FIRST:.*]] = arith.andi %[[ACTIVE]]
// CHECK: scf.if %[[FIRST]]
// CHECK: memref.store {{.*}} : memref<1x30x7xf32>
// CHECK: scf.yield
// CHECK: scf.if %[[ACTIVE]]
// CHECK-COUNT-32: memref.store {{.*}} : memref<1x30x128xf32>
func.func @scan_n128(%x: tensor<1x30x7xf32>, %dt: tensor<1x30x7xf32>, %a: tensor<30x128xf32>, %b: tensor<1x128x7xf32>, %c: tensor<1x128x7xf32>) -> (tensor<1x30x7xf32>, tensor<1x30x128xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<1x30x7xf32>, tensor<1x30x7xf32>, tensor<30x128xf32>, tensor<1x128x7xf32>, tensor<1x128x7xf32> -> tensor<1x30x7xf32>, tensor<1x30x128xf32>
  return %y, %h : tensor<1x30x7xf32>, tensor<1x30x128xf32>
}

// -----

// Causal conv with a state (decode form): one kernel over B * C * (T + K - 1)
// = 2 * 64 * 4 = 512 threads (2 blocks of 256): r < T computes y, r >= T
// writes the new state.
// CHECK-LABEL: func.func @conv
// CHECK-NOT: kestrel.causal_conv1d
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C2]], {{.*}}) threads({{.*}}) in ({{.*}} = %c256
// CHECK: scf.if {{.*}} {
// CHECK-COUNT-4: arith.mulf
// CHECK: memref.store {{.*}} : memref<2x64x1xf32>
// CHECK: } else {
// CHECK: memref.store {{.*}} : memref<2x64x3xf32>
func.func @conv(%x: tensor<2x64x1xf32>, %w: tensor<64x4xf32>, %s0: tensor<2x64x3xf32>) -> (tensor<2x64x1xf32>, tensor<2x64x3xf32>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = none state(%s0 : tensor<2x64x3xf32>) : tensor<2x64x1xf32>, tensor<64x4xf32> -> tensor<2x64x1xf32>, tensor<2x64x3xf32>
  return %y, %s : tensor<2x64x1xf32>, tensor<2x64x3xf32>
}

// -----

// Dynamic shapes are left to the reference lowering.
// CHECK-LABEL: func.func @dynamic
// CHECK: kestrel.gated_recurrence
// CHECK-NOT: gpu.launch
func.func @dynamic(%q: tensor<1x2x?x4xf32>, %k: tensor<1x2x?x4xf32>, %v: tensor<1x2x?x4xf32>) -> (tensor<1x2x?x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x?x4xf32>, tensor<1x2x4x4xf32>
}
