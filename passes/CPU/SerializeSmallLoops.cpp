//===- SerializeSmallLoops.cpp - Small scf.forall loops stay on one thread ===//
//
// Every scf.forall later becomes an OpenMP parallel region. Forking and
// joining the team costs microseconds when the threads are spinning and far
// more when they sleep or share the cores with other work, so a loop nest
// with less work than that runs faster serially. This pass estimates the
// operations a forall executes (trip counts times body size, static bounds
// only) and rewrites those below `min-work` into nested scf.for loops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

namespace kestrel {
#define GEN_PASS_DEF_SERIALIZESMALLLOOPS
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

/// Work counts saturate here: "unknown or huge", never serialized.
constexpr int64_t kHuge = int64_t(1) << 50;

int64_t mul(int64_t a, int64_t b) {
  if (a == 0 || b == 0)
    return 0;
  return a > kHuge / b ? kHuge : a * b;
}

int64_t add(int64_t a, int64_t b) { return std::min(kHuge, a + b); }

int64_t blockWork(Block &block);

/// Iterations of a loop with constant bounds, or kHuge.
int64_t tripCount(OpFoldResult lb, OpFoldResult ub, OpFoldResult step) {
  std::optional<int64_t> l = getConstantIntValue(lb),
                         u = getConstantIntValue(ub),
                         s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return kHuge;
  return *u > *l ? llvm::divideCeil(*u - *l, *s) : 0;
}

/// Elements of a shaped type with a static shape, or kHuge.
int64_t elements(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped)
    return 1;
  if (!shaped.hasStaticShape())
    return kHuge;
  return shaped.getNumElements();
}

/// Estimated operations `op` executes: one per scalar op, one per 16 lanes
/// of a vector op, loop bodies times their trip counts.
int64_t opWork(Operation *op) {
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return mul(
        tripCount(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()),
        blockWork(*loop.getBody()));
  if (auto forall = dyn_cast<scf::ForallOp>(op)) {
    int64_t trips = 1;
    for (auto [lb, ub, step] :
         llvm::zip(forall.getMixedLowerBound(), forall.getMixedUpperBound(),
                   forall.getMixedStep()))
      trips = mul(trips, tripCount(lb, ub, step));
    return mul(trips, blockWork(*forall.getBody()));
  }
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    int64_t points = 1;
    for (int64_t range : linalgOp.getStaticLoopRanges())
      points = mul(points, ShapedType::isDynamic(range) ? kHuge : range);
    int64_t body = std::max<int64_t>(1, blockWork(*linalgOp.getBlock()));
    return mul(points, body);
  }
  if (isa<memref::CopyOp>(op))
    return elements(op->getOperand(0).getType());
  if (op->getNumRegions() == 0) {
    int64_t lanes = 1;
    for (Type t : op->getResultTypes())
      if (auto v = dyn_cast<VectorType>(t))
        lanes =
            std::max<int64_t>(lanes, llvm::divideCeil(v.getNumElements(), 16));
    return lanes;
  }
  // Other region ops (scf.if, scf.while, ...): every region once; a while
  // loop has no static trip count.
  if (isa<scf::WhileOp>(op))
    return kHuge;
  int64_t work = 1;
  for (Region &region : op->getRegions())
    for (Block &block : region)
      work = add(work, blockWork(block));
  return work;
}

int64_t blockWork(Block &block) {
  int64_t work = 0;
  for (Operation &op : block)
    work = add(work, opWork(&op));
  return work;
}

struct SerializeSmallLoopsPass
    : kestrel::impl::SerializeSmallLoopsBase<SerializeSmallLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    // Outermost foralls only: a nested one is inside a region that already
    // runs on one thread per iteration.
    SmallVector<scf::ForallOp> small;
    getOperation()->walk<WalkOrder::PreOrder>([&](scf::ForallOp forall) {
      if (opWork(forall) < minWork)
        small.push_back(forall);
      return WalkResult::skip();
    });
    IRRewriter rewriter(&getContext());
    for (scf::ForallOp forall : small) {
      rewriter.setInsertionPoint(forall);
      if (failed(scf::forallToForLoop(rewriter, forall))) {
        forall.emitOpError("could not be rewritten into scf.for loops");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
