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
                  S = op.getKeyLen(), D = op.getHeadDim(),
                  Dv = op.getValueDim();
    const int64_t group = H / op.getNumKvHeads();
    const int64_t br = tile.getQuery(), bc = tile.getKey();
    const int64_t nQ = llvm::divideCeil(T, br), nK = llvm::divideCeil(S, bc);
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();

    // Tile classes: recorded by kestrel-specialize-sparsity, or everything
    // partial (static mask) / full (none) when that pass did not run. The
    // IR verifier has checked that a recorded table is nQ × nK.
    auto classType = RankedTensorType::get({nQ, nK}, rw.getI8Type());
    DenseElementsAttr classes;
    if (auto recorded =
            op->getAttrOfType<TileClassesAttr>(decision::kTileClasses))
      classes = DenseElementsAttr::get(classType, recorded.getClasses());
    else
      classes = DenseElementsAttr::get(
          classType,
          rw.getI8IntegerAttr(op.getCausal() || op.getBlockMap() ? 2 : 1));
    auto i64Table = [&](ArrayRef<int64_t> shape, ArrayRef<int64_t> values) {
      return arith::ConstantOp::create(
          rw, loc,
          DenseElementsAttr::get(RankedTensorType::get(shape, rw.getI64Type()),
                                 values));
    };
    SmallVector<SmallVector<int64_t>> visited = visitedTiles(classes, nQ, nK);
    SmallVector<int64_t> ranges = visitRanges(visited);
    // Either a range table [nQ, 4] or visit counts [nQ] and lists
    // [nQ, max count] (padded with 0, never read past the count).
    Value rangeTable, countTable, listTable;
    if (!ranges.empty()) {
      rangeTable = i64Table({nQ, 4}, ranges);
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
      countTable = i64Table({nQ}, counts);
      listTable = i64Table({nQ, width}, lists);
    }
    Value classTable = arith::ConstantOp::create(rw, loc, classes);
    Value blockMap = buildBlockMapConstant(rw, loc, op);

    RankedTensorType resultType = op.getResult().getType();
    Type storage = resultType.getElementType();
    SmallVector<Value> inits = {
        tensor::EmptyOp::create(rw, loc, resultType.getShape(), storage)};
    if (op.getLse())
      inits.push_back(tensor::EmptyOp::create(
          rw, loc, ArrayRef<int64_t>{B, H, T}, rw.getF32Type()));
    SmallVector<OpFoldResult> ubs = {rw.getIndexAttr(B), rw.getIndexAttr(H),
                                     rw.getIndexAttr(nQ)};

    auto forall = scf::ForallOp::create(
        rw, loc, ubs, inits, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          TileEmitter e(b, l, op);
          Value bi = args[0], hi = args[1], qi = args[2], out = args[3];
          Value t0 = arith::MulIOp::create(b, l, qi, e.idx(br));
          OpFoldResult rows = e.extent(t0, br, T);
          Value kvHead = arith::DivUIOp::create(b, l, hi, e.idx(group));

          // The row's key length (i32) and the number of key tiles that
          // start below it, clamped to [0, nK].
          Value keyLength, liveTiles;
          if (Value lengths = op.getKeyLengths()) {
            keyLength =
                tensor::ExtractOp::create(b, l, lengths, ValueRange{bi});
            Value len =
                arith::IndexCastOp::create(b, l, b.getIndexType(), keyLength);
            len = arith::MaxSIOp::create(b, l, len, e.idx(0));
            liveTiles = arith::MinSIOp::create(
                b, l, e.idx(nK),
                arith::CeilDivSIOp::create(b, l, len, e.idx(bc)));
          }
          MaskInputs masks{classTable, blockMap, keyLength};

          // Q tile in f32, pre-multiplied by the scale.
          AffineExpr r, c, d;
          bindDims(ctx, r, d);
          Value qRaw = e.slice2d(op.getQuery(), bi, hi, t0, rows, D);
          double scale = op.getEffectiveScale();
          Value q = e.generic(
              {qRaw}, e.empty({rows, b.getIndexAttr(D)}, e.f32),
              {e.map(2, {r, d}), e.map(2, {r, d})}, {kPar, kPar},
              [&](OpBuilder &nb, Location ll, ValueRange a) {
                yield(nb, ll,
                      arith::MulFOp::create(nb, ll, toF32(nb, ll, a[0]),
                                            cstF32(nb, ll, scale)));
              });

          SmallVector<Value> state = {
              e.filled({rows}, kNegInf), e.filled({rows}, 0.0),
              e.filled({rows, b.getIndexAttr(Dv)}, 0.0)};
          auto walk = [&](Value lo, Value hi, bool listed) {
            auto loop = scf::ForOp::create(
                b, l, lo, hi, e.idx(1), state,
                [&](OpBuilder &nb, Location ll, Value it, ValueRange iter) {
                  TileEmitter te(nb, ll, op);
                  Value j = it;
                  if (listed)
                    j = arith::IndexCastOp::create(
                        nb, ll, nb.getIndexType(),
                        tensor::ExtractOp::create(nb, ll, listTable,
                                                  ValueRange{qi, it}));
                  SmallVector<Value> next =
                      keyTile(te, q, bi, kvHead, qi, t0, rows, j, iter, masks);
                  scf::YieldOp::create(nb, ll, next);
                });
            state.assign(loop.getResults().begin(), loop.getResults().end());
          };
          auto entry = [&](Value table, ValueRange indices) -> Value {
            Value v = tensor::ExtractOp::create(b, l, table, indices);
            return arith::IndexCastOp::create(b, l, b.getIndexType(), v);
          };
          if (rangeTable) {
            for (int64_t range = 0; range < 2; ++range) {
              Value lo = entry(rangeTable, {qi, e.idx(2 * range)});
              Value hi = entry(rangeTable, {qi, e.idx(2 * range + 1)});
              if (liveTiles)
                hi = arith::MinSIOp::create(b, l, hi, liveTiles);
              walk(lo, hi, /*listed=*/false);
            }
          } else {
            Value count = entry(countTable, {qi});
            if (liveTiles) {
              // Lists are increasing: count the entries below liveTiles.
              auto below = scf::ForOp::create(
                  b, l, e.idx(0), count, e.idx(1), ValueRange{e.idx(0)},
                  [&](OpBuilder &nb, Location ll, Value it, ValueRange n) {
                    Value j = arith::IndexCastOp::create(
                        nb, ll, nb.getIndexType(),
                        tensor::ExtractOp::create(nb, ll, listTable,
                                                  ValueRange{qi, it}));
                    Value live = arith::CmpIOp::create(
                        nb, ll, arith::CmpIPredicate::slt, j, liveTiles);
                    Value inc = arith::SelectOp::create(
                        nb, ll, live, arith::ConstantIndexOp::create(nb, ll, 1),
                        arith::ConstantIndexOp::create(nb, ll, 0));
                    scf::YieldOp::create(
                        nb, ll,
                        ValueRange{arith::AddIOp::create(nb, ll, n[0], inc)});
                  });
              count = below.getResult(0);
            }
            walk(e.idx(0), count, /*listed=*/true);
          }

          // out = acc / l (0 for rows that saw no key), narrowed to storage.
          // Written into the slice of the shared output that it replaces, so
          // bufferization stores in place (no copy, even for ragged tiles).
          bindDims(ctx, r, c);
          Value outTile = e.generic(
              {state[2], state[1]}, e.slice2d(out, bi, hi, t0, rows, Dv),
              {e.map(2, {r, c}), e.map(2, {r}), e.map(2, {r, c})}, {kPar, kPar},
              [&](OpBuilder &nb, Location ll, ValueRange a) {
                Value zero = cstF32(nb, ll, 0.0);
                Value none = arith::CmpFOp::create(
                    nb, ll, arith::CmpFPredicate::OEQ, a[1], zero);
                Value v = arith::SelectOp::create(
                    nb, ll, none, zero,
                    arith::DivFOp::create(nb, ll, a[0], a[1]));
                yield(nb, ll, fromF32(nb, ll, v, storage));
              });

          // lse = m + log l (-inf for rows that saw no key).
          Value lseTile;
          if (op.getLse()) {
            Type f32Type = b.getF32Type();
            AffineMap r1 = AffineMap::getMultiDimIdentityMap(1, ctx);
            OpFoldResult one = b.getIndexAttr(1);
            Value lseSlice = tensor::ExtractSliceOp::create(
                b, l,
                RankedTensorType::get(
                    {getConstantIntValue(rows).value_or(ShapedType::kDynamic)},
                    f32Type),
                args[4], ArrayRef<OpFoldResult>{bi, hi, t0},
                ArrayRef<OpFoldResult>{one, one, rows},
                ArrayRef<OpFoldResult>{one, one, one});
            lseTile = e.generic(
                {state[0], state[1]}, lseSlice, {r1, r1, r1}, {kPar},
                [&](OpBuilder &nb, Location ll, ValueRange a) {
                  Value none =
                      arith::CmpFOp::create(nb, ll, arith::CmpFPredicate::OEQ,
                                            a[1], cstF32(nb, ll, 0.0));
                  Value sum = arith::AddFOp::create(
                      nb, ll, a[0], math::LogOp::create(nb, ll, a[1]));
                  yield(nb, ll,
                        arith::SelectOp::create(nb, ll, none,
                                                cstF32(nb, ll, kNegInf), sum));
                });
          }

          auto inParallel = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(&inParallel.getRegion().front());
          OpFoldResult one = b.getIndexAttr(1);
          tensor::ParallelInsertSliceOp::create(
              b, l, outTile, out,
              ArrayRef<OpFoldResult>{bi, hi, t0, b.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{one, one, rows, b.getIndexAttr(Dv)},
              ArrayRef<OpFoldResult>{one, one, one, one});
          if (lseTile)
            tensor::ParallelInsertSliceOp::create(
                b, l, lseTile, args[4], ArrayRef<OpFoldResult>{bi, hi, t0},
                ArrayRef<OpFoldResult>{one, one, rows},
                ArrayRef<OpFoldResult>{one, one, one});
        });
    rw.replaceOp(op, forall.getResults());
    return success();
  }

  /// One online-softmax step over key tile `j`; returns {m', l', acc'}.
  static SmallVector<Value> keyTile(TileEmitter &e, Value q, Value bi,
                                    Value kvHead, Value qi, Value t0,
                                    OpFoldResult rows, Value j,
                                    ValueRange state, const MaskInputs &masks) {
    OpBuilder &b = e.b;
    Location l = e.loc;
    AttentionOp op = e.op;
    MLIRContext *ctx = e.ctx;
    const int64_t S = op.getKeyLen(), D = op.getHeadDim(),
                  Dv = op.getValueDim();
    const int64_t bc =
        op->getAttrOfType<AttentionTilesAttr>(decision::kTile).getKey();
    Value m = state[0], lsum = state[1], acc = state[2];

    Value s0 = arith::MulIOp::create(b, l, j, e.idx(bc));
    OpFoldResult cols = e.extent(s0, bc, S);
    Value kRaw = e.slice2d(op.getKey(), bi, kvHead, s0, cols, D);
    Value vRaw = e.slice2d(op.getValue(), bi, kvHead, s0, cols, Dv);

    AffineExpr r, c, d;
    // K tile transposed to [D, cols] in f32: the score product below then
    // runs its innermost loop over contiguous keys.
    bindDims(ctx, d, c);
    Value kT = e.generic({kRaw}, e.empty({b.getIndexAttr(D), cols}, e.f32),
                         {e.map(2, {c, d}), e.map(2, {d, c})}, {kPar, kPar},
                         [](OpBuilder &nb, Location ll, ValueRange a) {
                           yield(nb, ll, toF32(nb, ll, a[0]));
                         });

    // S[r, c] = Σ_d Q[r, d] · Kᵀ[d, c], loops (r, d, c).
    bindDims(ctx, r, d, c);
    Value scores = e.generic(
        {q, kT}, e.filled({rows, cols}, 0.0),
        {e.map(3, {r, d}), e.map(3, {d, c}), e.map(3, {r, c})},
        {kPar, kRed, kPar}, [](OpBuilder &nb, Location ll, ValueRange a) {
          Value prod = arith::MulFOp::create(nb, ll, a[0], a[1]);
          yield(nb, ll, arith::AddFOp::create(nb, ll, a[2], prod));
        });
    // Both tile products are marked for kestrel-vectorize-contractions.
    scores.getDefiningOp()->setAttr(decision::kContraction, b.getUnitAttr());

    bindDims(ctx, r, c);
    AffineMap id2 = e.map(2, {r, c}), row = e.map(2, {r});
    if (std::optional<APFloat> cap = op.getSoftcap()) {
      double capValue = cap->convertToDouble();
      scores = e.generic(
          {scores}, e.empty({rows, cols}, e.f32), {id2, id2}, {kPar, kPar},
          [&](OpBuilder &nb, Location ll, ValueRange a) {
            Value cst = cstF32(nb, ll, capValue);
            Value t = math::TanhOp::create(
                nb, ll, arith::DivFOp::create(nb, ll, a[0], cst));
            yield(nb, ll, arith::MulFOp::create(nb, ll, cst, t));
          });
    }
    if (op.hasMask()) {
      // Full tiles skip the mask; the class comes from the constant table.
      // With key lengths, a full tile must also end at or before the length.
      Value cls =
          tensor::ExtractOp::create(b, l, masks.classTable, ValueRange{qi, j});
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
      Value unmasked = scores;
      auto ifOp = scf::IfOp::create(
          b, l, full,
          [&](OpBuilder &nb, Location ll) {
            scf::YieldOp::create(nb, ll, unmasked);
          },
          [&](OpBuilder &nb, Location ll) {
            TileEmitter me(nb, ll, op);
            // Masks in place (outs = the scores) so both branches yield the
            // same buffer after bufferization.
            Value masked = me.generic(
                {}, unmasked, {id2}, {kPar, kPar},
                [&](OpBuilder &gb, Location gl, ValueRange a) {
                  Value t = arith::AddIOp::create(
                      gb, gl, t0, linalg::IndexOp::create(gb, gl, 0));
                  Value s = arith::AddIOp::create(
                      gb, gl, s0, linalg::IndexOp::create(gb, gl, 1));
                  Value allowed;
                  if (masks.blockMap) {
                    ArrayRef<int64_t> sizes = *op.getBlockSize();
                    Value bt = arith::DivUIOp::create(
                        gb, gl, t,
                        arith::ConstantIndexOp::create(gb, gl, sizes[0]));
                    Value bs = arith::DivUIOp::create(
                        gb, gl, s,
                        arith::ConstantIndexOp::create(gb, gl, sizes[1]));
                    allowed = tensor::ExtractOp::create(gb, gl, masks.blockMap,
                                                        ValueRange{bt, bs});
                  }
                  Value visible = buildAttentionVisibility(
                      gb, gl, op, t, s, allowed, masks.keyLength);
                  yield(gb, gl,
                        arith::SelectOp::create(gb, gl, visible, a[0],
                                                cstF32(gb, gl, kNegInf)));
                });
            scf::YieldOp::create(nb, ll, masked);
          });
      scores = ifOp.getResult(0);
    }

    // m' = max(m, rowmax S). Every value the loop yields is computed in
    // place into its iter_arg (outs = the old value, after its last read),
    // so bufferization reuses one buffer per row tile across key tiles.
    // Row reductions may be reassociated (max exactly, sums within float
    // rounding) so that LLVM vectorizes them across keys.
    auto reassoc = arith::FastMathFlags::reassoc;
    Value rowMax = e.generic(
        {scores}, e.filled({rows}, kNegInf), {id2, row}, {kPar, kRed},
        [&](OpBuilder &nb, Location ll, ValueRange a) {
          yield(nb, ll, arith::MaximumFOp::create(nb, ll, a[0], a[1], reassoc));
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
    Value alpha =
        e.generic({m, rowMax}, e.empty({rows}, e.f32), {r1, r1, r1}, {kPar},
                  [&](OpBuilder &nb, Location ll, ValueRange a) {
                    yield(nb, ll, expShifted(nb, ll, a[0], a[0], a[1]));
                  });
    Value p = e.generic({scores, m, rowMax}, e.empty({rows, cols}, e.f32),
                        {id2, row, row, id2}, {kPar, kPar},
                        [&](OpBuilder &nb, Location ll, ValueRange a) {
                          yield(nb, ll, expShifted(nb, ll, a[0], a[1], a[2]));
                        });
    Value mNew = e.generic(
        {rowMax}, m, {r1, r1}, {kPar},
        [](OpBuilder &nb, Location ll, ValueRange a) {
          yield(nb, ll, arith::MaximumFOp::create(nb, ll, a[1], a[0]));
        });

    // l' = α l + rowsum P
    Value lScaled =
        e.generic({alpha}, lsum, {r1, r1}, {kPar},
                  [](OpBuilder &nb, Location ll, ValueRange a) {
                    yield(nb, ll, arith::MulFOp::create(nb, ll, a[1], a[0]));
                  });
    Value lNew = e.generic(
        {p}, lScaled, {id2, row}, {kPar, kRed},
        [&](OpBuilder &nb, Location ll, ValueRange a) {
          yield(nb, ll, arith::AddFOp::create(nb, ll, a[1], a[0], reassoc));
        });

    // acc' = α acc + P V, loops (r, c, e) with e innermost.
    Value accScaled =
        e.generic({alpha}, acc, {row, id2}, {kPar, kPar},
                  [](OpBuilder &nb, Location ll, ValueRange a) {
                    yield(nb, ll, arith::MulFOp::create(nb, ll, a[1], a[0]));
                  });
    AffineExpr ev;
    bindDims(ctx, r, c, ev);
    Value accNew = e.generic(
        {p, vRaw}, accScaled,
        {e.map(3, {r, c}), e.map(3, {c, ev}), e.map(3, {r, ev})},
        {kPar, kRed, kPar}, [](OpBuilder &nb, Location ll, ValueRange a) {
          Value prod = arith::MulFOp::create(nb, ll, a[0], toF32(nb, ll, a[1]));
          yield(nb, ll, arith::AddFOp::create(nb, ll, a[2], prod));
        });
    accNew.getDefiningOp()->setAttr(decision::kContraction, b.getUnitAttr());
    (void)Dv;
    return {mNew, lNew, accNew};
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
