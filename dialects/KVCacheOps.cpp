//===- KVCacheOps.cpp - The KV cache layout and its ops -------------------===//
//
// #kestrel.kv_layout (parser, printer, verifier) and the shape rules of
// decode_attention, kv_append and select_kv_pages (docs/ops.md §1, "Decode",
// "KV cache layouts", "Training-free / dynamic KV selection"). Messages name
// the operand and the sizes that disagree.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"

#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

//===----------------------------------------------------------------------===//
// #kestrel.kv_layout
//===----------------------------------------------------------------------===//

Attribute KVLayoutAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<KVLayoutKind> kind = symbolizeKVLayoutKind(keyword);
  if (!kind) {
    parser.emitError(loc) << "unknown KV cache layout '" << keyword
                          << "' (expected head_major, token_major, paged or "
                             "mla_latent)";
    return {};
  }
  int64_t pageSize = 0;
  if (succeeded(parser.parseOptionalComma()) &&
      (parser.parseKeyword("page_size") || parser.parseEqual() ||
       parser.parseInteger(pageSize)))
    return {};
  if (parser.parseGreater())
    return {};
  return parser.getChecked<KVLayoutAttr>(loc, parser.getContext(), *kind,
                                         pageSize);
}

void KVLayoutAttr::print(AsmPrinter &printer) const {
  printer << '<' << stringifyKVLayoutKind(getKind());
  if (isPaged())
    printer << ", page_size = " << getPageSize();
  printer << '>';
}

LogicalResult KVLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   KVLayoutKind kind, int64_t pageSize) {
  if (kind == KVLayoutKind::Paged && pageSize <= 0)
    return emitError() << "the paged KV layout needs page_size > 0, got "
                       << pageSize;
  if (kind != KVLayoutKind::Paged && pageSize != 0)
    return emitError() << "page_size is only meaningful in the paged KV "
                          "layout, not "
                       << stringifyKVLayoutKind(kind);
  return success();
}

std::string KVLayoutAttr::describeShape(StringRef dim) const {
  switch (getKind()) {
  case KVLayoutKind::HeadMajor:
    return ("[B, Hkv, S, " + dim + "]").str();
  case KVLayoutKind::TokenMajor:
    return ("[B, S, Hkv, " + dim + "]").str();
  case KVLayoutKind::Paged:
    return ("[num_pages, page_size, Hkv, " + dim + "]").str();
  case KVLayoutKind::MLALatent:
    return ("[B, S, " + dim + "]").str();
  }
  llvm_unreachable("unknown KV layout");
}

ParseResult kestrel::parseKVLayout(OpAsmParser &parser, KVLayoutAttr &attr) {
  SMLoc loc = parser.getCurrentLocation();
  Attribute parsed;
  // The generic attribute parser reads a following `: type` as the
  // attribute's own type, so the formats never put the layout before `:`.
  if (parser.parseAttribute(parsed))
    return failure();
  attr = dyn_cast<KVLayoutAttr>(parsed);
  if (!attr)
    return parser.emitError(loc)
           << "expected a #kestrel.kv_layout<...> attribute, got " << parsed;
  return success();
}

void kestrel::printKVLayout(OpAsmPrinter &printer, Operation *,
                            KVLayoutAttr attr) {
  printer.printAttribute(attr);
}

//===----------------------------------------------------------------------===//
// Shared checks
//===----------------------------------------------------------------------===//

namespace {
/// A cache tensor seen through its layout. `batch` is -1 for the paged
/// layout (pages belong to no batch row; the block table says which).
struct CacheShape {
  int64_t batch, kvHeads, capacity, dim;
};
} // namespace

static LogicalResult requireStatic(Operation *op) {
  auto check = [&](const char *kind, unsigned i, Type type) -> LogicalResult {
    if (cast<ShapedType>(type).hasStaticShape())
      return success();
    return op->emitOpError()
           << "needs static shapes; " << kind << " #" << i << " is " << type;
  };
  for (auto [i, type] : llvm::enumerate(op->getOperandTypes()))
    if (failed(check("operand", i, type)))
      return failure();
  for (auto [i, type] : llvm::enumerate(op->getResultTypes()))
    if (failed(check("result", i, type)))
      return failure();
  return success();
}

/// Checks the block table's presence against the layout, then `type` (the
/// cache called `name`) against the layout's shape.
static LogicalResult readCache(Operation *op, KVLayoutAttr layout,
                               StringRef name, RankedTensorType type,
                               Value blockTable, CacheShape &shape) {
  if (layout.isPaged() && !blockTable)
    return op->emitOpError() << "the paged layout needs a block_table operand";
  if (!layout.isPaged() && blockTable)
    return op->emitOpError()
           << "block_table is only meaningful with the paged layout, not "
           << stringifyKVLayoutKind(layout.getKind());
  int64_t rank = layout.isMLALatent() ? 3 : 4;
  if (type.getRank() != rank)
    return op->emitOpError()
           << name << " cache must be " << layout.describeShape("D")
           << " in the " << stringifyKVLayoutKind(layout.getKind())
           << " layout, got " << type;
  ArrayRef<int64_t> s = type.getShape();
  switch (layout.getKind()) {
  case KVLayoutKind::HeadMajor:
    shape = {s[0], s[1], s[2], s[3]};
    break;
  case KVLayoutKind::TokenMajor:
    shape = {s[0], s[2], s[1], s[3]};
    break;
  case KVLayoutKind::MLALatent:
    shape = {s[0], 1, s[1], s[2]};
    break;
  case KVLayoutKind::Paged: {
    if (s[1] != layout.getPageSize())
      return op->emitOpError() << name << " cache pages hold " << s[1]
                               << " tokens but the layout's page_size is "
                               << layout.getPageSize();
    auto table = cast<RankedTensorType>(blockTable.getType());
    if (table.getRank() != 2)
      return op->emitOpError()
             << "block_table must be [B, max_pages], got " << table;
    // Reads clamp block table entries into the pool, which needs a page.
    if (s[0] == 0)
      return op->emitOpError() << name << " cache has no pages: " << type;
    shape = {-1, s[2], table.getDimSize(1) * s[1], s[3]};
    break;
  }
  }
  return success();
}

/// The batch size implied by a cache: its own for contiguous layouts, the
/// block table's rows when paged.
static int64_t cacheBatch(const CacheShape &c, Value blockTable) {
  if (c.batch >= 0)
    return c.batch;
  return cast<RankedTensorType>(blockTable.getType()).getDimSize(0);
}

static LogicalResult checkLengths(Operation *op, StringRef name, Value lengths,
                                  int64_t batch) {
  auto type = cast<RankedTensorType>(lengths.getType());
  if (type.getRank() != 1 || type.getDimSize(0) != batch)
    return op->emitOpError()
           << name << " must be [B] = [" << batch << "], got " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// kestrel.decode_attention
//===----------------------------------------------------------------------===//

double DecodeAttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> s = getScale())
    return s->convertToDouble();
  return 1.0 /
         std::sqrt(static_cast<double>(getQuery().getType().getDimSize(3)));
}

int64_t DecodeAttentionOp::getNumKvHeads() {
  ArrayRef<int64_t> s = getKey().getType().getShape();
  switch (getLayout().getKind()) {
  case KVLayoutKind::HeadMajor:
    return s[1];
  case KVLayoutKind::TokenMajor:
  case KVLayoutKind::Paged:
    return s[2];
  case KVLayoutKind::MLALatent:
    return 1;
  }
  llvm_unreachable("unknown KV layout");
}

int64_t DecodeAttentionOp::getCapacity() {
  ArrayRef<int64_t> s = getKey().getType().getShape();
  switch (getLayout().getKind()) {
  case KVLayoutKind::HeadMajor:
    return s[2];
  case KVLayoutKind::TokenMajor:
  case KVLayoutKind::MLALatent:
    return s[1];
  case KVLayoutKind::Paged:
    return s[1] * getBlockTable().getType().getDimSize(1);
  }
  llvm_unreachable("unknown KV layout");
}

LogicalResult DecodeAttentionOp::verify() {
  if (failed(requireStatic(*this)))
    return failure();
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   r = getResult().getType();
  if (q.getRank() != 4)
    return emitOpError() << "query must be [B, H, T, D], got " << q;
  Type elt = q.getElementType();
  Type valueElt = getValue() ? getValue().getType().getElementType() : elt;
  if (k.getElementType() != elt || valueElt != elt ||
      r.getElementType() != elt) {
    InFlightDiagnostic diag = emitOpError();
    diag << "query, key" << (getValue() ? ", value" : "")
         << " and result must share one element type, got " << elt << ", "
         << k.getElementType() << ", ";
    if (getValue())
      diag << valueElt << ", ";
    return diag << r.getElementType();
  }

  KVLayoutAttr layout = getLayout();
  if (layout.isMLALatent() && getValue())
    return emitOpError() << "the mla_latent layout takes no value operand: "
                            "the values are the first Dv channels of the "
                            "key cache";
  if (!layout.isMLALatent() && !getValue())
    return emitOpError() << "the " << stringifyKVLayoutKind(layout.getKind())
                         << " layout needs a value cache operand";

  CacheShape key, value;
  if (failed(readCache(*this, layout, "key", k, getBlockTable(), key)))
    return failure();
  value = key;
  if (getValue()) {
    RankedTensorType v = getValue().getType();
    if (failed(readCache(*this, layout, "value", v, getBlockTable(), value)))
      return failure();
    if (k.getShape().drop_back() != v.getShape().drop_back())
      return emitOpError() << "value cache " << v
                           << " must match the key cache " << k
                           << " in all but the last dimension";
  }

  int64_t B = q.getDimSize(0), H = q.getDimSize(1), T = q.getDimSize(2),
          D = q.getDimSize(3);
  int64_t cacheB = cacheBatch(key, getBlockTable());
  if (cacheB != B)
    return emitOpError() << "batch sizes differ: query " << B << ", "
                         << (layout.isPaged() ? "block_table " : "key cache ")
                         << cacheB;
  if (failed(checkLengths(*this, "seq_lens", getSeqLens(), B)))
    return failure();
  if (key.dim != D)
    return emitOpError() << "query head dim (" << D
                         << ") differs from the key cache's (" << key.dim
                         << ")";
  if (key.kvHeads == 0 || H % key.kvHeads != 0)
    return emitOpError() << "num_heads (" << H << ") must be a multiple of "
                         << "num_kv_heads (" << key.kvHeads << ")";

  int64_t dv = layout.isMLALatent() ? r.getDimSize(3) : value.dim;
  if (layout.isMLALatent() && (r.getRank() != 4 || dv > D))
    return emitOpError() << "result must be [B, H, T, Dv] with Dv = d_c <= "
                            "D = "
                         << D << " in the mla_latent layout, got " << r;
  if (r.getShape() != ArrayRef<int64_t>{B, H, T, dv})
    return emitOpError() << "result must be [B, H, T, Dv] = [" << B << ", " << H
                         << ", " << T << ", " << dv << "], got " << r;
  if (Value lse = getLse()) {
    auto type = cast<RankedTensorType>(lse.getType());
    if (type.getShape() != ArrayRef<int64_t>{B, H, T})
      return emitOpError() << "lse must be [B, H, T] = [" << B << ", " << H
                           << ", " << T << "], got " << type;
  }
  if (std::optional<APFloat> sc = getScale();
      sc && !std::isfinite(sc->convertToDouble()))
    return emitOpError() << "scale must be finite, got "
                         << sc->convertToDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// kestrel.kv_append
//===----------------------------------------------------------------------===//

LogicalResult KVAppendOp::verify() {
  if (failed(requireStatic(*this)))
    return failure();
  RankedTensorType n = getNewTokens().getType(), c = getCache().getType();
  if (n.getElementType() != c.getElementType())
    return emitOpError() << "new tokens (" << n.getElementType()
                         << ") and cache (" << c.getElementType()
                         << ") must share one element type";
  CacheShape cache;
  if (failed(readCache(*this, getLayout(), "the", c, getBlockTable(), cache)))
    return failure();
  int64_t B = cacheBatch(cache, getBlockTable());
  if (n.getRank() != 4 || n.getDimSize(0) != B ||
      n.getDimSize(1) != cache.kvHeads || n.getDimSize(3) != cache.dim)
    return emitOpError() << "new tokens must be [B, Hkv, Tn, D] = [" << B
                         << ", " << cache.kvHeads << ", Tn, " << cache.dim
                         << "] for this cache, got " << n;
  return checkLengths(*this, "positions", getPositions(), B);
}

//===----------------------------------------------------------------------===//
// kestrel.select_kv_pages
//===----------------------------------------------------------------------===//

LogicalResult SelectKVPagesOp::verify() {
  if (failed(requireStatic(*this)))
    return failure();
  RankedTensorType q = getQuery().getType(), m = getKeyMin().getType(),
                   r = getResult().getType();
  if (!(q.getRank() == 3 || (q.getRank() == 4 && q.getDimSize(2) == 1)))
    return emitOpError() << "query must be [B, H, D] or [B, H, 1, D], got "
                         << q;
  if (q.getElementType() != m.getElementType())
    return emitOpError() << "query (" << q.getElementType()
                         << ") and page key bounds (" << m.getElementType()
                         << ") must share one element type";
  int64_t B = q.getDimSize(0), H = q.getDimSize(1), D = q.getShape().back();
  if (m.getRank() != 4 || m.getDimSize(0) != B || m.getDimSize(3) != D)
    return emitOpError() << "key_min and key_max must be [B, Hkv, P, D] with "
                            "B = "
                         << B << ", D = " << D << ", got " << m;
  int64_t hkv = m.getDimSize(1);
  if (hkv == 0 || H % hkv != 0)
    return emitOpError() << "num_heads (" << H << ") must be a multiple of "
                         << "num_kv_heads (" << hkv << ")";
  if (failed(checkLengths(*this, "seq_lens", getSeqLens(), B)))
    return failure();
  int64_t k = static_cast<int64_t>(getK());
  if (r.getShape() != ArrayRef<int64_t>{B, hkv, k})
    return emitOpError() << "result must be [B, Hkv, k] = [" << B << ", " << hkv
                         << ", " << k << "], got " << r;
  return success();
}
