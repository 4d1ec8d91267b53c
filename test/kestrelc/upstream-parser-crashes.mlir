// Inputs that crash upstream MLIR 22's custom parsers (found by the MLIR
// fuzzer, test/fuzz/FuzzMlir.cpp) are refused before parsing by kestrelc,
// kestrel-opt and the C API: one located error, exit status 1, no output.
// linalg.generic reads every iterator_types element as a string unchecked
// (a non-string made it allocate 0xbebebebe00000040 bytes);
// linalg.transpose / linalg.broadcast add a null attribute after a
// malformed permutation / dimensions list; a forward reference `%v#N` makes
// room for N + 1 results (`%v#444444444`: a 7 GB allocation, found by the
// fuzz run of 2026-12-05). Well-formed uses still parse, and so does the
// same text in a string or a comment.
// RUN: rm -rf %t && split-file %s %t
// RUN: not kestrelc %t/generic.mlir --emit=mlir -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GENERIC
// RUN: not kestrel-opt %t/generic.mlir -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GENERIC
// RUN: not kestrelc %t/transpose.mlir --emit=mlir -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=TRANSPOSE
// RUN: not kestrel-opt %t/broadcast.mlir -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=BROADCAST
// RUN: not kestrelc %t/results.mlir --emit=mlir -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=RESULTS
// RUN: not kestrel-opt %t/results.mlir -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=RESULTS
// RUN: not ls %t/out.mlir
// RUN: kestrel-opt %t/good.mlir | FileCheck %s --check-prefix=GOOD

// GENERIC: generic.mlir:3:52: error: linalg.generic's iterator_types list holds something other than iterator type strings: refusing to parse
// TRANSPOSE: transpose.mlir:3:78: error: linalg.transpose / linalg.broadcast whose permutation is not a list of integers: refusing to parse
// BROADCAST: broadcast.mlir:3:76: error: linalg.transpose / linalg.broadcast whose dimensions is not a list of integers: refusing to parse
// RESULTS: results.mlir:3:10: error: the use of result #444444444 (at most 1048576 accepted: MLIR 22's parser makes room for every result number below a forward reference's): refusing to parse
// GOOD: linalg.generic
// GOOD: iterator_types = ["parallel", "parallel"]
// GOOD: linalg.transpose
// GOOD-SAME: permutation = [1, 0]
// GOOD: linalg.broadcast
// GOOD-SAME: dimensions = [1]
// GOOD: kestrel.top_k
// GOOD-SAME: note = "%v#444444444"

//--- generic.mlir
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @f(%x: tensor<2x3xf32>, %o: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", 5]}
      ins(%x : tensor<2x3xf32>) outs(%o : tensor<2x3xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

//--- transpose.mlir
func.func @f(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, x]
  return %t : tensor<3x2xf32>
}

//--- broadcast.mlir
func.func @f(%x: tensor<2xf32>) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %t = linalg.broadcast ins(%x : tensor<2xf32>) outs(%e : tensor<2x3xf32>) dimensions = [1.5]
  return %t : tensor<2x3xf32>
}

//--- results.mlir
func.func @f(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>) {
  %v:2 = kestrel.top_k %x {k = 2 : i64, axis = 1 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  return %v#444444444, %v#1 : tensor<4x2xf32>, tensor<4x2xi64>
}

//--- good.mlir
// A comment may mention %v#444444444.
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @f(%x: tensor<2x3xf32>, %o: tensor<2x3xf32>, %v: tensor<2xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x3xf32>) {
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x3xf32>) outs(%o : tensor<2x3xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<2x3xf32>
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  %b = linalg.broadcast ins(%v : tensor<2xf32>) outs(%o : tensor<2x3xf32>) dimensions = [1]
  return %y, %t, %b : tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x3xf32>
}
func.func @g(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>) {
  %v:2 = kestrel.top_k %x {k = 2 : i64, axis = 1 : i64, note = "%v#444444444"} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  return %v#0, %v#1 : tensor<4x2xf32>, tensor<4x2xi64>
}
