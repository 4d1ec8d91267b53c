//===- FuzzOnnx.cpp - Fuzz the ONNX importer ------------------------------===//
//
// Protobuf bytes in, written to a file (the importer reads files, resolving
// external data beside them) and imported into a fresh context. Rejections
// with diagnostics are expected; crashes, sanitizer reports and hangs are
// bugs. Seeds: scripts/fuzz_corpus.py (the committed models and small
// generated ones).
//
//===----------------------------------------------------------------------===//

#include "kestrel/Frontend/Onnx.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdio>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A directory of its own, so that external-data names in the model
  // resolve inside it (to files that do not exist).
  static const std::string dir = [] {
    std::string d = "/tmp/kestrel-fuzz-onnx-" + std::to_string(getpid());
    mkdir(d.c_str(), 0700);
    return d;
  }();
  std::string path = dir + "/model.onnx";
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  // The importer loads the dialects it builds.
  MLIRContext ctx;
  ctx.disableMultithreading();
  ctx.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  kestrel::OnnxImportOptions options;
  (void)kestrel::importOnnxFile(ctx, path, options);
  return 0;
}
