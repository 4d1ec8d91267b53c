//===- kestrel-opt.cpp - mlir-opt for the kestrel dialect -----------------===//
//
// Parses, verifies, transforms and prints IR with the kestrel dialect, its
// passes and pipelines, and every upstream dialect and pass. Unlike a plain
// mlir-opt it refuses an input nested deeper than the parser can recurse
// (kMaxMlirNesting brackets) or that would crash upstream MLIR 22's
// parsers (findUpstreamParserCrash) and an -o naming the input, and writes -o
// through a temporary file renamed into place on success, so an error or an
// interrupt never leaves a partial output (docs/cli.md).
//
//===----------------------------------------------------------------------===//

#include "kestrel/Driver/Output.h"
#include "kestrel/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::DialectRegistry registry;
  kestrel::registerAllDialects(registry);
  kestrel::registerAllPasses();
  auto [inputPath, outputPath] = mlir::registerAndParseCLIOptions(
      argc, argv, "Kestrel optimizer driver\n", registry);
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputPath, outputPath, registry));

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputPath, &error);
  if (!input) {
    llvm::errs() << "kestrel-opt: error: " << error << "\n";
    return 1;
  }
  if (const char *deep = kestrel::findExcessiveNesting(input->getBuffer())) {
    llvm::SourceMgr sm;
    unsigned id = sm.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(input->getMemBufferRef()), {});
    (void)id;
    sm.PrintMessage(llvm::SMLoc::getFromPointer(deep),
                    llvm::SourceMgr::DK_Error,
                    "brackets nested deeper than " +
                        std::to_string(kestrel::kMaxMlirNesting) +
                        " levels: refusing to parse (the parser would "
                        "overflow the stack)");
    return 1;
  }
  std::string why;
  if (const char *bad =
          kestrel::findUpstreamParserCrash(input->getBuffer(), why)) {
    llvm::SourceMgr sm;
    sm.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(input->getMemBufferRef()), {});
    sm.PrintMessage(llvm::SMLoc::getFromPointer(bad),
                    llvm::SourceMgr::DK_Error,
                    why + ": refusing to parse (MLIR 22's parser would crash "
                          "on it)");
    return 1;
  }
  if (outputPath != "-" && inputPath != "-" &&
      llvm::sys::fs::exists(outputPath) &&
      llvm::sys::fs::equivalent(inputPath, outputPath)) {
    llvm::errs() << "kestrel-opt: error: the output -o " << outputPath
                 << " is the input file: it would be overwritten\n";
    return 1;
  }
  std::unique_ptr<kestrel::AtomicOutput> output =
      kestrel::AtomicOutput::open(outputPath, error);
  if (!output) {
    llvm::errs() << "kestrel-opt: error: " << error << "\n";
    return 1;
  }
  if (mlir::failed(
          mlir::MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  if (!output->keep(error)) {
    llvm::errs() << "kestrel-opt: error: " << error << "\n";
    return 1;
  }
  return 0;
}
