// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-cpu-choose-contraction))' | FileCheck %s

// Prefill-sized f32 matmul with runtime B: the 8x32 tile, K blocked by 256
// (f32 output holds the partial sums), B packed at run time.
// CHECK-LABEL: func.func @gemm_runtime_b
// CHECK: linalg.matmul {kestrel.contraction_config = #kestrel.contraction<path = "gemm", mr = 8, nr = 32, kc = 256, mb = 64, nb = 256, pack_b = "runtime", epilogue = "none">}
func.func @gemm_runtime_b(%a: tensor<512x512xf32>, %b: tensor<512x1408xf32>) -> tensor<512x1408xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<512x1408xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<512x1408xf32>) -> tensor<512x1408xf32>
  %r = linalg.matmul ins(%a, %b : tensor<512x512xf32>, tensor<512x1408xf32>) outs(%f : tensor<512x1408xf32>) -> tensor<512x1408xf32>
  return %r : tensor<512x1408xf32>
}

// -----

// Decode (M = 1): all rows in one tile, 64 lanes, no K blocking; B rows
// contiguous in n are read in place. Small N: blocks of one panel.
// CHECK-LABEL: func.func @gemv
// CHECK: kestrel.contraction_config = #kestrel.contraction<path = "gemv", mr = 1, nr = 64, kc = 300, mb = 1, nb = 64, pack_b = "none", epilogue = "none">
func.func @gemv(%a: tensor<1x300xf32>, %b: tensor<300x1000xf32>) -> tensor<1x1000xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1000xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x1000xf32>) -> tensor<1x1000xf32>
  %r = linalg.matmul ins(%a, %b : tensor<1x300xf32>, tensor<300x1000xf32>) outs(%f : tensor<1x1000xf32>) -> tensor<1x1000xf32>
  return %r : tensor<1x1000xf32>
}

// -----

// Transposed runtime weights [N, K] on the GEMV path cannot be read in
// place: packed at run time. M = 12 > 8: 8-row tiles then single rows.
// CHECK-LABEL: func.func @gemv_transposed
// CHECK: #kestrel.contraction<path = "gemv", mr = 8, nr = 32, kc = 64, mb = 16, nb = 32, pack_b = "runtime", epilogue = "none">
func.func @gemv_transposed(%a: tensor<12x64xf32>, %b: tensor<40x64xf32>) -> tensor<12x40xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x40xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<12x40xf32>) -> tensor<12x40xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<12x64xf32>, tensor<40x64xf32>) outs(%f : tensor<12x40xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<12x40xf32>
  return %r : tensor<12x40xf32>
}

// -----

// A constant B seen through the importer's transposing copy (Gemm transB)
// is packed at compile time; the bias add is the single elementwise
// consumer: fused. bf16 result: no K blocking (kc = K).
// CHECK-LABEL: func.func @const_transposed_bias
// CHECK: linalg.matmul {kestrel.contraction_config = #kestrel.contraction<path = "gemm", mr = 8, nr = 32, kc = 300, mb = 32, nb = 32, pack_b = "compile_time", epilogue = "fused">
func.func @const_transposed_bias(%a: tensor<32x300xbf16>, %bias: tensor<64xbf16>) -> tensor<32x64xbf16> {
  %w = arith.constant dense<1.0> : tensor<64x300xbf16>
  %et = tensor.empty() : tensor<300x64xbf16>
  %wt = linalg.generic {indexing_maps = [affine_map<(i, j) -> (j, i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<64x300xbf16>) outs(%et : tensor<300x64xbf16>) {
  ^bb0(%x: bf16, %o: bf16):
    linalg.yield %x : bf16
  } -> tensor<300x64xbf16>
  %z = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<32x64xbf16>
  %f = linalg.fill ins(%z : bf16) outs(%e : tensor<32x64xbf16>) -> tensor<32x64xbf16>
  %c = linalg.matmul ins(%a, %wt : tensor<32x300xbf16>, tensor<300x64xbf16>) outs(%f : tensor<32x64xbf16>) -> tensor<32x64xbf16>
  %e2 = tensor.empty() : tensor<32x64xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : tensor<32x64xbf16>, tensor<64xbf16>) outs(%e2 : tensor<32x64xbf16>) {
  ^bb0(%x: bf16, %y: bf16, %o: bf16):
    %s = arith.addf %x, %y : bf16
    linalg.yield %s : bf16
  } -> tensor<32x64xbf16>
  return %g : tensor<32x64xbf16>
}

// -----

// Gated MLP (silu(x W1) * (x W3)): the consumer reads two contractions; the
// first claims the fusion, the second is stored and read by the epilogue.
// CHECK-LABEL: func.func @gated
// CHECK: #kestrel.contraction<{{.*}}epilogue = "fused">
// CHECK: #kestrel.contraction<{{.*}}epilogue = "none">
func.func @gated(%x: tensor<4x64xf32>, %w1: tensor<64x128xf32>, %w3: tensor<64x128xf32>) -> tensor<4x128xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x128xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x128xf32>) -> tensor<4x128xf32>
  %a = linalg.matmul ins(%x, %w1 : tensor<4x64xf32>, tensor<64x128xf32>) outs(%f : tensor<4x128xf32>) -> tensor<4x128xf32>
  %g = linalg.matmul ins(%x, %w3 : tensor<4x64xf32>, tensor<64x128xf32>) outs(%f : tensor<4x128xf32>) -> tensor<4x128xf32>
  %h = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%a, %g : tensor<4x128xf32>, tensor<4x128xf32>) outs(%e : tensor<4x128xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %p : f32
    %ex = math.exp %n : f32
    %d = arith.addf %one, %ex : f32
    %s = arith.divf %p, %d : f32
    %r = arith.mulf %s, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x128xf32>
  return %h : tensor<4x128xf32>
}

// -----

// Not contractions: a dynamic shape and an elementwise product stay as they
// are.
// CHECK-LABEL: func.func @skipped
// CHECK-NOT: kestrel.contraction_config
func.func @skipped(%a: tensor<?x64xf32>, %b: tensor<64x32xf32>, %init: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x32xf32>) outs(%init : tensor<?x32xf32>) -> tensor<?x32xf32>
  return %r : tensor<?x32xf32>
}

// -----

// A consumer reading an i1 mask is not fused (vectors of i1 are bit-packed
// in LLVM, memrefs of i1 hold one byte per element).
// CHECK-LABEL: func.func @mask_select
// CHECK: epilogue = "none"
func.func @mask_select(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %m: tensor<8x8xi1>) -> tensor<8x8xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %c = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m, %c : tensor<8x8xi1>, tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%p: i1, %x: f32, %o: f32):
    %s = arith.select %p, %x, %z : f32
    linalg.yield %s : f32
  } -> tensor<8x8xf32>
  return %g : tensor<8x8xf32>
}
