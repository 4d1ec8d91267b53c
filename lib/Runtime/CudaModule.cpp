//===- CudaModule.cpp - Driver-API loader of kestrelc's PTX ---------------===//
//
// Uses the CUDA driver API only: the driver JITs the PTX text for the GPU at
// hand, and launches are replayed from the manifest with bare device
// pointers, as the kernels expect.
//
// libcuda is opened with dlopen rather than linked: a link-time dependency on
// libcuda.so.1 would stop the dynamic loader from starting kestrel-run at all
// on machines without the NVIDIA driver (CI, the CPU path), whereas here its
// absence becomes an ordinary, readable error of CudaModule::load. cuda.h
// still provides every prototype, and its own macros pick the versioned
// symbol (cuMemAlloc -> cuMemAlloc_v2, ...) that we look up.
//
// A function's steps are captured into a CUDA graph on its first run with a
// given set of buffers and replayed from then on: one launch per call
// instead of one per kernel (setUseGraphs, KESTREL_CUDA_GRAPHS=0).
//
//===----------------------------------------------------------------------===//

#include "kestrel/Runtime/CudaModule.h"

#include <cuda.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace kestrel::rt {

namespace {

#define KESTREL_CU_FUNCTIONS(X)                                                \
  X(cuInit)                                                                    \
  X(cuGetErrorString)                                                          \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDeviceGetName)                                                           \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuDevicePrimaryCtxRelease)                                                 \
  X(cuCtxSetCurrent)                                                           \
  X(cuModuleLoadDataEx)                                                        \
  X(cuModuleUnload)                                                            \
  X(cuModuleGetFunction)                                                       \
  X(cuFuncSetAttribute)                                                        \
  X(cuLaunchKernel)                                                            \
  X(cuMemAlloc)                                                                \
  X(cuMemFree)                                                                 \
  X(cuMemcpyHtoDAsync)                                                         \
  X(cuMemcpyDtoH)                                                              \
  X(cuMemcpyDtoDAsync)                                                         \
  X(cuStreamCreate)                                                            \
  X(cuStreamDestroy)                                                           \
  X(cuStreamSynchronize)                                                       \
  X(cuEventCreate)                                                             \
  X(cuEventDestroy)                                                            \
  X(cuEventRecord)                                                             \
  X(cuEventSynchronize)                                                        \
  X(cuEventElapsedTime)                                                        \
  X(cuStreamBeginCapture)                                                      \
  X(cuStreamEndCapture)                                                        \
  X(cuGraphInstantiate)                                                        \
  X(cuGraphLaunch)                                                             \
  X(cuGraphDestroy)                                                            \
  X(cuGraphExecDestroy)

// Two levels, so that cuda.h's renaming macros expand before stringizing.
#define KESTREL_STR2(x) #x
#define KESTREL_STR(x) KESTREL_STR2(x)

/// The driver entry points, resolved once per process.
struct Driver {
#define KESTREL_CU_MEMBER(name) decltype(&name) name##_ = nullptr;
  KESTREL_CU_FUNCTIONS(KESTREL_CU_MEMBER)
#undef KESTREL_CU_MEMBER
  std::string error; // why the driver is unusable; empty when it is usable
};

const Driver &driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char *why = dlerror();
      d.error = std::string("no CUDA driver on this machine (cannot load "
                            "libcuda.so.1: ") +
                (why ? why : "unknown reason") + ")";
      return;
    }
#define KESTREL_CU_RESOLVE(name)                                               \
  d.name##_ =                                                                  \
      reinterpret_cast<decltype(&name)>(dlsym(lib, KESTREL_STR(name)));        \
  if (!d.name##_ && d.error.empty())                                           \
    d.error = std::string("the CUDA driver lacks ") + KESTREL_STR(name) +      \
              ": it is older than the CUDA " KESTREL_STR(                      \
                  CUDA_VERSION) " headers this runtime was built with";
    KESTREL_CU_FUNCTIONS(KESTREL_CU_RESOLVE)
#undef KESTREL_CU_RESOLVE
    if (!d.error.empty())
      return;
    if (CUresult r = d.cuInit_(0); r != CUDA_SUCCESS) {
      const char *s = nullptr;
      d.cuGetErrorString_(r, &s);
      d.error = std::string("cuInit failed: ") + (s ? s : "unknown error") +
                " (no usable GPU?)";
    }
  });
  return d;
}

/// Checks a driver call; on failure sets `error` to "WHAT: cuGetErrorString".
bool check(CUresult r, const char *what, std::string &error) {
  if (r == CUDA_SUCCESS)
    return true;
  const char *s = nullptr;
  if (driver().cuGetErrorString_(r, &s) != CUDA_SUCCESS || !s)
    s = "unknown error";
  error =
      std::string(what) + ": " + s + " (CUresult " + std::to_string(r) + ")";
  return false;
}

bool readFile(const std::string &path, std::string &text, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return error = "cannot open " + path, false;
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

/// Checks that every step of `fn` names only buffers that exist, so that a
/// bad manifest fails at load time with its own message rather than as an
/// illegal address inside a kernel.
bool checkFunction(const Function &fn, std::string &error) {
  std::set<unsigned> ids;
  size_t io = fn.inputs.size() + fn.outputs.size();
  for (unsigned i = 0; i < io; ++i)
    ids.insert(i);
  std::set<unsigned> constants;
  for (const Constant &c : fn.constants)
    constants.insert(c.id);
  for (const auto &[id, bytes] : fn.temps)
    if (!ids.insert(id).second)
      return error = fn.name + ": buffer " + std::to_string(id) +
                     " is defined twice",
             false;
  for (const Constant &c : fn.constants)
    if (!ids.insert(c.id).second)
      return error = fn.name + ": buffer " + std::to_string(c.id) +
                     " is defined twice",
             false;
  auto known = [&](int64_t id) {
    return id >= 0 && ids.count(static_cast<unsigned>(id));
  };
  for (const Step &s : fn.steps) {
    if (s.kind == Step::Copy) {
      if (!known(s.src) || !known(s.dst))
        return error = fn.name + ": copy between unknown buffers " +
                       std::to_string(s.src) + " and " + std::to_string(s.dst),
               false;
      if (constants.count(s.dst))
        return error = fn.name + ": copy into constant buffer " +
                       std::to_string(s.dst),
               false;
      continue;
    }
    for (const Param &p : s.params)
      if (p.kind == Param::Buffer && !known(p.value))
        return error = fn.name + ": launch of " + s.kernel +
                       " uses unknown buffer b" + std::to_string(p.value),
               false;
  }
  return true;
}

} // namespace

std::unique_ptr<CudaModule> CudaModule::load(const std::string &manifestPath,
                                             std::string &error, int device) {
  std::unique_ptr<CudaModule> m(new CudaModule());
  // Manifest errors first, before the driver is touched.
  std::string ptxPath, weights;
  if (!m->readManifest(manifestPath, ptxPath, weights, error) ||
      !m->openDevice(device, error) || !m->loadPtx(ptxPath, error) ||
      !m->uploadConstants(weights, error) || !m->resolveKernels(error))
    return nullptr;
  if (const char *graphs = std::getenv("KESTREL_CUDA_GRAPHS"))
    m->useGraphs_ = std::strcmp(graphs, "0") != 0;
  return m;
}

bool CudaModule::readManifest(const std::string &manifestPath,
                              std::string &ptxPath, std::string &weights,
                              std::string &error) {
  std::string text;
  if (!readFile(manifestPath, text, error))
    return false;
  if (!parseManifest(text, manifest_, error)) {
    error = manifestPath + ": " + error;
    return false;
  }
  if (manifest_.kind != "cuda") {
    error =
        manifestPath + " is a '" + manifest_.kind + "' manifest, not 'cuda'";
    return false;
  }
  if (manifest_.ptx.empty()) {
    error = manifestPath + " names no PTX file ('ptx FILE' line)";
    return false;
  }
  if (manifest_.functions.empty()) {
    error = manifestPath + " describes no function";
    return false;
  }
  for (const Function &fn : manifest_.functions)
    if (!checkFunction(fn, error)) {
      error = manifestPath + ": " + error;
      return false;
    }
  // The PTX and weights paths are relative to the manifest's directory.
  size_t slash = manifestPath.rfind('/');
  auto besideManifest = [&](const std::string &file) {
    if (file.front() != '/' && slash != std::string::npos)
      return manifestPath.substr(0, slash + 1) + file;
    return file;
  };
  ptxPath = besideManifest(manifest_.ptx);
  if (!readFile(ptxPath, ptxText_, error))
    return false;
  // The constants' bytes, checked against the manifest before the driver is
  // touched; dropped once uploaded.
  if (manifest_.weights.empty())
    return true;
  std::string weightsPath = besideManifest(manifest_.weights);
  if (!readFile(weightsPath, weights, error))
    return false;
  if (weights.size() != manifest_.weightsBytes) {
    error = weightsPath + " has " + std::to_string(weights.size()) +
            " bytes, but " + manifestPath + " expects " +
            std::to_string(manifest_.weightsBytes) +
            " (the weights do not belong to this manifest)";
    return false;
  }
  if (fnv1a64(weights.data(), weights.size()) != manifest_.weightsChecksum) {
    error = weightsPath + " does not match the checksum in " + manifestPath +
            " (the weights do not belong to this manifest)";
    return false;
  }
  return true;
}

bool CudaModule::openDevice(int device, std::string &error) {
  const Driver &d = driver();
  if (!d.error.empty())
    return error = "cannot run on the GPU: " + d.error, false;
  int count = 0;
  if (!check(d.cuDeviceGetCount_(&count), "cuDeviceGetCount", error))
    return false;
  if (device < 0 || device >= count) {
    error = "no CUDA device " + std::to_string(device) + " (found " +
            std::to_string(count) + ")";
    return false;
  }
  CUdevice dev;
  char name[256] = {};
  if (!check(d.cuDeviceGet_(&dev, device), "cuDeviceGet", error) ||
      !check(d.cuDeviceGetName_(name, sizeof(name) - 1, dev), "cuDeviceGetName",
             error))
    return false;
  device_ = device;
  deviceName_ = name;
  // The primary context is the one the CUDA runtime (and PyTorch) share, so
  // buffers allocated by either side are valid in the other.
  CUcontext ctx;
  if (!check(d.cuDevicePrimaryCtxRetain_(&ctx, dev), "cuDevicePrimaryCtxRetain",
             error))
    return false;
  retainedContext_ = true;
  context_ = ctx;
  return check(d.cuCtxSetCurrent_(ctx), "cuCtxSetCurrent", error);
}

bool CudaModule::loadPtx(const std::string &ptxPath, std::string &error) {
  const Driver &d = driver();
  // Keep the JIT's log: a PTX the driver rejects (e.g. sm_90a code on an
  // Ampere GPU) is explained there, not by the error code.
  char log[8192] = {};
  CUjit_option opts[] = {CU_JIT_ERROR_LOG_BUFFER,
                         CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1)};
  CUmodule mod;
  if (!check(d.cuModuleLoadDataEx_(&mod, ptxText_.c_str(), 2, opts, values),
             "cuModuleLoadData", error)) {
    error += " loading " + ptxPath + " (made for " + manifest_.target +
             ") on " + deviceName_;
    if (log[0])
      error += ": " + std::string(log);
    return false;
  }
  module_ = mod;
  CUstream stream;
  if (!check(d.cuStreamCreate_(&stream, CU_STREAM_NON_BLOCKING),
             "cuStreamCreate", error))
    return false;
  stream_ = stream;
  return true;
}

bool CudaModule::uploadConstants(const std::string &weights,
                                 std::string &error) {
  const Driver &d = driver();
  CUstream stream = static_cast<CUstream>(stream_);
  // Constants: one device buffer per distinct range of the weights file,
  // shared by every function that names it, uploaded now.
  for (const Function &fn : manifest_.functions)
    for (const Constant &c : fn.constants) {
      auto key = std::make_pair(c.offset, c.tensor.bytes());
      auto it = weightBuffers_.find(key);
      if (it == weightBuffers_.end()) {
        CUdeviceptr p = 0;
        if (!check(d.cuMemAlloc_(&p, std::max<size_t>(key.second, 1)),
                   "cuMemAlloc", error)) {
          error += " (" + std::to_string(key.second) + " bytes for constant " +
                   std::to_string(c.id) + " of " + fn.name + ")";
          return false;
        }
        it = weightBuffers_.emplace(key, p).first;
        // On the module's stream, so the launches that read it are ordered
        // after it (a synchronous copy from pageable memory may return
        // before its DMA completes, and the stream does not wait for the
        // legacy stream).
        if (!check(d.cuMemcpyHtoDAsync_(p, weights.data() + c.offset,
                                        key.second, stream),
                   "cuMemcpyHtoDAsync", error)) {
          error += " (uploading constant " + std::to_string(c.id) + " of " +
                   fn.name + ")";
          return false;
        }
      }
      constants_[fn.name][c.id] = it->second;
    }
  // The host copy of the weights is freed once load returns.
  return check(d.cuStreamSynchronize_(stream), "cuStreamSynchronize", error);
}

bool CudaModule::resolveKernels(std::string &error) {
  const Driver &d = driver();
  std::map<std::string, unsigned> maxShared;
  for (const Function &fn : manifest_.functions)
    for (const Step &s : fn.steps) {
      if (s.kind != Step::Launch)
        continue;
      maxShared[s.kernel] = std::max(maxShared[s.kernel], s.sharedBytes);
      if (kernels_.count(s.kernel))
        continue;
      CUfunction f;
      if (!check(d.cuModuleGetFunction_(&f, static_cast<CUmodule>(module_),
                                        s.kernel.c_str()),
                 ("cuModuleGetFunction(" + s.kernel + ")").c_str(), error))
        return false;
      kernels_[s.kernel] = f;
    }
  // Beyond 48 KiB of static plus dynamic shared memory a kernel must opt
  // in, once. Static bytes count too (the PTX declares the dynamic array as
  // a 1-byte .shared variable), so every kernel with dynamic shared memory
  // opts in: a kernel of exactly 48 KiB dynamic failed to launch without.
  for (const auto &[kernel, bytes] : maxShared)
    if (bytes > 0 &&
        !check(d.cuFuncSetAttribute_(
                   static_cast<CUfunction>(kernels_[kernel]),
                   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                   static_cast<int>(bytes)),
               ("cuFuncSetAttribute(" + kernel + ")").c_str(), error))
      return false;
  return true;
}

CudaModule::~CudaModule() {
  if (!retainedContext_)
    return;
  const Driver &d = driver();
  d.cuCtxSetCurrent_(static_cast<CUcontext>(context_));
  if (stream_)
    d.cuStreamSynchronize_(static_cast<CUstream>(stream_));
  for (auto &[key, exec] : graphs_)
    if (exec)
      d.cuGraphExecDestroy_(static_cast<CUgraphExec>(exec));
  for (auto &[fn, temps] : temps_)
    for (auto &[id, ptr] : temps)
      d.cuMemFree_(static_cast<CUdeviceptr>(ptr));
  for (auto &[range, ptr] : weightBuffers_)
    d.cuMemFree_(static_cast<CUdeviceptr>(ptr));
  if (stream_)
    d.cuStreamDestroy_(static_cast<CUstream>(stream_));
  if (module_)
    d.cuModuleUnload_(static_cast<CUmodule>(module_));
  CUdevice dev;
  if (d.cuDeviceGet_(&dev, device_) == CUDA_SUCCESS)
    d.cuDevicePrimaryCtxRelease_(dev);
}

bool CudaModule::prepare(const Function &fn, std::string &error) {
  if (temps_.count(fn.name))
    return true;
  const Driver &d = driver();
  std::map<unsigned, DevicePtr> &temps = temps_[fn.name];
  for (const auto &[id, bytes] : fn.temps) {
    CUdeviceptr p = 0;
    // A zero-byte temp still gets a distinct, valid pointer.
    if (!check(d.cuMemAlloc_(&p, std::max<size_t>(bytes, 1)), "cuMemAlloc",
               error)) {
      error += " (" + std::to_string(bytes) + " bytes for temp " +
               std::to_string(id) + " of " + fn.name + ")";
      return false;
    }
    temps[id] = p;
  }
  return true;
}

bool CudaModule::run(const Function &fn, const std::vector<DevicePtr> &buffers,
                     std::string &error) {
  size_t io = fn.inputs.size() + fn.outputs.size();
  if (buffers.size() != io) {
    error = fn.name + " takes " + std::to_string(io) + " buffers, got " +
            std::to_string(buffers.size());
    return false;
  }
  const Driver &d = driver();
  if (!check(d.cuCtxSetCurrent_(static_cast<CUcontext>(context_)),
             "cuCtxSetCurrent", error) ||
      !prepare(fn, error))
    return false;
  auto stream = static_cast<CUstream>(stream_);
  if (!useGraphs_)
    return enqueue(fn, buffers, error);
  // One graph per (function, buffers): captured on the first call, then
  // replayed with a single launch.
  void *&exec = graphs_[{fn.name, buffers}];
  if (!exec) {
    CUgraph graph = nullptr;
    if (!check(d.cuStreamBeginCapture_(stream,
                                       CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
               "cuStreamBeginCapture", error))
      return false;
    bool enqueued = enqueue(fn, buffers, error);
    std::string captureError;
    bool captured = check(d.cuStreamEndCapture_(stream, &graph),
                          "cuStreamEndCapture", captureError);
    if (!enqueued || !captured) {
      if (graph)
        d.cuGraphDestroy_(graph);
      if (enqueued)
        error = captureError;
      return false;
    }
    CUgraphExec instance = nullptr;
    bool ok = check(d.cuGraphInstantiate_(&instance, graph, 0),
                    "cuGraphInstantiate", error);
    d.cuGraphDestroy_(graph);
    if (!ok)
      return false;
    exec = instance;
  }
  return check(d.cuGraphLaunch_(static_cast<CUgraphExec>(exec), stream),
               "cuGraphLaunch", error);
}

bool CudaModule::enqueue(const Function &fn,
                         const std::vector<DevicePtr> &buffers,
                         std::string &error) {
  const Driver &d = driver();
  size_t io = fn.inputs.size() + fn.outputs.size();
  const std::map<unsigned, DevicePtr> &temps = temps_[fn.name];
  const std::map<unsigned, DevicePtr> &constants = constants_[fn.name];
  auto bufferPtr = [&](int64_t id) -> CUdeviceptr {
    if (static_cast<size_t>(id) < io)
      return buffers[id];
    auto it = temps.find(static_cast<unsigned>(id));
    if (it != temps.end())
      return it->second;
    return constants.at(static_cast<unsigned>(id)); // checked at load
  };
  auto stream = static_cast<CUstream>(stream_);

  // Storage for the parameter values: cuLaunchKernel takes one pointer per
  // parameter, pointing at a value of the parameter's own size.
  struct Slot {
    uint64_t u64;
    uint32_t u32;
  };
  std::vector<Slot> slots;
  std::vector<void *> args;
  for (const Step &s : fn.steps) {
    if (s.kind == Step::Copy) {
      if (!check(d.cuMemcpyDtoDAsync_(bufferPtr(s.dst), bufferPtr(s.src),
                                      s.bytes, stream),
                 "cuMemcpyDtoD", error))
        return false;
      continue;
    }
    slots.assign(s.params.size(), Slot{0, 0});
    args.clear();
    for (size_t i = 0; i < s.params.size(); ++i) {
      const Param &p = s.params[i];
      Slot &slot = slots[i];
      switch (p.kind) {
      case Param::Buffer:
        slot.u64 = bufferPtr(p.value);
        args.push_back(&slot.u64);
        break;
      case Param::I64:
      case Param::F64: // the value is the double's bit pattern
        slot.u64 = static_cast<uint64_t>(p.value);
        args.push_back(&slot.u64);
        break;
      case Param::I32:
      case Param::F32: // the value is the float's bit pattern
        slot.u32 = static_cast<uint32_t>(p.value);
        args.push_back(&slot.u32);
        break;
      }
    }
    auto f = static_cast<CUfunction>(kernels_.at(s.kernel));
    if (!check(d.cuLaunchKernel_(f, s.grid[0], s.grid[1], s.grid[2], s.block[0],
                                 s.block[1], s.block[2], s.sharedBytes, stream,
                                 args.data(), nullptr),
               ("cuLaunchKernel(" + s.kernel + ")").c_str(), error))
      return false;
  }
  return true;
}

size_t CudaModule::launches(const Function &fn) {
  return std::count_if(fn.steps.begin(), fn.steps.end(),
                       [](const Step &s) { return s.kind != Step::Copy; });
}

bool CudaModule::synchronize(std::string &error) {
  const Driver &d = driver();
  return check(d.cuCtxSetCurrent_(static_cast<CUcontext>(context_)),
               "cuCtxSetCurrent", error) &&
         check(d.cuStreamSynchronize_(static_cast<CUstream>(stream_)),
               "cuStreamSynchronize", error);
}

bool CudaModule::time(const Function &fn, const std::vector<DevicePtr> &buffers,
                      int warmup, int repeat, std::vector<float> &ms,
                      std::string &error) {
  ms.clear();
  for (int i = 0; i < warmup; ++i)
    if (!run(fn, buffers, error))
      return false;
  // Kernel faults surface at the next synchronization: catch them here, not
  // inside the timed loop.
  if (!synchronize(error))
    return false;
  const Driver &d = driver();
  CUevent start, stop;
  if (!check(d.cuEventCreate_(&start, CU_EVENT_DEFAULT), "cuEventCreate",
             error))
    return false;
  if (!check(d.cuEventCreate_(&stop, CU_EVENT_DEFAULT), "cuEventCreate",
             error)) {
    d.cuEventDestroy_(start);
    return false;
  }
  auto stream = static_cast<CUstream>(stream_);
  bool ok = true;
  for (int i = 0; ok && i < repeat; ++i) {
    float t = 0;
    ok = check(d.cuEventRecord_(start, stream), "cuEventRecord", error) &&
         run(fn, buffers, error) &&
         check(d.cuEventRecord_(stop, stream), "cuEventRecord", error) &&
         check(d.cuEventSynchronize_(stop), "cuEventSynchronize", error) &&
         check(d.cuEventElapsedTime_(&t, start, stop), "cuEventElapsedTime",
               error);
    if (ok)
      ms.push_back(t);
  }
  d.cuEventDestroy_(start);
  d.cuEventDestroy_(stop);
  return ok;
}

bool CudaModule::allocate(size_t bytes, DevicePtr &ptr, std::string &error) {
  const Driver &d = driver();
  CUdeviceptr p = 0;
  if (!check(d.cuCtxSetCurrent_(static_cast<CUcontext>(context_)),
             "cuCtxSetCurrent", error) ||
      !check(d.cuMemAlloc_(&p, std::max<size_t>(bytes, 1)), "cuMemAlloc",
             error))
    return false;
  ptr = p;
  return true;
}

void CudaModule::release(DevicePtr ptr) {
  const Driver &d = driver();
  d.cuCtxSetCurrent_(static_cast<CUcontext>(context_));
  d.cuMemFree_(static_cast<CUdeviceptr>(ptr));
}

bool CudaModule::upload(DevicePtr dst, const void *src, size_t bytes,
                        std::string &error) {
  const Driver &d = driver();
  // Enqueued on the module's stream, so later runs are ordered after it (a
  // synchronous cuMemcpyHtoD from pageable memory may return before its DMA
  // completes, and the non-blocking stream does not wait for it), then
  // waited for, so the caller may reuse `src` at once.
  return check(d.cuCtxSetCurrent_(static_cast<CUcontext>(context_)),
               "cuCtxSetCurrent", error) &&
         check(d.cuMemcpyHtoDAsync_(dst, src, bytes,
                                    static_cast<CUstream>(stream_)),
               "cuMemcpyHtoDAsync", error) &&
         synchronize(error);
}

bool CudaModule::download(void *dst, DevicePtr src, size_t bytes,
                          std::string &error) {
  const Driver &d = driver();
  // The module's stream does not block the legacy stream: wait for it first.
  return synchronize(error) &&
         check(d.cuMemcpyDtoH_(dst, src, bytes), "cuMemcpyDtoH", error);
}

} // namespace kestrel::rt
