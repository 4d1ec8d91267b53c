// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-moe | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-moe=precision=bf16 | FileCheck %s --check-prefix=BF16

// bf16, 8 experts top-2, P = 128 pairs: a one-block dispatch (counting
// sort), the accumulator zeroed, then two grouped GEMM launches on tensor
// cores planned for 8 products of 16 rows (16 x 64 x 64 tiles, 4 warps):
// up over ceil(128 / 16) + 8 = 16 M tiles x 2F / 64 = 8 N tiles, down over
// 16 x 128 / 64 = 2; the down epilogue adds into the f32 accumulator with
// atomics; a generic rounds it to bf16.
// CHECK-LABEL: func.func @moe_bf16
// CHECK-NOT: kestrel.moe
// CHECK-DAG: %[[P:.*]] = memref.alloc() : memref<128xi32>
// CHECK-DAG: memref.alloc() : memref<128x256xbf16>
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c1024{{.*}}
// CHECK: llvm.atomicrmw add
// CHECK: gpu.barrier
// CHECK: } {kestrel.moe_stage = #kestrel.moe_stage<dispatch>}
// CHECK: } {kestrel.moe_stage = #kestrel.moe_stage<combine_init>}
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c128{{.*}}
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.mma.sync
// CHECK: math.exp
// CHECK: } {kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 16, tileN = 64, tileK = 64, warpsM = 1, warpsN = 4, stages = 4, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>, kestrel.moe_stage = #kestrel.moe_stage<up>}
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c32{{.*}}
// CHECK: nvvm.mma.sync
// CHECK: llvm.atomicrmw fadd
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<down>
// CHECK: linalg.generic
// CHECK: arith.truncf {{.*}} : f32 to bf16
func.func @moe_bf16(%x: tensor<64x128xbf16>, %idx: tensor<64x2xi32>, %w: tensor<64x2xf32>,
    %w1: tensor<8x128x256xbf16>, %w3: tensor<8x128x256xbf16>, %w2: tensor<8x256x128xbf16>) -> tensor<64x128xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<64x128xbf16>, tensor<64x2xi32>, tensor<64x2xf32>,
        tensor<8x128x256xbf16>, tensor<8x128x256xbf16>, tensor<8x256x128xbf16> -> tensor<64x128xbf16>
  return %y : tensor<64x128xbf16>
}

// -----

// f32 keeps f32 numerics: the grouped GEMMs run on the FFMA kernel (no
// mma), i64 indices; under precision=bf16 the operands are converted and
// the GEMMs run on tensor cores, the result stays f32.
// CHECK-LABEL: func.func @moe_f32
// CHECK-NOT: nvvm.mma.sync
// CHECK: operandType = f32
// CHECK-SAME: kestrel.moe_stage = #kestrel.moe_stage<up>
// CHECK: operandType = f32
// CHECK-SAME: kestrel.moe_stage = #kestrel.moe_stage<down>
// CHECK-NOT: linalg.generic
// CHECK: return
// BF16-LABEL: func.func @moe_f32
// BF16: arith.truncf {{.*}} : f32 to bf16
// BF16: nvvm.mma.sync
// BF16: operandType = bf16
// BF16-SAME: kestrel.moe_stage = #kestrel.moe_stage<up>
func.func @moe_f32(%x: tensor<200x64xf32>, %idx: tensor<200x2xi64>, %w: tensor<200x2xf32>,
    %w1: tensor<8x64x128xf32>, %w3: tensor<8x64x128xf32>, %w2: tensor<8x128x64xf32>) -> tensor<200x64xf32> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<200x64xf32>, tensor<200x2xi64>, tensor<200x2xf32>,
        tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32> -> tensor<200x64xf32>
  return %y : tensor<200x64xf32>
}

// -----

// Shared experts run alongside: three contractions with f32 results and the
// silu * up generic (for kestrel-gpu-gemm and the row kernels); their
// output seeds the accumulator.
// CHECK-LABEL: func.func @moe_shared
// CHECK: linalg.matmul
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: %[[S:.*]] = linalg.matmul {{.*}} -> tensor<256x128xf32>
// CHECK: %[[SEED:.*]] = bufferization.to_buffer %[[S]]
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<dispatch>
// CHECK: llvm.load {{.*}} -> vector<4xf32>
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<combine_init>
func.func @moe_shared(%x: tensor<256x128xbf16>, %idx: tensor<256x4xi32>, %w: tensor<256x4xf32>, %w1: tensor<16x128x64xbf16>, %w3: tensor<16x128x64xbf16>, %w2: tensor<16x64x128xbf16>, %s1: tensor<128x128xbf16>, %s3: tensor<128x128xbf16>, %s2: tensor<128x128xbf16>) -> tensor<256x128xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2) shared(%s1, %s3, %s2 : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>)
      : tensor<256x128xbf16>, tensor<256x4xi32>, tensor<256x4xf32>, tensor<16x128x64xbf16>, tensor<16x128x64xbf16>, tensor<16x64x128xbf16> -> tensor<256x128xbf16>
  return %y : tensor<256x128xbf16>
}

// -----

// Expert choice keeps the reference lowering.
// CHECK-LABEL: func.func @moe_expert_choice
// CHECK: kestrel.moe
// CHECK-NOT: gpu.launch
func.func @moe_expert_choice(%x: tensor<16x64xbf16>, %idx: tensor<4x8xi32>, %w: tensor<4x8xf32>,
    %w1: tensor<4x64x32xbf16>, %w3: tensor<4x64x32xbf16>, %w2: tensor<4x32x64xbf16>) -> tensor<16x64xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2) mode = expert_choice
      : tensor<16x64xbf16>, tensor<4x8xi32>, tensor<4x8xf32>,
        tensor<4x64x32xbf16>, tensor<4x64x32xbf16>, tensor<4x32x64xbf16> -> tensor<16x64xbf16>
  return %y : tensor<16x64xbf16>
}
