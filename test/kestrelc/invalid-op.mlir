// A verifier error reaches the user with its location and values.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not kestrelc %s -o %t/out.so 2>&1 | FileCheck %s
// RUN: ls %t | count 0

// CHECK: invalid-op.mlir:[[# @LINE + 2]]:8: error: 'kestrel.attention' op num_heads (6) must be a multiple of num_kv_heads (4)
func.func @f(%q: tensor<1x6x4x4xf32>, %k: tensor<1x4x4x4xf32>) -> tensor<1x6x4x4xf32> {
  %o = kestrel.attention %q, %k, %k : tensor<1x6x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32> -> tensor<1x6x4x4xf32>
  return %o : tensor<1x6x4x4xf32>
}
