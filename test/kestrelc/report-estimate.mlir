// kestrelc --report's estimated work (docs/cli.md): FLOPs from the static
// shapes after recognition and the bytes of the function boundary and its
// constants. Every expected number is computed by hand below, from the
// formulas, not read from the compiler.
// RUN: kestrelc %s --report=- -o %t.so | FileCheck %s
// RUN: kestrelc %s --target=cuda:sm_90a --report=- -o %t.ptx | FileCheck %s --check-prefix=CUDA

// @mm: [2, 4] x [4, 3] (a constant, 12 distinct values) -> [2, 3]:
//   FLOPs = 2*M*N*K = 2*2*3*4 = 48 (the zero fill computes nothing);
//   bytes = arguments 2*4*4 = 32 + results 2*3*4 = 24 + constants 4*3*4 = 48
//         = 104; intensity 48 / 104 = 0.46.
// CHECK-LABEL: function @mm
// CHECK: estimated work (from the static shapes after recognition; an estimate, not a measurement):
// CHECK-NEXT: flops: 48 (48 FLOP)
// CHECK-NEXT: linalg contractions x1: 48 (2 x loop points each (2*M*N*K, x batch))
// CHECK-NEXT: bytes: 104 (104 B) at least: arguments 32 + results 24 + constants 48, each read or written once
// CHECK-NEXT: arithmetic intensity: 0.46 FLOP/byte at most
func.func @mm(%a: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]> : tensor<4x3xf32>
  %z = tensor.empty() : tensor<2x3xf32>
  %c = arith.constant 0.0 : f32
  %i = linalg.fill ins(%c : f32) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul ins(%a, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%i : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// @attn: causal GQA attention, B = 1, H = 2 (Hkv = 1), T = S = 8,
// D = Dv = 16: the causal pairs of one head are 1 + 2 + ... + 8 = 36, so
//   FLOPs = 2*B*H*(D + Dv)*pairs = 2*1*2*32*36 = 4608;
//   bytes = q 1*2*8*16*4 = 1024 + k 512 + v 512 = 2048, result 1024.
// CHECK-LABEL: function @attn
// CHECK: flops: 4608 (4.61 KFLOP)
// CHECK-NEXT: kestrel.attention x1: 4608 (2*B*H*(D+Dv) x visible (query, key) pairs
// CHECK-NEXT: bytes: 3072 (3.07 KB) at least: arguments 2048 + results 1024 + constants 0
func.func @attn(%q: tensor<1x2x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x2x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// @mlp: y = relu(x W1) W2 with x [8, 16], W1 [16, 32], W2 [32, 16] as
// arguments: contractions 2*8*32*16 + 2*8*16*32 = 8192 + 8192 = 16384;
// the relu generic over [8, 32] has one arithmetic op (maximumf): 256.
// Total 16640. Bytes: 512 + 2048 + 2048 arguments + 512 result = 5120.
// CHECK-LABEL: function @mlp
// CHECK: flops: 16640 (16.6 KFLOP)
// CHECK-NEXT: linalg contractions x2: 16384
// CHECK-NEXT: other linalg ops x1: 256 (loop points x arithmetic ops in the body)
// CHECK-NEXT: bytes: 5120 (5.12 KB) at least: arguments 4608 + results 512 + constants 0
// CUDA-LABEL: function @mlp
// CUDA: fused regions:
// CUDA: estimated work
// CUDA-NEXT: flops: 16640 (16.6 KFLOP)
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @mlp(%x: tensor<8x16xf32>, %w1: tensor<16x32xf32>, %w2: tensor<32x16xf32>) -> tensor<8x16xf32> {
  %c = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<8x32xf32>
  %i1 = linalg.fill ins(%c : f32) outs(%e1 : tensor<8x32xf32>) -> tensor<8x32xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<8x16xf32>, tensor<16x32xf32>) outs(%i1 : tensor<8x32xf32>) -> tensor<8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%h : tensor<8x32xf32>) outs(%e1 : tensor<8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<8x32xf32>
  %e2 = tensor.empty() : tensor<8x16xf32>
  %i2 = linalg.fill ins(%c : f32) outs(%e2 : tensor<8x16xf32>) -> tensor<8x16xf32>
  %y = linalg.matmul ins(%r, %w2 : tensor<8x32xf32>, tensor<32x16xf32>) outs(%i2 : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
