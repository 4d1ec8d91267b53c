// RUN: kestrel-opt %s --verify-diagnostics --pass-pipeline="builtin.module(func.func(kestrel-fuse-io-aware))"

func.func @bad_block(%l: tensor<1x4x20xf32>, %t: tensor<1x4xi64>) -> (tensor<1x4xi64>, tensor<1x4xf32>) {
  // expected-error @+1 {{kestrel.tile of a denoise step must hold one positive vocabulary block, got array<i64: 8, 8>}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 1 {kestrel.tile = array<i64: 8, 8>}
      : tensor<1x4x20xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %c : tensor<1x4xi64>, tensor<1x4xf32>
}
