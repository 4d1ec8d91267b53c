//===- Manifest.cpp - Parser of the line-based manifest -------------------===//

#include "kestrel/Runtime/Manifest.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <sstream>

namespace kestrel::rt {

size_t Tensor::elementBytes() const {
  if (dtype == "f32" || dtype == "i32")
    return 4;
  if (dtype == "f16" || dtype == "bf16")
    return 2;
  if (dtype == "i64")
    return 8;
  return 1; // i8, i1
}

size_t Tensor::numElements() const {
  size_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<size_t>(d);
  return n;
}

const Function *Manifest::find(const std::string &name) const {
  for (const Function &f : functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

static bool parseInt(const std::string &s, int64_t &v) {
  if (s.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  v = std::strtoll(s.c_str(), &end, 0);
  return end && *end == '\0' && errno != ERANGE;
}

static bool parseShape(const std::string &s, std::vector<int64_t> &shape) {
  shape.clear();
  if (s == "scalar")
    return true;
  std::stringstream ss(s);
  std::string part;
  // The byte size must stay below kMaxTensorBytes (no size_t overflow in
  // Tensor::bytes or in sums of a few of them).
  uint64_t bytes = 8;
  while (std::getline(ss, part, 'x')) {
    int64_t d;
    if (!parseInt(part, d) || d < 0)
      return false;
    if (d > 0 && bytes > kMaxTensorBytes / static_cast<uint64_t>(d))
      return false;
    bytes *= static_cast<uint64_t>(d);
    shape.push_back(d);
  }
  return !shape.empty();
}

static bool parseSize(const std::string &s, size_t &v) {
  int64_t n;
  if (!parseInt(s, n) || n < 0)
    return false;
  v = static_cast<size_t>(n);
  return true;
}

static bool knownDtype(const std::string &d) {
  for (const char *k : {"f32", "f16", "bf16", "i64", "i32", "i8", "i1"})
    if (d == k)
      return true;
  return false;
}

uint64_t fnv1a64(const void *data, size_t n) {
  auto *p = static_cast<const unsigned char *>(data);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static bool parseParam(const std::string &s, Param &p) {
  if (s.size() > 1 && s[0] == 'b') {
    p.kind = Param::Buffer;
    return parseInt(s.substr(1), p.value) && p.value >= 0 &&
           p.value <= UINT32_MAX;
  }
  size_t colon = s.find(':');
  if (colon == std::string::npos)
    return false;
  std::string kind = s.substr(0, colon), value = s.substr(colon + 1);
  if (kind == "i32")
    p.kind = Param::I32;
  else if (kind == "i64")
    p.kind = Param::I64;
  else if (kind == "f32")
    p.kind = Param::F32;
  else if (kind == "f64")
    p.kind = Param::F64;
  else
    return false;
  if (p.kind != Param::F64)
    return parseInt(value, p.value);
  // All 64 bits of a double's pattern (beyond strtoll's range).
  char *end = nullptr;
  errno = 0;
  unsigned long long bits = std::strtoull(value.c_str(), &end, 16);
  if (value.empty() || !end || *end != '\0' || errno == ERANGE)
    return false;
  p.value = static_cast<int64_t>(bits);
  return true;
}

bool parseManifest(const std::string &text, Manifest &out, std::string &error) {
  out = Manifest();
  std::istringstream lines(text);
  std::string line;
  unsigned lineNo = 0;
  Function *fn = nullptr;
  int64_t declaredIn = 0, declaredOut = 0; // of `fn`
  auto fail = [&](const std::string &why) {
    error = "manifest line " + std::to_string(lineNo) + ": " + why + ": '" +
            line + "'";
    return false;
  };
  while (std::getline(lines, line)) {
    ++lineNo;
    std::istringstream words(line);
    std::string word;
    if (!(words >> word))
      continue;
    if (lineNo == 1) {
      int64_t version;
      std::string v;
      if (word != "kestrel-manifest" || !(words >> v) ||
          !parseInt(v, version) || version != 1 || !(words >> out.kind))
        return fail("expected 'kestrel-manifest 1 <cpu|cuda>'");
      continue;
    }
    if (word == "target") {
      words >> out.target;
    } else if (word == "ptx") {
      words >> out.ptx;
    } else if (word == "weights") {
      std::string bytes, sum;
      char *end = nullptr;
      if (!out.weights.empty())
        return fail("a second 'weights' line");
      if (fn || !out.functions.empty() ||
          !(words >> out.weights >> bytes >> sum) ||
          !parseSize(bytes, out.weightsBytes) || sum.size() < 3 ||
          sum.compare(0, 2, "0x") != 0)
        return fail("expected 'weights FILE BYTES 0xFNV1A64' before the "
                    "functions");
      errno = 0;
      out.weightsChecksum = std::strtoull(sum.c_str() + 2, &end, 16);
      if (!end || *end != '\0' || errno == ERANGE)
        return fail("bad weights checksum");
    } else if (word == "function") {
      if (fn)
        return fail("function '" + fn->name + "' has no 'end'");
      std::string name, a, b;
      if (!(words >> name >> a >> b) || !parseInt(a, declaredIn) ||
          !parseInt(b, declaredOut) || declaredIn < 0 || declaredOut < 0)
        return fail("expected 'function NAME NUM_IN NUM_OUT'");
      if (out.find(name))
        return fail("a second function '" + name + "'");
      out.functions.emplace_back();
      fn = &out.functions.back();
      fn->name = name;
    } else if (!fn) {
      return fail("expected 'function' before this line");
    } else if (word == "in" || word == "out") {
      Tensor t;
      std::string shape;
      if (!(words >> t.dtype >> shape) || !parseShape(shape, t.shape))
        return fail("expected '" + word + " DTYPE DIMxDIM...'");
      if (!knownDtype(t.dtype))
        return fail("unknown dtype '" + t.dtype + "'");
      (word == "in" ? fn->inputs : fn->outputs).push_back(t);
    } else if (word == "temp") {
      std::string id, bytes;
      int64_t i, n;
      if (!(words >> id >> bytes) || !parseInt(id, i) || !parseInt(bytes, n) ||
          i < 0 || i > UINT32_MAX || n < 0 ||
          static_cast<uint64_t>(n) > kMaxTensorBytes)
        return fail("expected 'temp ID BYTES'");
      fn->temps.emplace_back(static_cast<unsigned>(i), static_cast<size_t>(n));
    } else if (word == "const") {
      Constant c;
      std::string id, shape, offset, bytes;
      int64_t i;
      size_t n;
      if (!(words >> id >> c.tensor.dtype >> shape >> offset >> bytes) ||
          !parseInt(id, i) || i < 0 || i > UINT32_MAX ||
          !knownDtype(c.tensor.dtype) || !parseShape(shape, c.tensor.shape) ||
          !parseSize(offset, c.offset) || !parseSize(bytes, n))
        return fail("expected 'const ID DTYPE DIMxDIM... OFFSET BYTES'");
      c.id = static_cast<unsigned>(i);
      if (n != c.tensor.bytes())
        return fail("constant of " + std::to_string(n) + " bytes, but " +
                    c.tensor.dtype + " " + shape + " takes " +
                    std::to_string(c.tensor.bytes()));
      if (out.weights.empty())
        return fail("'const' without a 'weights' file");
      if (c.offset > out.weightsBytes || n > out.weightsBytes - c.offset)
        return fail("constant beyond the " + std::to_string(out.weightsBytes) +
                    " bytes of " + out.weights);
      fn->constants.push_back(c);
    } else if (word == "copy") {
      Step s;
      s.kind = Step::Copy;
      std::string a, b, n;
      int64_t src, dst, bytes;
      if (!(words >> a >> b >> n) || !parseInt(a, src) || !parseInt(b, dst) ||
          !parseInt(n, bytes) || src < 0 || src > UINT32_MAX || dst < 0 ||
          dst > UINT32_MAX || bytes < 0 ||
          static_cast<uint64_t>(bytes) > kMaxTensorBytes)
        return fail("expected 'copy SRC DST BYTES'");
      s.src = src, s.dst = dst, s.bytes = bytes;
      fn->steps.push_back(s);
    } else if (word == "launch") {
      Step s;
      s.kind = Step::Launch;
      std::string key;
      if (!(words >> s.kernel))
        return fail("expected a kernel name");
      while (words >> key) {
        if (key == "grid" || key == "block") {
          unsigned *dims = key == "grid" ? s.grid : s.block;
          for (int i = 0; i < 3; ++i) {
            std::string d;
            int64_t v;
            if (!(words >> d) || !parseInt(d, v) || v <= 0 || v > UINT32_MAX)
              return fail("bad " + key + " dimensions");
            dims[i] = static_cast<unsigned>(v);
          }
        } else if (key == "smem") {
          std::string d;
          int64_t v;
          if (!(words >> d) || !parseInt(d, v) || v < 0 || v > UINT32_MAX)
            return fail("bad shared memory size");
          s.sharedBytes = static_cast<unsigned>(v);
        } else if (key == "params") {
          std::string p;
          while (words >> p) {
            Param param{Param::I64};
            if (!parseParam(p, param))
              return fail("bad kernel parameter '" + p + "'");
            s.params.push_back(param);
          }
        } else {
          return fail("unknown launch field '" + key + "'");
        }
      }
      fn->steps.push_back(s);
    } else if (word == "end") {
      if (static_cast<int64_t>(fn->inputs.size()) != declaredIn ||
          static_cast<int64_t>(fn->outputs.size()) != declaredOut)
        return fail("function '" + fn->name + "' declares " +
                    std::to_string(declaredIn) + " inputs and " +
                    std::to_string(declaredOut) + " outputs but lists " +
                    std::to_string(fn->inputs.size()) + " and " +
                    std::to_string(fn->outputs.size()));
      fn = nullptr;
    } else {
      return fail("unknown entry '" + word + "'");
    }
  }
  if (lineNo == 0)
    return error = "empty manifest", false;
  if (fn)
    return error = "manifest ends inside function '" + fn->name + "'", false;
  return true;
}

} // namespace kestrel::rt
