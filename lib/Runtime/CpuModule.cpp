//===- CpuModule.cpp - dlopen-based loader of compiled libraries ----------===//

#include "kestrel/Runtime/CpuModule.h"
#include "kestrel/Runtime/ElfCheck.h"

#include <array>
#include <dlfcn.h>
#include <utility>

namespace kestrel::rt {

namespace {

/// Calls a `void(void *, ...)` function with `N` pointer arguments.
template <size_t... I>
void callWith(void *fn, void *const *args, std::index_sequence<I...>) {
  using Fn = void (*)(decltype((void)I, static_cast<void *>(nullptr))...);
  reinterpret_cast<Fn>(fn)(args[I]...);
}

constexpr size_t kMaxArgs = 32;

template <size_t... N> constexpr auto makeCallTable(std::index_sequence<N...>) {
  using Caller = void (*)(void *, void *const *);
  return std::array<Caller, sizeof...(N)>{[](void *fn, void *const *args) {
    callWith(fn, args, std::make_index_sequence<N>());
  }...};
}

} // namespace

std::unique_ptr<CpuModule> CpuModule::load(const std::string &path,
                                           std::string &error) {
  // dlopen of a truncated file dies of SIGBUS: check the headers first.
  if (!checkSharedObject(path, error))
    return nullptr;
  std::unique_ptr<CpuModule> m(new CpuModule());
  // A name without a slash would be searched on the library path.
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  m->handle_ = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!m->handle_) {
    error = dlerror();
    return nullptr;
  }
  auto *text = static_cast<const char *>(dlsym(m->handle_, "kestrel_manifest"));
  if (!text) {
    error = path + " has no kestrel_manifest: not built by kestrelc";
    return nullptr;
  }
  if (!parseManifest(text, m->manifest_, error))
    return nullptr;
  if (m->manifest_.kind != "cpu") {
    error = path + " holds a '" + m->manifest_.kind + "' manifest, not 'cpu'";
    return nullptr;
  }
  return m;
}

CpuModule::~CpuModule() {
  if (handle_)
    dlclose(handle_);
}

bool CpuModule::call(const Function &fn, const std::vector<void *> &buffers,
                     std::string &error) const {
  static const auto table =
      makeCallTable(std::make_index_sequence<kMaxArgs + 1>());
  size_t n = fn.inputs.size() + fn.outputs.size();
  if (buffers.size() != n) {
    error = fn.name + " takes " + std::to_string(n) + " buffers, got " +
            std::to_string(buffers.size());
    return false;
  }
  if (n > kMaxArgs) {
    error = fn.name + " has more than " + std::to_string(kMaxArgs) + " buffers";
    return false;
  }
  void *sym = dlsym(handle_, fn.name.c_str());
  if (!sym) {
    error = "library does not export " + fn.name;
    return false;
  }
  table[n](sym, buffers.data());
  return true;
}

} // namespace kestrel::rt
