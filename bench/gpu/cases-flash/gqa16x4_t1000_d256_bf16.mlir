// no mask
func.func @attention(%q: tensor<1x16x1000x256xbf16>, %k: tensor<1x4x1000x256xbf16>, %v: tensor<1x4x1000x256xbf16>) -> tensor<1x16x1000x256xbf16> {
  %o = kestrel.attention %q, %k, %v  : tensor<1x16x1000x256xbf16>, tensor<1x4x1000x256xbf16>, tensor<1x4x1000x256xbf16> -> tensor<1x16x1000x256xbf16>
  return %o : tensor<1x16x1000x256xbf16>
}
