//===- Onnx.h - Importing ONNX models -------------------------*- C++ -*-===//
//
// Reads an ONNX model (protobuf, external data files resolved next to it)
// into a func.func on tensors of linalg/tensor/arith/math ops, ready for
// Kestrel's recognition passes and pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_FRONTEND_ONNX_H
#define KESTREL_FRONTEND_ONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace kestrel {

struct OnnxImportOptions {
  /// Static shapes for graph inputs with symbolic or unknown dimensions
  /// (`--input-shape name=1x128`).
  std::map<std::string, std::vector<int64_t>> inputShapes;
};

/// Parses one `NAME=DxDx...` input-shape spec into `options`; returns an
/// error message, empty on success.
std::string addInputShapeSpec(llvm::StringRef spec, OnnxImportOptions &options);

/// The ONNX ops (default domain) the importer lowers.
std::vector<std::string> supportedOnnxOps();

/// Imports `path`. On failure emits diagnostics on `ctx` (every unsupported
/// node listed with name, op type, domain and opset) and returns null.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(mlir::MLIRContext &ctx, llvm::StringRef path,
               const OnnxImportOptions &options);

} // namespace kestrel

#endif // KESTREL_FRONTEND_ONNX_H
