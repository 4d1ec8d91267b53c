// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-generalize-data-movement))' | FileCheck %s

// A static slice becomes a generic reading source[offset + stride · i].
// CHECK-LABEL: func.func @slice(
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel", "parallel"]} outs(
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[I1:.*]] = arith.addi %[[I]], %c1
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK: %[[J2:.*]] = arith.muli %[[J]], %c2
// CHECK: %[[J3:.*]] = arith.addi %[[J2]], %c1
// CHECK: %[[E:.*]] = tensor.extract %arg0[%[[I1]], %[[J3]]]
// CHECK: linalg.yield %[[E]]
func.func @slice(%x: tensor<4x8xf32>) -> tensor<2x3xf32> {
  %s = tensor.extract_slice %x[1, 1] [2, 3] [1, 2] : tensor<4x8xf32> to tensor<2x3xf32>
  return %s : tensor<2x3xf32>
}

// -----

// A concat reads each element from the input whose range holds it.
// CHECK-LABEL: func.func @concat(
// CHECK-NOT: tensor.concat
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 1
// CHECK: tensor.extract %arg0
// CHECK: %[[J:.*]] = arith.subi %[[I]], %c2
// CHECK: tensor.extract %arg1
// CHECK: %[[IN:.*]] = arith.cmpi sge, %[[I]], %c2
// CHECK: arith.select %[[IN]]
func.func @concat(%a: tensor<3x2xf32>, %b: tensor<3x5xf32>) -> tensor<3x7xf32> {
  %c = tensor.concat dim(1) %a, %b : (tensor<3x2xf32>, tensor<3x5xf32>) -> tensor<3x7xf32>
  return %c : tensor<3x7xf32>
}

// -----

// Slices inside loops (tiling's) and rank-reducing ones stay.
// CHECK-LABEL: func.func @left_alone(
// CHECK: tensor.extract_slice %arg0[0, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<8xf32>
// CHECK: scf.for
// CHECK: tensor.extract_slice
func.func @left_alone(%x: tensor<4x8xf32>, %n: index) -> tensor<8xf32> {
  %r = tensor.extract_slice %x[0, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<8xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %out = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %r) -> tensor<8xf32> {
    %s = tensor.extract_slice %x[%i, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<8xf32>
    scf.yield %s : tensor<8xf32>
  }
  return %out : tensor<8xf32>
}
