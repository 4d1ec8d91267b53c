//===- FuzzMlir.cpp - Fuzz parsing, verification and the CPU pipeline -----===//
//
// MLIR text in; the module is parsed and verified, and when it verifies,
// compiled like `kestrelc --target=cpu --emit=llvm -O0` (the high-level
// pipeline, the CPU pipeline and the translation to LLVM IR). Diagnostics
// are expected and discarded; crashes, sanitizer reports and hangs
// (scripts/fuzz.sh sets a per-input time limit) are bugs.
//
// Inputs over 16 KiB are skipped: the pipeline's cost grows with the IR,
// and small inputs reach every op's verifier and lowering.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Driver/Compiler.h"
#include "kestrel/InitAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"

#include <string>
#include <unistd.h>

using namespace mlir;

namespace {

constexpr size_t kMaxInputBytes = 16 * 1024;

DialectRegistry &registry() {
  static DialectRegistry *reg = [] {
    auto *r = new DialectRegistry();
    kestrel::registerAllDialects(*r);
    kestrel::registerAllPasses();
    return r;
  }();
  return *reg;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > kMaxInputBytes)
    return -1; // not added to the corpus
  MLIRContext ctx(registry());
  ctx.disableMultithreading();
  ctx.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
  if (!module)
    return 0;
  static const std::string out =
      "/tmp/kestrel-fuzz-mlir-" + std::to_string(getpid()) + ".ll";
  kestrel::CompileOptions opts;
  opts.emit = kestrel::EmitKind::Llvm;
  opts.optLevel = 0;
  (void)kestrel::compile(*module, opts, out);
  return 0;
}
