func.func @attention(%q: tensor<1x8x130x64xf32>, %k: tensor<1x2x130x64xf32>, %v: tensor<1x2x130x64xf32>) -> tensor<1x8x130x64xf32> {
  %o = kestrel.attention %q, %k, %v causal block_size = [32, 64] block_map = dense<[[true, false, false], [true, true, false], [false, true, false], [true, false, true], [true, true, true]]> : tensor<5x3xi1> : tensor<1x8x130x64xf32>, tensor<1x2x130x64xf32>, tensor<1x2x130x64xf32> -> tensor<1x8x130x64xf32>
  return %o : tensor<1x8x130x64xf32>
}
