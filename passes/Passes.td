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
    fast path. Recurrences and the Mamba1 selective scan become an `scf.for`
    over time carrying the state (the recurrent form), one step per
    iteration; the causal conv1d is one reduction over its kernel taps. KV
    cache ops read their caches through the `#kestrel.kv_layout` index math
    (through the block table when paged); `kv_append` is an `scf.for` over
    the new tokens.
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

def GpuFlashAttention : Pass<"kestrel-gpu-flash-attention",
                              "::mlir::func::FuncOp"> {
  let summary = "Tensor-core FlashAttention kernels for f16/bf16 attention";
  let description = [{
    Replaces each `kestrel.attention` with f16 or bf16 storage, head dim 64,
    128 or 256 and Dv = D by a `gpu.launch` running a FlashAttention-2 style
    kernel: 4 warps per block, each owning `rows-per-warp` query rows (two
    m16 tiles by default, so every K/V fragment loaded from shared memory
    feeds two mma), 64-key tiles of K and V in dynamic shared memory filled
    by cp.async one tile ahead, `nvvm.mma.sync` m16n8k16 for both products
    with f32 accumulation, online softmax in registers. With two row tiles
    at D = 128, Q is kept in shared memory (its fragments would not fit in
    registers beside the accumulators), and always at D = 256 (one row tile
    per warp there). Only the key tiles the static
    mask (causal with offset, window, sinks, block-sparse map) can reach
    are visited. GQA reads
    the KV head of each query head directly (no replication). Other
    attention ops are left for the reference lowering.
  }];
  let options = [
    Option<"rowsPerWarp", "rows-per-warp", "int64_t", /*default=*/"0",
           "Query rows per warp: 16 (one m16 tile), 32 (two tiles sharing "
           "each K/V fragment) or 0: 32 unless that launches fewer than 132 "
           "blocks (an H100's SM count), then 16">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect"];
}

def GpuDecodeAttention : Pass<"kestrel-gpu-decode-attention",
                               "::mlir::func::FuncOp"> {
  let summary = "Split-KV decode kernels and a KV append scatter for NVIDIA";
  let description = [{
    Replaces each `kestrel.decode_attention` (f16/bf16/f32 storage, any
    layout: head-major, token-major, paged through the block table, MLA
    latent) by two `gpu.launch` ops. The split kernel runs one block of 128
    threads per (KV split, batch row, KV head): it serves all `g * T` query
    rows of the KV group (GQA without replicating K/V; at most 64 rows),
    streams its share of the keys through shared memory in tiles of 64 (or
    32) keys with 16-byte vector loads (the next tile prefetched into
    registers), computes scores and P V with f32 FMAs, keeps an online
    softmax, and writes its partial output and log-sum-exp (f32). The merge
    kernel combines the splits by log-sum-exp weights into the result (and
    the op's `lse` when it has one). Splits past a row's `seq_lens` exit at
    once.

    Each `kestrel.kv_append` becomes a copy of the cache into the result
    buffer plus a scatter kernel of 16-byte vectors; on paged caches a write
    that a later `(b, i)` of the same op overwrites is skipped, so the
    op's "later write wins" rule holds.

    Ops it cannot cover (other element types, head dims that are not
    multiples of a 16-byte vector, more than 64 rows per KV group, tiles
    that do not fit in 48 KiB of shared memory, unknown attributes) are left
    to the reference lowering.
  }];
  let options = [
    Option<"splitKeys", "split-keys", "int64_t", /*default=*/"0",
           "Keys per split (rounded up to the key tile); 0 picks the split "
           "count so that about target-blocks blocks run, with at least 4 "
           "key tiles per split. An op's own `kestrel.split_keys` integer "
           "attribute overrides it (and a `kestrel.decode_prefetch` bool "
           "turns the register prefetch of the next tile on or off; by "
           "default it is on for at most 8 rows per KV group)">,
    Option<"targetBlocks", "target-blocks", "int64_t", /*default=*/"1024",
           "Blocks the automatic split count aims for (B * Hkv * splits)">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect"];
}

def SelectKVLayout : Pass<"kestrel-select-kv-layout", "::mlir::func::FuncOp"> {
  let summary = "Choose the KV cache layout of decode and append ops";
  let description = [{
    For every `kestrel.decode_attention` and `kestrel.kv_append` decides the
    layout its cache should have for the target and the shapes, applies the
    choice where that costs nothing, and records the decision and its reason
    on the op: `kestrel.kv_layout_reason = "..."` (and
    `kestrel.kv_layout_from = <old layout>` when it changed the layout).

    Preference: `mla_latent` stays (the only layout of the absorbed MLA
    form); `paged` stays (the caller owns the block table); a contiguous
    cache prefers `paged<page-size>` when the `page-size` option is set and
    divides the capacity, else `head_major` (the keys of one KV head are one
    contiguous run, which a split of the sequence streams with full-width
    vector loads, shared by the `g` query heads of the group).

    The layout is changed only for caches the function creates itself (a
    `tensor.empty` or a splat constant, used only by kv_append and
    decode_attention ops): the whole chain of ops is retyped, and a paged
    cache gets the identity block table as a constant. A cache that comes
    from elsewhere (a function argument) keeps the caller's layout, and the
    reason says so: converting it would copy the whole cache on every call.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target the layout is chosen for: cpu or cuda">,
    Option<"pageSize", "page-size", "int64_t", /*default=*/"0",
           "Page size to use for caches the function creates (0: contiguous)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def AlignWorkgroupMemory : Pass<"kestrel-align-workgroup-memory",
                                 "::mlir::ModuleOp"> {
  let summary = "Align kernels' shared-memory buffers for vector access";
  let description = [{
    Sets `llvm.align` on every workgroup attribution of every `gpu.func`
    that has none, so the shared-memory globals gpu-to-nvvm creates are
    aligned for 16-byte vector stores and `ldmatrix` (by default they are
    aligned to their element type only).
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "16",
           "Byte alignment of workgroup buffers">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def ExpandStridedCopies : Pass<"kestrel-expand-strided-copies",
                                "::mlir::func::FuncOp"> {
  let summary = "Rewrite memref.copy of strided views as linalg.copy";
  let description = [{
    `memref.copy` between buffers that are not contiguous (strided views
    left by bufferizing slices) would lower to a call to MLIR's
    `memrefCopy` runtime function, which compiled Kestrel libraries do not
    link. This pass turns exactly those copies into `linalg.copy`, lowered
    to loops with the rest of the linalg ops; contiguous copies stay
    `memref.copy` (a memcpy).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def ReadOnlyArguments : Pass<"kestrel-read-only-arguments",
                              "::mlir::func::FuncOp"> {
  let summary = "Mark public functions' tensor arguments not writable";
  let description = [{
    Sets `bufferization.writable = false` on every tensor argument of a
    public function (unless it already says), so that one-shot-bufferize
    never updates a caller's input in place: an op that would write into an
    argument's buffer gets a copy instead.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
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

def TileAttention : Pass<"kestrel-tile", "::mlir::func::FuncOp"> {
  let summary = "Choose the tile sizes of attention for the target's cache";
  let description = [{
    Records on every `kestrel.attention` the query × key tile
    `kestrel.tile = array<i64: Br, Bc>` that the fused lowering iterates over.
    Unless `block-q`/`block-k` override it, the tile is the largest square of
    128, 64, 32 or 16 whose working set (Q, K and V tiles, the Br×Bc score
    tile and the Br×Dv accumulator, in f32) fits in `cache-kib`, clamped to
    the query and key lengths. With a `block_map`, a chosen size is further
    capped at the block size `bq` (resp. `bk`) when that is at least 16, so
    that tiles fall inside blocks and are skipped or unmasked as a whole.
    An existing `kestrel.tile` is kept.

    Every `kestrel.gated_recurrence` gets its chunk length
    `kestrel.chunk = C : i64` (`chunk-size`, clamped to the sequence length;
    an existing `kestrel.chunk` is kept), which kestrel-fuse-io-aware turns
    into the chunked form.

    Every `kestrel.moe` with static expert weights gets the register tile
    of its expert products, `kestrel.tile = array<i64: MR, NR>` (read by
    kestrel-moe-dispatch): `MR = moe-rows` token rows and, unless
    `moe-cols` sets it, `NR` = the widest of 16, 8, 4 weight columns whose
    packed panels fit `cache-kib` (the W1 and W3 panels, `2·d·NR` f32, and
    the W2 panel, `ff·NR` f32; every row tile of an expert reuses them). An
    existing `kestrel.tile` is kept.

    Every `kestrel.denoise_step` with static shapes gets its vocabulary
    block `kestrel.tile = array<i64: W>`: the entries each step of the
    one-pass form (kestrel-fuse-io-aware) reads per position, one per
    vector lane (`denoise-lanes` rounded down to a power of two, capped at
    V). An existing `kestrel.tile` is kept.
  }];
  let options = [
    Option<"blockQ", "block-q", "int64_t", /*default=*/"0",
           "Query rows per tile (0: choose from the cache size)">,
    Option<"blockK", "block-k", "int64_t", /*default=*/"0",
           "Keys per tile (0: choose from the cache size)">,
    Option<"cacheKiB", "cache-kib", "int64_t", /*default=*/"256",
           "Cache budget of one tile's working set, in KiB (half an L2)">,
    Option<"chunkSize", "chunk-size", "int64_t", /*default=*/"64",
           "Chunk length C of gated recurrences (the last chunk may be "
           "shorter)">,
    Option<"denoiseLanes", "denoise-lanes", "int64_t", /*default=*/"16",
           "Vocabulary block of denoise steps: entries per vector step of "
           "the one-pass form (rounded down to a power of two, capped at V)">,
    Option<"moeRows", "moe-rows", "int64_t", /*default=*/"6",
           "Token rows per register tile of MoE expert products (6 rows of "
           "two AVX2 vectors: 12 accumulators)">,
    Option<"moeCols", "moe-cols", "int64_t", /*default=*/"0",
           "Weight columns per MoE register tile (0: choose from the cache "
           "size)">,
  ];
}

def SpecializeSparsity : Pass<"kestrel-specialize-sparsity",
                              "::mlir::func::FuncOp"> {
  let summary = "Classify attention tiles as skipped, full or partial";
  let description = [{
    From the statically known mask of each `kestrel.attention` (causal with
    offset, sliding window, sinks, and the block-sparse `block_map`, all
    composed) and its `kestrel.tile`, classifies every (query tile, key tile)
    pair exactly (element by element, tiles need not align with blocks) and
    records the decision in the IR:

    - `kestrel.tile_classes`: a dense `tensor<nQ x nK x i8>` with 0 = skipped
      (no visible key: never computed), 1 = full (every key visible: no mask
      arithmetic), 2 = partial (masked element-wise);
    - `kestrel.tile_counts = array<i64: skipped, full, partial>`.

    Ops without `kestrel.tile` are tiled with `block-q` × `block-k`.
    Runtime `key_lengths` are not static and can only hide keys: the classes
    ignore them and kestrel-fuse-io-aware re-checks "full" at run time.

    For every `kestrel.moe` with static shapes, specializes on the routing's
    `k` (token choice, `indices [N, k]`) or capacity `c` (expert choice,
    `[E, c]`) and the number of experts `E`: records
    `kestrel.moe_bounds = array<i64: pairs, per_expert>`, the most routed
    (token, expert) pairs (`N·min(k, E)`, resp. `E·min(c, N)`) and the most
    tokens one expert can receive (`N`, resp. `min(c, N)`).
    kestrel-moe-dispatch sizes its packed row space from them.
  }];
  let options = [
    Option<"blockQ", "block-q", "int64_t", /*default=*/"64",
           "Query rows per tile for ops without kestrel.tile">,
    Option<"blockK", "block-k", "int64_t", /*default=*/"64",
           "Keys per tile for ops without kestrel.tile">,
  ];
}

def FuseIOAware : Pass<"kestrel-fuse-io-aware", "::mlir::func::FuncOp"> {
  let summary = "Attention as online softmax over tiles (FlashAttention)";
  let description = [{
    Rewrites every tiled `kestrel.attention` into the IO-aware form of
    shared/OPS.md §1: an `scf.forall` over (batch, head, query tile) whose
    body keeps a running max `m`, sum `l` and accumulator `acc` in f32 and
    walks the key tiles with `scf.for`:
    `m' = max(m, rowmax(S))`, `acc = acc·e^{m-m'} + e^{S-m'} V`,
    `l = l·e^{m-m'} + rowsum(e^{S-m'})`, and finally `O = acc / l`. No T×S
    buffer exists: memory is O(T·D) plus one tile per thread.

    The scale is folded into the Q tile load; the K tile is transposed once
    per tile so that the inner loops of both products run over contiguous
    memory. With `kestrel.tile_classes`, the key loop visits only the
    non-skipped tiles (at most two ranges per query tile: the sinks and the
    causal/window band, kept as a constant table in the IR; when a block map
    leaves more runs, an explicit per-query-tile list of key tiles) and full
    tiles run without mask arithmetic; partial tiles apply every mask element
    by element (the block map from an i8 constant). GQA reads K/V head
    `h / g` in place.

    `key_lengths` is a runtime mask: key tiles that start at or after the
    row's length are not visited, and a statically full tile takes the
    masked branch when it extends past the length. The optional `lse`
    result is `m + log l` of the final running statistics (`-inf` where
    `l = 0`), written as a second output of the `scf.forall`.

    Every `kestrel.gated_recurrence` with `kestrel.chunk = C` becomes the
    chunked form of shared/OPS.md §2: an `scf.forall` over (batch, head)
    carrying the f32 state through an `scf.for` over the full chunks (then a
    statically shaped shorter tail chunk when C does not divide T). Per
    chunk: cumulative log-gates `b`, the intra-chunk products
    `P = (Q Kᵀ) ⊙ D` (`D_ij = e^{b_i − b_j}`, j ≤ i; per key channel for
    vector gates) and `P U`, the inter-chunk product `(Q ⊙ e^b) S`, and the
    state update `S = e^{b_last} S + (K ⊙ e^{b_last − b})ᵀ U`, with `U = V`,
    or for the delta rules `U = T diag(β) V − W S`, `W = T diag(β e^b) K`,
    `T = (I + A)⁻¹` (forward substitution),
    `A_ij = β_i e^{b_i − b_j} k_i·k_j` (j < i). Vector gates build `P` by
    16-row sub-blocks whose exponentials are all decays (a diagonal block is
    factored into one product only when its gate span is at most 20, checked
    at run time).

    Every greedy `kestrel.denoise_step` (no `temperature`) reads its logits
    once: an `scf.forall` over the (batch, position) pairs, each keeping W
    vector lanes of online (max, Σ e^(l − max), first argmax) over the
    vocabulary (W = its `kestrel.tile = array<i64: W>` from kestrel-tile,
    else 16; recorded as `kestrel.denoise_lanes = W`), combined across lanes
    at the end; the selection stage (confidence, rank, policy) is the
    reference lowering's. Sampling keeps the reference two-pass form.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def MoeDispatch : Pass<"kestrel-moe-dispatch", "::mlir::func::FuncOp"> {
  let summary = "Sparse MoE: counting-sort dispatch and register-tiled experts";
  let description = [{
    Rewrites every statically shaped `kestrel.moe` so that only routed
    (token, expert) pairs are computed (shared/OPS.md §3), instead of every
    expert on every token as the reference lowering does:

    - the per-(token, expert) routing weight `P[n, e]` is built as in the
      reference; a sequential counting sort (`kestrel.moe_stage =
      "dispatch"`) lists, per expert and in token order, the tokens with
      `P != 0` and their weights, in a packed row space where each expert's
      rows are padded to whole `mr`-row tiles. Weight-0 assignments (dropped
      by capacity) and out-of-range indices never enter a list;
    - `"up"`: an `scf.forall` over `NR`-column panels of `ff` runs, for
      every expert and row tile, two register-tiled micro-kernels
      (`x[tok] W1[e]`, `x[tok] W3[e]`: an `scf.for` over the reduction
      carrying `mr` accumulators `vector<NR x f32>`, marked
      `kestrel.micro_kernel`) and stores `silu(a) ⊙ g` (f32);
    - `"shared_up"`: the same over all tokens for the shared experts;
    - `"down"`: an `scf.forall` over `NR`-column panels of `d` (no two
      threads write one output element) starts from the shared experts'
      output (or 0) and scatter-adds `P · (h W2[e])` into the routed tokens'
      rows, skipping padding rows.

    The register tile `[mr, nr]` is the op's `kestrel.tile` when
    kestrel-tile recorded one, else the options. `NR` is the largest power
    of two at most `nr` dividing the panel's dimension; each forall carries
    `kestrel.moe_tile = array<i64: mr, NR>`. With `kestrel.moe_bounds`
    (kestrel-specialize-sparsity) the packed row space holds
    `pairs + E·(mr − 1)` rows, else `min(N·E, #assignments) + E·(mr − 1)`.
    Arithmetic is f32 with one rounding of the result, as the reference.
    Ops with dynamic shapes are left for the reference lowering.
  }];
  let options = [
    Option<"mr", "mr", "int64_t", /*default=*/"6",
           "Rows (tokens) per register tile of the expert products">,
    Option<"nr", "nr", "int64_t", /*default=*/"16",
           "Widest column panel (f32 lanes per accumulator vector)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def VectorizeContractions : Pass<"kestrel-vectorize-contractions",
                                  "::mlir::func::FuncOp"> {
  let summary = "Register-tile and vectorize the tile products of attention";
  let description = [{
    The two products of the fused attention loop (`S = Q Kᵀ` and `acc += P V`,
    marked `kestrel.contraction` by kestrel-fuse-io-aware) are generics with
    iterators (parallel, reduction, parallel). With static shapes that the
    register tile divides, each is tiled into `mr × nr` output blocks and
    vectorized into a `vector.contract`, which later lowers to outer
    products: the `mr × nr` accumulator stays in registers across the whole
    reduction instead of being loaded and stored per multiply-add. Other
    shapes keep the scalar loops.
  }];
  let options = [
    Option<"mr", "mr", "int64_t", /*default=*/"4",
           "Rows of the register tile (output rows per micro-kernel)">,
    Option<"nr", "nr", "int64_t", /*default=*/"16",
           "Columns of the register tile (two AVX2 vectors of f32)">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ApproximateMath : Pass<"kestrel-approximate-math"> {
  let summary = "Replace transcendental math ops by vectorizable polynomials";
  let description = [{
    Rewrites `math.exp`, `math.tanh` and `math.erf` on f32 (and vectors of
    f32) into MLIR's polynomial approximations: plain arithmetic that the
    LLVM vectorizers turn into SIMD code, where a libm call would stay a
    scalar call per element. Softmax pays one exp per score, so on the CPU
    this is the difference between vector and scalar attention. The
    approximations are accurate to a few ulp; the numeric tests' f32
    tolerance (1e-5) covers them.
  }];
  let options = [
    ListOption<"ops", "ops", "std::string",
               "Math op names to approximate (default: exp, tanh, erf)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def Recognize : Pass<"kestrel-recognize", "::mlir::func::FuncOp"> {
  let summary = "Turn decomposed subgraphs in linalg into kestrel ops";
  let description = [{
    The recognize stage of DESIGN.md §1, on the func/arith/tensor/linalg IR
    every frontend produces (the ONNX importer's output, hand-written MLIR).
    RMSNorm: elementwise `linalg.generic`s (one arith/math op per body,
    broadcasting indexing maps, constants as operands or captured scalars)
    computing `x · rsqrt(Σ_last x² / N + eps) [· w]` (rsqrt written as
    `math.rsqrt`, `1 / sqrt`, `pow(., -0.5)` or `x / sqrt(.)`; `x²` as
    `powf(x, 2)` or `x · x`; the sum a reduction of the last loop dim into a
    zero fill, then `· 1/N` or `/ N`; reshapes that only add unit dims are
    looked through) become one `kestrel.rms_norm` (weight all ones when there
    is none; eps and the weight [N] or [1, ..., N] must be constants, eps
    >= 0). The matched ops left without users are erased; every other
    subgraph is left as it is. No options. Attention, RoPE, MoE routing and
    the causal conv1d are still recognized by the ONNX importer
    (lib/Import/OnnxRecognize*.cpp); docs/cli.md (Recognized subgraphs)
    gives the plan for moving them here.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // KESTREL_PASSES_TD
