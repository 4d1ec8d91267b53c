//===- GemmEmit.cpp - Shared IR building of the GEMM kernels --------------===//
//
// Index arithmetic, block order, cp.async tile copies and C's epilogue
// arithmetic shared by the kernels of kestrel-gpu-gemm (GemmEmit.h).
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/GemmEmit.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace kestrel {

/// M tiles per group of the block order.
constexpr int64_t kGroupM = 8;

Value GemmEmitter::pointer(Value address, unsigned space) {
  Value bytes = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext(), space), bytes);
}

void GemmEmitter::ifThen(Value cond, llvm::function_ref<void()> body) {
  if (!cond)
    return body();
  auto op = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&op.getThenRegion().front());
  body();
}

Value GemmEmitter::offsetOf(ArrayRef<unsigned> dims, Value flat,
                            ArrayRef<int64_t> strides) {
  Value offset = idx(0);
  Value rest = flat;
  for (unsigned d : llvm::reverse(dims)) {
    int64_t extent = p.loopExtents[d];
    bool last = d == dims.front();
    Value digit = last ? rest : rem(rest, extent);
    if (strides[d])
      offset = add(offset, mul(digit, strides[d]));
    if (!last)
      rest = div(rest, extent);
  }
  return offset;
}

BlockOrigin GemmEmitter::blockOrigin(gpu::LaunchOp launch) {
  if (hooks && hooks->origin)
    return hooks->origin(launch);
  auto [row, col] = tileOrigin(launch.getBlockIds().x);
  Value batch = launch.getBlockIds().y;
  return {row,
          col,
          offsetOf(p.batchDims, batch, p.strideA),
          offsetOf(p.batchDims, batch, p.strideB),
          offsetOf(p.batchDims, batch, p.strideC),
          Value(),
          Value()};
}

std::pair<Value, Value> GemmEmitter::tileOrigin(Value pid) {
  int64_t numM = llvm::divideCeil(p.M, plan.getTileM());
  int64_t numN = llvm::divideCeil(p.N, plan.getTileN());
  int64_t width = kGroupM * numN;
  Value firstM = mul(div(pid, width), kGroupM);
  Value groupSize =
      minI(arith::SubIOp::create(b, loc, idx(numM), firstM), idx(kGroupM));
  Value within = rem(pid, width);
  Value tileM = add(firstM, arith::RemUIOp::create(b, loc, within, groupSize));
  Value tileN = arith::DivUIOp::create(b, loc, within, groupSize);
  return {mul(tileM, plan.getTileM()), mul(tileN, plan.getTileN())};
}

TileCopies GemmEmitter::planCopies(Value base, ArrayRef<int64_t> strides,
                                   bool kMajor, int64_t vec, int64_t elemBytes,
                                   int64_t tileRows, ArrayRef<unsigned> mnDims,
                                   int64_t extent, Value tileStart,
                                   Value batchOffset, int64_t tileOffset,
                                   Value tid, int64_t threads,
                                   TileLayout layout, Value limit,
                                   const std::function<Value(Value)> *address) {
  int64_t tk = plan.getTileK();
  int64_t inner = kMajor ? tk : tileRows;
  int64_t perRow = inner / vec;
  int64_t total = tileRows * tk / vec;
  TileCopies t;
  t.strideK = strides[p.kDim];
  t.bytes = vec * elemBytes;
  t.elemBytes = elemBytes;
  t.tileOffset = tileOffset;
  t.checkK = p.K % tk != 0;
  // Every tile row along M/N is inside the operand when the tiles divide
  // its extent: no check.
  bool checkMN = limit || extent % tileRows != 0;
  for (int64_t it = 0; it * threads < total; ++it) {
    Value linear = add(tid, it * threads);
    Value partial;
    if ((it + 1) * threads > total) {
      partial = lt(linear, total);
      linear = minI(linear, idx(total - 1));
    }
    Value r = div(linear, perRow);
    Value c = mul(rem(linear, perRow), vec);
    Value mnIn = kMajor ? r : c, kIn = kMajor ? c : r;
    Value mn = add(tileStart, mnIn);
    Value valid;
    Value last = idx(extent - 1);
    if (limit) {
      valid =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, mn, limit);
      last = arith::SubIOp::create(b, loc, limit, idx(1));
    } else if (checkMN) {
      valid = lt(mn, extent);
    }
    Value clamped = checkMN ? minI(mn, last) : mn;
    Value kOffset = mul(mul(kIn, t.strideK), elemBytes);
    if (address && *address)
      t.src.push_back(add((*address)(clamped), kOffset));
    else
      t.src.push_back(add(
          add(base, mul(add(batchOffset, offsetOf(mnDims, clamped, strides)),
                        elemBytes)),
          kOffset));
    t.kIn.push_back(kIn);
    t.valid.push_back(valid);
    // Threads past the last copy (linear clamped above) copy nothing: a
    // zero-filling copy would race with the owner of the clamped chunk.
    t.issue.push_back(partial);
    t.smem.push_back(layout(mnIn, kIn));
  }
  return t;
}

void GemmEmitter::enterActive(Value active,
                              std::optional<OpBuilder::InsertionGuard> &guard) {
  if (!active)
    return;
  auto ifOp = scf::IfOp::create(b, loc, active, /*withElse=*/false);
  guard.emplace(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
}

std::pair<TileCopies, TileCopies>
GemmEmitter::planOperandCopies(const BlockOrigin &o, Value aMem, Value bMem,
                               Value tid, int64_t threads, int64_t vecA,
                               int64_t vecB, int64_t elemBytes, int64_t bOffset,
                               TileLayout layoutA, TileLayout layoutB) {
  Value aBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, aMem);
  Value bBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, bMem);
  TileCopies a =
      planCopies(aBase, p.strideA, plan.getAKMajor(), vecA, elemBytes,
                 plan.getTileM(), p.mDims, p.M, o.row, o.batchA, 0, tid,
                 threads, layoutA, o.rowLimit, hooks ? &hooks->rowA : nullptr);
  TileCopies bt =
      planCopies(bBase, p.strideB, plan.getBKMajor(), vecB, elemBytes,
                 plan.getTileN(), p.nDims, p.N, o.col, o.batchB, bOffset, tid,
                 threads, layoutB, Value(), hooks ? &hooks->colB : nullptr);
  return {std::move(a), std::move(bt)};
}

void GemmEmitter::issueStage(const TileCopies &a, const TileCopies &bt,
                             Value ring, int64_t stageBytes, Value kTile,
                             Value slot) {
  Value stage = add(ring, mul(slot, stageBytes));
  Value k0 = mul(kTile, plan.getTileK());
  issueCopies(a, k0, stage);
  issueCopies(bt, k0, stage);
}

Value dynamicSharedBytes(OpBuilder &b, Location loc) {
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  return gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface(), workgroup));
}

Value HookEmitter::base(Value memref) {
  return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
}

void GemmEmitter::issueCopies(const TileCopies &t, Value k0, Value stage) {
  auto modifier = t.bytes == 16 ? NVVM::LoadCacheModifierKind::CG
                                : NVVM::LoadCacheModifierKind::CA;
  Value full = arith::ConstantIntOp::create(b, loc, b.getI32Type(), t.bytes);
  Value none = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
  for (size_t i = 0; i < t.src.size(); ++i) {
    ifThen(t.issue[i], [&] {
      Value ok = t.valid[i];
      if (t.checkK)
        ok = andI(ok, lt(add(k0, t.kIn[i]), p.K));
      Value address = add(t.src[i], mul(k0, t.strideK * t.elemBytes));
      Value dst = pointer(add(add(stage, t.tileOffset), t.smem[i]), 3);
      Value size;
      if (ok) {
        // Out of bounds: the operand's aligned first address, zero bytes
        // read, the copy zero-fills.
        address = arith::SelectOp::create(b, loc, ok, address, t.src[0]);
        size = arith::SelectOp::create(b, loc, ok, full, none);
      }
      NVVM::CpAsyncOp::create(b, loc, dst, pointer(address, 1), t.bytes,
                              modifier, size);
    });
  }
}

void GemmEmitter::storeC(ArrayRef<Value> acc,
                         ArrayRef<std::pair<int64_t, int64_t>> at, Value row0,
                         Value col0, Value batchC, Value cMem, Value initMem) {
  Type cType = p.cType;
  Value cBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, cMem);
  Value initBase;
  if (initMem)
    initBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, initMem);
  int64_t cBytes = cType.getIntOrFloatBitWidth() / 8;
  bool checkM = p.M % plan.getTileM() != 0, checkN = p.N % plan.getTileN() != 0;
  SmallVector<int64_t> rows;
  for (auto [dr, dc] : at)
    if (!llvm::is_contained(rows, dr))
      rows.push_back(dr);
  for (int64_t dr : rows) {
    Value m = add(row0, dr);
    ifThen(checkM ? lt(m, p.M) : Value(), [&] {
      Value rowOff = add(batchC, offsetOf(p.mDims, m, p.strideC));
      for (size_t i = 0; i + 1 < acc.size(); i += 2) {
        if (at[i].first != dr)
          continue;
        Value n = add(col0, at[i].second);
        if (p.cPairs) {
          ifThen(checkN ? lt(n, p.N) : Value(), [&] {
            Value element = add(rowOff, offsetOf(p.nDims, n, p.strideC));
            Value lo = finishC(acc[i], element, initBase);
            Value hi = finishC(acc[i + 1], add(element, 1), initBase);
            Value pair = vector::FromElementsOp::create(
                b, loc, VectorType::get({2}, cType), ValueRange{lo, hi});
            LLVM::StoreOp::create(b, loc, pair,
                                  pointer(add(cBase, mul(element, cBytes)), 1),
                                  /*alignment=*/2 * cBytes);
          });
          continue;
        }
        for (int64_t e = 0; e < 2; ++e) {
          Value ne = add(n, e);
          ifThen(lt(ne, p.N), [&] {
            Value element = add(rowOff, offsetOf(p.nDims, ne, p.strideC));
            LLVM::StoreOp::create(
                b, loc, finishC(acc[i + e], element, initBase),
                pointer(add(cBase, mul(element, cBytes)), 1), cBytes);
          });
        }
      }
    });
  }
}

Value GemmEmitter::finishC(Value v, Value element, Value initBase) {
  Type cType = p.cType;
  int64_t cBytes = cType.getIntOrFloatBitWidth() / 8;
  if (p.initConstant && *p.initConstant != 0.0)
    v = arith::AddFOp::create(
        b, loc, v,
        arith::ConstantFloatOp::create(
            b, loc, b.getF32Type(),
            APFloat(static_cast<float>(*p.initConstant))));
  if (initBase) {
    Value at = pointer(add(initBase, mul(element, cBytes)), 1);
    Value old = LLVM::LoadOp::create(b, loc, cType, at);
    if (!cType.isF32())
      old = arith::ExtFOp::create(b, loc, b.getF32Type(), old);
    v = arith::AddFOp::create(b, loc, v, old);
  }
  return cType.isF32() ? v : arith::TruncFOp::create(b, loc, cType, v);
}

} // namespace kestrel
