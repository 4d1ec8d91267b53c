//===- kestrelc.cpp - The Kestrel compiler driver -------------------------===//
//
// kestrelc IN --target=cpu|cuda:sm_XX --emit=mlir|llvm|obj|so|ptx -o OUT
//
// Parses a model (MLIR text in the kestrel dialect), runs the pipeline of the
// target and writes the requested artifact. On any error it prints a located
// diagnostic, exits non-zero and leaves no output file behind.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "kestrel/Driver/Compiler.h"
#include "kestrel/Driver/Output.h"
#include "kestrel/InitAll.h"
#ifdef KESTREL_HAS_ONNX
#include "kestrel/Frontend/Onnx.h"
#endif
#include "kestrel/Pipeline/Pipelines.h"
#include "kestrel/Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("kestrelc options");

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<input .mlir>"),
                               cl::init("-"), cl::cat(category));
cl::opt<std::string> outputPath("o",
                                cl::desc("Output file ('-' for stdout, "
                                         "text formats only)"),
                                cl::value_desc("path"), cl::init("-"),
                                cl::cat(category));
cl::opt<std::string>
    targetName("target",
               cl::desc("cpu (the host), or cuda:sm_80, cuda:sm_86, "
                        "cuda:sm_89, cuda:sm_90, cuda:sm_90a"),
               cl::init("cpu"), cl::cat(category));

// Same order as kestrel::EmitKind, plus "not given".
enum class Emit { Mlir, Llvm, Obj, So, Ptx, Default };
cl::opt<Emit> emitKind(
    "emit", cl::desc("What to write (default: so for cpu, ptx for cuda)"),
    cl::values(
        clEnumValN(Emit::Mlir, "mlir",
                   "kestrel-level MLIR after the high-level passes"),
        clEnumValN(Emit::Llvm, "llvm", "LLVM IR text (cpu)"),
        clEnumValN(Emit::Obj, "obj", "host object file (cpu)"),
        clEnumValN(Emit::So, "so",
                   "shared library with a C entry point per function (cpu)"),
        clEnumValN(Emit::Ptx, "ptx",
                   "PTX, plus a launch manifest beside it (cuda)")),
    cl::init(Emit::Default), cl::cat(category));
cl::opt<std::string> manifestPath(
    "manifest",
    cl::desc("Where --emit=ptx writes the launch manifest (default: the "
             "output path with .ptx replaced by .manifest)"),
    cl::value_desc("path"), cl::cat(category));
cl::opt<std::string> cudaPath(
    "cuda-path",
    cl::desc("CUDA toolkit providing libdevice for cuda targets (default: "
             "$CUDA_HOME, $CUDA_PATH, $CUDA_ROOT, then /usr/local/cuda)"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> precision(
    "precision",
    cl::desc("cuda: what f32 matmuls and attention run in: f32 (default; "
             "exact f32 products), tf32 (matmuls on tensor cores with "
             "operands rounded to tf32; attention stays f32), bf16 or f16 "
             "(operands rounded, weights at compile time; tensor cores with "
             "f32 accumulation, results f32). bf16/f16 models always use "
             "tensor cores"),
    cl::value_desc("f32|tf32|bf16|f16"), cl::init("f32"), cl::cat(category));
cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level (0-3)"),
                           cl::Prefix, cl::init(3), cl::cat(category));
cl::opt<bool> referenceLowering(
    "reference-lowering",
    cl::desc("Use only the naive reference lowering: on cpu no tiling, "
             "fusion or threads, on cuda no tensor-core kernels; the oracle "
             "and benchmark baseline"),
    cl::cat(category));
cl::opt<std::string> extraPasses(
    "extra-passes",
    cl::desc("A pass pipeline run before the target's (e.g. a plugin's "
             "passes: --extra-passes='func.func(my-pass)')"),
    cl::value_desc("pipeline"), cl::cat(category));
cl::opt<bool> listOnnxOps("list-onnx-ops",
                          cl::desc("Print the ONNX operators the importer "
                                   "supports and exit"),
                          cl::cat(category));
cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("ONNX input: static shape of a graph input with symbolic "
             "dimensions, NAME=DxDx... (repeatable)"),
    cl::value_desc("name=shape"), cl::cat(category));
cl::list<std::string> passPlugins("load-pass-plugin",
                                  cl::desc("Load passes from a plugin library"),
                                  cl::value_desc("path"), cl::cat(category));
cl::list<std::string>
    dialectPlugins("load-dialect-plugin",
                   cl::desc("Load dialects from a plugin library"),
                   cl::value_desc("path"), cl::cat(category));
cl::opt<bool> noRecognize(
    "no-recognize",
    cl::desc("With --emit=mlir: print the module as imported, without "
             "kestrel-recognize (or any other pass) and, for ONNX, without "
             "the importer's subgraph recognition (Mamba2's chunked SSD scan, "
             "the chunked gated delta rule, DeepSeek-V3's group-limited "
             "router)"),
    cl::cat(category));
cl::opt<bool>
    printIRAfterAll("print-ir-after-all",
                    cl::desc("Print the IR after every pass (stderr)"),
                    cl::cat(category));
cl::opt<uint64_t> maxTensorBytes(
    "max-tensor-bytes",
    cl::desc("ONNX input: the largest tensor (graph input, initializer, "
             "constant or node result) accepted, in bytes; larger ones are "
             "an error naming the tensor (default 4 GiB)"),
    cl::value_desc("bytes"), cl::init(uint64_t(4) << 30), cl::cat(category));
cl::opt<bool> timing("timing", cl::desc("Report the time of every pass"),
                     cl::cat(category));
cl::opt<std::string> report(
    "report",
    cl::desc("Print the compile report: per function, the kestrel ops "
             "(recognized or given) with their ONNX nodes, the generic ops "
             "left, every recorded decision (tiles, contraction paths, GEMM "
             "plans, attention kernels), GPU kernels by kind (tensor cores "
             "or SIMT), reference-lowered ops, contractions left to loops "
             "and the errors (refused). To stderr, or to FILE ('-': "
             "stdout); also on failure"),
    cl::value_desc("FILE"), cl::ValueOptional, cl::cat(category));

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kestrelc: compile a Kestrel model to a CPU library or CUDA PTX\n\n"
      "  kestrelc model.mlir --target=cpu --emit=so -o model.so\n"
      "  kestrelc model.mlir --target=cuda:sm_90a --emit=ptx -o model.ptx\n");

#ifdef KESTREL_HAS_ONNX
  if (listOnnxOps) {
    for (const std::string &op : kestrel::supportedOnnxOps())
      llvm::outs() << op << "\n";
    return 0;
  }
#else
  if (listOnnxOps)
    return 0;
#endif
  kestrel::CompileOptions opts;
  opts.target = targetName;
  if (emitKind != Emit::Default)
    opts.emit = static_cast<kestrel::EmitKind>(emitKind.getValue());
  opts.optLevel = optLevel;
  opts.referenceLowering = referenceLowering;
  opts.cudaPath = cudaPath;
  opts.precision = precision;
  opts.manifestPath = manifestPath;
  opts.inputPath = inputPath;
  opts.extraPasses = extraPasses;
  opts.recognize = !noRecognize;
  opts.printIRAfterAll = printIRAfterAll;
  opts.timing = timing;
  opts.report = report.getNumOccurrences() > 0;
  opts.reportPath = report;
  if (std::string error = kestrel::validateOptions(opts, outputPath);
      !error.empty()) {
    llvm::errs() << "kestrelc: error: " << error << "\n";
    return 1;
  }
  bool onnxInput = StringRef(inputPath).ends_with(".onnx");
#ifndef KESTREL_HAS_ONNX
  if (onnxInput) {
    llvm::errs() << "kestrelc: error: " << inputPath
                 << ": this kestrelc was built without the ONNX importer "
                    "(install libonnx-dev and rebuild)\n";
    return 1;
  }
#else
  kestrel::OnnxImportOptions importOptions;
  if (maxTensorBytes == 0 || maxTensorBytes > uint64_t(INT64_MAX)) {
    llvm::errs() << "kestrelc: error: --max-tensor-bytes must be in 1 to "
                    "2^63 - 1\n";
    return 1;
  }
  importOptions.maxTensorBytes = maxTensorBytes;
  importOptions.recognizeSubgraphs = !noRecognize;
  for (const std::string &spec : inputShapes) {
    if (std::string error = kestrel::addInputShapeSpec(spec, importOptions);
        !error.empty()) {
      llvm::errs() << "kestrelc: error: " << error << "\n";
      return 1;
    }
  }
#endif

  DialectRegistry registry;
  kestrel::registerAllDialects(registry);
  kestrel::registerAllPasses();
  // Plugins add dialects and passes (used through --extra-passes) without
  // rebuilding kestrelc.
  for (const std::string &path : dialectPlugins) {
    auto plugin = DialectPlugin::load(path);
    if (!plugin) {
      llvm::errs() << "kestrelc: error: cannot load dialect plugin " << path
                   << ": " << llvm::toString(plugin.takeError()) << "\n";
      return 1;
    }
    plugin->registerDialectRegistryCallbacks(registry);
  }
  for (const std::string &path : passPlugins) {
    auto plugin = PassPlugin::load(path);
    if (!plugin) {
      llvm::errs() << "kestrelc: error: cannot load pass plugin " << path
                   << ": " << llvm::toString(plugin.takeError()) << "\n";
      return 1;
    }
    plugin->registerPassRegistryCallbacks();
  }
  MLIRContext ctx(registry);
  // Diagnostics name the op and its location; dumping the whole enclosing
  // module after a lowering error buries the message.
  ctx.printOpOnDiagnostic(false);
  if (printIRAfterAll)
    ctx.disableMultithreading();

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputPath, &error);
  if (!input) {
    llvm::errs() << "kestrelc: error: " << error << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &ctx);
  // The MLIR parser recurses once per bracket: refuse what would overflow
  // its stack (docs/cli.md).
  if (!onnxInput)
    if (const char *deep = kestrel::findExcessiveNesting(
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())
                ->getBuffer())) {
      sourceMgr.PrintMessage(llvm::SMLoc::getFromPointer(deep),
                             llvm::SourceMgr::DK_Error,
                             "brackets nested deeper than " +
                                 std::to_string(kestrel::kMaxMlirNesting) +
                                 " levels: refusing to parse (the parser "
                                 "would overflow the stack)");
      return 1;
    }
  // Inputs that would crash upstream MLIR 22's parsers (docs/cli.md).
  if (!onnxInput) {
    std::string why;
    if (const char *bad = kestrel::findUpstreamParserCrash(
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer(),
            why)) {
      sourceMgr.PrintMessage(llvm::SMLoc::getFromPointer(bad),
                             llvm::SourceMgr::DK_Error,
                             why + ": refusing to parse (MLIR 22's parser "
                                   "would crash on it)");
      return 1;
    }
  }

  OwningOpRef<ModuleOp> module;
#ifdef KESTREL_HAS_ONNX
  if (onnxInput)
    module = kestrel::importOnnxFile(ctx, inputPath, importOptions);
  else
#endif
    module = parseSourceFile<ModuleOp>(sourceMgr, &ctx);
  if (!module)
    return 1;
#ifdef KESTREL_HAS_ONNX
  // Errors of the passes on imported ops name the ONNX node.
  ScopedDiagnosticHandler onnxNodes(
      &ctx, [](Diagnostic &d) { return kestrel::onnxNodeDiagnostic(d); });
#endif
  return failed(kestrel::compile(*module, opts, outputPath)) ? 1 : 0;
}
