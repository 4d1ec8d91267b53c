//===- HostCode.cpp - LLVM IR, objects and shared libraries for the CPU ---===//
//
// Translates the LLVM dialect to LLVM IR for the host (its triple, CPU name
// and features, so vector code uses AVX2/AVX-512 where present), optimizes
// it with LLVM's default pipeline, and writes objects and shared libraries.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Target/Target.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

namespace kestrel {

static std::unique_ptr<llvm::TargetMachine>
createHostMachine(unsigned optLevel, std::string &err) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return nullptr;
  llvm::SubtargetFeatures features;
  for (const auto &[name, enabled] : llvm::sys::getHostCPUFeatures())
    features.AddFeature(name, enabled);
  llvm::TargetOptions options;
  auto level = static_cast<llvm::CodeGenOptLevel>(std::min(optLevel, 3u));
  // Position-independent code: objects may go into shared libraries.
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), options,
      llvm::Reloc::PIC_, std::nullopt, level));
}

std::unique_ptr<llvm::Module>
translateForHost(ModuleOp module, llvm::LLVMContext &ctx, unsigned optLevel) {
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, ctx);
  if (!llvmModule) {
    module.emitError("translation to LLVM IR failed");
    return nullptr;
  }
  std::string err;
  std::unique_ptr<llvm::TargetMachine> tm = createHostMachine(optLevel, err);
  if (!tm) {
    module.emitError("no host target machine: ") << err;
    return nullptr;
  }
  llvmModule->setTargetTriple(tm->getTargetTriple());
  llvmModule->setDataLayout(tm->createDataLayout());
  // Every function gets the host CPU so the vectorizers use its full ISA.
  for (llvm::Function &fn : *llvmModule) {
    if (fn.isDeclaration())
      continue;
    fn.addFnAttr("target-cpu", tm->getTargetCPU());
    fn.addFnAttr("target-features", tm->getTargetFeatureString());
  }
  if (optLevel == 0)
    return llvmModule;

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm.get());
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel == 1   ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  pb.buildPerModuleDefaultPipeline(level).run(*llvmModule, mam);
  return llvmModule;
}

void embedManifest(llvm::Module &module, llvm::StringRef manifest) {
  llvm::Constant *text = llvm::ConstantDataArray::getString(
      module.getContext(), manifest, /*AddNull=*/true);
  auto *global = new llvm::GlobalVariable(
      module, text->getType(), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage, text, "kestrel_manifest");
  global->setVisibility(llvm::GlobalValue::DefaultVisibility);
}

std::string emitObject(llvm::Module &module, llvm::StringRef path,
                       unsigned optLevel) {
  std::string err;
  std::unique_ptr<llvm::TargetMachine> tm = createHostMachine(optLevel, err);
  if (!tm)
    return "no host target machine: " + err;
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return "cannot open " + path.str() + ": " + ec.message();
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, out.os(), nullptr,
                              llvm::CodeGenFileType::ObjectFile))
    return "the host target cannot emit object files";
  pm.run(module);
  out.os().flush();
  if (out.os().has_error())
    return "error writing " + path.str();
  out.keep();
  return "";
}

std::vector<std::string> requiredLibraries(const llvm::Module &module) {
  std::vector<std::string> libs = {"m"};
  for (const llvm::Function &fn : module)
    if (fn.isDeclaration() && fn.getName().starts_with("__kmpc_")) {
      libs.push_back("omp");
      break;
    }
  return libs;
}

std::string linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef libraryPath,
                              const std::vector<std::string> &libraries) {
  // Prefer the C compiler the user points at, then the usual names.
  std::vector<std::string> candidates;
  if (const char *cc = std::getenv("CC"))
    candidates.push_back(cc);
  candidates.insert(candidates.end(), {"cc", "clang-22", "clang", "gcc"});
  std::string driver;
  for (const std::string &c : candidates)
    if (auto found = llvm::sys::findProgramByName(c)) {
      driver = *found;
      break;
    }
  if (driver.empty())
    return "no C compiler driver (cc, clang, gcc) found to link a shared "
           "library; set CC";
  std::vector<std::string> flags;
  for (const std::string &lib : libraries)
    flags.push_back("-l" + lib);
  // --no-undefined: a symbol nothing provides (a runtime helper the
  // lowering called) fails here, not when the library is loaded.
  llvm::SmallVector<llvm::StringRef> args = {
      driver, "-shared", "-Wl,--no-undefined", "-o", libraryPath, objectPath};
  args.append(flags.begin(), flags.end());
  std::string errMsg;
  int rc =
      llvm::sys::ExecuteAndWait(driver, args, std::nullopt, {}, 0, 0, &errMsg);
  if (rc != 0)
    return "linking " + libraryPath.str() + " with " + driver + " failed" +
           (errMsg.empty() ? "" : ": " + errMsg);
  return "";
}

} // namespace kestrel
