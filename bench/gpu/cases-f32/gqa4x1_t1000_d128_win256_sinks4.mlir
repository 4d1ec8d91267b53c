func.func @attention(%q: tensor<1x4x1000x128xf32>, %k: tensor<1x1x1000x128xf32>, %v: tensor<1x1x1000x128xf32>) -> tensor<1x4x1000x128xf32> {
  %o = kestrel.attention %q, %k, %v causal window = 256 sinks = 4 : tensor<1x4x1000x128xf32>, tensor<1x1x1000x128xf32>, tensor<1x1x1000x128xf32> -> tensor<1x4x1000x128xf32>
  return %o : tensor<1x4x1000x128xf32>
}
