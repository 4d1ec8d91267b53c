//===- ChunkedRecurrence.cpp - Gated recurrences in chunked form ----------===//
//
// Rewrites a kestrel.gated_recurrence that kestrel-tile gave a chunk length
// (`kestrel.chunk = #kestrel.chunk<C>`) into the chunked form of docs/ops.md
// §2, applied by kestrel-fuse-io-aware:
//
//   scf.forall (b, h) in (B, H):                       -- independent heads
//     S = initial_state[b, h] (f32) or 0
//     for each chunk [c0, c0 + L) (L = C; a shorter static tail when C does
//     not divide T):
//       b_i = Σ_{j≤i} g_j                              -- cumulative log-gates
//       P   = (Q Kᵀ) ⊙ D,  D_ij = e^{b_i − b_j} (j ≤ i), 0 above
//             (vector gates: P_ij = Σ_d q_id k_jd e^{b_id − b_jd}, j ≤ i,
//             by 16-row sub-blocks: an exponent per term on the diagonal
//             blocks, one product per block for the columns before it)
//       U   = V                                        (none/scalar/vector)
//           = T diag(β) V − W S,  W = T diag(β e^b) K  (delta rules)
//             with T = (I + A)⁻¹ by forward substitution,
//             A_ij = β_i e^{b_i − b_j} k_i·k_j for j < i
//       O   = (Q ⊙ e^b) S + P U                       -- inter + intra
//       S   = e^{b_{L-1}} ⊙ S + (K ⊙ e^{b_{L-1} − b})ᵀ U
//     out[b, h] = scale · O per chunk, final_state[b, h] = S
//
// Ungated kinds (none, delta) skip every exponential (b = 0). The scale is
// folded into Q. The plain matrix products are marked kestrel.contraction
// for kestrel-vectorize-contractions. Every exponent that is formed is a
// decay the recurrent definition applies as well (b_i − b_j with j ≤ i, b_i,
// b_{L-1} − b_i), so no factor e^{-b} can overflow where the recurrent form
// does not.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Common/IRBuilder.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace kestrel;

namespace {

/// Rows per sub-block of the vector-gate intra-chunk product (see
/// vectorChunk).
constexpr int64_t kSubChunk = 16;

/// The largest gate span |b_x − b_0| over a diagonal sub-block for which its
/// product is factored through the block's first row (see diagonalBlock):
/// factors stay within e^±20 ≈ 10^±8.7.
constexpr double kFactorSpan = 20.0;

/// Builds the body of one (batch, head) instance.
class ChunkEmitter : public IREmitter {
public:
  ChunkEmitter(OpBuilder &b, Location loc, GatedRecurrenceOp op, Value batch,
               Value head, Value kvHead)
      : IREmitter(b, loc), op(op), batch(batch), head(head), kvHead(kvHead),
        kind(op.getGate()), gated(GatedRecurrenceOp::isGated(op.getGate())),
        delta(GatedRecurrenceOp::isDelta(op.getGate())) {}

  /// The [len, dim] slice at (batch, head, start, 0) of a rank-4 tensor.
  Value slice2d(Value source, Value h, Value start, int64_t len, int64_t dim) {
    auto type = RankedTensorType::get(
        {len, dim}, cast<RankedTensorType>(source.getType()).getElementType());
    OpFoldResult one = b.getIndexAttr(1);
    return tensor::ExtractSliceOp::create(
        b, loc, type, source,
        ArrayRef<OpFoldResult>{batch, h, start, b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{one, one, b.getIndexAttr(len),
                               b.getIndexAttr(dim)},
        ArrayRef<OpFoldResult>{one, one, one, one});
  }

  /// The [len] slice at (batch, head, start) of a rank-3 [B, H, T] tensor.
  Value slice1d(Value source, Value start, int64_t len) {
    auto type = RankedTensorType::get(
        {len}, cast<RankedTensorType>(source.getType()).getElementType());
    OpFoldResult one = b.getIndexAttr(1);
    return tensor::ExtractSliceOp::create(
        b, loc, type, source, ArrayRef<OpFoldResult>{batch, head, start},
        ArrayRef<OpFoldResult>{one, one, b.getIndexAttr(len)},
        ArrayRef<OpFoldResult>{one, one, one});
  }

  /// `x` (rank 1 or 2, any storage type) widened to f32 and times `scale`.
  Value widen(Value x, double scale = 1.0) {
    auto type = cast<RankedTensorType>(x.getType());
    AffineMap id = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
    SmallVector<IteratorType> its(type.getRank(), kPar);
    return generic({x}, tensor::EmptyOp::create(b, loc, type.getShape(), f32),
                   {id, id}, its, [&](OpBuilder &nb, Location l, ValueRange a) {
                     Value v = toF32(nb, l, a[0]);
                     if (scale != 1.0)
                       v = arith::MulFOp::create(nb, l, v,
                                                 cstF32(nb, l, scale));
                     yield(nb, l, v);
                   });
  }

  /// [M, N] -> [N, M].
  Value transpose(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    AffineExpr r, c;
    bindDims(ctx, r, c);
    return generic(
        {x},
        tensor::EmptyOp::create(b, loc,
                                {type.getDimSize(1), type.getDimSize(0)}, f32),
        {map(2, {c, r}), map(2, {r, c})}, {kPar, kPar},
        [](OpBuilder &nb, Location l, ValueRange a) { yield(nb, l, a[0]); });
  }

  /// acc[m, n] += Σ_k x[m, k] y[k, n], loops (m, k, n): the innermost loop
  /// runs over contiguous y and acc. Zero `acc` for a plain product.
  Value matmul(Value x, Value y, Value acc) {
    AffineExpr m, k, n;
    bindDims(ctx, m, k, n);
    Value r = generic(
        {x, y}, acc, {map(3, {m, k}), map(3, {k, n}), map(3, {m, n})},
        {kPar, kRed, kPar}, [](OpBuilder &nb, Location l, ValueRange a) {
          Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
          yield(nb, l, arith::AddFOp::create(nb, l, a[2], p));
        });
    r.getDefiningOp()->setAttr(decision::kContraction, b.getUnitAttr());
    return r;
  }

  Value matmul(Value x, Value y) {
    auto xt = cast<RankedTensorType>(x.getType());
    auto yt = cast<RankedTensorType>(y.getType());
    return matmul(x, y, filled({xt.getDimSize(0), yt.getDimSize(1)}, 0.0));
  }

  /// The diagonal block P_ij = Σ_d q_id kᵀ_dj e^{b_id − bᵀ_dj}, j ≤ i (0
  /// above), of rows q [c, Dk] and the same positions' kᵀ [Dk, c]; loops
  /// (i, d, j) with contiguous j innermost, accumulated into `acc`.
  Value intraDiagonal(Value q, Value cb, Value kt, Value cbt, Value acc) {
    AffineExpr i, d, j;
    bindDims(ctx, i, d, j);
    return generic(
        {q, cb, kt, cbt}, acc,
        {map(3, {i, d}), map(3, {i, d}), map(3, {d, j}), map(3, {d, j}),
         map(3, {i, j})},
        {kPar, kRed, kPar}, [](OpBuilder &nb, Location l, ValueRange x) {
          Value keep = cmp(nb, l, arith::CmpIPredicate::ule, index(nb, l, 2),
                           index(nb, l, 0));
          Value g = exp(nb, l, arith::SubFOp::create(nb, l, x[1], x[3]));
          Value t = arith::MulFOp::create(
              nb, l, arith::MulFOp::create(nb, l, x[0], x[2]), g);
          t = arith::SelectOp::create(nb, l, keep, t, cstF32(nb, l, 0.0));
          yield(nb, l, arith::AddFOp::create(nb, l, x[4], t));
        });
  }

  /// The diagonal block of P for rows q [c, Dk] (cumulative gates cb) and
  /// the same positions' kᵀ, cbᵀ [Dk, c], into the zero `acc` [c, c]. When
  /// every |b_xd − b_0d| of the block is at most kFactorSpan (checked at run
  /// time), it is one product factored through the block's first row,
  ///   mask((Q ⊙ e^{b − b_0}) (K ⊙ e^{b_0 − b})ᵀ),
  /// whose factors all lie in [e^-span, e^span]: nothing overflows or
  /// underflows. Otherwise (strong gates, or NaN) every exponent is formed
  /// (intraDiagonal).
  Value diagonalBlock(Value q, Value cb, Value kt, Value cbt, Value acc) {
    auto qType = cast<RankedTensorType>(q.getType());
    int64_t c = qType.getDimSize(0), Dk = qType.getDimSize(1);
    AffineExpr x, y;
    bindDims(ctx, x, y);
    AffineExpr zero = getAffineConstantExpr(0, ctx);
    AffineMap id2 = map(2, {x, y});
    Value span =
        generic({cb, cb}, filled(ArrayRef<int64_t>{}, 0.0),
                {id2, map(2, {zero, y}), map(2, {})}, {kRed, kRed},
                [](OpBuilder &nb, Location l, ValueRange a) {
                  Value d = math::AbsFOp::create(
                      nb, l, arith::SubFOp::create(nb, l, a[0], a[1]));
                  yield(nb, l, arith::MaximumFOp::create(nb, l, a[2], d));
                });
    Value safe = arith::CmpFOp::create(
        b, loc, arith::CmpFPredicate::OLE,
        tensor::ExtractOp::create(b, loc, span, ValueRange{}),
        cstF32(b, loc, kFactorSpan));
    auto ifOp = scf::IfOp::create(
        b, loc, safe,
        [&](OpBuilder &nb, Location l) {
          ChunkEmitter e(nb, l, op, batch, head, kvHead);
          auto scaled = [](bool negate) {
            return [negate](OpBuilder &gb, Location gl, ValueRange a) {
              Value d = negate ? arith::SubFOp::create(gb, gl, a[2], a[1])
                               : arith::SubFOp::create(gb, gl, a[1], a[2]);
              yield(gb, gl,
                    arith::MulFOp::create(gb, gl, a[0], exp(gb, gl, d)));
            };
          };
          Value qs = e.generic({q, cb, cb},
                               tensor::EmptyOp::create(nb, l, {c, Dk}, f32),
                               {id2, id2, e.map(2, {zero, y}), id2},
                               {kPar, kPar}, scaled(false));
          Value ks = e.generic(
              {kt, cbt, cbt}, tensor::EmptyOp::create(nb, l, {Dk, c}, f32),
              {id2, id2, e.map(2, {x, zero}), id2}, {kPar, kPar}, scaled(true));
          Value block =
              e.generic({}, e.matmul(qs, ks, acc), {id2}, {kPar, kPar},
                        [](OpBuilder &gb, Location gl, ValueRange a) {
                          Value keep = cmp(gb, gl, arith::CmpIPredicate::ule,
                                           index(gb, gl, 1), index(gb, gl, 0));
                          yield(gb, gl,
                                arith::SelectOp::create(gb, gl, keep, a[0],
                                                        cstF32(gb, gl, 0.0)));
                        });
          scf::YieldOp::create(nb, l, block);
        },
        [&](OpBuilder &nb, Location l) {
          ChunkEmitter e(nb, l, op, batch, head, kvHead);
          scf::YieldOp::create(nb, l, e.intraDiagonal(q, cb, kt, cbt, acc));
        });
    return ifOp.getResult(0);
  }

  /// The position of loop `dim` as an index.
  static Value index(OpBuilder &nb, Location l, unsigned dim) {
    return linalg::IndexOp::create(nb, l, dim);
  }

  static Value cmp(OpBuilder &nb, Location l, arith::CmpIPredicate pred,
                   Value x, Value y) {
    return arith::CmpIOp::create(nb, l, pred, x, y);
  }

  static Value exp(OpBuilder &nb, Location l, Value x) {
    return math::ExpOp::create(nb, l, x);
  }

  /// Cumulative sums along dimension 0 of `g` ([L] or [L, Dk]):
  /// c[i, ...] = Σ_{j≤i} g[j, ...], loops (i, j[, d]).
  Value cumsum(Value g) {
    auto type = cast<RankedTensorType>(g.getType());
    int64_t L = type.getDimSize(0);
    auto body = [](OpBuilder &nb, Location l, ValueRange a) {
      Value keep = cmp(nb, l, arith::CmpIPredicate::ule, index(nb, l, 1),
                       index(nb, l, 0));
      Value v = arith::SelectOp::create(nb, l, keep, a[0], cstF32(nb, l, 0.0));
      yield(nb, l, arith::AddFOp::create(nb, l, a[1], v));
    };
    AffineExpr i, j, d;
    if (type.getRank() == 1) {
      bindDims(ctx, i, j);
      return generic({g}, filled({L}, 0.0), {map(2, {j}), map(2, {i})},
                     {kPar, kRed}, body);
    }
    bindDims(ctx, i, j, d);
    return generic({g}, filled({L, type.getDimSize(1)}, 0.0),
                   {map(3, {j, d}), map(3, {i, d})}, {kPar, kRed, kPar}, body);
  }

  /// T = (I + A)⁻¹ for a strictly lower triangular A [L, L], row by row:
  /// T_i = e_i − Σ_{j<i} A_ij T_j. Rows j ≥ i of T are still zero and
  /// A_ij = 0 for j ≥ i, so each row is a plain product over all j.
  Value unitLowerInverse(Value a) {
    int64_t L = cast<RankedTensorType>(a.getType()).getDimSize(0);
    auto rowType = RankedTensorType::get({L}, f32);
    auto loop = scf::ForOp::create(
        b, loc, idx(0), idx(L), idx(1), ValueRange{filled({L, L}, 0.0)},
        [&](OpBuilder &nb, Location l, Value i, ValueRange iter) {
          ChunkEmitter e(nb, l, op, batch, head, kvHead);
          Value tm = iter[0];
          OpFoldResult one = nb.getIndexAttr(1), zero = nb.getIndexAttr(0);
          SmallVector<OpFoldResult> offsets = {i, zero};
          SmallVector<OpFoldResult> sizes = {one, nb.getIndexAttr(L)};
          SmallVector<OpFoldResult> strides = {one, one};
          Value aRow = tensor::ExtractSliceOp::create(nb, l, rowType, a,
                                                      offsets, sizes, strides);
          AffineExpr c, j;
          bindDims(ctx, c);
          Value unit = e.generic(
              {}, tensor::EmptyOp::create(nb, l, {L}, f32), {e.map(1, {c})},
              {kPar}, [&](OpBuilder &gb, Location gl, ValueRange) {
                Value diag =
                    cmp(gb, gl, arith::CmpIPredicate::eq, index(gb, gl, 0), i);
                yield(gb, gl,
                      arith::SelectOp::create(gb, gl, diag, cstF32(gb, gl, 1.0),
                                              cstF32(gb, gl, 0.0)));
              });
          // Loops (j, c): the reduction outside, contiguous c inside.
          bindDims(ctx, j, c);
          Value row = e.generic(
              {aRow, tm}, unit,
              {e.map(2, {j}), e.map(2, {j, c}), e.map(2, {c})}, {kRed, kPar},
              [](OpBuilder &gb, Location gl, ValueRange x) {
                Value p = arith::MulFOp::create(gb, gl, x[0], x[1]);
                yield(gb, gl, arith::SubFOp::create(gb, gl, x[2], p));
              });
          Value next = tensor::InsertSliceOp::create(nb, l, row, tm, offsets,
                                                     sizes, strides);
          scf::YieldOp::create(nb, l, next);
        });
    return loop.getResult(0);
  }

  /// One chunk of `L` steps starting at `c0` from state `s` [Dk, Dv];
  /// returns {O [L, Dv] (scaled, f32), S_next}.
  std::pair<Value, Value> chunk(Value c0, int64_t L, Value s) {
    const int64_t Dk = op.getKeyDim();
    AffineExpr i, j, d;
    Value q =
        widen(slice2d(op.getQuery(), head, c0, L, Dk), op.getEffectiveScale());
    Value k = widen(slice2d(op.getKey(), kvHead, c0, L, Dk));
    Value v = widen(slice2d(op.getValue(), kvHead, c0, L, op.getValueDim()));
    Value kt = transpose(k); // [Dk, L]
    if (kind == GateKind::Vector)
      return vectorChunk(c0, L, s, q, kt, v);

    // Cumulative log-gates b [L] (gated kinds only).
    Value cb;
    if (gated)
      cb = cumsum(widen(slice1d(op.getLogGate(), c0, L)));

    // P = (Q Kᵀ) ⊙ D, masked in place: j ≤ i keeps e^{b_i − b_j} QK_ij.
    bindDims(ctx, i, j);
    AffineMap id2 = map(2, {i, j}), rowI = map(2, {i}), colJ = map(2, {j});
    auto decayed = [&](bool strict) {
      return [&, strict](OpBuilder &nb, Location l, ValueRange a) {
        Value keep =
            cmp(nb, l,
                strict ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule,
                index(nb, l, 1), index(nb, l, 0));
        Value x = a.back();
        if (gated)
          x = arith::MulFOp::create(
              nb, l, x, exp(nb, l, arith::SubFOp::create(nb, l, a[0], a[1])));
        if (strict) // the delta rule's A_ij = β_i (...)
          x = arith::MulFOp::create(nb, l, a[a.size() - 2], x);
        yield(nb, l,
              arith::SelectOp::create(nb, l, keep, x, cstF32(nb, l, 0.0)));
      };
    };
    SmallVector<Value> gateIn;
    SmallVector<AffineMap> gateMaps;
    if (gated) {
      gateIn = {cb, cb};
      gateMaps = {rowI, colJ};
    }
    Value qk = matmul(q, kt);
    SmallVector<AffineMap> pMaps(gateMaps);
    pMaps.push_back(id2);
    Value p = generic(gateIn, qk, pMaps, {kPar, kPar}, decayed(false));

    Value u = v;
    if (delta) {
      Value beta = widen(slice1d(op.getBeta(), c0, L));
      // A_ij = β_i e^{b_i − b_j} k_i·k_j for j < i, in place of K Kᵀ.
      Value kk = matmul(k, kt);
      SmallVector<Value> aIn(gateIn);
      aIn.push_back(beta);
      SmallVector<AffineMap> aMaps(gateMaps);
      aMaps.append({rowI, id2});
      Value a = generic(aIn, kk, aMaps, {kPar, kPar}, decayed(true));
      Value tm = unitLowerInverse(a);

      // W = T diag(β e^b) K, U = T diag(β) V − W S.
      SmallVector<Value> wIn = {beta, k};
      bindDims(ctx, i, d);
      SmallVector<AffineMap> wMaps = {map(2, {i}), map(2, {i, d})};
      if (gated) {
        wIn.push_back(cb);
        wMaps.push_back(map(2, {i}));
      }
      wMaps.push_back(map(2, {i, d}));
      Value rw =
          generic(wIn, tensor::EmptyOp::create(b, loc, {L, Dk}, f32), wMaps,
                  {kPar, kPar}, [&](OpBuilder &nb, Location l, ValueRange x) {
                    Value r = arith::MulFOp::create(nb, l, x[0], x[1]);
                    if (gated)
                      r = arith::MulFOp::create(nb, l, r, exp(nb, l, x[2]));
                    yield(nb, l, r);
                  });
      Value ru =
          generic({beta, v},
                  tensor::EmptyOp::create(b, loc, {L, op.getValueDim()}, f32),
                  {map(2, {i}), map(2, {i, d}), map(2, {i, d})}, {kPar, kPar},
                  [](OpBuilder &nb, Location l, ValueRange x) {
                    yield(nb, l, arith::MulFOp::create(nb, l, x[0], x[1]));
                  });
      Value w = matmul(tm, rw);
      Value ws = matmul(w, s);
      u = matmul(tm, ru);
      u = generic({ws}, u, {map(2, {i, d}), map(2, {i, d})}, {kPar, kPar},
                  [](OpBuilder &nb, Location l, ValueRange x) {
                    yield(nb, l, arith::SubFOp::create(nb, l, x[1], x[0]));
                  });
    }

    // O = (Q ⊙ e^b) S + P U.
    bindDims(ctx, i, d);
    Value qg = q;
    if (gated)
      qg = generic(
          {cb}, q, {map(2, {i}), map(2, {i, d})}, {kPar, kPar},
          [](OpBuilder &nb, Location l, ValueRange x) {
            yield(nb, l, arith::MulFOp::create(nb, l, x[1], exp(nb, l, x[0])));
          });
    Value o = matmul(qg, s);
    o = matmul(p, u, o);

    // S = e^{b_{L-1}} S + (K ⊙ e^{b_{L-1} − b})ᵀ U. Every read of the old
    // state is above, so the update runs in place.
    Value kgt = kt;
    if (gated) {
      AffineExpr e;
      bindDims(ctx, d, e);
      AffineExpr last = getAffineConstantExpr(L - 1, ctx);
      s = generic({cb}, s, {map(2, {last}), map(2, {d, e})}, {kPar, kPar},
                  [](OpBuilder &nb, Location l, ValueRange x) {
                    yield(nb, l,
                          arith::MulFOp::create(nb, l, x[1], exp(nb, l, x[0])));
                  });
      // Kgᵀ[d, i] = Kᵀ[d, i] e^{b_{L-1} − b_i}, in place of Kᵀ (read above).
      bindDims(ctx, d, i);
      kgt = generic({cb, cb}, kt, {map(2, {last}), map(2, {i}), map(2, {d, i})},
                    {kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange x) {
                      Value g =
                          exp(nb, l, arith::SubFOp::create(nb, l, x[0], x[1]));
                      yield(nb, l, arith::MulFOp::create(nb, l, x[2], g));
                    });
    }
    s = matmul(kgt, u, s);
    return {o, s};
  }

  /// The vector-gate chunk: b [L, Dk] per key channel.
  std::pair<Value, Value> vectorChunk(Value c0, int64_t L, Value s, Value q,
                                      Value kt, Value v) {
    const int64_t Dk = op.getKeyDim();
    Value cb = cumsum(widen(slice2d(op.getLogGate(), head, c0, L, Dk)));
    Value cbt = transpose(cb); // [Dk, L]

    // P_ij = Σ_d q_id k_jd e^{b_id − b_jd} for j ≤ i, by sub-blocks of
    // kSubChunk rows: the diagonal block forms every exponent (j ≤ i only);
    // the columns j < r before a block starting at row r factor through the
    // reference position r − 1,
    //   P[r:, :r] = (Q ⊙ e^{b − b_{r-1}}) (K ⊙ e^{b_{r-1} − b})ᵀ,
    // a plain product whose factors are both decays (exponents ≤ 0 for
    // decaying gates, so nothing overflows).
    // P is written block by block in place, so it must be a buffer of its
    // own: a plain zero fill would be merged by CSE with the other zero
    // fills of the same shape, and bufferization would then copy into
    // strided blocks (a memrefCopy runtime call).
    Value p =
        linalg::FillOp::create(
            b, loc, cstF32(b, loc, 0.0),
            Value(bufferization::AllocTensorOp::create(
                b, loc, RankedTensorType::get({L, L}, f32), ValueRange{})))
            .getResult(0);
    for (int64_t r = 0; r < L; r += kSubChunk) {
      int64_t c = std::min(kSubChunk, L - r);
      Value qI = slice(q, {r, 0}, {c, Dk}), cbI = slice(cb, {r, 0}, {c, Dk});
      // Both blocks accumulate into their (zero) slice of P, so that
      // bufferization writes them in place.
      Value diag =
          diagonalBlock(qI, cbI, slice(kt, {0, r}, {Dk, c}),
                        slice(cbt, {0, r}, {Dk, c}), slice(p, {r, r}, {c, c}));
      p = insert(diag, p, {r, r});
      if (r == 0)
        continue;
      AffineExpr x, y;
      bindDims(ctx, x, y);
      AffineExpr ref = getAffineConstantExpr(r - 1, ctx);
      // Q̃[x, d] = q[x, d] e^{b[x, d] − b[r-1, d]} over the block's rows.
      Value qt = generic(
          {qI, cbI, cb}, tensor::EmptyOp::create(b, loc, {c, Dk}, f32),
          {map(2, {x, y}), map(2, {x, y}), map(2, {ref, y}), map(2, {x, y})},
          {kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange a) {
            Value g = exp(nb, l, arith::SubFOp::create(nb, l, a[1], a[2]));
            yield(nb, l, arith::MulFOp::create(nb, l, a[0], g));
          });
      // K̃ᵀ[d, j] = kᵀ[d, j] e^{b[r-1, d] − b[j, d]} for j < r.
      Value kPast = generic(
          {slice(kt, {0, 0}, {Dk, r}), slice(cbt, {0, 0}, {Dk, r}), cbt},
          tensor::EmptyOp::create(b, loc, {Dk, r}, f32),
          {map(2, {x, y}), map(2, {x, y}), map(2, {x, ref}), map(2, {x, y})},
          {kPar, kPar}, [](OpBuilder &nb, Location l, ValueRange a) {
            Value g = exp(nb, l, arith::SubFOp::create(nb, l, a[2], a[1]));
            yield(nb, l, arith::MulFOp::create(nb, l, a[0], g));
          });
      p = insert(matmul(qt, kPast, slice(p, {r, 0}, {c, r})), p, {r, 0});
    }

    // O = (Q ⊙ e^b) S + P V.
    AffineExpr r, c;
    bindDims(ctx, r, c);
    AffineMap id2 = map(2, {r, c});
    Value qg = generic(
        {cb}, q, {id2, id2}, {kPar, kPar},
        [](OpBuilder &nb, Location l, ValueRange x) {
          yield(nb, l, arith::MulFOp::create(nb, l, x[1], exp(nb, l, x[0])));
        });
    Value o = matmul(qg, s);
    o = matmul(p, v, o);

    // S = diag(e^{b_{L-1}}) S + (K ⊙ e^{b_{L-1} − b})ᵀ V.
    AffineExpr last = getAffineConstantExpr(L - 1, ctx);
    s = generic({cbt}, s, {map(2, {r, last}), id2}, {kPar, kPar},
                [](OpBuilder &nb, Location l, ValueRange x) {
                  yield(nb, l,
                        arith::MulFOp::create(nb, l, x[1], exp(nb, l, x[0])));
                });
    Value kgt =
        generic({cbt, cbt}, kt, {map(2, {r, last}), id2, id2}, {kPar, kPar},
                [](OpBuilder &nb, Location l, ValueRange x) {
                  Value g =
                      exp(nb, l, arith::SubFOp::create(nb, l, x[0], x[1]));
                  yield(nb, l, arith::MulFOp::create(nb, l, x[2], g));
                });
    s = matmul(kgt, v, s);
    return {o, s};
  }

  GatedRecurrenceOp op;
  Value batch, head, kvHead;
  GateKind kind;
  bool gated, delta;
};

struct ChunkGatedRecurrence : OpRewritePattern<GatedRecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GatedRecurrenceOp op,
                                PatternRewriter &rw) const override {
    // (#kestrel.chunk is positive: the IR verifier checked it.)
    auto chunkAttr = op->getAttrOfType<ChunkAttr>(decision::kChunk);
    if (!chunkAttr)
      return rw.notifyMatchFailure(op, "no kestrel.chunk");
    for (Type t : llvm::concat<Type>(llvm::to_vector(op->getOperandTypes()),
                                     llvm::to_vector(op->getResultTypes())))
      if (!cast<RankedTensorType>(t).hasStaticShape())
        return rw.notifyMatchFailure(op, "dynamic shapes");

    const int64_t B = op.getBatch(), H = op.getNumHeads(), T = op.getSeqLen(),
                  Dk = op.getKeyDim(), Dv = op.getValueDim();
    if (T == 0) // (the verifier rejects it; never divide by a zero chunk)
      return rw.notifyMatchFailure(op, "empty sequence");
    const int64_t group = H / op.getNumKvHeads();
    const int64_t C = std::min<int64_t>(chunkAttr.getLength(), T);
    const int64_t nFull = T / C, tail = T % C;
    Location loc = op.getLoc();

    RankedTensorType outType = op.getOutput().getType();
    RankedTensorType stateType = op.getFinalState().getType();
    Value outInit = tensor::EmptyOp::create(rw, loc, outType.getShape(),
                                            outType.getElementType());
    Value stateInit = tensor::EmptyOp::create(rw, loc, stateType.getShape(),
                                              stateType.getElementType());
    SmallVector<OpFoldResult> ubs = {rw.getIndexAttr(B), rw.getIndexAttr(H)};

    auto forall = scf::ForallOp::create(
        rw, loc, ubs, ValueRange{outInit, stateInit}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value bi = args[0], hi = args[1], outArg = args[2],
                stateArg = args[3];
          Value kvHead = arith::DivUIOp::create(
              b, l, hi, arith::ConstantIndexOp::create(b, l, group));
          ChunkEmitter e(b, l, op, bi, hi, kvHead);

          // The state starts as 0 (+ initial_state): a fresh buffer that the
          // chunks update in place. A plain f32 copy would fold away and
          // the updates would write into the caller's initial_state.
          Value s0 = e.filled({Dk, Dv}, 0.0);
          if (Value init = op.getInitialState()) {
            AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, e.ctx);
            s0 = e.generic({e.slice2d(init, hi, e.idx(0), Dk, Dv)}, s0,
                           {id2, id2}, {kPar, kPar},
                           [](OpBuilder &nb, Location nl, ValueRange x) {
                             yield(nb, nl,
                                   arith::AddFOp::create(nb, nl, x[1],
                                                         toF32(nb, nl, x[0])));
                           });
          }
          // This head's rows of the output, written chunk by chunk.
          Value outHead = e.slice2d(outArg, hi, e.idx(0), T, Dv);

          // Narrows chunk output `o` [L, Dv] into rows c0.. of `outHead`.
          auto store = [&](ChunkEmitter &ce, Value o, Value c0, int64_t L,
                           Value dest) {
            OpBuilder &nb = ce.b;
            Location ll = ce.loc;
            SmallVector<OpFoldResult> offsets = {c0, nb.getIndexAttr(0)};
            SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(L),
                                               nb.getIndexAttr(Dv)};
            SmallVector<OpFoldResult> strides(2, nb.getIndexAttr(1));
            Type storage = outType.getElementType();
            Value rows = tensor::ExtractSliceOp::create(
                nb, ll, RankedTensorType::get({L, Dv}, storage), dest, offsets,
                sizes, strides);
            AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ce.ctx);
            rows = ce.generic({o}, rows, {id2, id2}, {kPar, kPar},
                              [&](OpBuilder &gb, Location gl, ValueRange x) {
                                yield(gb, gl, fromF32(gb, gl, x[0], storage));
                              });
            return tensor::InsertSliceOp::create(nb, ll, rows, dest, offsets,
                                                 sizes, strides)
                .getResult();
          };

          Value state = s0;
          if (nFull > 0) {
            auto loop = scf::ForOp::create(
                b, l, e.idx(0), e.idx(nFull), e.idx(1),
                ValueRange{state, outHead},
                [&](OpBuilder &nb, Location ll, Value c, ValueRange iter) {
                  ChunkEmitter ce(nb, ll, op, bi, hi, kvHead);
                  Value c0 = arith::MulIOp::create(nb, ll, c, ce.idx(C));
                  auto [o, next] = ce.chunk(c0, C, iter[0]);
                  Value out = store(ce, o, c0, C, iter[1]);
                  scf::YieldOp::create(nb, ll, ValueRange{next, out});
                });
            state = loop.getResult(0);
            outHead = loop.getResult(1);
          }
          if (tail > 0) {
            // The shorter last chunk, with its own static shapes.
            Value c0 = e.idx(nFull * C);
            auto [o, next] = e.chunk(c0, tail, state);
            outHead = store(e, o, c0, tail, outHead);
            state = next;
          }
          state = e.generic(
              {state},
              tensor::EmptyOp::create(b, l, {Dk, Dv},
                                      stateType.getElementType()),
              {AffineMap::getMultiDimIdentityMap(2, e.ctx),
               AffineMap::getMultiDimIdentityMap(2, e.ctx)},
              {kPar, kPar}, [&](OpBuilder &gb, Location gl, ValueRange x) {
                yield(gb, gl,
                      fromF32(gb, gl, x[0], stateType.getElementType()));
              });

          auto inParallel = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(&inParallel.getRegion().front());
          OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
          SmallVector<OpFoldResult> strides(4, one);
          tensor::ParallelInsertSliceOp::create(
              b, l, outHead, outArg, ArrayRef<OpFoldResult>{bi, hi, zero, zero},
              ArrayRef<OpFoldResult>{one, one, b.getIndexAttr(T),
                                     b.getIndexAttr(Dv)},
              strides);
          tensor::ParallelInsertSliceOp::create(
              b, l, state, stateArg, ArrayRef<OpFoldResult>{bi, hi, zero, zero},
              ArrayRef<OpFoldResult>{one, one, b.getIndexAttr(Dk),
                                     b.getIndexAttr(Dv)},
              strides);
        });
    rw.replaceOp(op, forall.getResults());
    return success();
  }
};

} // namespace

void kestrel::populateChunkedRecurrencePatterns(RewritePatternSet &patterns) {
  patterns.add<ChunkGatedRecurrence>(patterns.getContext());
}
