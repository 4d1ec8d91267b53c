// A sparse mixture-of-experts layer: a softmax top-2 router over 8 experts
// for 32 tokens, then SwiGLU experts (w1, w3: [E, d, ff], w2: [E, ff, d])
// plus a shared expert, in bf16 (on cuda: the routing kernel, on-device
// dispatch and grouped GEMMs on tensor cores). Compiled by
// test/kestrelc/examples.mlir.
func.func @moe(%x: tensor<32x64xbf16>, %logits: tensor<32x8xf32>,
    %w1: tensor<8x64x128xbf16>, %w3: tensor<8x64x128xbf16>,
    %w2: tensor<8x128x64xbf16>, %s1: tensor<64x128xbf16>,
    %s3: tensor<64x128xbf16>, %s2: tensor<128x64xbf16>) -> tensor<32x64xbf16> {
  %idx, %w = kestrel.route %logits score = softmax k = 2 renormalize
      : tensor<32x8xf32> -> tensor<32x2xi32>, tensor<32x2xf32>
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      shared(%s1, %s3, %s2 : tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<128x64xbf16>)
      : tensor<32x64xbf16>, tensor<32x2xi32>, tensor<32x2xf32>,
        tensor<8x64x128xbf16>, tensor<8x64x128xbf16>, tensor<8x128x64xbf16>
      -> tensor<32x64xbf16>
  return %y : tensor<32x64xbf16>
}
