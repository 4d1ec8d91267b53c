// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-moe=chip=sm_90a | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-moe="chip=sm_90a mma=sync" | FileCheck %s --check-prefix=SYNC
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-moe="mma=wgmma tile-up=128,256,64,8,1,4 tile-down=256,128,64,16,1,3" | FileCheck %s --check-prefix=TILE

// The grouped GEMMs of kestrel-gpu-moe on sm_90a: experts averaging more
// than 64 rows (P / E = 2048 / 8 = 256 here) run on the wgmma kernel with
// the same hooks as on mma.sync -- A rows gathered through perm, ragged M
// bounded by the expert's end (rowLimit), the silu * up and weighted-row
// epilogues. Few blocks of 128 x 256 (8 experts x 2 x 4 < 264): 128 x 128
// tiles of two warpgroups, 3 stages, for both GEMMs. The M tile table
// follows the plans: ceil(2048 / 128) + 8 = 24 M tiles per GEMM; up over
// 24 x 1024 / 128 = 192 blocks, down over 24 x 256 / 128 = 48.
// CHECK-LABEL: func.func @moe_wgmma
// CHECK: memref.alloc() : memref<2x24xi32>
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<dispatch>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c192{{.*}}) threads({{.*}}) in ({{.*}} = %c256{{.*}}) dynamic_shared_memory_size %c99328_i32
// CHECK: memref.load {{.*}} : memref<2x24xi32>
// CHECK: scf.if
// CHECK: nvvm.cp.async.shared.global
// CHECK: scf.for
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 1;
// CHECK: "wgmma.wait_group.sync.aligned 0;"
// CHECK: math.exp
// CHECK: llvm.store {{.*}} : vector<2xbf16>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 64, warpsM = 8, warpsN = 1, stages = 3, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>, kestrel.moe_stage = #kestrel.moe_stage<up>}
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c48{{.*}})
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: arith.mulf
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 64, warpsM = 8, warpsN = 1, stages = 3, {{.*}}kestrel.moe_stage = #kestrel.moe_stage<down>}
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<combine>
// SYNC-LABEL: func.func @moe_wgmma
// SYNC-NOT: wgmma
// SYNC: nvvm.mma.sync
// SYNC: } {kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 256, tileN = 128, tileK = 32, warpsM = 4, warpsN = 2, stages = 4, {{.*}}kestrel.moe_stage = #kestrel.moe_stage<up>}
// The overrides (any chip under mma=wgmma): up 128 x 256 in 4 stages, down
// 256 x 128 (four warpgroups, 512 threads); the tables follow each plan:
// ceil(2048 / 256) + 8 = 16 down M tiles, 24 up M tiles.
// TILE-LABEL: func.func @moe_wgmma
// TILE: memref.alloc() : memref<2x24xi32>
// TILE: gpu.launch blocks({{.*}}) in ({{.*}} = %c96{{.*}}) threads({{.*}}) in ({{.*}} = %c256{{.*}}) dynamic_shared_memory_size %c197632_i32
// TILE: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// TILE: kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 256, tileK = 64, warpsM = 8, warpsN = 1, stages = 4,
// TILE: gpu.launch blocks({{.*}}) in ({{.*}} = %c32{{.*}}) threads({{.*}}) in ({{.*}} = %c512{{.*}})
// TILE: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// TILE: kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 256, tileN = 128, tileK = 64, warpsM = 16, warpsN = 1, stages = 3,
func.func @moe_wgmma(%x: tensor<1024x256xbf16>, %idx: tensor<1024x2xi32>, %w: tensor<1024x2xf32>,
    %w1: tensor<8x256x512xbf16>, %w3: tensor<8x256x512xbf16>, %w2: tensor<8x512x256xbf16>) -> tensor<1024x256xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<1024x256xbf16>, tensor<1024x2xi32>, tensor<1024x2xf32>,
        tensor<8x256x512xbf16>, tensor<8x256x512xbf16>, tensor<8x512x256xbf16> -> tensor<1024x256xbf16>
  return %y : tensor<1024x256xbf16>
}

// -----

// 16 rows per expert on average (P / E = 128 / 8): both GEMMs stay on
// mma.sync on sm_90a too.
// CHECK-LABEL: func.func @moe_few_rows
// CHECK-NOT: wgmma
// CHECK-NOT: kestrel.gemm_mma
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<combine>
func.func @moe_few_rows(%x: tensor<64x128xbf16>, %idx: tensor<64x2xi32>, %w: tensor<64x2xf32>,
    %w1: tensor<8x128x256xbf16>, %w3: tensor<8x128x256xbf16>, %w2: tensor<8x256x128xbf16>) -> tensor<64x128xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<64x128xbf16>, tensor<64x2xi32>, tensor<64x2xf32>,
        tensor<8x128x256xbf16>, tensor<8x128x256xbf16>, tensor<8x256x128xbf16> -> tensor<64x128xbf16>
  return %y : tensor<64x128xbf16>
}

// -----

// Many rows per expert (P / E = 8192 / 8 = 1024) and a wide up GEMM
// (2F = 2048): 256 x 128 up tiles fill the SMs twice (8 x 4 x 16 = 512
// blocks), so the up GEMM takes 256 x 128 x 64 tiles of four warpgroups
// in 4 stages; the down GEMM (N = d = 512) keeps the default plan.
// CHECK-LABEL: func.func @moe_wide_up
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c512{{.*}})
// CHECK: } {kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 256, tileN = 128, tileK = 64, warpsM = 16, warpsN = 1, stages = 4, {{.*}}kestrel.moe_stage = #kestrel.moe_stage<up>}
// CHECK: } {kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 64, warpsM = 8, warpsN = 1, stages = 3, {{.*}}kestrel.moe_stage = #kestrel.moe_stage<down>}
func.func @moe_wide_up(%x: tensor<4096x512xbf16>, %idx: tensor<4096x2xi32>, %w: tensor<4096x2xf32>,
    %w1: tensor<8x512x1024xbf16>, %w3: tensor<8x512x1024xbf16>, %w2: tensor<8x1024x512xbf16>) -> tensor<4096x512xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<4096x512xbf16>, tensor<4096x2xi32>, tensor<4096x2xf32>,
        tensor<8x512x1024xbf16>, tensor<8x512x1024xbf16>, tensor<8x1024x512xbf16> -> tensor<4096x512xbf16>
  return %y : tensor<4096x512xbf16>
}
