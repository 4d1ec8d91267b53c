//===- RecognizeMatchers.h - Reading linalg forms back ----------*- C++ -*-===//
//
// Shared by the kestrel-recognize pattern files (Recognize*.cpp): matchers
// that read the building blocks every frontend writes in upstream dialects
// back into their meaning: elementwise generics, (batched) matmuls,
// transposes, last-axis sums, softmax, sigmoid, constants. Each accepts the
// ONNX importer's linalg.generic form and, where one exists, the named op
// (linalg.matmul, linalg.batch_matmul, linalg.transpose, linalg.softmax).
// Every matcher is conservative: std::nullopt / null unless the form is
// exactly the one described.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_TRANSFORMS_RECOGNIZEMATCHERS_H
#define KESTREL_PASSES_TRANSFORMS_RECOGNIZEMATCHERS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace kestrel::recognize {

/// One elementwise linalg.generic seen as `body(args...)`: each argument is
/// the tensor operand feeding the body op (with its indexing map), or a
/// value captured from above (map null). The body is one op besides scalar
/// constants.
struct Elementwise {
  mlir::linalg::GenericOp op;
  mlir::Operation *body;
  llvm::SmallVector<mlir::Value> args;
  llvm::SmallVector<mlir::AffineMap> maps;
};
std::optional<Elementwise> asElementwise(mlir::Value v);

/// Whether argument `i` of `e` is read with the identity map at the
/// result's shape (element types may differ: compares, casts).
bool isIdentityOperand(const Elementwise &e, unsigned i);

/// The value of a constant whose elements are all equal (a scalar, or a
/// tensor operand of any map), or std::nullopt.
std::optional<double> splatValue(mlir::Value v);
/// The dense value of an arith.constant tensor, or null.
mlir::DenseElementsAttr denseConstant(mlir::Value v);

/// A float "-inf" as masks write it (also the lowest finite f32, f16 or
/// bf16, Hugging Face's fill).
bool isMinusInf(double v);

/// x read by a unary elementwise generic whose body is exactly `opName`
/// of its one input (e.g. "math.exp", "arith.negf"), or null.
mlir::Value unaryOf(mlir::Value v, llvm::StringRef opName);

/// x of sigmoid(x) = 1 / (1 + exp(-x)) as one elementwise generic, or null.
mlir::Value sigmoidOf(mlir::Value v);

/// x of silu(x) = x · sigmoid(x) (operands in either order), or null.
mlir::Value siluOf(mlir::Value v);

/// A, B of A @ B: a linalg.generic multiply-accumulating into a zero fill
/// with maps (batch..., m, k), (batch..., k, n) -> (batch..., m, n) and no
/// broadcast, or linalg.matmul / linalg.batch_matmul on a zero fill.
std::optional<std::pair<mlir::Value, mlir::Value>> matmulOf(mlir::Value v);

/// x and the permutation of a pure transpose (result dim i = x dim perm[i]).
std::optional<std::pair<mlir::Value, llvm::SmallVector<int64_t>>>
transposeOf(mlir::Value v);

/// x of Σ over the last dim of x (a linalg.generic adding into a zero fill,
/// other dims parallel), or null.
mlir::Value lastAxisSumOf(mlir::Value v);

/// Looks through tensor.reshape / expand_shape / collapse_shape that only
/// add or remove unit dims.
mlir::Value throughUnitReshapes(mlir::Value v);

/// x of softmax(x) over the last axis: linalg.softmax, or the importer's
/// exp(x - max) / Σ exp(x - max) (reductions kept as unit dims).
mlir::Value softmaxOf(mlir::Value v);

/// The source of a reshape (tensor.reshape, expand_shape, collapse_shape),
/// or null.
mlir::Value reshapeSource(mlir::Value v);

/// RecognizeRmsNorm.cpp: every RMSNorm decomposition in `fn` ->
/// kestrel.rms_norm (last to first, so a weighted norm wins over the
/// weightless one inside it).
void recognizeRmsNorms(mlir::func::FuncOp fn);

void populateRecognizeAttentionPatterns(mlir::RewritePatternSet &patterns);
void populateRecognizeRopePatterns(mlir::RewritePatternSet &patterns);
void populateRecognizeMoePatterns(mlir::RewritePatternSet &patterns);
void populateRecognizeMoeGatheredPatterns(mlir::RewritePatternSet &patterns);

/// RecognizeMoe.cpp: the softmax router of a top-k routing (`indices`,
/// `weights` [N, k] of one kestrel.top_k): (logits, top_k, renormalize)
/// for top_k(softmax(L)), its values renormalized by their sum, or
/// softmax(top_k(L).values); std::nullopt otherwise.
std::optional<std::tuple<mlir::Value, mlir::Operation *, bool>>
matchTopKGating(mlir::Value indices, mlir::Value weights);
/// kestrel.route with score softmax over `logits`, top `k` (results:
/// indices, weights).
mlir::Operation *createSoftmaxRoute(mlir::PatternRewriter &rewriter,
                                    mlir::Location loc, mlir::Type indicesType,
                                    mlir::Type weightsType, mlir::Value logits,
                                    int64_t k, bool renormalize);
void populateRecognizeCausalConvPatterns(mlir::RewritePatternSet &patterns);
void populateRecognizeSelectiveScanPatterns(mlir::RewritePatternSet &patterns);

} // namespace kestrel::recognize

#endif // KESTREL_PASSES_TRANSFORMS_RECOGNIZEMATCHERS_H
