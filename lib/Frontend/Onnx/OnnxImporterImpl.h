//===- OnnxImporterImpl.h ---------------------------------------*- C++ -*-===//
//
// Private to lib/Frontend/Onnx: the Importer shared by OnnxImporter.cpp
// (graph, constants, dispatch to the op groups), OnnxBuilders.cpp
// (elementwise, matmul, reduce builders) and the op groups, each a table of
// handlers: OnnxCoreOps.cpp (elementwise, MatMul, Softmax, Reshape, ...),
// OnnxTensorOps.cpp / OnnxShapeOps.cpp (data movement, shape computation with
// import-time constant folding), OnnxLogicOps.cpp (logic, bitwise, Mod, Clip,
// IsNaN/IsInf, mask folding), OnnxIndexOps.cpp / OnnxScatterOps.cpp (Pad,
// Tile, OneHot, Gather/ScatterElements/ND, NonZero), OnnxNnOps.cpp
// (normalizations, convolution, ...) and OnnxFusedOps.cpp /
// OnnxAttentionOps.cpp (contrib fused ops).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_LIB_IMPORT_ONNXIMPORTERIMPL_H
#define KESTREL_LIB_IMPORT_ONNXIMPORTERIMPL_H

#include "kestrel/Frontend/Onnx.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringMap.h"

// Debian builds ONNX with the ONNX-ML schema in namespace onnx.
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace kestrel::onnximport {

using mlir::utils::IteratorType;

/// The element type of an ONNX TensorProto data type, or null.
mlir::Type elementType(mlir::MLIRContext *ctx, int32_t dataType);

inline mlir::RankedTensorType typeOf(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

const onnx::AttributeProto *attribute(const onnx::NodeProto &node,
                                      llvm::StringRef name);
int64_t intAttr(const onnx::NodeProto &node, llvm::StringRef name,
                int64_t dflt);
float floatAttr(const onnx::NodeProto &node, llvm::StringRef name, float dflt);
std::string stringAttr(const onnx::NodeProto &node, llvm::StringRef name,
                       llvm::StringRef dflt);
std::vector<int64_t> intsAttr(const onnx::NodeProto &node,
                              llvm::StringRef name);

/// Largest constant (in elements) the importer folds through shape and data
/// movement ops; bigger ones are computed at run time.
constexpr int64_t kMaxFoldElements = 1 << 16;

/// Bounds of Importer::checkShape: each dimension below 2^31 and at most
/// 2^40 elements per tensor.
constexpr int64_t kMaxDimension = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxElements = int64_t(1) << 40;

/// `shape` as "[2, 3]" for messages.
std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// An output multi-index to source multi-index map of the form
/// src[d] = offset[d] + sum_j coef[d][j] * out[j]: Slice, Split, Expand and
/// Transpose are all such strided views of one source.
struct StridedView {
  llvm::SmallVector<int64_t> outShape;
  llvm::SmallVector<int64_t> offset;
  llvm::SmallVector<llvm::SmallVector<int64_t>> coef;
};

class Importer;

/// A subgraph recognized before any node is converted (OnnxChunkedScan.cpp,
/// OnnxChunkedDelta.cpp): `root` is the node whose output the recognized op
/// defines, `interior` the nodes it replaces (in graph order once added),
/// `build` imports it when the root is reached: as the recognized op, or,
/// where the shapes are not those the form implies, through
/// Importer::convertNodes.
struct RecognizedSubgraph {
  const onnx::NodeProto *root = nullptr;
  std::vector<const onnx::NodeProto *> interior;
  std::function<mlir::LogicalResult(Importer &, const RecognizedSubgraph &)>
      build;
};

/// One Mamba2 chunked SSD scan (OnnxChunkedScan.cpp): the names of its four
/// chunked inputs and its sizes.
struct ChunkedScan {
  std::string x, a, bm, cm;
  int64_t chunk = 0, chunksPlusOne = 0;
};

/// One chunked gated delta rule: the names of its unchunked inputs, and
/// what its shapes must be checked against once those are known.
struct ChunkedDelta {
  /// `output`: O before the first chunk write.
  std::string q, k, v, g, beta, state, output;
  /// Reshape targets: q, k, kb, vb ([B,H,c,L,D]) and g ([B,H,c,L]).
  std::vector<int64_t> qShape, kShape, kbShape, vbShape, gShape;
  /// The index shapes of the row updates ([B,H,c,1,L]) and of the chunk
  /// writes ([B,H,1,L,Dv]).
  std::vector<llvm::SmallVector<int64_t>> rowIndexShapes, chunkIndexShapes;
  int64_t chunk = 0, chunks = 0;
};

/// One group-limited sigmoid router (OnnxGroupRouter.cpp): the names of
/// its logits, bias (empty: none) and indices, its sizes, and the shape
/// constants to check once the logits' type is known.
struct GroupRouter {
  std::string logits, bias, indices;
  int64_t k = 0, topkGroups = 0;
  bool renormalize = false;
  std::vector<int64_t> groupedShape, expandShape, maskShape;
  llvm::SmallVector<int64_t> zerosShape, onesShape;
};

class Importer {
public:
  Importer(mlir::MLIRContext &ctx, llvm::StringRef path,
           const OnnxImportOptions &options);

  mlir::OwningOpRef<mlir::ModuleOp> run(const onnx::ModelProto &model);

  mlir::LogicalResult error(const llvm::Twine &message);
  /// Fails with an error naming `what` unless `shape` of `elt` is one Kestrel
  /// can compile: every dimension in [0, 2^31) (lowerings compute offsets in
  /// 32-bit GPU indices and multiply dimensions together), at most 2^40
  /// elements, and at most options.maxTensorBytes bytes.
  mlir::LogicalResult checkShape(llvm::ArrayRef<int64_t> shape, mlir::Type elt,
                                 const llvm::Twine &what);
  /// OnnxChecks.cpp: the node's attributes and input ranks/types that the
  /// builders rely on (axes in range, Transpose perm a permutation, MatMul
  /// ranks, broadcastable shapes), checked before any IR is built.
  mlir::LogicalResult checkNode(const onnx::NodeProto &node,
                                llvm::ArrayRef<mlir::Value> in);
  /// Fails unless each of `axes` is in [-rank, rank) and none repeats.
  mlir::LogicalResult checkAxes(llvm::ArrayRef<int64_t> axes, int64_t rank,
                                llvm::StringRef what);
  mlir::FailureOr<mlir::Value> constant(const onnx::TensorProto &tensor);
  mlir::FailureOr<mlir::RankedTensorType>
  inputType(const onnx::ValueInfoProto &info);
  mlir::LogicalResult convert(const onnx::NodeProto &node);
  /// OnnxChunkedScan.cpp: finds Mamba2's chunked SSD subgraphs, imported
  /// as kestrel.gated_recurrence (scalar gate).
  void findChunkedScans(const onnx::GraphProto &graph);
  mlir::LogicalResult convertChunkedScan(const RecognizedSubgraph &subgraph,
                                         const ChunkedScan &scan);
  /// OnnxChunkedDelta.cpp: finds the chunked gated delta rule of Hugging
  /// Face's Gated DeltaNet, imported as kestrel.gated_recurrence
  /// (gated_delta).
  void findChunkedDeltas(const onnx::GraphProto &graph);
  mlir::LogicalResult convertChunkedDelta(const RecognizedSubgraph &subgraph,
                                          const ChunkedDelta &delta);
  /// The ranked type of the value bound to `name`, or null when none is
  /// (yet).
  mlir::RankedTensorType typeOfName(const std::string &name) const {
    mlir::Value v = values.lookup(name);
    return v ? mlir::dyn_cast<mlir::RankedTensorType>(v.getType())
             : mlir::RankedTensorType();
  }
  /// OnnxGroupRouter.cpp: finds DeepSeek-V3's group-limited sigmoid
  /// router, imported as kestrel.route.
  void findGroupRouters(const onnx::GraphProto &graph);
  mlir::LogicalResult convertGroupRouter(const RecognizedSubgraph &subgraph,
                                         const GroupRouter &router);
  bool isRecognized(const onnx::NodeProto &node) const {
    return inRecognized.contains(&node) || recognizedAt.contains(&node);
  }
  /// Registers a recognized subgraph unless one of its nodes already
  /// belongs to another.
  void addRecognized(
      RecognizedSubgraph subgraph,
      const llvm::DenseMap<const onnx::NodeProto *, int64_t> &graphOrder);
  /// The subgraph's nodes converted one by one (the fallback).
  mlir::LogicalResult convertNodes(const RecognizedSubgraph &subgraph);
  /// Binds the node's outputs to `outs`.
  mlir::LogicalResult define(const onnx::NodeProto &node,
                             llvm::ArrayRef<mlir::Value> outs);
  /// The ops of OnnxCoreOps.cpp, OnnxTensorOps.cpp (and OnnxShapeOps.cpp),
  /// OnnxNnOps.cpp: fills `out` (one value per node output, null for unused
  /// optional ones) and returns success, returns failure after reporting an
  /// error, or leaves `handled` false.
  mlir::LogicalResult convertCoreOp(const onnx::NodeProto &node,
                                    llvm::ArrayRef<mlir::Value> in,
                                    llvm::SmallVectorImpl<mlir::Value> &out,
                                    bool &handled);
  mlir::LogicalResult convertTensorOp(const onnx::NodeProto &node,
                                      llvm::ArrayRef<mlir::Value> in,
                                      llvm::SmallVectorImpl<mlir::Value> &out,
                                      bool &handled);
  mlir::LogicalResult convertNnOp(const onnx::NodeProto &node,
                                  llvm::ArrayRef<mlir::Value> in,
                                  llvm::SmallVectorImpl<mlir::Value> &out,
                                  bool &handled);
  /// OnnxFusedOps.cpp: SimplifiedLayerNormalization, Attention, ...
  mlir::LogicalResult convertFusedOp(const onnx::NodeProto &node,
                                     llvm::ArrayRef<mlir::Value> in,
                                     llvm::SmallVectorImpl<mlir::Value> &out,
                                     bool &handled);
  /// The integer values of the constant `name` (initializer, Constant or a
  /// value folded at import time).
  mlir::FailureOr<std::vector<int64_t>> constInts(const std::string &name,
                                                  llvm::StringRef what);
  /// The folded value of `v`, or null when it is only known at run time.
  mlir::DenseElementsAttr foldedOf(mlir::Value v) const;
  /// Materializes `attr` as an arith.constant and remembers its value.
  mlir::Value materialize(mlir::DenseElementsAttr attr);

  // Builders.
  mlir::Value
  elementwise(mlir::ValueRange inputs, mlir::Type resultElement,
              llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                             mlir::ValueRange)>
                  fn);
  mlir::Value matmul(mlir::Value a, mlir::Value bm);
  mlir::Value reduce(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepDims,
                     llvm::StringRef kind);
  mlir::Value softmax(mlir::Value x, int64_t axis);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> perm);
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value stridedView(mlir::Value x, const StridedView &view);
  /// out[i...] = fn(i...): a linalg.generic with no inputs, whose body reads
  /// other tensors with tensor.extract.
  mlir::Value
  gather(llvm::ArrayRef<int64_t> shape, mlir::Type elt,
         llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                        mlir::ValueRange)>
             fn);
  mlir::Value broadcastTo(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value castTo(mlir::Value x, mlir::Type elt);
  mlir::Value scalarConst(mlir::Type elt, double v);
  /// OnnxTensorOps.cpp: ONNX TopK as kestrel.top_k (values, indices).
  mlir::LogicalResult convertTopK(const onnx::NodeProto &node,
                                  llvm::ArrayRef<mlir::Value> in,
                                  llvm::SmallVectorImpl<mlir::Value> &out);

  mlir::MLIRContext &ctx;
  mlir::OpBuilder b;
  /// Where ops are created: the file, or while a node is converted a NameLoc
  /// "node 'NAME' (OpType)" around it (see onnxNodeDiagnostic).
  mlir::Location loc;
  mlir::Location fileLoc;
  std::string modelDir;
  const OnnxImportOptions &options;
  /// Default-domain opset of the model.
  int64_t opset = 0;
  /// Errors reported so far (counted by run()'s diagnostic handler).
  int64_t errors = 0;
  llvm::StringMap<mlir::Value> values;
  /// The node defining each value name.
  llvm::StringMap<const onnx::NodeProto *> producers;
  std::vector<RecognizedSubgraph> recognized;
  llvm::DenseMap<const onnx::NodeProto *, size_t> recognizedAt;
  llvm::DenseSet<const onnx::NodeProto *> inRecognized;
  /// Values known at import time, by the arith.constant holding them.
  llvm::DenseMap<mlir::Value, mlir::DenseElementsAttr> folded;
  /// Tensors made from Constant nodes' scalar/list attributes.
  std::deque<onnx::TensorProto> owned;
};

mlir::Value zeroOf(mlir::OpBuilder &b, mlir::Location loc, mlir::Type t);

/// Folds an elementwise op on integer constants with NumPy broadcasting:
/// `fn` maps the inputs' values at one position to the result's. Returns null
/// when an input is not an integer tensor or the result would be larger than
/// kMaxFoldElements.
mlir::DenseElementsAttr
foldElementwise(llvm::ArrayRef<mlir::DenseElementsAttr> inputs,
                mlir::Type resultElement,
                llvm::function_ref<int64_t(llvm::ArrayRef<int64_t>)> fn);

/// The op types handled by convertCoreOp / convertTensorOp / convertNnOp.
std::vector<std::string> coreOps();
std::vector<std::string> tensorOps();
std::vector<std::string> nnOps();
/// The op types handled by convertFusedOp, and whether `domain` provides `op`
/// (those ops also come from com.microsoft).
std::vector<std::string> fusedOps();
bool isFusedOpDomain(llvm::StringRef op, llvm::StringRef domain);

} // namespace kestrel::onnximport

#endif // KESTREL_LIB_IMPORT_ONNXIMPORTERIMPL_H
