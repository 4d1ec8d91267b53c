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
#include "kestrel/InitAll.h"
#include "kestrel/Pipeline/Pipelines.h"
#include "kestrel/Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
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
cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout, "
                                              "text formats only)"),
                                cl::value_desc("path"), cl::init("-"),
                                cl::cat(category));
cl::opt<std::string>
    targetName("target",
               cl::desc("cpu (the host), or cuda:sm_80, cuda:sm_86, "
                        "cuda:sm_89, cuda:sm_90, cuda:sm_90a"),
               cl::init("cpu"), cl::cat(category));

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
cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level (0-3)"),
                           cl::Prefix, cl::init(3), cl::cat(category));
cl::opt<bool> referenceLowering(
    "reference-lowering",
    cl::desc("cpu: use only the naive reference lowering (no tiling, fusion "
             "or threads); the oracle and benchmark baseline"),
    cl::cat(category));
cl::opt<bool> printIRAfterAll("print-ir-after-all",
                              cl::desc("Print the IR after every pass (stderr)"),
                              cl::cat(category));
cl::opt<bool> timing("timing", cl::desc("Report the time of every pass"),
                     cl::cat(category));

struct Target {
  bool cuda = false;
  std::string chip; // sm_XX for cuda
};

std::optional<Target> parseTarget(StringRef name) {
  if (name == "cpu")
    return Target{};
  if (!name.consume_front("cuda:"))
    return std::nullopt;
  if (!llvm::is_contained({"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"},
                          name))
    return std::nullopt;
  return Target{true, name.str()};
}

/// Creates `path` through a temporary file that is renamed into place only
/// when kept, so a failure never leaves a partial output.
std::unique_ptr<llvm::ToolOutputFile> openOutput(StringRef path,
                                                 std::string &error) {
  return openOutputFile(path, &error);
}

/// A temporary path next to `path` (same file system, so rename is atomic).
std::string siblingTemp(StringRef path, StringRef suffix) {
  llvm::SmallString<256> model(path);
  model += ".tmp-%%%%%%";
  model += suffix;
  llvm::SmallString<256> out;
  llvm::sys::fs::createUniquePath(model, out, /*MakeAbsolute=*/false);
  return std::string(out);
}

class Driver {
public:
  Driver(MLIRContext &ctx, Target target, Emit emit)
      : ctx(ctx), target(std::move(target)), emit(emit) {}

  LogicalResult run(ModuleOp module);

private:
  LogicalResult runPipeline(ModuleOp module,
                            function_ref<void(OpPassManager &)> build);
  LogicalResult writeText(StringRef text);
  LogicalResult emitHost(ModuleOp module, StringRef manifest);
  LogicalResult emitPtx(ModuleOp module,
                        const std::vector<kestrel::EntryPoint> &entries);
  LogicalResult fail(const Twine &message) {
    emitError(UnknownLoc::get(&ctx)) << message;
    return failure();
  }

  MLIRContext &ctx;
  Target target;
  Emit emit;
};

LogicalResult Driver::runPipeline(ModuleOp module,
                                  function_ref<void(OpPassManager &)> build) {
  PassManager pm(&ctx);
  build(pm);
  if (printIRAfterAll)
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/[](Pass *, Operation *) { return false; },
        /*shouldPrintAfterPass=*/[](Pass *, Operation *) { return true; },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  // The report goes to stderr when the pass manager is destroyed.
  if (timing)
    pm.enableTiming();
  return pm.run(module);
}

LogicalResult Driver::writeText(StringRef text) {
  std::string error;
  auto out = openOutput(outputPath, error);
  if (!out)
    return fail(error);
  out->os() << text;
  out->keep();
  return success();
}

LogicalResult Driver::run(ModuleOp module) {
  FailureOr<std::vector<kestrel::EntryPoint>> entries =
      kestrel::describeEntryPoints(module);
  if (emit != Emit::Mlir && failed(entries))
    return failure();

  if (emit == Emit::Mlir) {
    if (failed(runPipeline(module, [](OpPassManager &pm) {
          kestrel::buildHighLevelPipeline(pm);
        })))
      return failure();
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    return writeText(text);
  }

  if (target.cuda) {
    // The recurrence's reference lowering is an scf.for over time on the
    // host around per-step parallel loops; the launch manifest only replays
    // straight-line copies and launches, so refuse it here with a reason
    // instead of failing later without one.
    WalkResult unsupported = module.walk([](kestrel::GatedRecurrenceOp op) {
      op.emitOpError() << "is not supported on cuda targets yet: its "
                          "lowering loops over time on the host, which the "
                          "launch manifest cannot replay; use --target=cpu";
      return WalkResult::interrupt();
    });
    if (unsupported.wasInterrupted())
      return failure();
    kestrel::CudaPipelineOptions opts;
    opts.chip = target.chip;
    opts.cudaPath = kestrel::resolveCudaPath(cudaPath);
    std::string libdevice = kestrel::libdevicePath(opts.cudaPath);
    if (!llvm::sys::fs::exists(libdevice))
      return fail("libdevice not found at " + libdevice +
                  ": CUDA kernels need the CUDA toolkit's libdevice; pass "
                  "--cuda-path=<toolkit dir> or set CUDA_HOME");
    if (failed(runPipeline(module, [&](OpPassManager &pm) {
          kestrel::buildCudaPipeline(pm, opts);
        })))
      return failure();
    return emitPtx(module, *entries);
  }

  kestrel::CpuPipelineOptions cpuOpts;
  cpuOpts.reference = referenceLowering;
  if (failed(runPipeline(module, [&](OpPassManager &pm) {
        kestrel::buildCpuPipeline(pm, cpuOpts);
      })))
    return failure();
  return emitHost(module, kestrel::formatCpuManifest(*entries));
}

LogicalResult Driver::emitHost(ModuleOp module, StringRef manifest) {
  llvm::LLVMContext llvmCtx;
  std::unique_ptr<llvm::Module> llvmModule =
      kestrel::translateForHost(module, llvmCtx, optLevel);
  if (!llvmModule)
    return failure();
  kestrel::embedManifest(*llvmModule, manifest);

  if (emit == Emit::Llvm) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    return writeText(text);
  }
  if (emit == Emit::Obj) {
    std::string tmp = siblingTemp(outputPath, ".o");
    std::string err = kestrel::emitObject(*llvmModule, tmp, optLevel);
    if (err.empty() && llvm::sys::fs::rename(tmp, outputPath))
      err = "cannot move the object to " + outputPath;
    llvm::sys::fs::remove(tmp);
    return err.empty() ? success() : fail(err);
  }
  // Shared library: object and library both go through temporaries.
  std::string obj = siblingTemp(outputPath, ".o");
  std::string lib = siblingTemp(outputPath, ".so");
  std::string err = kestrel::emitObject(*llvmModule, obj, optLevel);
  if (err.empty())
    err = kestrel::linkSharedLibrary(obj, lib,
                                     kestrel::requiredLibraries(*llvmModule));
  if (err.empty() && llvm::sys::fs::rename(lib, outputPath))
    err = "cannot move the library to " + outputPath;
  llvm::sys::fs::remove(obj);
  llvm::sys::fs::remove(lib);
  return err.empty() ? success() : fail(err);
}

LogicalResult
Driver::emitPtx(ModuleOp module,
                const std::vector<kestrel::EntryPoint> &entries) {
  FailureOr<std::string> ptx = kestrel::extractPTX(module);
  if (failed(ptx))
    return failure();
  if (outputPath == "-")
    return writeText(*ptx);

  std::string manifestFile = manifestPath;
  if (manifestFile.empty()) {
    llvm::SmallString<256> p(outputPath);
    if (llvm::sys::path::extension(p) == ".ptx")
      llvm::sys::path::replace_extension(p, ".manifest");
    else
      p += ".manifest";
    manifestFile = std::string(p);
  }
  FailureOr<std::string> manifest = kestrel::buildCudaManifest(
      module, entries, llvm::sys::path::filename(outputPath), target.chip);
  if (failed(manifest))
    return failure();

  std::string error;
  auto ptxOut = openOutput(outputPath, error);
  if (!ptxOut)
    return fail(error);
  auto manifestOut = openOutput(manifestFile, error);
  if (!manifestOut)
    return fail(error);
  ptxOut->os() << *ptx;
  manifestOut->os() << *manifest;
  ptxOut->keep();
  manifestOut->keep();
  return success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kestrelc: compile a Kestrel model to a CPU library or CUDA PTX\n\n"
      "  kestrelc model.mlir --target=cpu --emit=so -o model.so\n"
      "  kestrelc model.mlir --target=cuda:sm_90a --emit=ptx -o model.ptx\n");

  std::optional<Target> target = parseTarget(targetName);
  if (!target) {
    llvm::errs() << "kestrelc: error: unknown target '" << targetName
                 << "' (expected cpu, cuda:sm_80, cuda:sm_86, cuda:sm_89, "
                    "cuda:sm_90 or cuda:sm_90a)\n";
    return 1;
  }
  Emit emit = emitKind;
  if (emit == Emit::Default)
    emit = target->cuda ? Emit::Ptx : Emit::So;
  bool hostEmit = emit == Emit::Llvm || emit == Emit::Obj || emit == Emit::So;
  if (target->cuda && hostEmit) {
    llvm::errs() << "kestrelc: error: --emit=llvm|obj|so need --target=cpu\n";
    return 1;
  }
  if (!target->cuda && emit == Emit::Ptx) {
    llvm::errs() << "kestrelc: error: --emit=ptx needs a cuda target, e.g. "
                    "--target=cuda:sm_90a\n";
    return 1;
  }
  if (optLevel > 3) {
    llvm::errs() << "kestrelc: error: -O" << optLevel
                 << " is not a level (expected 0 to 3)\n";
    return 1;
  }
  if (StringRef(inputPath).ends_with(".onnx")) {
    llvm::errs() << "kestrelc: error: " << inputPath
                 << ": ONNX input is not supported by this build yet; "
                    "write the model in the kestrel dialect (.mlir)\n";
    return 1;
  }
  if ((emit == Emit::Obj || emit == Emit::So) && outputPath == "-") {
    llvm::errs() << "kestrelc: error: binary output needs -o <path>\n";
    return 1;
  }

  DialectRegistry registry;
  kestrel::registerAllDialects(registry);
  kestrel::registerAllPasses();
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

  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &ctx);
  if (!module)
    return 1;
  Driver driver(ctx, *target, emit);
  return failed(driver.run(*module)) ? 1 : 0;
}
