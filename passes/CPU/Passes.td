//===- CPU/Passes.td ---------------------------------------*- tablegen -*-===//
//
// CPU code generation: fused, tiled and vectorized forms of kestrel ops for
// the host (scf.forall on OpenMP, vector ops for the host ISA).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CPU_PASSES_TD
#define KESTREL_PASSES_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseIOAware : Pass<"kestrel-fuse-io-aware", "::mlir::func::FuncOp"> {
  let summary = "Attention as online softmax over tiles (FlashAttention)";
  let description = [{
    Rewrites every tiled `kestrel.attention` into the IO-aware form of
    docs/ops.md §1: an `scf.forall` over (batch, head, query tile) whose
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

    Every `kestrel.gated_recurrence` with `kestrel.chunk = #kestrel.chunk<C>` becomes the
    chunked form of docs/ops.md §2: an `scf.forall` over (batch, head)
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
    vocabulary (W = its `kestrel.tile = #kestrel.vocab_block<W>` from
    kestrel-tile, else 16; recorded on the forall the same way), combined across lanes
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
    (token, expert) pairs are computed (docs/ops.md §3), instead of every
    expert on every token as the reference lowering does:

    - the per-(token, expert) routing weight `P[n, e]` is built as in the
      reference; a sequential counting sort (`kestrel.moe_stage =
      #kestrel.moe_stage<dispatch>`) lists, per expert and in token order, the tokens with
      `P != 0` and their weights, in a packed row space where each expert's
      rows are padded to whole `mr`-row tiles. Weight-0 assignments (dropped
      by capacity) and out-of-range indices never enter a list;
    - `up`: an `scf.forall` over `NR`-column panels of `ff` runs, for
      every expert and row tile, two register-tiled micro-kernels
      (`x[tok] W1[e]`, `x[tok] W3[e]`: an `scf.for` over the reduction
      carrying `mr` accumulators `vector<NR x f32>`, marked
      `kestrel.micro_kernel`) and stores `silu(a) ⊙ g` (f32);
    - `shared_up`: the same over all tokens for the shared experts;
    - `down`: an `scf.forall` over `NR`-column panels of `d` (no two
      threads write one output element) starts from the shared experts'
      output (or 0) and scatter-adds `P · (h W2[e])` into the routed tokens'
      rows, skipping padding rows.

    The register tile `[mr, nr]` is the op's `kestrel.tile` when
    kestrel-tile recorded one, else the options. `NR` is the largest power
    of two at most `nr` dividing the panel's dimension; each forall carries
    `kestrel.tile = #kestrel.moe_register_tile<rows = mr, cols = NR>`. With `kestrel.moe_bounds`
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

    Generics marked `kestrel.row_op` (the online softmax's row max,
    exponentials and sums) with static shapes run one row per `scf.for`
    step, each row vectorized whole (`vector.reduction` for the reductions).
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

def VectorizeGenerics : Pass<"kestrel-vectorize-generics",
                             "::mlir::func::FuncOp"> {
  let summary = "Row-parallel, vectorized code for elementwise and row ops";
  let description = [{
    Every statically shaped linalg op in the function body that is not a
    contraction or a kestrel kernel's tile op, whose iterators are leading
    parallel dimensions followed only by reductions (elementwise chains,
    transposes, fills, and row reductions: softmax, RMSNorm, LayerNorm,
    mean, max), becomes an `scf.forall` over its rows (every leading
    parallel dimension but the innermost loop; OpenMP threads at run time)
    whose body is vectorized along the innermost dimension with
    `linalg::vectorize`. All-parallel ops whose innermost extent is a
    multiple of `vector-width` walk it in blocks of 4 or 1 vectors
    (`scf.for`); a row reduction is one `vector.multi_reduction` over the
    whole row, lowered to `vector.reduction`. The choice is recorded on the
    loop as `kestrel.generic_codegen`: `"rows-blocked"`, `"rows"` (whole
    row vectors) or `"rows-scalar"` (a row of more than `max-vector` lanes,
    a reduction over f16/bf16 rows, or a body the vectorizer rejects:
    threaded scalar loops). Ops with
    dynamic shapes, without a row dimension, or with a reduction before a
    parallel dimension are left to convert-linalg-to-loops.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes of one vector register (16: AVX-512)">,
    Option<"maxVector", "max-vector", "int64_t", /*default=*/"4096",
           "Longest row (lanes) vectorized as one vector">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect"];
}

def ChooseContraction : Pass<"kestrel-cpu-choose-contraction",
                              "::mlir::func::FuncOp"> {
  let summary = "Decide the register tile, blocking and packing of contractions";
  let description = [{
    Annotates every static-shape contraction (`linalg.matmul`,
    `batch_matmul`, transposed forms, and the `linalg.generic` contractions
    the ONNX importer and the reference lowerings emit: one reduction dim,
    body `out + cast(a) · cast(b)`, f32/f16/bf16) at function level with
    `kestrel.contraction_config = #kestrel.contraction<...>`: the path
    (`gemv` when M ≤ 16, else `gemm`), the micro-kernel tile `mr × nr`, the
    reduction block `kc`, the output block `mb × nb` of one parallel
    iteration, how B is packed (`compile_time` for constants, possibly seen
    through a transposing copy; `runtime`; or `none` for the GEMV path when
    rows of B are contiguous in n), and whether the single elementwise
    consumer of the result is fused into the store (`epilogue`).
    kestrel-cpu-contraction carries the decisions out. Options override the
    tile (0 = choose).
  }];
  let options = [
    Option<"mr", "mr", "int64_t", /*default=*/"0", "Rows of the register tile">,
    Option<"nr", "nr", "int64_t", /*default=*/"0",
           "Columns of the register tile (f32 lanes, multiple of 16)">,
    Option<"kc", "kc", "int64_t", /*default=*/"0", "Reduction block">,
    Option<"mb", "mb", "int64_t", /*default=*/"0", "Rows per parallel block">,
    Option<"nb", "nb", "int64_t", /*default=*/"0",
           "Columns per parallel block">,
    Option<"fuseEpilogue", "fuse-epilogue", "bool", /*default=*/"true",
           "Fuse a single elementwise consumer into the store">,
  ];
  let dependentDialects = ["::kestrel::KestrelDialect"];
}

def ContractionCodegen : Pass<"kestrel-cpu-contraction",
                               "::mlir::func::FuncOp"> {
  let summary = "Packed, register-tiled loop nests for annotated contractions";
  let description = [{
    Rewrites every contraction carrying `kestrel.contraction_config` (from
    kestrel-cpu-choose-contraction) into the loop nest of the mmt4d style:

    - B in `nr`-wide panels `[o.., ⌈N/nr⌉, K, nr]` (zero padded): a new
      constant when B is one (packed once, at compile time), else an
      `scf.forall` copy over the panels, or read in place (`pack_b = none`);
    - an `scf.forall` (OpenMP) over (outer dims, M blocks, N blocks); per
      block `scf.for` over K blocks, panels and `mr`-row tiles (then single
      rows for a ragged M);
    - the micro-kernel (`kestrel.micro_kernel`): an `scf.for` over the K
      block carrying `mr` accumulators `vector<nr x f32>`; per step one
      panel row (`vector<nr>`, widened to f32), `mr` broadcasts of A and
      `mr` `vector.fma`;
    - the store: f32 partial sums between K blocks; after the last block the
      fused consumer's body (bias, residual, SiLU, gating ...) applied to the
      accumulator vectors and stored in its element type. Columns past N
      are masked (`vector.transfer_write` out of bounds).
  }];
  let dependentDialects = ["::kestrel::KestrelDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def SelectiveScanCodegen : Pass<"kestrel-cpu-selective-scan",
                                 "::mlir::func::FuncOp"> {
  let summary = "Mamba selective scan with channels in SIMD lanes";
  let description = [{
    Rewrites every static `kestrel.selective_scan` into an `scf.forall` over
    (batch row, block of 16 channels), marked `kestrel.scan_lanes = 16`, whose
    body runs the whole sequence with the state of its 16 channels in N
    vector registers: per step one vector exp per state index, the sum over
    the state index across registers (no horizontal reduction), D and the z
    gate applied before the store. The [B, C, T] operands are read
    time-second ([B, T, C], where the 16 channels of a step are contiguous):
    the source of the transpose in front of them when there is one (the form
    kestrel-recognize leaves), else a new transposing copy; delta's bias and
    softplus are applied once per element in front of the loop. Transposes
    that bring y back to [B, T, C] read the loop's time-second result
    directly. Replaces the reference lowering (a serial loop over time, the
    state in memory) on the CPU.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CausalConvCodegen : Pass<"kestrel-cpu-causal-conv",
                              "::mlir::func::FuncOp"> {
  let summary = "Causal depthwise conv1d with channels in SIMD lanes";
  let description = [{
    Rewrites every static `kestrel.causal_conv1d` into an `scf.forall` over
    (batch row, block of 16 channels), marked `kestrel.conv_lanes = 16`,
    whose body runs the sequence with the K-1 previous inputs of its 16
    channels in loop-carried vector registers: per step one vector read of
    x, K fused multiply-adds, the activation, one vector store; the state
    operand initializes the window and `new_state` is the window at the end.
    x is read time-second (`[B, T, C]`): the source of the transpose in
    front of it (the form kestrel-recognize leaves), else a new transposing
    copy; transposes that bring y back to `[B, T, C]` read the loop's
    time-second result directly. Replaces the reference lowering (padded
    input gathered channels-first, a K-tap reduction per element) on the
    CPU.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SerializeSmallLoops : Pass<"kestrel-cpu-serialize-small-loops",
                                "::mlir::func::FuncOp"> {
  let summary = "Run scf.forall loops with little work as serial scf.for";
  let description = [{
    Every `scf.forall` becomes an OpenMP parallel region, whose fork and join
    cost microseconds with spinning threads and much more when the threads
    sleep or share the cores. This pass estimates what an outermost forall
    executes (static trip counts times body operations; a vector op counts
    one per 16 lanes, a linalg op its iteration space times its body) and
    rewrites those under `min-work` into nested `scf.for` loops (upstream
    `scf::forallToForLoop`). Loops with dynamic bounds stay parallel.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"65536",
           "Estimated operations below which a forall runs serially">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def StaticWorkspace : Pass<"kestrel-cpu-static-workspace", "::mlir::ModuleOp"> {
  let summary = "Function-level buffers as views of one persistent workspace";
  let description = [{
    After bufferization and deallocation every intermediate of a function is
    a `memref.alloc` freed at the end of the call. Large ones go through
    mmap/brk: each call pays page faults and zeroing of fresh pages (over
    15 % of a Llama block at T 512). This pass assigns every top-level
    static `memref.alloc` of a function body (one block, freed by a single
    `memref.dealloc` in that block, used only through view-like ops and
    never returned, yielded or passed to calls) an offset in one workspace,
    reusing bytes between buffers whose live ranges (alloc to last use, in
    block order) do not overlap (greedy, largest first, 64-byte aligned).
    The workspace is a private `memref.global` (uninitialized, .bss), taken
    per call with an atomic exchange of a flag global; a reentrant or
    concurrent call that finds it taken allocates its own workspace. The
    allocs become `memref.view`s, the deallocs go. Functions whose
    workspace would exceed `max-bytes` are left alone.
  }];
  let options = [
    Option<"maxBytes", "max-bytes", "int64_t", /*default=*/"1073741824",
           "Largest workspace per function, in bytes">,
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"1048577",
           "Smallest buffer placed in the workspace, in bytes">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // KESTREL_PASSES_CPU_PASSES_TD
