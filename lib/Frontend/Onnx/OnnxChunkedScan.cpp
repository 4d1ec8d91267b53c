//===- OnnxChunkedScan.cpp - Mamba2's chunked SSD as gated_recurrence -----===//
//
// Hugging Face's Mamba2 mixer without its CUDA kernels (`torch_forward`,
// also FalconH1's and GraniteMoeHybrid's) computes the SSD scan in chunks
// of L tokens with five einsums, segment sums and a state-passing step.
// Exported by torch.onnx, that is about forty nodes per layer which, once
// lowered, no longer read as one computation (pads, cumsums, masks and
// gathers become index arithmetic). This pre-pass finds the form on the
// ONNX graph, where every node still says what it is, and imports the
// whole subgraph as one kestrel.gated_recurrence (scalar gate, scale 1).
//
// With the chunked views x [B,c,L,H,P] (x · dt), a [B,c,L,H] (A · dt),
// b, cm [B,c,L,H,N] (B and C repeated over the heads of a group):
//
//   A  = transpose(a, [0,3,1,2])                       [B,H,c,L]
//   Ac = cumsum(A, -1)
//   Y_diag  = einsum(bclsh,bcshp->bclhp,
//                    einsum(bclhn,bcshn->bclsh, cm, b)
//                    * transpose(exp(segsum(A)), [0,2,3,4,1]), x)
//   states  = einsum(bclhn,bclhp->bchpn,
//                    b * unsqueeze(transpose(exp(Ac[..., -1:] - Ac),
//                                            [0,2,3,1]), -1), x)
//   passed  = einsum(bzch,bzhpn->bchpn,
//                    transpose(exp(segsum(pad(Ac[..., -1], (1, 0)))),
//                              [0,3,2,1]),
//                    concat(zeros, states, axis 1))[:, :-1]
//   Y_off   = einsum(bclhn,bchpn->bclhp, cm, passed)
//             * unsqueeze(transpose(exp(Ac), [0,2,3,1]), -1)
//   Y       = Y_diag + Y_off
//
//   segsum(x)[..., i, j] = Σ_{j < k ≤ i} x_k for j ≤ i, −inf above
//   (expand, where(¬tril(−1), 0), cumsum over i, where(¬tril(0), −inf)).
//
// Y is exactly h_t = e^{a_t} h_{t−1} + b_tᵀ x_t, y_t = cm_t h_t over the
// c · L tokens (h = 0 before the first), i.e. gated_recurrence with
// q = cm, k = b, v = x, log_gate = a. Every node of the form is checked
// (op type, equation, permutation, axis, mask and constant values) and
// none of its intermediate results may be read outside it; anything else
// stays as the generic nodes it was.
//
//===----------------------------------------------------------------------===//

#include "OnnxSubgraphMatcher.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

std::string squeezeSpaces(const std::string &s) {
  std::string out;
  for (char c : s)
    if (c != ' ')
      out += c;
  return out;
}

class ChunkedScanMatcher : public SubgraphMatcher {
public:
  using SubgraphMatcher::SubgraphMatcher;

  /// The scan whose Y is the output of `root` (an Add), if `root` ends the
  /// form.
  std::optional<ChunkedScan> match(const onnx::NodeProto &root);

private:
  ChunkedScan scan;

  bool equation(const onnx::NodeProto *n, StringRef want) {
    return n && n->input_size() == 2 &&
           squeezeSpaces(stringAttr(*n, "equation", "")) == want;
  }
  /// Unsqueeze of one trailing axis (`axis` the new rank − 1).
  const onnx::NodeProto *unsqueezeLast(const std::string &name, int64_t axis) {
    return unsqueeze(name, axis, axis + 1);
  }
  /// A CumSum of `name`'s input along `axis` (or its negative), forward.
  const onnx::NodeProto *cumsum(const std::string &name, int64_t axis,
                                int64_t rank, int expectedUses = 1) {
    const onnx::NodeProto *n = node(name, "CumSum", expectedUses);
    if (!n || intAttr(*n, "exclusive", 0) || intAttr(*n, "reverse", 0))
      return nullptr;
    auto a = ints(input(n, 1));
    return a && a->size() == 1 && isAxis((*a)[0], axis, rank) ? n : nullptr;
  }
  /// segsum(x) as exported: Where(¬tril(0), −inf, CumSum(Where(¬tril(−1),
  /// 0, Expand(Unsqueeze(x, −1))), −2)). Returns x's name and the size n.
  std::optional<std::pair<std::string, int64_t>>
  segsum(const std::string &name, int64_t rank) {
    const onnx::NodeProto *w2 = node(name, "Where");
    int64_t n2 = 0, n1 = 0;
    if (!w2 || !triangularMask(input(w2, 0), 0, n2))
      return std::nullopt;
    auto ninf = splat(input(w2, 1));
    if (!ninf || !(std::isinf(*ninf) && *ninf < 0))
      return std::nullopt;
    const onnx::NodeProto *cs = cumsum(input(w2, 2), rank - 2, rank);
    if (!cs)
      return std::nullopt;
    const onnx::NodeProto *w1 = node(input(cs, 0), "Where");
    if (!w1 || !triangularMask(input(w1, 0), -1, n1) || n1 != n2 ||
        splat(input(w1, 1)) != 0.0)
      return std::nullopt;
    const onnx::NodeProto *ex = node(input(w1, 2), "Expand");
    if (!ex)
      return std::nullopt;
    auto shape = ints(input(ex, 1));
    if (!shape || (int64_t)shape->size() != rank || shape->back() != n1)
      return std::nullopt;
    const onnx::NodeProto *un = unsqueezeLast(input(ex, 0), rank - 1);
    if (!un)
      return std::nullopt;
    return std::make_pair(input(un, 0), n1);
  }
  /// exp(...) permuted by `order` and (optionally) unsqueezed last: the
  /// name under the Exp.
  std::optional<std::string> permutedExp(const std::string &name,
                                         ArrayRef<int64_t> order,
                                         bool unsqueezed) {
    std::string at = name;
    if (unsqueezed) {
      const onnx::NodeProto *un = unsqueezeLast(at, order.size());
      if (!un)
        return std::nullopt;
      at = input(un, 0);
    }
    const onnx::NodeProto *t = node(at, "Transpose");
    if (!perm(t, order))
      return std::nullopt;
    const onnx::NodeProto *e = node(input(t, 0), "Exp");
    if (!e)
      return std::nullopt;
    return input(e, 0);
  }
};

std::optional<ChunkedScan>
ChunkedScanMatcher::match(const onnx::NodeProto &root) {
  if (root.op_type() != "Add" || root.input_size() != 2 ||
      !root.domain().empty())
    return std::nullopt;
  interior.clear();
  scan = ChunkedScan();
  std::string x, cm, b, ac, permuted;
  int64_t L = 0, chunksPlusOne = 0;
  // Y_diag = einsum(bclsh,bcshp->bclhp, G * L_perm, x).
  auto diag = [&](const std::string &name) {
    const onnx::NodeProto *e1 = node(name, "Einsum");
    if (!equation(e1, "bclsh,bcshp->bclhp"))
      return false;
    x = input(e1, 1);
    const onnx::NodeProto *m5 = node(input(e1, 0), "Mul");
    std::string lPerm;
    if (!eitherOrder(
            m5,
            [&](const std::string &g) {
              const onnx::NodeProto *eg = node(g, "Einsum");
              if (!equation(eg, "bclhn,bcshn->bclsh"))
                return false;
              cm = input(eg, 0);
              b = input(eg, 1);
              return true;
            },
            lPerm))
      return false;
    auto underExp = permutedExp(lPerm, {0, 2, 3, 4, 1}, false);
    if (!underExp)
      return false;
    auto ss = segsum(*underExp, 5);
    if (!ss)
      return false;
    permuted = ss->first;
    L = ss->second;
    return true;
  };
  std::string off;
  if (!eitherOrder(&root, diag, off))
    return std::nullopt;
  // A = transpose(a, [0,3,1,2]), read by segsum and by cumsum.
  const onnx::NodeProto *ta = node(permuted, "Transpose", 2);
  if (!perm(ta, {0, 3, 1, 2}))
    return std::nullopt;
  scan.a = input(ta, 0);
  // Y_off = einsum(bclhn,bchpn->bclhp, cm, passed) * unsqueeze(exp(Ac)ᵀ).
  const onnx::NodeProto *m7 = node(off, "Mul");
  std::string decayOut, passed;
  if (!eitherOrder(
          m7,
          [&](const std::string &name) {
            const onnx::NodeProto *e4 = node(name, "Einsum");
            if (!equation(e4, "bclhn,bchpn->bclhp") || input(e4, 0) != cm)
              return false;
            passed = input(e4, 1);
            return true;
          },
          decayOut))
    return std::nullopt;
  auto acOut = permutedExp(decayOut, {0, 2, 3, 1}, true);
  if (!acOut)
    return std::nullopt;
  ac = *acOut;
  // Ac = cumsum(A, -1): read by Y_off's decay, the chunk-state decay
  // (twice: its last element and the difference) and the chunk totals.
  const onnx::NodeProto *cs = cumsum(ac, 3, 4, 4);
  if (!cs || input(cs, 0) != permuted)
    return std::nullopt;
  // passed = einsum(bzch,bzhpn->bchpn, decay_chunk, cat(0, states))[:, :-1]
  const onnx::NodeProto *sl = node(passed, "Slice");
  if (!sl || !isInts(input(sl, 1), {0}) || !isInts(input(sl, 2), {-1}) ||
      !isInts(input(sl, 3), {1}) ||
      (!input(sl, 4).empty() && !isInts(input(sl, 4), {1})))
    return std::nullopt;
  const onnx::NodeProto *e3 = node(input(sl, 0), "Einsum");
  if (!equation(e3, "bzch,bzhpn->bchpn"))
    return std::nullopt;
  auto chunkDecay = permutedExp(input(e3, 0), {0, 3, 2, 1}, false);
  if (!chunkDecay)
    return std::nullopt;
  auto ss2 = segsum(*chunkDecay, 4);
  if (!ss2)
    return std::nullopt;
  chunksPlusOne = ss2->second;
  const onnx::NodeProto *pad = node(ss2->first, "Pad");
  if (!pad || stringAttr(*pad, "mode", "constant") != "constant" ||
      !isInts(input(pad, 1), {0, 0, 1, 0, 0, 0}) ||
      (!input(pad, 2).empty() && splat(input(pad, 2)) != 0.0) ||
      !input(pad, 3).empty())
    return std::nullopt;
  const onnx::NodeProto *last = node(input(pad, 0), "Gather");
  if (!last || intAttr(*last, "axis", 0) != 3 || input(last, 0) != ac)
    return std::nullopt;
  auto index = ints(input(last, 1));
  if (!index || index->size() != 1 ||
      cast<ShapedType>(constant(input(last, 1)).getType()).getRank() != 0 ||
      ((*index)[0] != -1 && (*index)[0] != L - 1))
    return std::nullopt;
  const onnx::NodeProto *cat = node(input(e3, 1), "Concat");
  if (!cat || cat->input_size() != 2 || intAttr(*cat, "axis", 0) != 1 ||
      splat(input(cat, 0)) != 0.0)
    return std::nullopt;
  // states = einsum(bclhn,bclhp->bchpn, b * decay_states, x)
  const onnx::NodeProto *e2 = node(input(cat, 1), "Einsum");
  if (!equation(e2, "bclhn,bclhp->bchpn") || input(e2, 1) != x)
    return std::nullopt;
  std::string decayStates;
  if (!eitherOrder(
          node(input(e2, 0), "Mul"),
          [&](const std::string &name) { return name == b; }, decayStates))
    return std::nullopt;
  auto diff = permutedExp(decayStates, {0, 2, 3, 1}, true);
  if (!diff)
    return std::nullopt;
  const onnx::NodeProto *sub = node(*diff, "Sub");
  if (!sub || input(sub, 1) != ac)
    return std::nullopt;
  const onnx::NodeProto *lastSlice = node(input(sub, 0), "Slice");
  if (!lastSlice || input(lastSlice, 0) != ac ||
      !isInts(input(lastSlice, 1), {-1}) || !isInts(input(lastSlice, 3), {3}) ||
      (!input(lastSlice, 4).empty() && !isInts(input(lastSlice, 4), {1})))
    return std::nullopt;
  auto end = ints(input(lastSlice, 2));
  if (!end || end->size() != 1 || (*end)[0] < L)
    return std::nullopt;
  // The leaves x (also read by Y_diag), b, cm are the chunked views; each
  // of them may be read elsewhere too.
  scan.x = x;
  scan.bm = b;
  scan.cm = cm;
  scan.chunk = L;
  scan.chunksPlusOne = chunksPlusOne;
  return scan;
}

} // namespace

void Importer::findChunkedScans(const onnx::GraphProto &graph) {
  GraphIndex index(graph);
  ChunkedScanMatcher matcher(*this, index);
  recognizeEach(*this, graph, index, matcher, /*lastFirst=*/false,
                std::mem_fn(&Importer::convertChunkedScan));
}

LogicalResult Importer::convertChunkedScan(const RecognizedSubgraph &subgraph,
                                           const ChunkedScan &scan) {
  const onnx::NodeProto &root = *subgraph.root;
  RankedTensorType xt = typeOfName(scan.x), at = typeOfName(scan.a),
                   bt = typeOfName(scan.bm), ct = typeOfName(scan.cm);
  // The shapes the einsums imply; otherwise the nodes as they are.
  bool shaped = xt && at && bt && ct && xt.hasStaticShape() &&
                xt.getRank() == 5 && at.getRank() == 4 && bt == ct &&
                bt.getRank() == 5 && bt.hasStaticShape() &&
                at.hasStaticShape();
  Type elt = shaped ? xt.getElementType() : Type();
  if (shaped) {
    ArrayRef<int64_t> xs = xt.getShape(), as = at.getShape(),
                      bs = bt.getShape();
    shaped = isa<FloatType>(elt) && at.getElementType() == elt &&
             bt.getElementType() == elt && as == xs.take_front(4) &&
             bs.take_front(4) == xs.take_front(4) &&
             xs[2] == scan.chunk && xs[1] + 1 == scan.chunksPlusOne;
  }
  if (!shaped) // not the shapes the form implies: the nodes as they are
    return convertNodes(subgraph);
  std::string label = "node '" + root.name() + "' (Mamba2 chunked scan)";
  loc = NameLoc::get(StringAttr::get(&ctx, label), fileLoc);
  llvm::scope_exit restore([&] { loc = fileLoc; });
  ArrayRef<int64_t> xs = xt.getShape();
  int64_t B = xs[0], C = xs[1], L = xs[2], H = xs[3], P = xs[4],
          N = bt.getShape()[4], T = C * L;
  // [B, c, L, ...] -> [B, c·L, ...] -> heads before time.
  auto tokensFirst = [&](Value v, int64_t rank) {
    SmallVector<ReassociationIndices> groups = {{0}, {1, 2}};
    for (int64_t d = 3; d < rank; ++d)
      groups.push_back({d});
    Value flat = tensor::CollapseShapeOp::create(b, loc, v, groups);
    return rank == 4 ? transpose(flat, {0, 2, 1})
                     : transpose(flat, {0, 2, 1, 3});
  };
  Value q = tokensFirst(values.lookup(scan.cm), 5);
  Value k = tokensFirst(values.lookup(scan.bm), 5);
  Value v = tokensFirst(values.lookup(scan.x), 5);
  Value g = tokensFirst(values.lookup(scan.a), 4);
  auto outType = RankedTensorType::get({B, H, T, P}, elt);
  auto stateType = RankedTensorType::get({B, H, N, P}, elt);
  auto rec = kestrel::GatedRecurrenceOp::create(
      b, loc, outType, stateType, q, k, v, g, /*beta=*/Value(),
      /*initial_state=*/Value(), kestrel::GateKind::Scalar,
      b.getF32FloatAttr(1.0f));
  if (failed(mlir::verify(rec)))
    return failure();
  Value y = transpose(rec.getOutput(), {0, 2, 1, 3}); // [B, T, H, P]
  y = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({B, C, L, H, P}, elt), y,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
  values[root.output(0)] = y;
  return success();
}

} // namespace kestrel::onnximport
