//===- GemmFusion.cpp - Epilogue fusions of kestrel-gpu-gemm --------------===//
//
// Rewrites groups of linalg contractions (and the ops around them) into one
// GEMM launch whose epilogue hook (GemmEmit.h, GemmHooks) stores several
// outputs, evaluates an elementwise chain, or adds a residual: sibling GEMMs
// over B concatenated at compile time ("outputs", "gated") and residual adds
// folded into C's init ("residual"). GemmFusion.h says what each does.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/GemmFusion.h"
#include "passes/CUDA/GemmEmit.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"

#include <cstring>

using namespace mlir;

namespace kestrel {

namespace {

struct Emit : HookEmitter {
  using HookEmitter::HookEmitter;
  Value sub(Value x, int64_t c) { return c ? add(x, idx(-c)) : x; }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value convert(Value v, Type t) {
    return v.getType() == t ? v : arith::TruncFOp::create(b, loc, t, v);
  }
  void store(ArrayRef<Value> vals, Value address, int64_t elemBytes) {
    Value v = vals.front();
    if (vals.size() > 1)
      v = vector::FromElementsOp::create(
          b, loc, VectorType::get({(int64_t)vals.size()}, v.getType()), vals);
    LLVM::StoreOp::create(b, loc, v, pointer(address, 1),
                          elemBytes * vals.size());
  }
};

/// The accumulator of `at` at (row, col), if this lane holds it.
std::optional<size_t> accAt(ArrayRef<std::pair<int64_t, int64_t>> at,
                            int64_t row, int64_t col) {
  for (size_t i = 0; i < at.size(); ++i)
    if (at[i] == std::make_pair(row, col))
      return i;
  return std::nullopt;
}

bool allParallel(linalg::GenericOp g) {
  return llvm::all_of(g.getIteratorTypesArray(), [](utils::IteratorType t) {
    return t == utils::IteratorType::parallel;
  });
}

/// An elementwise generic over tensors of `shape` (identity maps, one
/// result, the init's value unread).
bool isElementwise(linalg::GenericOp g, ArrayRef<int64_t> shape) {
  if (g.getNumResults() != 1 || g.hasIndexSemantics() || !allParallel(g))
    return false;
  for (AffineMap m : g.getIndexingMapsArray())
    if (!m.isIdentity())
      return false;
  for (Value v : g->getOperands()) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || t.getShape() != shape)
      return false;
  }
  return g.getBlock()->getArgument(g.getNumDpsInputs()).use_empty();
}

/// Whether columns 2i, 2i + 1 of C lie side by side at an even element
/// offset (a pair store is aligned to twice the element).
bool evenPairs(const GemmProblem &p) {
  for (auto [d, s] : llvm::enumerate(p.strideC))
    if (d == p.nDims.front() ? s != 1 : s % 2 != 0)
      return false;
  return true;
}

/// How one output of an "outputs" launch is stored.
struct Output {
  Value replaced; // the value the stored tensor replaces
  RankedTensorType type;
  int64_t start, width;           // its columns of the merged N
  int64_t heads = 0, dh = 0;      // [B, H, T, Dh] (heads > 0) or C's layout
  SmallVector<Operation *> erase; // reshape and transpose, users first
};

/// The head transpose [B, T, H, Dh] -> [B, H, T, Dh] (through a reshape of
/// `v`, [B, T, H Dh] or [T, H Dh]) that is v's only user, recorded in `o`.
bool matchHeadTranspose(Value v, Output &o) {
  if (!v.hasOneUse())
    return false;
  Operation *reshape = *v.getUsers().begin();
  if (!isa<tensor::ReshapeOp, tensor::ExpandShapeOp>(reshape) ||
      reshape->getOperand(0) != v || !reshape->hasOneUse())
    return false;
  auto vt = cast<RankedTensorType>(v.getType());
  auto rt = cast<RankedTensorType>(reshape->getResult(0).getType());
  if (rt.getRank() != 4 || !rt.hasStaticShape())
    return false;
  int64_t batch = vt.getRank() == 3 ? vt.getDimSize(0) : 1;
  if (vt.getRank() < 2 || vt.getRank() > 3 || rt.getDimSize(0) != batch ||
      rt.getDimSize(1) != vt.getDimSize(vt.getRank() - 2) ||
      rt.getDimSize(2) * rt.getDimSize(3) != vt.getShape().back())
    return false;
  auto t = dyn_cast<linalg::GenericOp>(*reshape->getUsers().begin());
  if (!t || t.getNumDpsInputs() != 1 || t.getNumResults() != 1 ||
      t.hasIndexSemantics() || !allParallel(t))
    return false;
  MLIRContext *ctx = v.getContext();
  AffineExpr d[4];
  bindDims(ctx, d[0], d[1], d[2], d[3]);
  auto maps = t.getIndexingMapsArray();
  if (maps[0] != AffineMap::get(4, 0, {d[0], d[2], d[1], d[3]}, ctx) ||
      !maps[1].isIdentity())
    return false;
  auto yield = cast<linalg::YieldOp>(t.getBlock()->getTerminator());
  if (t.getBlock()->getOperations().size() != 1 ||
      yield.getOperand(0) != t.getBlock()->getArgument(0))
    return false;
  o.replaced = t.getResult(0);
  o.type = cast<RankedTensorType>(o.replaced.getType());
  o.heads = rt.getDimSize(2);
  o.dh = rt.getDimSize(3);
  o.erase = {t, reshape};
  return true;
}

/// The elementwise generics that read only `g`, `u`, each other and
/// constants, in block order, when g and u are used by them alone and
/// exactly one of their results (the last) is used elsewhere.
SmallVector<linalg::GenericOp> gatedChain(Value g, Value u) {
  auto shape = cast<RankedTensorType>(g.getType()).getShape();
  llvm::SetVector<Value> inside;
  inside.insert(g);
  inside.insert(u);
  SmallVector<linalg::GenericOp> chain;
  llvm::SetVector<Operation *> seen;
  for (size_t i = 0; i < inside.size(); ++i)
    for (Operation *user : inside[i].getUsers()) {
      auto gen = dyn_cast<linalg::GenericOp>(user);
      if (!gen || seen.contains(gen) || !isElementwise(gen, shape) ||
          gen->getBlock() != g.getParentBlock())
        continue;
      if (!llvm::all_of(gen.getDpsInputs(),
                        [&](Value v) { return inside.contains(v); }))
        continue;
      bool capturesOnlyConstants = true;
      gen.getBlock()->walk([&](Operation *op) {
        for (Value v : op->getOperands())
          if (!gen->isAncestor(v.getParentBlock()->getParentOp()) &&
              !matchPattern(v, m_Constant()))
            capturesOnlyConstants = false;
      });
      if (!capturesOnlyConstants)
        continue;
      seen.insert(gen);
      chain.push_back(gen);
      inside.insert(gen.getResult(0));
    }
  if (chain.empty())
    return {};
  llvm::sort(chain, [](linalg::GenericOp x, linalg::GenericOp y) {
    return x->isBeforeInBlock(y);
  });
  auto usedInside = [&](Value v) {
    return llvm::all_of(v.getUsers(),
                        [&](Operation *user) { return seen.contains(user); });
  };
  if (!usedInside(g) || !usedInside(u))
    return {};
  for (linalg::GenericOp gen : ArrayRef(chain).drop_back())
    if (!usedInside(gen.getResult(0)))
      return {};
  if (usedInside(chain.back().getResult(0)))
    return {};
  return chain;
}

/// The chain's result for one element, its inputs g and u given (f32).
Value evaluateChain(OpBuilder &b, Location loc,
                    ArrayRef<linalg::GenericOp> chain, Value g, Value u,
                    Value gVal, Value uVal) {
  DenseMap<Value, Value> vals;
  auto asElementOf = [&](Value v, Value like) -> Value {
    Type t = cast<RankedTensorType>(like.getType()).getElementType();
    return t == v.getType() ? v : arith::TruncFOp::create(b, loc, t, v);
  };
  vals[g] = asElementOf(gVal, g);
  vals[u] = asElementOf(uVal, u);
  for (linalg::GenericOp gen : chain) {
    IRMapping map;
    for (auto [arg, in] :
         llvm::zip(gen.getBlock()->getArguments(), gen.getDpsInputs()))
      map.map(arg, vals.lookup(in));
    for (Operation &op : gen.getBlock()->without_terminator()) {
      for (Value v : op.getOperands())
        if (!map.contains(v) && v.getDefiningOp() &&
            !gen->isAncestor(v.getDefiningOp()))
          map.map(v, b.clone(*v.getDefiningOp())->getResult(0));
      b.clone(op, map);
    }
    Value yielded = gen.getBlock()->getTerminator()->getOperand(0);
    vals[gen.getResult(0)] = map.lookupOrDefault(yielded);
  }
  linalg::GenericOp last = chain.back();
  return vals.lookup(last.getResult(0));
}

/// One contraction of a sibling group and its constant B.
struct Sibling {
  linalg::LinalgOp op;
  GemmProblem p;
  DenseElementsAttr weight;
  bool bRowsAreN; // B is [N, K] (else [K, N])
};

/// `op`'s problem as a group member: one N dim, no batch, zero init, B a
/// 2-D constant indexed by (k, n) or (n, k).
std::optional<Sibling> asSibling(linalg::LinalgOp op, const GemmProblem &p) {
  if (p.batch != 1 || p.nDims.size() != 1 || !p.initConstant ||
      *p.initConstant != 0.0)
    return std::nullopt;
  DenseElementsAttr w;
  if (!matchPattern(op->getOperand(1), m_Constant(&w)) ||
      w.getType().getRank() != 2)
    return std::nullopt;
  AffineMap map = op.getIndexingMapsArray()[1];
  auto dimAt = [&](unsigned r) {
    auto d = dyn_cast<AffineDimExpr>(map.getResult(r));
    return d ? (int64_t)d.getPosition() : -1;
  };
  int64_t k = p.kDim, n = p.nDims.front();
  if (dimAt(0) == k && dimAt(1) == n)
    return Sibling{op, p, w, false};
  if (dimAt(0) == n && dimAt(1) == k)
    return Sibling{op, p, w, true};
  return std::nullopt;
}

bool sameShapeBesidesN(const Sibling &x, const Sibling &y) {
  linalg::LinalgOp xo = x.op, yo = y.op;
  if (xo->getBlock() != yo->getBlock() || x.bRowsAreN != y.bRowsAreN ||
      xo.getIndexingMapsArray() != yo.getIndexingMapsArray() ||
      x.p.aType != y.p.aType || x.p.bType != y.p.bType ||
      x.p.cType != y.p.cType || x.p.nDims != y.p.nDims)
    return false;
  for (unsigned d = 0; d < x.p.loopExtents.size(); ++d)
    if (d != x.p.nDims.front() && x.p.loopExtents[d] != y.p.loopExtents[d])
      return false;
  return true;
}

/// B of the merged GEMM: column j of it is column source(j) of a member.
DenseElementsAttr
concatWeights(ArrayRef<Sibling> group, int64_t N,
              llvm::function_ref<std::pair<size_t, int64_t>(int64_t)> source) {
  const Sibling &first = group.front();
  int64_t K = first.p.K;
  Type elt = first.weight.getElementType();
  int64_t eb = elt.getIntOrFloatBitWidth() / 8;
  std::vector<char> out(N * K * eb);
  auto elementAt = [&](const Sibling &s, int64_t n, int64_t k) {
    ArrayRef<char> raw = s.weight.getRawData();
    if (s.weight.isSplat())
      return raw.data();
    int64_t width = s.p.N;
    return raw.data() + (s.bRowsAreN ? n * K + k : k * width + n) * eb;
  };
  for (int64_t j = 0; j < N; ++j) {
    auto [m, n] = source(j);
    for (int64_t k = 0; k < K; ++k) {
      int64_t at = first.bRowsAreN ? j * K + k : k * N + j;
      std::memcpy(out.data() + at * eb, elementAt(group[m], n, k), eb);
    }
  }
  auto type = RankedTensorType::get(
      first.bRowsAreN ? ArrayRef<int64_t>{N, K} : ArrayRef<int64_t>{K, N}, elt);
  return DenseElementsAttr::getFromRawBuffer(type, out);
}

/// Rewrites one sibling group into a fused launch (file comment).
class SiblingFusion {
public:
  SiblingFusion(ArrayRef<Sibling> group,
                llvm::function_ref<Type(const GemmProblem &)> operandType,
                GemmKernelChooser chooseKernel)
      : group(group), operandType(operandType), chooseKernel(chooseKernel) {}

  bool run();

private:
  GemmProblem mergedProblem(int64_t N);
  /// Whether element (m, n) of the merged C exists (null: always).
  Value inBounds(Emit &e, Value m, Value n) {
    return e.andI(merged.M % plan.getTileM() ? e.lt(m, merged.M) : Value(),
                  merged.N % plan.getTileN() ? e.lt(n, merged.N) : Value());
  }
  void storeOutputs(Emit &e, ArrayRef<Value> acc, Value row0, Value col0,
                    ArrayRef<std::pair<int64_t, int64_t>> at,
                    ArrayRef<Value> bases);
  void storeGated(Emit &e, ArrayRef<Value> acc, Value row0, Value col0,
                  ArrayRef<std::pair<int64_t, int64_t>> at, Value base,
                  int64_t G, Type outType);

public:
  /// The 16-bit type every reader of a value converts it to, if any.
  std::function<Type(Value)> narrowReaders;

private:
  ArrayRef<Sibling> group;
  llvm::function_ref<Type(const GemmProblem &)> operandType;
  GemmKernelChooser chooseKernel;
  GemmProblem merged;
  GemmPlanAttr plan;
  bool wgmma = false;
  SmallVector<Output> outputs;
  SmallVector<linalg::GenericOp> chain;
};

GemmProblem SiblingFusion::mergedProblem(int64_t N) {
  GemmProblem m = group.front().p;
  unsigned nd = m.nDims.front();
  m.loopExtents[nd] = N;
  m.N = N;
  m.strideB.assign(m.strideB.size(), 0);
  m.strideB[nd] = group.front().bRowsAreN ? m.K : 1;
  m.strideB[m.kDim] = group.front().bRowsAreN ? 1 : N;
  for (const Sibling &s : group)
    m.vecB = std::min(m.vecB, s.p.vecB);
  m.cPairs = false;
  return m;
}

void SiblingFusion::storeOutputs(Emit &e, ArrayRef<Value> acc, Value row0,
                                 Value col0,
                                 ArrayRef<std::pair<int64_t, int64_t>> at,
                                 ArrayRef<Value> bases) {
  Type cType = outputs.front().type.getElementType();
  int64_t eb = cType.getIntOrFloatBitWidth() / 8;
  const GemmProblem &p0 = group.front().p;
  unsigned nd = p0.nDims.front();
  int64_t T = p0.loopExtents[p0.mDims.back()];
  // Pairs of columns land side by side in every output.
  bool pairs =
      llvm::all_of(group, [&](const Sibling &s) { return evenPairs(s.p); });
  for (const Output &o : outputs)
    pairs = pairs && o.start % 2 == 0 && o.width % 2 == 0 &&
            (!o.heads || o.dh % 2 == 0);
  for (size_t i = 0; i < acc.size(); ++i) {
    int64_t dr = at[i].first, dc = at[i].second;
    std::optional<size_t> next = accAt(at, dr, dc + 1);
    if (pairs && (dc % 2 || !next))
      continue;
    SmallVector<Value> vals{acc[i]};
    if (pairs)
      vals.push_back(acc[*next]);
    Value m = e.add(row0, dr), n = e.add(col0, dc);
    Value ok = inBounds(e, m, n);
    e.ifThen(ok, [&] {
      Value address;
      for (int64_t s = outputs.size() - 1; s >= 0; --s) {
        const Output &o = outputs[s];
        Value c = e.sub(n, o.start), offset;
        if (o.heads) {
          Value bt = e.div(m, T), t = e.rem(m, T);
          Value h = e.div(c, o.dh), d = e.rem(c, o.dh);
          offset = e.add(
              e.mul(e.add(e.mul(e.add(e.mul(bt, o.heads), h), T), t), o.dh), d);
        } else {
          const GemmProblem &ps = group[s].p;
          offset = e.add(e.offsetOf(ps.mDims, m, ps.strideC),
                         e.mul(c, ps.strideC[nd]));
        }
        Value here = e.add(bases[s], e.mul(offset, eb));
        address = s + 1 == (int64_t)outputs.size()
                      ? here
                      : e.select(e.lt(n, o.start + o.width), here, address);
      }
      SmallVector<Value> stored;
      for (Value v : vals)
        stored.push_back(e.convert(v, cType));
      e.store(stored, address, eb);
    });
  }
}

void SiblingFusion::storeGated(Emit &e, ArrayRef<Value> acc, Value row0,
                               Value col0,
                               ArrayRef<std::pair<int64_t, int64_t>> at,
                               Value base, int64_t G, Type outType) {
  Value g = group[0].op->getResult(0), u = group[1].op->getResult(0);
  int64_t eb = outType.getIntOrFloatBitWidth() / 8;
  const GemmProblem &p0 = group.front().p;
  unsigned nd = p0.nDims.front();
  bool pairs = evenPairs(p0) && G % 2 == 0;
  for (size_t i = 0; i < acc.size(); ++i) {
    int64_t dr = at[i].first, dc = at[i].second;
    std::optional<size_t> next = accAt(at, dr, dc + 1);
    if ((dc / G) % 2 || (pairs && (dc % 2 || !next)))
      continue;
    SmallVector<size_t> cols{i};
    if (pairs)
      cols.push_back(*next);
    Value m = e.add(row0, dr), n = e.add(col0, dc);
    e.ifThen(inBounds(e, m, n), [&] {
      SmallVector<Value> vals;
      for (size_t c : cols) {
        std::optional<size_t> up = accAt(at, dr, at[c].second + G);
        if (!up)
          llvm_unreachable("gate column without its up column in the lane");
        vals.push_back(e.convert(evaluateChain(e.builder(), e.location(), chain,
                                               g, u, acc[c], acc[*up]),
                                 outType));
      }
      // Merged column n holds column (n / 2G) G + n % G of gate or up.
      Value j = e.add(e.mul(e.div(n, 2 * G), G), e.rem(n, G));
      Value offset =
          e.add(e.offsetOf(p0.mDims, m, p0.strideC), e.mul(j, p0.strideC[nd]));
      e.store(vals, e.add(base, e.mul(offset, eb)), eb);
    });
  }
}

bool SiblingFusion::run() {
  const Sibling &first = group.front();
  Type elem = operandType(first.p);
  if (group.size() == 2 && group[0].p.N == group[1].p.N)
    chain = gatedChain(group[0].op->getResult(0), group[1].op->getResult(0));
  int64_t N = 0;
  for (const Sibling &s : group)
    N += s.p.N;
  merged = mergedProblem(N);
  GemmKernelChoice choice = chooseKernel(merged, elem);
  plan = choice.plan;
  wgmma = choice.wgmma;
  if (!plan || gemmSharedBytes(plan, wgmma) > kMaxSharedBytes ||
      merged.mDims.empty())
    return false;
  // Gate and up columns interleave in groups of G (file comment): on
  // tensor cores a lane holds columns 8 j + 2 (lane % 4) (+1) of every n8
  // tile of its warp tile, mma.sync and wgmma alike, so gate group j and up
  // group j + 1 meet in the lane.
  int64_t G = elem.isF32() ? plan.warpTileN() / 2 : 8;
  if (!chain.empty() &&
      (first.p.N % G || (!elem.isF32() && plan.warpTileN() % 16)))
    chain.clear();
  bool gated = !chain.empty();
  int64_t start = 0;
  for (const Sibling &s : group) {
    Output o;
    Value result = s.op->getResult(0);
    if (gated || !matchHeadTranspose(result, o)) {
      o.replaced = result;
      o.type = cast<RankedTensorType>(result.getType());
    }
    o.start = start;
    o.width = s.p.N;
    start += s.p.N;
    outputs.push_back(o);
  }
  auto source = [&](int64_t j) -> std::pair<size_t, int64_t> {
    if (gated)
      return {(j / G) % 2, (j / (2 * G)) * G + j % G};
    for (size_t s = 0;; ++s)
      if (j < outputs[s].start + outputs[s].width)
        return {s, j - outputs[s].start};
  };
  DenseElementsAttr weights = concatWeights(group, N, source);

  OpBuilder b(first.op);
  Location loc = first.op->getLoc();
  auto toBuffer = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  };
  auto operand = [&](Value v) {
    return toBuffer(convertOperand(b, loc, v, operandStorageType(elem)));
  };
  Value a = operand(first.op->getOperand(0));
  Value bm = operand(arith::ConstantOp::create(b, loc, weights));
  SmallVector<RankedTensorType> outTypes;
  Type narrow;
  if (gated) {
    auto sinkType = cast<RankedTensorType>(chain.back().getResult(0).getType());
    if (narrowReaders && sinkType.getElementType().isF32())
      narrow = narrowReaders(chain.back().getResult(0));
    outTypes.push_back(narrow ? sinkType.clone(narrow) : sinkType);
  } else
    for (const Output &o : outputs)
      outTypes.push_back(o.type);
  SmallVector<Value> allocs;
  for (RankedTensorType t : outTypes)
    allocs.push_back(memref::AllocOp::create(
        b, loc, MemRefType::get(t.getShape(), t.getElementType())));

  Emit e(b, loc, merged, plan);
  GemmHooks hooks;
  hooks.epilogue = [&](ArrayRef<Value> acc, Value row0, Value col0,
                       ArrayRef<std::pair<int64_t, int64_t>> at) {
    SmallVector<Value> bases;
    for (Value m : allocs)
      bases.push_back(e.base(m));
    if (gated)
      return storeGated(e, acc, row0, col0, at, bases.front(), G,
                        outTypes.front().getElementType());
    storeOutputs(e, acc, row0, col0, at, bases);
  };
  gpu::LaunchOp launch = buildGemmLaunch(b, loc, merged, plan, a, bm, Value(),
                                         Value(), &hooks, wgmma);
  launch->setAttr(kGemmFusionAttr,
                  b.getStringAttr(gated ? "gated" : "outputs"));
  if (!gated)
    launch->setAttr("kestrel.gemm_outputs",
                    b.getStrArrayAttr(llvm::to_vector(llvm::map_range(
                        outputs, [](const Output &o) -> StringRef {
                          return o.heads ? "heads" : "rows";
                        }))));
  auto toTensor = [&](Value alloc, RankedTensorType t) -> Value {
    return bufferization::ToTensorOp::create(b, loc, t, alloc,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  };
  if (gated) {
    Value result = toTensor(allocs.front(), outTypes.front());
    if (narrow)
      result = widenOperand(b, loc, result);
    chain.back().getResult(0).replaceAllUsesWith(result);
    for (linalg::GenericOp gen : llvm::reverse(chain))
      gen->erase();
  } else {
    for (auto [o, alloc] : llvm::zip(outputs, allocs)) {
      o.replaced.replaceAllUsesWith(toTensor(alloc, o.type));
      for (Operation *op : o.erase)
        op->erase();
    }
  }
  for (const Sibling &s : llvm::reverse(group))
    s.op->erase();
  return true;
}

} // namespace

void fuseSiblingGemms(GemmWork &work,
                      llvm::function_ref<Type(const GemmProblem &)> operandType,
                      GemmKernelChooser chooseKernel) {
  std::vector<std::optional<Sibling>> siblings;
  for (auto &[op, p] : work)
    siblings.push_back(asSibling(op, p));
  llvm::DenseSet<Operation *> fused;
  for (size_t i = 0; i < siblings.size(); ++i) {
    if (!siblings[i] || fused.contains(siblings[i]->op))
      continue;
    std::vector<Sibling> group{*siblings[i]};
    Value a = group.front().op->getOperand(0);
    Type elem = operandType(group.front().p);
    for (size_t j = i + 1; j < siblings.size(); ++j)
      if (siblings[j] && !fused.contains(siblings[j]->op) &&
          siblings[j]->op->getOperand(0) == a &&
          sameShapeBesidesN(group.front(), *siblings[j]) &&
          operandType(siblings[j]->p) == elem)
        group.push_back(*siblings[j]);
    if (group.size() < 2)
      continue;
    llvm::sort(group, [](const Sibling &x, const Sibling &y) {
      return x.op->isBeforeInBlock(y.op);
    });
    SmallVector<Operation *> ops;
    for (const Sibling &s : group)
      ops.push_back(s.op);
    SiblingFusion fusion(group, operandType, chooseKernel);
    fusion.narrowReaders = [&](Value v) -> Type {
      Type narrow;
      for (OpOperand &use : v.getUses()) {
        auto it = llvm::find_if(work, [&](auto &w) {
          return w.first.getOperation() == use.getOwner() &&
                 !fused.contains(use.getOwner());
        });
        if (it == work.end() || use.getOperandNumber() > 1)
          return Type();
        Type t = operandType(it->second);
        if (!t || !(t.isBF16() || t.isF16()) || (narrow && narrow != t))
          return Type();
        narrow = t;
      }
      return narrow;
    };
    if (fusion.run())
      fused.insert(ops.begin(), ops.end());
  }
  llvm::erase_if(
      work, [&](auto &w) { return fused.contains(w.first.getOperation()); });
}

Value convertInProducer(OpBuilder &b, Location loc, Value value, Type type) {
  auto gen = value.getDefiningOp<linalg::GenericOp>();
  auto shape = cast<RankedTensorType>(value.getType()).getShape();
  // A widening from `type`: its source.
  if (gen && gen.getNumDpsInputs() == 1 && isElementwise(gen, shape) &&
      getElementTypeOrSelf(gen.getDpsInputs()[0].getType()) == type) {
    auto ext = gen.getBlock()
                   ->getTerminator()
                   ->getOperand(0)
                   .getDefiningOp<arith::ExtFOp>();
    if (gen.getBlock()->getOperations().size() == 2 && ext &&
        ext.getIn() == gen.getBlock()->getArgument(0))
      return gen.getDpsInputs()[0];
  }
  // An elementwise producer behind reshapes, each value used once.
  SmallVector<Operation *> reshapes;
  Value v = value;
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<tensor::ReshapeOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
            def) ||
        !v.hasOneUse())
      break;
    reshapes.push_back(def);
    v = def->getOperand(0);
  }
  gen = v.getDefiningOp<linalg::GenericOp>();
  if (!gen || !v.hasOneUse() || gen.getNumResults() != 1 ||
      gen.getNumDpsInits() != 1 || !allParallel(gen) ||
      !getElementTypeOrSelf(v.getType()).isF32() ||
      !gen.getBlock()->getArgument(gen.getNumDpsInputs()).use_empty())
    return Value();
  auto narrowType = cast<RankedTensorType>(v.getType()).clone(type);
  Value empty = tensor::EmptyOp::create(b, loc, narrowType.getShape(), type);
  auto narrow = linalg::GenericOp::create(
      b, gen.getLoc(), narrowType, gen.getDpsInputs(), empty,
      gen.getIndexingMapsArray(), gen.getIteratorTypesArray(),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        IRMapping map;
        map.map(gen.getBlock()->getArguments().drop_back(), args.drop_back());
        for (Operation &op : gen.getBlock()->without_terminator())
          nb.clone(op, map);
        Value y =
            map.lookupOrDefault(gen.getBlock()->getTerminator()->getOperand(0));
        linalg::YieldOp::create(nb, l,
                                Value(arith::TruncFOp::create(nb, l, type, y)));
      });
  Value result = narrow.getResult(0);
  for (Operation *reshape : llvm::reverse(reshapes)) {
    IRMapping map;
    map.map(reshape->getOperand(0), result);
    Operation *copy = b.clone(*reshape, map);
    copy->getResult(0).setType(
        cast<RankedTensorType>(copy->getResult(0).getType()).clone(type));
    result = copy->getResult(0);
  }
  return result;
}

bool foldResidualAdd(linalg::LinalgOp op, GemmProblem &p) {
  if (!p.initConstant || *p.initConstant != 0.0 || op->getNumResults() != 1)
    return false;
  Value c = op->getResult(0);
  if (!c.hasOneUse())
    return false;
  auto add = dyn_cast<linalg::GenericOp>(*c.getUsers().begin());
  auto shape = cast<RankedTensorType>(c.getType()).getShape();
  if (!add || add.getNumDpsInputs() != 2 || !isElementwise(add, shape) ||
      add->getBlock() != op->getBlock() ||
      add.getResult(0).getType() != c.getType())
    return false;
  Block *body = add.getBlock();
  auto sum =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (body->getOperations().size() != 2 || !sum ||
      !llvm::is_contained(body->getArguments().take_front(2), sum.getLhs()) ||
      !llvm::is_contained(body->getArguments().take_front(2), sum.getRhs()) ||
      sum.getLhs() == sum.getRhs())
    return false;
  Value other = add.getDpsInputs()[0] == c ? add.getDpsInputs()[1]
                                           : add.getDpsInputs()[0];
  if (other == c)
    return false;
  // R must exist where the contraction runs.
  if (Operation *def = other.getDefiningOp()) {
    if (def->getBlock() != op->getBlock() || !def->isBeforeInBlock(op))
      return false;
  } else if (!other.getParentRegion()->isAncestor(op->getParentRegion())) {
    return false;
  }
  op.getDpsInitsMutable()[0].set(other);
  add.getResult(0).replaceAllUsesWith(c);
  add->erase();
  p.initConstant.reset();
  op->setAttr(kGemmFusionAttr, StringAttr::get(op->getContext(), "residual"));
  return true;
}

} // namespace kestrel
