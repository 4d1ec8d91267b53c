// RUN: kestrel-opt %s --split-input-file --transform-interpreter | FileCheck %s

// kestrel.rms_norm and kestrel.gated_mlp implement the upstream
// TilingInterface over the rows of their input (RowTiling.cpp), so the
// transform dialect's generic tiling ops split them into loops of the same
// op on row slices. The result of each tile is the same rows of the
// result, every column.

// rms_norm over [4, 6, 8]: rows tiled 2 × 3 by nested scf.for.
// CHECK-LABEL: func @rms_norm_for
// CHECK-SAME: (%[[X:.*]]: tensor<4x6x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4x6x8xf32>
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[A0:.*]] = %[[INIT]])
// CHECK:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[A1:.*]] = %[[A0]])
// CHECK:     %[[S:.*]] = tensor.extract_slice %[[X]][%[[I]], %[[J]], 0] [2, 3, 8] [1, 1, 1] : tensor<4x6x8xf32> to tensor<2x3x8xf32>
// CHECK:     %[[T:.*]] = kestrel.rms_norm %[[S]], %[[W]] eps = 9.99999997E-7 : tensor<2x3x8xf32>, tensor<8xf32> -> tensor<2x3x8xf32>
// CHECK:     tensor.insert_slice %[[T]] into %[[A1]][%[[I]], %[[J]], 0] [2, 3, 8] [1, 1, 1]
// CHECK-NOT: kestrel.rms_norm
// CHECK: return
func.func @rms_norm_for(%x: tensor<4x6x8xf32>, %w: tensor<8xf32>) -> tensor<4x6x8xf32> {
  %y = kestrel.rms_norm %x, %w eps = 1.0e-06 : tensor<4x6x8xf32>, tensor<8xf32> -> tensor<4x6x8xf32>
  return %y : tensor<4x6x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["kestrel.rms_norm"]} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %l0, %l1 = transform.structured.tile_using_for %op tile_sizes [2, 3] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// gated_mlp over 8 tokens: 4-row tiles by scf.forall, the weights whole.
// CHECK-LABEL: func @gated_mlp_forall
// CHECK-SAME: (%[[X:.*]]: tensor<8x16xf32>, %[[W1:.*]]: tensor<16x32xf32>, %[[W3:.*]]: tensor<16x32xf32>, %[[W2:.*]]: tensor<32x16xf32>)
// CHECK: scf.forall (%[[I:.*]]) in (2) shared_outs(%[[O:.*]] = %{{.*}}) -> (tensor<8x16xf32>)
// CHECK:   %[[R:.*]] = affine.apply #{{.*}}(%[[I]])
// CHECK:   %[[S:.*]] = tensor.extract_slice %[[X]][%[[R]], 0] [4, 16] [1, 1] : tensor<8x16xf32> to tensor<4x16xf32>
// CHECK:   %[[T:.*]] = kestrel.gated_mlp %[[S]], %[[W1]], %[[W3]], %[[W2]] : tensor<4x16xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<32x16xf32> -> tensor<4x16xf32>
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %[[T]] into %[[O]][%[[R]], 0] [4, 16] [1, 1]
// CHECK-NOT: kestrel.gated_mlp
// CHECK: return
func.func @gated_mlp_forall(%x: tensor<8x16xf32>, %w1: tensor<16x32xf32>, %w3: tensor<16x32xf32>, %w2: tensor<32x16xf32>) -> tensor<8x16xf32> {
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : tensor<8x16xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<32x16xf32> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["kestrel.gated_mlp"]} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %forall = transform.structured.tile_using_forall %op tile_sizes [4] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
