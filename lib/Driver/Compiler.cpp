//===- Compiler.cpp - From a parsed module to files on disk ---------------===//
//
// The body of kestrelc: runs the target's pipeline on a parsed module and
// writes the artifact. Outputs go through temporary files renamed into place
// only on success, so a failure never leaves a partial file behind.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Driver/Compiler.h"
#include "kestrel/Driver/Output.h"
#include "kestrel/Driver/Report.h"

#include "dialects/Kestrel.h"
#include "kestrel/Pipeline/Pipelines.h"
#include "kestrel/Target/Target.h"
#include "passes/CUDA/RecurrenceKernels.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace kestrel {

namespace {

struct Target {
  bool cuda = false;
  std::string chip; // sm_XX for cuda
};

std::optional<Target> parseTarget(StringRef name) {
  if (name == "cpu")
    return Target{};
  if (!name.consume_front("cuda:"))
    return std::nullopt;
  if (!isSupportedCudaChip(name))
    return std::nullopt;
  return Target{true, name.str()};
}

std::unique_ptr<AtomicOutput> openOutput(StringRef path, std::string &error) {
  return AtomicOutput::open(path, error);
}

/// A temporary path next to `path` (same file system, so rename is atomic).
std::string siblingTemp(StringRef path, StringRef suffix) {
  llvm::SmallString<256> model(path);
  model += ".tmp-%%%%%%";
  model += suffix;
  llvm::SmallString<256> out;
  llvm::sys::fs::createUniquePath(model, out, /*MakeAbsolute=*/false);
  // Removed if kestrelc is interrupted while writing it.
  llvm::sys::RemoveFileOnSignal(out);
  return std::string(out);
}

/// A file stream that creates its file on the first write, so a module
/// without constant data leaves no weights file (not even a temporary one).
class LazyFileStream : public llvm::raw_ostream {
public:
  explicit LazyFileStream(std::string path) : path(std::move(path)) {
    SetUnbuffered();
  }
  ~LazyFileStream() override {
    if (file)
      file->clear_error(); // reported by finish(), not as a fatal error
  }
  /// Closes the file; the first error of opening, writing or closing it.
  std::error_code finish() {
    if (file && !ec) {
      file->close();
      if (file->has_error())
        ec = file->error();
      file->clear_error();
    }
    return ec;
  }
  uint64_t bytes() const { return pos; }

private:
  void write_impl(const char *ptr, size_t size) override {
    if (!file && !ec) {
      file = std::make_unique<llvm::raw_fd_ostream>(path, ec,
                                                    llvm::sys::fs::OF_None);
      if (ec)
        file.reset();
    }
    if (file)
      file->write(ptr, size);
    pos += size;
  }
  uint64_t current_pos() const override { return pos; }

  std::string path;
  std::unique_ptr<llvm::raw_fd_ostream> file;
  std::error_code ec;
  uint64_t pos = 0;
};

class Driver {
public:
  Driver(MLIRContext &ctx, Target target, EmitKind emit,
         const CompileOptions &opts, StringRef outputPath,
         CompileReport *report)
      : ctx(ctx), target(std::move(target)), emit(emit), opts(opts),
        outputPath(outputPath.str()), report(report) {}

  LogicalResult run(ModuleOp module);

private:
  LogicalResult runPipeline(ModuleOp module,
                            function_ref<void(OpPassManager &)> build);
  LogicalResult writeText(StringRef text);
  LogicalResult emitHost(ModuleOp module, StringRef manifest);
  LogicalResult emitPtx(ModuleOp module,
                        const std::vector<EntryPoint> &entries);
  LogicalResult fail(const Twine &message) {
    emitError(UnknownLoc::get(&ctx)) << message;
    return failure();
  }

  MLIRContext &ctx;
  Target target;
  EmitKind emit;
  const CompileOptions &opts;
  std::string outputPath;
  CompileReport *report;
};

LogicalResult Driver::runPipeline(ModuleOp module,
                                  function_ref<void(OpPassManager &)> build) {
  PassManager pm(&ctx);
  // User passes (e.g. from a plugin) run first, on the input as written.
  if (!opts.extraPasses.empty()) {
    std::string error;
    llvm::raw_string_ostream os(error);
    if (failed(parsePassPipeline(opts.extraPasses, pm, os)))
      return fail("invalid --extra-passes pipeline '" + opts.extraPasses +
                  "': " + error);
  }
  build(pm);
  if (opts.printIRAfterAll)
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/[](Pass *, Operation *) { return false; },
        /*shouldPrintAfterPass=*/[](Pass *, Operation *) { return true; },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  // The report goes to stderr when the pass manager is destroyed.
  if (opts.timing)
    pm.enableTiming();
  if (report)
    report->instrument(pm);
  return pm.run(module);
}

LogicalResult Driver::writeText(StringRef text) {
  std::string error;
  auto out = openOutput(outputPath, error);
  if (!out)
    return fail(error);
  out->os() << text;
  return out->keep(error) ? success() : fail(error);
}

LogicalResult Driver::run(ModuleOp module) {
  FailureOr<std::vector<EntryPoint>> entries = describeEntryPoints(module);
  if (emit != EmitKind::Mlir && failed(entries))
    return failure();

  if (emit == EmitKind::Mlir) {
    if (opts.recognize && failed(runPipeline(module, [](OpPassManager &pm) {
          buildHighLevelPipeline(pm);
        })))
      return failure();
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    return writeText(text);
  }

  if (target.cuda) {
    // kestrel-gpu-recurrence turns static recurrences and selective scans
    // into kernels that loop over time on the device. Their reference
    // lowerings are an scf.for over time on the host around per-step
    // parallel loops; the launch manifest only replays straight-line copies
    // and launches, so refuse what the kernels do not cover here with a
    // reason instead of failing later without one.
    bool reference = opts.referenceLowering;
    WalkResult unsupported = module.walk([reference](Operation *op) {
      if (isa<GatedRecurrenceOp, SelectiveScanOp>(op)) {
        std::string why = reference ? "--reference-lowering"
                                    : cuda::unsupportedRecurrence(op);
        if (why.empty())
          return WalkResult::advance();
        op->emitOpError() << "is not supported on cuda targets with " << why
                          << ": its reference lowering loops over time on "
                             "the host, which the launch manifest cannot "
                             "replay; use --target=cpu";
        return WalkResult::interrupt();
      }
      // kestrel-gpu-decode-attention turns kv_append into a copy and a
      // scatter kernel (f16/bf16/f32); the reference lowering loops over
      // the appended tokens on the host.
      if (auto append = dyn_cast<KVAppendOp>(op)) {
        Type elem = append.getCache().getType().getElementType();
        bool kernel = elem.isF16() || elem.isBF16() || elem.isF32();
        if (!reference && kernel)
          return WalkResult::advance();
        op->emitOpError() << "is not supported on cuda targets "
                          << (reference ? "with --reference-lowering"
                                        : "for this element type")
                          << ": its reference lowering loops over the "
                             "appended tokens on the host, which the launch "
                             "manifest cannot replay; use --target=cpu";
        return WalkResult::interrupt();
      }
      if (isa<QuantizedAttentionOp>(op)) {
        op->emitOpError() << "is not supported on cuda targets yet: its "
                             "lowering leaves reshapes of buffers on the "
                             "host, which the launch manifest cannot "
                             "replay; use --target=cpu";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (unsupported.wasInterrupted())
      return failure();
    CudaPipelineOptions cudaOpts;
    cudaOpts.chip = target.chip;
    cudaOpts.reference = opts.referenceLowering;
    cudaOpts.precision = opts.precision;
    cudaOpts.cudaPath = resolveCudaPath(opts.cudaPath);
    std::string libdevice = libdevicePath(cudaOpts.cudaPath);
    if (!llvm::sys::fs::exists(libdevice))
      return fail("libdevice not found at " + libdevice +
                  ": CUDA kernels need the CUDA toolkit's libdevice; pass "
                  "--cuda-path=<toolkit dir> or set CUDA_HOME");
    if (failed(runPipeline(module, [&](OpPassManager &pm) {
          buildCudaPipeline(pm, cudaOpts);
        })))
      return failure();
    return emitPtx(module, *entries);
  }

  CpuPipelineOptions cpuOpts;
  cpuOpts.reference = opts.referenceLowering;
  if (failed(runPipeline(
          module, [&](OpPassManager &pm) { buildCpuPipeline(pm, cpuOpts); })))
    return failure();
  return emitHost(module, formatCpuManifest(*entries));
}

LogicalResult Driver::emitHost(ModuleOp module, StringRef manifest) {
  llvm::LLVMContext llvmCtx;
  std::unique_ptr<llvm::Module> llvmModule =
      translateForHost(module, llvmCtx, opts.optLevel);
  if (!llvmModule)
    return failure();
  embedManifest(*llvmModule, manifest);

  if (emit == EmitKind::Llvm) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    return writeText(text);
  }
  if (emit == EmitKind::Obj) {
    std::string tmp = siblingTemp(outputPath, ".o");
    std::string err = emitObject(*llvmModule, tmp, opts.optLevel);
    if (err.empty() && llvm::sys::fs::rename(tmp, outputPath))
      err = "cannot move the object to " + outputPath;
    llvm::sys::fs::remove(tmp);
    return err.empty() ? success() : fail(err);
  }
  // Shared library: object and library both go through temporaries.
  std::string obj = siblingTemp(outputPath, ".o");
  std::string lib = siblingTemp(outputPath, ".so");
  std::string err = emitObject(*llvmModule, obj, opts.optLevel);
  if (err.empty())
    err = linkSharedLibrary(obj, lib, requiredLibraries(*llvmModule));
  if (err.empty() && llvm::sys::fs::rename(lib, outputPath))
    err = "cannot move the library to " + outputPath;
  llvm::sys::fs::remove(obj);
  llvm::sys::fs::remove(lib);
  return err.empty() ? success() : fail(err);
}

LogicalResult Driver::emitPtx(ModuleOp module,
                              const std::vector<EntryPoint> &entries) {
  FailureOr<std::string> ptx = extractPTX(module);
  if (failed(ptx))
    return failure();
  if (outputPath == "-")
    return writeText(*ptx);

  std::string manifestFile = opts.manifestPath;
  if (manifestFile.empty()) {
    llvm::SmallString<256> p(outputPath);
    if (llvm::sys::path::extension(p) == ".ptx")
      llvm::sys::path::replace_extension(p, ".manifest");
    else
      p += ".manifest";
    manifestFile = std::string(p);
  }
  // Constant data goes to a sidecar beside the PTX: m.ptx -> m.weights.
  llvm::SmallString<256> weightsFile(outputPath);
  if (llvm::sys::path::extension(weightsFile) == ".ptx")
    llvm::sys::path::replace_extension(weightsFile, ".weights");
  else
    weightsFile += ".weights";
  // The weights stream into a temporary file, renamed into place before the
  // manifest that names them is kept: a failure leaves neither, and a kept
  // manifest never names a missing or partial weights file.
  std::string weightsTmp = siblingTemp(weightsFile, ".weights");
  llvm::scope_exit dropWeights([&] { llvm::sys::fs::remove(weightsTmp); });
  LazyFileStream weightsOut(weightsTmp);
  FailureOr<CudaManifest> manifest = buildCudaManifest(
      module, entries, llvm::sys::path::filename(outputPath), target.chip,
      llvm::sys::path::filename(weightsFile), weightsOut);
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
  manifestOut->os() << manifest->manifest;
  std::error_code ec = weightsOut.finish();
  if (!ec && manifest->weightsBytes > 0)
    ec = llvm::sys::fs::rename(weightsTmp, weightsFile);
  if (ec)
    return fail("cannot write the weights file " + weightsFile + ": " +
                ec.message());
  if (!ptxOut->keep(error) || !manifestOut->keep(error))
    return fail(error);
  return success();
}

} // namespace

std::optional<EmitKind> parseEmitKind(StringRef name) {
  return llvm::StringSwitch<std::optional<EmitKind>>(name)
      .Case("mlir", EmitKind::Mlir)
      .Case("llvm", EmitKind::Llvm)
      .Case("obj", EmitKind::Obj)
      .Case("so", EmitKind::So)
      .Case("ptx", EmitKind::Ptx)
      .Default(std::nullopt);
}

std::string validateOptions(const CompileOptions &opts, StringRef outputPath) {
  std::optional<Target> target = parseTarget(opts.target);
  if (!target)
    return "unknown target '" + opts.target +
           "' (expected cpu or cuda:CHIP, "
           "CHIP one of " +
           supportedCudaChips() + ")";
  EmitKind emit =
      opts.emit.value_or(target->cuda ? EmitKind::Ptx : EmitKind::So);
  bool hostEmit =
      emit == EmitKind::Llvm || emit == EmitKind::Obj || emit == EmitKind::So;
  if (target->cuda && hostEmit)
    return "--emit=llvm|obj|so need --target=cpu";
  if (!target->cuda && emit == EmitKind::Ptx)
    return "--emit=ptx needs a cuda target, e.g. --target=cuda:sm_90a";
  if ((emit == EmitKind::Obj || emit == EmitKind::So) && outputPath == "-")
    return "binary output needs -o <path>";
  if (!opts.recognize && emit != EmitKind::Mlir)
    return "--no-recognize needs --emit=mlir (the target pipelines always "
           "run kestrel-recognize)";
  if (opts.precision != "f32" && opts.precision != "tf32" &&
      opts.precision != "bf16" && opts.precision != "f16")
    return "unknown precision '" + opts.precision +
           "' (expected f32, tf32, bf16 or f16)";
  if (!target->cuda && opts.precision != "f32")
    return "--precision=" + opts.precision + " needs a cuda target";
  if (opts.optLevel > 3)
    return "-O" + std::to_string(opts.optLevel) +
           " is not a level (expected 0 to 3)";
  if (outputPath != "-" && llvm::sys::fs::exists(outputPath) &&
      !opts.inputPath.empty() && opts.inputPath != "-" &&
      llvm::sys::fs::equivalent(opts.inputPath, outputPath))
    return "the output -o " + outputPath.str() +
           " is the input file: it would be overwritten";
  if (!opts.manifestPath.empty() && !opts.inputPath.empty() &&
      llvm::sys::fs::exists(opts.manifestPath) &&
      llvm::sys::fs::equivalent(opts.inputPath, opts.manifestPath))
    return "the --manifest " + opts.manifestPath +
           " is the input file: it would be overwritten";
  return "";
}

LogicalResult compile(ModuleOp module, const CompileOptions &opts,
                      StringRef outputPath) {
  MLIRContext &ctx = *module.getContext();
  if (std::string error = validateOptions(opts, outputPath); !error.empty())
    return emitError(UnknownLoc::get(&ctx)) << error;
  Target target = *parseTarget(opts.target);
  EmitKind emit =
      opts.emit.value_or(target.cuda ? EmitKind::Ptx : EmitKind::So);
  if (!opts.report)
    return Driver(ctx, target, emit, opts, outputPath, nullptr).run(module);

  CompileReport report(opts.target, opts.precision, opts.referenceLowering);
  LogicalResult result = success();
  {
    // Errors are recorded as refusals and still reported as usual.
    ScopedDiagnosticHandler refusals(&ctx, [&](Diagnostic &d) {
      report.addRefusal(d);
      return failure();
    });
    result = Driver(ctx, target, emit, opts, outputPath, &report).run(module);
  }
  if (opts.reportPath.empty()) {
    report.print(llvm::errs());
    return result;
  }
  std::string error;
  auto out = AtomicOutput::open(opts.reportPath, error);
  if (out) {
    report.print(out->os());
    if (out->keep(error))
      return result;
  }
  return emitError(UnknownLoc::get(&ctx))
         << "cannot write the report " << opts.reportPath << ": " << error;
}

} // namespace kestrel
