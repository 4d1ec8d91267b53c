//===- RecurrenceOps.td - The recurrence op family ---------*- tablegen -*-===//
//
// Gated linear recurrences: linear attention, decayed (RetNet, Mamba2 SSD),
// vector-gated (GLA) and delta-rule (DeltaNet, Gated DeltaNet) state updates
// (shared/OPS.md §2).
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

#endif // KESTREL_RECURRENCE_OPS_TD
