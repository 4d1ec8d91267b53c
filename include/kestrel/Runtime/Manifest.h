//===- Manifest.h - Reading compiled-module manifests ----------*- C++ -*-===//
//
// The runtimes learn what a compiled module exports from its manifest (format
// in docs/runtime.md): embedded as `kestrel_manifest` in CPU libraries, a
// file beside the PTX for CUDA. Plain C++17, no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_RUNTIME_MANIFEST_H
#define KESTREL_RUNTIME_MANIFEST_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kestrel::rt {

/// The largest buffer a manifest may declare (16 TiB): bounds every byte
/// count the parser accepts, so that sizes and their sums cannot overflow.
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 44;

struct Tensor {
  std::string dtype;          // f32, f16, bf16, i64, i32, i8, i1
  std::vector<int64_t> shape; // empty for a scalar
  size_t elementBytes() const;
  size_t numElements() const;
  size_t bytes() const { return elementBytes() * numElements(); }
};

/// One kernel parameter of a CUDA launch: a buffer or a scalar.
struct Param {
  enum Kind { Buffer, I32, I64, F32, F64 } kind;
  int64_t value = 0; // buffer id, integer, or the float's bit pattern
};

struct Step {
  enum Kind { Launch, Copy } kind = Launch;
  std::string kernel; // Launch
  unsigned grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  unsigned sharedBytes = 0;
  std::vector<Param> params;
  unsigned src = 0, dst = 0; // Copy
  size_t bytes = 0;
};

/// CUDA: a read-only buffer holding bytes [offset, offset + tensor.bytes())
/// of the manifest's weights file, uploaded once when the module is loaded.
struct Constant {
  unsigned id = 0;
  Tensor tensor;
  size_t offset = 0;
};

struct Function {
  std::string name;
  std::vector<Tensor> inputs, outputs;
  std::vector<std::pair<unsigned, size_t>> temps; // CUDA: buffer id, bytes
  std::vector<Constant> constants;                // CUDA only
  std::vector<Step> steps;                        // CUDA only
};

struct Manifest {
  std::string kind;   // "cpu" or "cuda"
  std::string target; // CUDA: sm_90a, ...
  std::string ptx;    // CUDA: PTX file, relative to the manifest
  // CUDA: the weights file of the `const` buffers, relative to the manifest
  // (empty when there is none), its size and its FNV-1a 64 checksum.
  std::string weights;
  size_t weightsBytes = 0;
  uint64_t weightsChecksum = 0;
  std::vector<Function> functions;
  const Function *find(const std::string &name) const;
};

/// Parses manifest text; on failure returns false and sets `error` to a
/// message naming the line.
bool parseManifest(const std::string &text, Manifest &out, std::string &error);

/// FNV-1a, 64 bits, of `n` bytes: the checksum of a weights file.
uint64_t fnv1a64(const void *data, size_t n);

} // namespace kestrel::rt

#endif // KESTREL_RUNTIME_MANIFEST_H
