//===- CudaModule.h - Loading and launching compiled CUDA modules -*- C++
//-*-===//
//
// `kestrelc --target=cuda:sm_XX --emit=ptx` writes the PTX of every kernel and
// a manifest (docs/runtime.md) that lists, per public function, the buffers
// and the launches and copies that compute it. CudaModule reads both, lets
// the driver JIT the PTX and replays a function's steps on one stream.
//
// The header names no CUDA type, so tools include it whether or not CUDA was
// found at build time; device pointers travel as DevicePtr (a CUdeviceptr).
// Plain C++17, no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_RUNTIME_CUDAMODULE_H
#define KESTREL_RUNTIME_CUDAMODULE_H

#include "kestrel/Runtime/Manifest.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kestrel::rt {

using DevicePtr = uint64_t;

class CudaModule {
public:
  /// Reads and checks the manifest at `manifestPath`, the PTX and the
  /// weights file it names (size and checksum), then initializes the driver
  /// on `device`, loads the PTX and uploads the constants. Returns null
  /// and sets `error` on failure. Manifest errors are reported before the
  /// driver is touched, so they read the same on machines without a GPU.
  static std::unique_ptr<CudaModule> load(const std::string &manifestPath,
                                          std::string &error, int device = 0);
  ~CudaModule();
  CudaModule(const CudaModule &) = delete;
  CudaModule &operator=(const CudaModule &) = delete;

  const Manifest &manifest() const { return manifest_; }
  /// The GPU's name, as the driver reports it.
  const std::string &deviceName() const { return deviceName_; }

  /// Enqueues `fn`'s steps on the module's stream; `buffers` holds one device
  /// pointer per input, then per output. Temporaries are allocated on the
  /// first run of each function and reused afterwards, so two runs of one
  /// function must not overlap (they do not: there is one stream).
  bool run(const Function &fn, const std::vector<DevicePtr> &buffers,
           std::string &error);
  /// Whether run() captures each function's launch sequence in a CUDA graph
  /// on its first call with a given set of buffers and replays the graph on
  /// later calls (one launch instead of one per kernel). On by default;
  /// KESTREL_CUDA_GRAPHS=0 in the environment turns it off at load.
  void setUseGraphs(bool on) { useGraphs_ = on; }
  bool usesGraphs() const { return useGraphs_; }
  /// Kernel launches one call of `fn` makes (copies not counted).
  static size_t launches(const Function &fn);
  /// Waits for everything enqueued on the module's stream.
  bool synchronize(std::string &error);

  /// Runs `fn` `warmup` times untimed, then `repeat` times, each timed on
  /// the device with CUDA events; `ms` receives one time per timed run.
  bool time(const Function &fn, const std::vector<DevicePtr> &buffers,
            int warmup, int repeat, std::vector<float> &ms, std::string &error);

  // Device memory for callers that have no CUDA headers (the tools).
  bool allocate(size_t bytes, DevicePtr &ptr, std::string &error);
  void release(DevicePtr ptr);
  bool upload(DevicePtr dst, const void *src, size_t bytes, std::string &error);
  bool download(void *dst, DevicePtr src, size_t bytes, std::string &error);

private:
  CudaModule() = default;
  // The steps of load, each returning false with `error` set.
  /// Parses and checks the manifest, reads the PTX (from `ptxPath`, beside
  /// the manifest) and the weights file into `weights` (size, checksum).
  bool readManifest(const std::string &manifestPath, std::string &ptxPath,
                    std::string &weights, std::string &error);
  /// Opens the driver and makes the device's primary context current.
  bool openDevice(int device, std::string &error);
  /// JIT-loads the PTX text and creates the module's stream.
  bool loadPtx(const std::string &ptxPath, std::string &error);
  /// One device buffer per distinct range of `weights`, uploaded.
  bool uploadConstants(const std::string &weights, std::string &error);
  /// Looks up every launched kernel and opts it into its shared memory.
  bool resolveKernels(std::string &error);
  bool prepare(const Function &fn, std::string &error);
  /// Enqueues `fn`'s copies and launches on the stream, one by one.
  bool enqueue(const Function &fn, const std::vector<DevicePtr> &buffers,
               std::string &error);

  Manifest manifest_;
  std::string ptxText_, deviceName_;
  int device_ = 0;
  bool retainedContext_ = false;
  void *context_ = nullptr, *module_ = nullptr, *stream_ = nullptr;
  /// Per function: temp buffer id -> device allocation.
  std::map<std::string, std::map<unsigned, DevicePtr>> temps_;
  /// Per function: const buffer id -> its entry of weightBuffers_.
  std::map<std::string, std::map<unsigned, DevicePtr>> constants_;
  /// (offset, bytes) in the weights file -> device copy, made at load.
  std::map<std::pair<size_t, size_t>, DevicePtr> weightBuffers_;
  bool useGraphs_ = true;
  /// (function, buffers) -> CUgraphExec of its captured steps.
  std::map<std::pair<std::string, std::vector<DevicePtr>>, void *> graphs_;
  /// Kernel name -> CUfunction.
  std::map<std::string, void *> kernels_;
};

} // namespace kestrel::rt

#endif // KESTREL_RUNTIME_CUDAMODULE_H
