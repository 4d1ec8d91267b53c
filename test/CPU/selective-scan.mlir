// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-cpu-selective-scan))' | FileCheck %s

// kestrel-cpu-selective-scan: the scan in the form kestrel-recognize leaves
// it (operands swapped from time-second [B, T, C] tensors, y swapped back).
// The loop reads the time-second sources directly, A is transposed to
// [N, C], the forall runs (batch, 16-channel blocks) with the N = 2 states
// as loop-carried vectors, and the swap of y back to [B, T, C] is the
// forall's first result itself. C = 40: the last block is masked.
#swap = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @recognized(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x8x40xf32>, %[[DT:[^:]*]]: tensor<2x8x40xf32>, %[[A:[^:]*]]: tensor<40x2xf32>, %[[BM:[^:]*]]: tensor<2x8x2xf32>, %[[CM:[^:]*]]: tensor<2x8x2xf32>
// CHECK: %[[AT:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<40x2xf32>) outs(%{{.*}} : tensor<2x40xf32>)
// CHECK: %[[R:.*]]:2 = scf.forall (%[[B:.*]], %[[CB:.*]]) in (2, 3) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<2x8x40xf32>, tensor<2x40x2xf32>)
// CHECK: arith.minsi
// CHECK: vector.transfer_read %[[AT]]
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<16xf32>, vector<16xf32>, tensor<1x8x?xf32>)
// CHECK-DAG: vector.transfer_read %[[DT]][%[[B]], %[[T]], %{{.*}}]
// CHECK-DAG: vector.transfer_read %[[X]][%[[B]], %[[T]], %{{.*}}]
// CHECK: tensor.extract %[[BM]][%[[B]], %[[T]], %{{.*}}]
// CHECK: math.exp %{{.*}} : vector<16xf32>
// CHECK: vector.fma
// CHECK: tensor.extract %[[CM]][%[[B]], %[[T]], %{{.*}}]
// CHECK: vector.transfer_write
// CHECK: scf.forall.in_parallel
// CHECK: } {kestrel.scan_lanes = 16 : i64}
// CHECK-NOT: kestrel.selective_scan
// CHECK: return %[[R]]#0, %[[R]]#1 : tensor<2x8x40xf32>, tensor<2x40x2xf32>
func.func @recognized(%x: tensor<2x8x40xf32>, %dt: tensor<2x8x40xf32>, %A: tensor<40x2xf32>, %bm: tensor<2x8x2xf32>, %cm: tensor<2x8x2xf32>) -> (tensor<2x8x40xf32>, tensor<2x40x2xf32>) {
  %e = tensor.empty() : tensor<2x40x8xf32>
  %xt = linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<2x8x40xf32>) outs(%e : tensor<2x40x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  } -> tensor<2x40x8xf32>
  %dtt = linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%dt : tensor<2x8x40xf32>) outs(%e : tensor<2x40x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  } -> tensor<2x40x8xf32>
  %en = tensor.empty() : tensor<2x2x8xf32>
  %bt = linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%bm : tensor<2x8x2xf32>) outs(%en : tensor<2x2x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  } -> tensor<2x2x8xf32>
  %ct = linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%cm : tensor<2x8x2xf32>) outs(%en : tensor<2x2x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  } -> tensor<2x2x8xf32>
  %y, %h = kestrel.selective_scan %xt, %dtt, %A, %bt, %ct : tensor<2x40x8xf32>, tensor<2x40x8xf32>, tensor<40x2xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32> -> tensor<2x40x8xf32>, tensor<2x40x2xf32>
  %eo = tensor.empty() : tensor<2x8x40xf32>
  %yt = linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%y : tensor<2x40x8xf32>) outs(%eo : tensor<2x8x40xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  } -> tensor<2x8x40xf32>
  return %yt, %h : tensor<2x8x40xf32>, tensor<2x40x2xf32>
}

// -----

// Every option, channels-first operands as given: each is transposed to
// time-second in front of the loop, delta with its bias and softplus in the
// same generic, the initial state read per state index, D and the z gate
// applied in the loop, and y swapped back to [B, C, T] for its user. C = 32:
// whole blocks, no masking.
// CHECK-LABEL: func.func @options(
// CHECK-SAME: %[[X:[^:]*]]: tensor<1x32x4xbf16>
// CHECK: %[[XT:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<1x32x4xbf16>) outs(%{{.*}} : tensor<1x4x32xbf16>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x32xf32>)
// CHECK: math.log1p
// CHECK: arith.select
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (1, 2)
// CHECK-NOT: arith.minsi
// CHECK: vector.transfer_read %{{.*}} {in_bounds = [true], permutation_map = #{{.*}}} : tensor<1x32x3xf32>, vector<16xf32>
// CHECK: scf.for
// CHECK: arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK: } {kestrel.scan_lanes = 16 : i64}
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x32x4xbf16>)
// CHECK-NOT: kestrel.selective_scan
// CHECK: return %[[Y]]
func.func @options(%x: tensor<1x32x4xbf16>, %dt: tensor<1x32x4xbf16>, %A: tensor<32x3xf32>, %bm: tensor<1x3x4xbf16>, %cm: tensor<1x3x4xbf16>, %d: tensor<32xf32>, %z: tensor<1x32x4xbf16>, %db: tensor<32xf32>, %h0: tensor<1x32x3xf32>) -> (tensor<1x32x4xbf16>, tensor<1x32x3xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %A, %bm, %cm D(%d : tensor<32xf32>) z(%z : tensor<1x32x4xbf16>) delta_bias(%db : tensor<32xf32>) initial_state(%h0 : tensor<1x32x3xf32>) delta_softplus : tensor<1x32x4xbf16>, tensor<1x32x4xbf16>, tensor<32x3xf32>, tensor<1x3x4xbf16>, tensor<1x3x4xbf16> -> tensor<1x32x4xbf16>, tensor<1x32x3xf32>
  return %y, %h : tensor<1x32x4xbf16>, tensor<1x32x3xf32>
}

// -----

// Dynamic shapes: left to the reference lowering.
// CHECK-LABEL: func.func @dynamic(
// CHECK-NOT: scf.forall
// CHECK: kestrel.selective_scan
func.func @dynamic(%x: tensor<1x8x?xf32>, %dt: tensor<1x8x?xf32>, %A: tensor<8x4xf32>, %bm: tensor<1x4x?xf32>, %cm: tensor<1x4x?xf32>) -> (tensor<1x8x?xf32>, tensor<1x8x4xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %A, %bm, %cm : tensor<1x8x?xf32>, tensor<1x8x?xf32>, tensor<8x4xf32>, tensor<1x4x?xf32>, tensor<1x4x?xf32> -> tensor<1x8x?xf32>, tensor<1x8x4xf32>
  return %y, %h : tensor<1x8x?xf32>, tensor<1x8x4xf32>
}

// -----

// N = 128 > 32 state rows: the state is not unrolled into 128 registers but
// loop-carried as a [N, 16] buffer; each step walks it with an scf.for over
// n (decay, update, y accumulated in a vector iter_arg).
// CHECK-LABEL: func.func @large_state(
// CHECK: scf.forall
// CHECK:   %[[H0:.*]] = scf.for {{.*}} to %c128 {{.*}} -> (tensor<128x16xf32>)
// CHECK:   scf.for {{.*}} to %c30 {{.*}} iter_args(%{{.*}} = %[[H0]], {{.*}}) -> (tensor<128x16xf32>, tensor<1x30x16xf32>)
// CHECK:     scf.for {{.*}} to %c128{{.*}} -> (tensor<128x16xf32>, vector<16xf32>)
// CHECK:       math.exp {{.*}} : vector<16xf32>
// CHECK:       vector.fma
// CHECK:       vector.fma
// CHECK:       vector.transfer_write {{.*}} : vector<16xf32>, tensor<128x16xf32>
func.func @large_state(%x: tensor<1x16x30xf32>, %dt: tensor<1x16x30xf32>, %a: tensor<16x128xf32>, %b: tensor<1x128x30xf32>, %c: tensor<1x128x30xf32>) -> (tensor<1x16x30xf32>, tensor<1x16x128xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<1x16x30xf32>, tensor<1x16x30xf32>, tensor<16x128xf32>, tensor<1x128x30xf32>, tensor<1x128x30xf32> -> tensor<1x16x30xf32>, tensor<1x16x128xf32>
  return %y, %h : tensor<1x16x30xf32>, tensor<1x16x128xf32>
}
