func.func @attention(%q: tensor<2x2x200x64xf32>, %k: tensor<2x2x200x64xf32>, %v: tensor<2x2x200x32xf32>) -> tensor<2x2x200x32xf32> {
  %o = kestrel.attention %q, %k, %v scale = 0.2 softcap = 5.0 : tensor<2x2x200x64xf32>, tensor<2x2x200x64xf32>, tensor<2x2x200x32xf32> -> tensor<2x2x200x32xf32>
  return %o : tensor<2x2x200x32xf32>
}
