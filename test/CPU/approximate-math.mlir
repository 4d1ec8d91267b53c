// RUN: kestrel-opt %s --kestrel-approximate-math | FileCheck %s
// RUN: kestrel-opt %s --kestrel-approximate-math="ops=tanh" | FileCheck %s --check-prefix=ONLY-TANH

// exp and tanh become arithmetic the vectorizers can handle; no call remains.
// CHECK-LABEL: func @softmax_pieces
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK: arith.mulf
// CHECK: return
// ONLY-TANH-LABEL: func @softmax_pieces
// ONLY-TANH: math.exp
// ONLY-TANH-NOT: math.tanh
func.func @softmax_pieces(%x: f32, %y: f32) -> (f32, f32) {
  %e = math.exp %x : f32
  %t = math.tanh %y : f32
  return %e, %t : f32, f32
}
