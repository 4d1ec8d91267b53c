//===- AlignWorkgroupMemory.cpp - 16-byte aligned shared buffers ----------===//
//
// gpu-to-nvvm places a kernel's workgroup attributions in shared-memory
// globals aligned to their element type only (2 bytes for bf16). Kernels
// that move 16-byte vectors or use ldmatrix need every row they touch to be
// 16-byte aligned, so this pass asks for that alignment on every workgroup
// attribution that does not already ask for one.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace kestrel {
#define GEN_PASS_DEF_ALIGNWORKGROUPMEMORY
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

struct AlignWorkgroupMemoryPass
    : kestrel::impl::AlignWorkgroupMemoryBase<AlignWorkgroupMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    StringRef name = LLVM::LLVMDialect::getAlignAttrName();
    IntegerAttr align =
        IntegerAttr::get(IntegerType::get(&getContext(), 64), alignment);
    getOperation().walk([&](gpu::GPUFuncOp fn) {
      for (unsigned i = 0, e = fn.getNumWorkgroupAttributions(); i < e; ++i)
        if (!fn.getWorkgroupAttributionAttr(i, name))
          fn.setWorkgroupAttributionAttr(i, name, align);
    });
  }
};

} // namespace
