//===- MockCuda.cpp - A stand-in libcuda.so.1 for GPU-less tests ----------===//
//
// Built as libcuda.so.1 for lit only: CudaModule dlopens the driver, so
// pointing LD_LIBRARY_PATH here lets CI exercise everything CudaModule does
// around the GPU (symbol lookup, manifest replay, parameter marshalling,
// copies, timing) without one. Device memory is host memory; kernels are not
// run but logged to stderr with their decoded parameters, which the PTX's
// `.entry` declaration sizes. Defining the functions under cuda.h's own
// prototypes makes them export the versioned names the real driver does.
//
//===----------------------------------------------------------------------===//

#include <cuda.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {
std::string ptx;
std::vector<std::string> kernelNames;
std::map<CUdeviceptr, int> allocations; // pointer -> allocation number
int nextAllocation = 0;
bool initialized = false;

/// Parameter widths in bytes of `.entry name(...)` in the loaded PTX.
std::vector<int> paramWidths(const std::string &name) {
  std::vector<int> widths;
  size_t at = ptx.find(".entry " + name + "(");
  if (at == std::string::npos)
    return widths;
  size_t end = ptx.find(')', at);
  std::istringstream list(ptx.substr(at, end - at));
  std::string word;
  while (list >> word)
    if (word == ".u64" || word == ".b64" || word == ".s64")
      widths.push_back(8);
    else if (word == ".u32" || word == ".b32" || word == ".s32" ||
             word == ".f32")
      widths.push_back(4);
  return widths;
}
} // namespace

extern "C" {

CUresult CUDAAPI cuInit(unsigned int) {
  initialized = true;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGetErrorString(CUresult r, const char **s) {
  *s = r == CUDA_ERROR_INVALID_VALUE ? "invalid argument (mock)" : "mock error";
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetCount(int *n) {
  // MOCK_CUDA_DEVICES=0 plays a machine with a driver and no GPU.
  const char *env = std::getenv("MOCK_CUDA_DEVICES");
  *n = env ? std::atoi(env) : 1;
  return initialized ? CUDA_SUCCESS : CUDA_ERROR_NOT_INITIALIZED;
}
CUresult CUDAAPI cuDeviceGet(CUdevice *d, int i) {
  return *d = i, CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetName(char *name, int len, CUdevice) {
  std::snprintf(name, len, "Mock GPU");
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice) {
  static int ctx;
  *c = reinterpret_cast<CUcontext>(&ctx);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuCtxSetCurrent(CUcontext) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuModuleLoadDataEx(CUmodule *m, const void *image, unsigned,
                                    CUjit_option *, void **) {
  ptx = static_cast<const char *>(image);
  std::fprintf(stderr, "mock: module of %zu bytes\n", ptx.size());
  static int mod;
  *m = reinterpret_cast<CUmodule>(&mod);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuModuleUnload(CUmodule) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuModuleGetFunction(CUfunction *f, CUmodule, const char *n) {
  if (ptx.find(".entry " + std::string(n) + "(") == std::string::npos)
    return CUDA_ERROR_NOT_FOUND;
  kernelNames.push_back(n);
  *f = reinterpret_cast<CUfunction>(kernelNames.size());
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuFuncSetAttribute(CUfunction, CUfunction_attribute, int v) {
  std::fprintf(stderr, "mock: shared memory limit %d\n", v);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy,
                                unsigned gz, unsigned bx, unsigned by,
                                unsigned bz, unsigned smem, CUstream,
                                void **params, void **) {
  const std::string &name = kernelNames.at(reinterpret_cast<size_t>(f) - 1);
  std::fprintf(stderr, "mock: launch %s grid %u %u %u block %u %u %u smem %u",
               name.c_str(), gx, gy, gz, bx, by, bz, smem);
  std::vector<int> widths = paramWidths(name);
  for (size_t i = 0; i < widths.size(); ++i) {
    if (widths[i] == 4) {
      uint32_t v;
      std::memcpy(&v, params[i], 4);
      std::fprintf(stderr, " u32:0x%08x", v);
      continue;
    }
    uint64_t v;
    std::memcpy(&v, params[i], 8);
    auto it = allocations.find(v);
    if (it != allocations.end())
      std::fprintf(stderr, " alloc%d", it->second);
    else
      std::fprintf(stderr, " u64:%llu", static_cast<unsigned long long>(v));
  }
  std::fprintf(stderr, "\n");
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemAlloc(CUdeviceptr *p, size_t bytes) {
  if (const char *limit = std::getenv("MOCK_CUDA_MAX_ALLOC"))
    if (bytes > std::strtoull(limit, nullptr, 10))
      return CUDA_ERROR_OUT_OF_MEMORY;
  *p = reinterpret_cast<CUdeviceptr>(std::malloc(bytes));
  allocations[*p] = nextAllocation++;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemFree(CUdeviceptr p) {
  allocations.erase(p);
  std::free(reinterpret_cast<void *>(p));
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyHtoD(CUdeviceptr d, const void *s, size_t n) {
  std::memcpy(reinterpret_cast<void *>(d), s, n);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyHtoDAsync(CUdeviceptr d, const void *s, size_t n,
                                   CUstream) {
  std::memcpy(reinterpret_cast<void *>(d), s, n);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyDtoH(void *d, CUdeviceptr s, size_t n) {
  std::memcpy(d, reinterpret_cast<void *>(s), n);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s, size_t n,
                                   CUstream) {
  std::fprintf(stderr, "mock: copy alloc%d -> alloc%d, %zu bytes\n",
               allocations.count(s) ? allocations[s] : -1,
               allocations.count(d) ? allocations[d] : -1, n);
  std::memcpy(reinterpret_cast<void *>(d), reinterpret_cast<void *>(s), n);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamCreate(CUstream *s, unsigned) {
  static int stream;
  *s = reinterpret_cast<CUstream>(&stream);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamDestroy(CUstream) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuStreamSynchronize(CUstream) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventCreate(CUevent *e, unsigned) {
  static int events[2], n;
  *e = reinterpret_cast<CUevent>(&events[n++ % 2]);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventDestroy(CUevent) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventRecord(CUevent, CUstream) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventSynchronize(CUevent) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventElapsedTime(float *ms, CUevent, CUevent) {
  *ms = 0.25f;
  return CUDA_SUCCESS;
}

} // extern "C"
