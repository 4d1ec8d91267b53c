//===- FlashTileWalk.cpp - Key tiles a flash attention block visits -------===//
//
// The key-tile walk and visibility rule shared by the attention kernels of
// kestrel-gpu-flash-attention (FlashTileWalk.h), and the compile-time visit
// tables of block-sparse ops.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/FlashTileWalk.h"

#include "dialects/AttentionMask.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kestrel;
using namespace kestrel::cuda;

VisitTables kestrel::cuda::buildVisitTables(OpBuilder &b, Location loc,
                                            AttentionOp op, int64_t tileRows,
                                            int64_t tileKeys) {
  DenseIntElementsAttr map = op.getBlockMapAttr();
  if (!map)
    return {};
  int64_t T = op.getQueryLen(), S = op.getKeyLen();
  int64_t nQ = llvm::divideCeil(T, tileRows),
          nK = llvm::divideCeil(S, tileKeys);
  AttentionMask mask(T, S, op.getCausal(),
                     static_cast<int64_t>(op.getWindow().value_or(0)),
                     static_cast<int64_t>(op.getSinks().value_or(0)));
  std::vector<bool> allowed;
  SmallVector<int8_t> mapBytes;
  for (const APInt &bit : map.getValues<APInt>()) {
    allowed.push_back(!bit.isZero());
    mapBytes.push_back(bit.isZero() ? 0 : 1);
  }
  ArrayRef<int64_t> sizes = *op.getBlockSize();
  mask.setBlockMap(std::move(allowed), sizes[0], sizes[1]);
  SmallVector<SmallVector<int32_t>> lists(nQ);
  int64_t widest = 1;
  for (int64_t i = 0; i < nQ; ++i) {
    for (int64_t j = 0; j < nK; ++j) {
      TileClass c =
          mask.classify(i * tileRows, std::min(T, (i + 1) * tileRows),
                        j * tileKeys, std::min(S, (j + 1) * tileKeys));
      if (c == TileClass::Skip)
        continue;
      // A tile running past S holds padding keys: always masked.
      bool partial = c == TileClass::Partial || (j + 1) * tileKeys > S;
      lists[i].push_back(static_cast<int32_t>(2 * j + (partial ? 1 : 0)));
    }
    widest = std::max<int64_t>(widest, lists[i].size());
  }
  SmallVector<int32_t> table, lengths;
  for (auto &list : lists) {
    lengths.push_back(static_cast<int32_t>(list.size()));
    table.append(list);
    table.append(widest - list.size(), 0);
  }
  // The tables are constants (uploaded with the model's weights on cuda).
  auto constantBuffer = [&](ArrayRef<int64_t> shape, Type type,
                            DenseElementsAttr data) -> Value {
    Value t = arith::ConstantOp::create(b, loc, data);
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(shape, type), t, /*read_only=*/true);
  };
  Type i32 = b.getI32Type(), i8 = b.getI8Type();
  VisitTables tables;
  tables.visits = constantBuffer(
      {nQ, widest}, i32,
      DenseElementsAttr::get(RankedTensorType::get({nQ, widest}, i32),
                             ArrayRef<int32_t>(table)));
  tables.counts =
      constantBuffer({nQ}, i32,
                     DenseElementsAttr::get(RankedTensorType::get({nQ}, i32),
                                            ArrayRef<int32_t>(lengths)));
  auto mapShape = cast<ShapedType>(map.getType()).getShape();
  tables.blockMap =
      constantBuffer(mapShape, i8,
                     DenseElementsAttr::get(RankedTensorType::get(mapShape, i8),
                                            ArrayRef<int8_t>(mapBytes)));
  return tables;
}

FlashTileWalk::FlashTileWalk(OpBuilder &b, Location loc, AttentionOp op,
                             int64_t tileRows, int64_t tileKeys)
    : IREmitter(b, loc), tileRows(tileRows), tileKeys(tileKeys) {
  if (auto sizes = op.getBlockSize()) {
    blockQ = (*sizes)[0];
    blockK = (*sizes)[1];
  }
  elem = op.getQuery().getType().getElementType();
  B = op.getBatch();
  H = op.getNumHeads();
  Hkv = op.getNumKvHeads();
  T = op.getQueryLen();
  S = op.getKeyLen();
  D = op.getHeadDim();
  Dv = op.getValueDim();
  causal = op.getCausal();
  window = op.getWindow().value_or(0);
  sinks = op.getSinks().value_or(0);
  scale = op.getEffectiveScale();
  if (auto cap = op.getSoftcap())
    softcap = cap->convertToDouble();
}

Value FlashTileWalk::exp2(Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, loc, b.getF32Type(),
             b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"), ValueRange{x})
      ->getResult(0);
}

Value FlashTileWalk::visible(Value row, Value key) {
  Value ok = cmp(arith::CmpIPredicate::slt, key, idx(S));
  if (blockMap) {
    // Rows past T and keys past S read an in-bounds entry; `ok` already
    // hides those keys and those rows are never stored.
    Value qb = div(minI(row, idx(T - 1)), blockQ);
    Value kb = div(minI(key, idx(S - 1)), blockK);
    Value bit = memref::LoadOp::create(b, loc, blockMap, ValueRange{qb, kb});
    ok = land(ok, arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::ne, bit,
                      arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0)));
  }
  if (!causal)
    return ok;
  Value last = add(row, S - T); // the last key row `row` sees
  ok = land(ok, cmp(arith::CmpIPredicate::sle, key, last));
  if (window > 0) {
    Value inBand = cmp(arith::CmpIPredicate::sgt, key, add(last, -window));
    if (sinks > 0)
      inBand = lor(inBand, cmp(arith::CmpIPredicate::slt, key, idx(sinks)));
    ok = land(ok, inBand);
  }
  return ok;
}

Value FlashTileWalk::visitCount() {
  // The key tiles this query tile can see: with a causal mask, keys up to
  // the last row's position; with a window, from the first row's band
  // start, plus the sink tiles before the band. One loop walks the sink
  // tiles, then the band (one copy of the body keeps register use down).
  int64_t numKeyTiles = llvm::divideCeil(S, tileKeys);
  Value bandHi = idx(numKeyTiles);
  bandLo = idx(0);
  sinkTiles = idx(0);
  if (causal) {
    Value lastKey = add(minI(add(tileRow0, tileRows - 1), idx(T - 1)), S - T);
    Value end = minI(add(lastKey, 1), idx(S));
    bandHi = div(add(maxI(end, idx(0)), tileKeys - 1), tileKeys);
    if (window > 0) {
      Value firstKey = maxI(add(tileRow0, S - T - window + 1), idx(0));
      bandLo = minI(div(firstKey, tileKeys), bandHi);
      if (sinks > 0)
        sinkTiles = minI(idx(llvm::divideCeil(sinks, tileKeys)), bandLo);
    }
  }
  // Block-sparse: the visit list decided at compile time.
  if (visits)
    return arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        memref::LoadOp::create(b, loc, counts, ValueRange{queryTile}));
  return add(sinkTiles, sub(bandHi, bandLo));
}

Value FlashTileWalk::tileOf(Value i) {
  if (visits) {
    // The last step asks for the tile after the last visit: clamp (its copy
    // is not issued).
    Value at =
        minI(i, idx(cast<MemRefType>(visits.getType()).getDimSize(1) - 1));
    Value entry =
        memref::LoadOp::create(b, loc, visits, ValueRange{queryTile, at});
    return arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::ShRUIOp::create(
            b, loc, entry,
            arith::ConstantIntOp::create(b, loc, b.getI32Type(), 1)));
  }
  Value inBand = cmp(arith::CmpIPredicate::sge, i, sinkTiles);
  return select(inBand, add(bandLo, sub(i, sinkTiles)), i);
}

Value FlashTileWalk::visitNeedsMask(Value i) {
  Value entry =
      memref::LoadOp::create(b, loc, visits, ValueRange{queryTile, i});
  Value bit = arith::AndIOp::create(
      b, loc, entry, arith::ConstantIntOp::create(b, loc, b.getI32Type(), 1));
  return arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne, bit,
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0));
}

Value FlashTileWalk::needsMask(Value keyTile) {
  // A tile needs no mask when every key in it is visible to every row of
  // the query tile: inside [0, S), at or before the first row's last key
  // (causal), and after the last row's band start (window).
  Value first = mul(keyTile, tileKeys);
  Value last = add(first, tileKeys - 1);
  Value need = cmp(arith::CmpIPredicate::sge, last, idx(S));
  if (!causal)
    return need;
  need = lor(need, cmp(arith::CmpIPredicate::sgt, last, add(tileRow0, S - T)));
  if (window > 0)
    need = lor(need, cmp(arith::CmpIPredicate::sle, first,
                         add(tileRow0, tileRows - 1 + S - T - window)));
  return need;
}

void FlashTileWalk::ifThen(Value cond, llvm::function_ref<void()> body) {
  auto op = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&op.getThenRegion().front());
  body();
}
