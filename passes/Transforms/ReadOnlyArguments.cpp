//===- ReadOnlyArguments.cpp - Callers' tensors are inputs, not scratch ---===//
//
// With bufferize-function-boundaries, one-shot-bufferize treats a function's
// tensor arguments as writable, so an op that updates a tensor in place
// (insert_slice, a loop-carried state, a linalg op whose init is an
// argument) may write into the caller's array. Compiled Kestrel functions
// take their inputs read-only: this pass marks every tensor argument of
// public functions `bufferization.writable = false`, and bufferization then
// copies instead.
//
// It also gives every tensor result its own value: a function returning
// one tensor twice (`return %r, %r`, e.g. an ONNX graph listing one tensor
// as two outputs) has each repeat replaced by a copy into a fresh tensor,
// since buffer-results-to-out-params turns results into distinct caller
// buffers (and crashes on a repeated one).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "llvm/ADT/DenseSet.h"

namespace kestrel {
#define GEN_PASS_DEF_READONLYARGUMENTS
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

struct ReadOnlyArgumentsPass
    : kestrel::impl::ReadOnlyArgumentsBase<ReadOnlyArgumentsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (!fn.isPublic() || fn.isExternal())
      return;
    BoolAttr no = BoolAttr::get(&getContext(), false);
    for (BlockArgument arg : fn.getArguments())
      if (isa<TensorType>(arg.getType()) &&
          !fn.getArgAttr(
              arg.getArgNumber(),
              bufferization::BufferizationDialect::kWritableAttrName))
        fn.setArgAttr(arg.getArgNumber(),
                      bufferization::BufferizationDialect::kWritableAttrName,
                      no);
    fn.walk([](func::ReturnOp ret) {
      llvm::SmallDenseSet<Value> seen;
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || seen.insert(v).second)
          continue;
        SmallVector<OpFoldResult> sizes =
            tensor::getMixedSizes(b, ret.getLoc(), v);
        Value fresh = tensor::EmptyOp::create(b, ret.getLoc(), sizes,
                                              type.getElementType());
        operand.set(linalg::CopyOp::create(b, ret.getLoc(), v, fresh)
                        .getResult(0));
      }
    });
  }
};

} // namespace
