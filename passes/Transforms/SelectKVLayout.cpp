//===- SelectKVLayout.cpp - Choose the KV cache layout --------------------===//
//
// Decides, for every kestrel.decode_attention and kestrel.kv_append, which
// #kestrel.kv_layout its cache should have on the target, applies the
// choice where it is free, and records the decision and its reason on the op
// (kestrel.kv_layout_reason; kestrel.kv_layout_from when it changed).
//
// Ops are grouped into components: the decode and append ops connected
// through the cache values they read and produce. A component's caches can
// be re-laid out at no cost when every cache is created by the function
// itself (tensor.empty or a splat constant: no element order to preserve)
// and used only by the component's ops; then the roots, the appends'
// results and the decode operands are retyped together (a paged cache gets
// the identity block table, a constant). A cache that comes from a function
// argument keeps the caller's layout: converting it would copy the whole
// cache on every call, which costs as much as the decode reads.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

namespace kestrel {
#define GEN_PASS_DEF_SELECTKVLAYOUT
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

/// The logical shape of a contiguous cache: B, Hkv, S, D.
struct CacheDims {
  int64_t B, Hkv, S, D;
};

std::optional<CacheDims> contiguousDims(KVLayoutAttr layout,
                                        RankedTensorType type) {
  ArrayRef<int64_t> s = type.getShape();
  switch (layout.getKind()) {
  case KVLayoutKind::HeadMajor:
    return CacheDims{s[0], s[1], s[2], s[3]};
  case KVLayoutKind::TokenMajor:
    return CacheDims{s[0], s[2], s[1], s[3]};
  default:
    return std::nullopt;
  }
}

RankedTensorType cacheType(KVLayoutAttr layout, const CacheDims &d, Type elem) {
  switch (layout.getKind()) {
  case KVLayoutKind::HeadMajor:
    return RankedTensorType::get({d.B, d.Hkv, d.S, d.D}, elem);
  case KVLayoutKind::TokenMajor:
    return RankedTensorType::get({d.B, d.S, d.Hkv, d.D}, elem);
  case KVLayoutKind::Paged: {
    int64_t P = layout.getPageSize();
    return RankedTensorType::get({d.B * (d.S / P), P, d.Hkv, d.D}, elem);
  }
  default:
    llvm_unreachable("not a convertible layout");
  }
}

std::string str(KVLayoutAttr layout) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << stringifyKVLayoutKind(layout.getKind());
  if (layout.isPaged())
    os << '<' << layout.getPageSize() << '>';
  return s;
}

/// A cache value's operands in the component: decode key/value or append
/// cache.
SmallVector<Value> cacheOperands(Operation *op) {
  if (auto d = dyn_cast<DecodeAttentionOp>(op)) {
    SmallVector<Value> v{d.getKey()};
    if (d.getValue())
      v.push_back(d.getValue());
    return v;
  }
  auto a = cast<KVAppendOp>(op);
  return {a.getCache()};
}

KVLayoutAttr layoutOf(Operation *op) {
  if (auto d = dyn_cast<DecodeAttentionOp>(op))
    return d.getLayout();
  return cast<KVAppendOp>(op).getLayout();
}

/// A connected set of KV ops and the cache values between them.
struct Component {
  SetVector<Operation *> ops;
  SetVector<Value> caches; // every cache value: roots and append results
  SmallVector<Value> roots;
};

Component collect(Operation *start) {
  Component c;
  SmallVector<Operation *> work{start};
  auto visitValue = [&](Value v) {
    if (!c.caches.insert(v))
      return;
    if (auto a = v.getDefiningOp<KVAppendOp>())
      work.push_back(a);
    for (OpOperand &use : v.getUses())
      if (isa<DecodeAttentionOp, KVAppendOp>(use.getOwner()))
        work.push_back(use.getOwner());
  };
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!c.ops.insert(op))
      continue;
    for (Value v : cacheOperands(op))
      visitValue(v);
    if (auto a = dyn_cast<KVAppendOp>(op))
      visitValue(a.getResult());
  }
  for (Value v : c.caches)
    if (!v.getDefiningOp<KVAppendOp>())
      c.roots.push_back(v);
  return c;
}

/// Why the component's caches cannot be re-laid out for free, or "".
std::string notFree(const Component &c) {
  for (Value root : c.roots) {
    if (auto arg = dyn_cast<BlockArgument>(root))
      return llvm::formatv("the cache is function argument #{0}, whose "
                           "layout the caller fixes",
                           arg.getArgNumber())
          .str();
    Operation *def = root.getDefiningOp();
    bool fresh = isa<tensor::EmptyOp>(def);
    if (auto cst = dyn_cast<arith::ConstantOp>(def))
      if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue()))
        fresh = dense.isSplat();
    if (!fresh)
      return ("the cache is produced by '" + def->getName().getStringRef() +
              "', whose element order is fixed")
          .str();
  }
  for (Value v : c.caches)
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      bool asCache = false;
      if (c.ops.contains(user))
        for (Value operand : cacheOperands(user))
          asCache |= operand == v;
      if (!asCache)
        return ("a cache is also used by '" + user->getName().getStringRef() +
                "', which would see the new layout")
            .str();
    }
  return "";
}

struct SelectKVLayoutPass
    : kestrel::impl::SelectKVLayoutBase<SelectKVLayoutPass> {
  using SelectKVLayoutBase::SelectKVLayoutBase;

  void runOnOperation() override {
    if (target != "cpu" && target != "cuda") {
      getOperation().emitError("kestrel-select-kv-layout: unknown target '")
          << target << "' (expected cpu or cuda)";
      return signalPassFailure();
    }
    if (pageSize < 0) {
      getOperation().emitError("kestrel-select-kv-layout: page-size must be "
                               ">= 0, got ")
          << pageSize;
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<DecodeAttentionOp, KVAppendOp>(op))
        ops.push_back(op);
    });
    DenseSet<Operation *> done;
    for (Operation *op : ops) {
      if (done.contains(op))
        continue;
      Component c = collect(op);
      for (Operation *member : c.ops)
        done.insert(member);
      decide(c);
    }
  }

  /// The preferred layout of a contiguous cache of `dims`, with its reason.
  std::pair<KVLayoutAttr, std::string> prefer(const CacheDims &dims,
                                              int64_t groupHeads) {
    MLIRContext *ctx = &getContext();
    if (pageSize > 0 && dims.S % pageSize == 0)
      return {KVLayoutAttr::get(ctx, KVLayoutKind::Paged, pageSize),
              llvm::formatv("page-size={0} requested and the capacity {1} is "
                            "{2} whole pages",
                            pageSize.getValue(), dims.S, dims.S / pageSize)
                  .str()};
    std::string why =
        target == "cuda"
            ? llvm::formatv("contiguous decode on cuda: the {0}x{1} keys of "
                            "a KV head are one run that each KV split "
                            "streams with 16-byte loads, read once for the "
                            "{2} query heads of the group",
                            dims.S, dims.D, groupHeads)
                  .str()
            : llvm::formatv("contiguous decode on cpu: each (batch, KV head) "
                            "task streams its {0}x{1} keys in order, read "
                            "once for the {2} query heads of the group",
                            dims.S, dims.D, groupHeads)
                  .str();
    if (pageSize > 0)
      why += llvm::formatv(" (page-size={0} does not divide the capacity {1})",
                           pageSize.getValue(), dims.S)
                 .str();
    return {KVLayoutAttr::get(ctx, KVLayoutKind::HeadMajor, 0), why};
  }

  void decide(Component &c) {
    Builder b(&getContext());
    auto record = [&](const std::string &reason) {
      for (Operation *op : c.ops)
        op->setAttr(decision::kKVLayoutReason, b.getStringAttr(reason));
    };
    KVLayoutAttr current = layoutOf(c.ops.front());
    for (Operation *op : c.ops)
      if (layoutOf(op) != current)
        return record(str(current) +
                      " kept: the ops sharing this cache disagree on its "
                      "layout");
    if (current.isMLALatent())
      return record("mla_latent kept: the absorbed MLA form reads one latent "
                    "head [c_kv ; k_r] for every query head, values being "
                    "its first d_c channels");
    if (current.isPaged())
      return record(str(current) +
                    " kept: the caller owns the pages through the block "
                    "table");

    // Contiguous: all caches of the component have the same dimensions.
    Value first = c.caches.front();
    auto type = cast<RankedTensorType>(first.getType());
    CacheDims dims = *contiguousDims(current, type);
    int64_t groupHeads = 1;
    for (Operation *op : c.ops)
      if (auto d = dyn_cast<DecodeAttentionOp>(op))
        groupHeads = d.getQuery().getType().getDimSize(1) / dims.Hkv;
    auto [want, why] = prefer(dims, groupHeads);
    if (want == current)
      return record(str(want) + ": " + why);
    std::string blocked = notFree(c);
    for (Value v : c.caches) {
      auto t = cast<RankedTensorType>(v.getType());
      std::optional<CacheDims> d = contiguousDims(current, t);
      if (!d || d->B != dims.B || d->Hkv != dims.Hkv || d->S != dims.S)
        blocked = "the caches of the ops sharing it differ in shape";
    }
    if (!blocked.empty()) {
      int64_t bytes = dims.B * dims.Hkv * dims.S * dims.D *
                      type.getElementTypeBitWidth() / 8;
      return record(llvm::formatv("{0} kept (preferred {1}: {2}): {3}; "
                                  "converting it would copy {4:F1} MiB per "
                                  "call",
                                  str(current), str(want), why, blocked,
                                  bytes / 1048576.0)
                        .str());
    }
    apply(c, current, want);
    record(str(want) + ": " + why +
           "; the function creates the cache, so "
           "it takes this layout at no cost");
    for (Operation *op : c.ops)
      op->setAttr(decision::kKVLayoutFrom, current);
  }

  /// Retypes every cache of `c` from `from` to `to`.
  void apply(Component &c, KVLayoutAttr from, KVLayoutAttr to) {
    OpBuilder b(&getContext());
    // The identity block table: row b owns pages [b·M, (b+1)·M).
    Value table;
    auto typeFor = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      return cacheType(to, *contiguousDims(from, t), t.getElementType());
    };
    if (to.isPaged()) {
      auto t = cast<RankedTensorType>(c.caches.front().getType());
      CacheDims d = *contiguousDims(from, t);
      int64_t M = d.S / to.getPageSize();
      SmallVector<int32_t> ids(d.B * M);
      for (int64_t i = 0; i < d.B * M; ++i)
        ids[i] = static_cast<int32_t>(i);
      auto tableType = RankedTensorType::get({d.B, M}, b.getI32Type());
      // Before the first op of the function body that uses it.
      Operation *earliest = nullptr;
      for (Operation *op : c.ops)
        if (!earliest || op->isBeforeInBlock(earliest))
          earliest = op;
      b.setInsertionPoint(earliest);
      table = arith::ConstantOp::create(
          b, earliest->getLoc(),
          DenseElementsAttr::get(tableType, ArrayRef<int32_t>(ids)));
    }
    for (Value root : c.roots) {
      Operation *def = root.getDefiningOp();
      RankedTensorType nt = typeFor(root);
      b.setInsertionPoint(def);
      Value fresh;
      if (isa<tensor::EmptyOp>(def)) {
        fresh = tensor::EmptyOp::create(b, def->getLoc(), nt.getShape(),
                                        nt.getElementType());
      } else {
        auto dense =
            cast<DenseElementsAttr>(cast<arith::ConstantOp>(def).getValue());
        fresh =
            arith::ConstantOp::create(b, def->getLoc(), dense.resizeSplat(nt));
      }
      root.replaceAllUsesWith(fresh);
      if (def->use_empty())
        def->erase();
    }
    for (Operation *op : c.ops) {
      if (auto a = dyn_cast<KVAppendOp>(op)) {
        a.getResult().setType(typeFor(a.getResult()));
        a.setLayoutAttr(to);
        if (table)
          a.getBlockTableMutable().assign(table);
        else
          a.getBlockTableMutable().clear();
      } else {
        auto d = cast<DecodeAttentionOp>(op);
        d.setLayoutAttr(to);
        if (table)
          d.getBlockTableMutable().assign(table);
        else
          d.getBlockTableMutable().clear();
      }
    }
  }
};

} // namespace
