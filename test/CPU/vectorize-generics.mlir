// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-vectorize-generics))" | FileCheck %s
// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-vectorize-generics{max-vector=64}))" | FileCheck %s --check-prefix=SHORT
// RUN: not kestrel-opt %s --pass-pipeline="builtin.module(func.func(kestrel-vectorize-generics{vector-width=0}))" 2>&1 | FileCheck %s --check-prefix=OPTION

// OPTION: kestrel-vectorize-generics: vector-width must be positive and at most max-vector

// Elementwise, innermost 128 = 2 x 64 lanes: a parallel loop over the 4 x 8
// rows, blocks of 4 vectors along the row.
// CHECK-LABEL: func @elementwise_blocked
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (4, 8)
// CHECK:         scf.for %{{.+}} = %c0 to %c128 step %c64
// CHECK:           vector.transfer_read {{.*}} vector<64xf32>
// CHECK:           math.exp {{.*}} : vector<64xf32>
// CHECK:           vector.transfer_write
// CHECK:       } {kestrel.generic_codegen = "rows-blocked"}
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @elementwise_blocked(%x: tensor<4x8x128xf32>) -> tensor<4x8x128xf32> {
  %e = tensor.empty() : tensor<4x8x128xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<4x8x128xf32>) outs(%e : tensor<4x8x128xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.exp %a : f32
    linalg.yield %v : f32
  } -> tensor<4x8x128xf32>
  return %y : tensor<4x8x128xf32>
}

// -----

// Row sum of 100 lanes: one vector per row, one vector.reduction.
// SHORT (max-vector=64): the row is too long, scalar loops in the forall.
// CHECK-LABEL: func @row_sum
// CHECK:       scf.forall (%{{.+}}) in (8)
// CHECK:         vector.transfer_read {{.*}} vector<100xf32>
// CHECK:         vector.reduction <add>, {{.*}} : vector<100xf32> into f32
// CHECK:       } {kestrel.generic_codegen = "rows"}
// SHORT-LABEL: func @row_sum
// SHORT:       scf.forall
// SHORT:         linalg.generic
// SHORT:       } {kestrel.generic_codegen = "rows-scalar"}
#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>
func.func @row_sum(%x: tensor<8x100xf32>, %init: tensor<8xf32>) -> tensor<8xf32> {
  %s = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<8x100xf32>) outs(%init : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.addf %o, %a : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  return %s : tensor<8xf32>
}

// -----

// A row max over bf16 stays scalar (the x86 backend cannot legalize
// vector.reduce.fmaximum of bf16 vectors at every length).
// CHECK-LABEL: func @row_max_bf16
// CHECK:       scf.forall
// CHECK-NOT:     vector.reduction
// CHECK:       } {kestrel.generic_codegen = "rows-scalar"}
#inb = affine_map<(d0, d1) -> (d0, d1)>
#outb = affine_map<(d0, d1) -> (d0)>
func.func @row_max_bf16(%x: tensor<4x9xbf16>, %init: tensor<4xbf16>) -> tensor<4xbf16> {
  %s = linalg.generic {indexing_maps = [#inb, #outb], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x9xbf16>) outs(%init : tensor<4xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    %v = arith.maximumf %o, %a : bf16
    linalg.yield %v : bf16
  } -> tensor<4xbf16>
  return %s : tensor<4xbf16>
}

// -----

// A column reduction (reduction before a parallel dimension) and a
// contraction are left alone.
// CHECK-LABEL: func @left_alone
// CHECK-NOT:   scf.forall
// CHECK:       linalg.generic
// CHECK-SAME:    iterator_types = ["parallel", "reduction", "parallel"]
// CHECK:       linalg.generic
// CHECK-SAME:    iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-NOT:   scf.forall
#x3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#o3 = affine_map<(d0, d1, d2) -> (d0, d2)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @left_alone(%x: tensor<4x8x16xf32>, %i: tensor<4x16xf32>, %w: tensor<16x16xf32>) -> tensor<4x16xf32> {
  %s = linalg.generic {indexing_maps = [#x3, #o3], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : tensor<4x8x16xf32>) outs(%i : tensor<4x16xf32>) {
  ^bb0(%p: f32, %o: f32):
    %v = arith.addf %o, %p : f32
    linalg.yield %v : f32
  } -> tensor<4x16xf32>
  %mm = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%s, %w : tensor<4x16xf32>, tensor<16x16xf32>) outs(%i : tensor<4x16xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %v = arith.addf %o, %m : f32
    linalg.yield %v : f32
  } -> tensor<4x16xf32>
  return %mm : tensor<4x16xf32>
}

// -----

// A transpose swapping the innermost dimension: rows of the output, whole
// row vectors (37 lanes: no block divides it).
// CHECK-LABEL: func @transpose_rows
// CHECK:       scf.forall (%{{.+}}) in (12)
// CHECK:         vector.transfer_write {{.*}} vector<37xf32>
// CHECK:       } {kestrel.generic_codegen = "rows"}
func.func @transpose_rows(%x: tensor<37x12xf32>) -> tensor<12x37xf32> {
  %e = tensor.empty() : tensor<12x37xf32>
  %t = linalg.transpose ins(%x : tensor<37x12xf32>) outs(%e : tensor<12x37xf32>) permutation = [1, 0]
  return %t : tensor<12x37xf32>
}
