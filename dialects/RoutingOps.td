//===- RoutingOps.td - The routing (sparse MoE) op family --*- tablegen -*-===//
//
// Mixture-of-experts routing (docs/ops.md §3): router scores to top-k
// experts and weights (kestrel.route), and the expert layer that dispatches
// tokens, runs the gated-MLP experts and combines their outputs (kestrel.moe).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_ROUTING_OPS_TD
#define KESTREL_ROUTING_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kestrel_ScoreFunction : I32EnumAttr<"ScoreFunction",
    "how router logits become expert scores", [
      I32EnumAttrCase<"Softmax", 0, "softmax">,
      I32EnumAttrCase<"Sigmoid", 1, "sigmoid">]> {
  let cppNamespace = "::kestrel";
}

def Kestrel_RoutingMode : I32EnumAttr<"RoutingMode",
    "who chooses: tokens pick experts, or experts pick tokens", [
      I32EnumAttrCase<"TokenChoice", 0, "token_choice">,
      I32EnumAttrCase<"ExpertChoice", 1, "expert_choice">]> {
  let cppNamespace = "::kestrel";
}

def Kestrel_IndexTensor : RankedTensorOf<[I32, I64]>;

def Kestrel_RouteOp : Kestrel_Op<"route", [Pure]> {
  let summary = "MoE router: scores, top-k experts and their weights";
  let description = [{
    `logits [N, E]` are the router logits `r = x W_r` of `N` tokens over `E`
    experts. Scores, per token `n` and expert `e`, in f32:

    ```
    softmax: s[n,e] = exp(r[n,e] − max_e' r[n,e']) / Σ_e' exp(r[n,e'] − max)
    sigmoid: s[n,e] = 1 / (1 + exp(−r[n,e]))
    ```

    **Token choice** (`mode = token_choice`, the default; Mixtral, DeepSeek):
    each token selects `k` experts by the *selection key*
    `u[n,e] = s[n,e] + selection_bias[e]` (`s` when no bias is given; the
    bias is DeepSeek-V3's aux-loss-free balancing term and affects selection
    only). Ties go to the lower expert index:

    ```
    rank[n,e] = #{ eligible e' : u[n,e'] > u[n,e] or (u[n,e'] == u[n,e] and e' < e) }
    e is selected     ⟺  e eligible and rank[n,e] < k
    indices[n, j]     = the selected e with rank[n,e] = j   (best first)
    w[n,e]            = s[n,e]                                (unbiased)
    renormalize:  w[n,e] = s[n,e] / Σ_{selected e'} s[n,e']
    ```

    Every expert is eligible unless `n_groups = G, topk_groups = M` are
    given (group-limited routing, DeepSeek-V3): experts form `G` contiguous
    groups of `E / G`; a group's score is the sum of the (at most) two largest
    selection keys `u` in it, as in DeepSeek-V3; the `M` groups with the
    highest group score (ties to the lower group index) are kept and only
    their experts are eligible.

    With `capacity_factor = cf`, each expert accepts at most
    `C = ceil(cf · N · k / E)` (computed in double precision) of the
    assignments made to it, in token order: the assignment of token `n` to
    expert `e` is kept when fewer than `C` tokens `n' < n` selected `e`
    (lower token index first), and dropped otherwise. A dropped assignment
    keeps its index but gets weight 0; the other weights of its token are not
    renormalized again (renormalization happens before the drop).

    Results: `indices [N, k]` (i32 or i64) and `weights [N, k]`,
    `weights[n, j] = w[n, indices[n, j]]` (0 when dropped).

    **Expert choice** (`mode = expert_choice`; Zhou et al., "Mixture-of-
    Experts with Expert Choice Routing", arXiv 2202.09368): each expert takes
    its `c` highest-scoring tokens, ties to the lower token index:

    ```
    rank[n,e]     = #{ n' : s[n',e] > s[n,e] or (s[n',e] == s[n,e] and n' < n) }
    indices[e, j] = the token n with rank[n,e] = j           (best first)
    weights[e, j] = s[indices[e, j], e]
    ```

    `c` is the `capacity` attribute, or else
    `min(N, ceil(capacity_factor · N · k / E))`; exactly one of the two must
    be given (`k` only enters through the latter). Results are
    `indices [E, c]` (token indices) and
    `weights [E, c]`. A selection bias, `renormalize` and group limits
    have no meaning per expert and are rejected in this mode.

    Logits and the bias may be f32, f16 or bf16; weights are rounded once to
    their storage type. NaN logits give unspecified selections; renormalizing
    selected scores that are all 0 (sigmoid underflow) gives NaN weights, as
    in the DeepSeek-V3 reference (no epsilon is added).

    Example (DeepSeek-V3 routing):
    ```mlir
    %idx, %w = kestrel.route %logits score = sigmoid k = 8
        selection_bias(%b : tensor<256xf32>) renormalize
        n_groups = 8 topk_groups = 4
        : tensor<64x256xbf16> -> tensor<64x8xi32>, tensor<64x8xf32>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$logits,
                       Optional<Kestrel_FloatTensor>:$selection_bias,
                       Kestrel_ScoreFunction:$score,
                       I64Attr:$k,
                       UnitAttr:$renormalize,
                       OptionalAttr<I64Attr>:$n_groups,
                       OptionalAttr<I64Attr>:$topk_groups,
                       OptionalAttr<F64Attr>:$capacity_factor,
                       OptionalAttr<Kestrel_RoutingMode>:$mode,
                       OptionalAttr<I64Attr>:$capacity);
  let results = (outs Kestrel_IndexTensor:$indices,
                      Kestrel_FloatTensor:$weights);

  let assemblyFormat = [{
    $logits `score` `=` $score `k` `=` $k
    (`selection_bias` `(` $selection_bias^ `:` type($selection_bias) `)`)?
    (`renormalize` $renormalize^)?
    (`n_groups` `=` $n_groups^)?
    (`topk_groups` `=` $topk_groups^)?
    (`capacity_factor` `=` $capacity_factor^)?
    (`mode` `=` $mode^)?
    (`capacity` `=` $capacity^)?
    attr-dict `:` type($logits) `->` type($indices) `,` type($weights)
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    int64_t getNumTokens() { return getLogits().getType().getDimSize(0); }
    int64_t getNumExperts() { return getLogits().getType().getDimSize(1); }
    bool isExpertChoice() {
      return getMode() == RoutingMode::ExpertChoice;
    }
    /// Token choice with a capacity factor: ceil(cf · N · k / E), the most
    /// assignments an expert keeps. Expert choice: the c of [E, c]. Needs
    /// static N and E; std::nullopt when there is no capacity.
    std::optional<int64_t> getEffectiveCapacity();
  }];
}

def Kestrel_MoeOp : Kestrel_Op<"moe", [Pure, AttrSizedOperandSegments]> {
  let summary = "MoE layer: dispatch, gated-MLP experts, weighted combine";
  let description = [{
    Given tokens `x [N, d]`, the routing of a `kestrel.route` (`indices`,
    `weights`) and expert weights `w1, w3 [E, d, ff]`, `w2 [E, ff, d]`:

    ```
    expert_e(x_n) = (silu(x_n W1[e]) ⊙ (x_n W3[e])) W2[e]
    out[n]        = Σ_e P[n,e] · expert_e(x_n)  +  shared(x_n)
    ```

    where `P [N, E]` gathers the routing weights per (token, expert):
    - `mode = token_choice` (default): `indices, weights [N, k]` and
      `P[n,e] = Σ_j [indices[n,j] == e] · weights[n,j]`;
    - `mode = expert_choice`: `indices, weights [E, c]` hold token indices
      and `P[n,e] = Σ_j [indices[e,j] == n] · weights[e,j]`.

    Indices outside `[0, E)` (token choice) or `[0, N)` (expert choice)
    select nothing, and an assignment of weight 0 (e.g. dropped by
    capacity) contributes nothing, even when the expert's output would be
    infinite. `silu(a) = a / (1 + exp(−a))`.

    The optional shared experts (DeepSeekMoE) are always active:
    `shared(x) = (silu(x S1) ⊙ (x S3)) S2` with `shared_w1, shared_w3
    [d, fs]` and `shared_w2 [fs, d]`; several shared experts are one
    gated MLP whose hidden sizes are concatenated. All three are given or
    none (then `shared = 0`).

    `x`, the expert weights and the result share one storage type (f32,
    f16, bf16); `weights` may be any of the three; arithmetic is f32, with
    one rounding of the result. The result does not depend on how tokens
    are grouped per expert beyond float summation order (docs/ops.md §3).

    Example:
    ```mlir
    %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
        shared(%s1, %s3, %s2 : tensor<64x128xbf16>, tensor<64x128xbf16>,
                               tensor<128x64xbf16>)
        : tensor<16x64xbf16>, tensor<16x2xi32>, tensor<16x2xf32>,
          tensor<8x64x32xbf16>, tensor<8x64x32xbf16>, tensor<8x32x64xbf16>
          -> tensor<16x64xbf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$x,
                       Kestrel_IndexTensor:$indices,
                       Kestrel_FloatTensor:$weights,
                       Kestrel_FloatTensor:$w1,
                       Kestrel_FloatTensor:$w3,
                       Kestrel_FloatTensor:$w2,
                       Optional<Kestrel_FloatTensor>:$shared_w1,
                       Optional<Kestrel_FloatTensor>:$shared_w3,
                       Optional<Kestrel_FloatTensor>:$shared_w2,
                       OptionalAttr<Kestrel_RoutingMode>:$mode);
  let results = (outs Kestrel_FloatTensor:$result);

  let assemblyFormat = [{
    $x `,` $indices `,` $weights `experts` `(` $w1 `,` $w3 `,` $w2 `)`
    (`shared` `(` $shared_w1^ `,` $shared_w3 `,` $shared_w2 `:`
       type($shared_w1) `,` type($shared_w3) `,` type($shared_w2) `)`)?
    (`mode` `=` $mode^)?
    attr-dict `:` type($x) `,` type($indices) `,` type($weights) `,`
    type($w1) `,` type($w3) `,` type($w2) `->` type($result)
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    bool isExpertChoice() {
      return getMode() == RoutingMode::ExpertChoice;
    }
  }];
}

def Kestrel_TopKOp : Kestrel_Op<"top_k", [Pure]> {
  let summary = "The k largest (or smallest) elements along one axis";
  let description = [{
    ONNX TopK (docs/ops.md §3): along `axis` of `input` (rank >= 1, any
    float or integer element type but i1), the `k` largest elements
    (`largest = false`: smallest), best first; ties go to the lower index:

    ```
    rank[.., j, ..] = #{ m : x[.., m, ..] before x[.., j, ..] }
                      (before: greater (less) or equal with m < j)
    values[.., r, ..]  = x[.., j, ..]    for the j with rank r
    indices[.., r, ..] = j                (i64)
    ```

    Shapes: both results are `input` with dim `axis` replaced by `k`,
    `0 <= k <= dim`. The importer builds it for ONNX TopK so that routing
    recognition (kestrel-recognize) can read the selection back.

    Example:
    ```mlir
    %v, %i = kestrel.top_k %logits {k = 2 : i64, axis = 1 : i64}
        : tensor<8x4xf32> -> tensor<8x2xf32>, tensor<8x2xi64>
    ```
  }];

  let arguments = (ins AnyRankedTensor:$input, I64Attr:$k, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$largest);
  let results = (outs AnyRankedTensor:$values, AnyRankedTensor:$indices);

  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($values) `,` type($indices)
  }];

  let hasVerifier = 1;
}

#endif // KESTREL_ROUTING_OPS_TD
