// RUN: kestrel-opt %s --kestrel-gpu-moe="tile-up=64,128,32,2,2,3 tile-down=32,64,32,1,2,2" | FileCheck %s

// tile-up / tile-down replace the plans kestrel-gpu-moe would choose
// (gpu-moe.mlir, @moe_big_tiles: 256 x 128 and 128 x 256); the M tile
// table and the launches follow: up over ceil(2048 / 64) + 8 = 40 M tiles x
// 1024 / 128 = 8 N tiles, down over ceil(2048 / 32) + 8 = 72 x 256 / 64 = 4.
// CHECK-LABEL: func.func @moe_big_tiles
// CHECK: memref.alloc() : memref<2x72xi32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c320{{.*}}
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 64, tileN = 128, tileK = 32, warpsM = 2, warpsN = 2, stages = 3, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>, kestrel.moe_stage = #kestrel.moe_stage<up>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c288{{.*}}
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 32, tileN = 64, tileK = 32, warpsM = 1, warpsN = 2, stages = 2, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>, kestrel.moe_stage = #kestrel.moe_stage<down>
func.func @moe_big_tiles(%x: tensor<1024x256xbf16>, %idx: tensor<1024x2xi32>, %w: tensor<1024x2xf32>,
    %w1: tensor<8x256x512xbf16>, %w3: tensor<8x256x512xbf16>, %w2: tensor<8x512x256xbf16>) -> tensor<1024x256xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<1024x256xbf16>, tensor<1024x2xi32>, tensor<1024x2xf32>,
        tensor<8x256x512xbf16>, tensor<8x256x512xbf16>, tensor<8x512x256xbf16> -> tensor<1024x256xbf16>
  return %y : tensor<1024x256xbf16>
}
