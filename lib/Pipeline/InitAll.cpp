//===- InitAll.cpp - Registration shared by the tools ---------------------===//

#include "kestrel/InitAll.h"

#include "dialects/Kestrel.h"
#include "kestrel/Pipeline/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

namespace kestrel {

void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<KestrelDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void registerAllPasses() {
  mlir::registerAllPasses();
  kestrel::registerKestrelPasses();
  kestrel::registerPipelines();
}

} // namespace kestrel
