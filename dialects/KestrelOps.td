//===- KestrelOps.td - All kestrel ops ---------------------*- tablegen -*-===//
//
// One file per op family; this one only gathers them for TableGen.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_OPS_TD
#define KESTREL_OPS_TD

include "dialects/KestrelBase.td"
include "dialects/AttentionOps.td"
include "dialects/MLAOps.td"
include "dialects/QuantOps.td"
include "dialects/RecurrenceOps.td"
include "dialects/SupportOps.td"
include "dialects/DenoiseOps.td"
include "dialects/RoutingOps.td"
include "dialects/KVCacheOps.td"
include "dialects/DecisionAttrs.td"
include "dialects/GpuGemmAttrs.td"
include "dialects/GpuRowAttrs.td"
include "dialects/ContractionAttrs.td"

#endif // KESTREL_OPS_TD
