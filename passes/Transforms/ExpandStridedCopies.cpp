//===- ExpandStridedCopies.cpp - memref.copy of strided views as linalg ---===//
//
// MemRefToLLVM lowers memref.copy between contiguous buffers to memcpy, but
// a copy from or into a strided view (a returned tensor.extract_slice, an
// insert_slice into a strided buffer) becomes a call to `memrefCopy` from
// MLIR's C runner utilities, which Kestrel's libraries and kernels do not
// link. This pass rewrites exactly those copies as linalg.copy, which the
// pipelines lower to loops (CPU) or parallel loops (GPU kernels) like any
// other linalg op.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"

namespace kestrel {
#define GEN_PASS_DEF_EXPANDSTRIDEDCOPIES
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

/// Whether MemRefToLLVM copies `type` with memcpy (the same test it uses).
bool isContiguous(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && (memref.getLayout().isIdentity() ||
                    (memref.hasStaticShape() && memref.getNumElements() > 0 &&
                     memref::isStaticShapeAndContiguousRowMajor(memref)));
}

struct ExpandStridedCopiesPass
    : kestrel::impl::ExpandStridedCopiesBase<ExpandStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      if (!isContiguous(copy.getSource().getType()) ||
          !isContiguous(copy.getTarget().getType()))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
