//===- AttentionOps.td - The attention op family -----------*- tablegen -*-===//
//
// Softmax attention and its efficient and sparse variants (docs/ops.md §1).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_ATTENTION_OPS_TD
#define KESTREL_ATTENTION_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kestrel_AttentionOp : Kestrel_Op<"attention", [Pure]> {
  let summary = "Scaled dot-product attention with GQA and composable static and runtime masks";
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
      (StreamingLLM attention sinks), still subject to causality;
    - `block_map = M` with `block_size = [bq, bk]` (static block-sparse
      layout, Longformer/BigBird): `M` is a boolean
      `[ceil(T / bq), ceil(S / bk)]` tensor and key `s` is visible from query
      row `t` only if `M[t / bq, s / bk]` (row index `t` in `[0, T)`, the
      last blocks may be ragged);
    - `key_lengths(%len)` (runtime padding, `tensor<B x i32>`): key `s` is
      visible in batch row `b` only if `s < len[b]` (a length <= 0 hides every
      key, one >= S hides none).

    The masks compose: a key is visible iff every mask present allows it.
    A query row that sees no key produces 0, not NaN.

    With a second result `lse` (`tensor<B x H x T x f32>`) the op also returns
    the log-sum-exp of each row's visible logits,
    `lse[b,h,t] = log Σ_{visible s} exp(x[s])` (`-inf` for a row that sees no
    key). Partial results over disjoint key sets then merge exactly
    (split-KV / flash-decoding): `lse = log(e^{lse_1} + e^{lse_2})`,
    `out = e^{lse_1 - lse} out_1 + e^{lse_2 - lse} out_2`.

    Example:
    ```mlir
    %o = kestrel.attention %q, %k, %v causal window = 1024 sinks = 4
        : tensor<1x32x512x128xbf16>, tensor<1x8x512x128xbf16>,
          tensor<1x8x512x128xbf16> -> tensor<1x32x512x128xbf16>
    %o2, %lse = kestrel.attention %q, %k, %v key_lengths(%len : tensor<2xi32>)
        causal block_size = [64, 64]
        block_map = dense<[[true, false], [true, true]]> : tensor<2x2xi1>
        : tensor<2x8x128x64xf16>, tensor<2x8x128x64xf16>,
          tensor<2x8x128x64xf16> -> tensor<2x8x128x64xf16>, tensor<2x8x128xf32>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$query,
                       Kestrel_FloatTensor:$key,
                       Kestrel_FloatTensor:$value,
                       Optional<AnyRankedTensor>:$key_lengths,
                       UnitAttr:$causal,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$window,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$sinks,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<F32Attr>:$softcap,
                       OptionalAttr<DenseI64ArrayAttr>:$block_size,
                       OptionalAttr<AnyIntElementsAttr>:$block_map);
  let results = (outs Kestrel_FloatTensor:$result,
                      Optional<AnyRankedTensor>:$lse);

  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`key_lengths` `(` $key_lengths^ `:` type($key_lengths) `)`)?
    (`causal` $causal^)?
    (`window` `=` $window^)?
    (`sinks` `=` $sinks^)?
    (`scale` `=` $scale^)?
    (`softcap` `=` $softcap^)?
    (`block_size` `=` $block_size^)?
    (`block_map` `=` $block_map^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->` type($result)
    (`,` type($lse)^)?
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
    /// Whether any mask (static or runtime) can hide a key.
    /// The block_map and block_size rules of the verifier.
    ::mlir::LogicalResult verifyBlockMap();
    bool hasMask() {
      return getCausal() || getBlockMap() || getKeyLengths();
    }
  }];
}

#endif // KESTREL_ATTENTION_OPS_TD
