//===- CudaCAPI.cpp - C API of the CUDA runtime ---------------------------===//
//
// A thin C layer over CudaModule for language bindings (the Python
// package's kestrel.CudaModule calls it through ctypes with the device
// pointers of torch/CuPy tensors).
//
//===----------------------------------------------------------------------===//

#include "kestrel-c/Runtime.h"

#include "kestrel/Runtime/CudaModule.h"

#include <cstdlib>
#include <cstring>

using namespace kestrel::rt;

struct kestrel_cuda_module {
  std::unique_ptr<CudaModule> module;
};

static void setError(char **error, const std::string &message) {
  if (!error)
    return;
  *error = static_cast<char *>(std::malloc(message.size() + 1));
  std::memcpy(*error, message.c_str(), message.size() + 1);
}

extern "C" kestrel_cuda_module *kestrel_cuda_load(const char *manifest_path,
                                                  int device, char **error) {
  std::string message;
  std::unique_ptr<CudaModule> module =
      CudaModule::load(manifest_path, message, device);
  if (!module) {
    setError(error, message);
    return nullptr;
  }
  return new kestrel_cuda_module{std::move(module)};
}

extern "C" int kestrel_cuda_run(kestrel_cuda_module *handle,
                                const char *function, const uint64_t *buffers,
                                size_t count, char **error) {
  const Function *fn = handle->module->manifest().find(function);
  if (!fn) {
    setError(error, std::string("no function '") + function + "' in module");
    return 1;
  }
  std::vector<DevicePtr> pointers(buffers, buffers + count);
  std::string message;
  if (!handle->module->run(*fn, pointers, message) ||
      !handle->module->synchronize(message)) {
    setError(error, message);
    return 1;
  }
  return 0;
}

extern "C" void kestrel_cuda_unload(kestrel_cuda_module *module) {
  delete module;
}

extern "C" void kestrel_runtime_free(char *text) { std::free(text); }
