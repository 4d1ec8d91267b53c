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
#include "llvm/ADT/StringExtras.h"
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

namespace {

bool isIdentChar(char c) {
  return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.' || c == '%' ||
         c == '@' || c == '#' || c == '^' || c == '!';
}

/// At `p` just past a keyword: whitespace, '=', whitespace, '['; returns the
/// position after '[' or null.
const char *listStart(const char *p, const char *end) {
  while (p < end && llvm::isSpace(*p))
    ++p;
  if (p == end || *p != '=')
    return nullptr;
  for (++p; p < end && llvm::isSpace(*p);)
    ++p;
  return p < end && *p == '[' ? p + 1 : nullptr;
}

/// Whether the list after `p` (past '[') holds only elements `element`
/// accepts (it advances `q` over one element), separated by commas.
template <typename Element>
bool wellFormedList(const char *p, const char *end, Element element) {
  auto skip = [&] {
    while (p < end && llvm::isSpace(*p))
      ++p;
  };
  skip();
  if (p < end && *p == ']')
    return true;
  while (p < end) {
    if (!element(p, end))
      return false;
    skip();
    if (p < end && *p == ']')
      return true;
    if (p == end || *p != ',')
      return false;
    ++p;
    skip();
  }
  return false;
}

bool integerElement(const char *&p, const char *end) {
  if (p < end && *p == '-')
    ++p;
  const char *digits = p;
  while (p < end && llvm::isDigit(*p))
    ++p;
  return p > digits;
}

bool iteratorElement(const char *&p, const char *end) {
  if (p < end && *p == '"') {
    for (++p; p < end && *p != '"'; ++p)
      if (*p == '\\')
        ++p;
    if (p == end)
      return false;
    ++p;
    return true;
  }
  llvm::StringRef rest(p, end - p);
  if (!rest.starts_with("#linalg.iterator_type<"))
    return false;
  size_t close = rest.find('>');
  if (close == llvm::StringRef::npos)
    return false;
  p += close + 1;
  return true;
}

} // namespace

/// The first `%name#N` outside string literals and comments whose result
/// number N exceeds kMaxMlirResultNumber; N in `number`.
static const char *hugeResultNumber(StringRef text, uint64_t &number) {
  const char *p = text.begin(), *end = text.end();
  while (p < end) {
    char c = *p;
    if (c == '"') {
      for (++p; p < end && *p != '"'; ++p)
        if (*p == '\\')
          ++p;
    } else if (c == '/' && p + 1 < end && p[1] == '/') {
      while (p < end && *p != '\n')
        ++p;
    } else if (c == '%') {
      const char *at = p++;
      while (p < end && (llvm::isAlnum(*p) || *p == '_' || *p == '$' ||
                         *p == '.' || *p == '-'))
        ++p;
      if (p < end && *p == '#') {
        uint64_t n = 0;
        const char *digits = ++p;
        for (; p < end && llvm::isDigit(*p); ++p)
          n = std::min<uint64_t>(n * 10 + (*p - '0'), UINT32_MAX + 1ull);
        if (p > digits && n > kMaxMlirResultNumber) {
          number = n;
          return at;
        }
      }
      continue;
    }
    ++p;
  }
  return nullptr;
}

const char *findUpstreamParserCrash(StringRef text, std::string &why) {
  const char *begin = text.begin(), *end = text.end();
  uint64_t number = 0;
  if (const char *bad = hugeResultNumber(text, number)) {
    why = "the use of result #" + std::to_string(number) +
          " (at most " + std::to_string(kMaxMlirResultNumber) +
          " accepted: MLIR 22's parser makes room for every result number "
          "below a forward reference's)";
    return bad;
  }
  // Each occurrence of `key` as a word (not part of an identifier).
  auto occurrences = [&](StringRef key, auto fn) -> const char * {
    for (size_t at = text.find(key); at != StringRef::npos;
         at = text.find(key, at + 1)) {
      const char *p = begin + at;
      if ((p > begin && isIdentChar(p[-1])) ||
          (p + key.size() < end && isIdentChar(p[key.size()])))
        continue;
      if (fn(p, p + key.size()))
        return p;
    }
    return nullptr;
  };
  if (text.contains("linalg.generic"))
    if (const char *bad = occurrences(
            "iterator_types", [&](const char *, const char *after) {
              const char *list = listStart(after, end);
              return list && !wellFormedList(list, end, iteratorElement);
            })) {
      why = "linalg.generic's iterator_types list holds something other "
            "than iterator type strings";
      return bad;
    }
  if (text.contains("linalg.transpose") || text.contains("linalg.broadcast"))
    for (StringRef key : {"permutation", "dimensions"})
      if (const char *bad =
              occurrences(key, [&](const char *, const char *after) {
                const char *list = listStart(after, end);
                return !list || !wellFormedList(list, end, integerElement);
              })) {
        why = ("linalg.transpose / linalg.broadcast whose " + key +
               " is not a list of integers")
                  .str();
        return bad;
      }
  return nullptr;
}

} // namespace kestrel
