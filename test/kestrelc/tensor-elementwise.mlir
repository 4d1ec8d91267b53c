// arith/math ops written directly on tensors: convert-elementwise-to-linalg
// in the high-level pipeline turns them into linalg.generic, so both
// targets compile them (before, one-shot-bufferize stopped at
// "op was not bufferized"). Numerics: test/numerics/test_support_ops.py.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s --emit=mlir | FileCheck %s
// RUN: kestrelc %s --target=cpu --emit=so -o %t/a.so && kestrel-run %t/a.so --repeat=1 | FileCheck %s --check-prefix=EXEC
// RUN: kestrelc %s --target=cuda:sm_90a --emit=ptx -o %t/a.ptx
// RUN: %ptxas -arch=sm_90a %t/a.ptx -o %t/a.cubin
// CHECK-LABEL: func.func @f(
// CHECK: linalg.generic
// CHECK:   arith.addf
// CHECK:   math.exp
// CHECK-NOT: arith.addf {{.*}} : tensor
// EXEC: f: median
func.func @f(%x: tensor<4x4xf32>, %y: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %s = arith.addf %x, %y : tensor<4x4xf32>
  %e = math.exp %s : tensor<4x4xf32>
  return %e : tensor<4x4xf32>
}
