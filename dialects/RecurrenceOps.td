//===- RecurrenceOps.td - The recurrence op family ---------*- tablegen -*-===//
//
// Gated linear recurrences: linear attention, decayed (RetNet, Mamba2 SSD),
// vector-gated (GLA) and delta-rule (DeltaNet, Gated DeltaNet) state updates
// (docs/ops.md §2).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_RECURRENCE_OPS_TD
#define KESTREL_RECURRENCE_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kestrel_GateKind : I32EnumAttr<"GateKind",
    "how the state of a gated recurrence is updated", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Scalar", 1, "scalar">,
      I32EnumAttrCase<"Vector", 2, "vector">,
      I32EnumAttrCase<"Delta", 3, "delta">,
      I32EnumAttrCase<"GatedDelta", 4, "gated_delta">]> {
  let cppNamespace = "::kestrel";
}

def Kestrel_GatedRecurrenceOp : Kestrel_Op<"gated_recurrence",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Gated linear recurrence over a [Dk, Dv] state per head";
  let description = [{
    For every batch row `b`, head `h` (whose keys and values come from head
    `j = h / g` of `key` and `value`, `g = H / Hkv`) and step `t = 0..T-1`,
    with row vectors `q_t, k_t ∈ R^{Dk}`, `v_t ∈ R^{Dv}` and the state
    `S ∈ R^{Dk×Dv}` (`S_{-1}` = `initial_state`, or 0 when absent):

    ```
    none:        S_t = S_{t-1} + k_tᵀ v_t
    scalar:      S_t = exp(g_t) · S_{t-1} + k_tᵀ v_t            g_t scalar
    vector:      S_t = diag(exp(g_t)) · S_{t-1} + k_tᵀ v_t      g_t ∈ R^{Dk}
    delta:       S_t = S_{t-1} + β_t k_tᵀ (v_t − k_t S_{t-1})
    gated_delta: S'  = exp(g_t) · S_{t-1}
                 S_t = S' + β_t k_tᵀ (v_t − k_t S')
                     = exp(g_t) S_{t-1} (I − β_t k_tᵀ k_t) + β_t k_tᵀ v_t
    o_t = scale · q_t S_t                   (the output sees the updated state)
    ```

    `g` is the gate in log space (`log_gate`: `[B, H, T]` for `scalar` and
    `gated_delta`, `[B, H, T, Dk]` for `vector`), `β` is `beta [B, H, T]`.
    Shapes: `query [B, H, T, Dk]`, `key [B, Hkv, T, Dk]`,
    `value [B, Hkv, T, Dv]`, `initial_state [B, H, Dk, Dv]`; results
    `output [B, H, T, Dv]` and `final_state [B, H, Dk, Dv]`. `scale` defaults
    to 1.0: feature maps and normalization (e.g. `1/sqrt(Dk)`) are the
    producer's business. Arithmetic is done in f32 whatever the storage type.

    Example (Gated DeltaNet):
    ```mlir
    %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta
        log_gate(%g : tensor<1x4x64xbf16>) beta(%b : tensor<1x4x64xbf16>)
        scale = 0.125
        : tensor<1x4x64x64xbf16>, tensor<1x4x64x64xbf16>,
          tensor<1x4x64x64xbf16> -> tensor<1x4x64x64xbf16>,
          tensor<1x4x64x64xbf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$query,
                       Kestrel_FloatTensor:$key,
                       Kestrel_FloatTensor:$value,
                       Optional<Kestrel_FloatTensor>:$log_gate,
                       Optional<Kestrel_FloatTensor>:$beta,
                       Optional<Kestrel_FloatTensor>:$initial_state,
                       Kestrel_GateKind:$gate,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs Kestrel_FloatTensor:$output,
                      Kestrel_FloatTensor:$final_state);

  let assemblyFormat = [{
    $query `,` $key `,` $value `gate` `=` $gate
    (`log_gate` `(` $log_gate^ `:` type($log_gate) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    (`scale` `=` $scale^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->`
    type($output) `,` type($final_state)
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    int64_t getBatch() { return getQuery().getType().getDimSize(0); }
    int64_t getNumHeads() { return getQuery().getType().getDimSize(1); }
    int64_t getNumKvHeads() { return getKey().getType().getDimSize(1); }
    int64_t getSeqLen() { return getQuery().getType().getDimSize(2); }
    int64_t getKeyDim() { return getQuery().getType().getDimSize(3); }
    int64_t getValueDim() { return getValue().getType().getDimSize(3); }
    /// The factor applied to q_t S_t: the attribute, or 1.0 by default.
    double getEffectiveScale() {
      if (std::optional<llvm::APFloat> s = getScale())
        return s->convertToDouble();
      return 1.0;
    }
    /// Whether the kind decays the state with exp(log_gate).
    static bool isGated(GateKind kind) {
      return kind == GateKind::Scalar || kind == GateKind::Vector ||
             kind == GateKind::GatedDelta;
    }
    /// Whether the kind applies the delta rule (and so needs beta).
    static bool isDelta(GateKind kind) {
      return kind == GateKind::Delta || kind == GateKind::GatedDelta;
    }
  }];
}

//===----------------------------------------------------------------------===//
// Mamba1 selective scan and the causal depthwise conv1d in front of it.
//===----------------------------------------------------------------------===//

def Kestrel_SelectiveScanOp : Kestrel_Op<"selective_scan",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Mamba1 selective scan with a diagonal [C, N] state";
  let description = [{
    Channels-first, as in the reference Mamba code: `x`, `delta` and `z` are
    `[B, C, T]`, `Bm` and `Cm` are `[B, N, T]`, `A` is `[C, N]`. For every
    batch row `b`, channel `c`, state index `n` and step `t = 0..T-1`
    (`h_{-1}` = `initial_state`, or 0 when absent):

    ```
    Δ_t = delta[b,c,t] + delta_bias[c]        (bias only when given)
    Δ_t = softplus(Δ_t)                       (only with delta_softplus)
    h_t[n] = exp(Δ_t A[c,n]) h_{t-1}[n] + Δ_t Bm[b,n,t] x[b,c,t]
    y[b,c,t] = Σ_n Cm[b,n,t] h_t[n] + D[c] x[b,c,t]   (D term only when given)
    y[b,c,t] *= silu(z[b,c,t])                (only when z is given)
    ```

    softplus is `log1p(exp(v))`, and `v` itself for `v > 20`, as the Mamba
    kernels compute it. Results: `y [B, C, T]` and `final_state [B, C, N]`
    (`h_{T-1}`).

    Storage: `x`, `delta`, `Bm`, `Cm`, `z` and `y` share one of f32, f16,
    bf16. The parameters `A`, `D`, `delta_bias` and both states are f32: they
    are f32 in the Mamba reference, and a state carried between decode steps
    in 16 bits would lose precision at every step. Arithmetic is f32.

    Example:
    ```mlir
    %y, %h = kestrel.selective_scan %x, %dt, %A, %Bm, %Cm
        D(%D : tensor<64xf32>) z(%z : tensor<1x64x32xbf16>)
        delta_bias(%db : tensor<64xf32>) delta_softplus
        : tensor<1x64x32xbf16>, tensor<1x64x32xbf16>, tensor<64x16xf32>,
          tensor<1x16x32xbf16>, tensor<1x16x32xbf16>
          -> tensor<1x64x32xbf16>, tensor<1x64x16xf32>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$x,
                       Kestrel_FloatTensor:$delta,
                       Kestrel_FloatTensor:$A,
                       Kestrel_FloatTensor:$Bm,
                       Kestrel_FloatTensor:$Cm,
                       Optional<Kestrel_FloatTensor>:$D,
                       Optional<Kestrel_FloatTensor>:$z,
                       Optional<Kestrel_FloatTensor>:$delta_bias,
                       Optional<Kestrel_FloatTensor>:$initial_state,
                       UnitAttr:$delta_softplus);
  let results = (outs Kestrel_FloatTensor:$y,
                      Kestrel_FloatTensor:$final_state);

  let assemblyFormat = [{
    $x `,` $delta `,` $A `,` $Bm `,` $Cm
    (`D` `(` $D^ `:` type($D) `)`)?
    (`z` `(` $z^ `:` type($z) `)`)?
    (`delta_bias` `(` $delta_bias^ `:` type($delta_bias) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    (`delta_softplus` $delta_softplus^)?
    attr-dict `:` type($x) `,` type($delta) `,` type($A) `,` type($Bm) `,`
    type($Cm) `->` type($y) `,` type($final_state)
  }];

  let hasVerifier = 1;
}

def Kestrel_ConvActivation : I32EnumAttr<"ConvActivation",
    "activation applied to the output of a causal conv1d", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Silu", 1, "silu">]> {
  let cppNamespace = "::kestrel";
}

def Kestrel_CausalConv1dOp : Kestrel_Op<"causal_conv1d",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Causal depthwise conv1d with a carried [B, C, K-1] state";
  let description = [{
    `x [B, C, T]`, `weight [C, K]`, `bias [C]`, `state [B, C, K-1]` (the K-1
    inputs before `x`, for decode; zeros when absent). With `xs` = `state`
    followed by `x` along time (`[B, C, K-1+T]`):

    ```
    y[b,c,t] = act(Σ_{i<K} weight[c,i] · xs[b,c,t+i] + bias[c])
    new_state = xs[:, :, T : T+K-1]           (the last K-1 inputs)
    ```

    `act` is `none` or `silu`. All operands and results share one storage
    type (f32, f16 or bf16); arithmetic is f32.

    Example:
    ```mlir
    %y, %s = kestrel.causal_conv1d %x, %w activation = silu
        bias(%b : tensor<64xf16>) state(%s0 : tensor<1x64x3xf16>)
        : tensor<1x64x1xf16>, tensor<64x4xf16>
          -> tensor<1x64x1xf16>, tensor<1x64x3xf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$x,
                       Kestrel_FloatTensor:$weight,
                       Optional<Kestrel_FloatTensor>:$bias,
                       Optional<Kestrel_FloatTensor>:$state,
                       Kestrel_ConvActivation:$activation);
  let results = (outs Kestrel_FloatTensor:$y,
                      Kestrel_FloatTensor:$new_state);

  let assemblyFormat = [{
    $x `,` $weight `activation` `=` $activation
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`state` `(` $state^ `:` type($state) `)`)?
    attr-dict `:` type($x) `,` type($weight) `->` type($y) `,`
    type($new_state)
  }];

  let hasVerifier = 1;
}

#endif // KESTREL_RECURRENCE_OPS_TD
