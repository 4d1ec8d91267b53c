//===- OnnxChecks.cpp - Attribute and operand checks before building ------===//
//
// The builders of the op groups (OnnxBuilders.cpp and the handler tables)
// index shapes with axes and permutations read from the model; this file
// checks those against the operands' ranks before any IR is built, so a bad
// model is one error naming the node, the attribute and its value rather than
// a crash or an out-of-bounds read in the compiled code:
// * single-axis attributes (Softmax, Concat, Gather, Split, Flatten, TopK,
//   LayerNormalization, ...) in [-rank, rank) (Flatten: [-rank, rank]),
// * Reduce* `axes` (attribute form; the input form is checked by the handler)
//   in range and not repeated,
// * Transpose `perm` a permutation of the input's dimensions,
// * MatMul operands of rank >= 1 with matching contraction and
//   broadcastable batch dimensions, elementwise operands broadcastable.
//
//===----------------------------------------------------------------------===//

#include "OnnxTensorOps.h"

using namespace mlir;

namespace kestrel::onnximport {

namespace {

/// Ops with a single-axis attribute: (op, attribute, default, whether
/// `rank` itself is allowed).
struct AxisAttr {
  const char *op;
  const char *name;
  int64_t dflt;
  bool inclusive;
};

const AxisAttr kAxisAttrs[] = {
    {"Softmax", "axis", -1, false},
    {"Concat", "axis", 0, false},
    {"Gather", "axis", 0, false},
    {"Split", "axis", 0, false},
    {"Flatten", "axis", 1, true},
    {"TopK", "axis", -1, false},
    {"LayerNormalization", "axis", -1, false},
    {"RMSNormalization", "axis", -1, false},
    {"SimplifiedLayerNormalization", "axis", -1, false},
    {"SkipSimplifiedLayerNormalization", "axis", -1, false},
};

std::string list(ArrayRef<int64_t> v) { return shapeString(v); }

} // namespace

LogicalResult Importer::checkNode(const onnx::NodeProto &node,
                                  ArrayRef<Value> in) {
  StringRef op = node.op_type();
  int64_t rank = !in.empty() && in[0] ? typeOf(in[0]).getRank() : 0;
  auto bad = [&](const Twine &message) { return error(message); };

  for (const AxisAttr &a : kAxisAttrs) {
    if (op != a.op || in.empty() || !in[0])
      continue;
    int64_t axis = intAttr(node, a.name, a.dflt);
    int64_t hi = a.inclusive ? rank : rank - 1;
    if (axis < -rank || axis > hi)
      return bad(Twine(a.name) + " " + std::to_string(axis) +
                 " is out of range for an input of rank " +
                 std::to_string(rank) + " (expected " + std::to_string(-rank) +
                 " to " + std::to_string(hi) + ")");
  }

  if (op.starts_with("Reduce"))
    if (failed(checkAxes(intsAttr(node, "axes"), rank, "axes")))
      return failure();

  if (op == "Transpose" && attribute(node, "perm")) {
    std::vector<int64_t> perm = intsAttr(node, "perm");
    SmallVector<bool> seen(rank, false);
    bool ok = (int64_t)perm.size() == rank;
    for (int64_t p : perm) {
      ok &= p >= 0 && p < rank && !seen[std::clamp<int64_t>(p, 0, rank - 1)];
      if (ok)
        seen[p] = true;
    }
    if (!ok)
      return bad("perm " + list(perm) + " is not a permutation of the " +
                 std::to_string(rank) + " dimensions of its input");
  }

  if (op == "MatMul") {
    auto as = typeOf(in[0]).getShape(), bs = typeOf(in[1]).getShape();
    if (as.empty() || bs.empty())
      return bad("MatMul operands must have rank >= 1, got shapes " + list(as) +
                 " and " + list(bs));
    int64_t k0 = as.back(), k1 = bs.size() == 1 ? bs[0] : bs[bs.size() - 2];
    if (k0 != k1)
      return bad("contraction dimensions differ: " + list(as) + " x " +
                 list(bs));
    auto batchOf = [](ArrayRef<int64_t> s) {
      return s.size() > 2 ? s.drop_back(2) : ArrayRef<int64_t>();
    };
    if (!broadcastShapes(batchOf(as), batchOf(bs)))
      return bad("batch dimensions do not broadcast: " + list(as) + " x " +
                 list(bs));
  }

  if (llvm::is_contained({"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"},
                         op)) {
    SmallVector<int64_t> shape;
    for (Value v : in) {
      if (!v)
        continue;
      auto s = broadcastShapes(shape, typeOf(v).getShape());
      if (!s)
        return bad("input shapes " + list(shape) + " and " +
                   list(typeOf(v).getShape()) + " do not broadcast");
      shape = *s;
    }
  }
  return success();
}

LogicalResult Importer::checkAxes(ArrayRef<int64_t> axes, int64_t rank,
                                  StringRef what) {
  SmallVector<bool> seen(rank, false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return error(what + " " + list(axes) + ": axis " + std::to_string(a) +
                   " is out of range for an input of rank " +
                   std::to_string(rank));
    int64_t n = a < 0 ? a + rank : a;
    if (seen[n])
      return error(what + " " + list(axes) + " repeats axis " +
                   std::to_string(a));
    seen[n] = true;
  }
  return success();
}

} // namespace kestrel::onnximport
