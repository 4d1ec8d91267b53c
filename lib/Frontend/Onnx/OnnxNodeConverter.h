//===- OnnxNodeConverter.h --------------------------------------*- C++ -*-===//
//
// Private to the per-op handler files (OnnxFusedOps.cpp,
// OnnxAttentionOps.cpp, OnnxNnOps.cpp, OnnxTensorOps.cpp, OnnxShapeOps.cpp,
// OnnxCoreOps.cpp): one node being converted, its
// inputs and outputs, and the importer's builders under their usual names,
// so a handler per op type reads like an Importer method.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_LIB_FRONTEND_ONNX_ONNXNODECONVERTER_H
#define KESTREL_LIB_FRONTEND_ONNX_ONNXNODECONVERTER_H

#include "OnnxImporterImpl.h"

namespace kestrel::onnximport {

/// a[0] + a[1], a body for Importer::elementwise.
mlir::Value addF(mlir::OpBuilder &nb, mlir::Location l, mlir::ValueRange a);

class NodeConverter {
public:
  /// `what` names the node in error messages.
  NodeConverter(Importer &im, const onnx::NodeProto &node,
                llvm::ArrayRef<mlir::Value> in,
                llvm::SmallVectorImpl<mlir::Value> &out, std::string what)
      : im(im), ctx(im.ctx), b(im.b), loc(im.loc), node(node), in(in), out(out),
        what(std::move(what)) {}

  // The importer's builders, under their usual names.
  mlir::LogicalResult error(const llvm::Twine &message) {
    return im.error(message);
  }
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape) {
    return im.reshape(x, shape);
  }
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> perm) {
    return im.transpose(x, perm);
  }
  mlir::Value stridedView(mlir::Value x, const StridedView &view) {
    return im.stridedView(x, view);
  }
  mlir::Value broadcastTo(mlir::Value x, llvm::ArrayRef<int64_t> shape) {
    return im.broadcastTo(x, shape);
  }
  mlir::Value castTo(mlir::Value x, mlir::Type elt) {
    return im.castTo(x, elt);
  }
  mlir::DenseElementsAttr foldedOf(mlir::Value v) const {
    return im.foldedOf(v);
  }
  mlir::Value materialize(mlir::DenseElementsAttr attr) {
    return im.materialize(attr);
  }
  template <typename Fn>
  mlir::Value elementwise(mlir::ValueRange inputs, mlir::Type resultElement,
                          Fn &&fn) {
    return im.elementwise(inputs, resultElement, fn);
  }
  template <typename Fn>
  mlir::Value gather(llvm::ArrayRef<int64_t> shape, mlir::Type elt, Fn &&fn) {
    return im.gather(shape, elt, fn);
  }

  mlir::Value matmul(mlir::Value a, mlir::Value bm) { return im.matmul(a, bm); }
  mlir::Value reduce(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepDims,
                     llvm::StringRef kind) {
    return im.reduce(x, axes, keepDims, kind);
  }
  mlir::Value scalarConst(mlir::Type elt, double v) {
    return im.scalarConst(elt, v);
  }
  mlir::FailureOr<std::vector<int64_t>> constInts(const std::string &name,
                                                  llvm::StringRef what) {
    return im.constInts(name, what);
  }

  Importer &im;
  mlir::MLIRContext &ctx;
  mlir::OpBuilder &b;
  mlir::Location loc;
  const onnx::NodeProto &node;
  llvm::ArrayRef<mlir::Value> in;
  llvm::SmallVectorImpl<mlir::Value> &out;
  std::string what;
};

} // namespace kestrel::onnximport

#endif // KESTREL_LIB_FRONTEND_ONNX_ONNXNODECONVERTER_H
