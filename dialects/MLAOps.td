//===- MLAOps.td - Multi-head latent attention -------------*- tablegen -*-===//
//
// DeepSeek-V2/V3 multi-head latent attention (docs/ops.md §1, "MLA").
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_MLA_OPS_TD
#define KESTREL_MLA_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kestrel_MLAOp : Kestrel_Op<"mla", [Pure]> {
  let summary = "Multi-head latent attention over a compressed KV cache";
  let description = [{
    Attention whose keys and values are up-projected per head from a shared
    latent cache `c_kv` (dimension d_c), with a decoupled RoPE key `k_r`
    shared by all heads:

    ```
    k_h = [c_kv W_uk[h] ; k_r]          (per key: d_nope + d_r)
    v_h = c_kv W_uv[h]                  (per key: d_v)
    q_h = [q_c[h] ; q_r[h]]
    out[b,h,t,:] = softmax(scale · q_h k_hᵀ + M) v_h
    ```

    Operands: `q_c [B, H, T, d_nope]`, `q_r [B, H, T, d_r]` (RoPE applied),
    `c_kv [B, S, d_c]`, `k_r [B, S, d_r]` (RoPE applied),
    `w_uk [H, d_c, d_nope]`, `w_uv [H, d_c, d_v]`; result `[B, H, T, d_v]`.
    `scale` defaults to `1/sqrt(d_nope + d_r)`; `causal` masks as
    `kestrel.attention` does (queries are the last T of S positions).

    `absorbed` selects the decode-friendly evaluation order without changing
    the result: `q̃_h = q_c[h] W_uk[h]ᵀ` (dimension d_c), attention of
    `[q̃_h ; q_r]` over the latent keys `[c_kv ; k_r]` and values `c_kv` (an
    MQA with D = d_c + d_r, Dv = d_c), then the output up-projection
    `(P c_kv) W_uv[h]`. The latent cache is read once for all heads.

    ```mlir
    %o = kestrel.mla %qc, %qr, %ckv, %kr, %wuk, %wuv causal absorbed
        : tensor<1x16x1x128xbf16>, tensor<1x16x1x64xbf16>, tensor<1x4096x512xbf16>,
          tensor<1x4096x64xbf16>, tensor<16x512x128xbf16>, tensor<16x512x128xbf16>
          -> tensor<1x16x1x128xbf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$q_c,
                       Kestrel_FloatTensor:$q_r,
                       Kestrel_FloatTensor:$c_kv,
                       Kestrel_FloatTensor:$k_r,
                       Kestrel_FloatTensor:$w_uk,
                       Kestrel_FloatTensor:$w_uv,
                       UnitAttr:$causal,
                       UnitAttr:$absorbed,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs Kestrel_FloatTensor:$result);

  let assemblyFormat = [{
    $q_c `,` $q_r `,` $c_kv `,` $k_r `,` $w_uk `,` $w_uv
    (`causal` $causal^)? (`absorbed` $absorbed^)? (`scale` `=` $scale^)?
    attr-dict `:` type($q_c) `,` type($q_r) `,` type($c_kv) `,` type($k_r) `,`
    type($w_uk) `,` type($w_uv) `->` type($result)
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The scale of q·k: the attribute, or 1/sqrt(d_nope + d_r).
    double getEffectiveScale();
  }];
}

#endif // KESTREL_MLA_OPS_TD
