//===- FuseIOAware.cpp - Attention as online softmax over tiles -----------===//
//
// Rewrites a tiled kestrel.attention (kestrel.tile, optionally
// kestrel.tile_classes) into the FlashAttention form of docs/ops.md §1:
//
//   scf.forall (b, h, i) in (B, H, ceil(T / Br)):       -- independent rows
//     Q_i = scale · q[b, h, i·Br : +rows, :]            -- scale folded in
//     m = -inf, l = 0, acc = 0
//     for each visited key tile j of row tile i, below key_lengths[b]:
//       S = Q_i K_jᵀ                                    -- K_j transposed once
//       S = mask(softcap(S)) unless tile (i, j) is full
//       m' = max(m, rowmax S);  P = e^{S - m'};  α = e^{m - m'}
//       l = α l + rowsum P;     acc = α acc + P V_j
//     out[b, h, i·Br : +rows, :] = acc / l              -- 0 where l = 0
//     lse[b, h, i·Br : +rows]    = m + log l            -- if requested
//
// The visited tiles come from kestrel.tile_classes: at most two ranges per
// query tile (sinks and the causal/window band) as a range table, or, when
// a block-sparse map leaves more runs, an explicit list per query tile.
// With key_lengths a tile is full only if it also ends before the row's
// length (a runtime test), and tiles past the length are not visited.
//
// Loop orders put a contiguous dimension innermost in both products so the
// LLVM vectorizers see unit-stride loops without reassociating reductions.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Common/AttentionVisibility.h"
#include "passes/Common/DenoiseLowering.h"
#include "passes/Common/IRBuilder.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace kestrel {
#define GEN_PASS_DEF_FUSEIOAWARE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// Builds the body of one (b, h, query tile) instance.
class TileEmitter : public IREmitter {
public:
  TileEmitter(OpBuilder &b, Location loc, AttentionOp op)
      : IREmitter(b, loc), op(op) {}

  /// The extent of the tile at `start`: `size` when tiles divide `total`
  /// (a static size, so shapes stay static), else min(size, total - start)
  /// for the ragged last tile.
  OpFoldResult extent(Value start, int64_t size, int64_t total) {
    if (total % size == 0)
      return b.getIndexAttr(size);
    return arith::MinSIOp::create(
               b, loc, idx(size),
               arith::SubIOp::create(b, loc, idx(total), start))
        .getResult();
  }

  /// A rank-2 slice [len, dim] of a rank-4 [B, heads, len, dim] tensor.
  Value slice2d(Value source, Value batch, Value head, Value start,
                OpFoldResult len, int64_t dim) {
    auto srcType = cast<RankedTensorType>(source.getType());
    auto type = RankedTensorType::get(
        {getConstantIntValue(len).value_or(ShapedType::kDynamic), dim},
        srcType.getElementType());
    OpFoldResult one = b.getIndexAttr(1);
    return tensor::ExtractSliceOp::create(
        b, loc, type, source,
        ArrayRef<OpFoldResult>{batch, head, start, b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{one, one, len, b.getIndexAttr(dim)},
        ArrayRef<OpFoldResult>{one, one, one, one});
  }

  AttentionOp op;
};

/// Non-skipped key tiles of each query tile, in increasing order.
static SmallVector<SmallVector<int64_t>> visitedTiles(DenseElementsAttr classes,
                                                      int64_t nQ, int64_t nK) {
  auto values = llvm::to_vector(classes.getValues<int8_t>());
  SmallVector<SmallVector<int64_t>> visited(nQ);
  for (int64_t i = 0; i < nQ; ++i)
    for (int64_t j = 0; j < nK; ++j)
      if (values[i * nK + j] != 0)
        visited[i].push_back(j);
  return visited;
}

/// Visited key-tile ranges per query tile, [lo0, hi0, lo1, hi1], or an
/// empty vector when some query tile has more than two runs of tiles.
static SmallVector<int64_t>
visitRanges(ArrayRef<SmallVector<int64_t>> visited) {
  SmallVector<int64_t> ranges;
  for (ArrayRef<int64_t> tiles : visited) {
    SmallVector<std::pair<int64_t, int64_t>> runs;
    for (int64_t j : tiles) {
      if (!runs.empty() && runs.back().second == j)
        runs.back().second = j + 1;
      else
        runs.push_back({j, j + 1});
    }
    if (runs.size() > 2)
      return {};
    while (runs.size() < 2)
      runs.push_back({0, 0});
    for (auto [lo, hi] : runs)
      ranges.append({lo, hi});
  }
  return ranges;
}

/// Values of the mask that every key tile reads: the tile-class table, the
/// block map (i8 constant, or null) and the row's key length (i32, or null).
struct MaskInputs {
  Value classTable, blockMap, keyLength;
};

/// The tile sizes of a tiled attention and the constant tables every row
/// tile reads: the visited key tiles (a range table [nQ, 4], or visit counts
/// [nQ] and lists [nQ, max count] padded with 0, never read past the count),
/// the tile classes [nQ, nK] and the block map (or null).
struct AttentionTiling {
  int64_t br, bc, nQ, nK;
  Value rangeTable, countTable, listTable, classTable, blockMap;
};

/// Tile classes: recorded by kestrel-specialize-sparsity, or everything
/// partial (static mask) / full (none) when that pass did not run. The IR
/// verifier has checked that a recorded table is nQ × nK.
static DenseElementsAttr tileClasses(AttentionOp op, Builder &b, int64_t nQ,
                                     int64_t nK) {
  auto classType = RankedTensorType::get({nQ, nK}, b.getI8Type());
  if (auto recorded =
          op->getAttrOfType<TileClassesAttr>(decision::kTileClasses))
    return DenseElementsAttr::get(classType, recorded.getClasses());
  return DenseElementsAttr::get(
      classType,
      b.getI8IntegerAttr(op.getCausal() || op.getBlockMap() ? 2 : 1));
}

/// Materializes the visit, class and block-map tables of `tiling`.
static void buildTileTables(PatternRewriter &rw, Location loc, AttentionOp op,
                            AttentionTiling &tiling) {
  const int64_t nQ = tiling.nQ;
  DenseElementsAttr classes = tileClasses(op, rw, nQ, tiling.nK);
  auto i64Table = [&](ArrayRef<int64_t> shape, ArrayRef<int64_t> values) {
    return arith::ConstantOp::create(
        rw, loc,
        DenseElementsAttr::get(RankedTensorType::get(shape, rw.getI64Type()),
                               values));
  };
  SmallVector<SmallVector<int64_t>> visited =
      visitedTiles(classes, nQ, tiling.nK);
  SmallVector<int64_t> ranges = visitRanges(visited);
  if (!ranges.empty()) {
    tiling.rangeTable = i64Table({nQ, 4}, ranges);
  } else {
    int64_t width = 1;
    for (ArrayRef<int64_t> tiles : visited)
      width = std::max<int64_t>(width, tiles.size());
    SmallVector<int64_t> counts, lists;
    for (ArrayRef<int64_t> tiles : visited) {
      counts.push_back(tiles.size());
      lists.append(tiles.begin(), tiles.end());
      lists.append(width - tiles.size(), 0);
    }
    tiling.countTable = i64Table({nQ}, counts);
    tiling.listTable = i64Table({nQ, width}, lists);
  }
  tiling.classTable = arith::ConstantOp::create(rw, loc, classes);
  tiling.blockMap = buildBlockMapConstant(rw, loc, op);
}

/// What one row tile hands each key-tile step: the scaled Q tile, the
/// (batch, kv head, query tile) it belongs to, its first row and row count,
/// and the mask inputs.
struct RowTileValues {
  Value q, bi, kvHead, qi, t0;
  OpFoldResult rows;
  MaskInputs masks;
};

/// One online-softmax step of a row tile over key tile `j` (the loop body
/// of docs/ops.md §1): scores, softcap, mask, then the running max, sum and
/// accumulator.
class KeyTileStep {
public:
  KeyTileStep(TileEmitter &e, const RowTileValues &row, int64_t bc, Value j)
      : e(e), b(e.b), l(e.loc), op(e.op), ctx(e.ctx), row(row), j(j),
        S(op.getKeyLen()), D(op.getHeadDim()), Dv(op.getValueDim()), bc(bc) {}

  /// Returns {m', l', acc'} from `state` = {m, l, acc}.
  SmallVector<Value> run(ValueRange state);

private:
  Value transposedKeys(Value kRaw);
  Value queryKeyScores(Value kT);
  Value softcapScores(Value scores, double cap);
  Value maskScores(Value scores);
  /// i1: tile (qi, j) is full (and, with key lengths, ends by the length).
  Value fullTile();
  /// The scores with invisible positions set to -inf, in place.
  Value maskedScores(OpBuilder &nb, Location ll, Value unmasked);
  struct SoftmaxStep {
    Value alpha, p, mNew, lNew;
  };
  SoftmaxStep onlineSoftmax(Value scores, Value m, Value lsum);
  Value accumulateValues(Value p, Value vRaw, Value alpha, Value acc);

  TileEmitter &e;
  OpBuilder &b;
  Location l;
  AttentionOp op;
  MLIRContext *ctx;
  const RowTileValues &row;
  Value j, s0;
  OpFoldResult cols;
  const int64_t S, D, Dv, bc;
  AffineMap id2, rowMap;
};

SmallVector<Value> KeyTileStep::run(ValueRange state) {
  Value m = state[0], lsum = state[1], acc = state[2];
  s0 = arith::MulIOp::create(b, l, j, e.idx(bc));
  cols = e.extent(s0, bc, S);
  Value kRaw = e.slice2d(op.getKey(), row.bi, row.kvHead, s0, cols, D);
  Value vRaw = e.slice2d(op.getValue(), row.bi, row.kvHead, s0, cols, Dv);
  Value scores = queryKeyScores(transposedKeys(kRaw));
  AffineExpr r, c;
  bindDims(ctx, r, c);
  id2 = e.map(2, {r, c});
  rowMap = e.map(2, {r});
  if (std::optional<APFloat> cap = op.getSoftcap())
    scores = softcapScores(scores, cap->convertToDouble());
  if (op.hasMask())
    scores = maskScores(scores);
  SoftmaxStep sm = onlineSoftmax(scores, m, lsum);
  Value accNew = accumulateValues(sm.p, vRaw, sm.alpha, acc);
  return {sm.mNew, sm.lNew, accNew};
}

/// K tile transposed to [D, cols] in f32: the score product then runs its
/// innermost loop over contiguous keys.
Value KeyTileStep::transposedKeys(Value kRaw) {
  AffineExpr c, d;
  bindDims(ctx, d, c);
  return e.generic({kRaw}, e.empty({b.getIndexAttr(D), cols}, e.f32),
                   {e.map(2, {c, d}), e.map(2, {d, c})}, {kPar, kPar},
                   [](OpBuilder &nb, Location ll, ValueRange a) {
                     yield(nb, ll, toF32(nb, ll, a[0]));
                   });
}

/// S[r, c] = Σ_d Q[r, d] · Kᵀ[d, c], loops (r, d, c).
Value KeyTileStep::queryKeyScores(Value kT) {
  AffineExpr r, c, d;
  bindDims(ctx, r, d, c);
  Value scores = e.generic(
      {row.q, kT}, e.filled({row.rows, cols}, 0.0),
      {e.map(3, {r, d}), e.map(3, {d, c}), e.map(3, {r, c})},
      {kPar, kRed, kPar}, [](OpBuilder &nb, Location ll, ValueRange a) {
        Value prod = arith::MulFOp::create(nb, ll, a[0], a[1]);
        yield(nb, ll, arith::AddFOp::create(nb, ll, a[2], prod));
      });
  // Both tile products are marked for kestrel-vectorize-contractions.
  scores.getDefiningOp()->setAttr(decision::kContraction, b.getUnitAttr());
  return scores;
}

/// cap · tanh(S / cap).
Value KeyTileStep::softcapScores(Value scores, double cap) {
  return e.generic({scores}, e.empty({row.rows, cols}, e.f32), {id2, id2},
                   {kPar, kPar}, [&](OpBuilder &nb, Location ll, ValueRange a) {
                     Value cst = cstF32(nb, ll, cap);
                     Value t = math::TanhOp::create(
                         nb, ll, arith::DivFOp::create(nb, ll, a[0], cst));
                     yield(nb, ll, arith::MulFOp::create(nb, ll, cst, t));
                   });
}

Value KeyTileStep::fullTile() {
  // The class comes from the constant table. With key lengths, a full tile
  // must also end at or before the length.
  const MaskInputs &masks = row.masks;
  Value cls =
      tensor::ExtractOp::create(b, l, masks.classTable, ValueRange{row.qi, j});
  Value full = arith::CmpIOp::create(
      b, l, arith::CmpIPredicate::eq, cls,
      arith::ConstantIntOp::create(b, l, b.getI8Type(), 1));
  if (masks.keyLength) {
    Value end = arith::MinSIOp::create(
        b, l, arith::AddIOp::create(b, l, s0, e.idx(bc)), e.idx(S));
    Value len =
        arith::IndexCastOp::create(b, l, b.getIndexType(), masks.keyLength);
    full = arith::AndIOp::create(
        b, l, full,
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, end, len));
  }
  return full;
}

/// Full tiles skip the mask.
Value KeyTileStep::maskScores(Value scores) {
  Value full = fullTile();
  Value unmasked = scores;
  auto ifOp = scf::IfOp::create(
      b, l, full,
      [&](OpBuilder &nb, Location ll) {
        scf::YieldOp::create(nb, ll, unmasked);
      },
      [&](OpBuilder &nb, Location ll) {
        scf::YieldOp::create(nb, ll, maskedScores(nb, ll, unmasked));
      });
  return ifOp.getResult(0);
}

Value KeyTileStep::maskedScores(OpBuilder &nb, Location ll, Value unmasked) {
  TileEmitter me(nb, ll, op);
  const MaskInputs &masks = row.masks;
  // Masks in place (outs = the scores) so both branches yield the same
  // buffer after bufferization.
  return me.generic(
      {}, unmasked, {id2}, {kPar, kPar},
      [&](OpBuilder &gb, Location gl, ValueRange a) {
        Value t = arith::AddIOp::create(gb, gl, row.t0,
                                        linalg::IndexOp::create(gb, gl, 0));
        Value s = arith::AddIOp::create(gb, gl, s0,
                                        linalg::IndexOp::create(gb, gl, 1));
        Value allowed;
        if (masks.blockMap) {
          ArrayRef<int64_t> sizes = *op.getBlockSize();
          Value bt = arith::DivUIOp::create(
              gb, gl, t, arith::ConstantIndexOp::create(gb, gl, sizes[0]));
          Value bs = arith::DivUIOp::create(
              gb, gl, s, arith::ConstantIndexOp::create(gb, gl, sizes[1]));
          allowed = tensor::ExtractOp::create(gb, gl, masks.blockMap,
                                              ValueRange{bt, bs});
        }
        Value visible = buildAttentionVisibility(gb, gl, op, t, s, allowed,
                                                 masks.keyLength);
        yield(gb, gl,
              arith::SelectOp::create(gb, gl, visible, a[0],
                                      cstF32(gb, gl, kNegInf)));
      });
}

/// m' = max(m, rowmax S), P = e^{S - m'}, α = e^{m - m'}, l' = α l + rowsum P.
KeyTileStep::SoftmaxStep KeyTileStep::onlineSoftmax(Value scores, Value m,
                                                    Value lsum) {
  // Every value the loop yields is computed in place into its iter_arg
  // (outs = the old value, after its last read), so bufferization reuses
  // one buffer per row tile across key tiles. Row reductions may be
  // reassociated (max exactly, sums within float rounding) so that LLVM
  // vectorizes them across keys.
  auto reassoc = arith::FastMathFlags::reassoc;
  // The row max also ignores NaN (scores of finite inputs have none), so it
  // becomes vmaxps rather than a compare-and-blend per element.
  auto maxFlags =
      reassoc | arith::FastMathFlags::nnan | arith::FastMathFlags::nsz;
  OpFoldResult rows = row.rows;
  Value rowMax = e.generic(
      {scores}, e.filled({rows}, kNegInf), {id2, rowMap}, {kPar, kRed},
      [&](OpBuilder &nb, Location ll, ValueRange a) {
        yield(nb, ll, arith::MaximumFOp::create(nb, ll, a[0], a[1], maxFlags));
      });
  // exp(x - m'), 0 while the row has seen no visible key (m' = -inf).
  auto expShifted = [](OpBuilder &nb, Location ll, Value x, Value mOld,
                       Value tileMax) {
    Value mx = arith::MaximumFOp::create(nb, ll, mOld, tileMax);
    Value dead = arith::CmpFOp::create(nb, ll, arith::CmpFPredicate::OEQ, mx,
                                       cstF32(nb, ll, kNegInf));
    Value ex =
        math::ExpOp::create(nb, ll, arith::SubFOp::create(nb, ll, x, mx));
    return arith::SelectOp::create(nb, ll, dead, cstF32(nb, ll, 0.0), ex)
        .getResult();
  };
  AffineMap r1 = AffineMap::getMultiDimIdentityMap(1, ctx);
  SoftmaxStep sm;
  sm.alpha = e.generic({m, rowMax}, e.empty({rows}, e.f32), {r1, r1, r1},
                       {kPar}, [&](OpBuilder &nb, Location ll, ValueRange a) {
                         yield(nb, ll, expShifted(nb, ll, a[0], a[0], a[1]));
                       });
  sm.p = e.generic({scores, m, rowMax}, e.empty({rows, cols}, e.f32),
                   {id2, rowMap, rowMap, id2}, {kPar, kPar},
                   [&](OpBuilder &nb, Location ll, ValueRange a) {
                     yield(nb, ll, expShifted(nb, ll, a[0], a[1], a[2]));
                   });
  sm.mNew =
      e.generic({rowMax}, m, {r1, r1}, {kPar},
                [](OpBuilder &nb, Location ll, ValueRange a) {
                  yield(nb, ll, arith::MaximumFOp::create(nb, ll, a[1], a[0]));
                });
  Value lScaled =
      e.generic({sm.alpha}, lsum, {r1, r1}, {kPar},
                [](OpBuilder &nb, Location ll, ValueRange a) {
                  yield(nb, ll, arith::MulFOp::create(nb, ll, a[1], a[0]));
                });
  sm.lNew = e.generic(
      {sm.p}, lScaled, {id2, rowMap}, {kPar, kRed},
      [&](OpBuilder &nb, Location ll, ValueRange a) {
        yield(nb, ll, arith::AddFOp::create(nb, ll, a[1], a[0], reassoc));
      });
  // kestrel-vectorize-contractions vectorizes these along the keys.
  for (Value v : {rowMax, sm.alpha, sm.p, sm.mNew, lScaled, sm.lNew})
    v.getDefiningOp()->setAttr(decision::kRowOp, b.getUnitAttr());
  return sm;
}

/// acc' = α acc + P V, loops (r, c, e) with e innermost.
Value KeyTileStep::accumulateValues(Value p, Value vRaw, Value alpha,
                                    Value acc) {
  Value accScaled =
      e.generic({alpha}, acc, {rowMap, id2}, {kPar, kPar},
                [](OpBuilder &nb, Location ll, ValueRange a) {
                  yield(nb, ll, arith::MulFOp::create(nb, ll, a[1], a[0]));
                });
  AffineExpr r, c, ev;
  bindDims(ctx, r, c, ev);
  Value accNew = e.generic(
      {p, vRaw}, accScaled,
      {e.map(3, {r, c}), e.map(3, {c, ev}), e.map(3, {r, ev})},
      {kPar, kRed, kPar}, [](OpBuilder &nb, Location ll, ValueRange a) {
        Value prod = arith::MulFOp::create(nb, ll, a[0], toF32(nb, ll, a[1]));
        yield(nb, ll, arith::AddFOp::create(nb, ll, a[2], prod));
      });
  accNew.getDefiningOp()->setAttr(decision::kContraction, b.getUnitAttr());
  return accNew;
}

/// One (b, h, query tile) instance of the forall: the scaled Q tile, the
/// walk over the visited key tiles, and the output (and lse) rows written
/// into the shared results.
class RowTile {
public:
  RowTile(OpBuilder &b, Location l, AttentionOp op,
          const AttentionTiling &tiling, ValueRange args)
      : e(b, l, op), b(b), l(l), op(op), tiling(tiling), head(args[1]),
        out(args[3]), lseOut(args.size() > 4 ? args[4] : Value()) {
    row.bi = args[0];
    row.qi = args[2];
  }

  void emit();

private:
  void liveKeyTiles();
  Value scaledQuery();
  /// Runs key-tile steps for j in [lo, hi) (entries of the list table when
  /// `listed`), threading `state`.
  void walk(Value lo, Value hi, bool listed);
  void walkRanges();
  void walkLists();
  /// table[indices] as an index.
  Value entry(Value table, ValueRange indices);
  Value normalizedOutput();
  Value logSumExp();
  void insertResults(Value outTile, Value lseTile);

  TileEmitter e;
  OpBuilder &b;
  Location l;
  AttentionOp op;
  const AttentionTiling &tiling;
  Value head, out, lseOut;
  RowTileValues row;
  /// The number of key tiles that start below the row's key length, or null.
  Value liveTiles;
  /// {m, l, acc} of the online softmax.
  SmallVector<Value> state;
};

void RowTile::emit() {
  const int64_t group = op.getNumHeads() / op.getNumKvHeads();
  row.t0 = arith::MulIOp::create(b, l, row.qi, e.idx(tiling.br));
  row.rows = e.extent(row.t0, tiling.br, op.getQueryLen());
  row.kvHead = arith::DivUIOp::create(b, l, head, e.idx(group));
  liveKeyTiles();
  row.masks.classTable = tiling.classTable;
  row.masks.blockMap = tiling.blockMap;
  row.q = scaledQuery();
  state = {e.filled({row.rows}, kNegInf), e.filled({row.rows}, 0.0),
           e.filled({row.rows, b.getIndexAttr(op.getValueDim())}, 0.0)};
  if (tiling.rangeTable)
    walkRanges();
  else
    walkLists();
  Value outTile = normalizedOutput();
  Value lseTile = op.getLse() ? logSumExp() : Value();
  insertResults(outTile, lseTile);
}

/// The row's key length (i32) and the number of key tiles that start below
/// it, clamped to [0, nK].
void RowTile::liveKeyTiles() {
  Value lengths = op.getKeyLengths();
  if (!lengths)
    return;
  Value keyLength =
      tensor::ExtractOp::create(b, l, lengths, ValueRange{row.bi});
  Value len = arith::IndexCastOp::create(b, l, b.getIndexType(), keyLength);
  len = arith::MaxSIOp::create(b, l, len, e.idx(0));
  liveTiles = arith::MinSIOp::create(
      b, l, e.idx(tiling.nK),
      arith::CeilDivSIOp::create(b, l, len, e.idx(tiling.bc)));
  row.masks.keyLength = keyLength;
}

/// Q tile in f32, pre-multiplied by the scale.
Value RowTile::scaledQuery() {
  AffineExpr r, d;
  bindDims(e.ctx, r, d);
  const int64_t D = op.getHeadDim();
  Value qRaw = e.slice2d(op.getQuery(), row.bi, head, row.t0, row.rows, D);
  double scale = op.getEffectiveScale();
  return e.generic({qRaw}, e.empty({row.rows, b.getIndexAttr(D)}, e.f32),
                   {e.map(2, {r, d}), e.map(2, {r, d})}, {kPar, kPar},
                   [&](OpBuilder &nb, Location ll, ValueRange a) {
                     yield(nb, ll,
                           arith::MulFOp::create(nb, ll, toF32(nb, ll, a[0]),
                                                 cstF32(nb, ll, scale)));
                   });
}

void RowTile::walk(Value lo, Value hi, bool listed) {
  auto loop = scf::ForOp::create(
      b, l, lo, hi, e.idx(1), state,
      [&](OpBuilder &nb, Location ll, Value it, ValueRange iter) {
        TileEmitter te(nb, ll, op);
        Value j = it;
        if (listed)
          j = arith::IndexCastOp::create(
              nb, ll, nb.getIndexType(),
              tensor::ExtractOp::create(nb, ll, tiling.listTable,
                                        ValueRange{row.qi, it}));
        SmallVector<Value> next = KeyTileStep(te, row, tiling.bc, j).run(iter);
        scf::YieldOp::create(nb, ll, next);
      });
  state.assign(loop.getResults().begin(), loop.getResults().end());
}

Value RowTile::entry(Value table, ValueRange indices) {
  Value v = tensor::ExtractOp::create(b, l, table, indices);
  return arith::IndexCastOp::create(b, l, b.getIndexType(), v);
}

/// The two ranges of the range table, cut at the live tiles.
void RowTile::walkRanges() {
  for (int64_t range = 0; range < 2; ++range) {
    Value lo = entry(tiling.rangeTable, {row.qi, e.idx(2 * range)});
    Value hi = entry(tiling.rangeTable, {row.qi, e.idx(2 * range + 1)});
    if (liveTiles)
      hi = arith::MinSIOp::create(b, l, hi, liveTiles);
    walk(lo, hi, /*listed=*/false);
  }
}

/// The listed tiles; with key lengths only those below the live tiles.
void RowTile::walkLists() {
  Value count = entry(tiling.countTable, {row.qi});
  if (liveTiles) {
    // Lists are increasing: count the entries below liveTiles.
    auto below = scf::ForOp::create(
        b, l, e.idx(0), count, e.idx(1), ValueRange{e.idx(0)},
        [&](OpBuilder &nb, Location ll, Value it, ValueRange n) {
          Value j = arith::IndexCastOp::create(
              nb, ll, nb.getIndexType(),
              tensor::ExtractOp::create(nb, ll, tiling.listTable,
                                        ValueRange{row.qi, it}));
          Value live = arith::CmpIOp::create(nb, ll, arith::CmpIPredicate::slt,
                                             j, liveTiles);
          Value inc = arith::SelectOp::create(
              nb, ll, live, arith::ConstantIndexOp::create(nb, ll, 1),
              arith::ConstantIndexOp::create(nb, ll, 0));
          scf::YieldOp::create(
              nb, ll, ValueRange{arith::AddIOp::create(nb, ll, n[0], inc)});
        });
    count = below.getResult(0);
  }
  walk(e.idx(0), count, /*listed=*/true);
}

/// out = acc / l (0 for rows that saw no key), narrowed to storage. Written
/// into the slice of the shared output that it replaces, so bufferization
/// stores in place (no copy, even for ragged tiles).
Value RowTile::normalizedOutput() {
  AffineExpr r, c;
  bindDims(e.ctx, r, c);
  Type storage = op.getResult().getType().getElementType();
  return e.generic(
      {state[2], state[1]},
      e.slice2d(out, row.bi, head, row.t0, row.rows, op.getValueDim()),
      {e.map(2, {r, c}), e.map(2, {r}), e.map(2, {r, c})}, {kPar, kPar},
      [&](OpBuilder &nb, Location ll, ValueRange a) {
        Value zero = cstF32(nb, ll, 0.0);
        Value none = arith::CmpFOp::create(nb, ll, arith::CmpFPredicate::OEQ,
                                           a[1], zero);
        Value v = arith::SelectOp::create(
            nb, ll, none, zero, arith::DivFOp::create(nb, ll, a[0], a[1]));
        yield(nb, ll, fromF32(nb, ll, v, storage));
      });
}

/// lse = m + log l (-inf for rows that saw no key).
Value RowTile::logSumExp() {
  Type f32Type = b.getF32Type();
  AffineMap r1 = AffineMap::getMultiDimIdentityMap(1, e.ctx);
  OpFoldResult one = b.getIndexAttr(1);
  Value lseSlice = tensor::ExtractSliceOp::create(
      b, l,
      RankedTensorType::get(
          {getConstantIntValue(row.rows).value_or(ShapedType::kDynamic)},
          f32Type),
      lseOut, ArrayRef<OpFoldResult>{row.bi, head, row.t0},
      ArrayRef<OpFoldResult>{one, one, row.rows},
      ArrayRef<OpFoldResult>{one, one, one});
  return e.generic(
      {state[0], state[1]}, lseSlice, {r1, r1, r1}, {kPar},
      [&](OpBuilder &nb, Location ll, ValueRange a) {
        Value none = arith::CmpFOp::create(nb, ll, arith::CmpFPredicate::OEQ,
                                           a[1], cstF32(nb, ll, 0.0));
        Value sum = arith::AddFOp::create(nb, ll, a[0],
                                          math::LogOp::create(nb, ll, a[1]));
        yield(nb, ll,
              arith::SelectOp::create(nb, ll, none, cstF32(nb, ll, kNegInf),
                                      sum));
      });
}

void RowTile::insertResults(Value outTile, Value lseTile) {
  auto inParallel = scf::InParallelOp::create(b, l);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&inParallel.getRegion().front());
  OpFoldResult one = b.getIndexAttr(1);
  tensor::ParallelInsertSliceOp::create(
      b, l, outTile, out,
      ArrayRef<OpFoldResult>{row.bi, head, row.t0, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{one, one, row.rows,
                             b.getIndexAttr(op.getValueDim())},
      ArrayRef<OpFoldResult>{one, one, one, one});
  if (lseTile)
    tensor::ParallelInsertSliceOp::create(
        b, l, lseTile, lseOut, ArrayRef<OpFoldResult>{row.bi, head, row.t0},
        ArrayRef<OpFoldResult>{one, one, row.rows},
        ArrayRef<OpFoldResult>{one, one, one});
}

struct FuseAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rw) const override {
    auto tile = op->getAttrOfType<AttentionTilesAttr>(decision::kTile);
    if (!tile)
      return rw.notifyMatchFailure(op, "no kestrel.tile");
    if (!op.getQuery().getType().hasStaticShape() ||
        !op.getKey().getType().hasStaticShape() ||
        !op.getValue().getType().hasStaticShape())
      return rw.notifyMatchFailure(op, "dynamic shapes");

    const int64_t B = op.getBatch(), H = op.getNumHeads(), T = op.getQueryLen(),
                  S = op.getKeyLen();
    AttentionTiling tiling;
    tiling.br = tile.getQuery();
    tiling.bc = tile.getKey();
    tiling.nQ = llvm::divideCeil(T, tiling.br);
    tiling.nK = llvm::divideCeil(S, tiling.bc);
    Location loc = op.getLoc();
    buildTileTables(rw, loc, op, tiling);

    RankedTensorType resultType = op.getResult().getType();
    Type storage = resultType.getElementType();
    SmallVector<Value> inits = {
        tensor::EmptyOp::create(rw, loc, resultType.getShape(), storage)};
    if (op.getLse())
      inits.push_back(tensor::EmptyOp::create(
          rw, loc, ArrayRef<int64_t>{B, H, T}, rw.getF32Type()));
    SmallVector<OpFoldResult> ubs = {rw.getIndexAttr(B), rw.getIndexAttr(H),
                                     rw.getIndexAttr(tiling.nQ)};
    auto forall =
        scf::ForallOp::create(rw, loc, ubs, inits, std::nullopt,
                              [&](OpBuilder &b, Location l, ValueRange args) {
                                RowTile(b, l, op, tiling, args).emit();
                              });
    rw.replaceOp(op, forall.getResults());
    return success();
  }
};

struct FuseIOAwarePass : kestrel::impl::FuseIOAwareBase<FuseIOAwarePass> {
  void runOnOperation() override {
    // The recorded decisions (kestrel.tile, kestrel.chunk,
    // kestrel.tile_classes) are typed attributes checked by the IR
    // verifier (DecisionAttrs.cpp) before this pass runs.
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttention>(&getContext());
    populateChunkedRecurrencePatterns(patterns);
    populateFusedDenoisePatterns(patterns);
    // Only the kestrel ops are rewritten; the IR they expand into is left
    // as built (no folding) so that tests see the structure.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
