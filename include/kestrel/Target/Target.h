//===- Target.h - From lowered IR to files on disk ------------*- C++ -*-===//
//
// The last stage of kestrelc: LLVM IR, objects and shared libraries for the
// CPU, PTX and its launch manifest for CUDA. The manifest formats are
// documented in docs/runtime.md; lib/Runtime reads them without LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_TARGET_TARGET_H
#define KESTREL_TARGET_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
class raw_ostream;
} // namespace llvm

namespace kestrel {

/// One tensor crossing the C ABI of a compiled function.
struct TensorSpec {
  std::string dtype;          // f32, f16, bf16, i64, i32, i8, i1
  std::vector<int64_t> shape; // static
};

/// A public function as its caller sees it: `void name(inputs..., outputs...)`
/// with one pointer per tensor.
struct EntryPoint {
  std::string name;
  std::vector<TensorSpec> inputs, outputs;
};

/// Reads the entry points of a tensor-level module (before lowering). Emits
/// an error and fails on a public function the C ABI cannot express.
mlir::FailureOr<std::vector<EntryPoint>>
describeEntryPoints(mlir::ModuleOp module);

/// The `function`/`in`/`out` lines that open an entry point's block in the
/// manifests of docs/runtime.md.
std::string formatEntryPoint(const EntryPoint &entry);

/// The CPU manifest of docs/runtime.md: entry points only.
std::string formatCpuManifest(const std::vector<EntryPoint> &entries);

/// Translates an LLVM-dialect module to LLVM IR tuned for the host CPU and
/// optimized at `optLevel` (0-3). Errors go to the module's diagnostics.
std::unique_ptr<llvm::Module> translateForHost(mlir::ModuleOp module,
                                               llvm::LLVMContext &ctx,
                                               unsigned optLevel);

/// Adds `manifest` to `module` as the NUL-terminated exported global
/// `kestrel_manifest`, so a shared library describes its own entry points.
void embedManifest(llvm::Module &module, llvm::StringRef manifest);

/// Writes a host object file. Returns an error message on failure.
std::string emitObject(llvm::Module &module, llvm::StringRef path,
                       unsigned optLevel);

/// The libraries a host module needs at link time besides libc: libm always,
/// libomp when it calls the OpenMP runtime (`__kmpc_*`).
std::vector<std::string> requiredLibraries(const llvm::Module &module);

/// Links `objectPath` into a shared library with the system C compiler
/// driver, adding `-l<lib>` for each of `libraries`. Returns an error message
/// on failure.
std::string linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef libraryPath,
                              const std::vector<std::string> &libraries);

/// The PTX of the single gpu.binary in a module lowered by the CUDA pipeline.
mlir::FailureOr<std::string> extractPTX(mlir::ModuleOp module);

/// The CUDA manifest and what it says of the weights written beside it.
struct CudaManifest {
  std::string manifest; // the launch manifest's text
  /// Bytes written to the weights stream: every constant the manifest's
  /// `const` buffers name, 64-byte aligned. 0 (and no `weights` line) when
  /// the module uses no constant data.
  uint64_t weightsBytes = 0;
};

/// The CUDA launch manifest: entry points plus, per function, the buffers
/// and the ordered launch/copy steps read off its host code. The constant
/// data it uploads is streamed to `weightsOut`, to be stored as
/// `weightsFile` (named in the manifest relative to the manifest's
/// directory).
mlir::FailureOr<CudaManifest>
buildCudaManifest(mlir::ModuleOp lowered,
                  const std::vector<EntryPoint> &entries,
                  llvm::StringRef ptxFile, llvm::StringRef chip,
                  llvm::StringRef weightsFile, llvm::raw_ostream &weightsOut);

/// FNV-1a, 64 bits: the checksum of the weights file in the manifest.
uint64_t fnv1a64(llvm::StringRef bytes);

} // namespace kestrel

#endif // KESTREL_TARGET_TARGET_H
