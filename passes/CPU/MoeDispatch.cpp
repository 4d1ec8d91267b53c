//===- MoeDispatch.cpp ----------------------------------------------------===//
//
// Rewrites every statically shaped kestrel.moe into the sparse form of
// docs/ops.md §3: only the routed (token, expert) pairs are computed.
//
//   P[n, e]  = Σ_j [index hits (n, e)] · weight          (as the reference)
//   dispatch (counting sort, sequential, O(N·E)):
//     for e: off[e] = cursor; for n (in token order): if P[n, e] != 0:
//              tok[cursor] = n, pw[cursor] = P[n, e], cursor++
//            end[e] = cursor; cursor = off[e] + roundup(count, MR)
//     so expert e owns rows [off[e], end[e]) of a packed row space, padded
//     to whole MR-row register tiles (padding: token 0, weight 0).
//   up   (scf.forall over NR-column panels of ff, all experts per panel):
//     for e, for each MR-row tile of e:
//       a = x[tok] W1[e][:, panel],  g = x[tok] W3[e][:, panel]
//       H[rows, panel] = silu(a) ⊙ g                     (f32)
//   shared up (same, rows = all tokens, no dispatch) → Hs
//   down (scf.forall over NR-column panels of d, so no two threads ever
//     write the same output element):
//     out[:, panel]  = Hs W2s[:, panel]   (or 0 without shared experts)
//     for e, for each MR-row tile of e, for each real row r (r < end[e]):
//       out[tok[r], panel] += pw[r] · (H[r] W2[e][:, panel])
//
// Every product is one register-tiled micro-kernel: an scf.for over the
// whole reduction carrying MR accumulators vector<NR x f32>; each step loads
// one NR-wide row of the weight (contiguous) and broadcasts MR scalars of the
// left operand (rows read through the token list: no gathered copy of x),
// MR fused multiply-adds. The accumulators never leave registers until the
// epilogue (SiLU·mul for up, weighted scatter-add for down).
//
// Assignments of weight 0 (dropped by capacity) and out-of-range indices
// never reach a list, so they contribute nothing even when the expert's
// output would be infinite, as in the reference lowering. NaN weights are
// routed (P != 0 is unordered-or-not-equal) and propagate.
//
// The register tile [MR, nr] is the op's `kestrel.tile =
// #kestrel.moe_register_tile<...>` (kestrel-tile) or else the pass options;
// the packed row space is sized by `#kestrel.moe_bounds`
// (kestrel-specialize-sparsity) when present. The tile used is recorded on
// the rewritten loops as `kestrel.tile = #kestrel.moe_register_tile<rows =
// MR, cols = NR>` with `kestrel.moe_stage = #kestrel.moe_stage<...>` naming
// the stage; NR is the largest power-of-two divisor of the dimension at
// most `nr` (so every panel is a whole vector).
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Common/IRBuilder.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kestrel {
#define GEN_PASS_DEF_MOEDISPATCH
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

/// Largest power of two <= `cap` that divides `dim` (at least 1).
static int64_t panelWidth(int64_t dim, int64_t cap) {
  int64_t w = 1;
  while (w * 2 <= cap && dim % (w * 2) == 0)
    w *= 2;
  return w;
}

/// Left-operand access of a micro-kernel: the f32 value of row `i` of the
/// register tile at reduction index `k`.
using RowAccess = function_ref<Value(OpBuilder &, Location, int64_t, Value)>;

/// The micro-kernel: MR accumulators vector<NR x f32>,
///   acc[i] = Σ_k A(i, k) · Bp[k, 0 : NR]
/// for k in [0, K), with `bp` a packed [K, NR] f32 weight panel (contiguous
/// rows: the hardware prefetcher streams it).
static SmallVector<Value> microKernel(OpBuilder &b, Location loc, RowAccess aAt,
                                      int64_t mr, Value bp, int64_t K,
                                      int64_t nr) {
  Type f32 = b.getF32Type();
  auto accType = VectorType::get({nr}, f32);
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0)));
  SmallVector<Value> init(mr, zero);
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value cK = arith::ConstantIndexOp::create(b, loc, K);
  auto loop = scf::ForOp::create(
      b, loc, c0, cK, c1, init,
      [&](OpBuilder &nb, Location l, Value k, ValueRange acc) {
        Value z = arith::ConstantIndexOp::create(nb, l, 0);
        Value row = vector::TransferReadOp::create(
            nb, l, accType, bp, ValueRange{k, z}, cstF32(nb, l, 0.0),
            ArrayRef<bool>{true});
        SmallVector<Value> next;
        for (int64_t i = 0; i < mr; ++i) {
          Value splat =
              vector::BroadcastOp::create(nb, l, accType, aAt(nb, l, i, k));
          next.push_back(vector::FMAOp::create(nb, l, splat, row, acc[i]));
        }
        scf::YieldOp::create(nb, l, next);
      });
  loop->setAttr(decision::kMicroKernel, b.getUnitAttr());
  return SmallVector<Value>(loop.getResults().begin(), loop.getResults().end());
}

/// Copies the column panel W[(expert,) :, col : col + NR] ([K, NR]) into
/// `dest` ([K, NR] f32), widening to f32: one vector<NR> row per step, so
/// the strided rows of W are fetched with many loads in flight.
static Value packPanel(OpBuilder &b, Location loc, Value w, Value expert,
                       Value col, int64_t K, int64_t nr, Value dest) {
  Type wElem = cast<RankedTensorType>(w.getType()).getElementType();
  auto rowType = VectorType::get({nr}, wElem);
  auto f32Type = VectorType::get({nr}, b.getF32Type());
  auto loop = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0),
      arith::ConstantIndexOp::create(b, loc, K),
      arith::ConstantIndexOp::create(b, loc, 1), ValueRange{dest},
      [&](OpBuilder &nb, Location l, Value k, ValueRange it) {
        SmallVector<Value> at;
        if (expert)
          at.push_back(expert);
        at.append({k, col});
        Value pad = arith::ConstantOp::create(nb, l, nb.getZeroAttr(wElem));
        Value row = vector::TransferReadOp::create(nb, l, rowType, w, at, pad,
                                                   ArrayRef<bool>{true});
        if (!wElem.isF32())
          row = arith::ExtFOp::create(nb, l, f32Type, row);
        Value z = arith::ConstantIndexOp::create(nb, l, 0);
        Value next =
            vector::TransferWriteOp::create(nb, l, row, it[0], ValueRange{k, z},
                                            ArrayRef<bool>{true})
                .getResult();
        scf::YieldOp::create(nb, l, next);
      });
  loop->setAttr(decision::kMoePack, b.getUnitAttr());
  return loop.getResult(0);
}

/// silu(a) · g on vectors, silu(a) = a / (1 + e^{-a}) as the reference.
static Value siluTimes(OpBuilder &b, Location l, Value a, Value g) {
  auto type = cast<VectorType>(a.getType());
  Value one = arith::ConstantOp::create(
      b, l, DenseElementsAttr::get(type, b.getF32FloatAttr(1.0)));
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, a));
  Value silu =
      arith::DivFOp::create(b, l, a, arith::AddFOp::create(b, l, one, e));
  return arith::MulFOp::create(b, l, silu, g);
}

struct MoeDispatchPattern : OpRewritePattern<MoeOp> {
  MoeDispatchPattern(MLIRContext *ctx, int64_t mr, int64_t nr)
      : OpRewritePattern(ctx), mr(mr), nr(nr) {}

  /// Builds an scf.forall over `panels` NR-wide column panels of `shared`
  /// ([rows, cols] f32); `body(b, loc, slice, col)` returns the new value of
  /// the [rows, NR] slice at global column `col`.
  Value panelForall(
      OpBuilder &rw, Location loc, Value shared, int64_t width, MoeStage stage,
      function_ref<Value(OpBuilder &, Location, Value, Value)> body) const {
    auto type = cast<RankedTensorType>(shared.getType());
    const int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
    auto sliceType =
        RankedTensorType::get({rows, width}, type.getElementType());
    auto forall = scf::ForallOp::create(
        rw, loc, ArrayRef<OpFoldResult>{rw.getIndexAttr(cols / width)},
        ValueRange{shared}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value col = arith::MulIOp::create(
              b, l, args[0], arith::ConstantIndexOp::create(b, l, width));
          OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
          SmallVector<OpFoldResult> offsets = {zero, col};
          SmallVector<OpFoldResult> sizes = {b.getIndexAttr(rows),
                                             b.getIndexAttr(width)};
          SmallVector<OpFoldResult> strides = {one, one};
          Value slice = tensor::ExtractSliceOp::create(b, l, sliceType, args[1],
                                                       offsets, sizes, strides);
          Value result = body(b, l, slice, col);
          auto inParallel = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(&inParallel.getRegion().front());
          tensor::ParallelInsertSliceOp::create(b, l, result, args[1], offsets,
                                                sizes, strides);
        });
    forall->setAttr(decision::kMoeStage,
                    MoeStageAttr::get(rw.getContext(), stage));
    forall->setAttr(decision::kTile,
                    MoeRegisterTileAttr::get(rw.getContext(), mr, width));
    return forall.getResult(0);
  }

  /// An scf.for over row tiles [lo, hi) step MR carrying `slice`;
  /// `body(b, loc, rowTile, slice)` returns the updated slice.
  static Value
  rowTiles(OpBuilder &b, Location loc, Value lo, Value hi, int64_t step,
           Value slice,
           function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
    auto loop = scf::ForOp::create(
        b, loc, lo, hi, arith::ConstantIndexOp::create(b, loc, step),
        ValueRange{slice},
        [&](OpBuilder &nb, Location l, Value rt, ValueRange iter) {
          scf::YieldOp::create(nb, l, body(nb, l, rt, iter[0]));
        });
    return loop.getResult(0);
  }

  /// The packed left operand of the up projections: A[t, k, i] =
  /// x[rowOf(t·MR + i), k] in f32, so a tile's MR values at one k are
  /// adjacent.
  Value
  packRows(OpBuilder &b, Location loc, Value x, int64_t rows,
           function_ref<Value(OpBuilder &, Location, Value)> rowOf) const {
    const int64_t K = cast<RankedTensorType>(x.getType()).getDimSize(1);
    MLIRContext *ctx = b.getContext();
    AffineExpr t, i, k;
    bindDims(ctx, t, i, k);
    Value init = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{rows / mr, K, mr}, b.getF32Type());
    // Loops (t, i, k): x rows are read contiguously.
    auto gather = linalg::GenericOp::create(
        b, loc, init.getType(), ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{AffineMap::get(3, 0, {t, k, i}, ctx)},
        ArrayRef<IteratorType>{kPar, kPar, kPar},
        [&](OpBuilder &nb, Location l, ValueRange) {
          Value r = arith::AddIOp::create(
              nb, l,
              arith::MulIOp::create(nb, l, linalg::IndexOp::create(nb, l, 0),
                                    arith::ConstantIndexOp::create(nb, l, mr)),
              linalg::IndexOp::create(nb, l, 1));
          Value v = tensor::ExtractOp::create(
              nb, l, x,
              ValueRange{rowOf(nb, l, r), linalg::IndexOp::create(nb, l, 2)});
          yield(nb, l, toF32(nb, l, v));
        });
    return gather.getResult(0);
  }

  /// Up projection of the gated MLP into the slice [rows, NR]: for the row
  /// tiles [lo, hi) of the packed `a`, slice[rt + i] = silu(A W1) ⊙ (A W3)
  /// with the packed panels p1, p3 ([K, NR] f32).
  Value upTiles(OpBuilder &b, Location loc, Value slice, Value a, Value p1,
                Value p3, Value lo, Value hi, int64_t K, int64_t width) const {
    return rowTiles(
        b, loc, lo, hi, mr, slice,
        [&](OpBuilder &nb, Location l, Value rt, Value s) -> Value {
          Value tile = arith::DivUIOp::create(
              nb, l, rt, arith::ConstantIndexOp::create(nb, l, mr));
          auto aAt = [&](OpBuilder &kb, Location kl, int64_t i,
                         Value k) -> Value {
            return tensor::ExtractOp::create(
                kb, kl, a,
                ValueRange{tile, k, arith::ConstantIndexOp::create(kb, kl, i)});
          };
          SmallVector<Value> acc1 = microKernel(nb, l, aAt, mr, p1, K, width);
          SmallVector<Value> acc3 = microKernel(nb, l, aAt, mr, p3, K, width);
          Value c0 = arith::ConstantIndexOp::create(nb, l, 0);
          for (int64_t i = 0; i < mr; ++i) {
            Value h = siluTimes(nb, l, acc1[i], acc3[i]);
            Value r = arith::AddIOp::create(
                nb, l, rt, arith::ConstantIndexOp::create(nb, l, i));
            s = vector::TransferWriteOp::create(nb, l, h, s, ValueRange{r, c0},
                                                ArrayRef<bool>{true})
                    .getResult();
          }
          return s;
        });
  }

  /// Row range [lo, end) of expert `e` and its MR-padded end hi.
  static std::tuple<Value, Value, Value>
  expertRows(OpBuilder &b, Location l, Value bounds, Value e, int64_t mr) {
    IREmitter em(b, l);
    Value two = em.idx(2);
    Value lo = em.extractIndex(bounds, {em.mul(e, two)});
    Value end = em.extractIndex(bounds, {em.add(em.mul(e, two), em.idx(1))});
    Value hi = em.add(
        lo, em.mul(arith::CeilDivUIOp::create(
                       b, l, arith::SubIOp::create(b, l, end, lo), em.idx(mr)),
                   em.idx(mr)));
    return {lo, end, hi};
  }

  /// scf.for over the experts carrying `iters`; for each expert with rows,
  /// `body(b, loc, e, lo, end, hi, iters)` returns the new iters.
  static SmallVector<Value>
  forExperts(OpBuilder &b, Location loc, int64_t E, Value bounds, int64_t mr,
             ValueRange iters,
             function_ref<SmallVector<Value>(OpBuilder &, Location, Value,
                                             Value, Value, Value, ValueRange)>
                 body) {
    auto loop = scf::ForOp::create(
        b, loc, arith::ConstantIndexOp::create(b, loc, 0),
        arith::ConstantIndexOp::create(b, loc, E),
        arith::ConstantIndexOp::create(b, loc, 1), iters,
        [&](OpBuilder &nb, Location l, Value e, ValueRange it) {
          Value lo, end, hi;
          std::tie(lo, end, hi) = expertRows(nb, l, bounds, e, mr);
          // Experts without tokens pack no weights.
          Value any =
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, lo, end);
          auto ifOp = scf::IfOp::create(
              nb, l, any,
              [&](OpBuilder &ib, Location il) {
                scf::YieldOp::create(ib, il, body(ib, il, e, lo, end, hi, it));
              },
              [&](OpBuilder &ib, Location il) {
                scf::YieldOp::create(ib, il, it);
              });
          scf::YieldOp::create(nb, l, ifOp.getResults());
        });
    return SmallVector<Value>(loop.getResults().begin(),
                              loop.getResults().end());
  }

  static Value emptyF32(OpBuilder &b, Location l, ArrayRef<int64_t> shape) {
    return tensor::EmptyOp::create(b, l, shape, b.getF32Type());
  }

  LogicalResult matchAndRewrite(MoeOp op, PatternRewriter &rw) const override {
    // The register tile chosen by kestrel-tile, when it ran, wins over the
    // pass options.
    // (Both typed attributes were checked by the IR verifier.)
    if (auto tile = op->getAttrOfType<MoeRegisterTileAttr>(decision::kTile)) {
      if (tile.getRows() != mr || tile.getCols() != nr)
        return MoeDispatchPattern(op.getContext(), tile.getRows(),
                                  tile.getCols())
            .rewrite(op, rw);
    }
    return rewrite(op, rw);
  }

  /// Dispatch by counting sort: per expert, its routed tokens (`tok`) and
  /// weights (`pw`) packed into rows [start, end) of a [rowsMax] space, each
  /// expert's run padded to a multiple of MR; `bounds` [2E] holds each
  /// (start, end). `p` is the [N, E] routing matrix.
  struct Dispatched {
    Value tok, pw, bounds;
  };
  Dispatched dispatchRows(PatternRewriter &rw, Location loc, Value p, int64_t N,
                          int64_t E, int64_t rowsMax) const {
    IREmitter em(rw, loc);
    IREmitter rb(rw, loc);
    Type indexType = rw.getIndexType();
    Value tokEmpty =
        tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{rowsMax}, indexType);
    Value tok = linalg::FillOp::create(rw, loc, ValueRange{em.idx(0)},
                                       ValueRange{tokEmpty})
                    .getResult(0);
    Value pw = rb.filled({rowsMax}, 0.0);
    Value bounds =
        tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{2 * E}, indexType);
    auto perExpert = scf::ForOp::create(
        rw, loc, em.idx(0), em.idx(E), em.idx(1),
        ValueRange{em.idx(0), tok, pw, bounds},
        [&](OpBuilder &b, Location l, Value e, ValueRange it) {
          Value start = it[0];
          auto perToken = scf::ForOp::create(
              b, l, arith::ConstantIndexOp::create(b, l, 0),
              arith::ConstantIndexOp::create(b, l, N),
              arith::ConstantIndexOp::create(b, l, 1),
              ValueRange{start, it[1], it[2]},
              [&](OpBuilder &nb, Location ll, Value n, ValueRange st) {
                Value pv =
                    tensor::ExtractOp::create(nb, ll, p, ValueRange{n, e});
                Value hit = arith::CmpFOp::create(
                    nb, ll, arith::CmpFPredicate::UNE, pv, cstF32(nb, ll, 0.0));
                auto ifOp = scf::IfOp::create(
                    nb, ll, hit,
                    [&](OpBuilder &ib, Location il) {
                      Value t = tensor::InsertOp::create(ib, il, n, st[1],
                                                         ValueRange{st[0]});
                      Value w = tensor::InsertOp::create(ib, il, pv, st[2],
                                                         ValueRange{st[0]});
                      Value next = arith::AddIOp::create(
                          ib, il, st[0],
                          arith::ConstantIndexOp::create(ib, il, 1));
                      scf::YieldOp::create(ib, il, ValueRange{next, t, w});
                    },
                    [&](OpBuilder &ib, Location il) {
                      scf::YieldOp::create(ib, il, st);
                    });
                scf::YieldOp::create(nb, ll, ifOp.getResults());
              });
          Value end = perToken.getResult(0);
          IREmitter be(b, l);
          // Next start: start + roundup(end - start, MR).
          Value count = arith::SubIOp::create(b, l, end, start);
          Value tiles = arith::CeilDivUIOp::create(b, l, count, be.idx(mr));
          Value next = be.add(start, be.mul(tiles, be.idx(mr)));
          Value at = be.mul(e, be.idx(2));
          Value bnd =
              tensor::InsertOp::create(b, l, start, it[3], ValueRange{at});
          bnd = tensor::InsertOp::create(b, l, end, bnd,
                                         ValueRange{be.add(at, be.idx(1))});
          scf::YieldOp::create(b, l,
                               ValueRange{next, perToken.getResult(1),
                                          perToken.getResult(2), bnd});
        });
    perExpert->setAttr(decision::kMoeStage,
                       MoeStageAttr::get(rw.getContext(), MoeStage::Dispatch));
    return {perExpert.getResult(1), perExpert.getResult(2),
            perExpert.getResult(3)};
  }

  /// Down projection and combine: out [N, d] f32, panels of d; the shared
  /// expert's rows (from `hs`, when present) first, then each routed row of
  /// `h` scattered, weighted, onto its token.
  Value downProjection(OpBuilder &rw, Location loc, MoeOp op,
                       const Dispatched &dp, Value h, Value hs, int64_t fs,
                       int64_t dW) const {
    RankedTensorType xType = op.getX().getType();
    const int64_t N = xType.getDimSize(0), d = xType.getDimSize(1);
    auto w1Type = cast<RankedTensorType>(op.getW1().getType());
    const int64_t E = w1Type.getDimSize(0), ff = w1Type.getDimSize(2);
    Value tok = dp.tok, pw = dp.pw, bounds = dp.bounds;
    // Down projection and combine: out [N, d] f32, panels of d.
    return panelForall(
        rw, loc, emptyF32(rw, loc, {N, d}), dW, MoeStage::Down,
        [&](OpBuilder &b, Location l, Value slice, Value col) -> Value {
          IREmitter ne(b, l);
          Value c0 = ne.idx(0);
          if (hs) {
            Value p2 = packPanel(b, l, op.getSharedW2(), Value(), col, fs, dW,
                                 emptyF32(b, l, {fs, dW}));
            // Full row tiles write every row; the last, partial tile only
            // its rows below N.
            auto store = [&](OpBuilder &nb, Location ll, Value rt, Value s,
                             int64_t count) {
              auto aAt = [&](OpBuilder &kb, Location kl, int64_t i,
                             Value k) -> Value {
                Value r = arith::AddIOp::create(
                    kb, kl, rt, arith::ConstantIndexOp::create(kb, kl, i));
                return tensor::ExtractOp::create(kb, kl, hs, ValueRange{r, k});
              };
              SmallVector<Value> acc = microKernel(nb, ll, aAt, mr, p2, fs, dW);
              Value z = arith::ConstantIndexOp::create(nb, ll, 0);
              for (int64_t i = 0; i < count; ++i) {
                Value r = arith::AddIOp::create(
                    nb, ll, rt, arith::ConstantIndexOp::create(nb, ll, i));
                s = vector::TransferWriteOp::create(nb, ll, acc[i], s,
                                                    ValueRange{r, z},
                                                    ArrayRef<bool>{true})
                        .getResult();
              }
              return s;
            };
            const int64_t full = N / mr;
            slice = rowTiles(b, l, c0, ne.idx(full * mr), mr, slice,
                             [&](OpBuilder &nb, Location ll, Value rt,
                                 Value s) { return store(nb, ll, rt, s, mr); });
            if (N % mr)
              slice = store(b, l, ne.idx(full * mr), slice, N % mr);
          } else {
            slice = linalg::FillOp::create(b, l, cstF32(b, l, 0.0), slice)
                        .getResult(0);
          }
          SmallVector<Value> iters = {slice};
          return forExperts(
              b, l, E, bounds, mr, iters,
              [&](OpBuilder &nb, Location ll, Value e, Value lo, Value end,
                  Value hi, ValueRange it) -> SmallVector<Value> {
                Value p2 = packPanel(nb, ll, op.getW2(), e, col, ff, dW,
                                     emptyF32(nb, ll, {ff, dW}));
                Value s = rowTiles(
                    nb, ll, lo, hi, mr, it[0],
                    [&](OpBuilder &tb, Location tl, Value rt,
                        Value sl) -> Value {
                      SmallVector<Value> rows;
                      for (int64_t i = 0; i < mr; ++i)
                        rows.push_back(arith::AddIOp::create(
                            tb, tl, rt,
                            arith::ConstantIndexOp::create(tb, tl, i)));
                      auto aAt = [&](OpBuilder &kb, Location kl, int64_t i,
                                     Value k) -> Value {
                        return tensor::ExtractOp::create(
                            kb, kl, h, ValueRange{rows[i], k});
                      };
                      SmallVector<Value> acc =
                          microKernel(tb, tl, aAt, mr, p2, ff, dW);
                      auto vt = cast<VectorType>(acc[0].getType());
                      // Weighted scatter-add of the real (non-padding) rows.
                      for (int64_t i = 0; i < mr; ++i) {
                        Value real = arith::CmpIOp::create(
                            tb, tl, arith::CmpIPredicate::ult, rows[i], end);
                        auto ifOp = scf::IfOp::create(
                            tb, tl, real,
                            [&](OpBuilder &ib, Location il) {
                              Value n = tensor::ExtractOp::create(
                                  ib, il, tok, ValueRange{rows[i]});
                              Value w = tensor::ExtractOp::create(
                                  ib, il, pw, ValueRange{rows[i]});
                              Value z =
                                  arith::ConstantIndexOp::create(ib, il, 0);
                              Value old = vector::TransferReadOp::create(
                                  ib, il, vt, sl, ValueRange{n, z},
                                  cstF32(ib, il, 0.0), ArrayRef<bool>{true});
                              Value splat =
                                  vector::BroadcastOp::create(ib, il, vt, w);
                              Value upd = vector::FMAOp::create(ib, il, splat,
                                                                acc[i], old);
                              Value ns = vector::TransferWriteOp::create(
                                             ib, il, upd, sl, ValueRange{n, z},
                                             ArrayRef<bool>{true})
                                             .getResult();
                              scf::YieldOp::create(ib, il, ns);
                            },
                            [&](OpBuilder &ib, Location il) {
                              scf::YieldOp::create(ib, il, sl);
                            });
                        sl = ifOp.getResult(0);
                      }
                      return sl;
                    });
                return {s};
              })[0];
        });
  }

  LogicalResult rewrite(MoeOp op, PatternRewriter &rw) const {
    auto isStatic = [](Type t) {
      return cast<RankedTensorType>(t).hasStaticShape();
    };
    if (!llvm::all_of(op->getOperandTypes(), isStatic) ||
        !isStatic(op.getResult().getType()))
      return rw.notifyMatchFailure(op, "dynamic shapes");

    Location loc = op.getLoc();
    IREmitter rb(rw, loc);
    RankedTensorType xType = op.getX().getType();
    const int64_t N = xType.getDimSize(0), d = xType.getDimSize(1);
    auto w1Type = cast<RankedTensorType>(op.getW1().getType());
    const int64_t E = w1Type.getDimSize(0), ff = w1Type.getDimSize(2);
    auto idxType = cast<RankedTensorType>(op.getIndices().getType());
    const int64_t assignments = idxType.getDimSize(0) * idxType.getDimSize(1);
    Type storage = xType.getElementType();
    const bool expertChoice = op.isExpertChoice();
    const int64_t ffW = panelWidth(ff, nr), dW = panelWidth(d, nr);

    // P[n, e] = Σ_j [index hits (n, e)] · weight, loops (n, e, j).
    auto map = [&](unsigned dims, ArrayRef<unsigned> res) {
      return rb.projection(dims, res);
    };
    AffineMap routed = expertChoice ? map(3, {1, 2}) : map(3, {0, 2});
    Value p = rb.generic(
        {op.getIndices(), op.getWeights()}, rb.filled({N, E}, 0.0),
        {routed, routed, map(3, {0, 1})}, {kPar, kPar, kRed},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value target = linalg::IndexOp::create(b, l, expertChoice ? 0 : 1);
          target = arith::IndexCastOp::create(b, l, args[0].getType(), target);
          Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                            args[0], target);
          Value addend = arith::SelectOp::create(
              b, l, hit, toF32(b, l, args[1]), cstF32(b, l, 0.0));
          yield(b, l, arith::AddFOp::create(b, l, args[2], addend));
        });

    // Dispatch by counting sort into a packed, MR-padded row space, sized
    // by the bound kestrel-specialize-sparsity derived from k (or c) and E.
    int64_t routedMax = std::min(N * E, assignments);
    if (auto bounds = op->getAttrOfType<MoeBoundsAttr>(decision::kMoeBounds))
      routedMax = std::min(routedMax, bounds.getPairs());
    const int64_t rowsMax = routedMax + E * (mr - 1);
    Dispatched dp = dispatchRows(rw, loc, p, N, E, rowsMax);
    Value tok = dp.tok, bounds = dp.bounds;
    Value x = op.getX();

    // Routed up projection: H [rowsMax, ff] f32 from the gathered tokens.
    Value xr = packRows(
        rw, loc, x, rowsMax, [&](OpBuilder &b, Location l, Value r) -> Value {
          return tensor::ExtractOp::create(b, l, tok, ValueRange{r});
        });
    Value h = panelForall(
        rw, loc, emptyF32(rw, loc, {rowsMax, ff}), ffW, MoeStage::Up,
        [&](OpBuilder &b, Location l, Value slice, Value col) -> Value {
          SmallVector<Value> iters = {slice};
          return forExperts(
              b, l, E, bounds, mr, iters,
              [&](OpBuilder &nb, Location ll, Value e, Value lo, Value,
                  Value hi, ValueRange it) -> SmallVector<Value> {
                // The packed panels live in this expert's iteration only.
                Value p1 = packPanel(nb, ll, op.getW1(), e, col, d, ffW,
                                     emptyF32(nb, ll, {d, ffW}));
                Value p3 = packPanel(nb, ll, op.getW3(), e, col, d, ffW,
                                     emptyF32(nb, ll, {d, ffW}));
                return {upTiles(nb, ll, it[0], xr, p1, p3, lo, hi, d, ffW)};
              })[0];
        });

    // Shared up projection: Hs [roundup(N, MR), fs] f32, rows clamped to N.
    Value hs;
    int64_t fs = 0, fsW = 0, nPad = llvm::divideCeil(N, mr) * mr;
    if (Value s1 = op.getSharedW1()) {
      fs = cast<RankedTensorType>(s1.getType()).getDimSize(1);
      fsW = panelWidth(fs, nr);
      Value xs = packRows(
          rw, loc, x, nPad, [&](OpBuilder &b, Location l, Value r) -> Value {
            return arith::MinUIOp::create(
                b, l, r, arith::ConstantIndexOp::create(b, l, N - 1));
          });
      hs = panelForall(
          rw, loc, emptyF32(rw, loc, {nPad, fs}), fsW, MoeStage::SharedUp,
          [&](OpBuilder &b, Location l, Value slice, Value col) -> Value {
            IREmitter ne(b, l);
            Value p1 = packPanel(b, l, s1, Value(), col, d, fsW,
                                 emptyF32(b, l, {d, fsW}));
            Value p3 = packPanel(b, l, op.getSharedW3(), Value(), col, d, fsW,
                                 emptyF32(b, l, {d, fsW}));
            return upTiles(b, l, slice, xs, p1, p3, ne.idx(0), ne.idx(nPad), d,
                           fsW);
          });
    }

    // Down projection and combine.
    Value out = downProjection(rw, loc, op, dp, h, hs, fs, dW);

    rw.replaceOp(op, rb.narrow(out, storage));
    return success();
  }

  int64_t mr, nr;
};

struct MoeDispatchPass : kestrel::impl::MoeDispatchBase<MoeDispatchPass> {
  using Base::Base;

  void runOnOperation() override {
    if (mr <= 0 || nr <= 0) {
      getOperation().emitError("kestrel-moe-dispatch: mr and nr must be "
                               "positive");
      return signalPassFailure();
    }
    // The recorded decisions (kestrel.tile, kestrel.moe_bounds) are typed
    // attributes checked by the IR verifier (DecisionAttrs.cpp) before any
    // pass runs, so nothing is half-rewritten on a malformed one.
    RewritePatternSet patterns(&getContext());
    patterns.add<MoeDispatchPattern>(&getContext(), mr, nr);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
