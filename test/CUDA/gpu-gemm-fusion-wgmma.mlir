// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm="chip=sm_90a precision=bf16" | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm="chip=sm_90a precision=bf16 mma=sync" | FileCheck %s --check-prefix=SYNC

// The GEMM fusions of gpu-gemm-fusion.mlir on sm_90a: the merged GEMM of
// more than 64 rows runs on the wgmma kernel (kestrel.gemm_mma = "wgmma"),
// its epilogue hook unchanged; under mma=sync (and for M <= 64, @decode_qkv
// below) on mma.sync as before.

// Q/K/V of 128 rows: one GEMM over [64, 128 + 64 + 64] (one 128 x 256 tile
// would launch 1 block: 128 x 128 tiles, 3 stages, m64n128k16); Q and K
// stored as [1, H, T, Dh] from the accumulator registers in f32 pairs, V as
// rows.
// CHECK-LABEL: func.func @qkv
// CHECK-DAG: %[[Q:.*]] = memref.alloc() : memref<1x2x128x64xf32>
// CHECK-DAG: %[[K:.*]] = memref.alloc() : memref<1x1x128x64xf32>
// CHECK-DAG: %[[V:.*]] = memref.alloc() : memref<1x128x64xf32>
// CHECK: gpu.launch
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: "wgmma.wait_group.sync.aligned 0;"
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_fusion = "outputs", kestrel.gemm_mma = "wgmma", kestrel.gemm_outputs = ["heads", "heads", "rows"], kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 64, warpsM = 8, warpsN = 1, stages = 3, splitK = 1, operandType = bf16
// CHECK-NOT: gpu.launch
// CHECK: return
// SYNC-LABEL: func.func @qkv
// SYNC-NOT: wgmma
// SYNC: nvvm.mma.sync
// SYNC: } {kestrel.gemm_fusion = "outputs", kestrel.gemm_outputs = ["heads", "heads", "rows"], kestrel.gemm_plan
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#t = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
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
  %q = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wq : tensor<1x128x64xf32>, tensor<64x128xf32>) outs(%f4 : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  %k = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wk : tensor<1x128x64xf32>, tensor<64x64xf32>) outs(%f2 : tensor<1x128x64xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x64xf32>
  %v = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wv : tensor<1x128x64xf32>, tensor<64x64xf32>) outs(%f2 : tensor<1x128x64xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x64xf32>
  %qr = tensor.reshape %q(%sq) : (tensor<1x128x128xf32>, tensor<4xindex>) -> tensor<1x128x2x64xf32>
  %qe = tensor.empty() : tensor<1x2x128x64xf32>
  %qt = linalg.generic {indexing_maps = [#t, #i], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qr : tensor<1x128x2x64xf32>) outs(%qe : tensor<1x2x128x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x128x64xf32>
  %kr = tensor.reshape %k(%sk) : (tensor<1x128x64xf32>, tensor<4xindex>) -> tensor<1x128x1x64xf32>
  %ke = tensor.empty() : tensor<1x1x128x64xf32>
  %kt = linalg.generic {indexing_maps = [#t, #i], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%kr : tensor<1x128x1x64xf32>) outs(%ke : tensor<1x1x128x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x128x64xf32>
  return %qt, %kt, %v : tensor<1x2x128x64xf32>, tensor<1x1x128x64xf32>, tensor<1x128x64xf32>
}

// -----

// Gate/up of 128 rows: B's gate and up columns interleaved in groups of 8;
// a wgmma lane holds columns 8 j + 2 (lane % 4) (+1) of every n8 tile, so
// gate group j and up group j + 1 meet in its registers, and the epilogue
// evaluates silu(g) * u there and stores the 128-column result in pairs.
// CHECK-LABEL: func.func @gated
// CHECK: %[[H:.*]] = memref.alloc() : memref<1x128x128xf32>
// CHECK: gpu.launch
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: "wgmma.wait_group.sync.aligned 0;"
// CHECK: math.exp
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_fusion = "gated", kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 64, warpsM = 8, warpsN = 1, stages = 3,
// CHECK-NOT: gpu.launch
// CHECK-NOT: linalg.generic
// CHECK: bufferization.to_tensor %[[H]]
// SYNC-LABEL: func.func @gated
// SYNC-NOT: wgmma
// SYNC: nvvm.mma.sync
// SYNC: } {kestrel.gemm_fusion = "gated", kestrel.gemm_plan
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @gated(%x: tensor<1x128x64xf32>) -> tensor<1x128x128xf32> {
  %wg = arith.constant dense<0.5> : tensor<64x128xf32>
  %wu = arith.constant dense<0.25> : tensor<64x128xf32>
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x128x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x128x128xf32>) -> tensor<1x128x128xf32>
  %g = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wg : tensor<1x128x64xf32>, tensor<64x128xf32>) outs(%f : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  %u = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wu : tensor<1x128x64xf32>, tensor<64x128xf32>) outs(%f : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  %h = linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g, %u : tensor<1x128x128xf32>, tensor<1x128x128xf32>) outs(%e : tensor<1x128x128xf32>) {
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

// -----

// A residual add after a 128-row GEMM: R is C's init, read in the wgmma
// kernel's register epilogue (no C tile through shared memory: it reads
// the init element by element) and added before rounding.
// CHECK-LABEL: func.func @residual
// CHECK: gpu.launch
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: "wgmma.wait_group.sync.aligned 0;"
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> f32
// CHECK: arith.addf
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_fusion = "residual", kestrel.gemm_mma = "wgmma", kestrel.gemm_plan
// CHECK-NOT: linalg.generic
// SYNC-LABEL: func.func @residual
// SYNC-NOT: wgmma
// SYNC: } {kestrel.gemm_fusion = "residual", kestrel.gemm_plan
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @residual(%x: tensor<1x128x64xf32>, %r: tensor<1x128x128xf32>, %w: tensor<64x128xf32>) -> tensor<1x128x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x128x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x128x128xf32>) -> tensor<1x128x128xf32>
  %y = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : tensor<1x128x64xf32>, tensor<64x128xf32>) outs(%f : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %wv: f32, %out: f32):
    %m = arith.mulf %in, %wv : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  %sum = linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r, %y : tensor<1x128x128xf32>, tensor<1x128x128xf32>) outs(%e : tensor<1x128x128xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<1x128x128xf32>
  return %sum : tensor<1x128x128xf32>
}

// -----

// 64 rows (decode): the fused Q/K/V GEMM stays on mma.sync even on sm_90a.
// CHECK-LABEL: func.func @decode_qkv
// CHECK-NOT: wgmma
// CHECK: nvvm.mma.sync
// CHECK: } {kestrel.gemm_fusion = "outputs", kestrel.gemm_outputs = ["rows", "rows"], kestrel.gemm_plan
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @decode_qkv(%x: tensor<64x64xf32>) -> (tensor<64x64xf32>, tensor<64x64xf32>) {
  %wk = arith.constant dense<0.25> : tensor<64x64xf32>
  %wv = arith.constant dense<0.125> : tensor<64x64xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %k = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %wk : tensor<64x64xf32>, tensor<64x64xf32>) outs(%f : tensor<64x64xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<64x64xf32>
  %v = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %wv : tensor<64x64xf32>, tensor<64x64xf32>) outs(%f : tensor<64x64xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<64x64xf32>
  return %k, %v : tensor<64x64xf32>, tensor<64x64xf32>
}
