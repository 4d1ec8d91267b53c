func.func @attention(%q: tensor<1x8x300x64xf32>, %k: tensor<1x2x700x64xf32>, %v: tensor<1x2x700x64xf32>) -> (tensor<1x8x300x64xf32>, tensor<1x8x300xf32>) {
  %o, %l = kestrel.attention %q, %k, %v causal : tensor<1x8x300x64xf32>, tensor<1x2x700x64xf32>, tensor<1x2x700x64xf32> -> tensor<1x8x300x64xf32>, tensor<1x8x300xf32>
  return %o, %l : tensor<1x8x300x64xf32>, tensor<1x8x300xf32>
}
