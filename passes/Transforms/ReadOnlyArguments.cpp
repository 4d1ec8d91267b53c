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
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

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
  }
};

} // namespace
