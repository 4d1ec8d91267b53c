// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-cpu-causal-conv))' | FileCheck %s

// kestrel-cpu-causal-conv: the conv in the form kestrel-recognize leaves it
// (x swapped from a time-second [B, T, C] tensor, y swapped back). The loop
// reads the time-second source directly, the weights are transposed to
// [K, C], the forall runs (batch, 16-channel blocks) with the K-1 = 3
// previous inputs as loop-carried vectors, and the swap of y back to
// [B, T, C] is the forall's first result itself. C = 40: the last block is
// masked.
#swap = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @recognized(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x8x40xf32>, %[[W:[^:]*]]: tensor<40x4xf32>, %[[B:[^:]*]]: tensor<40xf32>
// CHECK: %[[WT:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<40x4xf32>) outs(%{{.*}} : tensor<4x40xf32>)
// CHECK: %[[R:.*]]:2 = scf.forall (%[[BI:.*]], %[[CB:.*]]) in (2, 3) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<2x8x40xf32>, tensor<2x40x3xf32>)
// CHECK: arith.minsi
// CHECK: vector.transfer_read %[[WT]]
// CHECK: vector.transfer_read %[[B]]
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, tensor<1x8x?xf32>)
// CHECK: vector.transfer_read %[[X]][%[[BI]], %[[T]], %{{.*}}]
// CHECK-COUNT-4: vector.fma
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: vector.transfer_write
// CHECK: scf.yield
// CHECK: vector.transfer_write {{.*}}permutation_map
// CHECK: scf.forall.in_parallel
// CHECK: } {kestrel.conv_lanes = 16 : i64}
// CHECK-NOT: kestrel.causal_conv1d
// CHECK: return %[[R]]#0, %[[R]]#1 : tensor<2x8x40xf32>, tensor<2x40x3xf32>
func.func @recognized(%x: tensor<2x8x40xf32>, %w: tensor<40x4xf32>, %b: tensor<40xf32>) -> (tensor<2x8x40xf32>, tensor<2x40x3xf32>) {
  %e = tensor.empty() : tensor<2x40x8xf32>
  %xt = linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<2x8x40xf32>) outs(%e : tensor<2x40x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  } -> tensor<2x40x8xf32>
  %y, %s = kestrel.causal_conv1d %xt, %w activation = silu bias(%b : tensor<40xf32>) : tensor<2x40x8xf32>, tensor<40x4xf32> -> tensor<2x40x8xf32>, tensor<2x40x3xf32>
  %eo = tensor.empty() : tensor<2x8x40xf32>
  %yt = linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%y : tensor<2x40x8xf32>) outs(%eo : tensor<2x8x40xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  } -> tensor<2x8x40xf32>
  return %yt, %s : tensor<2x8x40xf32>, tensor<2x40x3xf32>
}

// -----

// A carried state (decode), no bias or activation, bf16, channels-first x
// as given: x is transposed in front of the loop, the window starts from the
// state read per tap, and y is swapped back to [B, C, T]. C = 32: no masks.
// CHECK-LABEL: func.func @state(
// CHECK-SAME: %[[X:[^:]*]]: tensor<1x32x1xbf16>, %[[W:[^:]*]]: tensor<32x4xbf16>, %[[S:[^:]*]]: tensor<1x32x3xbf16>
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<1x32x1xbf16>) outs(%{{.*}} : tensor<1x1x32xbf16>)
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (1, 2)
// CHECK-NOT: arith.minsi
// CHECK: vector.transfer_read %[[S]]{{.*}} {in_bounds = [true], permutation_map = #{{.*}}} : tensor<1x32x3xbf16>, vector<16xbf16>
// CHECK: scf.for
// CHECK-NOT: math.exp
// CHECK: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK: } {kestrel.conv_lanes = 16 : i64}
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x32x1xbf16>)
// CHECK-NOT: kestrel.causal_conv1d
// CHECK: return %[[Y]]
func.func @state(%x: tensor<1x32x1xbf16>, %w: tensor<32x4xbf16>, %s0: tensor<1x32x3xbf16>) -> (tensor<1x32x1xbf16>, tensor<1x32x3xbf16>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = none state(%s0 : tensor<1x32x3xbf16>) : tensor<1x32x1xbf16>, tensor<32x4xbf16> -> tensor<1x32x1xbf16>, tensor<1x32x3xbf16>
  return %y, %s : tensor<1x32x1xbf16>, tensor<1x32x3xbf16>
}
