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
// parser rather than of Kestrel. linalg.transpose / linalg.broadcast whose
// `permutation = [...]` / `dimensions = [...]` list fails to parse crash in
// their custom parsers (a null attribute added after the parse error; found
// by the long run of 2026-12-04; llvm-project issue 97857 is a relative).
//
//===----------------------------------------------------------------------===//

#include "kestrel/Driver/Compiler.h"
#include "kestrel/InitAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"

#include <regex>
#include <string>
#include <unistd.h>

using namespace mlir;

namespace {

constexpr size_t kMaxInputBytes = 16 * 1024;

/// Whether `text` names linalg.transpose or linalg.broadcast with a
/// permutation/dimensions list that is not a plain list of integers (the
/// upstream parser crash described above).
bool reachesUpstreamParserCrash(const std::string &text) {
  if (text.find("linalg.transpose") == std::string::npos &&
      text.find("linalg.broadcast") == std::string::npos)
    return false;
  static const std::regex list("(permutation|dimensions)\\s*=\\s*\\[");
  static const std::regex ints(
      "^\\s*(-?[0-9]+(\\s*,\\s*-?[0-9]+)*)?\\s*\\]");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), list);
       it != std::sregex_iterator(); ++it) {
    std::string rest = text.substr(it->position() + it->length(), 256);
    if (!std::regex_search(rest, ints, std::regex_constants::match_continuous))
      return true;
  }
  // The keyword cut off before its list also ends in the crash.
  return text.find("permutation") != std::string::npos &&
         !std::regex_search(text, list);
}

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
  if (reachesUpstreamParserCrash(text))
    return -1;
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
