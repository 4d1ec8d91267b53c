// Attention variants beside the README's GQA causal block (attention.mlir):
// Gemma-2/Mistral-style sliding-window attention with attention sinks and
// logit soft-capping in bf16 (B=1, H=4 over Hkv=2, T=S=64, D=64; the
// tensor-core flash kernel on cuda), DeepSeek-style multi-head latent
// attention (MLA, absorbed form over a 32-wide latent cache) and a RoPE'd
// query. Compiled by test/kestrelc/examples.mlir.
func.func @window_sinks(%q: tensor<1x4x64x64xbf16>, %k: tensor<1x2x64x64xbf16>,
                        %v: tensor<1x2x64x64xbf16>) -> tensor<1x4x64x64xbf16> {
  %o = kestrel.attention %q, %k, %v causal window = 16 sinks = 4 softcap = 50.0
      : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
      -> tensor<1x4x64x64xbf16>
  return %o : tensor<1x4x64x64xbf16>
}

func.func @mla(%qc: tensor<1x4x2x8xf32>, %qr: tensor<1x4x2x4xf32>,
               %c: tensor<1x16x32xf32>, %kr: tensor<1x16x4xf32>,
               %wuk: tensor<4x32x8xf32>, %wuv: tensor<4x32x6xf32>)
    -> tensor<1x4x2x6xf32> {
  %o = kestrel.mla %qc, %qr, %c, %kr, %wuk, %wuv causal absorbed scale = 0.125
      : tensor<1x4x2x8xf32>, tensor<1x4x2x4xf32>, tensor<1x16x32xf32>,
        tensor<1x16x4xf32>, tensor<4x32x8xf32>, tensor<4x32x6xf32>
      -> tensor<1x4x2x6xf32>
  return %o : tensor<1x4x2x6xf32>
}

func.func @rope_attention(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>,
                          %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %qr = kestrel.rope %q : tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>
  %kr = kestrel.rope %k : tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>
  %o = kestrel.attention %qr, %kr, %v causal
      : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>
      -> tensor<1x2x16x32xf32>
  return %o : tensor<1x2x16x32xf32>
}
