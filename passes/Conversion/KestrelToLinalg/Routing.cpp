//===- Routing.cpp - Reference lowering of the routing family -------------===//
//
// kestrel.route and kestrel.moe as linalg.generic ops computing docs/ops.md
// §3 literally, in f32, with selection by counting rather than sorting:
//
//   s        = softmax(r) or sigmoid(r);  u = s + bias          (scores, keys)
//   rank[n,e] = Σ_e' eligible(e') · (u' > u or (u' == u and e' < e))
//   selected ⟺ eligible(e) and rank < k;   slot j of token n = the e with rank
//   j groups:  rank inside the group (e' in e's group: e' floordiv E/G ==
//            e floordiv E/G) → group score = Σ of the top-2 u,
//            group rank → eligible ⟺ group rank < topk_groups
//   capacity: pos[n,e] = Σ_{n' < n} selected(n', e); kept ⟺ pos < C
//   expert choice: rank over tokens per expert, slot j of expert e = the n
//            with rank j
//
//   moe (dense): P[n,e] = Σ_j [indices == e] · weights   (per (token, expert))
//            h[n,e,:] = P · silu(x W1[e]) ⊙ (x W3[e]),  out = Σ_e h W2[e]
//            (+ the shared gated MLP), masked where P == 0.
//
// Every rank is an O(E²) or O(N²) reduction and the MoE computes every expert
// for every token: obviously correct, not fast. Dispatch by sorting, grouped
// GEMMs and scatter-add combine are optimized lowerings to be checked against
// this one.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "passes/Conversion/KestrelToLinalg/ReferenceLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace kestrel;

static bool allStatic(Operation *op) {
  auto isStatic = [](Type t) {
    return cast<RankedTensorType>(t).hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic);
}

namespace {

/// Builders shared by both patterns, on top of IREmitter.
struct RoutingBuilder : IREmitter {
  using IREmitter::IREmitter;

  /// The f32 scores s[N, E] of `logits` [N, E].
  Value scores(Value logits, ScoreFunction fn) {
    auto type = cast<RankedTensorType>(logits.getType());
    ArrayRef<int64_t> shape = type.getShape();
    AffineMap id = projection(2, {0, 1}), row = projection(2, {0});
    if (fn == ScoreFunction::Sigmoid)
      return generic(
          {logits}, empty(shape, f32), {id, id}, {kPar, kPar},
          [](OpBuilder &b, Location l, ValueRange args) {
            Value e = math::ExpOp::create(
                b, l, arith::NegFOp::create(b, l, toF32(b, l, args[0])));
            yield(b, l,
                  arith::DivFOp::create(
                      b, l, cstF32(b, l, 1.0),
                      arith::AddFOp::create(b, l, cstF32(b, l, 1.0), e)));
          });
    // softmax over experts: m = max_e r, z = Σ_e exp(r − m), s = exp(r − m)/z.
    Value rowMax = generic(
        {logits}, filled({shape[0]}, -std::numeric_limits<double>::infinity()),
        {id, row}, {kPar, kRed}, [](OpBuilder &b, Location l, ValueRange args) {
          yield(b, l,
                arith::MaximumFOp::create(b, l, toF32(b, l, args[0]), args[1]));
        });
    auto shifted = [](OpBuilder &b, Location l, Value r, Value m) -> Value {
      return math::ExpOp::create(
          b, l, arith::SubFOp::create(b, l, toF32(b, l, r), m));
    };
    Value sum =
        generic({logits, rowMax}, filled({shape[0]}, 0.0), {id, row, row},
                {kPar, kRed}, [&](OpBuilder &b, Location l, ValueRange args) {
                  yield(b, l,
                        arith::AddFOp::create(b, l, args[2],
                                              shifted(b, l, args[0], args[1])));
                });
    return generic({logits, rowMax, sum}, empty(shape, f32), {id, row, row, id},
                   {kPar, kPar},
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     yield(b, l,
                           arith::DivFOp::create(
                               b, l, shifted(b, l, args[0], args[1]), args[2]));
                   });
  }

  /// rank[a, i] = #{ i' : key[a, i'] beats key[a, i] } (i64), where i'
  /// beats i when its key is larger, or equal with i' < i; `keys` is
  /// [A, I] and the loops are (a, i, i'). With `eligible` ([A, I] of i1),
  /// only eligible i' count. `transposed` reads keys as [I, A] instead
  /// (the result is still [A, I]).
  Value rankOf(Value keys, Value eligible, bool transposed) {
    auto type = cast<RankedTensorType>(keys.getType());
    int64_t a = type.getDimSize(transposed ? 1 : 0),
            i = type.getDimSize(transposed ? 0 : 1);
    AffineMap self = transposed ? projection(3, {1, 0}) : projection(3, {0, 1});
    AffineMap other =
        transposed ? projection(3, {2, 0}) : projection(3, {0, 2});
    SmallVector<Value> inputs = {keys, keys};
    SmallVector<AffineMap> maps = {self, other};
    if (eligible) {
      inputs.push_back(eligible);
      maps.push_back(other);
    }
    maps.push_back(projection(3, {0, 1}));
    Value init = filledInt({a, i}, b.getI64Type(), 0);
    return generic(
        inputs, init, maps, {kPar, kPar, kRed},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value mine = args[0], theirs = args[1];
          Value higher = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                               theirs, mine);
          Value tie = arith::AndIOp::create(
              b, l,
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, theirs,
                                    mine),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                    linalg::IndexOp::create(b, l, 2),
                                    linalg::IndexOp::create(b, l, 1)));
          Value beats = arith::OrIOp::create(b, l, higher, tie);
          if (eligible)
            beats = arith::AndIOp::create(b, l, beats, args[2]);
          Value one = arith::ExtUIOp::create(b, l, b.getI64Type(), beats);
          yield(b, l, arith::AddIOp::create(b, l, args.back(), one));
        });
  }

  /// Gathers slot j of row a: the i with rank[a, i] == j. `rank` is
  /// [A, I] (as rankOf returns it), `values` [A, I] or, when
  /// `valuesTransposed`, [I, A]; loops (a, j, i). Returns
  /// (indices [A, slots] of `indexType`, values [A, slots] f32).
  std::pair<Value, Value> gatherSlots(Value rank, Value values, int64_t slots,
                                      Type indexType, bool valuesTransposed) {
    int64_t a = cast<RankedTensorType>(rank.getType()).getDimSize(0);
    AffineMap in = projection(3, {0, 2});
    AffineMap valuesIn = valuesTransposed ? projection(3, {2, 0}) : in;
    AffineMap out = projection(3, {0, 1});
    Value idxInit = filledInt({a, slots}, indexType, 0);
    Value valInit = filled({a, slots}, 0.0);
    auto op = linalg::GenericOp::create(
        b, loc, TypeRange{idxInit.getType(), valInit.getType()},
        ValueRange{rank, values}, ValueRange{idxInit, valInit},
        ArrayRef<AffineMap>{in, valuesIn, out, out}, {kPar, kPar, kRed},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value j = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 1));
          Value hit =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, args[0], j);
          Value i = arith::IndexCastOp::create(
              b, l, indexType, linalg::IndexOp::create(b, l, 2));
          Value zeroIdx =
              arith::ConstantOp::create(b, l, b.getIntegerAttr(indexType, 0));
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::AddIOp::create(
                             b, l, args[2],
                             arith::SelectOp::create(b, l, hit, i, zeroIdx)),
                         arith::AddFOp::create(
                             b, l, args[3],
                             arith::SelectOp::create(b, l, hit, args[1],
                                                     cstF32(b, l, 0.0)))});
        });
    return {op.getResult(0), op.getResult(1)};
  }

  /// c[i, j] = Σ_k a[i, k] · w[k, j] in f32, accumulated onto `init`.
  Value matmul(Value a, Value w, Value init) {
    AffineMap lhs = projection(3, {0, 2}), rhs = projection(3, {2, 1}),
              out = projection(3, {0, 1});
    return generic({a, w}, init, {lhs, rhs, out}, {kPar, kPar, kRed},
                   [](OpBuilder &b, Location l, ValueRange args) {
                     Value p = arith::MulFOp::create(b, l, toF32(b, l, args[0]),
                                                     toF32(b, l, args[1]));
                     yield(b, l, arith::AddFOp::create(b, l, args[2], p));
                   });
  }
};

/// silu(a) · g = a / (1 + e^{-a}) · g, in f32.
static Value siluTimes(OpBuilder &b, Location l, Value a, Value g) {
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, a));
  Value silu = arith::DivFOp::create(
      b, l, a, arith::AddFOp::create(b, l, cstF32(b, l, 1.0), e));
  return arith::MulFOp::create(b, l, silu, g);
}

/// r < k for a rank r (i64): the expert is among the top k.
static Value rankBelow(OpBuilder &b, Location l, Value r, int64_t k) {
  return arith::CmpIOp::create(
      b, l, arith::CmpIPredicate::slt, r,
      arith::ConstantOp::create(b, l, b.getI64IntegerAttr(k)));
}

/// The steps of kestrel.route's token-choice lowering on [N, E] scores.
struct RouteBuilder : RoutingBuilder {
  RouteBuilder(OpBuilder &b, Location loc, int64_t n, int64_t e)
      : RoutingBuilder(b, loc), n(n), e(e), id2(projection(2, {0, 1})),
        row2(projection(2, {0})) {}

  /// Selection keys u = s + bias (bias only steers selection).
  Value selectionKeys(Value s, Value bias) {
    if (!bias)
      return s;
    return generic(
        {s, bias}, empty({n, e}, f32), {id2, projection(2, {1}), id2},
        {kPar, kPar}, [](OpBuilder &b, Location l, ValueRange args) {
          yield(b, l,
                arith::AddFOp::create(b, l, args[0], toF32(b, l, args[1])));
        });
  }

  /// Group-limited routing: eligible[n, e] (i1) when e's group (of `size`
  /// experts) is among the `keepGroups` best of `g` by the sum of its two
  /// largest keys.
  Value groupEligibility(Value u, int64_t g, int64_t keepGroups) {
    const int64_t size = e / g;
    Value groupRank =
        rankOf(groupScores(u, inGroupRank(u, size), g, size), Value(),
               /*transposed=*/false);
    // eligible[n, e] = groupRank[n, e floordiv size] < topk_groups.
    AffineMap groupOfMap = AffineMap::get(
        2, 0,
        {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx).floorDiv(size)},
        ctx);
    return generic({groupRank}, empty({n, e}, b.getI1Type()), {groupOfMap, id2},
                   {kPar, kPar},
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     yield(b, l, rankBelow(b, l, args[0], keepGroups));
                   });
  }

  /// e's group, dimension `dim` of the loop divided by the group size.
  /// Membership is tested in the loop bodies (e floordiv size == group)
  /// rather than by reshaping u to [N, G, size]: a reshape bufferizes to a
  /// view the CUDA launch manifest cannot replay.
  static Value groupOf(OpBuilder &b, Location l, unsigned dim, int64_t size) {
    return arith::DivUIOp::create(b, l, linalg::IndexOp::create(b, l, dim),
                                  arith::ConstantIndexOp::create(b, l, size));
  }
  static Value eq(OpBuilder &b, Location l, Value x, Value y) {
    return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, x, y);
  }

  /// Rank inside the group, loops (n, e, e'): e' counts when it is in e's
  /// group and beats e.
  Value inGroupRank(Value u, int64_t size) {
    return generic(
        {u, u}, filledInt({n, e}, b.getI64Type(), 0),
        {projection(3, {0, 1}), projection(3, {0, 2}), projection(3, {0, 1})},
        {kPar, kPar, kRed}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value higher = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                               args[1], args[0]);
          Value tie = arith::AndIOp::create(
              b, l,
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, args[1],
                                    args[0]),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                    linalg::IndexOp::create(b, l, 2),
                                    linalg::IndexOp::create(b, l, 1)));
          Value beats = arith::AndIOp::create(
              b, l, arith::OrIOp::create(b, l, higher, tie),
              eq(b, l, groupOf(b, l, 1, size), groupOf(b, l, 2, size)));
          Value one = arith::ExtUIOp::create(b, l, b.getI64Type(), beats);
          yield(b, l, arith::AddIOp::create(b, l, args[2], one));
        });
  }

  /// Group score = Σ of the keys ranked 0 and 1 in the group (DeepSeek-V3),
  /// loops (n, g, e).
  Value groupScores(Value u, Value inGroupRank, int64_t g, int64_t size) {
    return generic(
        {u, inGroupRank}, filled({n, g}, 0.0),
        {projection(3, {0, 2}), projection(3, {0, 2}), projection(3, {0, 1})},
        {kPar, kPar, kRed}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value top2 = rankBelow(b, l, args[1], 2);
          Value member = eq(b, l, groupOf(b, l, 2, size),
                            linalg::IndexOp::create(b, l, 1));
          Value add = arith::SelectOp::create(
              b, l, arith::AndIOp::create(b, l, top2, member), args[0],
              cstF32(b, l, 0.0));
          yield(b, l, arith::AddFOp::create(b, l, args[2], add));
        });
  }

  /// Ineligible experts get rank E (never < k).
  Value rankEligibleOnly(Value rank, Value eligible) {
    return generic(
        {rank, eligible}, empty({n, e}, b.getI64Type()), {id2, id2, id2},
        {kPar, kPar}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value never = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(e));
          yield(b, l, arith::SelectOp::create(b, l, args[1], args[0], never));
        });
  }

  /// Σ_selected s per token, for renormalization.
  Value selectedSum(Value s, Value rank, int64_t k) {
    return generic({s, rank}, filled({n}, 0.0), {id2, id2, row2}, {kPar, kRed},
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     Value add = arith::SelectOp::create(
                         b, l, rankBelow(b, l, args[1], k), args[0],
                         cstF32(b, l, 0.0));
                     yield(b, l, arith::AddFOp::create(b, l, args[2], add));
                   });
  }

  /// pos[n, e] = #{ n' < n : n' selected e }, loops (n, e, n').
  Value capacityPositions(Value rank, int64_t k) {
    return generic(
        {rank}, filledInt({n, e}, b.getI64Type(), 0),
        {projection(3, {2, 1}), projection(3, {0, 1})}, {kPar, kPar, kRed},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value earlier = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::slt, linalg::IndexOp::create(b, l, 2),
              linalg::IndexOp::create(b, l, 0));
          Value one = arith::ExtUIOp::create(
              b, l, b.getI64Type(),
              arith::AndIOp::create(b, l, earlier,
                                    rankBelow(b, l, args[0], k)));
          yield(b, l, arith::AddIOp::create(b, l, args[1], one));
        });
  }

  /// w[n, e] = s (or s / Σ_selected s), 0 unless selected (rank < k) and,
  /// with a capacity, kept (pos < capacity).
  Value routeWeights(Value s, Value rank, int64_t k, bool renormalize,
                     std::optional<int64_t> capacity) {
    SmallVector<Value> inputs = {s, rank};
    SmallVector<AffineMap> maps = {id2, id2};
    if (renormalize) {
      inputs.push_back(selectedSum(s, rank, k));
      maps.push_back(row2);
    }
    if (capacity) {
      inputs.push_back(capacityPositions(rank, k));
      maps.push_back(id2);
    }
    maps.push_back(id2);
    return generic(
        inputs, empty({n, e}, f32), maps, {kPar, kPar},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = args[0];
          unsigned next = 2;
          if (renormalize)
            v = arith::DivFOp::create(b, l, v, args[next++]);
          Value keep = rankBelow(b, l, args[1], k);
          if (capacity)
            keep = arith::AndIOp::create(
                b, l, keep, rankBelow(b, l, args[next++], *capacity));
          yield(b, l,
                arith::SelectOp::create(b, l, keep, v, cstF32(b, l, 0.0)));
        });
  }

  const int64_t n, e;
  const AffineMap id2, row2;
};

struct LowerRoute : OpRewritePattern<RouteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RouteOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs static shapes");

    const int64_t n = op.getNumTokens(), e = op.getNumExperts();
    RouteBuilder rb(rewriter, op.getLoc(), n, e);
    const int64_t k = static_cast<int64_t>(op.getK());
    Type indexType = op.getIndices().getType().getElementType();
    Type storage = op.getWeights().getType().getElementType();
    Value s = rb.scores(op.getLogits(), op.getScore());

    if (op.isExpertChoice()) {
      // Each expert ranks the tokens by s[:, e] (rank is [E, N]); slot j
      // holds rank j.
      const int64_t c = *op.getEffectiveCapacity();
      Value rank = rb.rankOf(s, Value(), /*transposed=*/true);
      auto [indices, weights] =
          rb.gatherSlots(rank, s, c, indexType, /*valuesTransposed=*/true);
      rewriter.replaceOp(op, {indices, rb.narrow(weights, storage)});
      return success();
    }

    Value u = rb.selectionKeys(s, op.getSelectionBias());
    Value eligible;
    if (std::optional<uint64_t> numGroups = op.getNGroups())
      eligible = rb.groupEligibility(u, static_cast<int64_t>(*numGroups),
                                     static_cast<int64_t>(*op.getTopkGroups()));
    // rank among eligible experts.
    Value rank = rb.rankOf(u, eligible, /*transposed=*/false);
    if (eligible)
      rank = rb.rankEligibleOnly(rank, eligible);
    Value w = rb.routeWeights(s, rank, k, op.getRenormalize(),
                              op.getEffectiveCapacity());
    auto [indices, weights] =
        rb.gatherSlots(rank, w, k, indexType, /*valuesTransposed=*/false);
    rewriter.replaceOp(op, {indices, rb.narrow(weights, storage)});
    return success();
  }
};

struct LowerMoe : OpRewritePattern<MoeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MoeOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs static shapes");

    RoutingBuilder rb(rewriter, op.getLoc());
    RankedTensorType xType = op.getX().getType();
    const int64_t n = xType.getDimSize(0), d = xType.getDimSize(1);
    const int64_t e = op.getW1().getType().getDimSize(0),
                  ff = op.getW1().getType().getDimSize(2);
    Type storage = xType.getElementType();
    const bool expertChoice = op.isExpertChoice();

    // P[n, e] = Σ_j [index hits (n, e)] · weight, loops (n, e, j).
    AffineMap routed =
        expertChoice ? rb.projection(3, {1, 2}) : rb.projection(3, {0, 2});
    Value p = rb.generic(
        {op.getIndices(), op.getWeights()}, rb.filled({n, e}, 0.0),
        {routed, routed, rb.projection(3, {0, 1})}, {kPar, kPar, kRed},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value target = linalg::IndexOp::create(b, l, expertChoice ? 0 : 1);
          target = arith::IndexCastOp::create(b, l, args[0].getType(), target);
          Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                            args[0], target);
          Value add = arith::SelectOp::create(b, l, hit, toF32(b, l, args[1]),
                                              cstF32(b, l, 0.0));
          yield(b, l, arith::AddFOp::create(b, l, args[2], add));
        });

    // a = x W1[e], g = x W3[e] for every (token, expert): loops (n, e, f, d).
    auto up = [&](Value w) {
      return rb.generic({op.getX(), w}, rb.filled({n, e, ff}, 0.0),
                        {rb.projection(4, {0, 3}), rb.projection(4, {1, 3, 2}),
                         rb.projection(4, {0, 1, 2})},
                        {kPar, kPar, kPar, kRed},
                        [](OpBuilder &b, Location l, ValueRange args) {
                          Value prod = arith::MulFOp::create(
                              b, l, toF32(b, l, args[0]), toF32(b, l, args[1]));
                          yield(b, l,
                                arith::AddFOp::create(b, l, args[2], prod));
                        });
    };
    Value a = up(op.getW1()), g = up(op.getW3());

    // h = P · silu(a) ⊙ g, exactly 0 where P == 0 (dropped or unrouted).
    auto isZero = [](OpBuilder &b, Location l, Value v) -> Value {
      return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, v,
                                   cstF32(b, l, 0.0));
    };
    AffineMap id3 = rb.projection(3, {0, 1, 2}),
              pair3 = rb.projection(3, {0, 1});
    Value h = rb.generic(
        {a, g, p}, rb.empty({n, e, ff}, rb.f32), {id3, id3, pair3, id3},
        {kPar, kPar, kPar}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = arith::MulFOp::create(b, l, args[2],
                                          siluTimes(b, l, args[0], args[1]));
          yield(b, l,
                arith::SelectOp::create(b, l, isZero(b, l, args[2]),
                                        cstF32(b, l, 0.0), v));
        });

    // The shared experts first (their sum is the accumulator's start).
    Value acc = rb.filled({n, d}, 0.0);
    if (Value s1 = op.getSharedW1()) {
      const int64_t fs = cast<RankedTensorType>(s1.getType()).getDimSize(1);
      Value sa = rb.matmul(op.getX(), s1, rb.filled({n, fs}, 0.0));
      Value sg =
          rb.matmul(op.getX(), op.getSharedW3(), rb.filled({n, fs}, 0.0));
      AffineMap id2 = rb.projection(2, {0, 1});
      Value sh = rb.generic({sa, sg}, rb.empty({n, fs}, rb.f32),
                            {id2, id2, id2}, {kPar, kPar},
                            [](OpBuilder &b, Location l, ValueRange args) {
                              yield(b, l, siluTimes(b, l, args[0], args[1]));
                            });
      acc = rb.matmul(sh, op.getSharedW2(), acc);
    }

    // out[n, d] += Σ_{e, f} h[n, e, f] · W2[e, f, d], loops (n, d, e, f);
    // unrouted pairs are skipped so that 0 · inf never enters the sum.
    Value out =
        rb.generic({h, op.getW2(), p}, acc,
                   {rb.projection(4, {0, 2, 3}), rb.projection(4, {2, 3, 1}),
                    rb.projection(4, {0, 2}), rb.projection(4, {0, 1})},
                   {kPar, kPar, kRed, kRed},
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     Value prod = arith::MulFOp::create(b, l, args[0],
                                                        toF32(b, l, args[1]));
                     Value add = arith::SelectOp::create(
                         b, l, isZero(b, l, args[2]), cstF32(b, l, 0.0), prod);
                     yield(b, l, arith::AddFOp::create(b, l, args[3], add));
                   });

    rewriter.replaceOp(op, rb.narrow(out, storage));
    return success();
  }
};

/// kestrel.top_k by counting: rank[.., j, ..] = #{m : x[m] before x[j]}
/// (greater, or smaller, or equal with a lower index), then the r-th result
/// is the element of rank r, gathered by a reduction over j.
struct LowerTopK : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TopKOp op,
                                PatternRewriter &rewriter) const override {
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    if (!xt.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = xt.getRank(), axis = op.getAxis();
    Type elt = xt.getElementType(), i64 = rewriter.getI64Type();
    bool largest = op.getLargest(), isFloat = isa<FloatType>(elt);
    SmallVector<AffineExpr> xj, xm;
    for (int64_t d = 0; d < rank; ++d) {
      xj.push_back(getAffineDimExpr(d, ctx));
      xm.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
    }
    SmallVector<IteratorType> iters(rank, kPar);
    iters.push_back(kRed);
    auto filled = [&](ArrayRef<int64_t> shape, Type t) {
      Value zero =
          arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(t));
      Value e = tensor::EmptyOp::create(rewriter, loc, shape, t);
      return linalg::FillOp::create(rewriter, loc, zero, e).getResult(0);
    };
    auto cmp = [&](OpBuilder &nb, Location l, bool strict, Value a, Value b) {
      if (isFloat)
        return arith::CmpFOp::create(nb, l,
                                     !strict   ? arith::CmpFPredicate::OEQ
                                     : largest ? arith::CmpFPredicate::OGT
                                               : arith::CmpFPredicate::OLT,
                                     a, b)
            .getResult();
      return arith::CmpIOp::create(nb, l,
                                   !strict   ? arith::CmpIPredicate::eq
                                   : largest ? arith::CmpIPredicate::sgt
                                             : arith::CmpIPredicate::slt,
                                   a, b)
          .getResult();
    };
    Value ranks =
        linalg::GenericOp::create(
            rewriter, loc, RankedTensorType::get(xt.getShape(), i64),
            ValueRange{x, x}, filled(xt.getShape(), i64),
            {AffineMap::get(rank + 1, 0, xj, ctx),
             AffineMap::get(rank + 1, 0, xm, ctx),
             AffineMap::get(rank + 1, 0, xj, ctx)},
            iters,
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value j = linalg::IndexOp::create(nb, l, axis);
              Value m = linalg::IndexOp::create(nb, l, rank);
              Value lower =
                  arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, m, j);
              Value before = arith::OrIOp::create(
                  nb, l, cmp(nb, l, true, a[1], a[0]),
                  arith::AndIOp::create(nb, l, cmp(nb, l, false, a[1], a[0]),
                                        lower));
              Value one = arith::ExtUIOp::create(nb, l, i64, before);
              linalg::YieldOp::create(
                  nb, l, ValueRange{arith::AddIOp::create(nb, l, a[2], one)});
            })
            .getResult(0);
    auto outShape = cast<RankedTensorType>(op.getValues().getType()).getShape();
    AffineMap outMap = AffineMap::get(rank + 1, 0, xj, ctx);
    AffineMap inMap = AffineMap::get(rank + 1, 0, xm, ctx);
    auto selected = linalg::GenericOp::create(
        rewriter, loc,
        TypeRange{op.getValues().getType(), op.getIndices().getType()},
        ValueRange{x, ranks},
        ValueRange{filled(outShape, elt), filled(outShape, i64)},
        {inMap, inMap, outMap, outMap}, iters,
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value r = arith::IndexCastOp::create(
              nb, l, i64, linalg::IndexOp::create(nb, l, axis));
          Value j = arith::IndexCastOp::create(
              nb, l, i64, linalg::IndexOp::create(nb, l, rank));
          Value hit =
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, a[1], r);
          linalg::YieldOp::create(
              nb, l,
              ValueRange{arith::SelectOp::create(nb, l, hit, a[0], a[2]),
                         arith::SelectOp::create(nb, l, hit, j, a[3])});
        });
    rewriter.replaceOp(op, selected.getResults());
    return success();
  }
};

} // namespace

void kestrel::populateRoutingReferencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerRoute, LowerMoe, LowerTopK>(patterns.getContext());
}
