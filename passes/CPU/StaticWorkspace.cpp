//===- StaticWorkspace.cpp - Intermediates in one persistent workspace ----===//
//
// kestrel-cpu-static-workspace rewrites, per function,
//
//   %a = memref.alloc() : memref<512x1408xf32>  ... memref.dealloc %a
//
// (top-level, static, freed in the body, used only in place or through
// views) into views of one workspace taken per call:
//
//   %old = memref.atomic_rmw assign %c1, @__kestrel_ws_flag_f[0]
//   %ws = scf.if (%old == 0) { @__kestrel_ws_f } else { memref.alloc }
//   %a = memref.view %ws[%offset][] : memref<Sxi8> to memref<512x1408xf32>
//   ...
//   scf.if (%old == 0) { atomic_rmw assign %c0 } else { memref.dealloc %ws }
//   return
//
// Offsets reuse bytes between buffers with disjoint live ranges. The global
// is zero-initialized storage touched once per process, instead of pages
// mapped, faulted in and zeroed on every call (docs/pipelines.md, CPU).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Interfaces/ViewLikeInterface.h"

namespace kestrel {
#define GEN_PASS_DEF_STATICWORKSPACE
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;

namespace {

constexpr int64_t kAlign = 64;

/// One buffer to place: live over block positions [start, end].
struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t bytes = 0, start = 0, end = 0, offset = -1;
};

/// Bytes of a static memref of int/float elements, or -1.
int64_t byteSize(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace() || !type.getElementType().isIntOrFloat())
    return -1;
  int64_t bits = type.getElementTypeBitWidth();
  if (bits % 8)
    return -1;
  return type.getNumElements() * (bits / 8);
}

/// Fills `b.end` and `b.dealloc` from every use of the alloc and its views;
/// false when a use lets the buffer escape or outlive the call.
bool analyzeUses(Buffer &b, Block &body,
                 const DenseMap<Operation *, int64_t> &pos) {
  SmallVector<Value> worklist{b.alloc.getResult()};
  b.end = b.start;
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
        if (v != b.alloc.getResult() || b.dealloc ||
            dealloc->getBlock() != &body)
          return false;
        b.dealloc = dealloc;
        continue;
      }
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == v) {
        for (Value r : user->getResults())
          worklist.push_back(r);
      } else if (user->hasTrait<OpTrait::IsTerminator>() ||
                 isa<CallOpInterface>(user) ||
                 llvm::any_of(user->getResultTypes(),
                              [](Type t) { return isa<BaseMemRefType>(t); })) {
        return false;
      }
      Operation *top = body.findAncestorOpInBlock(*user);
      if (!top)
        return false;
      b.end = std::max(b.end, pos.lookup(top));
    }
  }
  // The dealloc must follow every use: it is where the bytes become free.
  return b.dealloc && pos.lookup(b.dealloc) > b.end;
}

/// Greedy placement, largest first, lowest 64-byte aligned offset free over
/// the buffer's live range. Returns the workspace size.
int64_t place(MutableArrayRef<Buffer> bufs) {
  SmallVector<Buffer *> order;
  for (Buffer &b : bufs)
    order.push_back(&b);
  llvm::stable_sort(order,
                    [](Buffer *x, Buffer *y) { return x->bytes > y->bytes; });
  int64_t total = 0;
  SmallVector<Buffer *> placed;
  for (Buffer *b : order) {
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (Buffer *p : placed)
      if (!(p->end < b->start || b->end < p->start))
        busy.push_back({p->offset, p->offset + p->bytes});
    llvm::sort(busy);
    int64_t at = 0;
    for (auto [lo, hi] : busy) {
      if (at + b->bytes <= lo)
        break;
      at = std::max<int64_t>(at, llvm::alignTo(hi, kAlign));
    }
    b->offset = at;
    total = std::max(total, at + b->bytes);
    placed.push_back(b);
  }
  return static_cast<int64_t>(llvm::alignTo(total, kAlign));
}

struct StaticWorkspacePass
    : kestrel::impl::StaticWorkspaceBase<StaticWorkspacePass> {
  using StaticWorkspaceBase::StaticWorkspaceBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && func.getBody().hasOneBlock())
        rewrite(func);
  }

  void rewrite(func::FuncOp func) {
    Block &body = func.getBody().front();
    DenseMap<Operation *, int64_t> pos;
    for (auto [i, op] : llvm::enumerate(body))
      pos[&op] = i;
    SmallVector<Buffer> bufs;
    for (auto alloc : body.getOps<memref::AllocOp>()) {
      Buffer b;
      b.alloc = alloc;
      b.bytes = byteSize(alloc.getType());
      b.start = pos[alloc];
      if (b.bytes >= std::max<int64_t>(1, minBytes) &&
          alloc.getDynamicSizes().empty() &&
          alloc.getSymbolOperands().empty() && analyzeUses(b, body, pos))
        bufs.push_back(b);
    }
    if (bufs.empty())
      return;
    const int64_t size = place(bufs);
    if (size > maxBytes)
      return;

    MLIRContext *ctx = &getContext();
    Location loc = func.getLoc();
    OpBuilder mb = OpBuilder::atBlockBegin(getOperation().getBody());
    auto wsType = MemRefType::get({size}, IntegerType::get(ctx, 8));
    auto flagType = MemRefType::get({1}, IntegerType::get(ctx, 32));
    std::string name = ("__kestrel_ws_" + func.getSymName()).str();
    auto wsGlobal = memref::GlobalOp::create(
        mb, loc, name, mb.getStringAttr("private"), wsType, mb.getUnitAttr(),
        /*constant=*/false, mb.getI64IntegerAttr(kAlign));
    auto flagGlobal = memref::GlobalOp::create(
        mb, loc, name + "_flag", mb.getStringAttr("private"), flagType,
        DenseElementsAttr::get(RankedTensorType::get({1}, mb.getI32Type()),
                               mb.getI32IntegerAttr(0).getValue()),
        /*constant=*/false, IntegerAttr());
    SymbolTable symbols(getOperation());
    symbols.insert(wsGlobal); // renames on a clash
    symbols.insert(flagGlobal);

    OpBuilder b = OpBuilder::atBlockBegin(&body);
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIntOp::create(b, loc, 1, 32);
    Value zero = arith::ConstantIntOp::create(b, loc, 0, 32);
    Value flag =
        memref::GetGlobalOp::create(b, loc, flagType, flagGlobal.getSymName());
    Value old = memref::AtomicRMWOp::create(
        b, loc, arith::AtomicRMWKind::assign, one, flag, ValueRange{c0});
    Value owned =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, old, zero);
    auto take = scf::IfOp::create(b, loc, TypeRange{wsType}, owned, true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(take.thenBlock());
      scf::YieldOp::create(
          b, loc,
          memref::GetGlobalOp::create(b, loc, wsType, wsGlobal.getSymName())
              .getResult());
      b.setInsertionPointToStart(take.elseBlock());
      scf::YieldOp::create(
          b, loc,
          memref::AllocOp::create(b, loc, wsType, b.getI64IntegerAttr(kAlign))
              .getResult());
    }
    Value ws = take.getResult(0);
    for (Buffer &buf : bufs) {
      b.setInsertionPoint(buf.alloc);
      Value off = arith::ConstantIndexOp::create(b, loc, buf.offset);
      Value view = memref::ViewOp::create(
          b, buf.alloc.getLoc(), buf.alloc.getType(), ws, off, ValueRange{});
      buf.alloc.getResult().replaceAllUsesWith(view);
      buf.dealloc.erase();
      buf.alloc.erase();
    }
    func.walk([&](func::ReturnOp ret) {
      b.setInsertionPoint(ret);
      auto release = scf::IfOp::create(b, loc, TypeRange{}, owned, true);
      b.setInsertionPointToStart(release.thenBlock());
      memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::assign, zero,
                                  flag, ValueRange{c0});
      b.setInsertionPointToStart(release.elseBlock());
      memref::DeallocOp::create(b, loc, ws);
    });
  }
};

} // namespace
