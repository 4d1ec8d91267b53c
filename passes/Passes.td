//===- Passes.td - Kestrel transformation passes -----------*- tablegen -*-===//
//
// Every transformation and lowering Kestrel runs, one pass per file. The
// per-target pipelines that chain them live in lib/Pipeline/.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_TD
#define KESTREL_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToLinalg : Pass<"kestrel-lower-to-linalg"> {
  let summary = "Lower kestrel ops to their naive reference form in linalg";
  let description = [{
    Rewrites every kestrel op into `linalg.generic`/`tensor` ops that compute
    the op's formula literally (shared/OPS.md), accumulating in f32. Attention
    materializes the full `[B, H, T, S]` score tensor: this lowering is the
    obviously-correct oracle that optimized lowerings are tested against, not a
    fast path. Recurrences become an `scf.for` over time carrying the state
    (the recurrent form), one step per iteration.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def MapLoopsToGPU : Pass<"kestrel-map-loops-to-gpu", "::mlir::func::FuncOp"> {
  let summary = "Assign GPU processors to nests of scf.parallel loops";
  let description = [{
    Annotates every outermost `scf.parallel` and the `scf.parallel` nested
    directly in it with `gpu.loop_dim_map` mappings for
    `convert-parallel-loops-to-gpu`: the outer loop's innermost dimension
    becomes `block_x`, the next `block_y`, the next `block_z`; the inner loop's
    innermost dimension becomes `thread_x` and so on; any remaining dimensions
    run sequentially. Mapping innermost-first puts consecutive threads on
    consecutive addresses of row-major buffers (coalesced accesses), which the
    upstream `gpu-map-parallel-loops` (outermost-first) does not.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def MergeGPUModules : Pass<"kestrel-merge-gpu-modules", "::mlir::ModuleOp"> {
  let summary = "Gather every outlined kernel into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` creates one `gpu.module` per kernel. Kestrel ships
    one PTX file per compiled model, so this pass moves every `gpu.func` into
    the first module (renaming kernels to stay unique) and updates the
    `gpu.launch_func` references.
  }];
}

#endif // KESTREL_PASSES_TD
