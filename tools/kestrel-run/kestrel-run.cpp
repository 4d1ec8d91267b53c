//===- kestrel-run.cpp - Run and time a compiled Kestrel module -----------===//
//
//   kestrel-run model.so [--function=NAME] [--inputs=DIR] [--outputs=DIR]
//                        [--repeat=N] [--warmup=N]
//
// Loads a CPU library made by kestrelc, feeds each function's inputs (from
// DIR/in<i>.npy, or deterministic uniform values in [-1, 1)), runs it and
// prints the time per call. With --outputs it writes the inputs it used and
// the outputs as .npy files, for checks against NumPy.
//
// Uses only lib/Runtime: no LLVM, no MLIR.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Runtime/CpuModule.h"
#include "kestrel/Runtime/Npy.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace kestrel::rt;

namespace {

struct Options {
  std::string library, function, inputs, outputs;
  int repeat = 10, warmup = 1;
};

void usage() {
  std::fprintf(stderr,
               "usage: kestrel-run LIB.so [--function=NAME] [--inputs=DIR] "
               "[--outputs=DIR] [--repeat=N] [--warmup=N]\n"
               "  --function  function to run (default: the first)\n"
               "  --inputs    read input i from DIR/in<i>.npy\n"
               "  --outputs   write DIR/in<i>.npy and DIR/out<i>.npy\n"
               "  --repeat    timed calls (default 10); --warmup untimed (1)\n");
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
    if (a == "-h" || a == "--help")
      return usage(), std::exit(0), true;
    if (value("--function", o.function) || value("--inputs", o.inputs) ||
        value("--outputs", o.outputs))
      continue;
    if (value("--repeat", n) || value("--warmup", n)) {
      char *end;
      long v = std::strtol(n.c_str(), &end, 10);
      if (*end || v < 0)
        return std::fprintf(stderr, "kestrel-run: bad number in %s\n", a.c_str()),
               false;
      (a.rfind("--repeat", 0) == 0 ? o.repeat : o.warmup) = static_cast<int>(v);
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
void fillDeterministic(const Tensor &t, std::vector<char> &data, uint64_t seed) {
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
      uint16_t h = static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
      std::memcpy(&data[i * 2], &h, 2);
    } else if (t.dtype == "f16") {
      // Values in [-1, 1): normal or zero halves, round toward zero.
      uint32_t sign = (bits >> 16) & 0x8000, exp = (bits >> 23) & 0xff;
      uint16_t h = static_cast<uint16_t>(sign);
      if (exp >= 113)
        h |= static_cast<uint16_t>(((exp - 112) << 10) | ((bits >> 13) & 0x3ff));
      std::memcpy(&data[i * 2], &h, 2);
    } else {
      int64_t v = static_cast<int64_t>(next() % 8);
      std::memcpy(&data[i * t.elementBytes()], &v, t.elementBytes());
    }
  }
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  if (!parseArgs(argc, argv, opts))
    return 2;
  std::string error;
  std::unique_ptr<CpuModule> module = CpuModule::load(opts.library, error);
  if (!module) {
    std::fprintf(stderr, "kestrel-run: error: %s\n", error.c_str());
    return 1;
  }
  const Manifest &m = module->manifest();
  const Function *fn = opts.function.empty() ? &m.functions.front()
                                             : m.find(opts.function);
  if (!fn) {
    std::fprintf(stderr, "kestrel-run: error: no function '%s' in %s\n",
                 opts.function.c_str(), opts.library.c_str());
    return 1;
  }

  std::vector<std::vector<char>> buffers;
  std::vector<void *> pointers;
  for (size_t i = 0; i < fn->inputs.size(); ++i) {
    std::vector<char> data;
    if (!opts.inputs.empty()) {
      std::string path = opts.inputs + "/in" + std::to_string(i) + ".npy";
      if (!readNpy(path, fn->inputs[i], data, error)) {
        std::fprintf(stderr, "kestrel-run: error: %s\n", error.c_str());
        return 1;
      }
    } else {
      fillDeterministic(fn->inputs[i], data, i);
    }
    buffers.push_back(std::move(data));
  }
  for (const Tensor &t : fn->outputs)
    buffers.emplace_back(t.bytes(), 0);
  for (std::vector<char> &b : buffers)
    pointers.push_back(b.data());

  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < opts.warmup; ++i)
    if (!module->call(*fn, pointers, error)) {
      std::fprintf(stderr, "kestrel-run: error: %s\n", error.c_str());
      return 1;
    }
  std::vector<double> ms;
  for (int i = 0; i < opts.repeat; ++i) {
    auto start = Clock::now();
    module->call(*fn, pointers, error);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start)
                     .count());
  }
  if (!ms.empty()) {
    std::sort(ms.begin(), ms.end());
    std::printf("%s: median %.3f ms, min %.3f ms over %d calls\n",
                fn->name.c_str(), ms[ms.size() / 2], ms.front(), opts.repeat);
  }

  if (!opts.outputs.empty()) {
    size_t nin = fn->inputs.size();
    for (size_t i = 0; i < buffers.size(); ++i) {
      bool isIn = i < nin;
      const Tensor &t = isIn ? fn->inputs[i] : fn->outputs[i - nin];
      std::string path = opts.outputs + (isIn ? "/in" : "/out") +
                         std::to_string(isIn ? i : i - nin) + ".npy";
      if (!writeNpy(path, t, buffers[i].data(), error)) {
        std::fprintf(stderr, "kestrel-run: error: %s\n", error.c_str());
        return 1;
      }
    }
  }
  return 0;
}
