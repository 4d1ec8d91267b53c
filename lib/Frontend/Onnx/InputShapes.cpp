//===- InputShapes.cpp - `--input-shape NAME=DxD...` specs ----------------===//
//
// Shared by kestrelc and the C API, so both accept and reject the same text.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Frontend/Onnx.h"

#include "llvm/ADT/SmallVector.h"

using namespace llvm;

std::string kestrel::addInputShapeSpec(StringRef spec,
                                       OnnxImportOptions &options) {
  auto [name, dims] = spec.rsplit('=');
  std::vector<int64_t> shape;
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  bool ok = !name.empty() && !dims.empty() && spec.contains('=');
  for (StringRef p : parts) {
    int64_t d;
    ok &= !p.getAsInteger(10, d) && d > 0;
    shape.push_back(d);
  }
  if (!ok)
    return "--input-shape expects NAME=DxDx..., got '" + spec.str() + "'";
  options.inputShapes[name.str()] = std::move(shape);
  return "";
}
