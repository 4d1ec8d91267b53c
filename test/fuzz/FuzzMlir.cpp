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
// Also skipped: inputs that reach a known crash of upstream MLIR 22's
// parsers rather than of Kestrel, which kestrelc, kestrel-opt and the C API
// refuse before parsing (kestrel::findUpstreamParserCrash, lib/Driver/
// Output.cpp): linalg.transpose / linalg.broadcast whose `permutation` /
// `dimensions` list fails to parse (a null attribute added after the parse
// error; long run of 2026-12-04; llvm-project issue 97857 is a relative),
// and linalg.generic whose `iterator_types` holds a non-string (read as a
// string unchecked: a huge allocation or a wild memcpy in the diagnostic;
// long run of 2026-12-04, after 411k executions), a forward reference to a
// huge result number (2026-12-05), and brackets nested past
// kestrel::kMaxMlirNesting (the recursive parsers overflow the stack; the
// drivers refuse these too, the harness did not until a 10,000-deep
// affine_map in the run of 2026-12-05, after 570k executions).
//
//===----------------------------------------------------------------------===//

#include "kestrel/Driver/Compiler.h"
#include "kestrel/Driver/Output.h"
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
  std::string why;
  if (kestrel::findExcessiveNesting(text) ||
      kestrel::findUpstreamParserCrash(text, why))
    return -1; // kestrelc refuses these with an error too
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
