// GQA causal self-attention, as in one layer of a Llama-style decoder:
// batch 1, 8 query heads sharing 2 KV heads (groups of 4), 256 tokens,
// head dim 64, f32. The bundled example of the README's quick start.
func.func @attention(%q: tensor<1x8x256x64xf32>, %k: tensor<1x2x256x64xf32>,
                     %v: tensor<1x2x256x64xf32>) -> tensor<1x8x256x64xf32> {
  %o = kestrel.attention %q, %k, %v causal
      : tensor<1x8x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>
      -> tensor<1x8x256x64xf32>
  return %o : tensor<1x8x256x64xf32>
}
