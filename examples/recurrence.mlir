// Linear recurrences: a gated linear attention layer (scalar log-space
// gate per head and step, as in RetNet/GLA/Mamba-2's SSD form; bf16 q/k/v,
// f32 state; the chunked tensor-core kernel on cuda) and a Mamba mixer's
// core (causal depthwise conv with SiLU, then the selective scan with D
// skip, z gate and softplus on delta). Compiled by
// test/kestrelc/examples.mlir.
func.func @gated_linear_attention(%q: tensor<1x2x64x64xbf16>,
    %k: tensor<1x2x64x64xbf16>, %v: tensor<1x2x64x64xbf16>,
    %g: tensor<1x2x64xf32>, %s0: tensor<1x2x64x64xf32>)
    -> (tensor<1x2x64x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar
      log_gate(%g : tensor<1x2x64xf32>) initial_state(%s0 : tensor<1x2x64x64xf32>)
      : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
      -> tensor<1x2x64x64xbf16>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xf32>
}

func.func @mamba_mixer(%x: tensor<1x16x32xf32>, %w: tensor<16x4xf32>,
    %cb: tensor<16xf32>, %dt: tensor<1x16x32xf32>, %a: tensor<16x8xf32>,
    %b: tensor<1x8x32xf32>, %c: tensor<1x8x32xf32>, %d: tensor<16xf32>,
    %z: tensor<1x16x32xf32>, %db: tensor<16xf32>) -> tensor<1x16x32xf32> {
  %xc, %cs = kestrel.causal_conv1d %x, %w activation = silu
      bias(%cb : tensor<16xf32>)
      : tensor<1x16x32xf32>, tensor<16x4xf32> -> tensor<1x16x32xf32>, tensor<1x16x3xf32>
  %y, %h = kestrel.selective_scan %xc, %dt, %a, %b, %c D(%d : tensor<16xf32>)
      z(%z : tensor<1x16x32xf32>) delta_bias(%db : tensor<16xf32>)
      delta_softplus
      : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<16x8xf32>,
        tensor<1x8x32xf32>, tensor<1x8x32xf32> -> tensor<1x16x32xf32>, tensor<1x16x8xf32>
  return %y : tensor<1x16x32xf32>
}
