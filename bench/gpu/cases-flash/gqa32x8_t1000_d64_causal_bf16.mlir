// causal
func.func @attention(%q: tensor<1x32x1000x64xbf16>, %k: tensor<1x8x1000x64xbf16>, %v: tensor<1x8x1000x64xbf16>) -> tensor<1x32x1000x64xbf16> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x32x1000x64xbf16>, tensor<1x8x1000x64xbf16>, tensor<1x8x1000x64xbf16> -> tensor<1x32x1000x64xbf16>
  return %o : tensor<1x32x1000x64xbf16>
}
