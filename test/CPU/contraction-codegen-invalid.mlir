// RUN: kestrel-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(kestrel-cpu-contraction))'

// Invalid decisions are refused, naming the op.
func.func @bad(%a: tensor<4x8xf32>, %b: tensor<8x32xf32>, %c: tensor<4x32xf32>) -> tensor<4x32xf32> {
  // expected-error @below {{has an invalid kestrel.contraction_config}}
  %r = linalg.matmul {kestrel.contraction_config = #kestrel.contraction<path = "gemm", mr = 3, nr = 32, kc = 8, mb = 4, nb = 32, pack_b = "runtime", epilogue = "none">} ins(%a, %b : tensor<4x8xf32>, tensor<8x32xf32>) outs(%c : tensor<4x32xf32>) -> tensor<4x32xf32>
  return %r : tensor<4x32xf32>
}

// -----

// A fused epilogue whose consumer is no longer fusable (the result has a
// second use) is refused rather than silently left naive.
func.func @unfusable(%a: tensor<4x8xf32>, %b: tensor<8x32xf32>, %c: tensor<4x32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  // expected-error @below {{carries kestrel.contraction_config but is not a static contraction (or its consumer changed)}}
  %r = linalg.matmul {kestrel.contraction_config = #kestrel.contraction<path = "gemv", mr = 4, nr = 32, kc = 8, mb = 4, nb = 32, pack_b = "none", epilogue = "fused">} ins(%a, %b : tensor<4x8xf32>, tensor<8x32xf32>) outs(%c : tensor<4x32xf32>) -> tensor<4x32xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%r : tensor<4x32xf32>) outs(%c : tensor<4x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<4x32xf32>
  return %g, %r : tensor<4x32xf32>, tensor<4x32xf32>
}
