//===- MergeGPUModules.cpp - One gpu.module per compiled model ------------===//
//
// gpu-kernel-outlining creates a gpu.module per kernel, each holding a
// gpu.func named after its parent function. Kestrel emits a single PTX file
// per model, so every kernel moves into the first gpu.module under a unique
// name, and each gpu.launch_func is pointed at its new home.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace kestrel {
#define GEN_PASS_DEF_MERGEGPUMODULES
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

struct MergeGPUModulesPass
    : kestrel::impl::MergeGPUModulesBase<MergeGPUModulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto gpuModules = llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
    if (gpuModules.size() <= 1)
      return;

    gpu::GPUModuleOp target = gpuModules.front();
    SymbolTable targetSymbols(target);
    // Old (module, kernel) reference -> new kernel name inside `target`.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp source : llvm::drop_begin(gpuModules)) {
      for (Operation &op :
           llvm::make_early_inc_range(source.getBody()->getOperations())) {
        auto symbol = dyn_cast<SymbolOpInterface>(&op);
        if (!symbol) {
          source.emitError("cannot merge gpu.module holding non-symbol op ")
              << op.getName();
          return signalPassFailure();
        }
        StringAttr oldName = symbol.getNameAttr();
        op.remove();
        // insert() renames the symbol on a clash and returns the final name.
        StringAttr newName = targetSymbols.insert(&op);
        renamed[{source.getNameAttr(), oldName}] = newName;
      }
    }

    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it =
          renamed.find({launch.getKernelModuleName(), launch.getKernelName()});
      if (it == renamed.end())
        return;
      launch.setKernelAttr(SymbolRefAttr::get(
          target.getNameAttr(), {FlatSymbolRefAttr::get(it->second)}));
    });
    for (gpu::GPUModuleOp source : llvm::drop_begin(gpuModules))
      source.erase();
  }
};

} // namespace
