// A hybrid block (Jamba / Qwen3-Next style): a gated-linear-attention
// token mixer and a causal attention mixer, each behind an RMSNorm with a
// residual add, over the same [1, 2, 32, 32] head-split activations.
// Compiled by test/kestrelc/examples.mlir.
func.func @hybrid(%x: tensor<1x2x32x32xf32>, %wn: tensor<32xf32>,
    %g: tensor<1x2x32xf32>) -> tensor<1x2x32x32xf32> {
  %n1 = kestrel.rms_norm %x, %wn eps = 1.0e-6
      : tensor<1x2x32x32xf32>, tensor<32xf32> -> tensor<1x2x32x32xf32>
  %r, %s = kestrel.gated_recurrence %n1, %n1, %n1 gate = scalar
      log_gate(%g : tensor<1x2x32xf32>)
      : tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32>
      -> tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32>
  %e = tensor.empty() : tensor<1x2x32x32xf32>
  %h = linalg.add ins(%x, %r : tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32>)
      outs(%e : tensor<1x2x32x32xf32>) -> tensor<1x2x32x32xf32>
  %n2 = kestrel.rms_norm %h, %wn eps = 1.0e-6
      : tensor<1x2x32x32xf32>, tensor<32xf32> -> tensor<1x2x32x32xf32>
  %a = kestrel.attention %n2, %n2, %n2 causal
      : tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32>
      -> tensor<1x2x32x32xf32>
  %y = linalg.add ins(%h, %a : tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32>)
      outs(%e : tensor<1x2x32x32xf32>) -> tensor<1x2x32x32xf32>
  return %y : tensor<1x2x32x32xf32>
}
