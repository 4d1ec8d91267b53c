//===- Npy.h - NumPy .npy files for runtime inputs and outputs -*- C++ -*-===//
//
// Version 1.0 .npy files of little-endian, C-ordered arrays: what the tools
// exchange with NumPy-based checks.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_RUNTIME_NPY_H
#define KESTREL_RUNTIME_NPY_H

#include "kestrel/Runtime/Manifest.h"

#include <string>
#include <vector>

namespace kestrel::rt {

bool writeNpy(const std::string &path, const Tensor &spec, const void *data,
              std::string &error);

/// Reads `path`, which must hold exactly `spec`'s dtype and shape.
bool readNpy(const std::string &path, const Tensor &spec,
             std::vector<char> &data, std::string &error);

} // namespace kestrel::rt

#endif // KESTREL_RUNTIME_NPY_H
