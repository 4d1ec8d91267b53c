//===- Transforms/Passes.td --------------------------------*- tablegen -*-===//
//
// Target-independent transforms: they read and write kestrel ops and
// upstream dialects, never target-specific IR. Recognition, layout and
// sparsity decisions, tiling, and bufferization preparation.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_TRANSFORMS_PASSES_TD
#define KESTREL_PASSES_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def Recognize : Pass<"kestrel-recognize", "::mlir::func::FuncOp"> {
  let summary = "Turn decomposed subgraphs in linalg into kestrel ops";
  let description = [{
    The recognize stage of docs/architecture.md §1, on the func/arith/tensor/linalg IR
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
    subgraph is left as it is.

    Before RMSNorm, one pattern per family (passes/Transforms/Recognize*.cpp;
    every constant checked element by element):
    attention `softmax([mask](([scale ·] Q @ transpose(K)))) @ V` on rank-4
    f32 (mask: addf of a constant 0/-inf causal mask, or select with a
    constant triangular i1 and -inf; scale: mulf/divf by a constant; K, V
    taken from before a repeat_kv) -> `kestrel.attention`; rotate-half RoPE
    with constant cos/sin tables (extract_slice + concat) -> `kestrel.rope`;
    the dense-mask top-k expert loop over a `kestrel.top_k` ->
    `kestrel.route` + `kestrel.moe` (expert weights stacked); the causal
    depthwise conv1d (padded left by K-1, cropped, optional bias and SiLU)
    -> `kestrel.causal_conv1d`; the selective scan a PyTorch exporter
    unrolls into T copies of `h = dA[:, t] · h + dBx[:, t]`, `y_t = Σ_n h ·
    Cm[:, t]` (dA = exp(delta · A), dBx = delta · x · Bm, the y_t
    concatenated along time; every step checked at its time index) ->
    `kestrel.selective_scan` between transposes to channels-first.
  }];
  let options = [
    Option<"selectiveScan", "selective-scan", "bool", /*default=*/"true",
           "Re-roll unrolled Mamba selective scans into "
           "kestrel.selective_scan (off for targets without a lowering of "
           "the op)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
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

def SpecializeSparsity : Pass<"kestrel-specialize-sparsity",
                              "::mlir::func::FuncOp"> {
  let summary = "Classify attention tiles as skipped, full or partial";
  let description = [{
    From the statically known mask of each `kestrel.attention` (causal with
    offset, sliding window, sinks, and the block-sparse `block_map`, all
    composed) and its `kestrel.tile`, classifies every (query tile, key tile)
    pair exactly (element by element, tiles need not align with blocks) and
    records the decision in the IR:

    `kestrel.tile_classes = #kestrel.tile_classes<["p..", "fp.", ...],
    skipped = .., full = .., partial = ..>`: one string per query tile, one
    character per key tile, `.` = skipped (no visible key: never computed),
    `f` = full (every key visible: no mask arithmetic), `p` = partial
    (masked element-wise), followed by the count of each class.

    Ops without `kestrel.tile` are tiled with `block-q` × `block-k`.
    Runtime `key_lengths` are not static and can only hide keys: the classes
    ignore them and kestrel-fuse-io-aware re-checks "full" at run time.

    For every `kestrel.moe` with static shapes, specializes on the routing's
    `k` (token choice, `indices [N, k]`) or capacity `c` (expert choice,
    `[E, c]`) and the number of experts `E`: records
    `kestrel.moe_bounds = #kestrel.moe_bounds<pairs = .., per_expert = ..>`,
    the most routed
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

def Tile : Pass<"kestrel-tile", "::mlir::func::FuncOp"> {
  let summary = "Choose the tile sizes of attention for the target's cache";
  let description = [{
    Records on every `kestrel.attention` the query × key tile
    `kestrel.tile = #kestrel.attention_tiles<query = Br, key = Bc>` that the
    fused lowering iterates over.
    Unless `block-q`/`block-k` override it, the tile is the largest square of
    128, 64, 32 or 16 whose working set (Q, K and V tiles, the Br×Bc score
    tile and the Br×Dv accumulator, in f32) fits in `cache-kib`, clamped to
    the query and key lengths. With a `block_map`, a chosen size is further
    capped at the block size `bq` (resp. `bk`) when that is at least 16, so
    that tiles fall inside blocks and are skipped or unmasked as a whole.
    An existing `kestrel.tile` is kept.

    Every `kestrel.gated_recurrence` gets its chunk length
    `kestrel.chunk = #kestrel.chunk<C>` (`chunk-size`, clamped to the sequence length;
    an existing `kestrel.chunk` is kept), which kestrel-fuse-io-aware turns
    into the chunked form on the CPU and kestrel-gpu-recurrence into its
    chunked tensor-core kernel on CUDA. With `recurrences-only` (the CUDA
    pipeline) that is all the pass decides.

    Every `kestrel.moe` with static expert weights gets the register tile
    of its expert products,
    `kestrel.tile = #kestrel.moe_register_tile<rows = MR, cols = NR>` (read by
    kestrel-moe-dispatch): `MR = moe-rows` token rows and, unless
    `moe-cols` sets it, `NR` = the widest of 16, 8, 4 weight columns whose
    packed panels fit `cache-kib` (the W1 and W3 panels, `2·d·NR` f32, and
    the W2 panel, `ff·NR` f32; every row tile of an expert reuses them). An
    existing `kestrel.tile` is kept.

    Every `kestrel.denoise_step` with static shapes gets its vocabulary
    block `kestrel.tile = #kestrel.vocab_block<W>`: the entries each step of the
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
    Option<"recurrencesOnly", "recurrences-only", "bool", /*default=*/"false",
           "Decide only the chunk of gated recurrences (the CUDA pipeline: "
           "its other kernel generators pick their own tiles)">,
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

def ReadOnlyArguments : Pass<"kestrel-read-only-arguments",
                              "::mlir::func::FuncOp"> {
  let summary = "Mark public functions' tensor arguments not writable and "
                "make repeated results distinct";
  let description = [{
    Sets `bufferization.writable = false` on every tensor argument of a
    public function (unless it already says), so that one-shot-bufferize
    never updates a caller's input in place: an op that would write into an
    argument's buffer gets a copy instead. A tensor returned more than once
    is copied (`linalg.copy` into a `tensor.empty`) at every repeat, so
    that each result is its own caller buffer after
    buffer-results-to-out-params.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def GeneralizeDataMovement : Pass<"kestrel-generalize-data-movement",
                                   "::mlir::func::FuncOp"> {
  let summary = "Rewrite static extract_slice and concat as linalg.generic";
  let description = [{
    In the function body (not inside loops), a static `tensor.extract_slice`
    without rank reduction becomes a `linalg.generic` reading
    `source[offset + stride · i]` with `tensor.extract`, and a static
    `tensor.concat` a `linalg.generic` that reads each element from the
    input whose range holds it (`tensor.extract` at a clamped index, then
    `arith.select`). The CUDA pipeline runs it before bufferization: the
    views these ops bufferize to cannot live in host code the CUDA runtime
    replays (only allocations, copies and kernel launches).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
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

def FuseElementwise : Pass<"kestrel-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg chains; fold transposes into maps";
  let description = [{
    The ONNX importer emits one linalg op per node, so `silu(a) * b + r`
    is three passes over memory. This pass generalizes named data-movement
    and elementwise ops (transpose, broadcast, map, elementwise, copy) and
    fuses each all-parallel `linalg.generic` producer into its
    `linalg.generic` consumer (an elementwise op or a reduction such as the
    sum of squares of a norm), composing their indexing maps: a transpose or
    broadcast that feeds such an op becomes a map of its consumer. A
    producer is fused when it only moves data (recomputing a copy costs no
    arithmetic), or when it has no other use and its consumer iterates
    over no more points than it does (RoPE stays out of a score reduction
    that would recompute it per score and channel). Contractions are never fused
    (the GEMM codegens own them and their epilogues), nor ops inside loops
    or marked `kestrel.*` (the fused kernels' tile ops), nor producers
    read through `tensor.extract` (kestrel ops' reference bodies). Target independent: the CPU pipeline and the CUDA
    pipeline (before kestrel-gpu-row-kernels) both run it.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // KESTREL_PASSES_TRANSFORMS_PASSES_TD
