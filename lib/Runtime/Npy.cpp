//===- Npy.cpp - Minimal .npy reader and writer ---------------------------===//

#include "kestrel/Runtime/Npy.h"

#include <cstdint>
#include <cstring>
#include <fstream>

namespace kestrel::rt {

static std::string descr(const std::string &dtype) {
  if (dtype == "f32")
    return "<f4";
  if (dtype == "f16")
    return "<f2";
  if (dtype == "i64")
    return "<i8";
  if (dtype == "i32")
    return "<i4";
  if (dtype == "i8")
    return "|i1";
  if (dtype == "i1")
    return "|b1";
  return ""; // bf16 has no NumPy dtype: stored as raw uint16
}

static std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (int64_t d : shape)
    s += std::to_string(d) + ", ";
  if (shape.size() == 1)
    s.erase(s.size() - 1); // "(n,)", as NumPy writes a 1-tuple
  else if (shape.size() > 1)
    s.erase(s.size() - 2);
  return s + ")";
}

bool writeNpy(const std::string &path, const Tensor &spec, const void *data,
              std::string &error) {
  std::string d = descr(spec.dtype);
  if (d.empty())
    d = "<u2";
  std::string header =
      "{'descr': '" + d +
      "', 'fortran_order': False, 'shape': " + shapeText(spec.shape) + ", }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded to 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out)
    return error = "cannot write " + path, false;
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(header.size());
  char lenBytes[2] = {static_cast<char>(len & 0xff),
                      static_cast<char>(len >> 8)};
  out.write(lenBytes, 2);
  out << header;
  out.write(static_cast<const char *>(data), spec.bytes());
  if (!out)
    return error = "error writing " + path, false;
  return true;
}

bool readNpy(const std::string &path, const Tensor &spec,
             std::vector<char> &data, std::string &error) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return error = "cannot read " + path, false;
  std::streamoff fileBytes = in.tellg();
  in.seekg(0);
  if (fileBytes < 0 || !in)
    return error = "cannot read " + path, false;
  char magic[10];
  if (!in.read(magic, 10) || std::memcmp(magic, "\x93NUMPY", 6) != 0 ||
      magic[6] != 1)
    return error = path + " is not a version 1 .npy file", false;
  size_t len = static_cast<unsigned char>(magic[8]) |
               (static_cast<unsigned char>(magic[9]) << 8);
  std::string header(len, '\0');
  if (!in.read(header.data(), len))
    return error = path + ": truncated header", false;
  std::string d = descr(spec.dtype);
  if (d.empty())
    d = "<u2";
  auto has = [&](const std::string &needle) {
    return header.find(needle) != std::string::npos;
  };
  if (!has("'" + d + "'") || !has("'fortran_order': False") ||
      !has("'shape': " + shapeText(spec.shape)))
    return error = path + " does not hold a C-ordered " + spec.dtype +
                   " array of shape " + shapeText(spec.shape) +
                   " (header: " + header + ")",
           false;
  // The data's size is checked before anything is allocated for it.
  uint64_t dataBytes = static_cast<uint64_t>(fileBytes) - 10 - len;
  if (dataBytes != spec.bytes())
    return error =
               path + ": " +
               (dataBytes < spec.bytes() ? "truncated data" : "trailing data") +
               ": " + std::to_string(dataBytes) + " bytes after the header, " +
               spec.dtype + " " + shapeText(spec.shape) + " takes " +
               std::to_string(spec.bytes()),
           false;
  data.resize(spec.bytes());
  if (!in.read(data.data(), data.size()))
    return error = path + ": truncated data", false;
  return true;
}

} // namespace kestrel::rt
