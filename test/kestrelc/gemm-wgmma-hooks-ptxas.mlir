// The fused GEMMs of kestrel-gpu-gemm (Q/K/V with [B, H, T, Dh] stores,
// gate/up with the silu * up epilogue, the residual as C's init) and the
// grouped expert GEMMs of kestrel-gpu-moe (gathered rows, ragged M, silu *
// up and weighted-row epilogues) on the sm_90a wgmma kernel assemble with
// ptxas: five wgmma kernels (lit tests of the choice:
// test/CUDA/gpu-gemm-fusion-wgmma.mlir, test/CUDA/gpu-moe-wgmma.mlir).
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s --target=cuda:sm_90a --precision=bf16 -o %t/w.ptx && %ptxas -arch=sm_90a %t/w.ptx -o %t/w.cubin
// RUN: FileCheck %s < %t/w.ptx
// RUN: FileCheck %s --check-prefix=MMA --implicit-check-not=mma.sync.aligned.m16n8k16 < %t/w.ptx
// CHECK-COUNT-5: wgmma.commit_group.sync.aligned;
// CHECK-NOT: wgmma.commit_group
// MMA-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// MMA-DAG: ex2.approx



#a0 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b0 = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c0 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#t0 = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
#i0 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @qkv(%x: tensor<1x128x64xf32>) -> (tensor<1x2x128x64xf32>, tensor<1x1x128x64xf32>, tensor<1x128x64xf32>) {
  %wq = arith.constant dense<0.5> : tensor<64x128xf32>
  %wk = arith.constant dense<0.25> : tensor<64x64xf32>
  %wv = arith.constant dense<0.125> : tensor<64x64xf32>
  %zero = arith.constant 0.0 : f32
  %sq = arith.constant dense<[1, 128, 2, 64]> : tensor<4xindex>
  %sk = arith.constant dense<[1, 128, 1, 64]> : tensor<4xindex>
  %e4 = tensor.empty() : tensor<1x128x128xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x128x128xf32>) -> tensor<1x128x128xf32>
  %e2 = tensor.empty() : tensor<1x128x64xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x128x64xf32>) -> tensor<1x128x64xf32>
  %q = linalg.generic {indexing_maps = [#a0, #b0, #c0], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wq : tensor<1x128x64xf32>, tensor<64x128xf32>) outs(%f4 : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  %k = linalg.generic {indexing_maps = [#a0, #b0, #c0], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wk : tensor<1x128x64xf32>, tensor<64x64xf32>) outs(%f2 : tensor<1x128x64xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x64xf32>
  %v = linalg.generic {indexing_maps = [#a0, #b0, #c0], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wv : tensor<1x128x64xf32>, tensor<64x64xf32>) outs(%f2 : tensor<1x128x64xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x64xf32>
  %qr = tensor.reshape %q(%sq) : (tensor<1x128x128xf32>, tensor<4xindex>) -> tensor<1x128x2x64xf32>
  %qe = tensor.empty() : tensor<1x2x128x64xf32>
  %qt = linalg.generic {indexing_maps = [#t0, #i0], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qr : tensor<1x128x2x64xf32>) outs(%qe : tensor<1x2x128x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x128x64xf32>
  %kr = tensor.reshape %k(%sk) : (tensor<1x128x64xf32>, tensor<4xindex>) -> tensor<1x128x1x64xf32>
  %ke = tensor.empty() : tensor<1x1x128x64xf32>
  %kt = linalg.generic {indexing_maps = [#t0, #i0], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%kr : tensor<1x128x1x64xf32>) outs(%ke : tensor<1x1x128x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x128x64xf32>
  return %qt, %kt, %v : tensor<1x2x128x64xf32>, tensor<1x1x128x64xf32>, tensor<1x128x64xf32>
}

#a1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b1 = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e1 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @gated(%x: tensor<1x128x64xf32>) -> tensor<1x128x128xf32> {
  %wg = arith.constant dense<0.5> : tensor<64x128xf32>
  %wu = arith.constant dense<0.25> : tensor<64x128xf32>
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x128x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x128x128xf32>) -> tensor<1x128x128xf32>
  %g = linalg.generic {indexing_maps = [#a1, #b1, #c1], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wg : tensor<1x128x64xf32>, tensor<64x128xf32>) outs(%f : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  %u = linalg.generic {indexing_maps = [#a1, #b1, #c1], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wu : tensor<1x128x64xf32>, tensor<64x128xf32>) outs(%f : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  %h = linalg.generic {indexing_maps = [#e1, #e1, #e1], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g, %u : tensor<1x128x128xf32>, tensor<1x128x128xf32>) outs(%e : tensor<1x128x128xf32>) {
  ^bb0(%gv: f32, %uv: f32, %out: f32):
    %n = arith.negf %gv : f32
    %x2 = math.exp %n : f32
    %d = arith.addf %x2, %one : f32
    %s = arith.divf %gv, %d : f32
    %m = arith.mulf %s, %uv : f32
    linalg.yield %m : f32
  } -> tensor<1x128x128xf32>
  return %h : tensor<1x128x128xf32>
}

#a2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b2 = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e2 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @residual(%x: tensor<1x128x64xf32>, %r: tensor<1x128x128xf32>, %w: tensor<64x128xf32>) -> tensor<1x128x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x128x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x128x128xf32>) -> tensor<1x128x128xf32>
  %y = linalg.generic {indexing_maps = [#a2, #b2, #c2], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : tensor<1x128x64xf32>, tensor<64x128xf32>) outs(%f : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %wv: f32, %out: f32):
    %m = arith.mulf %in, %wv : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  %sum = linalg.generic {indexing_maps = [#e2, #e2, #e2], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r, %y : tensor<1x128x128xf32>, tensor<1x128x128xf32>) outs(%e : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  return %sum : tensor<1x128x128xf32>
}


func.func @moe_wgmma(%x: tensor<1024x256xbf16>, %idx: tensor<1024x2xi32>, %w: tensor<1024x2xf32>,
    %w1: tensor<8x256x512xbf16>, %w3: tensor<8x256x512xbf16>, %w2: tensor<8x512x256xbf16>) -> tensor<1024x256xbf16> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<1024x256xbf16>, tensor<1024x2xi32>, tensor<1024x2xf32>,
        tensor<8x256x512xbf16>, tensor<8x256x512xbf16>, tensor<8x512x256xbf16> -> tensor<1024x256xbf16>
  return %y : tensor<1024x256xbf16>
}
