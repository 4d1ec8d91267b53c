// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm=precision=bf16 | FileCheck %s --check-prefix=BF16

// Q/K/V: three contractions of one A by constant weights of one K become one
// GEMM over the weights concatenated along N (4 + 2 + 2 columns here, as
// [K, 8]); Q and K feed only a head transpose [1, T, H, Dh] ->
// [1, H, T, Dh], so their column ranges are stored in that layout and the
// transposes are gone; V is stored as is. One launch, three buffers.
// CHECK-LABEL: func.func @qkv
// CHECK-DAG: arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 1.000000e+01, 2.000000e+01, 1.000000e+02, 2.000000e+02], [5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00, 3.000000e+01, 4.000000e+01, 3.000000e+02, 4.000000e+02]]> : tensor<2x8xf32>
// CHECK-DAG: %[[Q:.*]] = memref.alloc() : memref<1x2x4x2xf32>
// CHECK-DAG: %[[K:.*]] = memref.alloc() : memref<1x1x4x2xf32>
// CHECK-DAG: %[[V:.*]] = memref.alloc() : memref<1x4x2xf32>
// CHECK: gpu.launch
// CHECK-COUNT-3: memref.extract_aligned_pointer_as_index %{{.*}} : memref<
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_fusion = "outputs", kestrel.gemm_outputs = ["heads", "heads", "rows"], kestrel.gemm_plan = #kestrel.gemm_plan<{{.*}}operandType = f32
// CHECK-NOT: gpu.launch
// CHECK-NOT: linalg.generic
// CHECK: return
// BF16-LABEL: func.func @qkv
// BF16: gpu.launch
// BF16: nvvm.mma.sync
// BF16: kestrel.gemm_fusion = "outputs", kestrel.gemm_outputs = ["heads", "heads", "rows"], kestrel.gemm_plan = #kestrel.gemm_plan<{{.*}}operandType = bf16
// BF16-NOT: kestrel.gemm_plan
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#t = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @qkv(%x: tensor<1x4x2xf32>) -> (tensor<1x2x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x4x2xf32>) {
  %wq = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  %wk = arith.constant dense<[[10.0, 20.0], [30.0, 40.0]]> : tensor<2x2xf32>
  %wv = arith.constant dense<[[100.0, 200.0], [300.0, 400.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %sq = arith.constant dense<[1, 4, 2, 2]> : tensor<4xindex>
  %sk = arith.constant dense<[1, 4, 1, 2]> : tensor<4xindex>
  %e4 = tensor.empty() : tensor<1x4x4xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %e2 = tensor.empty() : tensor<1x4x2xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x4x2xf32>) -> tensor<1x4x2xf32>
  %q = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wq : tensor<1x4x2xf32>, tensor<2x4xf32>) outs(%f4 : tensor<1x4x4xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4xf32>
  %k = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wk : tensor<1x4x2xf32>, tensor<2x2xf32>) outs(%f2 : tensor<1x4x2xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x2xf32>
  %v = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wv : tensor<1x4x2xf32>, tensor<2x2xf32>) outs(%f2 : tensor<1x4x2xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x2xf32>
  %qr = tensor.reshape %q(%sq) : (tensor<1x4x4xf32>, tensor<4xindex>) -> tensor<1x4x2x2xf32>
  %qe = tensor.empty() : tensor<1x2x4x2xf32>
  %qt = linalg.generic {indexing_maps = [#t, #i], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qr : tensor<1x4x2x2xf32>) outs(%qe : tensor<1x2x4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x4x2xf32>
  %kr = tensor.reshape %k(%sk) : (tensor<1x4x2xf32>, tensor<4xindex>) -> tensor<1x4x1x2xf32>
  %ke = tensor.empty() : tensor<1x1x4x2xf32>
  %kt = linalg.generic {indexing_maps = [#t, #i], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%kr : tensor<1x4x1x2xf32>) outs(%ke : tensor<1x1x4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x4x2xf32>
  return %qt, %kt, %v : tensor<1x2x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x4x2xf32>
}

// -----

// Gate/up: two contractions of one A with equal N whose results feed only
// silu(g) * u. One GEMM over B with gate and up columns interleaved in
// groups of G (FFMA kernel: half a warp tile, 32 columns here, so gate then
// up; tensor cores: 8), whose epilogue evaluates the chain (exp inside the
// launch) and stores the half-width result. The three generics are gone.
// CHECK-LABEL: func.func @gated
// CHECK: arith.constant dense<{{.*}}> : tensor<2x64xf32>
// CHECK: %[[H:.*]] = memref.alloc() : memref<1x4x32xf32>
// CHECK: gpu.launch
// CHECK: math.exp
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_fusion = "gated", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 32, tileN = 64, {{.*}}operandType = f32
// CHECK-NOT: gpu.launch
// CHECK-NOT: linalg.generic
// CHECK: bufferization.to_tensor %[[H]]
// BF16-LABEL: func.func @gated
// The bf16 weights (hex, little-endian): 0..7 of gate, 100..107 of up, 8..11
// of gate.
// BF16: arith.constant dense<"0x0000803F004040408040A040C040E040C842CA42CC42CE42D042D242D442D6420041104120413041{{.*}}> : tensor<2x64xbf16>
// BF16: gpu.launch
// BF16: math.exp
// BF16: kestrel.gemm_fusion = "gated"
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @gated(%x: tensor<1x4x2xf32>) -> tensor<1x4x32xf32> {
  %wg = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<2x32xf32>
  %wu = arith.constant dense<[[100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 108.0, 109.0, 110.0, 111.0, 112.0, 113.0, 114.0, 115.0, 116.0, 117.0, 118.0, 119.0, 120.0, 121.0, 122.0, 123.0, 124.0, 125.0, 126.0, 127.0, 128.0, 129.0, 130.0, 131.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]> : tensor<2x32xf32>
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x4x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x32xf32>) -> tensor<1x4x32xf32>
  %g = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wg : tensor<1x4x2xf32>, tensor<2x32xf32>) outs(%f : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x32xf32>
  %sig = linalg.generic {indexing_maps = [#e, #e], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g : tensor<1x4x32xf32>) outs(%e : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %x2 = math.exp %n : f32
    %d = arith.addf %x2, %one : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x4x32xf32>
  %silu = linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g, %sig : tensor<1x4x32xf32>, tensor<1x4x32xf32>) outs(%e : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<1x4x32xf32>
  %u = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wu : tensor<1x4x2xf32>, tensor<2x32xf32>) outs(%f : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x32xf32>
  %h = linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel", "parallel"]} ins(%silu, %u : tensor<1x4x32xf32>, tensor<1x4x32xf32>) outs(%e : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<1x4x32xf32>
  return %h : tensor<1x4x32xf32>
}

// -----

// A residual add after a contraction (zero init): the other addend becomes
// C's init, read by the epilogue; the add is gone.
// CHECK-LABEL: func.func @residual
// CHECK: gpu.launch
// CHECK: } {kestrel.gemm_fusion = "residual", kestrel.gemm_plan
// CHECK-NOT: linalg.generic
// CHECK-NOT: gpu.launch
// BF16-LABEL: func.func @residual
// BF16: kestrel.gemm_fusion = "residual"
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @residual(%x: tensor<1x4x8xf32>, %r: tensor<1x4x8xf32>, %w: tensor<8x8xf32>) -> tensor<1x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %y = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : tensor<1x4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<1x4x8xf32>) {
  ^bb0(%in: f32, %wv: f32, %out: f32):
    %m = arith.mulf %in, %wv : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x8xf32>
  %sum = linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r, %y : tensor<1x4x8xf32>, tensor<1x4x8xf32>) outs(%e : tensor<1x4x8xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<1x4x8xf32>
  return %sum : tensor<1x4x8xf32>
}

// -----

// Left alone: siblings whose B is not a constant are separate GEMMs, and
// contractions whose results are also used elsewhere keep their add.
// CHECK-LABEL: func.func @not_fused
// CHECK: gpu.launch
// CHECK: kestrel.gemm_plan
// CHECK-NOT: kestrel.gemm_fusion
// CHECK: gpu.launch
// CHECK: kestrel.gemm_plan
// CHECK-NOT: kestrel.gemm_fusion
// CHECK: linalg.generic
// CHECK: arith.addf
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @not_fused(%x: tensor<1x4x8xf32>, %w1: tensor<8x8xf32>, %w2: tensor<8x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %y = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w1 : tensor<1x4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<1x4x8xf32>) {
  ^bb0(%in: f32, %wv: f32, %out: f32):
    %m = arith.mulf %in, %wv : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x8xf32>
  %z = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w2 : tensor<1x4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<1x4x8xf32>) {
  ^bb0(%in: f32, %wv: f32, %out: f32):
    %m = arith.mulf %in, %wv : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x8xf32>
  %sum = linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel", "parallel"]} ins(%z, %y : tensor<1x4x8xf32>, tensor<1x4x8xf32>) outs(%e : tensor<1x4x8xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<1x4x8xf32>
  return %sum, %y, %z : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
}

// -----

// precision=bf16: the gated result is read only by a GEMM that converts it
// to bf16, so the epilogue stores bf16 (a widening the down GEMM sees
// through); the transpose feeding a GEMM through a reshape rounds its own
// result to bf16. No conversion kernel is left: the only generics are the
// transpose (bf16 out) and the dead widening.
// BF16-LABEL: func.func @narrow_producers
// BF16: memref.alloc() : memref<1x4x32xbf16>
// BF16: gpu.launch
// BF16: math.exp
// BF16: arith.truncf {{.*}} : f32 to bf16
// BF16: kestrel.gemm_fusion = "gated"
// BF16: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x4x32xbf16>) outs(%{{.*}} : tensor<1x4x32xf32>)
// BF16: arith.extf
// BF16: gpu.launch
// BF16: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x4x16xf32>) outs(%{{.*}} : tensor<1x4x2x16xbf16>)
// BF16-NEXT: ^bb0
// BF16-NEXT: arith.truncf
// BF16: tensor.reshape {{.*}} -> tensor<1x4x32xbf16>
// BF16: gpu.launch
// BF16-NOT: linalg.generic
// BF16: return
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#t = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @narrow_producers(%x: tensor<1x4x32xf32>, %wg: tensor<32x32xf32>, %att: tensor<1x2x4x16xf32>) -> (tensor<1x4x32xf32>, tensor<1x4x32xf32>) {
  %w1 = arith.constant dense<0.5> : tensor<32x32xf32>
  %w3 = arith.constant dense<0.25> : tensor<32x32xf32>
  %w2 = arith.constant dense<0.125> : tensor<32x32xf32>
  %zero = arith.constant 0.0 : f32
  %shape = arith.constant dense<[1, 4, 32]> : tensor<3xindex>
  %e = tensor.empty() : tensor<1x4x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x32xf32>) -> tensor<1x4x32xf32>
  %g = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w1 : tensor<1x4x32xf32>, tensor<32x32xf32>) outs(%f : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x32xf32>
  %u = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w3 : tensor<1x4x32xf32>, tensor<32x32xf32>) outs(%f : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x32xf32>
  %h = linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g, %u : tensor<1x4x32xf32>, tensor<1x4x32xf32>) outs(%e : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %n = arith.negf %in : f32
    %ex = math.exp %n : f32
    %m = arith.mulf %in2, %ex : f32
    linalg.yield %m : f32
  } -> tensor<1x4x32xf32>
  %down = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%h, %w2 : tensor<1x4x32xf32>, tensor<32x32xf32>) outs(%f : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x32xf32>
  %te = tensor.empty() : tensor<1x4x2x16xf32>
  %tt = linalg.generic {indexing_maps = [#t, #i], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%att : tensor<1x2x4x16xf32>) outs(%te : tensor<1x4x2x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x2x16xf32>
  %tr = tensor.reshape %tt(%shape) : (tensor<1x4x2x16xf32>, tensor<3xindex>) -> tensor<1x4x32xf32>
  %o = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%tr, %wg : tensor<1x4x32xf32>, tensor<32x32xf32>) outs(%f : tensor<1x4x32xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.mulf %in, %w : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x32xf32>
  return %down, %o : tensor<1x4x32xf32>, tensor<1x4x32xf32>
}
