//===- MapLoopsToGPU.cpp - Processor mapping for scf.parallel nests -------===//
//
// Annotates scf.parallel nests with gpu.loop_dim_map so that
// convert-parallel-loops-to-gpu turns the outer loop into the grid and the
// loop nested in it into the thread block, innermost dimension first: the
// fastest-varying index of a row-major buffer lands on threadIdx.x, so a warp
// reads consecutive addresses.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace kestrel {
#define GEN_PASS_DEF_MAPLOOPSTOGPU
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

/// Maps `loop`'s dimensions, innermost first, onto `processors`; dimensions
/// beyond them run sequentially.
static LogicalResult mapLoop(scf::ParallelOp loop,
                             ArrayRef<gpu::Processor> processors) {
  MLIRContext *ctx = loop.getContext();
  OpBuilder b(ctx);
  AffineMap id = b.getDimIdentityMap();
  unsigned rank = loop.getNumLoops();
  SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
  for (unsigned i = 0; i < rank; ++i) {
    unsigned fromInner = rank - 1 - i;
    gpu::Processor p = fromInner < processors.size()
                           ? processors[fromInner]
                           : gpu::Processor::Sequential;
    mapping.push_back(b.getAttr<gpu::ParallelLoopDimMappingAttr>(p, id, id));
  }
  return gpu::setMappingAttr(loop, mapping);
}

struct MapLoopsToGPUPass : kestrel::impl::MapLoopsToGPUBase<MapLoopsToGPUPass> {
  void runOnOperation() override {
    using gpu::Processor;
    const Processor blocks[] = {Processor::BlockX, Processor::BlockY,
                                Processor::BlockZ};
    const Processor threads[] = {Processor::ThreadX, Processor::ThreadY,
                                 Processor::ThreadZ};
    for (Operation &op : getOperation().getBody().getOps()) {
      auto outer = dyn_cast<scf::ParallelOp>(&op);
      if (!outer)
        continue;
      if (failed(mapLoop(outer, blocks)))
        return signalPassFailure();
      // The thread-level loop is the scf.parallel directly in the body.
      for (auto inner : outer.getBody()->getOps<scf::ParallelOp>())
        if (failed(mapLoop(inner, threads)))
          return signalPassFailure();
      // Deeper parallel loops run sequentially inside each thread.
      outer.getBody()->walk([&](scf::ParallelOp nested) {
        if (nested->getParentOp() != outer.getOperation() &&
            !nested->hasAttr(gpu::getMappingAttrName()))
          (void)mapLoop(nested, {});
      });
    }
  }
};

} // namespace
