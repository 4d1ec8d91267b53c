// causal softcap = 30.0
func.func @attention(%q: tensor<2x8x300x64xf16>, %k: tensor<2x2x700x64xf16>, %v: tensor<2x2x700x64xf16>) -> tensor<2x8x300x64xf16> {
  %o = kestrel.attention %q, %k, %v causal softcap = 30.0 : tensor<2x8x300x64xf16>, tensor<2x2x700x64xf16>, tensor<2x2x700x64xf16> -> tensor<2x8x300x64xf16>
  return %o : tensor<2x8x300x64xf16>
}
