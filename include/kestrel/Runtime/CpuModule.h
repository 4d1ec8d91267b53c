//===- CpuModule.h - Loading and calling compiled CPU libraries -*- C++ -*-===//
//
// A shared library made by `kestrelc --target=cpu --emit=so` exports
// `void f(T *in..., T *out...)` per function and the `kestrel_manifest`
// string that describes them. CpuModule opens one and calls its functions.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_RUNTIME_CPUMODULE_H
#define KESTREL_RUNTIME_CPUMODULE_H

#include "kestrel/Runtime/Manifest.h"

#include <memory>
#include <string>
#include <vector>

namespace kestrel::rt {

class CpuModule {
public:
  /// Opens `path`; returns null and sets `error` if it is not a Kestrel
  /// library.
  static std::unique_ptr<CpuModule> load(const std::string &path,
                                         std::string &error);
  ~CpuModule();

  const Manifest &manifest() const { return manifest_; }

  /// Calls `fn` with one pointer per input, then per output.
  bool call(const Function &fn, const std::vector<void *> &buffers,
            std::string &error) const;

private:
  CpuModule() = default;
  void *handle_ = nullptr;
  Manifest manifest_;
};

} // namespace kestrel::rt

#endif // KESTREL_RUNTIME_CPUMODULE_H
