// RUN: kestrel-opt %s --verify-diagnostics --pass-pipeline="builtin.module(func.func(kestrel-fuse-io-aware))"

func.func @bad_block(%l: tensor<1x4x20xf32>, %t: tensor<1x4xi64>) -> (tensor<1x4xi64>, tensor<1x4xf32>) {
  // expected-error @+1 {{'kestrel.denoise_step' op cannot carry kestrel.tile = #kestrel.attention_tiles<query = 8, key = 8>: expected #kestrel.attention_tiles on a kestrel.attention, #kestrel.moe_register_tile on a kestrel.moe or #kestrel.vocab_block on a kestrel.denoise_step (or on the scf.forall built from them)}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 1 {kestrel.tile = #kestrel.attention_tiles<query = 8, key = 8>}
      : tensor<1x4x20xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %c : tensor<1x4xi64>, tensor<1x4xf32>
}
