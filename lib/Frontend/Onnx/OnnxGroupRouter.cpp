//===- OnnxGroupRouter.cpp - DeepSeek-V3's group-limited router -----------===//
//
// DeepSeek-V3's router (Hugging Face's `route_tokens_to_experts`) picks
// each token's experts among the best groups of experts: sigmoid scores,
// a selection bias, group scores from the two best experts of each group,
// a 0/1 mask of the chosen groups built by a scatter with run-time
// indices, then a top-k over the masked keys. Imported node by node the
// scatter is a loop over its updates and the three TopKs reference
// lowerings; nothing downstream can read it back as the router it is.
// This pre-pass finds the form on the ONNX graph and imports it as one
// kestrel.route (score = sigmoid, selection_bias, n_groups, topk_groups,
// renormalize), whose semantics are exactly these (dialects/RoutingOps.td).
//
// With logits r [N, E], G groups of E/G experts, M kept groups, k experts:
//
//   s   = sigmoid(r);  u = s + bias            (or u = s: no bias)
//   gs  = reducesum(topk(reshape(u, [N, G, E/G]), 2)[0], -1)          [N, G]
//   gi  = topk(gs, M)[1]
//   gm  = scatter_elements(zeros [N, G], gi, ones, axis 1)
//   key = where(¬bool(reshape(expand(unsqueeze(gm, -1), [·, G, E/G]),
//               [N, E])), −inf, u)
//   idx = topk(key, k)[1];  w = gather_elements(s, idx, 1)
//   w   = w / reducesum(w, -1, keepdims)       (renormalize; optional)
//
// The root is the last node (the Div, or the GatherElements without
// renormalization); idx is also read outside, by nodes after the root.
// TopK's ties go to the lower index in ONNX as in kestrel.route; the form
// asks for unsorted indices, which the route's best-first order is.
// M·E/G >= k and a finite constant bias are required (otherwise a −inf
// key could be chosen, which the route never does).
//
//===----------------------------------------------------------------------===//

#include "OnnxSubgraphMatcher.h"

#include "dialects/Kestrel.h"

#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace kestrel::onnximport {

namespace {

/// The value of a one-element float32 TensorProto (ConstantOfShape's
/// `value`), read without building anything.
std::optional<double> floatScalar(const onnx::TensorProto &t) {
  int64_t count = 1;
  for (int64_t d : t.dims())
    count *= d;
  if (t.data_type() != onnx::TensorProto::FLOAT || count != 1 ||
      t.data_location() == onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  if (t.float_data_size() == 1)
    return t.float_data(0);
  float f;
  if (t.raw_data().size() != sizeof f)
    return std::nullopt;
  std::memcpy(&f, t.raw_data().data(), sizeof f);
  return f;
}

class GroupRouterMatcher : public SubgraphMatcher {
public:
  using SubgraphMatcher::SubgraphMatcher;

  std::optional<GroupRouter> match(const onnx::NodeProto &root);

private:

  /// Output `which` of a TopK along the last axis (rank `rank`), largest
  /// first, whose other output is unread; its k in `k`.
  const onnx::NodeProto *topk(const std::string &name, int which,
                              int64_t rank, int64_t &k) {
    auto it = im.producers.find(name);
    if (it == im.producers.end())
      return nullptr;
    const onnx::NodeProto *n = it->second;
    if (n->op_type() != "TopK" || !n->domain().empty() ||
        n->output_size() != 2 || n->output(which) != name ||
        !graph.readers.lookup(n->output(1 - which)).empty() ||
        !isAxis(intAttr(*n, "axis", -1), rank - 1, rank) ||
        intAttr(*n, "largest", 1) != 1)
      return nullptr;
    auto kv = ints(input(n, 1));
    if (!kv || kv->size() != 1 || (*kv)[0] < 1)
      return nullptr;
    k = (*kv)[0];
    if (!llvm::is_contained(interior, n))
      interior.push_back(n);
    return n;
  }
};

std::optional<GroupRouter>
GroupRouterMatcher::match(const onnx::NodeProto &root) {
  interior.clear();
  GroupRouter r;
  // w / reducesum(w, -1, keepdims), or w itself.
  std::string gathered = root.output(0);
  if (root.op_type() == "Div" && root.input_size() == 2) {
    const onnx::NodeProto *sum = node(input(&root, 1), "ReduceSum", -1);
    auto axes = sum ? ints(input(sum, 1)) : std::nullopt;
    if (!axes || axes->size() != 1 || !isAxis((*axes)[0], 1, 2) ||
        intAttr(*sum, "keepdims", 1) != 1 || input(sum, 0) != input(&root, 0))
      return std::nullopt;
    gathered = input(&root, 0);
    r.renormalize = true;
  } else if (root.op_type() != "GatherElements") {
    return std::nullopt;
  }
  auto git = im.producers.find(gathered);
  const onnx::NodeProto *ge = git == im.producers.end() ? nullptr : git->second;
  if (!ge || ge->op_type() != "GatherElements" || !ge->domain().empty() ||
      ge->input_size() != 2 || !isAxis(intAttr(*ge, "axis", 0), 1, 2))
    return std::nullopt;
  if (ge != &root && !node(gathered, "GatherElements", -1))
    return std::nullopt;
  std::string s = input(ge, 0);
  r.indices = input(ge, 1);
  // idx = topk(where(¬mask, −inf, u), k)[1].
  const onnx::NodeProto *tk = topk(r.indices, 1, 2, r.k);
  const onnx::NodeProto *where = tk ? node(input(tk, 0), "Where", -1) : nullptr;
  if (!where || where->input_size() != 3)
    return std::nullopt;
  auto ninf = scalarSplat(input(where, 1));
  if (!ninf || !std::isinf(*ninf) || *ninf > 0)
    return std::nullopt;
  std::string u = input(where, 2);
  // ¬bool(reshape(expand(unsqueeze(gm, -1), [·, G, E/G]), [N, E])).
  const onnx::NodeProto *notMask = node(input(where, 0), "Not", -1);
  if (!notMask)
    return std::nullopt;
  std::string mask = input(notMask, 0);
  if (const onnx::NodeProto *cast = node(mask, "Cast", -1)) {
    if (intAttr(*cast, "to", 0) != onnx::TensorProto::BOOL)
      return std::nullopt;
    mask = input(cast, 0);
  }
  const onnx::NodeProto *flat = node(mask, "Reshape", -1);
  const onnx::NodeProto *expand =
      flat ? node(input(flat, 0), "Expand", -1) : nullptr;
  const onnx::NodeProto *un = expand ? unsqueeze(input(expand, 0), 2, 3, -1)
                                     : nullptr;
  auto flatShape = flat ? ints(input(flat, 1)) : std::nullopt;
  auto expandShape = expand ? ints(input(expand, 1)) : std::nullopt;
  if (!un || !flatShape || !expandShape || flatShape->size() != 2 ||
      expandShape->size() != 3)
    return std::nullopt;
  r.maskShape = *flatShape;
  r.expandShape = *expandShape;
  // gm = scatter_elements(zeros [N, G], gi, ones, axis 1).
  const onnx::NodeProto *scatter = node(input(un, 0), "ScatterElements", -1);
  if (!scatter || scatter->input_size() != 3 ||
      !isAxis(intAttr(*scatter, "axis", 0), 1, 2) ||
      stringAttr(*scatter, "reduction", "none") != "none" ||
      splat(input(scatter, 0)) != 0.0)
    return std::nullopt;
  r.zerosShape = llvm::to_vector(
      cast<ShapedType>(constant(input(scatter, 0)).getType()).getShape());
  std::string ones = input(scatter, 2);
  if (const onnx::NodeProto *fill = node(ones, "ConstantOfShape", -1)) {
    const onnx::AttributeProto *value = attribute(*fill, "value");
    auto shape = ints(input(fill, 0));
    if (!value || !value->has_t() || !shape)
      return std::nullopt;
    if (floatScalar(value->t()) != 1.0)
      return std::nullopt;
    r.onesShape.assign(shape->begin(), shape->end());
  } else {
    DenseElementsAttr attr = constant(ones);
    if (splat(ones) != 1.0)
      return std::nullopt;
    r.onesShape = llvm::to_vector(cast<ShapedType>(attr.getType()).getShape());
  }
  // gi = topk(reducesum(topk(reshape(u, [N, G, E/G]), 2)[0], -1), M)[1].
  const onnx::NodeProto *groups = topk(input(scatter, 1), 1, 2, r.topkGroups);
  const onnx::NodeProto *gsum =
      groups ? node(input(groups, 0), "ReduceSum", -1) : nullptr;
  auto gaxes = gsum ? ints(input(gsum, 1)) : std::nullopt;
  if (!gaxes || gaxes->size() != 1 || !isAxis((*gaxes)[0], 2, 3) ||
      intAttr(*gsum, "keepdims", 1) != 0)
    return std::nullopt;
  int64_t two = 0;
  const onnx::NodeProto *best = topk(input(gsum, 0), 0, 3, two);
  const onnx::NodeProto *grouped =
      best ? node(input(best, 0), "Reshape", -1) : nullptr;
  auto groupedShape = grouped ? ints(input(grouped, 1)) : std::nullopt;
  if (two != 2 || !groupedShape || groupedShape->size() != 3 ||
      input(grouped, 0) != u)
    return std::nullopt;
  r.groupedShape = *groupedShape;
  // u = s + bias (a constant) or s; s = sigmoid(logits).
  if (u != s) {
    std::string bias;
    if (!eitherOrder(
            node(u, "Add", -1),
            [&](const std::string &x) { return x == s; }, bias))
      return std::nullopt;
    // A finite constant: a −inf entry would tie with the masked keys.
    DenseElementsAttr values = constant(bias);
    if (!values || !isa<FloatType>(values.getElementType()) ||
        llvm::any_of(values.getValues<APFloat>(),
                     [](const APFloat &x) { return !x.isFinite(); }))
      return std::nullopt;
    r.bias = bias;
  }
  const onnx::NodeProto *sigmoid = node(s, "Sigmoid", -1);
  if (!sigmoid)
    return std::nullopt;
  r.logits = input(sigmoid, 0);
  if (!onlyReadInside(root, r.indices))
    return std::nullopt;
  return r;
}

/// Whether `target` (a Reshape or Expand shape constant) is `want`, with
/// −1 (Reshape) or 1 (Expand, broadcasting) allowed in dimension 0.
bool shapeIs(ArrayRef<int64_t> target, ArrayRef<int64_t> want,
             int64_t wildcard) {
  if (target.size() != want.size())
    return false;
  for (size_t d = 0; d < want.size(); ++d)
    if (target[d] != want[d] && !(d == 0 && target[d] == wildcard))
      return false;
  return true;
}

} // namespace

void Importer::findGroupRouters(const onnx::GraphProto &graph) {
  GraphIndex index(graph);
  GroupRouterMatcher matcher(*this, index);
  // Last to first: the renormalizing Div before the GatherElements it
  // reads (which alone would end a router without renormalization).
  recognizeEach(*this, graph, index, matcher, /*lastFirst=*/true,
                std::mem_fn(&Importer::convertGroupRouter));
}

LogicalResult Importer::convertGroupRouter(const RecognizedSubgraph &subgraph,
                                           const GroupRouter &router) {
  const onnx::NodeProto &root = *subgraph.root;
  RankedTensorType lt = typeOfName(router.logits);
  Value bias = router.bias.empty() ? Value() : values.lookup(router.bias);
  // The shapes the form implies: logits [N, E], bias [E], G groups of E/G
  // (at least 2, for the group score's top-2), M ≤ G groups kept, k ≤ M·E/G
  // experts; otherwise the nodes as they are.
  auto fits = [&] {
    if (!lt || !lt.hasStaticShape() || lt.getRank() != 2 ||
        !lt.getElementType().isF32() ||
        (bias && typeOf(bias) != RankedTensorType::get(
                                     {lt.getDimSize(1)}, lt.getElementType())))
      return false;
    int64_t N = lt.getDimSize(0), E = lt.getDimSize(1);
    if (router.groupedShape.size() != 3)
      return false;
    int64_t G = router.groupedShape[1], per = router.groupedShape[2];
    int64_t M = router.topkGroups, k = router.k;
    // Divisions first: the constants come from the graph and may be huge.
    if (G < 1 || E % G != 0 || per != E / G || per < 2 || M > G ||
        k > E || k > M * per || N < 1)
      return false;
    return shapeIs(router.groupedShape, {N, G, per}, -1) &&
           shapeIs(router.expandShape, {N, G, per}, 1) &&
           shapeIs(router.maskShape, {N, E}, -1) &&
           ArrayRef<int64_t>(router.zerosShape) == ArrayRef<int64_t>{N, G} &&
           ArrayRef<int64_t>(router.onesShape) == ArrayRef<int64_t>{N, M};
  };
  if (!fits())
    return convertNodes(subgraph);
  int64_t N = lt.getDimSize(0), k = router.k;
  std::string label = "node '" + root.name() + "' (group-limited router)";
  loc = NameLoc::get(StringAttr::get(&ctx, label), fileLoc);
  llvm::scope_exit restore([&] { loc = fileLoc; });
  auto route = kestrel::RouteOp::create(
      b, loc, RankedTensorType::get({N, k}, b.getI64Type()),
      RankedTensorType::get({N, k}, lt.getElementType()),
      values.lookup(router.logits), bias,
      kestrel::ScoreFunctionAttr::get(b.getContext(),
                                      kestrel::ScoreFunction::Sigmoid),
      b.getI64IntegerAttr(k),
      router.renormalize ? b.getUnitAttr() : UnitAttr(),
      b.getI64IntegerAttr(router.groupedShape[1]),
      b.getI64IntegerAttr(router.topkGroups), FloatAttr(),
      kestrel::RoutingModeAttr(), IntegerAttr());
  if (failed(mlir::verify(route)))
    return failure();
  values[router.indices] = route.getIndices();
  values[root.output(0)] = route.getWeights();
  return success();
}

} // namespace kestrel::onnximport
