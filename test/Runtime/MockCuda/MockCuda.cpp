//===- MockCuda.cpp - A stand-in libcuda.so.1 for GPU-less tests ----------===//
//
// Built as libcuda.so.1 for lit only: CudaModule dlopens the driver, so
// pointing LD_LIBRARY_PATH here lets CI exercise everything CudaModule does
// around the GPU (symbol lookup, manifest replay, parameter marshalling,
// copies, timing) without one. Device memory is host memory; kernels are not
// run but logged to stderr with their decoded parameters, which the PTX's
// `.entry` declaration sizes. Stream capture records launches and copies
// into a graph instead of running them; a graph launch runs them (and logs
// them again). Defining the functions under cuda.h's own
// prototypes makes them export the versioned names the real driver does.
//
//===----------------------------------------------------------------------===//

#include <cuda.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
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
using Steps = std::vector<std::function<void()>>;
Steps *capturing = nullptr; // the graph being captured, if any

/// Runs `step` now, or records it into the graph being captured.
void enqueue(std::function<void()> step) {
  if (capturing)
    capturing->push_back(std::move(step));
  else
    step();
}

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
  // The parameters are decoded now: their storage is the caller's.
  char head[256];
  std::snprintf(head, sizeof head,
                "mock: launch %s grid %u %u %u block %u %u %u smem %u",
                name.c_str(), gx, gy, gz, bx, by, bz, smem);
  std::string line = head;
  char word[64];
  std::vector<int> widths = paramWidths(name);
  for (size_t i = 0; i < widths.size(); ++i) {
    if (widths[i] == 4) {
      uint32_t v;
      std::memcpy(&v, params[i], 4);
      std::snprintf(word, sizeof word, " u32:0x%08x", v);
      line += word;
      continue;
    }
    uint64_t v;
    std::memcpy(&v, params[i], 8);
    auto it = allocations.find(v);
    if (it != allocations.end())
      std::snprintf(word, sizeof word, " alloc%d", it->second);
    else
      std::snprintf(word, sizeof word, " u64:%llu",
                    static_cast<unsigned long long>(v));
    line += word;
  }
  enqueue([line] { std::fprintf(stderr, "%s\n", line.c_str()); });
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
  int from = allocations.count(s) ? allocations[s] : -1;
  int to = allocations.count(d) ? allocations[d] : -1;
  enqueue([=] {
    std::fprintf(stderr, "mock: copy alloc%d -> alloc%d, %zu bytes\n", from, to,
                 n);
    std::memcpy(reinterpret_cast<void *>(d), reinterpret_cast<void *>(s), n);
  });
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

CUresult CUDAAPI cuStreamBeginCapture(CUstream, CUstreamCaptureMode) {
  capturing = new Steps();
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamEndCapture(CUstream, CUgraph *g) {
  *g = reinterpret_cast<CUgraph>(capturing);
  capturing = nullptr;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGraphInstantiate(CUgraphExec *e, CUgraph g,
                                    unsigned long long) {
  auto *steps = reinterpret_cast<Steps *>(g);
  std::fprintf(stderr, "mock: graph of %zu steps\n", steps->size());
  *e = reinterpret_cast<CUgraphExec>(new Steps(*steps));
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGraphLaunch(CUgraphExec e, CUstream) {
  for (auto &step : *reinterpret_cast<Steps *>(e))
    step();
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGraphDestroy(CUgraph g) {
  delete reinterpret_cast<Steps *>(g);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGraphExecDestroy(CUgraphExec e) {
  delete reinterpret_cast<Steps *>(e);
  return CUDA_SUCCESS;
}

} // extern "C"
