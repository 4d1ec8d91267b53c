// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{precision=bf16}))' | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{precision=f16}))' | FileCheck %s --check-prefix=F16
// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention))' | FileCheck %s --check-prefix=F32
// RUN: not kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-flash-attention{precision=fp8}))' 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: kestrel-gpu-flash-attention: precision must be f32, tf32, bf16 or f16, got 'fp8'

// An f32 causal GQA attention at D = 128 under precision=bf16: q, k and v
// rounded to bf16 by elementwise generics, the tensor-core kernel on the
// rounded operands (bf16 output), the result widened back to f32. Without
// the option the f32 SIMT kernel runs it.
// CHECK-LABEL: func.func @f32_causal_gqa
// CHECK-COUNT-3: arith.truncf {{.*}} : f32 to bf16
// CHECK-NOT: kestrel.attention {{%}}
// CHECK: nvvm.mma.sync
// CHECK: } {kestrel.attention_kernel = "mma_sync"
// CHECK: arith.extf {{.*}} : bf16 to f32
// CHECK: return {{.*}} : tensor<1x4x256x128xf32>
// F16-LABEL: func.func @f32_causal_gqa
// F16-COUNT-3: arith.truncf {{.*}} : f32 to f16
// F16: } {kestrel.attention_kernel = "mma_sync"
// F32-LABEL: func.func @f32_causal_gqa
// F32-NOT: arith.truncf
// F32: } {kestrel.attention_kernel = "simt_f32"
func.func @f32_causal_gqa(%q: tensor<1x4x256x128xf32>, %k: tensor<1x2x256x128xf32>,
                          %v: tensor<1x2x256x128xf32>) -> tensor<1x4x256x128xf32> {
  %o = kestrel.attention %q, %k, %v causal
      : tensor<1x4x256x128xf32>, tensor<1x2x256x128xf32>, tensor<1x2x256x128xf32> -> tensor<1x4x256x128xf32>
  return %o : tensor<1x4x256x128xf32>
}

// -----

// The tensor-core kernel does not take D = 96 or the lse result: these stay
// f32 under precision=bf16 (the SIMT kernel), nothing is rounded.
// CHECK-LABEL: func.func @f32_stays
// CHECK-NOT: arith.truncf
// CHECK: } {kestrel.attention_kernel = "simt_f32"
// CHECK-NOT: arith.truncf
// CHECK: } {kestrel.attention_kernel = "simt_f32"
func.func @f32_stays(%q: tensor<1x2x64x96xf32>, %k: tensor<1x2x64x96xf32>,
                     %v: tensor<1x2x64x96xf32>, %q2: tensor<1x2x64x64xf32>,
                     %k2: tensor<1x2x64x64xf32>, %v2: tensor<1x2x64x64xf32>)
    -> (tensor<1x2x64x96xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64xf32>) {
  %o = kestrel.attention %q, %k, %v
      : tensor<1x2x64x96xf32>, tensor<1x2x64x96xf32>, tensor<1x2x64x96xf32> -> tensor<1x2x64x96xf32>
  %o2, %lse = kestrel.attention %q2, %k2, %v2 causal
      : tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x2x64x64xf32>, tensor<1x2x64xf32>
  return %o, %o2, %lse : tensor<1x2x64x96xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64xf32>
}
