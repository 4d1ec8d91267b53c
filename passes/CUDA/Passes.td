//===- CUDA/Passes.td --------------------------------------*- tablegen -*-===//
//
// CUDA code generation: kernel generators for NVIDIA tensor cores and the
// GPU plumbing between linalg and gpu.launch_func.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_PASSES_TD
#define KESTREL_PASSES_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def GpuFlashAttention : Pass<"kestrel-gpu-flash-attention",
                              "::mlir::func::FuncOp"> {
  let summary = "FlashAttention kernels: tensor cores for f16/bf16, FFMA for f32";
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
    the KV head of each query head directly (no replication).

    f32 attention (head dim a multiple of 16 up to 256, Dv a multiple of 32
    up to 128, Dv may differ from D, optional `lse`) gets a SIMT kernel
    with exact f32 products (FFMA): 128 threads per block, 64 (or 32)
    query rows, each thread owning 4 (2) rows; K/V tiles of 64 keys (32
    when D or Dv exceeds 64) in padded dynamic shared memory by cp.async
    one tile ahead, the same tile walk and online softmax (in f32) as the
    tensor-core kernel, P through a shared tile into O += P V. No buffer of
    T x S scores exists at any precision.

    Under `precision=bf16|f16` an f32 attention the tensor-core kernel
    could take at that type (head dim 64, 128 or 256, Dv = D, no `lse`)
    runs on it: q, k and v are rounded to nearest even into that type (an
    elementwise kernel, or the producer's, kestrel-gpu-gemm's
    convertOperand), scores and the softmax stay in f32 inside the kernel,
    and the result is widened back to f32 -- the precision contract of
    kestrel-gpu-gemm's precision option.

    Each launch records its kernel, `kestrel.attention_kernel = "mma_sync"`
    or `"simt_f32"`, and its tiles, `kestrel.tile =
    #kestrel.attention_tiles<query = Br, key = Bc>`. Other attention ops
    (runtime key lengths, dynamic shapes, other head dims) are left for the
    reference lowering.
  }];
  let options = [
    Option<"rowsPerWarp", "rows-per-warp", "int64_t", /*default=*/"0",
           "Query rows per warp: 16 (one m16 tile), 32 (two tiles sharing "
           "each K/V fragment) or 0: 32 unless that launches fewer than 132 "
           "blocks (an H100's SM count), then 16">,
    Option<"f32QueryTile", "f32-query-tile", "int64_t", /*default=*/"0",
           "Query rows per block of the f32 kernel: 32, 64 or 0: 64 unless "
           "that launches fewer than 264 blocks (two per H100 SM), then 32">,
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "Operand precision of f32 attention: f32 or tf32 (both the f32 "
           "FFMA kernel: no tf32 attention kernel), bf16 or f16 (q, k, v rounded to that type, the "
           "tensor-core kernel, the result widened back to f32)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
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

def GpuRecurrence : Pass<"kestrel-gpu-recurrence", "::mlir::func::FuncOp"> {
  let summary = "Kernels for gated_recurrence, selective_scan and causal_conv1d";
  let description = [{
    Replaces each static `kestrel.gated_recurrence` (every gate kind),
    `kestrel.selective_scan` and `kestrel.causal_conv1d` by a `gpu.launch`
    that loops over time inside the kernel (docs/ops.md §2):

    - gated_recurrence, gate kinds none and scalar, f16/bf16 q/k/v, more
      than 32 steps, with a `kestrel.chunk` of 32, 64 or 128 (kestrel-tile):
      the chunked form on tensor cores (ChunkedRecurrence.cpp). One block
      of C / 16 warps per (Dv tile, b H + h) walks the chunks in order: Q,
      K, V chunks by double-buffered cp.async, `(Q Kᵀ ⊙ decay mask) V`,
      `Q S` and the state update `S ← γ S + (K ⊙ w)ᵀ V` on mma.sync
      m16n8k16 with f32 accumulators; the state stays in f32 registers
      (its bf16/f16 copy in shared memory is the next chunk's operand). The
      Dv tile is the widest of 64, 32, 16 that still launches a block per
      SM (`kestrel.value_tile` on the op overrides it). The launch records
      `kestrel.recurrence_kernel = "chunked_mma"`, `kestrel.chunk` and
      `kestrel.value_tile`.
    - gated_recurrence otherwise (decode steps, vector and delta gates, f32
      storage, or `kestrel.recurrence_kernel = "recurrent"` on the op):
      the recurrent form, recorded as `"recurrent"`. Grid (Dv / (W cpw), B H), W
      warps of 32 lanes; a warp owns cpw value columns of one head's state,
      lane l the key rows l, l + 32, ...; the state tile stays in
      registers (f32) from the one read of `initial_state` to the one
      write of `final_state`. The delta rules' `k S` and the output `q S`
      are warp reductions. The next step's inputs are loaded while a step
      computes. cpw is 32 bytes of a state row (8 f32 columns), halved
      (down to 2) for sequences longer than 64 until about 2112 warps run.
    - selective_scan: one thread per (batch, channel) holding `h[N]`
      (N <= 64) in registers.
    - causal_conv1d: one kernel computing `y` and the new state.

    Ops with dynamic shapes are left to the reference lowering (kestrelc
    refuses the recurrence and the scan on cuda then).
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

def GpuDenoise : Pass<"kestrel-gpu-denoise", "::mlir::func::FuncOp"> {
  let summary = "denoise_step as a vocabulary-row kernel and a ranking kernel";
  let description = [{
    Replaces each `kestrel.denoise_step` with static shapes (docs/ops.md §4)
    by two `gpu.launch` ops. The stats kernel runs one block of 256 threads
    per position: a masked position's logits row is read once (16-byte
    vector loads when V allows), each thread keeping an online max, rescaled
    sum of exponentials and first argmax (and, with temperature sampling,
    the Gumbel-max noisy score and its index, hashed as the reference
    does), combined by a tree reduction in shared memory; thread 0 writes
    the prediction and the confidence. Unmasked positions read nothing.
    The select kernel runs one block per batch row: the eligible
    positions' confidences are staged in shared memory, every position is
    ranked against them and the top-n or threshold policy writes the new
    tokens. Launches record `kestrel.denoise_kernel = "stats" | "select"`
    and the stats load width `kestrel.vector`. Rows longer than 12288
    positions, V >= 2^31 and dynamic shapes keep the reference lowering.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect"];
}

def GpuGemm : Pass<"kestrel-gpu-gemm", "::mlir::func::FuncOp"> {
  let summary = "Tensor-core (bf16/f16) and FFMA (f32) GEMM kernels for static contractions";
  let description = [{
    Replaces each static linalg contraction -- linalg.matmul, batch_matmul or
    a linalg.generic computing `out + a * b` (linalg::inferContractionDims:
    batch, M, N dims and one K dim; transposed operands and operands
    broadcast over the batch included) -- by a `gpu.launch` of a GEMM
    kernel. The tile plan chosen for it is recorded on the launch as
    `kestrel.gemm_plan = #kestrel.gemm_plan<...>` (block tile, warp grid,
    pipeline stages, operand type). bf16/f16 operands: tensor-core kernel,
    128 x 256 x 32 with 8 warps of 64 x 64 and 4 stages for big shapes,
    smaller tiles when that launches too few blocks, 16 x 64 x 64 with 4
    warps for decode shapes (M <= 16); XOR-swizzled shared tiles filled by
    multi-stage cp.async, ldmatrix fragments double-buffered in registers,
    `mma.sync` m16n8k16 with f32 accumulation; under precision=tf32 f32
    operands take the same kernel with m16n8k8 tf32 mmas (operands rounded
    in registers, 4-byte shared loads for tiles contiguous along M/N) and
    half the K extent per stage. f32 operands with an f32
    result under precision=f32: FFMA kernel, 128 x 128 x 16 tiles of
    8 warps, 8 x 8 outputs per lane, 16-byte shared loads, double-buffered
    cp.async. Edges that are not tile multiples are zero-filled on load and
    skipped on store.

    `precision` says what f32 contractions run in: f32 keeps f32 numerics
    on the FFMA kernel; tf32 rounds operands to tf32 in registers (f32 in
    memory); bf16 or f16 convert both operands (constants at compile time);
    all three tensor-core precisions accumulate in f32. Contractions it cannot cover (dynamic
    shapes, odd extents or strides, several reduction dims) are left alone.

    On `chip=sm_90a` (or with `mma=wgmma`) bf16/f16 contractions of more
    than 64 rows take the Hopper kernel of GemmWgmmaKernel.cpp instead:
    warpgroups of 4 warps each own 64 rows of a 128 x 256 (or 128 x 128)
    tile and issue `wgmma.mma_async` m64nNk16 on 128-byte-swizzled shared
    tiles (tile_k = 64) read through matrix descriptors, filled by cp.async
    in a ring of 4-5 stages; the launch then carries
    `kestrel.gemm_mma = "wgmma"` beside its plan (warps_m = tile_m / 16,
    warps_n = 1: each warp owns 16 rows of its warpgroup's accumulators).
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_80\"",
           "Target chip (as kestrelc --target=cuda:CHIP): sm_90a lets "
           "mma=auto choose the wgmma kernel">,
    Option<"mma", "mma", "std::string", /*default=*/"\"auto\"",
           "Tensor-core instruction of bf16/f16 kernels: auto (wgmma on "
           "sm_90a where the wgmma kernel covers the contraction, else "
           "mma.sync), sync, or wgmma (where covered, on any chip: tests "
           "and tuning)">,
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "Operand precision of f32 contractions: f32 (the FFMA kernel), "
           "tf32, bf16 or f16 (tensor cores, f32 accumulation)">,
    ListOption<"tile", "tile", "int64_t",
               "Overrides the plan: tile_m,tile_n,tile_k,warps_m,warps_n,"
               "stages (for tuning and tests)">
  ];
  let dependentDialects = ["::kestrel::KestrelDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def GpuMoe : Pass<"kestrel-gpu-moe", "::mlir::func::FuncOp"> {
  let summary = "Sparse MoE: dispatch kernel, grouped expert GEMMs, ordered combine";
  let description = [{
    Replaces each token-choice `kestrel.moe` with static shapes by kernels
    that compute only the routed (token, expert) pairs (docs/pipelines.md,
    kestrel-gpu-moe): a dispatch kernel (per-expert counts, offsets, M-tile
    prefix sums, a counting-sort permutation of the pairs, each pair's slot
    in it, and a table from each GEMM's M tile to its expert, on the
    device); a grouped gate/up GEMM (one launch for every expert, blocks
    mapped to (expert, M tile, N tile) by one load from that table, A rows
    gathered through the permutation, ragged M, W1/W3 columns interleaved so
    the epilogue stores silu(gate) * up); a grouped down GEMM whose epilogue
    scales each row by its routing weight and stores it (f32, rows in expert
    order, no atomics); a combine kernel adding each token's k rows in the
    order of j onto the shared experts' output (their products are left as
    linalg contractions for kestrel-gpu-gemm) or 0, rounded to the result
    type -- deterministic for every k. Each grouped GEMM's tile plan is
    chosen for the rows per expert (P / E, bounded by the routing), unless
    `tile-up` / `tile-down` override it. bf16/f16 (or f32 under
    precision=bf16|f16) on tensor cores, f32 on the FFMA GEMM. Each launch
    records `kestrel.moe_stage`, the GEMMs their `kestrel.gemm_plan`. Expert
    choice and dynamic shapes are left to the reference lowering.

    On `chip=sm_90a` (or with `mma=wgmma`) a bf16/f16 grouped GEMM whose
    experts average more than 64 rows runs on the wgmma kernel of
    kestrel-gpu-gemm (same hooks: gathered A rows, ragged M through the
    expert-of-tile table, the silu * up and weighted-row epilogues); its
    launch then carries `kestrel.gemm_mma = "wgmma"`.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_80\"",
           "Target chip (as kestrelc --target=cuda:CHIP): sm_90a lets "
           "mma=auto choose the wgmma kernel">,
    Option<"mma", "mma", "std::string", /*default=*/"\"auto\"",
           "Tensor-core instruction of the grouped GEMMs: auto (wgmma on "
           "sm_90a where the wgmma kernel takes the plan, else mma.sync), "
           "sync, or wgmma (on any chip: tests and tuning)">,
    Option<"precision", "precision", "std::string", /*default=*/"\"f32\"",
           "Operand precision of f32 expert products: f32/tf32 (FFMA) or "
           "bf16/f16 (tensor cores)">,
    ListOption<"tileUp", "tile-up", "int64_t",
               "Overrides the gate/up GEMM's plan: tile_m,tile_n,tile_k,"
               "warps_m,warps_n,stages (for tuning and tests)">,
    ListOption<"tileDown", "tile-down", "int64_t",
               "Overrides the down GEMM's plan (as tile-up)">
  ];
  let dependentDialects = ["::kestrel::KestrelDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def GpuRoute : Pass<"kestrel-gpu-route", "::mlir::func::FuncOp"> {
  let summary = "kestrel.route as one warp-per-token kernel";
  let description = [{
    Replaces each token-choice `kestrel.route` with static shapes, at most
    256 experts, no group limit and no capacity by one `gpu.launch`: a warp
    per token (4 per block), lane l holding experts l, l + 32, ...; scores
    (softmax with warp-shuffle max and sum, or sigmoid) in f32, selection
    keys with the optional bias, k rounds of a warp argmax (equal keys to the
    lower expert) carrying the unbiased score, renormalization, lane 0
    storing the token's indices and weights. Other routings keep the
    reference lowering.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def GpuRowKernels : Pass<"kestrel-gpu-row-kernels", "::mlir::func::FuncOp"> {
  let summary = "Elementwise ops and row reductions as wide GPU kernels";
  let description = [{
    Replaces the statically shaped `linalg.generic` ops left in the function
    body after kestrel-gpu-gemm and kestrel-fuse-elementwise by `gpu.launch`
    kernels, each recorded as `kestrel.row_plan = #kestrel.row_plan<...>`:

    - a row reduction over the innermost dimension (sum, max, min, product
      combiners) whose row is at least `min-row` elements long, fused with
      the generics right after it (and the one right before it) that run
      over the same loop space and read its results, becomes one block per
      row (`kind = "rows"`): each thread owns `per_thread` chunks of `vector`
      elements of the row (16 bytes where the row length allows), keeps
      them in registers from one op to the next, and every reduction
      combines per-thread partials with `gpu.all_reduce` (warp shuffles);
      only results used outside the group are written to memory;
    - other all-parallel generics (`kind = "elementwise"`): `threads`
      threads per block, each thread owning `vector` consecutive elements
      of the innermost dimension (one 16-byte load or store where an
      operand's last dimension is that one);
    - other reductions over the innermost dimension (`kind = "serial"`):
      one thread per output element, `threads` per block.

    Bodies are cloned per element; `linalg.index` becomes the element's
    index and `tensor.extract` of a tensor from above a load from its
    buffer. A generic with one reduction dimension that is not innermost
    (ReduceSum over a middle axis) first gets its loops interchanged so
    that it is. Ops with dynamic shapes or several reduction dims are left
    to the naive kernels of convert-linalg-to-parallel-loops.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "Threads per block of elementwise and serial kernels">,
    Option<"minRow", "min-row", "int64_t", /*default=*/"128",
           "Shortest reduced row that gets a block of its own">,
  ];
  let dependentDialects = ["::kestrel::KestrelDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
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

def GpuScatter : Pass<"kestrel-gpu-scatter", "::mlir::func::FuncOp"> {
  let summary = "Run-time-index scatters as kernels (one thread per update)";
  let description = [{
    The ONNX importer lowers ScatterElements / ScatterND with run-time
    indices to a nest of `scf.for` over the updates, marked
    `kestrel.scatter = "<reduction>"` on the outermost loop. After
    bufferization that nest stores into the output buffer (already a copy
    of the data) on the host, which the CUDA runtime cannot replay. This
    pass replaces each marked, bufferized nest by one `gpu.launch` (marked
    `kestrel.scatter` too) with one thread per update element, 256 per
    block. Reduction "none" keeps its plain store: with duplicate
    indices any one of the writes wins (ONNX leaves that case unspecified;
    the CPU loop applies them in order, so the last wins there). Reductions
    add, max and min become `memref.atomic_rmw` (addf/addi,
    maximumf/maxs, minimumf/mins); "mul" has no atomic and is refused with
    an error at the scatter's location.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
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

#endif // KESTREL_PASSES_CUDA_PASSES_TD
