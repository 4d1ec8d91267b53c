//===- Output.h - Output files and input checks of the drivers --*- C++ -*-===//
//
// Shared by kestrelc (lib/Driver/Compiler.cpp) and kestrel-opt: outputs that
// appear only complete, and the pre-parse check of an MLIR input's nesting.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DRIVER_OUTPUT_H
#define KESTREL_DRIVER_OUTPUT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>

namespace kestrel {

/// An output written to a temporary file beside `path` (same file system)
/// and renamed into place only by keep(): a failure, an interrupt (SIGINT,
/// SIGTERM: the temporary is removed on signal) or a kill never leaves a
/// partial `path`. "-" is stdout.
class AtomicOutput {
public:
  static std::unique_ptr<AtomicOutput> open(llvm::StringRef path,
                                            std::string &error);
  ~AtomicOutput();
  llvm::raw_ostream &os() { return stdoutFile ? stdoutFile->os() : *stream; }
  /// Moves the file into place; false (and the temporary removed) on error.
  bool keep(std::string &error);

private:
  AtomicOutput() = default;
  std::string path;
  std::optional<llvm::sys::fs::TempFile> temp;
  std::unique_ptr<llvm::raw_fd_ostream> stream;
  std::unique_ptr<llvm::ToolOutputFile> stdoutFile;
};

/// Most brackets ([, (, {) an MLIR input may nest: the MLIR parser recurses
/// once per level, and a deeper input would overflow the stack.
constexpr unsigned kMaxMlirNesting = 1000;
/// The largest result number `%name#N` accepted in MLIR text.
constexpr uint64_t kMaxMlirResultNumber = 1 << 20;

/// The first bracket of `text` nested deeper than `maxDepth` outside string
/// literals and comments, or null.
const char *findExcessiveNesting(llvm::StringRef text,
                                 unsigned maxDepth = kMaxMlirNesting);

/// Where `text` would reach a known crash of upstream MLIR 22's custom
/// parsers (found by the fuzzers), or null; `why` then says which. The
/// checks accept every well-formed use:
///  - linalg.generic's `iterator_types = [...]` with an element other than a
///    string literal or #linalg.iterator_type<...> (the parser reads each
///    element as a string unchecked);
///  - linalg.transpose / linalg.broadcast whose `permutation = [...]` /
///    `dimensions = [...]` is not a list of integers, or whose keyword has
///    no list (a null attribute is added after the parse error);
///  - a use `%name#N` with N above kMaxMlirResultNumber (the parser resizes
///    a forward reference's result list to N + 1 entries: 7 GB for
///    `%v#444444444`).
const char *findUpstreamParserCrash(llvm::StringRef text, std::string &why);

} // namespace kestrel

#endif // KESTREL_DRIVER_OUTPUT_H
