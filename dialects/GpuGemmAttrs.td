//===- GpuGemmAttrs.td - Tile plans of GPU GEMM kernels ----*- tablegen -*-===//
//
// The tile plan kestrel-gpu-gemm chooses for one contraction, recorded on the
// kernel it emits (docs/pipelines.md, "GEMM kernels").
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_GPU_GEMM_ATTRS_TD
#define KESTREL_GPU_GEMM_ATTRS_TD

include "dialects/KestrelBase.td"

def Kestrel_GemmPlanAttr : AttrDef<Kestrel_Dialect, "GemmPlan"> {
  let mnemonic = "gemm_plan";
  let summary = "Block, warp and pipeline tiling of a tensor-core GEMM";
  let description = [{
    How one contraction `C[b, m, n] (+)= sum_k A[b, m, k] B[b, k, n]` is
    divided among the thread blocks and warps of its kernel:

    - each block computes a `tile_m x tile_n` tile of C, walking K in steps
      of `tile_k` through a ring of `stages` shared-memory buffers filled by
      cp.async (`stages - 1` tiles in flight while one is consumed);
    - its `warps_m x warps_n` warps each own a `tile_m / warps_m` by
      `tile_n / warps_n` sub-tile, computed with `mma.sync.m16n8k16` on
      `operand_type` (bf16 or f16) fragments, `mma.sync.m16n8k8` on tf32
      ones (f32 in memory, rounded to tf32 in registers), or with FFMA on
      CUDA cores for f32, always with f32 accumulators;
    - `split_k` blocks share the K range of one tile (1: no split).

    `a_k_major` / `b_k_major` say whether K is the contiguous dimension of
    A and B in memory (B K-major = transposed weights, `[N, K]`); the
    shared tiles keep the global order and ldmatrix transposes as needed.

    ```mlir
    #kestrel.gemm_plan<tile_m = 128, tile_n = 128, tile_k = 32, warps_m = 2,
                       warps_n = 4, stages = 3, split_k = 1,
                       operand_type = bf16, a_k_major = true,
                       b_k_major = false>
    ```
  }];
  let parameters = (ins "int64_t":$tileM, "int64_t":$tileN, "int64_t":$tileK,
                        "int64_t":$warpsM, "int64_t":$warpsN,
                        "int64_t":$stages, "int64_t":$splitK,
                        "::mlir::Type":$operandType, "bool":$aKMajor,
                        "bool":$bKMajor);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t warps() const { return getWarpsM() * getWarpsN(); }
    int64_t warpTileM() const { return getTileM() / getWarpsM(); }
    int64_t warpTileN() const { return getTileN() / getWarpsN(); }
  }];
}

#endif // KESTREL_GPU_GEMM_ATTRS_TD
