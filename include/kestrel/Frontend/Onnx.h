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
#include "mlir/IR/Diagnostics.h"
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
  /// Largest tensor (graph input, initializer, constant, any node's result)
  /// the importer accepts, in bytes (`--max-tensor-bytes`); bigger ones are
  /// an error naming the tensor rather than an out-of-memory abort.
  int64_t maxTensorBytes = int64_t(4) << 30;
  /// Import exporter subgraphs whose lowered form no pass could read back
  /// as the kestrel op they compute (today: Mamba2's chunked SSD scan and
  /// Hugging Face's chunked gated delta rule, each as
  /// kestrel.gated_recurrence, and DeepSeek-V3's group-limited router as
  /// kestrel.route); off with kestrelc --no-recognize.
  bool recognizeSubgraphs = true;
};

/// The highest default-domain (ai.onnx) opset the importer accepts (that of
/// ONNX 1.23, whose node tests test/onnx runs).
constexpr int64_t kMaxOnnxOpset = 28;

/// Parses one `NAME=DxDx...` input-shape spec into `options`; returns an
/// error message, empty on success.
std::string addInputShapeSpec(llvm::StringRef spec, OnnxImportOptions &options);

/// The ONNX ops (default domain) the importer lowers.
std::vector<std::string> supportedOnnxOps();

/// Imports `path`. On failure emits diagnostics on `ctx` (every unsupported
/// node listed with name, op type, domain and opset) and returns null.
/// Rewrites a diagnostic located at an imported ONNX node (its ops carry a
/// NameLoc "node 'NAME' (OpType)") as "node 'NAME' (OpType): message" at the
/// model file, and emits it; fails (emitting nothing) for any other location.
/// The importer uses it while importing; drivers install it for the passes.
mlir::LogicalResult onnxNodeDiagnostic(mlir::Diagnostic &diag);

mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(mlir::MLIRContext &ctx, llvm::StringRef path,
               const OnnxImportOptions &options);

} // namespace kestrel

#endif // KESTREL_FRONTEND_ONNX_H
