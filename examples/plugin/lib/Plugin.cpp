//===- Plugin.cpp - Entry points kestrel-opt and kestrelc look up ---------===//
//
// One shared library serves both plugin kinds:
//   --load-dialect-plugin=libKxPlugin.so   registers the kx dialect
//   --load-pass-plugin=libKxPlugin.so      registers kx-lower-feature-map
//
//===----------------------------------------------------------------------===//

#include "Kx/Kx.h"

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "kx", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            registry->insert<kx::KxDialect>();
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "kx", LLVM_VERSION_STRING,
          []() { kx::registerPasses(); }};
}
