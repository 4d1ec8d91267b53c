//===- Passes.td - Kestrel transformation passes -----------*- tablegen -*-===//
//
// Every pass Kestrel runs, declared in the Passes.td of the layer it belongs
// to (see docs/architecture.md §2). The per-target pipelines that chain them
// live in lib/Pipeline/.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_TD
#define KESTREL_PASSES_TD

include "passes/Transforms/Passes.td"
include "passes/Conversion/KestrelToLinalg/Passes.td"
include "passes/CPU/Passes.td"
include "passes/CUDA/Passes.td"

#endif // KESTREL_PASSES_TD
