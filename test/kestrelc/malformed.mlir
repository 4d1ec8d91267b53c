// A syntax error: kestrelc names the file, line and column, exits non-zero
// and leaves no output behind.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not kestrelc %s --target=cpu --emit=so -o %t/out.so 2>&1 | FileCheck %s
// RUN: not ls %t/out.so
// RUN: not kestrelc %s --target=cuda:sm_90a --emit=ptx -o %t/out.ptx 2>&1 | FileCheck %s
// RUN: not ls %t/out.ptx %t/out.manifest
// RUN: ls %t | count 0

// CHECK: malformed.mlir:[[# @LINE + 3]]:{{[0-9]+}}: error:
func.func @f(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %o = kestrel.attention %q, %q, %q causal : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %o tensor<1x1x4x4xf32>
}
