//===- OnnxFusedOps.h -------------------------------------------*- C++ -*-===//
//
// Private to the fused-op files (OnnxFusedOps.cpp, OnnxAttentionOps.cpp):
// one fused node being converted, with a handler per op type that the
// table in OnnxFusedOps.cpp dispatches to.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_LIB_FRONTEND_ONNX_ONNXFUSEDOPS_H
#define KESTREL_LIB_FRONTEND_ONNX_ONNXFUSEDOPS_H

#include "OnnxNodeConverter.h"

namespace kestrel::onnximport {

/// Whether optional input `i` of `node` is given.
bool present(const onnx::NodeProto &node, llvm::ArrayRef<mlir::Value> in,
             int i);
/// Whether output `i` of `node` is used.
bool wanted(const onnx::NodeProto &node, int i);
std::string shapeStr(llvm::ArrayRef<int64_t> s);

/// Converts one fused node; the handlers fill `out` (one value per node
/// output, null for unused optional ones) or report an error naming the
/// node (`what`).
class FusedNode : public NodeConverter {
public:
  FusedNode(Importer &im, const onnx::NodeProto &node,
            llvm::ArrayRef<mlir::Value> in,
            llvm::SmallVectorImpl<mlir::Value> &out)
      : NodeConverter(im, node, in, out,
                      node.op_type() + " '" + node.name() + "' (domain '" +
                          domainOf(node) + "')"),
        domain(domainOf(node)) {}
  static std::string domainOf(const onnx::NodeProto &node) {
    return node.domain().empty() ? "ai.onnx" : node.domain();
  }

  // One handler per op type (OnnxFusedOps.cpp, OnnxAttentionOps.cpp).
  mlir::LogicalResult simplifiedLayerNorm();
  mlir::LogicalResult skipSimplifiedLayerNorm();
  mlir::LogicalResult attention();
  mlir::LogicalResult msAttention(); // GroupQueryAttention, MultiHeadAttention
  mlir::LogicalResult rotaryEmbedding();
  mlir::LogicalResult moe();

  /// Fails (with an error) unless the first `n` inputs are present.
  mlir::LogicalResult need(int n);
  bool present(int i) const { return onnximport::present(node, in, i); }
  bool wanted(int i) const { return onnximport::wanted(node, i); }
  /// Reports "<what>: unsupported <list> (supported: ...)" when `list` is
  /// not empty; `supported` is the parenthesised tail.
  mlir::LogicalResult refuse(const std::vector<std::string> &list,
                             llvm::StringRef supported);

  /// GroupQueryAttention's key lengths [B] (seqlens_k + 1) for a key length
  /// S; null when every row has all S keys.
  mlir::FailureOr<mlir::Value> gqaKeyLengths(int64_t B, int64_t S);
  /// RMSNorm of `x` over the axes [axis, rank) with `scale` of that shape.
  mlir::FailureOr<mlir::Value> rmsNorm(mlir::Value x, mlir::Value scale,
                                       int64_t axis, float eps);
  /// How rotate() reads the caches: at position ids pos [B, S] (ById), at
  /// offset + s with one offset pos, or s when pos is null (ByOffset), at
  /// [b, s] (Direct).
  enum RopeMode { ById, ByOffset, Direct };
  /// Rotary embedding of x [B, H, S, D] (features [0, R)) with caches cos,
  /// sin.
  mlir::Value rotate(mlir::Value x, mlir::Value cosC, mlir::Value sinC,
                     mlir::Value pos, RopeMode mode, bool interleaved,
                     int64_t R);

  std::string domain;
};

} // namespace kestrel::onnximport

#endif // KESTREL_LIB_FRONTEND_ONNX_ONNXFUSEDOPS_H
