// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-moe | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-moe=precision=bf16 | FileCheck %s --check-prefix=BF16

// bf16, 8 experts top-2, P = 128 pairs: a one-block dispatch (counting
// sort, each pair's slot, and for both GEMMs the table M tile -> expert,
// ceil(128 / 16) + 8 = 16 tiles), then two grouped GEMM launches on tensor
// cores planned for 8 products of 16 rows (16 x 64 x 64 tiles, 4 warps):
// up over 16 M tiles x 2F / 64 = 8 N tiles, each block's expert one load
// from the table; down over 16 x 128 / 64 = 2, its epilogue stores the
// weighted rows as f32 pairs (no atomics); the combine adds each token's k
// rows and rounds to bf16 in one kernel.
// CHECK-LABEL: func.func @moe_bf16
// CHECK-NOT: kestrel.moe
// CHECK: %[[TE:.*]] = memref.alloc() : memref<2x16xi32>
// CHECK-NEXT: %[[PERM:.*]] = memref.alloc() : memref<128xi32>
// CHECK-NEXT: %[[SLOTS:.*]] = memref.alloc() : memref<128xi32>
// CHECK-NEXT: memref.alloc() : memref<128x256xbf16>
// CHECK-NEXT: memref.alloc() : memref<128x128xf32>
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c1024{{.*}}
// CHECK: llvm.atomicrmw add
// CHECK: gpu.barrier
// CHECK: memref.store {{.*}}, %[[SLOTS]]
// CHECK: memref.store %c-1_i32{{.*}}, %[[SLOTS]]
// CHECK: memref.store {{.*}}, %[[TE]]
// CHECK: } {kestrel.moe_stage = #kestrel.moe_stage<dispatch>}
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c128{{.*}}
// CHECK: memref.load %[[TE]][%c0{{.*}}, %{{.*}}] : memref<2x16xi32>
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.mma.sync
// CHECK: math.exp
// CHECK: } {kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 16, tileN = 64, tileK = 64, warpsM = 1, warpsN = 4, stages = 4, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>, kestrel.moe_stage = #kestrel.moe_stage<up>}
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c32{{.*}}
// CHECK: memref.load %[[TE]][%c1{{.*}}, %{{.*}}] : memref<2x16xi32>
// CHECK: nvvm.mma.sync
// CHECK-NOT: llvm.atomicrmw
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<down>
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<64x128xbf16>
// CHECK: gpu.launch
// CHECK: memref.load %[[SLOTS]]
// CHECK: scf.if
// CHECK: arith.addf {{.*}} : vector<4xf32>
// CHECK: memref.load %[[SLOTS]]
// CHECK: arith.truncf {{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK: } {kestrel.moe_stage = #kestrel.moe_stage<combine>}
// CHECK: bufferization.to_tensor %[[OUT]]
// CHECK-NOT: linalg.generic
// CHECK-NOT: combine_init
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
// silu * up generic (for kestrel-gpu-gemm and the row kernels); the
// combine starts each row from their output.
// CHECK-LABEL: func.func @moe_shared
// CHECK: linalg.matmul
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: %[[S:.*]] = linalg.matmul {{.*}} -> tensor<256x128xf32>
// CHECK: %[[SEED:.*]] = bufferization.to_buffer %[[S]]
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<dispatch>
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<down>
// CHECK: llvm.load {{.*}} -> vector<4xf32>
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<combine>
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

// -----

// 256 rows per expert on average (1024 tokens top-2 over 8 experts): the
// gate/up GEMM takes 256 x 128 x 32 tiles of 4 x 2 warps (ceil(2048 / 256)
// + 8 = 16 M tiles x 1024 / 128 = 8 N tiles), the down GEMM 128 x 256 x 64
// of 2 x 4 warps, 3 stages (24 M tiles x 1); the tile table holds 24.
// (gpu-moe-tiles.mlir: the same op under tile-up / tile-down overrides.)
// CHECK-LABEL: func.func @moe_big_tiles
// CHECK: memref.alloc() : memref<2x24xi32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c128{{.*}}
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 256, tileN = 128, tileK = 32, warpsM = 4, warpsN = 2, stages = 4, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>, kestrel.moe_stage = #kestrel.moe_stage<up>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c24{{.*}}
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 256, tileK = 64, warpsM = 2, warpsN = 4, stages = 3, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>, kestrel.moe_stage = #kestrel.moe_stage<down>
func.func @moe_big_tiles(%x: tensor<1024x256xbf16>, %idx: tensor<1024x2xi32>, %w: tensor<1024x2xf32>,
    %w1: tensor<8x256x512xbf16>, %w3: tensor<8x256x512xbf16>, %w2: tensor<8x512x256xbf16>) -> tensor<1024x256xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<1024x256xbf16>, tensor<1024x2xi32>, tensor<1024x2xf32>,
        tensor<8x256x512xbf16>, tensor<8x256x512xbf16>, tensor<8x512x256xbf16> -> tensor<1024x256xbf16>
  return %y : tensor<1024x256xbf16>
}
