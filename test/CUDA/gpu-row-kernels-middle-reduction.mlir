// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-row-kernels))' | FileCheck %s

// A sum over the middle axis of x[4, 8, 16] (ReduceSum axes = [1]): the
// loops are interchanged so that the reduction is innermost, then the
// short row (8 elements) makes it a `serial` kernel: one thread per output
// element (4 x 16 = 64), each looping over the 8 reduced elements; x is
// read at [d0, r, d1] (the reduction index in the middle).
// CHECK-LABEL: func.func @sum_middle
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK-SAME: threads({{.*}}) in (%{{.*}} = %c64,
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %c8
// CHECK: memref.load %{{.*}}[%{{.*}}, %[[R]], %{{.*}}] : memref<4x8x16xf32>
// CHECK: arith.addf
// CHECK: kestrel.row_plan = #kestrel.row_plan<kind = "serial"
func.func @sum_middle(%x: tensor<4x8x16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %s = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>,
                       affine_map<(d0, d1, d2) -> (d0, d2)>],
      iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : tensor<4x8x16xf32>) outs(%init : tensor<4x16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %s : tensor<4x16xf32>
}

// -----

// A max over the leading axis of a long column (x[300, 64], axes = [0]):
// interchanged, the 300-element row is long enough for a `rows` kernel,
// one block per output column.
// CHECK-LABEL: func.func @max_leading
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch blocks(%[[COL:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c64,
// CHECK: memref.load %{{.*}}[%{{.*}}, %[[COL]]] : memref<300x64xf32>
// CHECK: gpu.all_reduce maximumf
// CHECK: kestrel.row_plan = #kestrel.row_plan<kind = "rows"
func.func @max_leading(%x: tensor<300x64xf32>, %init: tensor<64xf32>) -> tensor<64xf32> {
  %m = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d1)>],
      iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<300x64xf32>) outs(%init : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  return %m : tensor<64xf32>
}
