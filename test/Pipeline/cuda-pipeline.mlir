// RUN: kestrel-opt %s --kestrel-cuda-pipeline | FileCheck %s
// RUN: kestrel-opt %s --kestrel-cuda-pipeline="chip=sm_80" | FileCheck %s --check-prefix=SM80

// Host code is launches only; the kernels live in one gpu.binary of PTX.
// CHECK-LABEL: func.func @attention(%{{.*}}: memref<1x2x8x4xf32>, %{{.*}}: memref<1x1x8x4xf32>, %{{.*}}: memref<1x1x8x4xf32>, %{{.*}}: memref<1x2x8x4xf32>)
// CHECK: gpu.launch_func @attention_kernel::@attention_kernel
// CHECK-SAME: threads in (%{{.*}}, %{{.*}}, %{{.*}})
// CHECK: gpu.binary @attention_kernel [#gpu.object<#nvvm.target<chip = "sm_90a", features = "+ptx80">
// CHECK-SAME: .target sm_90a
// CHECK-NOT: gpu.binary

// SM80: #nvvm.target<chip = "sm_80"
func.func @attention(%q: tensor<1x2x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x2x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
