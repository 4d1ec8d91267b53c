//===- QuantOps.td - Quantized attention -------------------*- tablegen -*-===//
//
// SageAttention-style attention with int8 Q and K (docs/ops.md §1,
// "Quantized attention").
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_QUANT_OPS_TD
#define KESTREL_QUANT_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kestrel_QuantizedAttentionOp
    : Kestrel_Op<"quantized_attention", [Pure]> {
  let summary = "Attention with per-block int8 quantization of Q and K";
  let description = [{
    `kestrel.attention` (same shapes, GQA, `causal`, `scale`) whose score
    product runs on int8 Q and K, as in SageAttention:

    ```
    k̂      = k − mean_s k                      (per batch, KV head, channel;
                                                only with `smooth_k`)
    s_q[i] = max |q[block i]| / 127             (block: `block_q` rows of one
    s_k[j] = max |k̂[block j]| / 127              head, all channels; f32)
    q8     = clamp(round_even(q / s_q), ±127)   (int8; 0 where s_q = 0)
    k8     = clamp(round_even(k̂ / s_k), ±127)
    S[t,s] = scale · (q8[t] · k8[s]) · s_q · s_k
    out    = softmax(S + M) v                   (f32 accumulation)
    ```

    Smoothing K is exact for softmax: it shifts every logit of a query row by
    the same amount, q·mean(k), and it removes the channel outliers that
    would otherwise dominate the int8 scale. `block_q` must divide T and
    `block_k` must divide S.

    ```mlir
    %o = kestrel.quantized_attention %q, %k, %v causal smooth_k block_q = 128 block_k = 64
        : tensor<1x32x1024x128xbf16>, tensor<1x8x1024x128xbf16>,
          tensor<1x8x1024x128xbf16> -> tensor<1x32x1024x128xbf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$query,
                       Kestrel_FloatTensor:$key,
                       Kestrel_FloatTensor:$value,
                       UnitAttr:$causal,
                       UnitAttr:$smooth_k,
                       ConfinedAttr<I64Attr, [IntPositive]>:$block_q,
                       ConfinedAttr<I64Attr, [IntPositive]>:$block_k,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs Kestrel_FloatTensor:$result);

  let assemblyFormat = [{
    $query `,` $key `,` $value (`causal` $causal^)? (`smooth_k` $smooth_k^)?
    `block_q` `=` $block_q `block_k` `=` $block_k (`scale` `=` $scale^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->`
    type($result)
  }];

  let hasVerifier = 1;
}

#endif // KESTREL_QUANT_OPS_TD
