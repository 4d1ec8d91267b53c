//===- ChunkedRecurrence.h - Chunked tensor-core recurrence ----*- C++ -*-===//
//
// The chunked prefill kernels of kestrel-gpu-recurrence for gated_recurrence
// with gate kinds none, scalar, vector (GLA), delta and gated_delta
// (ChunkedRecurrence.cpp describes them).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_CHUNKEDRECURRENCE_H
#define KESTREL_PASSES_CUDA_CHUNKEDRECURRENCE_H

#include "dialects/Kestrel.h"

#include <string>

namespace kestrel::cuda {

/// How the chunked kernel divides one op: C tokens per chunk (the op's
/// kestrel.chunk), one warp per 16 of them; one block per (b, h, Dv tile).
struct ChunkPlan {
  int64_t B, H, Hkv, T, Dk, Dv;
  int64_t C;         // chunk length (16 · warps)
  int64_t warps;     // C / 16
  int64_t dvTile;    // state columns per block
  int64_t mTiles;    // m16 tiles of key rows per warp in the state update
  int64_t smemBytes; // dynamic shared memory per block
  bool twoKernels;   // P = (Q Kᵀ ⊙ mask) of every chunk by a kernel of its
                     // own (parallel over chunks), read by the chunk walk
  bool delta;        // gate delta / gated_delta: the WY kernel (parallel
                     // over chunks) writes W and U, the walk forms
                     // V' = U − W S per chunk
  int64_t wyBytes;   // dynamic shared memory of the WY kernel (delta)
  bool vector;       // gate vector (GLA): the chunk_gla kernel (parallel over
                     // chunks) writes P, Q ⊙ e^b, K ⊙ e^{b_last − b} and
                     // e^{b_last} of every chunk; the walk reads them
                     // (always two kernels)
  int64_t glaBytes;  // dynamic shared memory of the chunk_gla kernel
  bool states;       // the states form (long walks over few heads, or
                     // forced): the walk ("chunk_states") only carries the
                     // state, storing the state entering every chunk (and,
                     // delta rules, V' over U); a kernel parallel over
                     // chunks ("chunk_output") forms the outputs from them
  int64_t outTile;   // states form: value columns per chunk_output block
  int64_t outBytes;  // states form: chunk_output's dynamic shared memory
  int64_t stages = 2;      // chunk buffers in shared memory (1: chunk_output)
  bool valueFromU = false; // chunk_output of a delta rule: V' from U's buffer
};

/// Why the chunked kernel does not cover `op` (an empty string when it
/// does): storage types, head dims, a missing or
/// unsupported kestrel.chunk (delta rules: 32 or 64), shared memory, or a
/// sequence of at most `minSeq` steps (decode stays on the recurrent
/// kernel).
std::string chunkedReason(GatedRecurrenceOp op, int64_t minSeq);

/// The plan for `op` (chunkedReason(op) must be empty); `dvTile` 0 picks
/// the widest of 64, 32, 16 columns that still launches one block per SM.
/// `forced` (the op's kestrel.recurrence_kernel, or empty) picks the form:
/// "chunked_mma_scores" two kernels, "chunk_states" the states form (not
/// for the vector gate, whose walk always reads chunk_gla's scores),
/// "chunked_mma" fused. Without one, the states form where it measured
/// faster (an f32 state, a long walk over few heads), otherwise fused.
ChunkPlan planChunked(GatedRecurrenceOp op, int64_t dvTile,
                      llvm::StringRef forced);

/// Replaces `op` by the chunked kernel's gpu.launch (which records
/// kestrel.recurrence_kernel = "chunked_mma", kestrel.chunk and
/// kestrel.value_tile), or with two kernels by the scores launch
/// ("chunk_scores") and the chunk walk ("chunked_mma_scores"), in the
/// states form by "chunk_states" and "chunk_output". Delta rules
/// get the WY kernel ("chunk_wy") before these; the vector gate gets the
/// chunk_gla kernel ("chunk_gla"), then the walk reading its results
/// ("chunked_mma_scores").
void rewriteChunked(GatedRecurrenceOp op, const ChunkPlan &plan);

} // namespace kestrel::cuda

#endif // KESTREL_PASSES_CUDA_CHUNKEDRECURRENCE_H
