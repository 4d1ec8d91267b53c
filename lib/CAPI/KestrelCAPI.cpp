//===- KestrelCAPI.cpp - C API of the Kestrel compiler --------------------===//
//
// Each call builds its own MLIRContext, parses the text, and runs the same
// compile() as kestrelc, capturing diagnostics into a string instead of
// printing them.
//
//===----------------------------------------------------------------------===//

#include "kestrel-c/Kestrel.h"

#include "kestrel/Driver/Compiler.h"
#include "kestrel/Driver/Output.h"
#ifdef KESTREL_HAS_ONNX
#include "kestrel/Frontend/Onnx.h"
#endif
#include "kestrel/InitAll.h"

#include "kestrel/Pipeline/Pipelines.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

using namespace mlir;

namespace {

char *copyString(const std::string &s) {
  char *out = static_cast<char *>(std::malloc(s.size() + 1));
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

/// A context with every Kestrel dialect, and diagnostics collected as text
/// with their source lines, as kestrelc prints them.
struct Session {
  Session(const char *source, size_t length, const char *name)
      : context(registry()), os(text) {
    context.printOpOnDiagnostic(false);
    auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
        llvm::StringRef(source, length), name ? name : "<source>");
    sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    handler =
        std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, &context, os);
  }

  static DialectRegistry &registry() {
    static DialectRegistry reg;
    static std::once_flag once;
    std::call_once(once, [] {
      kestrel::registerAllDialects(reg);
      kestrel::registerAllPasses();
    });
    return reg;
  }

  /// The module, or null after a diagnostic; inputs that would overflow
  /// the parser's stack or crash upstream MLIR 22's parsers are refused as
  /// kestrelc refuses them.
  OwningOpRef<ModuleOp> parse() {
    llvm::StringRef buffer =
        sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();
    std::string why;
    const char *bad = kestrel::findExcessiveNesting(buffer);
    if (bad)
      why = "brackets nested deeper than " +
            std::to_string(kestrel::kMaxMlirNesting) + " levels";
    else
      bad = kestrel::findUpstreamParserCrash(buffer, why);
    if (bad) {
      sourceMgr.PrintMessage(os, llvm::SMLoc::getFromPointer(bad),
                             llvm::SourceMgr::DK_Error,
                             why + ": refusing to parse");
      return nullptr;
    }
    return parseSourceFile<ModuleOp>(sourceMgr, &context);
  }

  char *diagnostics() {
    os.flush();
    return text.empty() ? nullptr : copyString(text);
  }

  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  std::string text;
  llvm::raw_string_ostream os;
  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
};

} // namespace

extern "C" int kestrel_compile(const char *source, size_t length,
                               const char *name,
                               const kestrel_compile_options *options,
                               const char *output_path, char **diagnostics) {
  Session session(source, length, name);
  kestrel::CompileOptions opts;
  if (options) {
    if (options->target)
      opts.target = options->target;
    if (options->emit) {
      opts.emit = kestrel::parseEmitKind(options->emit);
      if (!opts.emit) {
        if (diagnostics)
          *diagnostics = copyString(std::string("unknown emit kind '") +
                                    options->emit + "'");
        return 1;
      }
    }
    if (options->opt_level >= 0)
      opts.optLevel = static_cast<unsigned>(options->opt_level);
    opts.referenceLowering = options->reference_lowering != 0;
    if (options->cuda_path)
      opts.cudaPath = options->cuda_path;
    if (options->extra_passes)
      opts.extraPasses = options->extra_passes;
    if (options->precision)
      opts.precision = options->precision;
    if (options->report_path) {
      opts.report = true;
      opts.reportPath = options->report_path;
    }
  }
  if (std::string error = kestrel::validateOptions(opts, output_path);
      !error.empty()) {
    if (diagnostics)
      *diagnostics = copyString(error);
    return 1;
  }
  OwningOpRef<ModuleOp> module = session.parse();
  bool ok = module && succeeded(kestrel::compile(*module, opts, output_path));
  if (diagnostics)
    *diagnostics = session.diagnostics();
  return ok ? 0 : 1;
}

extern "C" char *kestrel_print_ir(const char *source, size_t length,
                                  const char *name, char **diagnostics) {
  Session session(source, length, name);
  OwningOpRef<ModuleOp> module = session.parse();
  char *result = nullptr;
  if (module) {
    PassManager pm(&session.context);
    kestrel::buildHighLevelPipeline(pm);
    if (succeeded(pm.run(*module))) {
      std::string text;
      llvm::raw_string_ostream os(text);
      module->print(os);
      result = copyString(text);
    }
  }
  if (diagnostics)
    *diagnostics = session.diagnostics();
  return result;
}

extern "C" char *kestrel_import_onnx(const char *path,
                                     const char *const *input_shapes,
                                     size_t num_input_shapes,
                                     char **diagnostics) {
#ifdef KESTREL_HAS_ONNX
  kestrel::OnnxImportOptions options;
  for (size_t i = 0; i < num_input_shapes; ++i) {
    if (std::string error =
            kestrel::addInputShapeSpec(input_shapes[i], options);
        !error.empty()) {
      if (diagnostics)
        *diagnostics = copyString(error);
      return nullptr;
    }
  }
  Session session("", 0, path);
  OwningOpRef<ModuleOp> module =
      kestrel::importOnnxFile(session.context, path, options);
  char *result = nullptr;
  if (module) {
    std::string text;
    llvm::raw_string_ostream os(text);
    // With locations: the ONNX node names travel with the text into
    // kestrel_compile (its diagnostics and compile report name them).
    module->print(os, OpPrintingFlags().enableDebugInfo());
    result = copyString(text);
  }
  if (diagnostics)
    *diagnostics = session.diagnostics();
  return result;
#else
  (void)path;
  (void)input_shapes;
  (void)num_input_shapes;
  if (diagnostics)
    *diagnostics = copyString("this Kestrel was built without the ONNX "
                              "importer (install libonnx-dev and rebuild)");
  return nullptr;
#endif
}

extern "C" int kestrel_has_onnx(void) {
#ifdef KESTREL_HAS_ONNX
  return 1;
#else
  return 0;
#endif
}

extern "C" void kestrel_free(char *text) { std::free(text); }

extern "C" const char *kestrel_version(void) {
  return "kestrel 0.1.0 (MLIR " LLVM_VERSION_STRING ")";
}
