// causal
func.func @attention(%q: tensor<2x16x2048x256xbf16>, %k: tensor<2x16x2048x256xbf16>, %v: tensor<2x16x2048x256xbf16>) -> tensor<2x16x2048x256xbf16> {
  %o = kestrel.attention %q, %k, %v causal : tensor<2x16x2048x256xbf16>, tensor<2x16x2048x256xbf16>, tensor<2x16x2048x256xbf16> -> tensor<2x16x2048x256xbf16>
  return %o : tensor<2x16x2048x256xbf16>
}
