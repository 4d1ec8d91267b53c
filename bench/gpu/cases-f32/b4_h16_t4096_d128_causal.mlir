func.func @attention(%q: tensor<4x16x4096x128xf32>, %k: tensor<4x16x4096x128xf32>, %v: tensor<4x16x4096x128xf32>) -> tensor<4x16x4096x128xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<4x16x4096x128xf32>, tensor<4x16x4096x128xf32>, tensor<4x16x4096x128xf32> -> tensor<4x16x4096x128xf32>
  return %o : tensor<4x16x4096x128xf32>
}
