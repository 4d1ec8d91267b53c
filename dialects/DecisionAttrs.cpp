//===- DecisionAttrs.cpp - Verification of the passes' decisions ----------===//
//
// Verifiers of the decision attributes (DecisionAttrs.td): sizes positive,
// the tile-class table well formed; and the dialect's
// verifyOperationAttribute, which checks every `kestrel.*` discardable
// attribute against the op carrying it (right attribute kind for the op,
// tile-class table matching the op's tiles and shapes).
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace kestrel;

//===----------------------------------------------------------------------===//
// Attribute verifiers
//===----------------------------------------------------------------------===//

static LogicalResult positive(function_ref<InFlightDiagnostic()> emitError,
                              StringRef attr, StringRef what, int64_t v) {
  if (v > 0)
    return success();
  return emitError() << "#kestrel." << attr << ": " << what
                     << " must be positive, got " << v;
}

LogicalResult
AttentionTilesAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                           int64_t query, int64_t key) {
  return success(
      succeeded(positive(emitError, "attention_tiles", "query", query)) &&
      succeeded(positive(emitError, "attention_tiles", "key", key)));
}

LogicalResult
MoeRegisterTileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                            int64_t rows, int64_t cols) {
  return success(
      succeeded(positive(emitError, "moe_register_tile", "rows", rows)) &&
      succeeded(positive(emitError, "moe_register_tile", "cols", cols)));
}

LogicalResult
VocabBlockAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t entries) {
  return positive(emitError, "vocab_block", "the block", entries);
}

LogicalResult ChunkAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t length) {
  return positive(emitError, "chunk", "the chunk length", length);
}

LogicalResult
MoeBoundsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      int64_t pairs, int64_t perExpert) {
  if (pairs < 0 || perExpert < 0)
    return emitError() << "#kestrel.moe_bounds: pairs and per_expert must be "
                          ">= 0, got "
                       << pairs << " and " << perExpert;
  return success();
}

LogicalResult
TileClassesAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t queryTiles, int64_t keyTiles,
                        ArrayRef<int8_t> classes) {
  if (queryTiles <= 0 || keyTiles <= 0)
    return emitError() << "#kestrel.tile_classes: the table must have at "
                          "least one row and one column, got "
                       << queryTiles << "x" << keyTiles;
  if (static_cast<int64_t>(classes.size()) != queryTiles * keyTiles)
    return emitError() << "#kestrel.tile_classes: " << classes.size()
                       << " classes for a " << queryTiles << "x" << keyTiles
                       << " table";
  for (int8_t c : classes)
    if (c < 0 || c > 2)
      return emitError() << "#kestrel.tile_classes: class " << int(c)
                         << " is none of 0 (skipped), 1 (full), 2 (partial)";
  return success();
}

int64_t TileClassesAttr::count(int8_t c) const {
  return llvm::count(getClasses(), c);
}

//===----------------------------------------------------------------------===//
// #kestrel.tile_classes<["p..", "fp.", "ffp"], skipped = 3, full = 3,
//                      partial = 3>
//===----------------------------------------------------------------------===//

static constexpr char kClassChars[] = {'.', 'f', 'p'};
static constexpr StringLiteral kClassNames[] = {"skipped", "full", "partial"};

Attribute TileClassesAttr::parse(AsmParser &parser, Type) {
  SmallVector<int8_t> classes;
  int64_t rows = 0, cols = -1;
  auto parseRow = [&]() -> ParseResult {
    std::string row;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseString(&row))
      return failure();
    if (cols >= 0 && static_cast<int64_t>(row.size()) != cols)
      return parser.emitError(loc)
             << "#kestrel.tile_classes: row " << rows << " has " << row.size()
             << " key tiles, the first has " << cols;
    cols = row.size();
    for (char ch : row) {
      const char *it = llvm::find(kClassChars, ch);
      if (it == std::end(kClassChars))
        return parser.emitError(loc)
               << "#kestrel.tile_classes: '" << ch
               << "' is none of '.' (skipped), 'f' (full), 'p' (partial)";
      classes.push_back(static_cast<int8_t>(it - std::begin(kClassChars)));
    }
    ++rows;
    return success();
  };
  SMLoc start = parser.getCurrentLocation();
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, parseRow))
    return {};
  int64_t counts[3];
  for (int i = 0; i < 3; ++i) {
    if (parser.parseComma() || parser.parseKeyword(kClassNames[i]) ||
        parser.parseEqual() || parser.parseInteger(counts[i]))
      return {};
  }
  if (parser.parseGreater())
    return {};
  auto attr =
      getChecked([&] { return parser.emitError(start); }, parser.getContext(),
                 rows, std::max<int64_t>(cols, 0), ArrayRef<int8_t>(classes));
  if (!attr)
    return {};
  for (int i = 0; i < 3; ++i)
    if (attr.count(i) != counts[i])
      return parser.emitError(start)
                 << "#kestrel.tile_classes: the table has " << attr.count(i)
                 << " " << kClassNames[i] << " tiles, the summary says "
                 << counts[i],
             Attribute();
  return attr;
}

void TileClassesAttr::print(AsmPrinter &printer) const {
  printer << "<[";
  for (int64_t i = 0; i < getQueryTiles(); ++i) {
    if (i)
      printer << ", ";
    std::string row;
    for (int64_t j = 0; j < getKeyTiles(); ++j)
      row.push_back(kClassChars[at(i, j)]);
    printer << '"' << row << '"';
  }
  printer << "]";
  for (int i = 0; i < 3; ++i)
    printer << ", " << kClassNames[i] << " = " << count(i);
  printer << ">";
}

//===----------------------------------------------------------------------===//
// verifyOperationAttribute: each decision on an op it means something for
//===----------------------------------------------------------------------===//

/// The [T, S] of an attention's query [B, H, T, D] and key [B, Hkv, S, D],
/// when both are static (the op's own verifier runs after this one, so the
/// types are checked defensively).
static std::optional<std::pair<int64_t, int64_t>>
staticLengths(AttentionOp op) {
  if (op->getNumOperands() < 2)
    return std::nullopt;
  auto q = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  auto k = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
  if (!q || !k || q.getRank() != 4 || k.getRank() != 4 ||
      ShapedType::isDynamic(q.getDimSize(2)) ||
      ShapedType::isDynamic(k.getDimSize(2)))
    return std::nullopt;
  return std::make_pair(q.getDimSize(2), k.getDimSize(2));
}

static LogicalResult verifyTileClasses(Operation *op, TileClassesAttr classes) {
  auto attention = cast<AttentionOp>(op);
  auto tile = op->getAttrOfType<AttentionTilesAttr>(decision::kTile);
  if (!tile)
    return op->emitOpError()
           << "has " << decision::kTileClasses << " but no " << decision::kTile
           << " = #kestrel.attention_tiles<...> they "
              "classify";
  std::optional<std::pair<int64_t, int64_t>> lengths = staticLengths(attention);
  if (!lengths)
    return success();
  int64_t nQ = llvm::divideCeil(lengths->first, tile.getQuery());
  int64_t nK = llvm::divideCeil(lengths->second, tile.getKey());
  if (classes.getQueryTiles() != nQ || classes.getKeyTiles() != nK)
    return op->emitOpError()
           << decision::kTileClasses << " is a " << classes.getQueryTiles()
           << "x" << classes.getKeyTiles() << " table, but " << tile
           << " over T = " << lengths->first << ", S = " << lengths->second
           << " makes " << nQ << "x" << nK << " tiles";
  return success();
}

/// `kind` of the value an op may carry under `name`, for diagnostics.
static LogicalResult wrongContext(Operation *op, NamedAttribute attr,
                                  StringRef expected) {
  return op->emitOpError() << "cannot carry " << attr.getName().getValue()
                           << " = " << attr.getValue() << ": expected "
                           << expected;
}

LogicalResult KestrelDialect::verifyOperationAttribute(Operation *op,
                                                       NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  Attribute value = attr.getValue();
  StringRef opName = op->getName().getStringRef();
  const bool isLoop = opName == "scf.for" || opName == "scf.forall";
  if (name == decision::kTile) {
    if (isa<AttentionOp>(op) || opName == "gpu.launch")
      return isa<AttentionTilesAttr>(value)
                 ? success()
                 : wrongContext(op, attr,
                                "#kestrel.attention_tiles<query = Br, key = "
                                "Bc> on a kestrel.attention or gpu.launch");
    if (isa<MoeOp>(op) || opName == "scf.forall")
      if (isa<MoeRegisterTileAttr>(value))
        return success();
    if (isa<DenoiseStepOp>(op) || opName == "scf.forall")
      if (isa<VocabBlockAttr>(value))
        return success();
    return wrongContext(op, attr,
                        "#kestrel.attention_tiles on a kestrel.attention, "
                        "#kestrel.moe_register_tile on a kestrel.moe or "
                        "#kestrel.vocab_block on a kestrel.denoise_step (or "
                        "on the scf.forall built from them)");
  }
  if (name == decision::kAttentionKernel) {
    auto kind = dyn_cast<StringAttr>(value);
    return opName == "gpu.launch" && kind &&
                   (kind.getValue() == "mma_sync" ||
                    kind.getValue() == "simt_f32")
               ? success()
               : wrongContext(op, attr,
                              "\"mma_sync\" or \"simt_f32\" on a gpu.launch");
  }
  if (name == decision::kChunk)
    return (isa<GatedRecurrenceOp>(op) || opName == "gpu.launch") &&
                   isa<ChunkAttr>(value)
               ? success()
               : wrongContext(op, attr,
                              "#kestrel.chunk<C> on a "
                              "kestrel.gated_recurrence or gpu.launch");
  if (name == decision::kRecurrenceKernel) {
    auto kind = dyn_cast<StringAttr>(value);
    return (isa<GatedRecurrenceOp>(op) || opName == "gpu.launch") && kind &&
                   (kind.getValue() == "chunked_mma" ||
                    kind.getValue() == "chunked_mma_scores" ||
                    kind.getValue() == "chunk_scores" ||
                    kind.getValue() == "chunk_wy" ||
                    kind.getValue() == "chunk_gla" ||
                    kind.getValue() == "chunk_states" ||
                    kind.getValue() == "chunk_output" ||
                    kind.getValue() == "recurrent")
               ? success()
               : wrongContext(op, attr,
                              "\"chunked_mma\", \"chunked_mma_scores\", "
                              "\"chunk_scores\", \"chunk_wy\", \"chunk_gla\", "
                              "\"chunk_states\", \"chunk_output\" or "
                              "\"recurrent\" on a "
                              "kestrel.gated_recurrence or gpu.launch");
  }
  if (name == decision::kValueTile) {
    auto cols = dyn_cast<IntegerAttr>(value);
    return (isa<GatedRecurrenceOp>(op) || opName == "gpu.launch") && cols &&
                   cols.getType().isInteger() &&
                   cols.getValue().isStrictlyPositive()
               ? success()
               : wrongContext(op, attr,
                              "a positive integer on a "
                              "kestrel.gated_recurrence or gpu.launch");
  }
  if (name == decision::kTileClasses) {
    auto classes = dyn_cast<TileClassesAttr>(value);
    if (!isa<AttentionOp>(op) || !classes)
      return wrongContext(op, attr,
                          "#kestrel.tile_classes<...> on a kestrel.attention");
    return verifyTileClasses(op, classes);
  }
  if (name == decision::kMoeBounds)
    return isa<MoeOp>(op) && isa<MoeBoundsAttr>(value)
               ? success()
               : wrongContext(op, attr,
                              "#kestrel.moe_bounds<...> on a kestrel.moe");
  if (name == decision::kMoeStage)
    return (isLoop || opName == "gpu.launch") && isa<MoeStageAttr>(value)
               ? success()
               : wrongContext(op, attr,
                              "#kestrel.moe_stage<...> on an scf.for, "
                              "scf.forall or gpu.launch");
  if (name == decision::kContraction)
    return opName == "linalg.generic" && isa<UnitAttr>(value)
               ? success()
               : wrongContext(op, attr, "a unit attribute on a linalg.generic");
  if (name == decision::kDenoiseOnePass || name == decision::kMicroKernel ||
      name == decision::kMoePack)
    return opName == "scf.for" && isa<UnitAttr>(value)
               ? success()
               : wrongContext(op, attr, "a unit attribute on an scf.for");
  const bool isDecode = isa<DecodeAttentionOp>(op);
  if (name == decision::kRecurrenceReason)
    return opName == "gpu.launch" && isa<StringAttr>(value)
               ? success()
               : wrongContext(op, attr, "a string on a gpu.launch");
  if (name == decision::kKVLayoutReason)
    return (isDecode || isa<KVAppendOp>(op)) && isa<StringAttr>(value)
               ? success()
               : wrongContext(op, attr,
                              "a string on a kestrel.decode_attention or "
                              "kestrel.kv_append");
  if (name == decision::kKVLayoutFrom)
    return (isDecode || isa<KVAppendOp>(op)) && isa<KVLayoutAttr>(value)
               ? success()
               : wrongContext(op, attr,
                              "a #kestrel.kv_layout on a "
                              "kestrel.decode_attention or kestrel.kv_append");
  if (name == decision::kSplitKeys) {
    auto keys = dyn_cast<IntegerAttr>(value);
    return isDecode && keys && keys.getType().isInteger() &&
                   keys.getValue().isStrictlyPositive()
               ? success()
               : wrongContext(op, attr,
                              "a positive integer on a "
                              "kestrel.decode_attention");
  }
  if (name == decision::kDecodePrefetch)
    return isDecode && isa<BoolAttr>(value)
               ? success()
               : wrongContext(op, attr, "a bool on a kestrel.decode_attention");
  if (name == decision::kScatter) {
    auto kind = dyn_cast<StringAttr>(value);
    return (opName == "scf.for" || opName == "gpu.launch") && kind &&
                   llvm::is_contained({"none", "add", "mul", "max", "min"},
                                      kind.getValue())
               ? success()
               : wrongContext(op, attr,
                              "\"none\", \"add\", \"mul\", \"max\" or "
                              "\"min\" on an scf.for or gpu.launch");
  }
  // Other `kestrel.*` attributes (tests, tools) are not decisions.
  return success();
}
