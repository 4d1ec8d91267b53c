//===- AttentionOps.td - The attention op family -----------*- tablegen -*-===//
//
// Softmax attention and its efficient and sparse variants (shared/OPS.md §1).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_ATTENTION_OPS_TD
#define KESTREL_ATTENTION_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kestrel_AttentionOp : Kestrel_Op<"attention", [Pure]> {
  let summary = "Scaled dot-product attention with GQA, causal, window and sink masks";
  let description = [{
    Computes, for every batch row `b`, query head `h` (KV head `j = h / g` with
    group size `g = H / Hkv`) and query position `t`:

    ```
    x[s]    = scale · (q[b,h,t,:] · k[b,j,s,:])            (f32 accumulation)
    x[s]    = softcap · tanh(x[s] / softcap)               (if softcap is set)
    x[s]    = -inf where key s is not visible from t
    p       = softmax(x)                                   (over s)
    out[b,h,t,:] = Σ_s p[s] · v[b,j,s,:]
    ```

    Shapes: `query [B, H, T, D]`, `key [B, Hkv, S, D]`, `value [B, Hkv, S, Dv]`,
    `result [B, H, T, Dv]`. `H` must be a multiple of `Hkv` (MQA is `Hkv = 1`).
    `scale` defaults to `1/sqrt(D)`.

    Visibility of key `s` from query `t`, with `off = S - T` (the queries are
    the last `T` positions of the key sequence, as in prefill over a cache or
    decode):
    - `causal`: `s <= t + off`;
    - `window = w` (requires `causal`): additionally `s > t + off - w`;
    - `sinks = n` (requires `window`): keys `s < n` are exempt from the window
      (StreamingLLM attention sinks), still subject to causality.

    A query row that sees no key produces 0, not NaN.

    Example:
    ```mlir
    %o = kestrel.attention %q, %k, %v causal window = 1024 sinks = 4
        : tensor<1x32x512x128xbf16>, tensor<1x8x512x128xbf16>,
          tensor<1x8x512x128xbf16> -> tensor<1x32x512x128xbf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$query,
                       Kestrel_FloatTensor:$key,
                       Kestrel_FloatTensor:$value,
                       UnitAttr:$causal,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$window,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$sinks,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<F32Attr>:$softcap);
  let results = (outs Kestrel_FloatTensor:$result);

  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`causal` $causal^)?
    (`window` `=` $window^)?
    (`sinks` `=` $sinks^)?
    (`scale` `=` $scale^)?
    (`softcap` `=` $softcap^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->` type($result)
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    int64_t getBatch() { return getQuery().getType().getDimSize(0); }
    int64_t getNumHeads() { return getQuery().getType().getDimSize(1); }
    int64_t getNumKvHeads() { return getKey().getType().getDimSize(1); }
    int64_t getQueryLen() { return getQuery().getType().getDimSize(2); }
    int64_t getKeyLen() { return getKey().getType().getDimSize(2); }
    int64_t getHeadDim() { return getQuery().getType().getDimSize(3); }
    int64_t getValueDim() { return getValue().getType().getDimSize(3); }
    /// The scale applied to q·k: the attribute, or 1/sqrt(D) by default.
    double getEffectiveScale();
  }];
}

#endif // KESTREL_ATTENTION_OPS_TD
