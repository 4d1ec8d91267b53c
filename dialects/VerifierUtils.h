//===- VerifierUtils.h - Shape checks shared by the op verifiers -*- C++
//-*-===//
//
// Static shape comparisons and printing used by every op family's verifier,
// so that each reports sizes the same way.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DIALECTS_VERIFIERUTILS_H
#define KESTREL_DIALECTS_VERIFIERUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace kestrel {

/// Two static sizes disagree; dynamic sizes are checked at run time.
inline bool mismatch(int64_t a, int64_t b) {
  return !mlir::ShapedType::isDynamic(a) && !mlir::ShapedType::isDynamic(b) &&
         a != b;
}

/// `type` must be `expected` (dynamic sizes match anything).
inline bool shapeMismatch(mlir::RankedTensorType type,
                          llvm::ArrayRef<int64_t> expected) {
  if (type.getRank() != static_cast<int64_t>(expected.size()))
    return true;
  for (auto [got, want] : llvm::zip(type.getShape(), expected))
    if (mismatch(got, want))
      return true;
  return false;
}

/// Prints a shape as [a, b, c] with `?` for dynamic sizes.
inline std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (mlir::ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

} // namespace kestrel

#endif // KESTREL_DIALECTS_VERIFIERUTILS_H
