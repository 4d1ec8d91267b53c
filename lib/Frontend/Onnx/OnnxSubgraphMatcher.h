//===- OnnxSubgraphMatcher.h ------------------------------------*- C++ -*-===//
//
// Private to lib/Frontend/Onnx: what the subgraph recognizers
// (OnnxChunkedScan.cpp, OnnxChunkedDelta.cpp) share to walk an ONNX graph
// backwards from a root node, checking each producer's op type, attributes
// and constant inputs, and collecting the nodes the recognized op replaces.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_LIB_IMPORT_ONNXSUBGRAPHMATCHER_H
#define KESTREL_LIB_IMPORT_ONNXSUBGRAPHMATCHER_H

#include "OnnxImporterImpl.h"

#include <optional>

namespace kestrel::onnximport {

/// What the recognizers read off the graph once: how many nodes read each
/// value and which (a null reader is a graph output), and node positions.
struct GraphIndex {
  explicit GraphIndex(const onnx::GraphProto &graph);
  llvm::StringMap<int> uses;
  llvm::StringMap<std::vector<const onnx::NodeProto *>> readers;
  llvm::DenseMap<const onnx::NodeProto *, int64_t> order;
};

class SubgraphMatcher {
public:
  /// Use counts of -1 (the default for node()) are not checked per node;
  /// a recognizer that uses them checks the whole interior with
  /// onlyReadInside() instead.
  SubgraphMatcher(Importer &im, const GraphIndex &graph)
      : im(im), graph(graph), uses(graph.uses) {}

  /// The nodes matched so far (each once).
  std::vector<const onnx::NodeProto *> interior;

protected:
  Importer &im;
  const GraphIndex &graph;
  const llvm::StringMap<int> &uses;

  /// The producer of `name` if it is a default-domain `op` node with one
  /// output, read by exactly `expectedUses` nodes (any number for -1); it
  /// joins the interior.
  const onnx::NodeProto *node(const std::string &name, llvm::StringRef op,
                              int expectedUses = 1);
  mlir::DenseElementsAttr constant(const std::string &name);
  std::optional<std::vector<int64_t>> ints(const std::string &name);
  bool isInts(const std::string &name, llvm::ArrayRef<int64_t> want) {
    auto v = ints(name);
    return v && llvm::ArrayRef<int64_t>(*v) == want;
  }
  /// A rank-0 integer constant's value.
  std::optional<int64_t> scalarIndex(const std::string &name);
  /// A floating-point splat constant's value.
  std::optional<double> splat(const std::string &name);
  /// The value of a floating-point constant with one element (any rank:
  /// it broadcasts without changing the other operand's shape).
  std::optional<double> scalarSplat(const std::string &name);
  static std::string input(const onnx::NodeProto *n, int i) {
    return i < n->input_size() ? n->input(i) : std::string();
  }
  static bool perm(const onnx::NodeProto *n, llvm::ArrayRef<int64_t> want) {
    return n && llvm::ArrayRef<int64_t>(intsAttr(*n, "perm")) == want;
  }
  /// Whether `axis` names dimension `dim` of a rank-`rank` tensor.
  static bool isAxis(int64_t axis, int64_t dim, int64_t rank) {
    return axis == dim || axis == dim - rank;
  }
  /// Unsqueeze of one axis `axis` (of the new rank `rank`): the axes input
  /// (opset 13+) or attribute.
  const onnx::NodeProto *unsqueeze(const std::string &name, int64_t axis,
                                   int64_t rank, int expectedUses = 1);
  /// Slice of one axis `axis` (of rank `rank`) from `start` to `end`, step
  /// 1. An `end` of INT64_MAX accepts any end ≥ `dimSize`.
  const onnx::NodeProto *slice(const std::string &name, int64_t axis,
                               int64_t rank, int64_t start, int64_t end,
                               int expectedUses = -1, int64_t dimSize = 0);
  /// Gather along `axis` (of rank `rank`) of the rank-0 index `index` (or
  /// its negative form when `size` is given).
  const onnx::NodeProto *gather(const std::string &name, int64_t axis,
                                int64_t rank, int64_t index, int64_t size = 0,
                                int expectedUses = -1);
  /// The [n, n] boolean constant with m[i][j] = (j > i + diagonal), i.e.
  /// ¬tril(ones, diagonal); sets `n`.
  bool triangularMask(const std::string &name, int64_t diagonal, int64_t &n);
  /// The [n, n] floating-point identity matrix; sets `n`.
  bool identity(const std::string &name, int64_t &n);
  /// An integer constant whose elements all equal `value`; its shape in
  /// `shape`.
  bool allEqual(const std::string &name, int64_t value,
                llvm::SmallVectorImpl<int64_t> &shape);
  /// `binary` (an Add or Mul) with `first` matching one operand, tried in
  /// either order; the other operand's name in `other`.
  template <typename Fn>
  bool eitherOrder(const onnx::NodeProto *binary, Fn first,
                   std::string &other) {
    if (!binary || binary->input_size() != 2)
      return false;
    for (int i = 0; i < 2; ++i) {
      size_t saved = interior.size();
      if (first(binary->input(i))) {
        other = binary->input(1 - i);
        return true;
      }
      interior.resize(saved);
    }
    return false;
  }
  /// A square [n, n] constant whose element type satisfies `isElement`.
  template <typename Pred>
  mlir::DenseElementsAttr square(const std::string &name, Pred isElement,
                                 int64_t &n) {
    mlir::DenseElementsAttr attr = constant(name);
    if (!attr || !isElement(attr.getElementType()))
      return {};
    auto type = mlir::cast<mlir::ShapedType>(attr.getType());
    if (type.getRank() != 2 || type.getDimSize(0) != type.getDimSize(1))
      return {};
    n = type.getDimSize(0);
    return attr;
  }
  /// Whether every output of every interior node is read only by interior
  /// nodes or `root`, and none is a graph output; except `escaping`, which
  /// may also be read by nodes after `root` or be a graph output.
  bool onlyReadInside(const onnx::NodeProto &root,
                      llvm::StringRef escaping = "") const;
};

/// Runs `matcher.match(node)` on each one-output node of `graph` not yet in
/// a recognized subgraph (last to first when `lastFirst`: where the end of a
/// form could also end a smaller one) and registers each match, to be
/// imported by `convert(importer, subgraph, match)`.
template <typename Matcher, typename Convert>
void recognizeEach(Importer &im, const onnx::GraphProto &graph,
                   const GraphIndex &index, Matcher &matcher, bool lastFirst,
                   Convert convert) {
  int n = graph.node_size();
  for (int i = 0; i < n; ++i) {
    const onnx::NodeProto &node = graph.node(lastFirst ? n - 1 - i : i);
    // A root defines one value (the matchers and builds read output 0).
    if (node.output_size() != 1 || node.output(0).empty() ||
        im.isRecognized(node))
      continue;
    auto found = matcher.match(node);
    if (!found)
      continue;
    im.addRecognized({&node, matcher.interior,
                      [found = std::move(*found),
                       convert](Importer &importer,
                                const RecognizedSubgraph &sub) {
                        return convert(importer, sub, found);
                      }},
                     index.order);
  }
}

} // namespace kestrel::onnximport

#endif // KESTREL_LIB_IMPORT_ONNXSUBGRAPHMATCHER_H
