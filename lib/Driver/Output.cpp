//===- Output.cpp - Output files and input checks of the drivers ---------===//
//
// AtomicOutput: a temporary file beside the output, renamed into place on
// success (TempFile removes it on SIGINT/SIGTERM and on failure), and the
// bracket-nesting pre-scan of MLIR inputs (docs/cli.md).
//
//===----------------------------------------------------------------------===//

#include "kestrel/Driver/Output.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"

using namespace llvm;

namespace kestrel {

std::unique_ptr<AtomicOutput> AtomicOutput::open(StringRef path,
                                                 std::string &error) {
  auto out = std::unique_ptr<AtomicOutput>(new AtomicOutput());
  out->path = path.str();
  if (path == "-") {
    out->stdoutFile = mlir::openOutputFile(path, &error);
    return out->stdoutFile ? std::move(out) : nullptr;
  }
  llvm::SmallString<256> model(path);
  model += ".tmp-%%%%%%";
  auto temp = llvm::sys::fs::TempFile::create(model);
  if (!temp) {
    error = "cannot create a temporary file beside " + path.str() + ": " +
            llvm::toString(temp.takeError());
    return nullptr;
  }
  out->temp.emplace(std::move(*temp));
  out->stream = std::make_unique<llvm::raw_fd_ostream>(out->temp->FD,
                                                       /*shouldClose=*/false);
  return out;
}

AtomicOutput::~AtomicOutput() {
  // The stream goes first: it must not flush into a discarded file.
  if (stream) {
    stream->flush();
    stream->clear_error();
    stream.reset();
  }
  if (temp)
    consumeError(temp->discard());
}

bool AtomicOutput::keep(std::string &error) {
  if (stdoutFile) {
    stdoutFile->keep();
    return true;
  }
  stream->flush();
  if (stream->has_error()) {
    error = "cannot write " + path + ": " + stream->error().message();
    return false; // the destructor removes the temporary
  }
  stream.reset();
  llvm::Error e = temp->keep(path);
  temp.reset();
  if (e) {
    error = "cannot write " + path + ": " + llvm::toString(std::move(e));
    return false;
  }
  return true;
}

const char *findExcessiveNesting(StringRef text, unsigned maxDepth) {
  unsigned depth = 0;
  const char *p = text.begin(), *end = text.end();
  while (p < end) {
    char c = *p;
    if (c == '"') { // string literal, with escapes
      for (++p; p < end && *p != '"'; ++p)
        if (*p == '\\')
          ++p;
    } else if (c == '/' && p + 1 < end && p[1] == '/') { // comment
      while (p < end && *p != '\n')
        ++p;
    } else if (c == '[' || c == '(' || c == '{') {
      if (++depth > maxDepth)
        return p;
    } else if ((c == ']' || c == ')' || c == '}') && depth > 0) {
      --depth;
    }
    ++p;
  }
  return nullptr;
}

} // namespace kestrel
