// bench/gpu/attention.sh case gqa32x8_t1024_window256_sinks4: B=1 H=32 Hkv=8 T=1024 S=1024 D=128 f32, causal window = 256 sinks = 4.
func.func @attention(%q: tensor<1x32x1024x128xf32>, %k: tensor<1x8x1024x128xf32>,
                     %v: tensor<1x8x1024x128xf32>) -> tensor<1x32x1024x128xf32> {
  %o = kestrel.attention %q, %k, %v causal window = 256 sinks = 4
      : tensor<1x32x1024x128xf32>, tensor<1x8x1024x128xf32>, tensor<1x8x1024x128xf32>
      -> tensor<1x32x1024x128xf32>
  return %o : tensor<1x32x1024x128xf32>
}
