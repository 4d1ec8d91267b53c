// One step of a masked diffusion LLM's denoising loop (LLaDA-style): over
// the logits of a 64-token block with a 1000-word vocabulary, every masked
// position (token id 999) gets its argmax, and the 8 most confident of them
// are unmasked; the second function samples at temperature 0.7 and
// unmasks those above a confidence of 0.3. Compiled by
// test/kestrelc/examples.mlir.
func.func @greedy(%l: tensor<1x64x1000xbf16>, %t: tensor<1x64xi64>)
    -> (tensor<1x64xi64>, tensor<1x64xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 999 top_k = 8
      : tensor<1x64x1000xbf16>, tensor<1x64xi64> -> tensor<1x64xi64>, tensor<1x64xf32>
  return %n, %c : tensor<1x64xi64>, tensor<1x64xf32>
}

func.func @sampled(%l: tensor<1x64x1000xf32>, %t: tensor<1x64xi64>)
    -> (tensor<1x64xi64>, tensor<1x64xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 999 threshold = 0.3
      temperature = 0.7 seed = 42
      : tensor<1x64x1000xf32>, tensor<1x64xi64> -> tensor<1x64xi64>, tensor<1x64xf32>
  return %n, %c : tensor<1x64xi64>, tensor<1x64xf32>
}
