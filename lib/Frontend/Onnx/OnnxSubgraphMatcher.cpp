//===- OnnxSubgraphMatcher.cpp - Shared walk of recognized forms ----------===//
//
// The node and constant checks of SubgraphMatcher, and the importer's
// bookkeeping of recognized subgraphs: which nodes they replace and the
// fallback that imports those nodes one by one.
//
//===----------------------------------------------------------------------===//

#include "OnnxSubgraphMatcher.h"

#include <limits>

using namespace mlir;

namespace kestrel::onnximport {

GraphIndex::GraphIndex(const onnx::GraphProto &graph) {
  for (const auto &node : graph.node()) {
    order[&node] = order.size();
    for (const std::string &in : node.input())
      if (!in.empty()) {
        ++uses[in];
        readers[in].push_back(&node);
      }
  }
  for (const auto &o : graph.output()) {
    ++uses[o.name()];
    readers[o.name()].push_back(nullptr);
  }
}

const onnx::NodeProto *SubgraphMatcher::node(const std::string &name,
                                             StringRef op, int expectedUses) {
  auto it = im.producers.find(name);
  if (it == im.producers.end() || it->second->op_type() != op ||
      !it->second->domain().empty() || it->second->output_size() != 1 ||
      (expectedUses >= 0 && uses.lookup(name) != expectedUses))
    return nullptr;
  if (!llvm::is_contained(interior, it->second))
    interior.push_back(it->second);
  return it->second;
}

DenseElementsAttr SubgraphMatcher::constant(const std::string &name) {
  return name.empty() ? DenseElementsAttr()
                      : im.foldedOf(im.values.lookup(name));
}

std::optional<std::vector<int64_t>>
SubgraphMatcher::ints(const std::string &name) {
  DenseElementsAttr attr = constant(name);
  if (!attr || !isa<IntegerType>(attr.getElementType()))
    return std::nullopt;
  std::vector<int64_t> out;
  for (const APInt &v : attr.getValues<APInt>())
    out.push_back(v.getSExtValue());
  return out;
}

std::optional<int64_t> SubgraphMatcher::scalarIndex(const std::string &name) {
  DenseElementsAttr attr = constant(name);
  if (!attr || !isa<IntegerType>(attr.getElementType()) ||
      cast<ShapedType>(attr.getType()).getRank() != 0)
    return std::nullopt;
  return (*attr.getValues<APInt>().begin()).getSExtValue();
}

std::optional<double> SubgraphMatcher::splat(const std::string &name) {
  DenseElementsAttr attr = constant(name);
  if (!attr || !isa<FloatType>(attr.getElementType()) || !attr.isSplat())
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

std::optional<double> SubgraphMatcher::scalarSplat(const std::string &name) {
  DenseElementsAttr attr = constant(name);
  if (!attr || attr.getNumElements() != 1)
    return std::nullopt;
  return splat(name);
}

const onnx::NodeProto *SubgraphMatcher::unsqueeze(const std::string &name,
                                                  int64_t axis, int64_t rank,
                                                  int expectedUses) {
  const onnx::NodeProto *n = node(name, "Unsqueeze", expectedUses);
  if (!n)
    return nullptr;
  std::vector<int64_t> axes =
      n->input_size() > 1
          ? ints(n->input(1)).value_or(std::vector<int64_t>{})
          : intsAttr(*n, "axes");
  return axes.size() == 1 && isAxis(axes[0], axis, rank) ? n : nullptr;
}

const onnx::NodeProto *SubgraphMatcher::slice(const std::string &name,
                                              int64_t axis, int64_t rank,
                                              int64_t start, int64_t end,
                                              int expectedUses,
                                              int64_t dimSize) {
  const onnx::NodeProto *n = node(name, "Slice", expectedUses);
  if (!n || n->input_size() < 4)
    return nullptr;
  auto axes = ints(input(n, 3));
  auto ends = ints(input(n, 2));
  if (!isInts(input(n, 1), {start}) || !axes || axes->size() != 1 ||
      !isAxis((*axes)[0], axis, rank) || !ends || ends->size() != 1 ||
      (!input(n, 4).empty() && !isInts(input(n, 4), {1})))
    return nullptr;
  if (end == std::numeric_limits<int64_t>::max())
    return (*ends)[0] >= dimSize ? n : nullptr;
  return (*ends)[0] == end ? n : nullptr;
}

const onnx::NodeProto *SubgraphMatcher::gather(const std::string &name,
                                               int64_t axis, int64_t rank,
                                               int64_t index, int64_t size,
                                               int expectedUses) {
  const onnx::NodeProto *n = node(name, "Gather", expectedUses);
  if (!n || !isAxis(intAttr(*n, "axis", 0), axis, rank))
    return nullptr;
  auto at = scalarIndex(input(n, 1));
  return at && (*at == index || (size > 0 && *at == index - size)) ? n
                                                                    : nullptr;
}

bool SubgraphMatcher::triangularMask(const std::string &name,
                                     int64_t diagonal, int64_t &n) {
  DenseElementsAttr attr =
      square(name, [](Type t) { return t.isInteger(1); }, n);
  if (!attr)
    return false;
  int64_t k = 0;
  for (bool v : attr.getValues<bool>()) {
    int64_t i = k / n, j = k % n;
    ++k;
    if (v != (j > i + diagonal))
      return false;
  }
  return true;
}

bool SubgraphMatcher::identity(const std::string &name, int64_t &n) {
  DenseElementsAttr attr =
      square(name, [](Type t) { return isa<FloatType>(t); }, n);
  if (!attr)
    return false;
  int64_t k = 0;
  for (const APFloat &x : attr.getValues<APFloat>()) {
    if (x.convertToDouble() != (k / n == k % n ? 1.0 : 0.0))
      return false;
    ++k;
  }
  return true;
}

bool SubgraphMatcher::allEqual(const std::string &name, int64_t value,
                               SmallVectorImpl<int64_t> &shape) {
  DenseElementsAttr attr = constant(name);
  if (!attr || !isa<IntegerType>(attr.getElementType()))
    return false;
  for (const APInt &v : attr.getValues<APInt>())
    if (v.getSExtValue() != value)
      return false;
  llvm::append_range(shape, cast<ShapedType>(attr.getType()).getShape());
  return true;
}

bool SubgraphMatcher::onlyReadInside(const onnx::NodeProto &root,
                                     StringRef escaping) const {
  int64_t rootAt = graph.order.lookup(&root);
  for (const onnx::NodeProto *n : interior)
    for (const std::string &out : n->output())
      for (const onnx::NodeProto *reader : graph.readers.lookup(out)) {
        if (reader &&
            (reader == &root || llvm::is_contained(interior, reader)))
          continue;
        // Outside: only the escaping value, read by a later node or as a
        // graph output (null: read after every node).
        if (escaping.empty() || out != escaping ||
            (reader && graph.order.lookup(reader) <= rootAt))
          return false;
      }
  return true;
}

void Importer::addRecognized(RecognizedSubgraph subgraph,
                             const llvm::DenseMap<const onnx::NodeProto *,
                                                  int64_t> &graphOrder) {
  // A node belongs to one recognized subgraph only.
  auto taken = [&](const onnx::NodeProto *n) {
    return inRecognized.contains(n) || recognizedAt.contains(n);
  };
  if (taken(subgraph.root) || llvm::any_of(subgraph.interior, taken))
    return;
  for (const onnx::NodeProto *n : subgraph.interior)
    inRecognized.insert(n);
  // Graph order, for convertNodes.
  llvm::sort(subgraph.interior,
             [&](const onnx::NodeProto *l, const onnx::NodeProto *r) {
               return graphOrder.lookup(l) < graphOrder.lookup(r);
             });
  recognizedAt[subgraph.root] = recognized.size();
  recognized.push_back(std::move(subgraph));
}

LogicalResult Importer::convertNodes(const RecognizedSubgraph &subgraph) {
  // The interior is in graph order and its inputs are all defined by the
  // time the root is reached.
  for (const onnx::NodeProto *n : subgraph.interior)
    if (failed(convert(*n)))
      return failure();
  return convert(*subgraph.root);
}

} // namespace kestrel::onnximport
