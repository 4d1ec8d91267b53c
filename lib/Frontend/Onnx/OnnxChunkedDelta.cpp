//===- OnnxChunkedDelta.cpp - HF's chunked gated delta rule ---------------===//
//
// Hugging Face's Gated DeltaNet (Qwen3-Next's linear attention) without its
// fla kernels runs `torch_chunk_gated_delta_rule`: the tokens in chunks of
// L, a UT transform per chunk built by forward substitution (L − 1 row
// updates, a Python loop the exporter unrolls into ~14 nodes each), then a
// scan over the chunks passing a [Dk, Dv] state. Exported by torch.onnx
// that is 14·(L − 1) + 13·c + ~30 nodes per layer (c chunks; ~930 for
// L = 64 and one chunk) which, imported one by one, compile into a slow
// program of scatters. This pre-pass finds the form on the ONNX graph and
// imports it as one kestrel.gated_recurrence (gate = gated_delta).
//
// With q, k [B,H,T,Dk], v [B,H,T,Dv], g, β [B,H,T] (T a multiple of L, the
// padded length), and their chunked views X5 = reshape(X, [B,H,c,L,·]):
//
//   kb = reshape(k · β[...,None]),  vb = reshape(v · β[...,None])
//   G  = cumsum(reshape(g), 3)                                  [B,H,c,L]
//   D  = exp(where(triu(ones(L,L), 1), −inf, G[...,:,None] − G[...,None,:]))
//   M  = −tril((kb @ k5ᵀ) · D, −1)
//   for i in 1..L−1:  M[..., i, :i] += M[..., i, :i] @ M[..., :i, :i]
//   U  = M + I;  nv = U @ vb;  kc = U @ (kb · exp(G)[...,None])
//   A  = (q5 @ k5ᵀ) · D;  qd = q5 · exp(G)[...,None]
//   kd = k5 · exp(G[..., -1:] − G)[...,None];  cd = exp(G[..., -1])[...,None,None]
//   for i in 0..c−1:
//     vn  = nv[:,:,i] − kc[:,:,i] @ S
//     O[:,:,i] = qd[:,:,i] @ S + A[:,:,i] @ vn
//     S   = S · cd[:,:,i] + kd[:,:,i]ᵀ @ vn                (S = S₀ first)
//
// which is exactly S_t = e^{g_t} S_{t−1} (I − β_t k_tᵀ k_t) + β_t k_tᵀ v_t,
// o_t = q_t S_t over the T tokens: gated_recurrence(q, k, v, log_gate g,
// beta β, initial_state S₀ unless it is the zero constant), whatever
// padding the producer added. Every node is checked (op, axes, perms,
// constant indices, the masks and the identity) and no intermediate may be
// read outside the form; the shapes are checked when it is imported, and
// anything else stays as the generic nodes it was.
//
//===----------------------------------------------------------------------===//

#include "OnnxSubgraphMatcher.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"

#include <cmath>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

class ChunkedDeltaMatcher : public SubgraphMatcher {
public:
  using SubgraphMatcher::SubgraphMatcher;

  /// The rule whose chunked output O is written by `root`, the last of the
  /// chunk writes, if `root` ends the form.
  std::optional<ChunkedDelta> match(const onnx::NodeProto &root);

private:
  ChunkedDelta d;
  /// Names shared by every chunk step (set by the first).
  std::string qd, attn, nv, kc, cd, kd;

  /// Checks that `name` is `expected`, or sets it when still empty.
  static bool same(std::string &expected, const std::string &name) {
    if (expected.empty())
      expected = name;
    return expected == name;
  }
  /// ScatterElements(data, indices all equal to `index`, updates) along
  /// `axis` of rank 5, no reduction; records the index shape.
  const onnx::NodeProto *write(const onnx::NodeProto *n, int64_t axis,
                               int64_t index,
                               std::vector<SmallVector<int64_t>> &shapes) {
    if (!n || n->op_type() != "ScatterElements" || !n->domain().empty() ||
        n->input_size() != 3 || !isAxis(intAttr(*n, "axis", 0), axis, 5) ||
        stringAttr(*n, "reduction", "none") != "none")
      return nullptr;
    SmallVector<int64_t> shape;
    if (!allEqual(input(n, 1), index, shape) || shape.size() != 5)
      return nullptr;
    shapes.push_back(shape);
    return n;
  }
  const onnx::NodeProto *producer(const std::string &name) {
    auto it = im.producers.find(name);
    return it == im.producers.end() ? nullptr : it->second;
  }
  /// Reshape(x, constant target): x's name; the target in `target`.
  std::optional<std::string> reshape(const std::string &name,
                                     std::vector<int64_t> &target) {
    const onnx::NodeProto *n = node(name, "Reshape", -1);
    auto t = n ? ints(input(n, 1)) : std::nullopt;
    if (!t)
      return std::nullopt;
    target = *t;
    return input(n, 0);
  }
  /// Unsqueeze(exp(x), 4) of rank 5: x's name.
  std::optional<std::string> expUnsqueezed(const std::string &name) {
    const onnx::NodeProto *un = unsqueeze(name, 4, 5, -1);
    const onnx::NodeProto *e = un ? node(input(un, 0), "Exp", -1) : nullptr;
    return e ? std::optional<std::string>(input(e, 0)) : std::nullopt;
  }
  /// Mul(x, Unsqueeze(exp(cs), 4)) in either order: x's name.
  std::optional<std::string> scaledByExp(const std::string &name,
                                         const std::string &cs) {
    std::string x;
    if (!eitherOrder(
            node(name, "Mul", -1),
            [&](const std::string &s) { return expUnsqueezed(s) == cs; }, x))
      return std::nullopt;
    return x;
  }
  /// exp(where(triu(ones(L, L), 1), −inf, cs[..., :, None] − cs[..., None, :]))
  /// : cs's name; the chunk size in `L`.
  std::optional<std::string> pairwiseDecay(const std::string &name,
                                           int64_t &L) {
    const onnx::NodeProto *e = node(name, "Exp", -1);
    const onnx::NodeProto *w = e ? node(input(e, 0), "Where", -1) : nullptr;
    if (!w || w->input_size() != 3 || !triangularMask(input(w, 0), 0, L))
      return std::nullopt;
    auto ninf = scalarSplat(input(w, 1));
    if (!ninf || !std::isinf(*ninf) || *ninf > 0)
      return std::nullopt;
    const onnx::NodeProto *sub = node(input(w, 2), "Sub", -1);
    if (!sub)
      return std::nullopt;
    const onnx::NodeProto *rows = unsqueeze(input(sub, 0), 4, 5, -1);
    const onnx::NodeProto *cols = unsqueeze(input(sub, 1), 3, 5, -1);
    if (!rows || !cols || input(rows, 0) != input(cols, 0))
      return std::nullopt;
    return input(rows, 0);
  }
  /// (x @ transpose(k5, [0,1,2,4,3])) · D in either order: x's name; k5's
  /// in `k5`, cs's in `cs`.
  std::optional<std::string> decayedScores(const std::string &name,
                                           std::string &k5, std::string &cs,
                                           int64_t &L) {
    std::string x, decay;
    auto scores = [&](const std::string &s) {
      const onnx::NodeProto *mm = node(s, "MatMul", -1);
      const onnx::NodeProto *t =
          mm ? node(input(mm, 1), "Transpose", -1) : nullptr;
      if (!perm(t, {0, 1, 2, 4, 3}) || !same(k5, input(t, 0)))
        return false;
      x = input(mm, 0);
      return true;
    };
    if (!eitherOrder(node(name, "Mul", -1), scores, decay))
      return std::nullopt;
    auto c = pairwiseDecay(decay, L);
    if (!c || !same(cs, *c))
      return std::nullopt;
    return x;
  }
  /// Row update `i` of the forward substitution, ending in `se`: the
  /// matrix it updates.
  std::optional<std::string> rowUpdate(const onnx::NodeProto *se, int64_t i);
  /// Chunk step `i`: O[:,:,i] written by `se`; the state it reads in
  /// `state`, vn's name in `vn`.
  bool chunkStep(const onnx::NodeProto *se, int64_t i, std::string &state,
                 std::string &vn);
  /// S_{i+1} = S_i · cd[:,:,i] + kd[:,:,i]ᵀ @ vn_i.
  bool stateUpdate(const std::string &name, int64_t i,
                   const std::string &state, const std::string &vn);
};

std::optional<std::string>
ChunkedDeltaMatcher::rowUpdate(const onnx::NodeProto *se, int64_t i) {
  std::string prev = input(se, 0);
  const onnx::NodeProto *un = unsqueeze(input(se, 2), 3, 5, -1);
  const onnx::NodeProto *back =
      un ? node(input(un, 0), "Transpose", -1) : nullptr;
  const onnx::NodeProto *nd =
      perm(back, {3, 1, 2, 0}) ? node(input(back, 0), "ScatterND", -1)
                               : nullptr;
  if (!nd || nd->input_size() != 3 ||
      stringAttr(*nd, "reduction", "none") != "none")
    return std::nullopt;
  // ScatterND(rowᵀ, [[0], ..., [i−1]], updatedᵀ): the first i entries of
  // row i replaced.
  DenseElementsAttr idx = constant(input(nd, 1));
  auto idxValues = ints(input(nd, 1));
  if (!idx || !idxValues ||
      cast<ShapedType>(idx.getType()).getShape() != ArrayRef<int64_t>{i, 1})
    return std::nullopt;
  for (int64_t k = 0; k < i; ++k)
    if ((*idxValues)[k] != k)
      return std::nullopt;
  const onnx::NodeProto *rowT = node(input(nd, 0), "Transpose", -1);
  const onnx::NodeProto *updT = node(input(nd, 2), "Transpose", -1);
  if (!perm(rowT, {3, 1, 2, 0}) || !perm(updT, {3, 1, 2, 0}))
    return std::nullopt;
  const onnx::NodeProto *row = gather(input(rowT, 0), 3, 5, i);
  if (!row || input(row, 0) != prev)
    return std::nullopt;
  // updated = r + reducesum(unsqueeze(r, −1) · prev[..., :i, :i], −2) with
  // r = row[..., :i].
  std::string r, sum, sub;
  if (!eitherOrder(
          node(input(updT, 0), "Add", -1),
          [&](const std::string &s) {
            const onnx::NodeProto *sl = slice(s, 3, 4, 0, i);
            if (!sl || input(sl, 0) != row->output(0))
              return false;
            r = s;
            return true;
          },
          sum))
    return std::nullopt;
  const onnx::NodeProto *rs = node(sum, "ReduceSum", -1);
  if (!rs || intAttr(*rs, "keepdims", 1) != 0)
    return std::nullopt;
  auto axes = ints(input(rs, 1));
  if (!axes || axes->size() != 1 || !isAxis((*axes)[0], 3, 5))
    return std::nullopt;
  if (!eitherOrder(
          node(input(rs, 0), "Mul", -1),
          [&](const std::string &s) {
            const onnx::NodeProto *u = unsqueeze(s, 4, 5, -1);
            return u && input(u, 0) == r;
          },
          sub))
    return std::nullopt;
  for (auto [outer, inner] : {std::pair<int64_t, int64_t>{4, 3}, {3, 4}}) {
    size_t saved = interior.size();
    const onnx::NodeProto *s2 = slice(sub, outer, 5, 0, i);
    const onnx::NodeProto *s1 = s2 ? slice(input(s2, 0), inner, 5, 0, i)
                                   : nullptr;
    if (s1 && input(s1, 0) == prev)
      return prev;
    interior.resize(saved);
  }
  return std::nullopt;
}

bool ChunkedDeltaMatcher::chunkStep(const onnx::NodeProto *se, int64_t i,
                                    std::string &state, std::string &vn) {
  const onnx::NodeProto *un = unsqueeze(input(se, 2), 2, 5, -1);
  if (!un)
    return false;
  // O_i = qd_i @ S + A_i @ vn with vn = nv_i − kc_i @ S.
  std::string inter, s;
  auto intra = [&](const std::string &name) {
    const onnx::NodeProto *mm = node(name, "MatMul", -1);
    const onnx::NodeProto *a = mm ? gather(input(mm, 0), 2, 5, i) : nullptr;
    const onnx::NodeProto *sub = mm ? node(input(mm, 1), "Sub", -1) : nullptr;
    if (!a || !sub || !same(attn, input(a, 0)))
      return false;
    const onnx::NodeProto *n = gather(input(sub, 0), 2, 5, i);
    const onnx::NodeProto *read = node(input(sub, 1), "MatMul", -1);
    const onnx::NodeProto *c = read ? gather(input(read, 0), 2, 5, i) : nullptr;
    if (!n || !c || !same(nv, input(n, 0)) || !same(kc, input(c, 0)))
      return false;
    s = input(read, 1);
    vn = input(mm, 1);
    return true;
  };
  if (!eitherOrder(node(input(un, 0), "Add", -1), intra, inter))
    return false;
  const onnx::NodeProto *mm = node(inter, "MatMul", -1);
  const onnx::NodeProto *q = mm ? gather(input(mm, 0), 2, 5, i) : nullptr;
  if (!q || !same(qd, input(q, 0)) || input(mm, 1) != s)
    return false;
  state = s;
  return true;
}

bool ChunkedDeltaMatcher::stateUpdate(const std::string &name, int64_t i,
                                      const std::string &state,
                                      const std::string &vn) {
  std::string added;
  auto decayed = [&](const std::string &m) {
    std::string factor;
    if (!eitherOrder(
            node(m, "Mul", -1),
            [&](const std::string &s) { return s == state; }, factor))
      return false;
    const onnx::NodeProto *g = gather(factor, 2, 5, i);
    return g && same(cd, input(g, 0));
  };
  if (!eitherOrder(node(name, "Add", -1), decayed, added))
    return false;
  const onnx::NodeProto *mm = node(added, "MatMul", -1);
  const onnx::NodeProto *t = mm ? node(input(mm, 0), "Transpose", -1) : nullptr;
  const onnx::NodeProto *g =
      perm(t, {0, 1, 3, 2}) ? gather(input(t, 0), 2, 5, i) : nullptr;
  return g && same(kd, input(g, 0)) && input(mm, 1) == vn;
}

std::optional<ChunkedDelta>
ChunkedDeltaMatcher::match(const onnx::NodeProto &root) {
  interior.clear();
  d = ChunkedDelta();
  qd.clear(), attn.clear(), nv.clear(), kc.clear(), cd.clear(), kd.clear();

  // The chunk writes O[:,:,c−1] (root) back to O[:,:,0].
  std::vector<const onnx::NodeProto *> writes;
  const onnx::NodeProto *at = &root;
  int64_t previous = 0;
  for (;;) {
    if (!at || at->op_type() != "ScatterElements" || at->input_size() != 3)
      return std::nullopt;
    DenseElementsAttr indices = constant(input(at, 1));
    if (!indices || !isa<IntegerType>(indices.getElementType()) ||
        indices.empty())
      return std::nullopt;
    // Consecutive chunks, the root writing the last.
    int64_t index = (*indices.getValues<APInt>().begin()).getSExtValue();
    if (index < 0 || (!writes.empty() && index != previous - 1))
      return std::nullopt;
    previous = index;
    if (!write(at, 2, index, d.chunkIndexShapes))
      return std::nullopt;
    writes.push_back(at);
    if (index == 0)
      break;
    at = node(input(at, 0), "ScatterElements", -1);
  }
  d.chunks = writes.size();
  // O before the first write: the writes must cover all of it.
  d.output = input(writes.back(), 0);
  std::reverse(writes.begin(), writes.end());

  // The scan over the chunks, first to last.
  std::string state, vnPrev;
  for (int64_t i = 0; i < d.chunks; ++i) {
    std::string read, vn;
    if (!chunkStep(writes[i], i, read, vn))
      return std::nullopt;
    if (i == 0)
      d.state = read;
    else if (!stateUpdate(read, i - 1, state, vnPrev))
      return std::nullopt;
    state = read;
    vnPrev = vn;
  }

  // Within the chunks: nv = U @ vb, kc = U @ (kb · exp(G)), U = M + I.
  const onnx::NodeProto *nvMM = node(nv, "MatMul", -1);
  const onnx::NodeProto *kcMM = node(kc, "MatMul", -1);
  if (!nvMM || !kcMM || input(nvMM, 0) != input(kcMM, 0))
    return std::nullopt;
  std::string vb5 = input(nvMM, 1), lastRow, eye;
  int64_t L = 0;
  if (!eitherOrder(
          node(input(nvMM, 0), "Add", -1),
          [&](const std::string &s) { return identity(s, L); },
          lastRow) ||
      L < 2)
    return std::nullopt;
  d.chunk = L;
  // The row updates L−1 down to 1, then M = −tril(S, −1).
  std::string rows = lastRow;
  for (int64_t i = L - 1; i >= 1; --i) {
    const onnx::NodeProto *se =
        write(node(rows, "ScatterElements", -1), 3, i, d.rowIndexShapes);
    auto prev = se ? rowUpdate(se, i) : std::nullopt;
    if (!prev)
      return std::nullopt;
    rows = *prev;
  }
  const onnx::NodeProto *neg = node(rows, "Neg", -1);
  const onnx::NodeProto *tril = neg ? node(input(neg, 0), "Trilu", -1)
                                    : nullptr;
  auto diagonal = tril ? scalarIndex(input(tril, 1)) : std::nullopt;
  if (!tril || intAttr(*tril, "upper", 1) != 0 || diagonal != -1)
    return std::nullopt;
  std::string k5, cs, kb5, q5;
  int64_t L1 = 0, L2 = 0;
  auto kbOut = decayedScores(input(tril, 0), k5, cs, L1);
  auto qOut = decayedScores(attn, k5, cs, L2);
  if (!kbOut || !qOut || L1 != L || L2 != L)
    return std::nullopt;
  kb5 = *kbOut;
  q5 = *qOut;
  auto kbExp = scaledByExp(input(kcMM, 1), cs);
  auto qExp = scaledByExp(qd, cs);
  if (kbExp != kb5 || qExp != q5)
    return std::nullopt;
  if (d.chunks > 1) {
    // kd = k5 · exp(G[..., -1:] − G), cd = exp(G[..., -1]) unsqueezed twice.
    std::string diff;
    if (!eitherOrder(
            node(kd, "Mul", -1),
            [&](const std::string &s) { return s == k5; }, diff))
      return std::nullopt;
    auto under = expUnsqueezed(diff);
    const onnx::NodeProto *sub = under ? node(*under, "Sub", -1) : nullptr;
    const onnx::NodeProto *last =
        sub ? slice(input(sub, 0), 3, 4, -1, std::numeric_limits<int64_t>::max(),
                    -1, L)
            : nullptr;
    if (!last) {
      size_t saved = interior.size();
      last = sub ? slice(input(sub, 0), 3, 4, L - 1,
                         std::numeric_limits<int64_t>::max(), -1, L)
                 : nullptr;
      if (!last)
        interior.resize(saved);
    }
    if (!last || input(last, 0) != cs || input(sub, 1) != cs)
      return std::nullopt;
    const onnx::NodeProto *un = node(cd, "Unsqueeze", -1);
    auto axes = un ? ints(input(un, 1)) : std::nullopt;
    if (!axes || axes->size() != 2 || !isAxis((*axes)[0], 3, 5) ||
        !isAxis((*axes)[1], 4, 5))
      return std::nullopt;
    const onnx::NodeProto *e = node(input(un, 0), "Exp", -1);
    const onnx::NodeProto *g = e ? gather(input(e, 0), 3, 4, L - 1, L)
                                 : nullptr;
    if (!g || input(g, 0) != cs)
      return std::nullopt;
  }
  // G = cumsum(reshape(g), 3).
  const onnx::NodeProto *cumsum = node(cs, "CumSum", -1);
  auto csAxis = cumsum ? ints(input(cumsum, 1)) : std::nullopt;
  if (!csAxis || csAxis->size() != 1 || !isAxis((*csAxis)[0], 3, 4) ||
      intAttr(*cumsum, "exclusive", 0) || intAttr(*cumsum, "reverse", 0))
    return std::nullopt;
  // The leaves: q5, k5 = reshape(q), reshape(k); kb5, vb5 = reshape(k · β),
  // reshape(v · β) with β unsqueezed last.
  auto g = reshape(input(cumsum, 0), d.gShape);
  auto q = reshape(q5, d.qShape);
  auto k = reshape(k5, d.kShape);
  auto kbFlat = reshape(kb5, d.kbShape);
  auto vbFlat = reshape(vb5, d.vbShape);
  if (!g || !q || !k || !kbFlat || !vbFlat)
    return std::nullopt;
  auto timesBeta = [&](const std::string &name, std::string &x) {
    return eitherOrder(
        node(name, "Mul", -1),
        [&](const std::string &s) {
          const onnx::NodeProto *u = unsqueeze(s, 3, 4, -1);
          return u && same(d.beta, input(u, 0));
        },
        x);
  };
  std::string kOfKb;
  if (!timesBeta(*kbFlat, kOfKb) || kOfKb != *k || !timesBeta(*vbFlat, d.v))
    return std::nullopt;
  d.q = *q;
  d.k = *k;
  d.g = *g;
  if (!onlyReadInside(root))
    return std::nullopt;
  return d;
}

/// Whether `target` (a Reshape's constant shape, one −1 allowed) gives
/// `want`.
bool reshapesTo(ArrayRef<int64_t> target, ArrayRef<int64_t> want) {
  if (target.size() != want.size() || llvm::count(target, -1) > 1)
    return false;
  for (auto [t, w] : llvm::zip(target, want))
    if (t != w && t != -1)
      return false;
  return true;
}

} // namespace

void Importer::findChunkedDeltas(const onnx::GraphProto &graph) {
  GraphIndex index(graph);
  ChunkedDeltaMatcher matcher(*this, index);
  // Last to first: the final chunk write ends the form (an earlier one
  // would end a shorter scan whose output is read by the next write).
  recognizeEach(*this, graph, index, matcher, /*lastFirst=*/true,
                std::mem_fn(&Importer::convertChunkedDelta));
}

LogicalResult Importer::convertChunkedDelta(const RecognizedSubgraph &subgraph,
                                            const ChunkedDelta &delta) {
  const onnx::NodeProto &root = *subgraph.root;
  RankedTensorType qt = typeOfName(delta.q), kt = typeOfName(delta.k),
                   vt = typeOfName(delta.v), gt = typeOfName(delta.g),
                   bt = typeOfName(delta.beta);
  // The shapes the form implies: q, k [B,H,T,Dk], v [B,H,T,Dv], g, β
  // [B,H,T] with T = c·L, one float type; otherwise the nodes as they are.
  auto fits = [&] {
    if (!qt || !kt || !vt || !gt || !bt || !qt.hasStaticShape() ||
        qt.getRank() != 4 || qt != kt || !vt.hasStaticShape() ||
        vt.getRank() != 4 || gt != bt || !gt.hasStaticShape() ||
        gt.getRank() != 3 || !isa<FloatType>(qt.getElementType()) ||
        vt.getElementType() != qt.getElementType() ||
        gt.getElementType() != qt.getElementType())
      return false;
    ArrayRef<int64_t> qs = qt.getShape(), vs = vt.getShape();
    int64_t B = qs[0], H = qs[1], T = qs[2], Dk = qs[3], Dv = vs[3],
            c = delta.chunks, L = delta.chunk;
    if (vs.take_front(3) != qs.take_front(3) ||
        gt.getShape() != qs.take_front(3) || T != c * L)
      return false;
    SmallVector<int64_t> qk5 = {B, H, c, L, Dk}, v5 = {B, H, c, L, Dv};
    if (!reshapesTo(delta.qShape, qk5) || !reshapesTo(delta.kShape, qk5) ||
        !reshapesTo(delta.kbShape, qk5) || !reshapesTo(delta.vbShape, v5) ||
        !reshapesTo(delta.gShape, {B, H, c, L}))
      return false;
    // O, before the writes, is exactly what they cover.
    RankedTensorType ot = typeOfName(delta.output);
    if (!ot || ot != RankedTensorType::get({B, H, c, L, Dv},
                                           qt.getElementType()))
      return false;
    SmallVector<int64_t> rowIndex = {B, H, c, 1, L}, chunkIndex = {B, H, 1, L, Dv};
    return llvm::all_of(delta.rowIndexShapes,
                        [&](ArrayRef<int64_t> s) { return s == ArrayRef<int64_t>(rowIndex); }) &&
           llvm::all_of(delta.chunkIndexShapes, [&](ArrayRef<int64_t> s) {
             return s == ArrayRef<int64_t>(chunkIndex);
           });
  };
  if (!fits())
    return convertNodes(subgraph);
  Type elt = qt.getElementType();
  ArrayRef<int64_t> qs = qt.getShape();
  int64_t B = qs[0], H = qs[1], T = qs[2], Dk = qs[3],
          Dv = vt.getShape()[3];
  auto stateType = RankedTensorType::get({B, H, Dk, Dv}, elt);
  // S₀: none when it is the zero constant, else a [B,H,Dk,Dv] value.
  Value initial;
  DenseElementsAttr zero = foldedOf(values.lookup(delta.state));
  bool isZero = zero && isa<FloatType>(zero.getElementType()) &&
                zero.isSplat() &&
                zero.getSplatValue<APFloat>().isZero();
  if (!isZero) {
    initial = values.lookup(delta.state);
    if (!initial || initial.getType() != stateType)
      return convertNodes(subgraph);
  }
  std::string label = "node '" + root.name() + "' (chunked gated delta rule)";
  loc = NameLoc::get(StringAttr::get(&ctx, label), fileLoc);
  llvm::scope_exit restore([&] { loc = fileLoc; });
  auto rec = kestrel::GatedRecurrenceOp::create(
      b, loc, RankedTensorType::get({B, H, T, Dv}, elt), stateType,
      values.lookup(delta.q), values.lookup(delta.k), values.lookup(delta.v),
      values.lookup(delta.g), values.lookup(delta.beta), initial,
      kestrel::GateKind::GatedDelta, b.getF32FloatAttr(1.0f));
  if (failed(mlir::verify(rec)))
    return failure();
  values[root.output(0)] = tensor::ExpandShapeOp::create(
      b, loc,
      RankedTensorType::get({B, H, delta.chunks, delta.chunk, Dv}, elt),
      rec.getOutput(),
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4}});
  return success();
}

} // namespace kestrel::onnximport
