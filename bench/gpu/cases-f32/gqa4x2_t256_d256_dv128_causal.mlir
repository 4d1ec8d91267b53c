func.func @attention(%q: tensor<1x4x256x256xf32>, %k: tensor<1x2x256x256xf32>, %v: tensor<1x2x256x128xf32>) -> tensor<1x4x256x128xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x4x256x256xf32>, tensor<1x2x256x256xf32>, tensor<1x2x256x128xf32> -> tensor<1x4x256x128xf32>
  return %o : tensor<1x4x256x128xf32>
}
