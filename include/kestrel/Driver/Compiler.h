//===- Compiler.h - Compile a parsed module to an artifact ------*- C++ -*-===//
//
// What kestrelc does once it has parsed its input, as a library: run the
// target's pipeline and write the requested artifact (MLIR, LLVM IR, object,
// shared library, PTX + manifest) without ever leaving a partial file. Used
// by kestrelc and by the C API behind the Python package.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DRIVER_COMPILER_H
#define KESTREL_DRIVER_COMPILER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace kestrel {

enum class EmitKind { Mlir, Llvm, Obj, So, Ptx };

struct CompileOptions {
  /// "cpu", or "cuda:sm_80" ... "cuda:sm_90a".
  std::string target = "cpu";
  /// Defaults to So for cpu and Ptx for cuda.
  std::optional<EmitKind> emit;
  unsigned optLevel = 3;
  /// cpu: the naive reference lowering only.
  bool referenceLowering = false;
  /// cuda: operand precision of f32 contractions ("f32", "tf32", "bf16",
  /// "f16"; see kestrel-gpu-gemm).
  std::string precision = "f32";
  /// cuda: toolkit with libdevice ("" = resolveCudaPath's default).
  std::string cudaPath;
  /// The input file, so that -o / --manifest cannot overwrite it.
  std::string inputPath;
  /// cuda: manifest path ("" = the PTX path with .ptx -> .manifest).
  std::string manifestPath;
  /// A textual pass pipeline run after the high-level stage (e.g. the
  /// passes of a plugin), or "".
  std::string extraPasses;
  /// false: skip kestrel-recognize; with EmitKind::Mlir the module is
  /// printed as it came in (the plain import of an ONNX model). Only with
  /// EmitKind::Mlir: the target pipelines always recognize.
  bool recognize = true;
  bool printIRAfterAll = false;
  bool timing = false;
  /// Write the compile report (include/kestrel/Driver/Report.h) to
  /// `reportPath`: "" for stderr, "-" for stdout, else a file. Written after
  /// the pipeline, on failure too (then with what was refused).
  bool report = false;
  std::string reportPath;
};

/// Parses an --emit value ("mlir", "llvm", "obj", "so", "ptx").
std::optional<EmitKind> parseEmitKind(llvm::StringRef name);

/// Checks the option combination before any work; returns "" or a message.
std::string validateOptions(const CompileOptions &options,
                            llvm::StringRef outputPath);

/// Compiles `module` and writes `outputPath` ("-" for stdout, text only).
/// Errors are reported as diagnostics on the module's context.
mlir::LogicalResult compile(mlir::ModuleOp module,
                            const CompileOptions &options,
                            llvm::StringRef outputPath);

} // namespace kestrel

#endif // KESTREL_DRIVER_COMPILER_H
