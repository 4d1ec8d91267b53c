//===- kestrel-run.cpp - Run and time a compiled Kestrel module -----------===//
//
//   kestrel-run model.so|model.manifest [--function=NAME] [--inputs=DIR]
//               [--outputs=DIR] [--repeat=N] [--warmup=N] [--no-graph]
//
// Loads a CPU library made by kestrelc (or, given a `.manifest`, the PTX and
// launch manifest of `--target=cuda:... --emit=ptx`), feeds each function's
// inputs (from DIR/in<i>.npy, or deterministic uniform values in [-1, 1)),
// runs it and prints the time per call: host clock for the CPU, CUDA events
// for the GPU. With --outputs it writes the inputs it used and the outputs
// as .npy files, for checks against NumPy or PyTorch.
//
// Uses only lib/Runtime: no LLVM, no MLIR.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Runtime/CpuModule.h"
#ifdef KESTREL_RUN_CUDA
#include "kestrel/Runtime/CudaModule.h"
#endif
#include "kestrel/Runtime/Npy.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace kestrel::rt;

namespace {

struct Options {
  std::string library, function, inputs, outputs;
  int repeat = 10, warmup = 1;
  bool graphs = true;
};

void usage() {
  std::fprintf(
      stderr,
      "usage: kestrel-run LIB.so|MODEL.manifest [--function=NAME] "
      "[--inputs=DIR] [--outputs=DIR] [--repeat=N] [--warmup=N] "
      "[--no-graph]\n"
      "  a .manifest runs the CUDA module it describes on GPU 0\n"
      "  --function  function to run (default: the first)\n"
      "  --inputs    read input i from DIR/in<i>.npy\n"
      "  --outputs   write DIR/in<i>.npy and DIR/out<i>.npy\n"
      "  --repeat    timed calls (default 10); --warmup untimed (1)\n"
      "  --no-graph  CUDA: launch kernel by kernel (default: each call\n"
      "              replays a CUDA graph captured on the first)\n");
}

constexpr int kMaxCount = 1000000000;

/// A decimal count in [0, kMaxCount]: no sign, no other characters, no
/// wrap-around (strtol alone takes "", "+5" and 2^32-1).
bool parseCount(const std::string &s, int &out) {
  if (s.empty() || s.size() > 10)
    return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  if (v > kMaxCount)
    return false;
  out = static_cast<int>(v);
  return true;
}

bool parseArgs(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag, std::string &out) {
      std::string prefix = std::string(flag) + "=";
      if (a.rfind(prefix, 0) != 0)
        return false;
      out = a.substr(prefix.size());
      return true;
    };
    std::string n;
    if (a == "--no-graph") {
      o.graphs = false;
      continue;
    }
    if (a == "-h" || a == "--help")
      return usage(), std::exit(0), true;
    if (value("--function", o.function) || value("--inputs", o.inputs) ||
        value("--outputs", o.outputs))
      continue;
    if (value("--repeat", n) || value("--warmup", n)) {
      int &count = a.rfind("--repeat", 0) == 0 ? o.repeat : o.warmup;
      if (!parseCount(n, count))
        return std::fprintf(stderr,
                            "kestrel-run: bad number in %s (expected an "
                            "integer from 0 to %d)\n",
                            a.c_str(), kMaxCount),
               false;
      continue;
    }
    if (a.rfind("-", 0) == 0 || !o.library.empty())
      return std::fprintf(stderr, "kestrel-run: unexpected argument '%s'\n",
                          a.c_str()),
             usage(), false;
    o.library = a;
  }
  if (o.library.empty())
    return usage(), false;
  return true;
}

/// Fills a buffer with deterministic values: uniform in [-1, 1) for floats
/// (xorshift64*, seeded per input), small integers otherwise.
void fillDeterministic(const Tensor &t, std::vector<char> &data,
                       uint64_t seed) {
  data.assign(t.bytes(), 0);
  uint64_t state = 0x9E3779B97F4A7C15ull * (seed + 1);
  auto next = [&] {
    state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
  };
  size_t n = t.numElements();
  for (size_t i = 0; i < n; ++i) {
    double u = static_cast<double>(next() >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    float f = static_cast<float>(u);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if (t.dtype == "f32") {
      std::memcpy(&data[i * 4], &f, 4);
    } else if (t.dtype == "bf16") {
      uint16_t h =
          static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
      std::memcpy(&data[i * 2], &h, 2);
    } else if (t.dtype == "f16") {
      // Values in [-1, 1): normal or zero halves, round toward zero.
      uint32_t sign = (bits >> 16) & 0x8000, exp = (bits >> 23) & 0xff;
      uint16_t h = static_cast<uint16_t>(sign);
      if (exp >= 113)
        h |=
            static_cast<uint16_t>(((exp - 112) << 10) | ((bits >> 13) & 0x3ff));
      std::memcpy(&data[i * 2], &h, 2);
    } else {
      int64_t v = static_cast<int64_t>(next() % 8);
      std::memcpy(&data[i * t.elementBytes()], &v, t.elementBytes());
    }
  }
}

/// Reads input `i` of `fn` from --inputs or makes it deterministically.
bool makeInputs(const Options &opts, const Function &fn,
                std::vector<std::vector<char>> &buffers, std::string &error) {
  for (size_t i = 0; i < fn.inputs.size(); ++i) {
    std::vector<char> data;
    if (!opts.inputs.empty()) {
      std::string path = opts.inputs + "/in" + std::to_string(i) + ".npy";
      if (!readNpy(path, fn.inputs[i], data, error))
        return false;
    } else {
      fillDeterministic(fn.inputs[i], data, i);
    }
    buffers.push_back(std::move(data));
  }
  return true;
}

/// Writes DIR/in<i>.npy and DIR/out<i>.npy from host copies of all buffers.
bool writeOutputs(const Options &opts, const Function &fn,
                  const std::vector<std::vector<char>> &buffers,
                  std::string &error) {
  size_t nin = fn.inputs.size();
  for (size_t i = 0; i < buffers.size(); ++i) {
    bool isIn = i < nin;
    const Tensor &t = isIn ? fn.inputs[i] : fn.outputs[i - nin];
    std::string path = opts.outputs + (isIn ? "/in" : "/out") +
                       std::to_string(isIn ? i : i - nin) + ".npy";
    if (!writeNpy(path, t, buffers[i].data(), error))
      return false;
  }
  return true;
}

const Function *pickFunction(const Options &opts, const Manifest &m) {
  if (opts.function.empty())
    return m.functions.empty() ? nullptr : &m.functions.front();
  return m.find(opts.function);
}

int fail(const std::string &error) {
  std::fprintf(stderr, "kestrel-run: error: %s\n", error.c_str());
  return 1;
}

std::string gigabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f GB",
                static_cast<double>(bytes) / 1e9);
  return text;
}

/// Host copies of all of `fn`'s buffers must fit in this machine's memory:
/// a manifest that declares more is reported instead of dying in operator
/// new. (Each size is below kMaxTensorBytes, so the sum cannot overflow.)
bool checkHostMemory(const Function &fn, std::string &error) {
  uint64_t total = 0;
  for (const std::vector<Tensor> *list : {&fn.inputs, &fn.outputs})
    for (const Tensor &t : *list)
      total += t.bytes();
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  uint64_t limit =
      pages > 0 && pageSize > 0
          ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize)
          : kMaxTensorBytes;
  if (total <= limit)
    return true;
  error = fn.name + " needs " + gigabytes(total) +
          " of host buffers (inputs + outputs), more than this machine's " +
          gigabytes(limit) + " of memory";
  return false;
}

void printTimes(const Function &fn, std::vector<double> ms, const char *how) {
  if (ms.empty())
    return;
  std::sort(ms.begin(), ms.end());
  std::printf("%s: median %.3f ms, min %.3f ms over %zu calls%s\n",
              fn.name.c_str(), ms[ms.size() / 2], ms.front(), ms.size(), how);
}

#ifdef KESTREL_RUN_CUDA
int runCuda(const Options &opts) {
  std::string error;
  std::unique_ptr<CudaModule> module = CudaModule::load(opts.library, error);
  if (!module)
    return fail(error);
  const Function *fn = pickFunction(opts, module->manifest());
  if (!fn)
    return fail("no function '" + opts.function + "' in " + opts.library);
  if (!opts.graphs)
    module->setUseGraphs(false);
  if (!checkHostMemory(*fn, error))
    return fail(error);

  std::vector<std::vector<char>> host;
  if (!makeInputs(opts, *fn, host, error))
    return fail(error);
  for (const Tensor &t : fn->outputs)
    host.emplace_back(t.bytes(), 0);
  // Device buffers: inputs uploaded, outputs filled with a NaN pattern
  // (0xFF bytes) so that elements no kernel writes cannot pass for results.
  std::vector<DevicePtr> device;
  auto cleanup = [&] {
    for (DevicePtr p : device)
      module->release(p);
  };
  size_t nin = fn->inputs.size();
  for (size_t i = 0; i < host.size(); ++i) {
    DevicePtr p;
    if (!module->allocate(host[i].size(), p, error))
      return cleanup(), fail(error);
    device.push_back(p);
    if (i >= nin)
      std::fill(host[i].begin(), host[i].end(), static_cast<char>(0xFF));
    if (!module->upload(p, host[i].data(), host[i].size(), error))
      return cleanup(), fail(error);
  }

  std::vector<float> ms;
  // At least one run even with --warmup=0 --repeat=0, so outputs exist.
  int warmup = opts.warmup + opts.repeat == 0 ? 1 : opts.warmup;
  if (!module->time(*fn, device, warmup, opts.repeat, ms, error))
    return cleanup(), fail(error);
  std::string how = " (CUDA events, " + module->deviceName() + ", " +
                    std::to_string(CudaModule::launches(*fn)) + " launches" +
                    (module->usesGraphs() ? ", graph replay)" : ")");
  printTimes(*fn, std::vector<double>(ms.begin(), ms.end()), how.c_str());

  if (!opts.outputs.empty()) {
    for (size_t i = nin; i < host.size(); ++i)
      if (!module->download(host[i].data(), device[i], host[i].size(), error))
        return cleanup(), fail(error);
    if (!writeOutputs(opts, *fn, host, error))
      return cleanup(), fail(error);
  }
  cleanup();
  return 0;
}
#endif

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  if (!parseArgs(argc, argv, opts))
    return 2;
  if (endsWith(opts.library, ".manifest")) {
#ifdef KESTREL_RUN_CUDA
    return runCuda(opts);
#else
    return fail(opts.library +
                ": this kestrel-run was built without CUDA "
                "support (the CUDA toolkit was not found when it was "
                "configured), so it cannot run CUDA modules");
#endif
  }

  std::string error;
  std::unique_ptr<CpuModule> module = CpuModule::load(opts.library, error);
  if (!module)
    return fail(error);
  const Function *fn = pickFunction(opts, module->manifest());
  if (!fn)
    return fail("no function '" + opts.function + "' in " + opts.library);

  if (!checkHostMemory(*fn, error))
    return fail(error);
  std::vector<std::vector<char>> buffers;
  std::vector<void *> pointers;
  if (!makeInputs(opts, *fn, buffers, error))
    return fail(error);
  for (const Tensor &t : fn->outputs)
    buffers.emplace_back(t.bytes(), 0);
  for (std::vector<char> &b : buffers)
    pointers.push_back(b.data());

  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < opts.warmup; ++i)
    if (!module->call(*fn, pointers, error))
      return fail(error);
  std::vector<double> ms;
  for (int i = 0; i < opts.repeat; ++i) {
    auto start = Clock::now();
    if (!module->call(*fn, pointers, error))
      return fail(error);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start)
                     .count());
  }
  printTimes(*fn, ms, "");

  if (!opts.outputs.empty() && !writeOutputs(opts, *fn, buffers, error))
    return fail(error);
  return 0;
}
