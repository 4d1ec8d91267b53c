// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-vectorize-contractions))" | FileCheck %s

// A marked (parallel, reduction, parallel) product with static shapes that
// the 4×16 register tile divides: scf.for loops over 4×16 output blocks,
// each a vector.contract on plain (non-broadcast) operand reads.
// CHECK-LABEL: func @product
// CHECK: scf.for {{.*}} step %c4
// CHECK:   scf.for {{.*}} step %c16
// CHECK:     vector.transfer_read {{.*}} : tensor<4x64xf32>, vector<4x64xf32>
// CHECK:     vector.transfer_read {{.*}} : tensor<64x16xf32>, vector<64x16xf32>
// CHECK:     vector.contract {{.*}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}} : vector<4x64xf32>, vector<64x16xf32> into vector<4x16xf32>
// CHECK-NOT: kestrel.contraction
#a = affine_map<(r, d, c) -> (r, d)>
#b = affine_map<(r, d, c) -> (d, c)>
#o = affine_map<(r, d, c) -> (r, c)>
func.func @product(%q: tensor<8x64xf32>, %k: tensor<64x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %s = linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%q, %k : tensor<8x64xf32>, tensor<64x32xf32>) outs(%init : tensor<8x32xf32>) attrs = {kestrel.contraction} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  } -> tensor<8x32xf32>
  return %s : tensor<8x32xf32>
}

// -----

// A ragged (dynamic) tile stays scalar; only the marker goes.
// CHECK-LABEL: func @ragged
// CHECK-NOT: vector.
// CHECK: linalg.generic
// CHECK-NOT: kestrel.contraction
#a = affine_map<(r, d, c) -> (r, d)>
#b = affine_map<(r, d, c) -> (d, c)>
#o = affine_map<(r, d, c) -> (r, c)>
func.func @ragged(%q: tensor<?x64xf32>, %k: tensor<64x32xf32>, %init: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %s = linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%q, %k : tensor<?x64xf32>, tensor<64x32xf32>) outs(%init : tensor<?x32xf32>) attrs = {kestrel.contraction} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x32xf32>
  return %s : tensor<?x32xf32>
}

// -----

// A marked row op of the online softmax (row max over 128 keys): one
// scf.for iteration per row, the row read as one vector and reduced with
// vector.reduction; the marker is consumed.
// CHECK-LABEL: func @row_max
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c1
// CHECK: vector.transfer_read {{.*}} : tensor<1x128xf32>, vector<1x128xf32>
// CHECK: vector.reduction <maximumf>, %{{.*}}, %{{.*}} : vector<128xf32> into f32
// CHECK-NOT: kestrel.row_op
func.func @row_max(%s: tensor<8x128xf32>, %init: tensor<8xf32>) -> tensor<8xf32> {
  %m = linalg.generic {indexing_maps = [affine_map<(r, c) -> (r, c)>, affine_map<(r, c) -> (r)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%s : tensor<8x128xf32>) outs(%init : tensor<8xf32>) attrs = {kestrel.row_op} {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.maximumf %x, %acc fastmath<reassoc,nnan,nsz> : f32
    linalg.yield %y : f32
  } -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// A row op with a dynamic extent keeps its scalar loops (marker dropped).
// CHECK-LABEL: func @row_dynamic
// CHECK: linalg.generic
// CHECK-NOT: vector.
// CHECK-NOT: kestrel.row_op
func.func @row_dynamic(%s: tensor<8x?xf32>, %init: tensor<8xf32>) -> tensor<8xf32> {
  %m = linalg.generic {indexing_maps = [affine_map<(r, c) -> (r, c)>, affine_map<(r, c) -> (r)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%s : tensor<8x?xf32>) outs(%init : tensor<8xf32>) attrs = {kestrel.row_op} {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.addf %x, %acc : f32
    linalg.yield %y : f32
  } -> tensor<8xf32>
  return %m : tensor<8xf32>
}
