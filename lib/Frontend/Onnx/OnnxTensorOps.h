//===- OnnxTensorOps.h ------------------------------------------*- C++ -*-===//
//
// Private to the tensor-op files (OnnxTensorOps.cpp, OnnxShapeOps.cpp): the
// import-time folding helpers and one tensor node being converted, with a
// handler per op type that the table in OnnxTensorOps.cpp dispatches to.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_LIB_FRONTEND_ONNX_ONNXTENSOROPS_H
#define KESTREL_LIB_FRONTEND_ONNX_ONNXTENSOROPS_H

#include "OnnxNodeConverter.h"

#include <optional>

namespace kestrel::onnximport {

int64_t product(llvm::ArrayRef<int64_t> s);
/// Row-major strides of `shape`.
llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape);
/// Calls fn(multi-index) for every position of `shape` in row-major order.
void forEachIndex(llvm::ArrayRef<int64_t> shape,
                  llvm::function_ref<void(llvm::ArrayRef<int64_t>)> fn);
/// `v` wrapped to `width` bits, as the integer casts of the lowering do.
llvm::APInt truncated(int64_t v, unsigned width);
int64_t intValue(const llvm::APInt &v);
/// NumPy broadcast of two shapes, or nullopt when incompatible.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> c);
inline int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

inline bool isBool(mlir::Type t) { return t.isInteger(1); }
/// An integer type other than bool.
inline bool isInt(mlir::Type t) {
  return mlir::isa<mlir::IntegerType>(t) && !t.isInteger(1);
}
/// Index `raw` (any integer or index type) into a dimension of size `dim`:
/// negative values count from the end, the rest is clamped into [0, dim),
/// so that runtime indices out of range never read out of bounds.
mlir::Value clampedIndex(mlir::OpBuilder &b, mlir::Location l, mlir::Value raw,
                         int64_t dim);

/// Largest result (in elements) of the import-time folding of the ops that
/// build attention masks (comparisons, And/Or/Xor/Not, Where, IsNaN/IsInf,
/// Cast): a [1, 1, T, T] mask over static shapes becomes a constant that
/// kestrel-recognize can classify for every T up to 4096.
constexpr int64_t kMaxMaskFoldElements = int64_t(1) << 24;

/// Folds an elementwise op over constants with NumPy broadcasting (any
/// integer, bool or float element types). When every input and the result
/// are integers `intFn` computes in int64 (exactly); otherwise `floatFn`
/// computes in double and the result is rounded to `resultElement`. Returns
/// null when an input is not a constant, the needed function is null, the
/// shapes do not broadcast, the result has more than `limit` elements or a
/// non-splat float input more than kMaxFoldElements.
mlir::DenseElementsAttr
foldMap(llvm::ArrayRef<mlir::DenseElementsAttr> inputs,
        mlir::Type resultElement,
        llvm::function_ref<int64_t(llvm::ArrayRef<int64_t>)> intFn,
        llvm::function_ref<double(llvm::ArrayRef<double>)> floatFn,
        int64_t limit = kMaxMaskFoldElements);

/// One node of a data movement or shape op; `x` is input 0 (null when the
/// node has no inputs), `xs`, `rank`, `elt` its shape, rank and element type.
class TensorNode : public NodeConverter {
public:
  TensorNode(Importer &im, const onnx::NodeProto &node,
             llvm::ArrayRef<mlir::Value> in,
             llvm::SmallVectorImpl<mlir::Value> &out)
      : NodeConverter(im, node, in, out,
                      node.op_type() + " '" + node.name() + "'"),
        x(in.empty() ? mlir::Value() : in[0]),
        xs(x ? typeOf(x).getShape() : llvm::ArrayRef<int64_t>()),
        rank(xs.size()), elt(x ? typeOf(x).getElementType() : mlir::Type()) {}

  // Data movement (OnnxTensorOps.cpp).
  mlir::LogicalResult unsqueeze();
  mlir::LogicalResult squeeze();
  mlir::LogicalResult flatten();
  mlir::LogicalResult concat();
  mlir::LogicalResult split();
  mlir::LogicalResult slice();
  mlir::LogicalResult gatherIndices();
  mlir::LogicalResult expand();
  // Shapes, masks and casts (OnnxShapeOps.cpp).
  mlir::LogicalResult castElements();
  mlir::LogicalResult shapeOf();
  mlir::LogicalResult constantOfShape();
  mlir::LogicalResult range();
  /// Fails unless Range(s, l, d) of `n` elements is a tensor Kestrel can
  /// compile (Importer::checkShape).
  template <typename T>
  mlir::LogicalResult rangeLength(int64_t n, T s, T l, T d) {
    return im.checkShape({n}, elt,
                         "the result of Range(" + std::to_string(s) + ", " +
                             std::to_string(l) + ", " + std::to_string(d) +
                             ")");
  }
  mlir::LogicalResult where();
  mlir::LogicalResult logicalNot();
  mlir::LogicalResult compare(); // Equal, Less, Greater, ...OrEqual
  mlir::LogicalResult trilu();
  // Logic, bitwise, Mod, Clip, IsNaN/IsInf (OnnxLogicOps.cpp).
  mlir::LogicalResult logical(); // And, Or, Xor, BitwiseAnd/Or/Xor
  mlir::LogicalResult bitwiseNot();
  mlir::LogicalResult classify(); // IsNaN, IsInf
  mlir::LogicalResult mod();
  mlir::LogicalResult clip();
  // Indexing (OnnxIndexOps.cpp, OnnxScatterOps.cpp).
  mlir::LogicalResult pad();
  mlir::LogicalResult tile();
  mlir::LogicalResult oneHot();
  mlir::LogicalResult gatherElements();
  mlir::LogicalResult gatherND();
  mlir::LogicalResult nonZero();
  mlir::LogicalResult scatterElements();
  mlir::LogicalResult scatterND();
  /// Fails when `indices` is a constant with a value outside [-dim, dim);
  /// `which` names the indexed dimension.
  mlir::LogicalResult checkConstIndices(mlir::Value indices, int64_t dim,
                                        const llvm::Twine &which);
  /// GatherElements / ScatterElements: the checks of integer `indices` of
  /// the data's rank, their `axis` attribute and their extent; the
  /// normalized axis, or failure after the error.
  mlir::FailureOr<int64_t> elementsIndexAxis(mlir::Value indices);
  /// GatherND / ScatterND: every constant index tuple of `indices` (last
  /// dimension k) in range for data dimensions [first, first + k).
  mlir::LogicalResult checkConstIndexTuples(mlir::Value indices, int64_t first,
                                            int64_t k);

  /// Whether optional input `i` is given.
  bool optionalInput(int i) const { return (int)in.size() > i && in[i]; }
  /// The integers of constant input `i`, else of attribute `name`, else
  /// nullopt.
  mlir::FailureOr<std::optional<std::vector<int64_t>>>
  intsFromInputOrAttr(int i, llvm::StringRef name);
  /// The view of `x` taking `len` elements from `start` by `step` along
  /// `axis`.
  StridedView sliceView(int64_t axis, int64_t start, int64_t len,
                        int64_t step) const;

  mlir::Value x;
  llvm::ArrayRef<int64_t> xs;
  int64_t rank;
  mlir::Type elt;
};

} // namespace kestrel::onnximport

#endif // KESTREL_LIB_FRONTEND_ONNX_ONNXTENSOROPS_H
