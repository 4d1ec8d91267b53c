//===- KxOps.td - An out-of-tree architecture piece for Kestrel -*- tablegen -*-===//
//
// The `kx` dialect: what a compiler engineer adds, without forking Kestrel,
// for an architecture Kestrel does not know yet. Here: the feature map of
// linear attention (Katharopoulos et al., 2020), φ(x) = elu(x) + 1, which
// turns kestrel.gated_recurrence{gate = none} into linear attention.
//
//===----------------------------------------------------------------------===//

#ifndef KX_OPS_TD
#define KX_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kx_Dialect : Dialect {
  let name = "kx";
  let cppNamespace = "::kx";
  let summary = "Kestrel extension: linear-attention feature maps";
}

def Kx_FeatureMapOp : Op<Kx_Dialect, "feature_map",
                         [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Positive feature map of linear attention: elu(x) + 1";
  let description = [{
    Elementwise `φ(x) = x + 1` for `x > 0`, else `exp(x)`: positive, so
    `φ(q)·φ(k)` is a valid attention weight.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

#endif // KX_OPS_TD
