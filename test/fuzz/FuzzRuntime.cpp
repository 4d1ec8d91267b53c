//===- FuzzRuntime.cpp - Fuzz the runtime's readers -----------------------===//
//
// The first byte picks the reader, the rest is its input:
//   0: manifest text (parseManifest), then the sizes of what it declares;
//   1: a .npy file read against one of a few expected dtypes and shapes;
//   2: an ELF image checked as a shared library (checkElfImage).
// Rejections are expected; crashes, leaks of sanitizer reports, and
// hangs are bugs. Seeds: scripts/fuzz_corpus.py.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Runtime/ElfCheck.h"
#include "kestrel/Runtime/Manifest.h"
#include "kestrel/Runtime/Npy.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace kestrel::rt;

namespace {

void fuzzManifest(const std::string &text) {
  Manifest m;
  std::string error;
  if (!parseManifest(text, m, error))
    return;
  // Every accepted size must be computable without overflow (UBSan would
  // not flag unsigned wrap-around, so check it here).
  for (const Function &fn : m.functions)
    for (const std::vector<Tensor> *list : {&fn.inputs, &fn.outputs})
      for (const Tensor &t : *list)
        if (t.bytes() > kMaxTensorBytes)
          __builtin_trap();
}

void fuzzNpy(const uint8_t *data, size_t size) {
  static const Tensor specs[] = {
      {"f32", {2, 3}}, {"bf16", {4}}, {"i64", {}}, {"i1", {1, 1, 5}}};
  if (size == 0)
    return;
  const Tensor &spec = specs[data[0] % 4];
  static const std::string path =
      "/tmp/kestrel-fuzz-npy-" + std::to_string(getpid()) + ".npy";
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return;
  std::fwrite(data + 1, 1, size - 1, f);
  std::fclose(f);
  std::vector<char> out;
  std::string error;
  if (readNpy(path, spec, out, error) && out.size() != spec.bytes())
    __builtin_trap();
}

void fuzzElf(const uint8_t *data, size_t size) {
  checkElfImage(size, [&](uint64_t offset, void *dst, size_t n) {
    if (offset > size || n > size - offset)
      return false;
    std::memcpy(dst, data + offset, n);
    return true;
  });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  switch (data[0] % 3) {
  case 0:
    fuzzManifest(
        std::string(reinterpret_cast<const char *>(data + 1), size - 1));
    break;
  case 1:
    fuzzNpy(data + 1, size - 1);
    break;
  default:
    fuzzElf(data + 1, size - 1);
    break;
  }
  return 0;
}
