// RUN: kestrel-opt %s --kestrel-cpu-pipeline | FileCheck %s
// RUN: kestrel-opt %s --kestrel-cpu-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=STEPS

// The C ABI: inputs then outputs, one bare pointer each, no return value.
// CHECK-LABEL: llvm.func @attention(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: kestrel.
// CHECK-NOT: linalg.
// CHECK: llvm.return
// CHECK-NOT: builtin.unrealized_conversion_cast

// Every stage is a named pass.
// STEPS: kestrel-lower-to-linalg
// STEPS: kestrel-cpu-choose-contraction
// STEPS-NEXT: kestrel-cpu-contraction
// STEPS: one-shot-bufferize
// STEPS: buffer-results-to-out-params
// STEPS: convert-linalg-to-loops
// STEPS: convert-func-to-llvm{{.*}}use-bare-ptr-memref-call-conv=true
func.func @attention(%q: tensor<1x2x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x2x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
