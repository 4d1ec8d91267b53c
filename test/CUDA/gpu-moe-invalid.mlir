// RUN: not kestrel-opt %s --kestrel-gpu-moe="tile-up=128,128,32" 2>&1 | FileCheck %s
// RUN: not kestrel-opt %s --kestrel-gpu-moe="tile-down=100,64,32,1,2,2" 2>&1 | FileCheck %s --check-prefix=PLAN
// RUN: not kestrel-opt %s --kestrel-gpu-moe="mma=wgmma tile-up=256,128,32,4,2,4" 2>&1 | FileCheck %s --check-prefix=WGMMA
// RUN: not kestrel-opt %s --kestrel-gpu-moe="mma=tensor" 2>&1 | FileCheck %s --check-prefix=MMA

// A tile override takes all six numbers, and must be a usable plan.
// CHECK: kestrel-gpu-moe: tile-up takes 6 numbers (tile_m, tile_n, tile_k, warps_m, warps_n, stages), got 3
// PLAN: error: {{.*}}tile_m = 100 is not a multiple of 16 * warps_m
// PLAN: error: {{.*}}kestrel-gpu-moe: unusable tile plan #kestrel.gemm_plan<tileM = 100
// Under mma=wgmma an override must be a wgmma plan; mma takes three values.
// WGMMA: error: {{.*}}kestrel-gpu-moe: tile a wgmma plan has tile_k = 64
// MMA: error: kestrel-gpu-moe: mma must be auto, sync or wgmma, got 'tensor'
func.func @moe(%x: tensor<64x128xbf16>, %idx: tensor<64x2xi32>, %w: tensor<64x2xf32>,
    %w1: tensor<8x128x256xbf16>, %w3: tensor<8x128x256xbf16>, %w2: tensor<8x256x128xbf16>) -> tensor<64x128xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<64x128xbf16>, tensor<64x2xi32>, tensor<64x2xf32>,
        tensor<8x128x256xbf16>, tensor<8x128x256xbf16>, tensor<8x256x128xbf16> -> tensor<64x128xbf16>
  return %y : tensor<64x128xbf16>
}
