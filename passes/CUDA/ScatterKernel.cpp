//===- ScatterKernel.cpp - Run-time-index scatters as parallel loops ------===//
//
// The ONNX importer writes ScatterElements / ScatterND with run-time
// indices as a nest of scf.for loops over the updates, in order, carrying
// the output (OnnxScatterOps.cpp), and marks the outermost loop with
// `kestrel.scatter = "<reduction>"`. After one-shot bufferization the nest
// loads an index and an update and stores into the output buffer, which
// holds a copy of the data; on cuda that loop would stay on the host. Here
// it becomes one gpu.launch with one thread per update element (256 per
// block, the nest's iteration space flattened and delinearized in the
// thread), which runs after the copy of the data into the output.
//
// Reduction "none" keeps its store: with duplicate indices one of the
// writes wins, unspecified which (ONNX leaves it unspecified; the CPU loop
// applies them in order, so the last one wins there). add / max / min
// become memref.atomic_rmw: the combined result does not depend on the
// order, up to floating-point rounding for add. "mul" has no atomic
// read-modify-write in NVPTX (a compare-and-swap loop on the bit pattern
// is not expressible with memref ops), so it is refused at the scatter.
//
//===----------------------------------------------------------------------===//

#include "dialects/DecisionAttrs.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

namespace kestrel {
#define GEN_PASS_DEF_GPUSCATTER
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

constexpr int64_t kThreads = 256;

/// The perfect nest of scf.for starting at `outer`: each body holds only
/// constants, the next loop and the terminator. Empty if it is not one, or
/// if a bound is not a constant.
SmallVector<scf::ForOp> forNest(scf::ForOp outer) {
  SmallVector<scf::ForOp> nest;
  for (scf::ForOp loop = outer; loop;) {
    for (Value v : {loop.getLowerBound(), loop.getUpperBound(), loop.getStep()})
      if (!getConstantIntValue(v))
        return {};
    nest.push_back(loop);
    scf::ForOp inner;
    bool other = false;
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (auto f = dyn_cast<scf::ForOp>(op)) {
        if (inner)
          return {};
        inner = f;
      } else if (!isa<arith::ConstantOp>(op)) {
        other = true;
      }
    }
    if (inner && other)
      return {};
    loop = inner;
  }
  return nest;
}

/// Whether every loop of `nest` carries its memref iter_args in place: the
/// innermost yields its own block arguments, the others the inner loop's
/// results, and every init after the outermost is the enclosing loop's
/// block argument. Bufferization leaves that form when the scatter updated
/// its output in place.
bool carriedInPlace(MutableArrayRef<scf::ForOp> nest) {
  size_t n = nest.front().getNumRegionIterArgs();
  for (size_t d = 0; d < nest.size(); ++d) {
    scf::ForOp loop = nest[d];
    if (loop.getNumRegionIterArgs() != n)
      return false;
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    for (size_t i = 0; i < n; ++i) {
      if (!isa<MemRefType>(loop.getInitArgs()[i].getType()))
        return false;
      if (d > 0 && loop.getInitArgs()[i] != nest[d - 1].getRegionIterArgs()[i])
        return false;
      Value want = d + 1 < nest.size() ? nest[d + 1].getResult(i)
                                       : loop.getRegionIterArgs()[i];
      if (yield.getOperand(i) != want)
        return false;
    }
  }
  return true;
}

std::optional<arith::AtomicRMWKind> atomicKind(StringRef kind, Type t) {
  bool f = isa<FloatType>(t);
  if (kind == "add")
    return f ? arith::AtomicRMWKind::addf : arith::AtomicRMWKind::addi;
  if (kind == "max")
    return f ? arith::AtomicRMWKind::maximumf : arith::AtomicRMWKind::maxs;
  if (kind == "min")
    return f ? arith::AtomicRMWKind::minimumf : arith::AtomicRMWKind::mins;
  return std::nullopt;
}

/// Replaces `store(combine(load(m[i]), u), m[i])` in `body` by
/// `atomic_rmw kind u, m[i]`. Fails if the store is not of that form.
LogicalResult makeAtomic(Block &body, arith::AtomicRMWKind kind) {
  SmallVector<memref::StoreOp> stores(body.getOps<memref::StoreOp>());
  if (stores.size() != 1)
    return failure();
  memref::StoreOp store = stores.front();
  Operation *combine = store.getValueToStore().getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 ||
      combine->getBlock() != &body)
    return failure();
  auto old = combine->getOperand(0).getDefiningOp<memref::LoadOp>();
  if (!old || old.getMemRef() != store.getMemRef() ||
      old.getIndices() != store.getIndices())
    return failure();
  OpBuilder b(store);
  memref::AtomicRMWOp::create(b, store.getLoc(), kind, combine->getOperand(1),
                              store.getMemRef(), store.getIndices());
  store.erase();
  if (combine->use_empty())
    combine->erase();
  if (old->use_empty())
    old->erase();
  return success();
}

struct GpuScatterPass : kestrel::impl::GpuScatterBase<GpuScatterPass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> marked;
    getOperation().walk([&](scf::ForOp loop) {
      if (loop->hasAttr(decision::kScatter))
        marked.push_back(loop);
    });
    for (scf::ForOp loop : marked)
      if (failed(rewrite(loop)))
        return signalPassFailure();
  }

  LogicalResult rewrite(scf::ForOp outer) {
    StringRef kind =
        outer->getAttrOfType<StringAttr>(decision::kScatter).getValue();
    // Only a nest at the function's top level is a host loop; one inside
    // another loop (a kernel generator's) is left alone.
    if (outer->getParentOp() != getOperation().getOperation())
      return success();
    SmallVector<scf::ForOp> nest = forNest(outer);
    if (nest.empty() || !carriedInPlace(nest))
      return success(); // stays a host loop; the runtime check refuses it
    if (kind == "mul")
      return outer.emitError()
             << "scatter with reduction 'mul' is not supported on cuda "
                "targets: there is no atomic multiply for the parallel "
                "updates; use --target=cpu";

    // One thread per update: the nest's iteration space flattened, 256
    // threads per block, the thread's linear index delinearized into the
    // loops' induction variables (row-major, as the nest ran).
    SmallVector<int64_t> lbs, trips, steps;
    int64_t total = 1;
    for (scf::ForOp loop : nest) {
      int64_t lb = *getConstantIntValue(loop.getLowerBound());
      int64_t ub = *getConstantIntValue(loop.getUpperBound());
      int64_t step = *getConstantIntValue(loop.getStep());
      if (step <= 0)
        return success();
      lbs.push_back(lb);
      steps.push_back(step);
      trips.push_back(ub > lb ? llvm::divideCeil(ub - lb, step) : 0);
      total *= trips.back();
    }
    if (total > 0) {
      OpBuilder b(outer);
      Location loc = outer.getLoc();
      auto c = [&](int64_t v) {
        return arith::ConstantIndexOp::create(b, loc, v).getResult();
      };
      int64_t threads = std::min<int64_t>(kThreads, total);
      Value one = c(1);
      auto launch = gpu::LaunchOp::create(
          b, loc, c(llvm::divideCeil(total, threads)), one, one, c(threads),
          one, one, nullptr, nullptr, ValueRange{});
      launch->setAttr(decision::kScatter, b.getStringAttr(kind));
      b.setInsertionPointToStart(&launch.getBody().front());
      Value linear = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, launch.getBlockIds().x, c(threads)),
          launch.getThreadIds().x);
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           linear, c(total));
      auto guard = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
      gpu::TerminatorOp::create(b, loc);
      b.setInsertionPointToStart(&guard.getThenRegion().front());
      IRMapping map;
      Value rest = linear;
      for (int64_t d = nest.size() - 1; d >= 0; --d) {
        Value i = d ? arith::RemUIOp::create(b, loc, rest, c(trips[d]))
                          .getResult()
                    : rest;
        if (d)
          rest = arith::DivUIOp::create(b, loc, rest, c(trips[d]));
        Value iv = arith::AddIOp::create(
            b, loc, c(lbs[d]), arith::MulIOp::create(b, loc, i, c(steps[d])));
        map.map(nest[d].getInductionVar(), iv);
        for (auto [arg, init] :
             llvm::zip(nest[d].getRegionIterArgs(), outer.getInitArgs()))
          map.map(arg, init);
      }
      for (size_t d = 0; d < nest.size(); ++d)
        for (Operation &op : nest[d].getBody()->without_terminator())
          if (d + 1 == nest.size() || !isa<scf::ForOp>(op))
            b.clone(op, map);
      Block *body = &guard.getThenRegion().front();
      if (kind != "none") {
        SmallVector<memref::StoreOp> stores(body->getOps<memref::StoreOp>());
        std::optional<arith::AtomicRMWKind> atomic =
            stores.size() == 1
                ? atomicKind(kind, stores.front().getValueToStore().getType())
                : std::nullopt;
        if (!atomic || failed(makeAtomic(*body, *atomic))) {
          launch.erase();
          return outer.emitError()
                 << "scatter with reduction '" << kind
                 << "' could not be made atomic for cuda targets; use "
                    "--target=cpu";
        }
      }
    }
    outer.replaceAllUsesWith(outer.getInitArgs());
    outer.erase();
    return success();
  }
};

} // namespace
