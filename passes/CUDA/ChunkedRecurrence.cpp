//===- ChunkedRecurrence.cpp - Chunked tensor-core recurrence kernel ------===//
//
// The prefill kernels of kestrel-gpu-recurrence for gated_recurrence with
// gate kinds none and scalar (linear attention, RetNet, Mamba2 SSD, simple
// GLA) and, below, delta and gated_delta (DeltaNet, Gated DeltaNet), with
// f16/bf16 q/k/v, f32 arithmetic and an f32 state. The chunked form
// of docs/ops.md §2 (the CPU's ChunkedRecurrence.cpp derives it), with the
// log-gates cumulated inside a chunk, b_i = Σ_{j ≤ i} g_j (b = 0 for none):
//
//   o_i   = scale · ( e^{b_i} q_i S  +  Σ_{j ≤ i} e^{b_i − b_j} (q_i·k_j) v_j )
//   S_new = e^{b_{C−1}} S  +  Σ_j e^{b_{C−1} − b_j} k_jᵀ v_j
//
// Every exponent is ≤ 0 for log-gates ≤ 0, so nothing overflows.
//
//   grid = (Dv / dvt, B · H), block = C / 16 warps ("fused chunk": one
//   block walks all chunks of its (b, h, Dv tile) in order).
//   Per chunk of C tokens: Q, K (C × Dk) and the block's V columns
//   (C × dvt) arrive in shared memory by cp.async, double-buffered (chunk
//   c + 1 loads while chunk c computes; rows past T are zero-filled);
//   warp 0 scans the chunk's log-gates (prefetched into registers one
//   chunk ahead) into shared memory. Warp w owns tokens [16 w, 16 w + 16):
//     P = (Q_w Kᵀ) ⊙ causal decay mask          mma.sync m16n8k16, f32
//     O = e^{b_i} (Q_w S) + P V                  S as bf16/f16 in shared
//   and, for the state, key rows [16 w M, 16 (w + 1) M) (M m16 tiles):
//     S ← e^{b_{C−1}} S + (K ⊙ w)ᵀ V            w_j = e^{b_{C−1} − b_j},
//                                               applied to the Kᵀ fragments
//   S stays in f32 accumulators for the whole sequence; after each chunk
//   its rounded copy in shared memory is the next chunk's mma operand.
//   initial_state is read once, final_state written once.
//
// Delta rules (gate delta / gated_delta, DeltaNet / Gated DeltaNet): the
// same walk over V' = U − W S instead of V, with W and U from a kernel of
// their own ("chunk_wy", parallel over chunks). Per chunk, with b the
// cumulated log-gates (0 for delta), the chunk's rank-one updates in the
// WY / UT form of docs/ops.md §2:
//
//   A  = strictly-lower( diag(β) (K Kᵀ ⊙ Γ) ),  Γ_ij = e^{b_i − b_j}
//   T  = (I + A)⁻¹                              unit lower triangular
//   W  = T diag(β ⊙ e^{b}) K,   U = T diag(β) V  (both rounded to q's type)
//   V' = U − W S                                  in the walk, per Dv tile
//   O  = scale · ( (Q ⊙ e^{b}) S + (Q Kᵀ ⊙ causal ⊙ Γ) V' )
//   S ← e^{b_last} S + (K ⊙ e^{b_last − b})ᵀ V'
//
// since u_i = β_i (v_i − k_i e^{g_i} S_{i−1}) unrolls to U + A U = diag(β) V
// − diag(β e^{b}) K S_prev. The WY kernel: K Kᵀ on mma.sync, A in shared
// memory (f32); T in f32 by 16 x 16 blocks (the diagonal blocks by forward
// substitution, a thread per column; the others by distance from the
// diagonal, T_ij = −T_ii Σ_k A_ik T_kj, on all threads; a column solve of
// all C rows per thread was 1.2x slower); the columns scaled by β e^{b}
// (for W) and β (for U) are split into two 16-bit halves (hi + lo) so that
// T's products on mma.sync keep ~16 bits of mantissa.
//
// Vector gate (GLA, per-key-dimension log-gates g_t ∈ R^{Dk}): with b the
// per-dimension cumulated log-gates of a chunk (b_i = Σ_{j ≤ i} g_j),
//
//   o_i   = scale · ( (q_i ⊙ e^{b_i}) S + Σ_{j ≤ i} P_ij v_j ),
//   P_ij  = Σ_d q_id k_jd e^{b_id − b_jd}
//   S_new = diag(e^{b_last}) S + (K ⊙ e^{b_last − b})ᵀ V
//
// Two kernels. "chunk_gla", parallel over chunks (grid (chunks, B · H)):
// b by a thread per key dimension (f32, shared), then Q ⊙ e^b and
// K ⊙ e^{b_last − b} (q's type) and e^{b_last} (f32) to scratch buffers,
// and P in the scores buffer's fragment layout. P through 16-row blocks:
// warp w (rows r..r+15, r = 16 w) takes q_i ⊙ e^{b_i − b_r} (exponent ≤ 0,
// written over Q) and k_j ⊙ e^{b_r − b_j} (scaled in the ldmatrix
// registers; keys past r + 15 zeroed): for j < r both exponents are ≤ 0
// (the product through the block boundary), on the diagonal block the key
// factor is ≥ 1 but spans at most 15 steps, so it overflows f32 only where
// 15 consecutive log-gates sum below −88 (a mean decay below e^{−5.9} per
// step; GLA's logsigmoid gates stay far above). bf16 q/k/v only: in f16
// the same factor passes 65504 at a 15-step sum of −11. The walk
// ("chunked_mma_scores") is the two-kernel walk of gate none over those
// buffers, the state's key rows scaled by e^{b_last} per chunk.
//
// Fragment layouts follow the PTX ISA's mma.m16n8k16 description (as in
// FlashKernel.cpp): lane l = 4 g + q holds rows g, g + 8 and columns
// 2q, 2q + 1 (+ 8).
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/ChunkedRecurrence.h"

#include "dialects/DecisionAttrs.h"
#include "passes/CUDA/KVCacheAddressing.h"
#include "passes/CUDA/MmaEmit.h"

#include <array>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace kestrel;
using namespace kestrel::cuda;

namespace {

constexpr int64_t kPad = 8; // shared rows padded by 8 elements (banks)
constexpr double kLog2e = 1.4426950408889634;
constexpr int64_t kSms = 132; // H100 / H200

int64_t rowBytes(int64_t elems) { return (elems + kPad) * 2; }

/// Largest dynamic shared memory of one block (H100 / H200).
constexpr int64_t kMaxSmem = 227 * 1024;

/// Byte offsets of the shared tiles: two stages of (Q, K, [W,] V), the
/// state copy, the cumulated gates.
struct SharedLayout {
  int64_t q, k, w, v, stage, state, gates, total;
  explicit SharedLayout(const ChunkPlan &p) {
    q = 0;
    k = p.C * rowBytes(p.Dk);
    w = 2 * k;
    v = p.delta ? 3 * k : 2 * k;
    stage = v + p.C * rowBytes(p.dvTile);
    state = p.stages * stage;
    gates = state + p.Dk * rowBytes(p.dvTile);
    total = gates + p.C * 4;
  }
};

/// Byte offsets of the WY kernel's shared memory: K, V (all Dv columns),
/// the cumulated gates, β, A and T (f32, C x C), the blocked inverse's
/// scratch and four C x C 16-bit tiles: T diag(β e^b) and T diag(β), each
/// as hi and lo halves.
struct WyLayout {
  int64_t k, v, gates, beta, a, tf, m, t, tile, total;
  explicit WyLayout(const ChunkPlan &p) {
    k = 0;
    v = p.C * rowBytes(p.Dk);
    gates = v + p.C * rowBytes(p.Dv);
    beta = gates + p.C * 4;
    a = beta + p.C * 4;
    tf = a + p.C * p.C * 4;        // T in f32
    m = tf + p.C * p.C * 4;        // the blocked inverse's partial products
    t = m + (p.C / 16 - 1) * 1024; // (at most C / 16 − 1 blocks of 16 x 16)
    tile = p.C * rowBytes(p.C);
    total = t + 4 * tile;
  }
};

/// Byte offsets of the chunk_gla kernel's shared memory: Q and K (16-bit,
/// padded rows), the cumulated gates b (f32, C x (Dk + 8)).
struct GlaLayout {
  int64_t q, k, b, total;
  explicit GlaLayout(const ChunkPlan &p) {
    q = 0;
    k = p.C * rowBytes(p.Dk);
    b = 2 * k;
    total = b + p.C * (p.Dk + kPad) * 4;
  }
};

class ChunkedKernel : IREmitter {
public:
  ChunkedKernel(OpBuilder &b, Location loc, GatedRecurrenceOp op,
                const ChunkPlan &p)
      : IREmitter(b, loc), op(op), p(p), L(p),
        gated(op.getGate() == GateKind::Scalar ||
              op.getGate() == GateKind::GatedDelta),
        elem(cast<ShapedType>(op.getQuery().getType()).getElementType()),
        gatesOff(L.gates) {}

  Value q, k, v, logGate, beta, init, out, fin, shared; // buffers
  /// Delta rules: W [B·H·T, Dk] and U [B·H·T, Dv] in q's type, written by
  /// buildWy, read by the walk.
  Value wBuf, uBuf;
  /// Vector gate: Q ⊙ e^b, K ⊙ e^{b_last − b} [B·H·T·Dk] in q's type and
  /// e^{b_last} [B·H·chunks·Dk] f32, written by buildGla, read by the walk.
  Value qgBuf, kgBuf, decBuf;
  /// With two kernels: P's fragments of every chunk (i32 words), written by
  /// buildScores, read by build; null for the fused kernel.
  Value scores;
  /// States form: the state entering every chunk, rounded to q's type
  /// [B·H·chunks·Dk·Dv], written by the walk, read by buildOutput.
  Value states;
  void build(gpu::LaunchOp launch);
  /// The scores kernel: grid (chunks, B · H), P of one chunk per block.
  void buildScores(gpu::LaunchOp launch);
  /// The WY kernel (delta rules): grid (chunks, B · H), W and U of one
  /// chunk per block.
  void buildWy(gpu::LaunchOp launch);
  /// The chunk_gla kernel (vector gate): grid (chunks, B · H).
  void buildGla(gpu::LaunchOp launch);
  /// The states form's chunk_output kernel: grid (chunks · Dv / dvt,
  /// B · H), the outputs of one chunk's value tile per block from the
  /// state entering it.
  void buildOutput(gpu::LaunchOp launch);

private:
  // Shared memory as raw addresses (integers, then pointers of space 3).
  Value sharedPtr(Value byteOffset) {
    Value bytes = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                             add(smemBase, byteOffset));
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3), bytes);
  }
  Value tileAddr(Value base, int64_t rowElems, Value row, Value col) {
    return sharedPtr(add(base, add(mul(row, rowBytes(rowElems)), mul(col, 2))));
  }
  /// Element `element` (16-bit) of the global buffer at address `base`.
  Value globalPtr(Value base, Value element) {
    Value bytes = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                             add(base, mul(element, 2)));
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext(), 1), bytes);
  }
  Value asOperand(Value pair) {
    if (elem.isF16())
      return pair;
    Value word = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), pair);
    return vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
  }
  Value narrowPair(Value lo, Value hi) {
    Value wide = vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, b.getF32Type()), ValueRange{lo, hi});
    return asOperand(
        arith::TruncFOp::create(b, loc, VectorType::get({2}, elem), wide));
  }
  /// An operand register times (w0, w1), elementwise in f32.
  Value scalePair(Value reg, Value w0, Value w1) {
    auto pairT = VectorType::get({2}, elem);
    Value pair =
        elem.isF16()
            ? reg
            : vector::BitCastOp::create(
                  b, loc, pairT,
                  vector::BroadcastOp::create(
                      b, loc, VectorType::get({1}, b.getI32Type()), reg));
    Value wide = arith::ExtFOp::create(
        b, loc, VectorType::get({2}, b.getF32Type()), pair);
    Value lo = fmul(vector::ExtractOp::create(b, loc, wide, 0), w0);
    Value hi = fmul(vector::ExtractOp::create(b, loc, wide, 1), w1);
    return narrowPair(lo, hi);
  }
  /// x · y + z as one fma.rn.f32 (arith's mul and add stay separate).
  Value fma(Value x, Value y, Value z) {
    return LLVM::FMAOp::create(b, loc, x, y, z);
  }
  Value exp2(Value x) {
    return LLVM::CallIntrinsicOp::create(
               b, loc, b.getF32Type(),
               b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"), ValueRange{x})
        ->getResult(0);
  }
  Value gateAt(Value i) {
    return LLVM::LoadOp::create(b, loc, b.getF32Type(),
                                sharedPtr(add(idx(gatesOff), mul(i, 4))));
  }
  /// The A fragment (ldmatrix.x4) of the warp's 16 query rows from
  /// `warpRow` at k-step `kStep` (16 dimensions) of a [C, Dk] tile.
  SmallVector<Value> queryFragment(Value qBase, Value warpRow, int64_t kStep) {
    return ldm(tileAddr(qBase, p.Dk, add(warpRow, rem(lane, 16)),
                        add(mul(div(lane, 16), 8), kStep * 16)),
               false);
  }
  SmallVector<Value> ldm(Value addr, bool trans) {
    return emitLdMatrixX4(b, loc, addr, trans, elem);
  }
  void mma(ArrayRef<Value> a, ArrayRef<Value> bOps, MutableArrayRef<Value> c) {
    emitMmaM16N8K16(b, loc, elem, a, bOps, c);
  }
  void ifThen(Value cond, function_ref<void()> body) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }

  /// cp.async of `C` rows x `cols` elements from `src` (its row t at
  /// element rowBase + t · stride + col0) into the tile at `dst`; rows at
  /// or past T are zero-filled.
  void copyRows(Value src, Value rowBase, int64_t stride, Value col0,
                int64_t cols, Value t0, Value dst);
  void issueChunk(Value chunk, Value stage);
  /// The one-chunk kernels: commits the copies issued, scans chunk `c`'s
  /// log-gates (warp 0, gated), waits for the copies and synchronizes.
  void awaitChunk(Value c) {
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
    if (gated) {
      SmallVector<Value> g = loadGates(c);
      ifThen(cmp(arith::CmpIPredicate::eq, warp, idx(0)),
             [&] { scanGates(g); });
    }
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
    gpu::BarrierOp::create(b, loc);
  }
  /// States form: cp.async of the state entering chunk `chunk` (Dk rows x
  /// the block's dvt columns) into the shared state copy.
  void copyState(Value chunk);
  /// Log-gates of chunk `chunk` for lane l: entries l·E .. l·E + E − 1.
  SmallVector<Value> loadGates(Value chunk);
  /// Warp 0: inclusive scan of `g` (log2 units) into the shared gates.
  void scanGates(ValueRange g);
  /// (Q_w Kᵀ) ⊙ causal decay mask for the warp's 16 tokens as f32 C
  /// fragments (C / 8 key tiles x 4); `strict` masks the diagonal too.
  SmallVector<SmallVector<Value>> maskedScores(Value qBase, Value kBase,
                                               bool strict);
  /// P = (Q_w Kᵀ) ⊙ causal decay mask for the warp's 16 tokens, as the A
  /// fragments of P V (C / 16 k-steps x 4 operand registers).
  SmallVector<Value> scoreFragments(Value qBase, Value kBase);
  /// acc += A_w S: the warp's 16 rows of the tile at `aBase` (Dk columns)
  /// times the shared state copy (dvt / 8 column tiles of 4).
  void stateProduct(Value aBase, MutableArrayRef<SmallVector<Value>> acc);
  /// Delta rules: the stage's V tile (holding U) becomes V' = U − W S on
  /// the warp's 16 rows; with `t0` (the states form) V' also replaces U in
  /// U's buffer, for chunk_output.
  void deltaValues(Value stage, Value t0 = Value());
  /// The chunk's outputs O for the warp's 16 tokens, from P's fragments.
  void chunkOutput(Value t0, Value stage, ArrayRef<Value> pFrag);
  /// Where lane `lane` of warp `warp` keeps chunk `chunk`'s P fragments in
  /// the scores buffer (C / 4 consecutive i32).
  Value scoresAt(Value chunk) {
    Value bh = add(mul(batch, p.H), head);
    Value slot = add(
        mul(add(mul(add(mul(bh, nChunks()), chunk), p.warps), warp), 32), lane);
    return mul(slot, p.C / 4);
  }
  int64_t nChunks() const { return ceilDiv(p.T, p.C); }
  SmallVector<Value> loadScores(Value chunk);
  void setCoordinates(Value bh, Value tidX);
  /// S ← γ S + (K ⊙ w)ᵀ V on the warp's key rows; `decay` (vector gate)
  /// scales the lane's key rows (mTiles x 2) instead of γ.
  SmallVector<Value> updateState(Value stage, ValueRange S,
                                 ArrayRef<Value> decay = {});
  /// The P fragments (C / 16 k-steps x 4 operand registers) of f32 C
  /// fragments (C / 8 key tiles x 4).
  SmallVector<Value> toFragments(ArrayRef<SmallVector<Value>> s);
  /// Stores the warp's P fragments of chunk `chunk` to the scores buffer.
  void storeScores(ArrayRef<Value> frags, Value chunk);
  /// chunk_gla: b[row][col] in shared memory.
  Value glaGateAt(Value row, Value col) {
    return sharedPtr(
        add(idx(glaGates), mul(add(mul(row, p.Dk + kPad), col), 4)));
  }
  /// chunk_gla: P for the warp's 16 rows from Q̃ (in shared) and K scaled
  /// in registers by e^{b_r − b_j} (see the header).
  SmallVector<SmallVector<Value>> glaScores(Value qBase, Value kBase);
  /// S (f32) to the shared copy (`toShared`), to `mem` ([B, H, Dk, Dv]),
  /// or with `chunk` to the states buffer as the state entering it.
  void storeState(ValueRange S, Value mem, bool toShared,
                  Value chunk = Value());

  GatedRecurrenceOp op;
  const ChunkPlan &p;
  SharedLayout L;
  bool gated;
  Type elem;
  int64_t gatesOff; // the cumulated gates in this kernel's shared memory
  int64_t glaGates = 0; // chunk_gla: b (C x (Dk + 8) f32)
  Value smemBase, tid, warp, lane, group, quad, lane8, matrix;
  Value batch, head, kvHead, dv0;
  Value qG, kG, vG, wG, uG, qgG, kgG, statesG; // global base addresses
};

void ChunkedKernel::copyRows(Value src, Value rowBase, int64_t stride,
                             Value col0, int64_t cols, Value t0, Value dst) {
  int64_t vecsPerRow = cols / 8, threads = p.warps * 32;
  Type i32 = b.getI32Type();
  for (int64_t it = 0; it < p.C * vecsPerRow / threads; ++it) {
    Value linear = add(tid, it * threads);
    Value r = div(linear, vecsPerRow);
    Value col = mul(rem(linear, vecsPerRow), 8);
    Value t = add(t0, r);
    Value inside = lt(t, idx(p.T));
    Value row = minI(t, idx(p.T - 1));
    Value element = add(add(rowBase, mul(row, stride)), add(col0, col));
    Value from = globalPtr(src, element);
    Value size = select(inside, constInt(i32, 16), constInt(i32, 0));
    NVVM::CpAsyncOp::create(b, loc, tileAddr(dst, cols, r, col), from, 16,
                            NVVM::LoadCacheModifierKind::CG, size);
  }
}

void ChunkedKernel::issueChunk(Value chunk, Value stage) {
  Value t0 = mul(chunk, p.C);
  Value base = mul(stage, L.stage);
  Value qRows = mul(add(mul(batch, p.H), head), p.T * p.Dk);
  Value kvRows = add(mul(batch, p.Hkv), kvHead);
  if (p.vector) {
    // Q ⊙ e^b and K ⊙ e^{b_last − b} of the query head (chunk_gla).
    copyRows(qgG, qRows, p.Dk, idx(0), p.Dk, t0, add(base, L.q));
    copyRows(kgG, qRows, p.Dk, idx(0), p.Dk, t0, add(base, L.k));
    copyRows(vG, mul(kvRows, p.T * p.Dv), p.Dv, dv0, p.dvTile, t0,
             add(base, L.v));
    return;
  }
  // The states form's walk needs no queries.
  if (!p.states)
    copyRows(qG, qRows, p.Dk, idx(0), p.Dk, t0, add(base, L.q));
  copyRows(kG, mul(kvRows, p.T * p.Dk), p.Dk, idx(0), p.Dk, t0, add(base, L.k));
  if (p.valueFromU) {
    // chunk_output of a delta rule: V' of the query head (the walk's).
    copyRows(uG, mul(add(mul(batch, p.H), head), p.T * p.Dv), p.Dv, dv0,
             p.dvTile, t0, add(base, L.v));
    return;
  }
  if (!p.delta) {
    copyRows(vG, mul(kvRows, p.T * p.Dv), p.Dv, dv0, p.dvTile, t0,
             add(base, L.v));
    return;
  }
  // Delta rules: W and U of the query head instead of V.
  Value bh = add(mul(batch, p.H), head);
  copyRows(wG, mul(bh, p.T * p.Dk), p.Dk, idx(0), p.Dk, t0, add(base, L.w));
  copyRows(uG, mul(bh, p.T * p.Dv), p.Dv, dv0, p.dvTile, t0, add(base, L.v));
}

SmallVector<Value> ChunkedKernel::loadGates(Value chunk) {
  SmallVector<Value> g;
  int64_t E = p.C / 32;
  for (int64_t e = 0; e < E; ++e) {
    Value t = add(add(mul(chunk, p.C), mul(lane, E)), e);
    Value val = toF32(
        b, loc,
        memref::LoadOp::create(b, loc, logGate,
                               ValueRange{batch, head, minI(t, idx(p.T - 1))}));
    // Past T the gate is 0: b stays at the last step's value.
    g.push_back(
        select(lt(t, idx(p.T)), fmul(val, constF32(kLog2e)), constF32(0.0)));
  }
  return g;
}

void ChunkedKernel::scanGates(ValueRange g) {
  int64_t E = p.C / 32;
  SmallVector<Value> local;
  Value run = constF32(0.0);
  for (Value v : g)
    local.push_back(run = fadd(run, v));
  Value incl = run;
  for (int32_t off = 1; off < 32; off *= 2) {
    Value up =
        gpu::ShuffleOp::create(b, loc, incl, off, 32, gpu::ShuffleMode::UP)
            .getShuffleResult();
    incl = fadd(incl, select(le(idx(off), lane), up, constF32(0.0)));
  }
  Value before = fsub(incl, run);
  for (int64_t e = 0; e < E; ++e) {
    Value at = add(mul(lane, E), e);
    LLVM::StoreOp::create(b, loc, fadd(before, local[e]),
                          sharedPtr(add(idx(gatesOff), mul(at, 4))));
  }
}

SmallVector<SmallVector<Value>>
ChunkedKernel::maskedScores(Value qBase, Value kBase, bool strict) {
  const int64_t nKey = p.C / 8;
  Value warpRow = mul(warp, 16);
  // P = Q_w Kᵀ: k-steps in pairs, each K ldmatrix.x4 gives both.
  SmallVector<SmallVector<Value>> s(nKey, SmallVector<Value>(4, constF32(0)));
  for (int64_t kk = 0; kk < p.Dk / 16; kk += 2) {
    SmallVector<Value> a0 = queryFragment(qBase, warpRow, kk);
    SmallVector<Value> a1 = queryFragment(qBase, warpRow, kk + 1);
    for (int64_t n = 0; n < nKey; ++n) {
      SmallVector<Value> r = ldm(tileAddr(kBase, p.Dk, add(lane8, n * 8),
                                          add(mul(matrix, 8), kk * 16)),
                                 false);
      mma(a0, {r[0], r[1]}, s[n]);
      mma(a1, {r[2], r[3]}, s[n]);
    }
  }
  // Causal decay mask: row i = 16 w + g (+ 8), key j = 8 n + 2 q (+ 1).
  Value rowIdx[2] = {add(warpRow, group), add(add(warpRow, group), 8)};
  Value bRow[2];
  if (gated)
    for (int r = 0; r < 2; ++r)
      bRow[r] = gateAt(rowIdx[r]);
  Value zero = constF32(0.0);
  for (int64_t n = 0; n < nKey; ++n)
    for (int64_t c = 0; c < 2; ++c) {
      Value j = add(add(mul(quad, 2), n * 8), c);
      Value bCol = gated ? gateAt(j) : Value();
      for (int r = 0; r < 2; ++r) {
        Value &x = s[n][2 * r + c];
        if (gated)
          x = fmul(x, exp2(fsub(bRow[r], bCol)));
        x = select(strict ? lt(j, rowIdx[r]) : le(j, rowIdx[r]), x, zero);
      }
    }
  return s;
}

SmallVector<Value> ChunkedKernel::scoreFragments(Value qBase, Value kBase) {
  return toFragments(maskedScores(qBase, kBase, /*strict=*/false));
}

SmallVector<Value>
ChunkedKernel::toFragments(ArrayRef<SmallVector<Value>> s) {
  // The C fragments of n8 tiles 2t, 2t + 1 are the A fragment of k16 step t.
  SmallVector<Value> frags;
  for (int64_t t = 0; t < p.C / 16; ++t)
    frags.append({narrowPair(s[2 * t][0], s[2 * t][1]),
                  narrowPair(s[2 * t][2], s[2 * t][3]),
                  narrowPair(s[2 * t + 1][0], s[2 * t + 1][1]),
                  narrowPair(s[2 * t + 1][2], s[2 * t + 1][3])});
  return frags;
}

void ChunkedKernel::chunkOutput(Value t0, Value stage, ArrayRef<Value> pFrag) {
  Value base = mul(stage, L.stage);
  Value qBase = add(base, L.q), vBase = add(base, L.v);
  const int64_t nCol = p.dvTile / 8;
  Value warpRow = mul(warp, 16);
  Value rowIdx[2] = {add(warpRow, group), add(add(warpRow, group), 8)};
  Value zero = constF32(0.0);
  // O = e^{b_i} (Q_w S) + P V.
  SmallVector<SmallVector<Value>> acc(nCol, SmallVector<Value>(4, zero));
  stateProduct(qBase, acc);
  if (gated) {
    Value f[2] = {exp2(gateAt(rowIdx[0])), exp2(gateAt(rowIdx[1]))};
    for (auto &tile : acc)
      for (int64_t e = 0; e < 4; ++e)
        tile[e] = fmul(tile[e], f[e / 2]);
  }
  for (int64_t t = 0; t < p.C / 16; ++t) {
    ArrayRef<Value> a = pFrag.slice(t * 4, 4);
    Value row = add(add(lane8, mul(rem(matrix, 2), 8)), t * 16);
    for (int64_t dn = 0; dn < nCol; dn += 2) {
      SmallVector<Value> r = ldm(
          tileAddr(vBase, p.dvTile, row, add(mul(div(matrix, 2), 8), dn * 8)),
          true);
      mma(a, {r[0], r[1]}, acc[dn]);
      mma(a, {r[2], r[3]}, acc[dn + 1]);
    }
  }
  // Stores of scale · O, rows before T only.
  Value scale = constF32(op.getEffectiveScale());
  Type outElem = cast<ShapedType>(out.getType()).getElementType();
  auto pairT = VectorType::get({2}, outElem);
  for (int r = 0; r < 2; ++r) {
    Value t = add(t0, rowIdx[r]);
    ifThen(lt(t, idx(p.T)), [&] {
      for (int64_t dn = 0; dn < nCol; ++dn) {
        Value lo = fromF32(b, loc, fmul(acc[dn][2 * r], scale), outElem);
        Value hi = fromF32(b, loc, fmul(acc[dn][2 * r + 1], scale), outElem);
        Value pair =
            vector::FromElementsOp::create(b, loc, pairT, ValueRange{lo, hi});
        vector::StoreOp::create(
            b, loc, pair, out,
            ValueRange{batch, head, t, add(dv0, add(mul(quad, 2), dn * 8))},
            false, llvm::MaybeAlign(4));
      }
    });
  }
}

void ChunkedKernel::stateProduct(Value aBase,
                                 MutableArrayRef<SmallVector<Value>> acc) {
  const int64_t nCol = p.dvTile / 8;
  Value warpRow = mul(warp, 16);
  Value sBase = idx(L.state);
  for (int64_t kk = 0; kk < p.Dk / 16; ++kk) {
    SmallVector<Value> a =
        ldm(tileAddr(aBase, p.Dk, add(warpRow, rem(lane, 16)),
                     add(mul(div(lane, 16), 8), kk * 16)),
            false);
    Value row = add(add(lane8, mul(rem(matrix, 2), 8)), kk * 16);
    for (int64_t dn = 0; dn < nCol; dn += 2) {
      SmallVector<Value> r = ldm(
          tileAddr(sBase, p.dvTile, row, add(mul(div(matrix, 2), 8), dn * 8)),
          true);
      mma(a, {r[0], r[1]}, acc[dn]);
      mma(a, {r[2], r[3]}, acc[dn + 1]);
    }
  }
}

void ChunkedKernel::deltaValues(Value stage, Value t0) {
  Value base = mul(stage, L.stage);
  Value vBase = add(base, L.v);
  const int64_t nCol = p.dvTile / 8;
  SmallVector<SmallVector<Value>> ws(nCol,
                                     SmallVector<Value>(4, constF32(0.0)));
  stateProduct(add(base, L.w), ws);
  auto pairT = VectorType::get({2}, elem);
  auto wideT = VectorType::get({2}, b.getF32Type());
  Value warpRow = mul(warp, 16);
  for (int r = 0; r < 2; ++r) {
    Value row = add(add(warpRow, group), r * 8);
    for (int64_t dn = 0; dn < nCol; ++dn) {
      Value at = tileAddr(vBase, p.dvTile, row, add(mul(quad, 2), dn * 8));
      Value u = arith::ExtFOp::create(
          b, loc, wideT,
          LLVM::LoadOp::create(b, loc, pairT, at, 4).getResult());
      Value lo = fsub(vector::ExtractOp::create(b, loc, u, 0), ws[dn][2 * r]);
      Value hi =
          fsub(vector::ExtractOp::create(b, loc, u, 1), ws[dn][2 * r + 1]);
      Value pair = narrowPair(lo, hi);
      LLVM::StoreOp::create(b, loc, pair, at);
      if (!t0)
        continue;
      Value t = add(t0, row);
      ifThen(lt(t, idx(p.T)), [&] {
        Value bh = add(mul(batch, p.H), head);
        Value element = add(mul(add(mul(bh, p.T), t), p.Dv),
                            add(dv0, add(mul(quad, 2), dn * 8)));
        LLVM::StoreOp::create(b, loc, pair, globalPtr(uG, element), 4);
      });
    }
  }
}

SmallVector<Value> ChunkedKernel::updateState(Value stage, ValueRange state,
                                              ArrayRef<Value> decay) {
  Value base = mul(stage, L.stage);
  Value kBase = add(base, L.k), vBase = add(base, L.v);
  const int64_t nCol = p.dvTile / 8, M = p.mTiles;
  SmallVector<Value> S(state.begin(), state.end());
  // Vector gate: row d of S times e^{b_last, d} (K arrives scaled).
  if (!decay.empty())
    for (int64_t mt = 0; mt < M; ++mt)
      for (int64_t dn = 0; dn < nCol; ++dn)
        for (int64_t e = 0; e < 4; ++e) {
          Value &x = S[(mt * nCol + dn) * 4 + e];
          x = fmul(x, decay[mt * 2 + e / 2]);
        }
  // w for the Kᵀ columns this lane holds: tokens 16 ks + 2 q (+1, +8, +9).
  SmallVector<Value> w;
  if (gated) {
    Value last = gateAt(idx(p.C - 1));
    Value gamma = exp2(last);
    for (Value &x : S)
      x = fmul(x, gamma);
    for (int64_t ks = 0; ks < p.C / 16; ++ks)
      for (int64_t off : {0, 1, 8, 9})
        w.push_back(exp2(fsub(last, gateAt(add(mul(quad, 2), ks * 16 + off)))));
  }
  for (int64_t ks = 0; ks < p.C / 16; ++ks) {
    // A = Kᵀ (rows d, columns j): transposed ldmatrix of the K tile.
    SmallVector<SmallVector<Value>> a(M);
    for (int64_t mt = 0; mt < M; ++mt) {
      Value d0 = mul(add(mul(warp, M), mt), 16);
      a[mt] = ldm(tileAddr(kBase, p.Dk,
                           add(add(lane8, mul(div(matrix, 2), 8)), ks * 16),
                           add(d0, mul(rem(matrix, 2), 8))),
                  true);
      if (gated) {
        ArrayRef<Value> wk = ArrayRef<Value>(w).slice(ks * 4, 4);
        a[mt][0] = scalePair(a[mt][0], wk[0], wk[1]);
        a[mt][1] = scalePair(a[mt][1], wk[0], wk[1]);
        a[mt][2] = scalePair(a[mt][2], wk[2], wk[3]);
        a[mt][3] = scalePair(a[mt][3], wk[2], wk[3]);
      }
    }
    Value row = add(add(lane8, mul(rem(matrix, 2), 8)), ks * 16);
    for (int64_t dn = 0; dn < nCol; dn += 2) {
      SmallVector<Value> r = ldm(
          tileAddr(vBase, p.dvTile, row, add(mul(div(matrix, 2), 8), dn * 8)),
          true);
      for (int64_t mt = 0; mt < M; ++mt)
        for (int64_t h = 0; h < 2; ++h) {
          MutableArrayRef<Value> c(&S[(mt * nCol + dn + h) * 4], 4);
          mma(a[mt], {r[2 * h], r[2 * h + 1]}, c);
        }
    }
  }
  return S;
}

void ChunkedKernel::storeState(ValueRange S, Value mem, bool toShared,
                               Value chunk) {
  const int64_t nCol = p.dvTile / 8;
  Type memElem = toShared || chunk
                     ? elem
                     : cast<ShapedType>(mem.getType()).getElementType();
  Value rows; // the states buffer: row d of the state entering `chunk`
  if (chunk)
    rows = mul(add(mul(add(mul(batch, p.H), head), nChunks()), chunk), p.Dk);
  auto pairT = VectorType::get({2}, memElem);
  for (int64_t mt = 0; mt < p.mTiles; ++mt)
    for (int64_t dn = 0; dn < nCol; ++dn)
      for (int r = 0; r < 2; ++r) {
        Value d = add(add(mul(add(mul(warp, p.mTiles), mt), 16), group), r * 8);
        Value col = add(mul(quad, 2), dn * 8);
        Value lo = S[(mt * nCol + dn) * 4 + 2 * r];
        Value hi = S[(mt * nCol + dn) * 4 + 2 * r + 1];
        if (toShared) {
          LLVM::StoreOp::create(b, loc, narrowPair(lo, hi),
                                tileAddr(idx(L.state), p.dvTile, d, col));
          continue;
        }
        if (chunk) {
          Value element = add(mul(add(rows, d), p.Dv), add(dv0, col));
          LLVM::StoreOp::create(b, loc, narrowPair(lo, hi),
                                globalPtr(statesG, element), 4);
          continue;
        }
        Value pair = vector::FromElementsOp::create(
            b, loc, pairT,
            ValueRange{fromF32(b, loc, lo, memElem),
                       fromF32(b, loc, hi, memElem)});
        vector::StoreOp::create(b, loc, pair, mem,
                                ValueRange{batch, head, d, add(dv0, col)},
                                false, llvm::MaybeAlign(4));
      }
}

void ChunkedKernel::setCoordinates(Value bh, Value tidX) {
  tid = tidX;
  batch = div(bh, p.H);
  head = rem(bh, p.H);
  kvHead = div(head, p.H / p.Hkv);
  warp = div(tid, 32);
  lane = rem(tid, 32);
  group = div(lane, 4);
  quad = rem(lane, 4);
  lane8 = rem(lane, 8);
  matrix = div(lane, 8);
  smemBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
  qG = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, q);
  kG = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, k);
  vG = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, v);
  if (p.delta)
    wG = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, wBuf);
  if (p.delta || p.valueFromU)
    uG = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, uBuf);
  if (states)
    statesG = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, states);
  if (p.vector) {
    qgG = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, qgBuf);
    kgG = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, kgBuf);
  }
}

SmallVector<Value> ChunkedKernel::loadScores(Value chunk) {
  Value at = scoresAt(chunk);
  auto vecT = VectorType::get({4}, b.getI32Type());
  SmallVector<Value> frags;
  for (int64_t i = 0; i < p.C / 4; i += 4) {
    Value words =
        vector::LoadOp::create(b, loc, vecT, scores, ValueRange{add(at, i)},
                               false, llvm::MaybeAlign(16));
    for (int64_t j = 0; j < 4; ++j) {
      Value w = vector::ExtractOp::create(b, loc, words, j);
      if (elem.isF16())
        w = LLVM::BitcastOp::create(b, loc, VectorType::get({2}, elem), w);
      frags.push_back(w);
    }
  }
  return frags;
}

void ChunkedKernel::buildScores(gpu::LaunchOp launch) {
  gatesOff = L.gates;
  setCoordinates(launch.getBlockIds().y, launch.getThreadIds().x);
  dv0 = idx(0);
  Value c = launch.getBlockIds().x;
  Value t0 = mul(c, p.C);
  Value qRows = mul(add(mul(batch, p.H), head), p.T * p.Dk);
  Value kRows = mul(add(mul(batch, p.Hkv), kvHead), p.T * p.Dk);
  copyRows(qG, qRows, p.Dk, idx(0), p.Dk, t0, idx(L.q));
  copyRows(kG, kRows, p.Dk, idx(0), p.Dk, t0, idx(L.k));
  awaitChunk(c);
  storeScores(scoreFragments(idx(L.q), idx(L.k)), c);
}

void ChunkedKernel::storeScores(ArrayRef<Value> frags, Value c) {
  Value at = scoresAt(c);
  auto vecT = VectorType::get({4}, b.getI32Type());
  for (size_t i = 0; i < frags.size(); i += 4) {
    SmallVector<Value> words;
    for (size_t j = i; j < i + 4; ++j)
      words.push_back(elem.isF16() ? LLVM::BitcastOp::create(
                                         b, loc, b.getI32Type(), frags[j])
                                         .getResult()
                                   : frags[j]);
    vector::StoreOp::create(
        b, loc, vector::FromElementsOp::create(b, loc, vecT, words), scores,
        ValueRange{add(at, i)}, false, llvm::MaybeAlign(16));
  }
}

void ChunkedKernel::buildWy(gpu::LaunchOp launch) {
  WyLayout W(p);
  gatesOff = W.gates;
  setCoordinates(launch.getBlockIds().y, launch.getThreadIds().x);
  const int64_t C = p.C;
  Value c = launch.getBlockIds().x;
  Value t0 = mul(c, C);
  Value bh = add(mul(batch, p.H), head);
  Value kvRows = add(mul(batch, p.Hkv), kvHead);
  copyRows(kG, mul(kvRows, p.T * p.Dk), p.Dk, idx(0), p.Dk, t0, idx(W.k));
  copyRows(vG, mul(kvRows, p.T * p.Dv), p.Dv, idx(0), p.Dv, t0, idx(W.v));
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  if (gated) {
    SmallVector<Value> g = loadGates(c);
    ifThen(cmp(arith::CmpIPredicate::eq, warp, idx(0)), [&] { scanGates(g); });
  }
  // β of the chunk's tokens; 0 past T, so those rows of A, W and U vanish.
  auto betaAt = [&](Value i) {
    return LLVM::LoadOp::create(b, loc, b.getF32Type(),
                                sharedPtr(add(idx(W.beta), mul(i, 4))))
        .getResult();
  };
  ifThen(lt(tid, idx(C)), [&] {
    Value t = add(t0, tid);
    Value val = toF32(b, loc,
                      memref::LoadOp::create(
                          b, loc, beta,
                          ValueRange{batch, head, minI(t, idx(p.T - 1))}));
    LLVM::StoreOp::create(b, loc, select(lt(t, idx(p.T)), val, constF32(0.0)),
                          sharedPtr(add(idx(W.beta), mul(tid, 4))));
  });
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  gpu::BarrierOp::create(b, loc);

  // A = strictly-lower(diag(β) (K Kᵀ ⊙ Γ)) as f32 rows in shared memory.
  {
    SmallVector<SmallVector<Value>> s =
        maskedScores(idx(W.k), idx(W.k), /*strict=*/true);
    Value warpRow = mul(warp, 16);
    Value rowIdx[2] = {add(warpRow, group), add(add(warpRow, group), 8)};
    Value bRow[2] = {betaAt(rowIdx[0]), betaAt(rowIdx[1])};
    auto wideT = VectorType::get({2}, b.getF32Type());
    for (int64_t n = 0; n < C / 8; ++n)
      for (int r = 0; r < 2; ++r) {
        Value j = add(mul(quad, 2), n * 8);
        Value pair = vector::FromElementsOp::create(
            b, loc, wideT,
            ValueRange{fmul(s[n][2 * r], bRow[r]),
                       fmul(s[n][2 * r + 1], bRow[r])});
        LLVM::StoreOp::create(
            b, loc, pair,
            sharedPtr(add(idx(W.a), mul(add(mul(rowIdx[r], C), j), 4))), 8);
      }
  }
  gpu::BarrierOp::create(b, loc);

  // T = (I + A)⁻¹ in 16 x 16 blocks (nb = C / 16 per side), f32 in Tf:
  //   T_dd = (I + A_dd)⁻¹                     forward substitution, thread
  //                                           per column (16 rows)
  //   T_ij = −T_ii Σ_{k=j}^{i−1} A_ik T_kj     i > j, by distance i − j,
  //                                           all threads, M in scratch
  // Each entry also goes to the four 16-bit tiles the products read, times
  // its column's β e^{b} (tiles 0, 1: hi, lo) or β (tiles 2, 3); their
  // blocks above the diagonal are zero-filled.
  const int64_t nb = C / 16, threads = p.warps * 32;
  auto vec4 = VectorType::get({4}, b.getF32Type());
  auto aAt = [&](Value row, Value col) {
    return sharedPtr(add(idx(W.a), mul(add(mul(row, C), col), 4)));
  };
  auto tfAt = [&](Value row, Value col) {
    return sharedPtr(add(idx(W.tf), mul(add(mul(row, C), col), 4)));
  };
  auto loadF32 = [&](Value ptr) {
    return LLVM::LoadOp::create(b, loc, b.getF32Type(), ptr).getResult();
  };
  // Column col's factors: β e^{b} (W) and β (U).
  auto factors = [&](Value col) {
    Value bc = betaAt(col);
    return std::array<Value, 2>{gated ? fmul(bc, exp2(gateAt(col))) : bc, bc};
  };
  // T's entry (row, col) = val: into Tf and the four tiles.
  auto putT = [&](Value row, Value col, Value val, std::array<Value, 2> f) {
    LLVM::StoreOp::create(b, loc, val, tfAt(row, col));
    for (int m = 0; m < 2; ++m) {
      Value scaled = fmul(val, f[m]);
      Value hi = fromF32(b, loc, scaled, elem);
      Value lo = fromF32(b, loc, fsub(scaled, toF32(b, loc, hi)), elem);
      LLVM::StoreOp::create(
          b, loc, hi, tileAddr(idx(W.t + 2 * m * W.tile), C, row, col));
      LLVM::StoreOp::create(
          b, loc, lo, tileAddr(idx(W.t + (2 * m + 1) * W.tile), C, row, col));
    }
  };
  // Zeros above the diagonal blocks: pair q (i < j), row r, 8-column half
  // h, tile t as one 16-byte store each; 128 stores per pair.
  {
    SmallVector<std::pair<int64_t, int64_t>> upper;
    for (int64_t i = 0; i < nb; ++i)
      for (int64_t j = i + 1; j < nb; ++j)
        upper.push_back({i, j});
    Value zeros = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(VectorType::get({4}, b.getI32Type()),
                                       b.getI32IntegerAttr(0)));
    for (int64_t e0 = 0; e0 < int64_t(upper.size()) * 128; e0 += threads) {
      auto [bi, bj] = upper[e0 / 128];
      Value e = add(tid, e0 % 128);
      Value t = rem(e, 4), h = rem(div(e, 4), 2), r = rem(div(e, 8), 16);
      Value tileBase = add(idx(W.t), mul(t, W.tile));
      LLVM::StoreOp::create(
          b, loc, zeros,
          tileAddr(tileBase, C, add(r, bi * 16), add(mul(h, 8), bj * 16)),
          16);
    }
  }
  // Diagonal blocks: thread d·16 + c solves column c of block d.
  ifThen(lt(tid, idx(C)), [&] {
    Value d16 = mul(div(tid, 16), 16), c = rem(tid, 16);
    // x_r = δ_{r,c} − Σ_{s<r} A_rs x_s: two partial sums, x_{r−1}'s term
    // last (one FMA of latency from row r − 1 to row r).
    SmallVector<Value> x;
    for (int64_t r = 0; r < 16; ++r) {
      Value part[2] = {Value(), Value()};
      Value lastA;
      for (int64_t s0 = 0; s0 < r; s0 += 4) {
        Value row = LLVM::LoadOp::create(b, loc, vec4,
                                         aAt(add(d16, r), add(d16, s0)), 16);
        for (int64_t s = s0; s < std::min(r, s0 + 4); ++s) {
          Value a = vector::ExtractOp::create(b, loc, row, s - s0);
          if (s == r - 1) {
            lastA = a;
            continue;
          }
          Value &acc = part[s % 2];
          acc = acc ? fma(a, x[s], acc) : fmul(a, x[s]);
        }
      }
      Value acc = select(cmp(arith::CmpIPredicate::eq, c, idx(r)),
                         constF32(1.0), constF32(0.0));
      for (Value q : part)
        if (q)
          acc = fsub(acc, q);
      x.push_back(lastA ? fma(arith::NegFOp::create(b, loc, lastA), x[r - 1],
                              acc)
                        : acc);
    }
    std::array<Value, 2> f = factors(add(d16, c));
    for (int64_t r = 0; r < 16; ++r)
      putT(add(d16, r), add(d16, c), x[r], f);
  });
  gpu::BarrierOp::create(b, loc);
  // Off-diagonal blocks, nearest the diagonal first: output o of distance
  // dist is entry (r, c) of block j = o / 256 (i = j + dist).
  for (int64_t dist = 1; dist < nb; ++dist) {
    const int64_t outputs = (nb - dist) * 256;
    struct Out {
      Value i16, j16, r, c, m;
    };
    SmallVector<Out> outs;
    for (int64_t o0 = 0; o0 < outputs; o0 += threads) {
      Value o = add(tid, o0);
      Value j = div(o, 256);
      outs.push_back({mul(add(j, dist), 16), mul(j, 16), rem(div(o, 16), 16),
                      rem(o, 16),
                      sharedPtr(add(idx(W.m), mul(o, 4)))});
    }
    // M = Σ_{k=j}^{i−1} A_ik T_kj; every load before the first store, so
    // that outputs sharing a column of T share its loads.
    SmallVector<Value> sums;
    for (Out &u : outs) {
      Value acc[2] = {constF32(0.0), constF32(0.0)};
      for (int64_t kd = 0; kd < dist; ++kd)
        for (int64_t s0 = 0; s0 < 16; s0 += 4) {
          Value col0 = add(u.j16, kd * 16 + s0);
          Value row = LLVM::LoadOp::create(
              b, loc, vec4, aAt(add(u.i16, u.r), col0), 16);
          for (int64_t s = 0; s < 4; ++s) {
            Value t = loadF32(tfAt(add(col0, s), add(u.j16, u.c)));
            Value &a = acc[s % 2];
            a = fma(vector::ExtractOp::create(b, loc, row, s), t, a);
          }
        }
      sums.push_back(fadd(acc[0], acc[1]));
    }
    for (auto [u, sum] : llvm::zip(outs, sums))
      LLVM::StoreOp::create(b, loc, sum, u.m);
    gpu::BarrierOp::create(b, loc);
    // T_ij = −T_ii M (all loads first, as above).
    sums.clear();
    for (Out &u : outs) {
      Value acc[2] = {constF32(0.0), constF32(0.0)};
      for (int64_t s0 = 0; s0 < 16; s0 += 4) {
        Value row = LLVM::LoadOp::create(
            b, loc, vec4, tfAt(add(u.i16, u.r), add(u.i16, s0)), 16);
        for (int64_t s = 0; s < 4; ++s) {
          // M[s0 + s][c] of this block: o − 16 r + 16 (s0 + s).
          Value mAt = sharedPtr(add(
              idx(W.m),
              mul(add(add(mul(div(u.j16, 16), 256), mul(idx(s0 + s), 16)),
                      u.c),
                  4)));
          Value &a = acc[s % 2];
          a = fma(vector::ExtractOp::create(b, loc, row, s), loadF32(mAt), a);
        }
      }
      sums.push_back(arith::NegFOp::create(b, loc, fadd(acc[0], acc[1])));
    }
    for (auto [u, val] : llvm::zip(outs, sums))
      putT(add(u.i16, u.r), add(u.j16, u.c), val, factors(add(u.j16, u.c)));
    gpu::BarrierOp::create(b, loc);
  }

  // W = T1 K and U = T2 V for the warp's 16 rows, 64 columns at a time.
  Value warpRow = mul(warp, 16);
  Value rowIdx[2] = {add(warpRow, group), add(add(warpRow, group), 8)};
  auto product = [&](int64_t hiTile, int64_t bBase, int64_t cols, Value dst) {
    auto pairT = VectorType::get({2}, elem);
    for (int64_t c0 = 0; c0 < cols; c0 += 64) {
      const int64_t nCol = std::min<int64_t>(64, cols - c0) / 8;
      SmallVector<SmallVector<Value>> acc(
          nCol, SmallVector<Value>(4, constF32(0.0)));
      for (int64_t ks = 0; ks < C / 16; ++ks) {
        SmallVector<Value> a[2];
        for (int h = 0; h < 2; ++h)
          a[h] = ldm(tileAddr(idx(hiTile + h * W.tile), C,
                              add(warpRow, rem(lane, 16)),
                              add(mul(div(lane, 16), 8), ks * 16)),
                     false);
        Value row = add(add(lane8, mul(rem(matrix, 2), 8)), ks * 16);
        for (int64_t dn = 0; dn < nCol; dn += 2) {
          SmallVector<Value> r =
              ldm(tileAddr(idx(bBase), cols, row,
                           add(mul(div(matrix, 2), 8), c0 + dn * 8)),
                  true);
          for (int h = 0; h < 2; ++h) {
            mma(a[h], {r[0], r[1]}, acc[dn]);
            mma(a[h], {r[2], r[3]}, acc[dn + 1]);
          }
        }
      }
      for (int r = 0; r < 2; ++r) {
        Value t = add(t0, rowIdx[r]);
        ifThen(lt(t, idx(p.T)), [&] {
          Value rowAt = mul(add(mul(bh, p.T), t), cols);
          for (int64_t dn = 0; dn < nCol; ++dn) {
            Value pair = vector::FromElementsOp::create(
                b, loc, pairT,
                ValueRange{fromF32(b, loc, acc[dn][2 * r], elem),
                           fromF32(b, loc, acc[dn][2 * r + 1], elem)});
            vector::StoreOp::create(
                b, loc, pair, dst,
                ValueRange{add(rowAt, add(mul(quad, 2), c0 + dn * 8))}, false,
                llvm::MaybeAlign(4));
          }
        });
      }
    }
  };
  product(W.t, W.k, p.Dk, wBuf);
  product(W.t + 2 * W.tile, W.v, p.Dv, uBuf);
}

SmallVector<SmallVector<Value>> ChunkedKernel::glaScores(Value qBase,
                                                         Value kBase) {
  const int64_t nKey = p.C / 8;
  Value warpRow = mul(warp, 16);
  Value lastKey = add(warpRow, 15);
  auto pairT = VectorType::get({2}, b.getF32Type());
  Value zero = constF32(0.0);
  SmallVector<SmallVector<Value>> s(nKey, SmallVector<Value>(4, zero));
  for (int64_t kk = 0; kk < p.Dk / 16; kk += 2) {
    SmallVector<Value> a0 = queryFragment(qBase, warpRow, kk);
    SmallVector<Value> a1 = queryFragment(qBase, warpRow, kk + 1);
    // Register m of a K ldmatrix.x4 holds key 8 n + g, dimensions
    // 16 kk + 8 m + 2 q (+1); b_r at those dimensions.
    Value dim[4], ref[4];
    for (int64_t m = 0; m < 4; ++m) {
      dim[m] = add(mul(quad, 2), kk * 16 + 8 * m);
      ref[m] = LLVM::LoadOp::create(b, loc, pairT, glaGateAt(warpRow, dim[m]),
                                    8);
    }
    for (int64_t n = 0; n < nKey; ++n) {
      SmallVector<Value> r = ldm(tileAddr(kBase, p.Dk, add(lane8, n * 8),
                                          add(mul(matrix, 8), kk * 16)),
                                 false);
      Value j = add(group, n * 8);
      Value keep = le(j, lastKey);
      for (int64_t m = 0; m < 4; ++m) {
        Value bj =
            LLVM::LoadOp::create(b, loc, pairT, glaGateAt(j, dim[m]), 8);
        Value w[2];
        for (int64_t e = 0; e < 2; ++e)
          w[e] = select(keep,
                        exp2(fsub(vector::ExtractOp::create(b, loc, ref[m], e),
                                  vector::ExtractOp::create(b, loc, bj, e))),
                        zero);
        r[m] = scalePair(r[m], w[0], w[1]);
      }
      mma(a0, {r[0], r[1]}, s[n]);
      mma(a1, {r[2], r[3]}, s[n]);
    }
  }
  // Causal mask: row i = 16 w + g (+ 8), key j = 8 n + 2 q (+ 1).
  Value rowIdx[2] = {add(warpRow, group), add(add(warpRow, group), 8)};
  for (int64_t n = 0; n < nKey; ++n)
    for (int64_t c = 0; c < 2; ++c) {
      Value j = add(add(mul(quad, 2), n * 8), c);
      for (int r = 0; r < 2; ++r) {
        Value &x = s[n][2 * r + c];
        x = select(le(j, rowIdx[r]), x, zero);
      }
    }
  return s;
}

void ChunkedKernel::buildGla(gpu::LaunchOp launch) {
  GlaLayout G(p);
  glaGates = G.b;
  setCoordinates(launch.getBlockIds().y, launch.getThreadIds().x);
  dv0 = idx(0);
  const int64_t C = p.C, Dk = p.Dk, threads = p.warps * 32;
  Value c = launch.getBlockIds().x;
  Value t0 = mul(c, C);
  Value bh = add(mul(batch, p.H), head);
  Value kvRows = add(mul(batch, p.Hkv), kvHead);
  copyRows(qG, mul(bh, p.T * Dk), Dk, idx(0), Dk, t0, idx(G.q));
  copyRows(kG, mul(kvRows, p.T * Dk), Dk, idx(0), Dk, t0, idx(G.k));
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  // b = the cumulated log-gates in log2 units, a thread per key dimension
  // (coalesced rows of g); 0 past T, so b stays at step T − 1. e^{b_last}
  // of each dimension to the decay buffer.
  for (int64_t d0 = 0; d0 < Dk; d0 += threads) {
    Value d = add(tid, d0);
    auto scan = [&] {
      Value run = constF32(0.0);
      for (int64_t i = 0; i < C; ++i) {
        Value t = add(t0, i);
        Value g = toF32(b, loc,
                        memref::LoadOp::create(
                            b, loc, logGate,
                            ValueRange{batch, head, minI(t, idx(p.T - 1)), d}));
        run = fadd(run, select(lt(t, idx(p.T)), fmul(g, constF32(kLog2e)),
                               constF32(0.0)));
        LLVM::StoreOp::create(b, loc, run, glaGateAt(idx(i), d));
      }
      memref::StoreOp::create(
          b, loc, exp2(run), decBuf,
          ValueRange{add(mul(add(mul(bh, nChunks()), c), Dk), d)});
    };
    if (d0 + threads <= Dk)
      scan();
    else
      ifThen(lt(d, idx(Dk)), scan);
  }
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  gpu::BarrierOp::create(b, loc);

  // 8 elements per thread and step: Q ⊙ 2^b and K ⊙ 2^{b_last − b} to the
  // scratch buffers (rows before T), Q ⊙ 2^{b − b_r} (r the first row of
  // the 16-row block) over Q for the scores.
  auto f32x8 = VectorType::get({8}, b.getF32Type());
  auto elemx8 = VectorType::get({8}, elem);
  const int64_t vecsPerRow = Dk / 8;
  auto pack = [&](ArrayRef<Value> xs) -> Value {
    Value wide = vector::FromElementsOp::create(b, loc, f32x8, xs);
    return arith::TruncFOp::create(b, loc, elemx8, wide);
  };
  for (int64_t it = 0; it < C * vecsPerRow / threads; ++it) {
    Value linear = add(tid, it * threads);
    Value r = div(linear, vecsPerRow);
    Value col = mul(rem(linear, vecsPerRow), 8);
    Value r0 = mul(div(r, 16), 16);
    auto gates8 = [&](Value row) -> Value {
      return LLVM::LoadOp::create(b, loc, f32x8, glaGateAt(row, col), 16);
    };
    Value bRow = gates8(r), bLast = gates8(idx(C - 1)), bRef = gates8(r0);
    Value qAt = tileAddr(idx(G.q), Dk, r, col);
    Value qv = arith::ExtFOp::create(
        b, loc, f32x8,
        LLVM::LoadOp::create(b, loc, elemx8, qAt, 16).getResult());
    Value kv = arith::ExtFOp::create(
        b, loc, f32x8,
        LLVM::LoadOp::create(b, loc, elemx8, tileAddr(idx(G.k), Dk, r, col),
                             16)
            .getResult());
    SmallVector<Value> qg, kg, qt;
    for (int64_t e = 0; e < 8; ++e) {
      auto at = [&](Value v) {
        return vector::ExtractOp::create(b, loc, v, e).getResult();
      };
      Value be = at(bRow);
      qg.push_back(fmul(at(qv), exp2(be)));
      kg.push_back(fmul(at(kv), exp2(fsub(at(bLast), be))));
      qt.push_back(fmul(at(qv), exp2(fsub(be, at(bRef)))));
    }
    Value t = add(t0, r);
    ifThen(lt(t, idx(p.T)), [&] {
      Value at = add(mul(add(mul(bh, p.T), t), Dk), col);
      vector::StoreOp::create(b, loc, pack(qg), qgBuf, ValueRange{at}, false,
                              llvm::MaybeAlign(16));
      vector::StoreOp::create(b, loc, pack(kg), kgBuf, ValueRange{at}, false,
                              llvm::MaybeAlign(16));
    });
    LLVM::StoreOp::create(b, loc, pack(qt), qAt, 16);
  }
  gpu::BarrierOp::create(b, loc);
  storeScores(toFragments(glaScores(idx(G.q), idx(G.k))), c);
}

void ChunkedKernel::build(gpu::LaunchOp launch) {
  gatesOff = L.gates;
  setCoordinates(launch.getBlockIds().y, launch.getThreadIds().x);
  dv0 = mul(launch.getBlockIds().x, p.dvTile);

  // The state: f32 C fragments of (M key-row tiles) x (dvt / 8 columns).
  const int64_t nCol = p.dvTile / 8;
  SmallVector<Value> S;
  for (int64_t mt = 0; mt < p.mTiles; ++mt)
    for (int64_t dn = 0; dn < nCol; ++dn)
      for (int64_t e = 0; e < 4; ++e) {
        if (!init) {
          S.push_back(constF32(0.0));
          continue;
        }
        Value d =
            add(add(mul(add(mul(warp, p.mTiles), mt), 16), group), (e / 2) * 8);
        Value col = add(add(mul(quad, 2), dn * 8 + e % 2), dv0);
        S.push_back(toF32(b, loc,
                          memref::LoadOp::create(
                              b, loc, init, ValueRange{batch, head, d, col})));
      }
  storeState(S, Value(), /*toShared=*/true);
  const int64_t nChunks = this->nChunks();
  issueChunk(idx(0), idx(0));
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  // Carried: the state, then the next chunk's gates (gated) and P
  // fragments (two kernels), loaded one chunk ahead.
  SmallVector<Value> carried = S;
  const size_t nS = S.size();
  if (gated)
    carried.append(loadGates(idx(0)));
  const size_t nG = carried.size() - nS;
  if (scores)
    carried.append(loadScores(idx(0)));
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(nChunks), idx(1), carried);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value c = loop.getInductionVar();
    ValueRange args = loop.getRegionIterArgs();
    Value stage = rem(c, 2);
    Value next = add(c, 1);
    Value nextClamped = minI(next, idx(nChunks - 1));
    SmallVector<Value> ahead;
    if (gated) {
      ValueRange g = args.slice(nS, nG);
      ifThen(cmp(arith::CmpIPredicate::eq, warp, idx(0)),
             [&] { scanGates(g); });
      ahead.append(loadGates(nextClamped));
    }
    if (scores)
      ahead.append(loadScores(nextClamped));
    // Chunk c + 1 loads into the other stage while chunk c computes; the
    // group is committed (empty past the end) so that "all but the newest"
    // is always chunk c.
    ifThen(lt(next, idx(nChunks)), [&] { issueChunk(next, rem(next, 2)); });
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 1);
    gpu::BarrierOp::create(b, loc);
    Value base = mul(stage, L.stage);
    // Vector gate: e^{b_last} of the lane's state rows (chunk_gla).
    SmallVector<Value> decay;
    if (p.vector) {
      Value bh = add(mul(batch, p.H), head);
      Value at = mul(add(mul(bh, nChunks), c), p.Dk);
      for (int64_t mt = 0; mt < p.mTiles; ++mt)
        for (int r = 0; r < 2; ++r) {
          Value d = add(add(mul(add(mul(warp, p.mTiles), mt), 16), group),
                        r * 8);
          decay.push_back(
              memref::LoadOp::create(b, loc, decBuf, ValueRange{add(at, d)}));
        }
    }
    if (p.delta) {
      // V' = U − W S into the V tile, read by every warp below (and, in
      // the states form, into U's buffer for chunk_output).
      deltaValues(stage, p.states ? mul(c, p.C) : Value());
      gpu::BarrierOp::create(b, loc);
    }
    if (p.states) {
      // The state entering chunk c, for chunk_output.
      storeState(args.take_front(nS), Value(), /*toShared=*/false, c);
    } else {
      SmallVector<Value> pFrag =
          scores ? SmallVector<Value>(args.drop_front(nS + nG))
                 : scoreFragments(add(base, L.q), add(base, L.k));
      chunkOutput(mul(c, p.C), stage, pFrag);
    }
    SmallVector<Value> S2 = updateState(stage, args.take_front(nS), decay);
    // Every warp is done with the shared state copy, the gates and this
    // stage before the state copy is replaced (the states form without a
    // delta rule reads no shared copy).
    gpu::BarrierOp::create(b, loc);
    if (!p.states || p.delta)
      storeState(S2, Value(), /*toShared=*/true);
    S2.append(ahead);
    scf::YieldOp::create(b, loc, S2);
  }
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  storeState(ValueRange(loop.getResults()).take_front(nS), fin,
             /*toShared=*/false);
}

void ChunkedKernel::copyState(Value chunk) {
  const int64_t vecsPerRow = p.dvTile / 8, threads = p.warps * 32;
  const int64_t total = p.Dk * vecsPerRow;
  Value rows = mul(add(mul(add(mul(batch, p.H), head), nChunks()), chunk), p.Dk);
  for (int64_t it = 0; it < ceilDiv(total, threads); ++it) {
    Value linear = add(tid, it * threads);
    auto copy = [&] {
      Value r = div(linear, vecsPerRow);
      Value col = mul(rem(linear, vecsPerRow), 8);
      Value element = add(mul(add(rows, r), p.Dv), add(dv0, col));
      NVVM::CpAsyncOp::create(b, loc, tileAddr(idx(L.state), p.dvTile, r, col),
                              globalPtr(statesG, element), 16,
                              NVVM::LoadCacheModifierKind::CG, Value());
    };
    if ((it + 1) * threads > total)
      ifThen(lt(linear, idx(total)), copy);
    else
      copy();
  }
}

void ChunkedKernel::buildOutput(gpu::LaunchOp launch) {
  gatesOff = L.gates;
  setCoordinates(launch.getBlockIds().y, launch.getThreadIds().x);
  const int64_t tiles = p.Dv / p.dvTile;
  Value c = div(launch.getBlockIds().x, tiles);
  dv0 = mul(rem(launch.getBlockIds().x, tiles), p.dvTile);
  issueChunk(c, idx(0));
  copyState(c);
  awaitChunk(c);
  chunkOutput(mul(c, p.C), idx(0),
              scoreFragments(idx(L.q), idx(L.k)));
}

} // namespace

std::string kestrel::cuda::chunkedReason(GatedRecurrenceOp op, int64_t minSeq) {
  GateKind kind = op.getGate();
  bool vector = kind == GateKind::Vector;
  bool delta = kind == GateKind::Delta || kind == GateKind::GatedDelta;
  Type elem = op.getQuery().getType().getElementType();
  if (!elem.isF16() && !elem.isBF16())
    return "q is not f16 or bf16";
  if (vector && elem.isF16())
    return "f16 q/k/v with a vector gate (the diagonal blocks' key factors "
           "e^{b_r - b_j} span up to 15 steps and can pass f16's range)";
  if (op.getKey().getType().getElementType() != elem ||
      op.getValue().getType().getElementType() != elem)
    return "q, k, v differ in element type";
  if (!op.getQuery().getType().hasStaticShape() ||
      !op.getKey().getType().hasStaticShape() ||
      !op.getValue().getType().hasStaticShape())
    return "dynamic shape (the chunked kernel's grid and tiles are static)";
  if (op.getSeqLen() <= minSeq)
    return "sequence of at most " + std::to_string(minSeq) +
           " steps (decode / short prompt)";
  auto chunk = op->getAttrOfType<ChunkAttr>(decision::kChunk);
  if (!chunk)
    return "no kestrel.chunk decision (kestrel-tile did not run)";
  int64_t C = chunk.getLength();
  if (C != 32 && C != 64 && C != 128)
    return "chunk length is not 32, 64 or 128";
  if (delta && C == 128)
    return "chunk length 128 with a delta rule (the UT solve keeps a column "
           "of C values per thread: 32 or 64)";
  int64_t Dk = op.getKeyDim(), Dv = op.getValueDim();
  if (Dk % 32 || Dk > 256 || (Dk / 16) % (C / 16))
    return "Dk is not a multiple of 32 up to 256 split over the warps";
  if (Dv % 16)
    return "Dv is not a multiple of 16";
  // Shared memory at the narrowest Dv tile (planChunked narrows to fit).
  ChunkPlan p{};
  p.C = C;
  p.Dk = Dk;
  p.Dv = Dv;
  p.dvTile = 16;
  p.delta = delta;
  if (SharedLayout(p).total > kMaxSmem)
    return "Q, K" + std::string(delta ? ", W" : "") +
           " stages and the state exceed shared memory";
  if (delta && WyLayout(p).total > kMaxSmem)
    return "the WY kernel's K, V, A and T exceed shared memory";
  if (vector && GlaLayout(p).total > kMaxSmem)
    return "the chunk_gla kernel's Q, K and cumulated gates exceed shared "
           "memory";
  return "";
}

/// chunk_output's plan: one stage of Q, K and V (V' from U's buffer for
/// the delta rules), `p.outTile` value columns per block.
static ChunkPlan outputPlan(const ChunkPlan &p) {
  ChunkPlan o = p;
  o.states = false;
  o.twoKernels = false;
  o.valueFromU = p.delta;
  o.delta = false;
  o.stages = 1;
  o.dvTile = p.outTile;
  o.smemBytes = SharedLayout(o).total;
  return o;
}

ChunkPlan kestrel::cuda::planChunked(GatedRecurrenceOp op, int64_t dvTile,
                                     StringRef forced) {
  ChunkPlan p;
  p.twoKernels = forced == "chunked_mma_scores";
  p.B = op.getBatch();
  p.H = op.getNumHeads();
  p.Hkv = op.getNumKvHeads();
  p.T = op.getSeqLen();
  p.Dk = op.getKeyDim();
  p.Dv = op.getValueDim();
  p.C = op->getAttrOfType<ChunkAttr>(decision::kChunk).getLength();
  p.delta = op.getGate() == GateKind::Delta ||
            op.getGate() == GateKind::GatedDelta;
  p.vector = op.getGate() == GateKind::Vector;
  // The vector gate's walk always reads P from the chunk_gla kernel.
  if (p.vector)
    p.twoKernels = true;
  // The states form is for walks that are long and leave most SMs idle
  // even at the widest tile: its walk does a quarter of the fused walk's
  // tensor-core work per chunk and the outputs run in parallel over
  // chunks. Measured on the H200 (bench/results/
  // 2026-12-05-H200-recurrence-states.md, bf16 q/k/v, Dk = Dv = 128, C 64):
  // with an f32 state it pays at B1 H16 T16384 (32 blocks at tile 64, 256
  // chunks: 0.68 vs 0.75 ms gated delta, 0.39 vs 0.46 scalar) and B1 H2
  // T4200 (66 chunks: 0.13 vs 0.21, 0.09 vs 0.16); with a bf16 state it is
  // even at B1 H16, and at B2 T8192 / B4 T4096 (64 / 128 blocks) it loses
  // (0.91 vs 0.57, 0.73 vs 0.46 gated delta). So by default: f32 state, at
  // most a quarter of the SMs busy at tile 64, and at least 64 chunks.
  if (forced.empty() && !p.vector) {
    auto stateType = cast<ShapedType>(op.getFinalState().getType());
    p.states = stateType.getElementType().isF32() && p.Dv % 64 == 0 &&
               p.B * p.H * (p.Dv / 64) <= kSms / 4 && ceilDiv(p.T, p.C) >= 64;
  } else {
    p.states = !p.vector && forced == "chunk_states";
  }
  if (p.states)
    p.twoKernels = false;
  p.warps = p.C / 16;
  p.mTiles = p.Dk / 16 / p.warps;
  if (dvTile > 0 && p.Dv % dvTile == 0 && dvTile % 16 == 0) {
    p.dvTile = dvTile;
  } else {
    // The widest tile dividing Dv (at most 64: the state's accumulators
    // take M · dvt / 2 registers) that still gives every SM a block.
    p.dvTile = 64;
    while (p.dvTile > 16 && p.Dv % p.dvTile)
      p.dvTile /= 2;
    while (p.dvTile > 16 && p.B * p.H * (p.Dv / p.dvTile) < kSms)
      p.dvTile /= 2;
    if (p.Dv % p.dvTile)
      p.dvTile = 16;
  }
  while (p.dvTile > 16 && SharedLayout(p).total > kMaxSmem)
    p.dvTile /= 2;
  if (p.delta && !p.states &&
      !(dvTile > 0 && p.Dv % dvTile == 0 && dvTile % 16 == 0)) {
    // The walk's stages hold W as well (one block per SM at Dk 128), so a
    // grid past one wave (132 · blocks per SM) runs whole extra rounds of
    // the sequential walk. Cost model: waves x (48 + dvt), the 48 standing
    // for the per-chunk work every block repeats whatever its tile (Q Kᵀ,
    // the Q, K, W loads). Measured B4 H16 T4096 D128: dvt 64 (128 blocks,
    // one wave) 0.52 ms, dvt 32 (256 blocks, two waves) 0.62 ms; B1 H16
    // T16384: dvt 16 / 32 / 64 (128 / 64 / 32 blocks) 0.94 / 0.98 / 1.29.
    int64_t bestCost = 0;
    for (int64_t tile = 64; tile >= 16; tile /= 2) {
      ChunkPlan q = p;
      q.dvTile = tile;
      int64_t bytes = SharedLayout(q).total;
      if (p.Dv % tile || bytes > kMaxSmem)
        continue;
      int64_t wave = kSms * std::max<int64_t>(1, kMaxSmem / bytes);
      int64_t cost = ceilDiv(p.B * p.H * (p.Dv / tile), wave) * (48 + tile);
      if (!bestCost || cost < bestCost) {
        bestCost = cost;
        p.dvTile = tile;
      }
    }
  }
  p.smemBytes = SharedLayout(p).total;
  p.wyBytes = p.delta ? WyLayout(p).total : 0;
  p.glaBytes = p.vector ? GlaLayout(p).total : 0;
  p.outTile = p.outBytes = 0;
  if (p.states) {
    // chunk_output: up to 64 value columns per block (its accumulators
    // take dvt / 2 registers per lane).
    p.outTile = 64;
    while (p.outTile > 16 &&
           (p.Dv % p.outTile || outputPlan(p).smemBytes > kMaxSmem))
      p.outTile /= 2;
    p.outBytes = outputPlan(p).smemBytes;
  }
  return p;
}

void kestrel::cuda::rewriteChunked(GatedRecurrenceOp op, const ChunkPlan &p) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkedKernel kernel(b, loc, op, p);
  kernel.q = toBuffer(b, loc, op.getQuery());
  kernel.k = toBuffer(b, loc, op.getKey());
  kernel.v = toBuffer(b, loc, op.getValue());
  if (op.getLogGate())
    kernel.logGate = toBuffer(b, loc, op.getLogGate());
  if (op.getBeta())
    kernel.beta = toBuffer(b, loc, op.getBeta());
  if (op.getInitialState())
    kernel.init = toBuffer(b, loc, op.getInitialState());
  auto alloc = [&](Value result) {
    auto type = cast<RankedTensorType>(result.getType());
    return memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()));
  };
  kernel.out = alloc(op.getOutput());
  kernel.fin = alloc(op.getFinalState());
  IREmitter x(b, loc);
  MLIRContext *ctx = b.getContext();
  int64_t nChunks = ceilDiv(p.T, p.C);
  if (p.twoKernels)
    kernel.scores = memref::AllocOp::create(
        b, loc,
        MemRefType::get({p.B * p.H * nChunks * p.warps * 32 * (p.C / 4)},
                        b.getI32Type()));
  // The kernel(s): P of every chunk first when the scores are a kernel of
  // their own, then the walk over the chunks.
  if (p.delta) {
    Type elem = op.getQuery().getType().getElementType();
    kernel.wBuf = memref::AllocOp::create(
        b, loc, MemRefType::get({p.B * p.H * p.T * p.Dk}, elem));
    kernel.uBuf = memref::AllocOp::create(
        b, loc, MemRefType::get({p.B * p.H * p.T * p.Dv}, elem));
  }
  ChunkPlan outPlan = p.states ? outputPlan(p) : ChunkPlan();
  ChunkedKernel outKernel(b, loc, op, outPlan);
  if (p.states) {
    Type elem = op.getQuery().getType().getElementType();
    kernel.states = memref::AllocOp::create(
        b, loc, MemRefType::get({p.B * p.H * nChunks * p.Dk * p.Dv}, elem));
    outKernel.q = kernel.q;
    outKernel.k = kernel.k;
    outKernel.v = kernel.v;
    outKernel.logGate = kernel.logGate;
    outKernel.out = kernel.out;
    outKernel.uBuf = kernel.uBuf;
    outKernel.states = kernel.states;
  }
  if (p.vector) {
    Type elem = op.getQuery().getType().getElementType();
    kernel.qgBuf = memref::AllocOp::create(
        b, loc, MemRefType::get({p.B * p.H * p.T * p.Dk}, elem));
    kernel.kgBuf = memref::AllocOp::create(
        b, loc, MemRefType::get({p.B * p.H * p.T * p.Dk}, elem));
    kernel.decBuf = memref::AllocOp::create(
        b, loc, MemRefType::get({p.B * p.H * nChunks * p.Dk}, b.getF32Type()));
  }
  enum class Kind { Walk, Scores, Wy, Gla, Output };
  auto emit = [&](int64_t gridX, StringRef name, Kind kernelKind) {
    bool scoresKernel = kernelKind != Kind::Walk;
    Value one = x.idx(1);
    int64_t bytes = kernelKind == Kind::Wy       ? p.wyBytes
                    : kernelKind == Kind::Gla    ? p.glaBytes
                    : kernelKind == Kind::Output ? p.outBytes
                                                 : p.smemBytes;
    Value smem = x.constInt(b.getI32Type(), bytes);
    auto l = gpu::LaunchOp::create(b, loc, x.idx(gridX), x.idx(p.B * p.H), one,
                                   x.idx(p.warps * 32), one, one, smem, nullptr,
                                   ValueRange{});
    l->setAttr(decision::kRecurrenceKernel, StringAttr::get(ctx, name));
    l->setAttr(decision::kChunk, ChunkAttr::get(ctx, p.C));
    if (!scoresKernel || kernelKind == Kind::Output)
      l->setAttr(decision::kValueTile,
                 IntegerAttr::get(IntegerType::get(ctx, 64),
                                  scoresKernel ? p.outTile : p.dvTile));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&l.getBody().front());
    auto workgroup = gpu::AddressSpaceAttr::get(
        ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
    kernel.shared = gpu::DynamicSharedMemoryOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                        MemRefLayoutAttrInterface(), workgroup));
    if (kernelKind == Kind::Output) {
      outKernel.shared = kernel.shared;
      outKernel.buildOutput(l);
    } else if (kernelKind == Kind::Wy)
      kernel.buildWy(l);
    else if (kernelKind == Kind::Gla)
      kernel.buildGla(l);
    else if (kernelKind == Kind::Scores)
      kernel.buildScores(l);
    else
      kernel.build(l);
    gpu::TerminatorOp::create(b, loc);
  };
  // Delta rules: W and U of every chunk first (parallel over chunks).
  if (p.delta)
    emit(nChunks, "chunk_wy", Kind::Wy);
  if (p.vector) {
    // Vector gate: P, Q ⊙ e^b, K ⊙ e^{b_last − b}, e^{b_last} of every
    // chunk (parallel over chunks), then the walk.
    emit(nChunks, "chunk_gla", Kind::Gla);
    emit(p.Dv / p.dvTile, "chunked_mma_scores", Kind::Walk);
  } else if (p.states) {
    // States form: the walk stores every chunk's entering state, then the
    // outputs of all chunks in parallel.
    emit(p.Dv / p.dvTile, "chunk_states", Kind::Walk);
    emit(nChunks * (p.Dv / p.outTile), "chunk_output", Kind::Output);
  } else if (p.twoKernels) {
    emit(nChunks, "chunk_scores", Kind::Scores);
    emit(p.Dv / p.dvTile, "chunked_mma_scores", Kind::Walk);
  } else {
    emit(p.Dv / p.dvTile, "chunked_mma", Kind::Walk);
  }
  auto toTensor = [&](Value buffer, Value result) {
    result.replaceAllUsesWith(bufferization::ToTensorOp::create(
        b, loc, result.getType(), buffer, /*restrict=*/true,
        /*writable=*/true));
  };
  toTensor(kernel.out, op.getOutput());
  toTensor(kernel.fin, op.getFinalState());
  op.erase();
}
