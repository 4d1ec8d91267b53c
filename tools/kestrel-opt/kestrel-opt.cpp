//===- kestrel-opt.cpp - mlir-opt for the kestrel dialect -----------------===//
//
// Parses, verifies, transforms and prints IR with the kestrel dialect, its
// passes and pipelines, and every upstream dialect and pass.
//
//===----------------------------------------------------------------------===//

#include "kestrel/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  kestrel::registerAllDialects(registry);
  kestrel::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Kestrel optimizer driver\n", registry));
}
