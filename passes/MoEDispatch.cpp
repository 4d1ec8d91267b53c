//===- MoEDispatch.cpp - Sparse dispatch and grouped GEMMs for kestrel.moe -===//
//
// Rewrites every statically shaped kestrel.moe into the sparse form of
// shared/OPS.md §3: only the routed (token, expert) pairs are computed.
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
// The register tile is recorded on the rewritten loops as
// `kestrel.moe_tile = array<i64: MR, NR>` with `kestrel.moe_stage` naming
// the stage; NR is the largest power-of-two divisor of the dimension at
// most `nr` (so every panel is a whole vector).
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Passes.h"
#include "passes/ReferenceLowering.h"

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

struct Emitter {
  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc), f32(b.getF32Type()) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value extractIndex(Value t, ValueRange at) {
    Value v = tensor::ExtractOp::create(b, loc, t, at);
    if (v.getType().isIndex())
      return v;
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }

  OpBuilder &b;
  Location loc;
  FloatType f32;
};

/// The micro-kernel: MR accumulators vector<NR x f32>,
///   acc[i] = Σ_k A[rows[i], k] · W[(expert,) k, col : col + NR]
/// for k in [0, K). `A` is [*, K] in any float type (read as f32), `W` is
/// [K, *] or [E, K, *] (then `expert` picks the matrix).
static SmallVector<Value> microKernel(OpBuilder &b, Location loc, Value a,
                                      ArrayRef<Value> rows, Value w,
                                      Value expert, Value col, int64_t K,
                                      int64_t nr) {
  Type f32 = b.getF32Type();
  auto accType = VectorType::get({nr}, f32);
  Type wElem = cast<RankedTensorType>(w.getType()).getElementType();
  auto wType = VectorType::get({nr}, wElem);
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0)));
  SmallVector<Value> init(rows.size(), zero);
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value cK = arith::ConstantIndexOp::create(b, loc, K);
  auto loop = scf::ForOp::create(
      b, loc, c0, cK, c1, init,
      [&](OpBuilder &nb, Location l, Value k, ValueRange acc) {
        SmallVector<Value> at;
        if (expert)
          at.push_back(expert);
        at.append({k, col});
        Value pad = arith::ConstantOp::create(nb, l, nb.getZeroAttr(wElem));
        Value row = vector::TransferReadOp::create(
            nb, l, wType, w, at, pad, ArrayRef<bool>{true});
        if (wElem != f32)
          row = arith::ExtFOp::create(nb, l, accType, row);
        SmallVector<Value> next;
        for (auto [i, r] : llvm::enumerate(rows)) {
          Value s = tensor::ExtractOp::create(nb, l, a, ValueRange{r, k});
          s = toF32(nb, l, s);
          Value splat = vector::BroadcastOp::create(nb, l, accType, s);
          next.push_back(vector::FMAOp::create(nb, l, splat, row, acc[i]));
        }
        scf::YieldOp::create(nb, l, next);
      });
  loop->setAttr("kestrel.micro_kernel", b.getUnitAttr());
  return SmallVector<Value>(loop.getResults().begin(),
                            loop.getResults().end());
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
  Value panelForall(OpBuilder &rw, Location loc, Value shared, int64_t width,
                    StringRef stage,
                    function_ref<Value(OpBuilder &, Location, Value, Value)>
                        body) const {
    auto type = cast<RankedTensorType>(shared.getType());
    const int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
    auto sliceType = RankedTensorType::get({rows, width}, type.getElementType());
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
          Value slice = tensor::ExtractSliceOp::create(
              b, l, sliceType, args[1], offsets, sizes, strides);
          Value result = body(b, l, slice, col);
          auto inParallel = scf::InParallelOp::create(b, l);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(&inParallel.getRegion().front());
          tensor::ParallelInsertSliceOp::create(b, l, result, args[1], offsets,
                                                sizes, strides);
        });
    forall->setAttr("kestrel.moe_stage", rw.getStringAttr(stage));
    forall->setAttr("kestrel.moe_tile",
                    rw.getDenseI64ArrayAttr({mr, width}));
    return forall.getResult(0);
  }

  /// An scf.for over row tiles [lo, hi) step MR carrying `slice`;
  /// `body(b, loc, rowTile, slice)` returns the updated slice.
  static Value rowTiles(OpBuilder &b, Location loc, Value lo, Value hi,
                        int64_t step, Value slice,
                        function_ref<Value(OpBuilder &, Location, Value, Value)>
                            body) {
    auto loop = scf::ForOp::create(
        b, loc, lo, hi, arith::ConstantIndexOp::create(b, loc, step),
        ValueRange{slice},
        [&](OpBuilder &nb, Location l, Value rt, ValueRange iter) {
          scf::YieldOp::create(nb, l, body(nb, l, rt, iter[0]));
        });
    return loop.getResult(0);
  }

  /// Up projection of the gated MLP into the slice [rows, NR] at column
  /// `col`: for row tiles [lo, hi), rows[i] = rowOf(rt + i),
  /// slice[rt + i] = silu(A W1) ⊙ (A W3).
  Value upTiles(OpBuilder &b, Location loc, Value slice, Value a, Value w1,
                Value w3, Value expert, Value col, Value lo, Value hi,
                int64_t K, int64_t width,
                function_ref<Value(OpBuilder &, Location, Value)> rowOf) const {
    return rowTiles(
        b, loc, lo, hi, mr, slice,
        [&](OpBuilder &nb, Location l, Value rt, Value s) -> Value {
          SmallVector<Value> rows;
          for (int64_t i = 0; i < mr; ++i)
            rows.push_back(rowOf(
                nb, l,
                arith::AddIOp::create(nb, l, rt,
                                      arith::ConstantIndexOp::create(nb, l, i))));
          SmallVector<Value> acc1 =
              microKernel(nb, l, a, rows, w1, expert, col, K, width);
          SmallVector<Value> acc3 =
              microKernel(nb, l, a, rows, w3, expert, col, K, width);
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

  LogicalResult matchAndRewrite(MoeOp op,
                                PatternRewriter &rw) const override {
    auto isStatic = [](Type t) {
      return cast<RankedTensorType>(t).hasStaticShape();
    };
    if (!llvm::all_of(op->getOperandTypes(), isStatic) ||
        !isStatic(op.getResult().getType()))
      return rw.notifyMatchFailure(op, "dynamic shapes");

    Location loc = op.getLoc();
    Emitter em(rw, loc);
    ReferenceBuilder rb(rw, loc);
    MLIRContext *ctx = op.getContext();
    RankedTensorType xType = op.getX().getType();
    const int64_t N = xType.getDimSize(0), d = xType.getDimSize(1);
    auto w1Type = cast<RankedTensorType>(op.getW1().getType());
    const int64_t E = w1Type.getDimSize(0), ff = w1Type.getDimSize(2);
    auto idxType = cast<RankedTensorType>(op.getIndices().getType());
    const int64_t assignments = idxType.getDimSize(0) * idxType.getDimSize(1);
    Type storage = xType.getElementType();
    const bool expertChoice = op.isExpertChoice();
    const int64_t ffW = panelWidth(ff, nr), dW = panelWidth(d, nr);
    Type indexType = rw.getIndexType();

    // P[n, e] = Σ_j [index hits (n, e)] · weight, loops (n, e, j).
    auto map = [&](unsigned dims, ArrayRef<unsigned> res) {
      SmallVector<AffineExpr> exprs;
      for (unsigned r : res)
        exprs.push_back(getAffineDimExpr(r, ctx));
      return AffineMap::get(dims, 0, exprs, ctx);
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

    // Dispatch by counting sort into a packed, MR-padded row space.
    const int64_t routedMax = std::min(N * E, assignments);
    const int64_t rowsMax = routedMax + E * (mr - 1);
    Value tokEmpty = tensor::EmptyOp::create(
        rw, loc, ArrayRef<int64_t>{rowsMax}, indexType);
    Value tok = linalg::FillOp::create(rw, loc, ValueRange{em.idx(0)},
                                       ValueRange{tokEmpty})
                    .getResult(0);
    Value pw = rb.filled({rowsMax}, 0.0);
    Value bounds = tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{2 * E},
                                         indexType);
    Value mrIdx = em.idx(mr);
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
                Value pv = tensor::ExtractOp::create(nb, ll, p, ValueRange{n, e});
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
          // Next start: start + roundup(end - start, MR).
          Value count = arith::SubIOp::create(b, l, end, start);
          Value tiles = arith::CeilDivUIOp::create(b, l, count, mrIdx);
          Value next = arith::AddIOp::create(
              b, l, start, arith::MulIOp::create(b, l, tiles, mrIdx));
          Value bnd = tensor::InsertOp::create(
              b, l, start, it[3],
              ValueRange{arith::MulIOp::create(
                  b, l, e, arith::ConstantIndexOp::create(b, l, 2))});
          bnd = tensor::InsertOp::create(
              b, l, end, bnd,
              ValueRange{arith::AddIOp::create(
                  b, l,
                  arith::MulIOp::create(b, l, e,
                                        arith::ConstantIndexOp::create(b, l, 2)),
                  arith::ConstantIndexOp::create(b, l, 1))});
          scf::YieldOp::create(
              b, l, ValueRange{next, perToken.getResult(1),
                               perToken.getResult(2), bnd});
        });
    perExpert->setAttr("kestrel.moe_stage", rw.getStringAttr("dispatch"));
    tok = perExpert.getResult(1);
    pw = perExpert.getResult(2);
    bounds = perExpert.getResult(3);
    Value x = op.getX();

    // Routed up projection: H [rowsMax, ff] f32.
    Value h = panelForall(
        rw, loc, tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{rowsMax, ff},
                                         rw.getF32Type()),
        ffW, "up",
        [&](OpBuilder &b, Location l, Value slice, Value col) -> Value {
          auto loop = scf::ForOp::create(
              b, l, arith::ConstantIndexOp::create(b, l, 0),
              arith::ConstantIndexOp::create(b, l, E),
              arith::ConstantIndexOp::create(b, l, 1), ValueRange{slice},
              [&](OpBuilder &nb, Location ll, Value e, ValueRange it) {
                Emitter ne(nb, ll);
                Value two = ne.idx(2);
                Value lo = ne.extractIndex(bounds, {ne.mul(e, two)});
                Value hi = ne.extractIndex(
                    bounds, {ne.add(ne.mul(e, two), ne.idx(1))});
                Value s = upTiles(
                    nb, ll, it[0], x, op.getW1(), op.getW3(), e, col, lo, hi,
                    d, ffW, [&](OpBuilder &rb2, Location rl, Value r) -> Value {
                      return tensor::ExtractOp::create(rb2, rl, tok,
                                                       ValueRange{r});
                    });
                scf::YieldOp::create(nb, ll, s);
              });
          return loop.getResult(0);
        });

    // Shared up projection: Hs [roundup(N, MR), fs] f32, rows clamped to N.
    Value hs;
    int64_t fs = 0, fsW = 0, nPad = llvm::divideCeil(N, mr) * mr;
    if (Value s1 = op.getSharedW1()) {
      fs = cast<RankedTensorType>(s1.getType()).getDimSize(1);
      fsW = panelWidth(fs, nr);
      hs = panelForall(
          rw, loc,
          tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{nPad, fs},
                                  rw.getF32Type()),
          fsW, "shared_up",
          [&](OpBuilder &b, Location l, Value slice, Value col) -> Value {
            Emitter ne(b, l);
            return upTiles(
                b, l, slice, x, s1, op.getSharedW3(), Value(), col, ne.idx(0),
                ne.idx(nPad), d, fsW,
                [&](OpBuilder &rb2, Location rl, Value r) -> Value {
                  return arith::MinUIOp::create(
                      rb2, rl, r, arith::ConstantIndexOp::create(rb2, rl, N - 1));
                });
          });
    }

    // Down projection and combine: out [N, d] f32, panels of d.
    Value out = panelForall(
        rw, loc,
        tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{N, d},
                                rw.getF32Type()),
        dW, "down",
        [&](OpBuilder &b, Location l, Value slice, Value col) -> Value {
          Emitter ne(b, l);
          Value c0 = ne.idx(0);
          if (hs) {
            // Full row tiles write every row; the last, partial tile only
            // its rows below N.
            auto store = [&](OpBuilder &nb, Location ll, Value rt, Value s,
                             int64_t count) {
              SmallVector<Value> rows;
              for (int64_t i = 0; i < mr; ++i)
                rows.push_back(arith::AddIOp::create(
                    nb, ll, rt, arith::ConstantIndexOp::create(nb, ll, i)));
              SmallVector<Value> acc =
                  microKernel(nb, ll, hs, rows, op.getSharedW2(), Value(), col,
                              fs, dW);
              Value z = arith::ConstantIndexOp::create(nb, ll, 0);
              for (int64_t i = 0; i < count; ++i)
                s = vector::TransferWriteOp::create(nb, ll, acc[i], s,
                                                    ValueRange{rows[i], z},
                                                    ArrayRef<bool>{true})
                        .getResult();
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
          auto loop = scf::ForOp::create(
              b, l, c0, ne.idx(E), ne.idx(1), ValueRange{slice},
              [&](OpBuilder &nb, Location ll, Value e, ValueRange it) {
                Emitter ee(nb, ll);
                Value two = ee.idx(2);
                Value lo = ee.extractIndex(bounds, {ee.mul(e, two)});
                Value end = ee.extractIndex(
                    bounds, {ee.add(ee.mul(e, two), ee.idx(1))});
                Value hi = arith::AddIOp::create(
                    nb, ll, lo,
                    arith::MulIOp::create(
                        nb, ll,
                        arith::CeilDivUIOp::create(
                            nb, ll, arith::SubIOp::create(nb, ll, end, lo),
                            ee.idx(mr)),
                        ee.idx(mr)));
                Value s = rowTiles(
                    nb, ll, lo, hi, mr, it[0],
                    [&](OpBuilder &tb, Location tl, Value rt,
                        Value sl) -> Value {
                      SmallVector<Value> rows;
                      for (int64_t i = 0; i < mr; ++i)
                        rows.push_back(arith::AddIOp::create(
                            tb, tl, rt,
                            arith::ConstantIndexOp::create(tb, tl, i)));
                      SmallVector<Value> acc = microKernel(
                          tb, tl, h, rows, op.getW2(), e, col, ff, dW);
                      auto vt = cast<VectorType>(acc[0].getType());
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
                              Value z = arith::ConstantIndexOp::create(ib, il, 0);
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
                scf::YieldOp::create(nb, ll, s);
              });
          return loop.getResult(0);
        });

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
    RewritePatternSet patterns(&getContext());
    patterns.add<MoeDispatchPattern>(&getContext(), mr, nr);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      return signalPassFailure();
  }
};

} // namespace
