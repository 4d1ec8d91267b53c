//===- DenoiseOps.td - The denoising op family -------------*- tablegen -*-===//
//
// One step of masked-diffusion decoding (docs/ops.md §4): predictions,
// confidences and the remasking policy.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DENOISE_OPS_TD
#define KESTREL_DENOISE_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kestrel_DenoiseStepOp : Kestrel_Op<"denoise_step", [Pure]> {
  let summary = "One masked-diffusion (LLaDA) unmasking step";
  let description = [{
    Given the denoiser's `logits [B, L, V]` and the current `tokens [B, L]`,
    in which masked positions hold `mask_id`, computes for every masked
    position `p` (Nie et al., "Large Language Diffusion Models",
    arXiv 2502.09992):

    ```
    x̂_p = argmax_v logits[b, p, v]          (the first maximum on ties)
    c_p = softmax(logits[b, p, :])[x̂_p] = 1 / Σ_v exp(logits[b,p,v] − max)
    ```

    and then unmasks a subset of the *eligible* positions: masked ones that
    lie in `block = [start, size]` (`start <= p < start + size`; every
    position when `block` is absent; block diffusion / semi-autoregressive
    decoding). With

    ```
    rank_p = #{ eligible q : c_q > c_p  or  (c_q == c_p and q < p) }
    ```

    the policy is exactly one of
    - `top_k = n`: unmask eligible `p` with `rank_p < n` (low-confidence
      remasking: the `n` most confident, ties to the lower position);
    - `threshold = τ`: unmask eligible `p` with `c_p > τ` or `rank_p = 0`
      (Fast-dLLM parallel decoding: at least the most confident one).

    Results: `new_tokens [B, L]` (i64): `x̂_p` where unmasked by this step,
    `tokens` elsewhere; `confidence [B, L]` (f32): `c_p` at every masked
    position (eligible or not), 0 at unmasked positions.

    Predictions are greedy (argmax) unless `temperature = τs` is given, which
    needs an explicit `seed = σ` (the same seed gives the same tokens on
    every target). Then the prediction is a Gumbel-max sample of
    softmax(logits / τs), with noise from a counter-based hash, all in f64:

    ```
    h     = splitmix64(σ + (b·L + p)·V + v)        (uint64, wrapping)
    u     = ((h >> 11) + 0.5) · 2^-53               (in (0, 1))
    x̂_p   = argmax_v (logits[b,p,v] / τs − log(−log u))
    ```

    and the confidence is still the unscaled probability
    `c_p = softmax(logits[b,p,:])[x̂_p]` (LLaDA's low-confidence remasking).
    `splitmix64(x)`: `z = x + 0x9E3779B97F4A7C15; z = (z ^ (z >> 30)) ·
    0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) · 0x94D049BB133111EB;
    z ^ (z >> 31)`.
    Logits may be f32, f16 or bf16; arithmetic is f32.

    Example:
    ```mlir
    %t, %c = kestrel.denoise_step %logits, %tokens mask_id = 126336 top_k = 2
        block = [32, 32]
        : tensor<1x128x126464xbf16>, tensor<1x128xi64>
          -> tensor<1x128xi64>, tensor<1x128xf32>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$logits,
                       RankedTensorOf<[I64]>:$tokens,
                       I64Attr:$mask_id,
                       OptionalAttr<I64Attr>:$top_k,
                       OptionalAttr<F32Attr>:$threshold,
                       OptionalAttr<DenseI64ArrayAttr>:$block,
                       OptionalAttr<F32Attr>:$temperature,
                       OptionalAttr<I64Attr>:$seed);
  let results = (outs RankedTensorOf<[I64]>:$new_tokens,
                      RankedTensorOf<[F32]>:$confidence);

  let assemblyFormat = [{
    $logits `,` $tokens `mask_id` `=` $mask_id
    (`top_k` `=` $top_k^)?
    (`threshold` `=` $threshold^)?
    (`block` `=` $block^)?
    (`temperature` `=` $temperature^)?
    (`seed` `=` $seed^)?
    attr-dict `:` type($logits) `,` type($tokens)
    `->` type($new_tokens) `,` type($confidence)
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The eligible range [start, end) of positions: the block, or [0, L).
    std::pair<int64_t, int64_t> getEligibleRange();
  }];
}

#endif // KESTREL_DENOISE_OPS_TD
