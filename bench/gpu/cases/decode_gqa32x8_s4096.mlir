// bench/gpu/attention.sh case decode_gqa32x8_s4096: B=1 H=32 Hkv=8 T=1 S=4096 D=128 f32, causal.
func.func @attention(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x4096x128xf32>,
                     %v: tensor<1x8x4096x128xf32>) -> tensor<1x32x1x128xf32> {
  %o = kestrel.attention %q, %k, %v causal
      : tensor<1x32x1x128xf32>, tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32>
      -> tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}
