//===- SupportOps.td - Ops that surround the mixers --------*- tablegen -*-===//
//
// RMSNorm, rotary position embedding and the gated MLP: the supporting ops
// of docs/ops.md §1 that every transformer block wraps around its mixer.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_SUPPORT_OPS_TD
#define KESTREL_SUPPORT_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/TilingInterface.td"

// rms_norm and gated_mlp tile over the rows of their input (RowTiling.cpp).
defvar Kestrel_RowTilingMethods = ["getLoopIteratorTypes",
    "getIterationDomain", "getTiledImplementation", "getResultTilePosition"];

def Kestrel_RmsNormOp : Kestrel_Op<"rms_norm", [Pure,
    DeclareOpInterfaceMethods<TilingInterface, Kestrel_RowTilingMethods>]> {
  let summary = "Root-mean-square normalization over the last dimension";
  let description = [{
    For every row `x[i, :]` of length `N` (all leading dimensions are rows):

    ```
    r[i]      = 1 / sqrt(Σ_n x[i,n]² / N + eps)        (f32 accumulation)
    out[i, n] = x[i, n] · r[i] · weight[n]
    ```

    Shapes: `input [..., N]` (rank >= 1), `weight [N]`, result the type of
    `input`. `eps` is required (models differ: 1e-5, 1e-6) and must be
    non-negative and finite.

    Example:
    ```mlir
    %y = kestrel.rms_norm %x, %w eps = 1.0e-06
        : tensor<4x512x4096xbf16>, tensor<4096xbf16> -> tensor<4x512x4096xbf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$input,
                       Kestrel_FloatTensor:$weight,
                       F32Attr:$eps);
  let results = (outs Kestrel_FloatTensor:$result);

  let assemblyFormat = [{
    $input `,` $weight `eps` `=` $eps attr-dict
    `:` type($input) `,` type($weight) `->` type($result)
  }];

  let hasVerifier = 1;
}

def Kestrel_RopeOp : Kestrel_Op<"rope", [Pure]> {
  let summary = "Rotary position embedding (rotate-half or interleaved)";
  let description = [{
    Rotates pairs of features of `input [B, H, T, D]` by position-dependent
    angles (RoFormer, arXiv 2104.09864). With `R = rotary_dim` (default `D`,
    even, `<= D`), pair index `i ∈ [0, R/2)`, and the position of token `t` of
    batch row `b`

    ```
    pos       = offset + (positions ? positions[b, t] : t)
    θ(pos, i) = pos · base^(-2i / R)                    (f32)
    (a, b)    = pair i of x[b, h, t, :]
    a'        = a · cos θ − b · sin θ
    b'        = b · cos θ + a · sin θ
    ```

    Pair `i` is `(i, i + R/2)` in the default rotate-half convention
    (GPT-NeoX, Llama) and `(2i, 2i + 1)` with `interleaved` (GPT-J,
    original RoFormer). Features `d >= R` pass through unchanged (partial
    rotary, e.g. GPT-NeoX 25%, GLM 50%). `base` defaults to 10000; `offset`
    (default 0) shifts every position, e.g. for decoding after a cache of
    `offset` tokens. The optional `positions [B, T]` (i64) gives explicit
    per-token positions (packed or left-padded batches); `offset` is added
    to them too.

    Example:
    ```mlir
    %y = kestrel.rope %x interleaved rotary_dim = 64 base = 5.0e+05 offset = 128
        : tensor<1x32x1x128xbf16> -> tensor<1x32x1x128xbf16>
    %z = kestrel.rope %x positions(%p : tensor<2x16xi64>)
        : tensor<2x8x16x64xf32> -> tensor<2x8x16x64xf32>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$input,
                       Optional<RankedTensorOf<[I64]>>:$positions,
                       UnitAttr:$interleaved,
                       OptionalAttr<I64Attr>:$rotary_dim,
                       OptionalAttr<F32Attr>:$base,
                       OptionalAttr<I64Attr>:$offset);
  let results = (outs Kestrel_FloatTensor:$result);

  let assemblyFormat = [{
    $input (`positions` `(` $positions^ `:` type($positions) `)`)?
    (`interleaved` $interleaved^)?
    (`rotary_dim` `=` $rotary_dim^)?
    (`base` `=` $base^)?
    (`offset` `=` $offset^)?
    attr-dict `:` type($input) `->` type($result)
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    int64_t getHeadDim() { return getInput().getType().getDimSize(3); }
    /// rotary_dim, or the whole head dim D by default.
    int64_t getEffectiveRotaryDim() {
      if (std::optional<uint64_t> r = getRotaryDim())
        return static_cast<int64_t>(*r);
      return getHeadDim();
    }
    /// base, or 10000 (RoFormer) by default.
    double getEffectiveBase() {
      if (std::optional<::llvm::APFloat> b = getBase())
        return b->convertToDouble();
      return 10000.0;
    }
    int64_t getEffectiveOffset() {
      return static_cast<int64_t>(getOffset().value_or(0));
    }
  }];
}

def Kestrel_GatedMlpOp : Kestrel_Op<"gated_mlp", [Pure,
    DeclareOpInterfaceMethods<TilingInterface, Kestrel_RowTilingMethods>]> {
  let summary = "SwiGLU feed-forward block (silu(x W1) ⊙ x W3) W2";
  let description = [{
    The gated MLP of Llama/Mistral/Qwen (Shazeer, "GLU Variants Improve
    Transformer", arXiv 2002.05202), for tokens `x [N, d]`:

    ```
    a[n, f]   = Σ_c x[n, c] · w1[c, f]                  (f32 accumulation)
    g[n, f]   = Σ_c x[n, c] · w3[c, f]
    h[n, f]   = silu(a) · g,   silu(a) = a / (1 + e^{-a})   (kept in f32)
    out[n, e] = Σ_f h[n, f] · w2[f, e]
    ```

    Shapes: `input [N, d]`, `w1 [d, ff]`, `w3 [d, ff]`, `w2 [ff, d]`, result
    `[N, d]`; one element type throughout. The hidden activation `h` is not
    rounded to the storage type.

    Example:
    ```mlir
    %y = kestrel.gated_mlp %x, %w1, %w3, %w2
        : tensor<16x4096xbf16>, tensor<4096x11008xbf16>,
          tensor<4096x11008xbf16>, tensor<11008x4096xbf16> -> tensor<16x4096xbf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$input,
                       Kestrel_FloatTensor:$w1,
                       Kestrel_FloatTensor:$w3,
                       Kestrel_FloatTensor:$w2);
  let results = (outs Kestrel_FloatTensor:$result);

  let assemblyFormat = [{
    $input `,` $w1 `,` $w3 `,` $w2 attr-dict
    `:` type($input) `,` type($w1) `,` type($w3) `,` type($w2) `->` type($result)
  }];

  let hasVerifier = 1;
}

#endif // KESTREL_SUPPORT_OPS_TD
