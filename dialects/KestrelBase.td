//===- KestrelBase.td - The kestrel dialect definition ----*- tablegen -*-===//
//
// The dialect in which Kestrel states what an efficient LLM architecture
// computes: attention, recurrence, routing and denoising. Ops carry semantics,
// never schedules; the passes in passes/ decide tiles, fusion and layouts.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_BASE_TD
#define KESTREL_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Kestrel_Dialect : Dialect {
  let name = "kestrel";
  let cppNamespace = "::kestrel";
  let summary = "Semantic ops of efficient LLM architectures";
  let description = [{
    The `kestrel` dialect expresses the operators catalogued by the survey
    "Speed Always Wins" (arXiv 2508.09834): softmax attention with its
    efficient and sparse variants, gated linear recurrences, mixture-of-experts
    routing and masked-diffusion denoising. Each op states *what* is computed
    (the formulas are in its description and in docs/); how it is tiled, fused
    and laid out is decided by passes and recorded as attributes.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  // Attributes (#kestrel.kv_layout<...>) are parsed and printed by the
  // hooks TableGen generates from their AttrDefs.
  let useDefaultAttributePrinterParser = 1;
  // Decisions recorded by passes (DecisionAttrs.td) are checked against the
  // op that carries them.
  let hasOperationAttrVerify = 1;
}

// Every kestrel op: static sizes of its shaped operands and results bounded
// (each dimension below 2^31, each tensor below 2^40 elements), so that the
// lowerings' index products (score tiles, unrolled vector loops, GPU grids)
// cannot overflow; see kestrel::verifySizeBounds.
def Kestrel_SizeBounded : NativeOpTrait<"SizeBounded"> {
  let cppNamespace = "::kestrel::OpTrait";
}

class Kestrel_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kestrel_Dialect, mnemonic, !listconcat(traits, [Kestrel_SizeBounded])>;

// Storage types every kestrel op accepts; arithmetic is always done in f32.
def Kestrel_FloatStorage : AnyTypeOf<[F32, F16, BF16]>;
def Kestrel_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;

#endif // KESTREL_BASE_TD
