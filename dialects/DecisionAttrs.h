//===- DecisionAttrs.h - Names of the decisions passes record ---*- C++ -*-===//
//
// The discardable attribute names under which passes record their
// decisions (DecisionAttrs.td has the typed values). Read and write them
// through these names only; the dialect verifies each against its op.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DIALECTS_DECISIONATTRS_H
#define KESTREL_DIALECTS_DECISIONATTRS_H

#include "llvm/ADT/StringRef.h"

namespace kestrel::decision {
/// #kestrel.attention_tiles (attention, and the gpu.launch of a flash
/// attention kernel), #kestrel.moe_register_tile (moe,
/// and the scf.forall stages kestrel-moe-dispatch builds),
/// #kestrel.vocab_block (denoise_step, and its fused scf.forall).
inline constexpr llvm::StringLiteral kTile = "kestrel.tile";
/// #kestrel.chunk on a gated_recurrence.
inline constexpr llvm::StringLiteral kChunk = "kestrel.chunk";
/// #kestrel.tile_classes on a tiled attention.
inline constexpr llvm::StringLiteral kTileClasses = "kestrel.tile_classes";
/// #kestrel.moe_bounds on a moe.
inline constexpr llvm::StringLiteral kMoeBounds = "kestrel.moe_bounds";
/// #kestrel.moe_stage on the loops kestrel-moe-dispatch builds.
inline constexpr llvm::StringLiteral kMoeStage = "kestrel.moe_stage";
/// Unit markers: a linalg.generic tile product for
/// kestrel-vectorize-contractions; scf.for loops of the fused denoise step,
/// the MoE micro-kernel and the MoE weight panel packing.
inline constexpr llvm::StringLiteral kContraction = "kestrel.contraction";
/// Unit marker: a row op of a fused CPU kernel (the online softmax's row
/// max, exponentials and sums) that kestrel-vectorize-contractions runs one
/// row at a time, vectorized along the row.
inline constexpr llvm::StringLiteral kRowOp = "kestrel.row_op";
inline constexpr llvm::StringLiteral kDenoiseOnePass =
    "kestrel.denoise_one_pass";
inline constexpr llvm::StringLiteral kMicroKernel = "kestrel.micro_kernel";
inline constexpr llvm::StringLiteral kMoePack = "kestrel.moe_pack";
/// kestrel-select-kv-layout's reason (string) and the layout it replaced
/// (#kestrel.kv_layout) on decode_attention / kv_append.
inline constexpr llvm::StringLiteral kKVLayoutReason =
    "kestrel.kv_layout_reason";
inline constexpr llvm::StringLiteral kKVLayoutFrom = "kestrel.kv_layout_from";
/// Overrides of the CUDA decode kernel on a decode_attention: keys per
/// split (integer > 0) and register prefetch (bool).
inline constexpr llvm::StringLiteral kSplitKeys = "kestrel.split_keys";
inline constexpr llvm::StringLiteral kDecodePrefetch =
    "kestrel.decode_prefetch";
/// Which flash attention kernel a gpu.launch runs (kestrel-gpu-flash-
/// attention): "mma_sync" (tensor cores, f16/bf16) or "simt_f32" (FFMA).
inline constexpr llvm::StringLiteral kAttentionKernel =
    "kestrel.attention_kernel";
/// Which denoise_step kernel a gpu.launch runs (kestrel-gpu-denoise):
/// "stats" (one block per position over the vocabulary) or "select" (one
/// block per batch row: rank, policy, new tokens); the stats launch also
/// records its load width in elements, `kestrel.vector`.
inline constexpr llvm::StringLiteral kDenoiseKernel = "kestrel.denoise_kernel";
inline constexpr llvm::StringLiteral kVector = "kestrel.vector";
/// Which gated_recurrence kernel a gpu.launch runs (kestrel-gpu-recurrence):
/// "chunked_mma" (chunked form on tensor cores), its helpers "chunk_scores",
/// "chunk_wy" (delta rules' W, U) and "chunk_gla" (vector gate: P and the
/// decayed Q, K), the states form's walk "chunk_states" and its
/// "chunk_output", or "recurrent" (one step at a time);
/// on a gated_recurrence the same string forces that kernel.
inline constexpr llvm::StringLiteral kRecurrenceKernel =
    "kestrel.recurrence_kernel";
/// Why a gated_recurrence runs the recurrent kernel rather than the chunked
/// one (string), on that recurrent gpu.launch.
inline constexpr llvm::StringLiteral kRecurrenceReason =
    "kestrel.recurrence_reason";
/// State columns per block of the chunked recurrence kernel (integer > 0):
/// the choice on its gpu.launch, an override on a gated_recurrence.
inline constexpr llvm::StringLiteral kValueTile = "kestrel.value_tile";
/// The reduction ("none", "add", "mul", "max" or "min") of a run-time-index
/// ONNX scatter, on the outermost scf.for of the loop nest the importer
/// builds for it; kestrel-gpu-scatter turns that nest into a kernel on cuda
/// and records the same value on its gpu.launch.
inline constexpr llvm::StringLiteral kScatter = "kestrel.scatter";
} // namespace kestrel::decision

#endif // KESTREL_DIALECTS_DECISIONATTRS_H
