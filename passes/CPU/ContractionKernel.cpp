//===- ContractionKernel.cpp ----------------------------------------------===//
//
// Emits the packed, register-tiled loop nest of one contraction
// (kestrel-cpu-contraction, decisions in #kestrel.contraction):
//
//   A = extf(A)                            (bf16/f16 A only, kestrel.widen_a)
//   Bp = pack(B)  [o.., ⌈N/nr⌉, K, nr]     (constant, scf.forall, or none)
//   scf.forall (o.., mb-block, nb-block) shared_outs(C):
//     Ct = C[o.., m0 : m0+mb, n0 : n0+nb]
//     scf.for kb (K blocks of kc):                   (only when K > kc)
//       scf.for np (nr-panels of the block):
//         scf.for mt (mr-row tiles), then single rows of a ragged block:
//           acc[0..R) = first ? init : Ct[rows, panel]        (f32)
//           scf.for k in block {kestrel.micro_kernel}:
//             prefetch Bp[o.., panel, k + 16 KiB / row bytes]  (gemv, packed)
//             prefetch 1/T of the next panel's K block          (gemm, packed)
//             row = Bp[o.., panel, k, :]                      (vector<nr>)
//             acc[i] = fma(broadcast(A[row i, k]), row, acc[i])
//           Ct[rows, panel] = last ? epilogue(acc) : acc      (masked cols)
//
// The epilogue is the consumer linalg.generic's body cloned on vector<nr>
// values (its other inputs read along n or broadcast), or a plain cast to
// the result type.
//
//===----------------------------------------------------------------------===//

#include "passes/CPU/Contraction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

#include <numeric>

using namespace mlir;
using namespace kestrel;

namespace {

/// How far ahead of the GEMV micro-kernel its panel rows are prefetched
/// (into L2: `localityHint` 2, x86 prefetcht1).
constexpr int64_t kPrefetchBytes = 16384;

class Emitter {
public:
  Emitter(RewriterBase &b, ContractionMatch cm, ContractionConfigAttr cfg)
      : b(b), loc(cm.op.getLoc()), c(std::move(cm)), MR(cfg.getMr()),
        NR(cfg.getNr()), KC(cfg.getKc()), MB(cfg.getMb()), NB(cfg.getNb()),
        path(cfg.getPath()), packB(cfg.getPackB()), f32(b.getF32Type()),
        accType(VectorType::get({NR}, f32)) {
    for (unsigned d : c.outer)
      if (c.b.posOf(d) >= 0)
        bOuter.push_back(d);
    nFull = c.N % NR == 0;
  }

  Value emit();

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value muli(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, idx(y));
  }
  Value zero(Type t) {
    return arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
  }
  Value castTo(Value v, Type elt);
  SmallVector<Value> indices(AffineMap map, ArrayRef<Value> iv);
  Value readAlong(Value t, AffineMap map, ArrayRef<Value> iv, unsigned dim);
  Value packRuntime();
  Value widenA();
  Value block(Value ct, SmallVector<Value> iv, Value m0, Value n0,
              OpFoldResult mb, OpFoldResult nb);
  Value panels(Value ct, ArrayRef<Value> iv, Value m0, Value n0,
               OpFoldResult mb, OpFoldResult nb, Value k0, Value k1,
               Value first, Value last);
  Value nextPanelStart(ArrayRef<Value> iv, Value n0, Value np, Value nbV,
                       Value k0, Value k1);
  Value tile(int64_t rows, Value ct, ArrayRef<Value> iv, Value m0, Value mt,
             Value n0, Value np, Value k0, Value k1, Value first, Value last,
             Value next);
  SmallVector<Value> kernel(SmallVector<Value> acc, ArrayRef<Value> rowIv,
                            Value nG, Value k0, Value k1, Value next);
  Value epilogue(Value acc, ArrayRef<Value> iv);
  void prefetch(ArrayRef<Value> iv, Value panel, Value k);
  SmallVector<Value> ifElse(Value cond, Type type, int64_t count,
                            function_ref<SmallVector<Value>()> then,
                            function_ref<SmallVector<Value>()> otherwise);

  RewriterBase &b;
  Location loc;
  ContractionMatch c;
  const int64_t MR, NR, KC, MB, NB;
  StringRef path, packB;
  Type f32;
  VectorType accType;
  bool nFull; // N % nr == 0: no masked columns
  SmallVector<unsigned> bOuter;
  Value aSrc; // A, or A widened to f32 once (bf16/f16 A)
  Value bSrc; // packed panels, or B itself with pack_b = none
  // The packed panels as a read-only memref for software prefetches (null:
  // none). GEMV: `prefetchRows` panel rows ahead of the micro-kernel. GEMM:
  // `bFlat` (the same buffer, 1-D), `spreadStep` elements of the next panel
  // per micro-kernel step.
  Value bBuf, bFlat;
  int64_t prefetchRows = 0, spreadStep = 0;
};

} // namespace

Value Emitter::castTo(Value v, Type elt) {
  Type from = getElementTypeOrSelf(v.getType());
  if (from == elt)
    return v;
  Type to = elt;
  if (auto vt = dyn_cast<VectorType>(v.getType()))
    to = VectorType::get(vt.getShape(), elt);
  if (from.getIntOrFloatBitWidth() < elt.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(b, loc, to, v);
  return arith::TruncFOp::create(b, loc, to, v);
}

SmallVector<Value> Emitter::indices(AffineMap map, ArrayRef<Value> iv) {
  SmallVector<Value> out;
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      out.push_back(iv[d.getPosition()]);
    else
      out.push_back(idx(cast<AffineConstantExpr>(e).getValue()));
  }
  return out;
}

/// vector<nr> of `t` starting at `map(iv)` along the tensor dim that
/// iteration dim `dim` indexes (masked past its end when N % nr != 0).
Value Emitter::readAlong(Value t, AffineMap map, ArrayRef<Value> iv,
                         unsigned dim) {
  auto type = cast<RankedTensorType>(t.getType());
  int64_t pos = -1;
  for (auto [i, e] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == dim)
      pos = i;
  assert(pos >= 0 && "operand not indexed by the vector dim");
  AffineMap perm = AffineMap::get(type.getRank(), 0, b.getAffineDimExpr(pos),
                                  b.getContext());
  return vector::TransferReadOp::create(
      b, loc, VectorType::get({NR}, type.getElementType()), t, indices(map, iv),
      zero(type.getElementType()), perm, ArrayRef<bool>{nFull});
}

SmallVector<Value>
Emitter::ifElse(Value cond, Type type, int64_t count,
                function_ref<SmallVector<Value>()> then,
                function_ref<SmallVector<Value>()> otherwise) {
  if (auto cst = getConstantIntValue(cond))
    return *cst ? then() : otherwise();
  SmallVector<Type> types(count, type);
  auto op = scf::IfOp::create(b, loc, types, cond, /*withElse=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(op.thenBlock());
  scf::YieldOp::create(b, loc, then());
  b.setInsertionPointToStart(op.elseBlock());
  scf::YieldOp::create(b, loc, otherwise());
  return SmallVector<Value>(op.getResults());
}

/// Bp[o.., p, k, :] = B[o.., k, p·nr : p·nr + nr] (zero past N), one
/// parallel iteration per (outer, panel).
Value Emitter::packRuntime() {
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> ub;
  for (unsigned d : bOuter) {
    shape.push_back(c.sizes[d]);
    ub.push_back(b.getIndexAttr(c.sizes[d]));
  }
  const int64_t NP = llvm::divideCeil(c.N, NR);
  shape.append({NP, c.K, NR});
  ub.push_back(b.getIndexAttr(NP));
  Value init = tensor::EmptyOp::create(b, loc, shape, c.bElt);
  auto panelType = RankedTensorType::get({c.K, NR}, c.bElt);
  auto forall = scf::ForallOp::create(
      b, loc, ub, ValueRange{init}, std::nullopt,
      [&](OpBuilder &, Location, ValueRange args) {
        SmallVector<Value> iv(c.sizes.size(), Value());
        SmallVector<OpFoldResult> offsets, sizes, strides;
        for (auto [i, d] : llvm::enumerate(bOuter)) {
          iv[d] = args[i];
          offsets.push_back(args[i]);
          sizes.push_back(b.getIndexAttr(1));
        }
        Value p = args[bOuter.size()];
        offsets.append({p, b.getIndexAttr(0), b.getIndexAttr(0)});
        sizes.append(
            {b.getIndexAttr(1), b.getIndexAttr(c.K), b.getIndexAttr(NR)});
        strides.assign(shape.size(), b.getIndexAttr(1));
        Value slice = tensor::ExtractSliceOp::create(
            b, loc, panelType, args.back(), offsets, sizes, strides);
        iv[c.n] = muli(p, NR);
        auto loop = scf::ForOp::create(
            b, loc, idx(0), idx(c.K), idx(1), ValueRange{slice},
            [&](OpBuilder &, Location, Value k, ValueRange it) {
              iv[c.k] = k;
              Value row = readAlong(c.b.value, c.b.map, iv, c.n);
              Value next = vector::TransferWriteOp::create(
                               b, loc, row, it[0], ValueRange{k, idx(0)},
                               ArrayRef<bool>{true})
                               .getResult();
              scf::YieldOp::create(b, loc, next);
            });
        auto inParallel = scf::InParallelOp::create(b, loc);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&inParallel.getRegion().front());
        tensor::ParallelInsertSliceOp::create(
            b, loc, loop.getResult(0), args.back(), offsets, sizes, strides);
      });
  forall->setAttr("kestrel.pack_b", b.getUnitAttr());
  return forall.getResult(0);
}

/// A widened to f32 by one elementwise linalg.generic (`kestrel.widen_a`):
/// the micro-kernel broadcasts each element of A once per panel, and a
/// bf16 element costs a scalar load, a shift and a broadcast there, an f32
/// one a single broadcast load. bf16, alternating in one process: GEMM
/// 512^3 2.51 -> 2.05 ms (one thread), 1.44 -> 1.22 ms (two); decode
/// 4096x4096, one thread, loaded machine: M=1 4.28 -> 3.32 ms, M=16
/// 8.96 -> 6.79 ms.
Value Emitter::widenA() {
  auto type = cast<RankedTensorType>(c.a.value.getType());
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), f32);
  const int64_t rank = type.getRank();
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto widen = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{c.a.value},
      ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value v = arith::ExtFOp::create(nb, l, f32, args[0]);
        linalg::YieldOp::create(nb, l, v);
      });
  widen->setAttr("kestrel.widen_a", b.getUnitAttr());
  return widen.getResult(0);
}

Value Emitter::emit() {
  aSrc = c.aElt.isF32() ? c.a.value : widenA();
  if (packB == "compile_time")
    bSrc = arith::ConstantOp::create(b, loc, packConstantB(c, NR));
  else if (packB == "runtime")
    bSrc = packRuntime();
  else
    bSrc = c.b.value;
  // GEMV streams each panel from memory once with little arithmetic per
  // byte; the hardware prefetchers alone leave a core well below the
  // memory bandwidth, the more so with more rows (more work between the
  // loads) or with other processes contending. 4096x4096 weights, one
  // thread, a loaded machine, median GB/s without -> with prefetches 16 KiB
  // ahead into L2: f32 M=1 15.6 -> 23.3, M=4 9.1 -> 21.0, bf16 M=1
  // 14.0 -> 22.3 (4 and 8 KiB ahead, or into L1, gained less).
  //
  // GEMM reads each panel's K block from memory in its first row tile and
  // from L1/L2 in the other T - 1 = mb / mr - 1: the first tile asks for
  // the panel at ~16 bytes per cycle, far more than one core's misses in
  // flight deliver, so once the weights outgrow the last-level cache that
  // tile waits. Each of the T tiles therefore prefetches 1/T of the next
  // panel's K block into L2, a few bytes per micro-kernel step, spreading
  // the stream over the whole panel.
  //
  // Panels we own (packed, identity layout) only: B read in place may be a
  // view whose buffer has another layout.
  if (packB != "none") {
    auto type = cast<RankedTensorType>(bSrc.getType());
    bBuf = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), bSrc,
        /*readOnly=*/true);
    if (path == "gemv") {
      const int64_t rowBytes = NR * type.getElementTypeBitWidth() / 8;
      prefetchRows = std::max<int64_t>(1, kPrefetchBytes / rowBytes);
    } else {
      spreadStep = llvm::divideCeil(NR, std::max<int64_t>(1, MB / MR));
      ReassociationIndices all(type.getRank());
      std::iota(all.begin(), all.end(), 0);
      bFlat = memref::CollapseShapeOp::create(b, loc, bBuf,
                                              ArrayRef<ReassociationIndices>{all});
    }
  }
  Operation *replaced = c.consumer ? c.consumer.getOperation() : c.op;
  auto outType = cast<RankedTensorType>(replaced->getResult(0).getType());
  Value out = tensor::EmptyOp::create(b, loc, outType.getShape(),
                                      outType.getElementType());
  SmallVector<OpFoldResult> ub;
  for (unsigned d : c.outer)
    ub.push_back(b.getIndexAttr(c.sizes[d]));
  ub.push_back(b.getIndexAttr(llvm::divideCeil(c.M, MB)));
  ub.push_back(b.getIndexAttr(llvm::divideCeil(c.N, NB)));
  auto forall = scf::ForallOp::create(
      b, loc, ub, ValueRange{out}, std::nullopt,
      [&](OpBuilder &, Location, ValueRange args) {
        SmallVector<Value> iv(c.sizes.size(), Value());
        for (auto [i, d] : llvm::enumerate(c.outer))
          iv[d] = args[i];
        Value m0 = muli(args[c.outer.size()], MB);
        Value n0 = muli(args[c.outer.size() + 1], NB);
        auto extent = [&](Value at, int64_t full, int64_t blk) -> OpFoldResult {
          if (full % blk == 0)
            return b.getIndexAttr(blk);
          return arith::MinSIOp::create(
                     b, loc, idx(blk),
                     arith::SubIOp::create(b, loc, idx(full), at))
              .getResult();
        };
        OpFoldResult mb = extent(m0, c.M, MB), nb = extent(n0, c.N, NB);
        SmallVector<OpFoldResult> offsets, sizes,
            strides(outType.getRank(), b.getIndexAttr(1));
        for (AffineExpr e : c.cMap.getResults()) {
          unsigned d = cast<AffineDimExpr>(e).getPosition();
          if (d == c.m) {
            offsets.push_back(m0);
            sizes.push_back(mb);
          } else if (d == c.n) {
            offsets.push_back(n0);
            sizes.push_back(nb);
          } else {
            offsets.push_back(iv[d]);
            sizes.push_back(b.getIndexAttr(1));
          }
        }
        auto sliceType =
            tensor::ExtractSliceOp::inferCanonicalRankReducedResultType(
                2, outType, sizes);
        Value ct = tensor::ExtractSliceOp::create(
            b, loc, sliceType, args.back(), offsets, sizes, strides);
        ct = block(ct, iv, m0, n0, mb, nb);
        auto inParallel = scf::InParallelOp::create(b, loc);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&inParallel.getRegion().front());
        tensor::ParallelInsertSliceOp::create(b, loc, ct, args.back(), offsets,
                                              sizes, strides);
      });
  forall->setAttr("kestrel.contraction_tile", b.getDenseI64ArrayAttr({MR, NR}));
  return forall.getResult(0);
}

Value Emitter::block(Value ct, SmallVector<Value> iv, Value m0, Value n0,
                     OpFoldResult mb, OpFoldResult nb) {
  const int64_t nkb = llvm::divideCeil(c.K, KC);
  Value yes = arith::ConstantIntOp::create(b, loc, 1, 1);
  if (nkb == 1)
    return panels(ct, iv, m0, n0, mb, nb, idx(0), idx(c.K), yes, yes);
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(nkb), idx(1), ValueRange{ct},
      [&](OpBuilder &, Location, Value kb, ValueRange it) {
        Value k0 = muli(kb, KC);
        Value k1 = arith::MinSIOp::create(b, loc, addi(k0, idx(KC)), idx(c.K));
        Value first =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, kb, idx(0));
        Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, kb,
                                           idx(nkb - 1));
        scf::YieldOp::create(
            b, loc, panels(it[0], iv, m0, n0, mb, nb, k0, k1, first, last));
      });
  return loop.getResult(0);
}

Value Emitter::panels(Value ct, ArrayRef<Value> iv, Value m0, Value n0,
                      OpFoldResult mb, OpFoldResult nb, Value k0, Value k1,
                      Value first, Value last) {
  Value nbV = getValueOrCreateConstantIndexOp(b, loc, nb);
  Value mbV = getValueOrCreateConstantIndexOp(b, loc, mb);
  auto loop = scf::ForOp::create(
      b, loc, idx(0), nbV, idx(NR), ValueRange{ct},
      [&](OpBuilder &, Location, Value np, ValueRange it) {
        Value next =
            bFlat ? nextPanelStart(iv, n0, np, nbV, k0, k1) : Value();
        // Whole mr-row tiles, then the rows left in a ragged block.
        Value full = arith::SubIOp::create(
            b, loc, mbV, arith::RemSIOp::create(b, loc, mbV, idx(MR)));
        auto tiles = scf::ForOp::create(
            b, loc, idx(0), full, idx(MR), ValueRange{it[0]},
            [&](OpBuilder &, Location, Value mt, ValueRange t) {
              scf::YieldOp::create(
                  b, loc,
                  tile(MR, t[0], iv, m0, mt, n0, np, k0, k1, first, last,
                       next));
            });
        Value res = tiles.getResult(0);
        auto mbC = getConstantIntValue(mb);
        if (MR > 1 && !(mbC && *mbC % MR == 0)) {
          auto rest = scf::ForOp::create(
              b, loc, full, mbV, idx(1), ValueRange{res},
              [&](OpBuilder &, Location, Value mt, ValueRange t) {
                scf::YieldOp::create(
                    b, loc,
                    tile(1, t[0], iv, m0, mt, n0, np, k0, k1, first, last,
                         Value()));
              });
          res = rest.getResult(0);
        }
        scf::YieldOp::create(b, loc, res);
      });
  return loop.getResult(0);
}

/// Where the panel after (n0 + np, K block [k0, k1)) starts in bFlat: the
/// next panel of the block at the same K block, or after the block's last
/// panel the first one at the next K block (past the end of K: a valid
/// address nobody reads soon, prefetched harmlessly).
Value Emitter::nextPanelStart(ArrayRef<Value> iv, Value n0, Value np,
                              Value nbV, Value k0, Value k1) {
  auto type = cast<MemRefType>(bBuf.getType());
  const int64_t NP = llvm::divideCeil(c.N, NR);
  Value panel = arith::DivUIOp::create(b, loc, addi(n0, np), idx(NR));
  Value lastInBlock = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::sge, addi(np, idx(NR)), nbV);
  Value nextPanel = arith::SelectOp::create(
      b, loc, lastInBlock, arith::DivUIOp::create(b, loc, n0, idx(NR)),
      addi(panel, idx(1)));
  Value nextK = arith::SelectOp::create(b, loc, lastInBlock, k1, k0);
  Value lin = idx(0);
  for (auto [i, d] : llvm::enumerate(bOuter))
    lin = addi(muli(lin, type.getDimSize(i)), iv[d]);
  lin = addi(muli(lin, NP), nextPanel);
  lin = addi(muli(lin, c.K), nextK);
  return muli(lin, NR);
}

Value Emitter::tile(int64_t rows, Value ct, ArrayRef<Value> iv, Value m0,
                    Value mt, Value n0, Value np, Value k0, Value k1,
                    Value first, Value last, Value next) {
  Value nG = addi(n0, np);
  SmallVector<SmallVector<Value>> rowIv;
  for (int64_t r = 0; r < rows; ++r) {
    SmallVector<Value> v(iv);
    v[c.m] = addi(addi(m0, mt), idx(r));
    v[c.n] = nG;
    rowIv.push_back(v);
  }
  auto localAt = [&](int64_t r) {
    return SmallVector<Value>{addi(mt, idx(r)), np};
  };
  Type ctElt = getElementTypeOrSelf(ct.getType());
  SmallVector<Value> acc = ifElse(
      first, accType, rows,
      [&] {
        SmallVector<Value> v;
        for (int64_t r = 0; r < rows; ++r)
          v.push_back(
              c.zeroInit
                  ? arith::ConstantOp::create(
                        b, loc,
                        DenseElementsAttr::get(accType,
                                               b.getFloatAttr(f32, 0.0)))
                        .getResult()
                  : castTo(readAlong(c.init, c.cMap, rowIv[r], c.n), f32));
        return v;
      },
      [&] {
        SmallVector<Value> v;
        for (int64_t r = 0; r < rows; ++r)
          v.push_back(
              castTo(vector::TransferReadOp::create(
                         b, loc, VectorType::get({NR}, ctElt), ct, localAt(r),
                         zero(ctElt), ArrayRef<bool>{nFull}),
                     f32));
        return v;
      });
  // Tile mt / mr of the block prefetches its share of the next panel.
  Value start;
  if (next) {
    Value share = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, mt, idx(MR)),
        arith::SubIOp::create(b, loc, k1, k0));
    start = addi(next, muli(share, spreadStep));
  }
  acc = kernel(acc, ArrayRef(rowIv).front(), nG, k0, k1, start);
  SmallVector<Value> outV = ifElse(
      last, VectorType::get({NR}, ctElt), rows,
      [&] {
        SmallVector<Value> v;
        for (int64_t r = 0; r < rows; ++r)
          v.push_back(castTo(epilogue(acc[r], rowIv[r]), ctElt));
        return v;
      },
      [&] {
        SmallVector<Value> v;
        for (int64_t r = 0; r < rows; ++r)
          v.push_back(castTo(acc[r], ctElt));
        return v;
      });
  for (int64_t r = 0; r < rows; ++r)
    ct = vector::TransferWriteOp::create(b, loc, outV[r], ct, localAt(r),
                                         ArrayRef<bool>{nFull})
             .getResult();
  return ct;
}

/// The micro-kernel over k in [k0, k1): acc[i] += A[row0 + i, k] · Bp row.
SmallVector<Value> Emitter::kernel(SmallVector<Value> acc,
                                   ArrayRef<Value> rowIv, Value nG, Value k0,
                                   Value k1, Value next) {
  const int64_t rows = acc.size();
  Value row0 = rowIv[c.m];
  SmallVector<Value> rowsAt;
  for (int64_t r = 0; r < rows; ++r)
    rowsAt.push_back(r == 0 ? row0 : addi(row0, idx(r)));
  SmallVector<Value> iv(rowIv);
  Value panel = arith::DivUIOp::create(b, loc, nG, idx(NR));
  auto loop = scf::ForOp::create(
      b, loc, k0, k1, idx(1), acc,
      [&](OpBuilder &, Location, Value k, ValueRange it) {
        iv[c.k] = k;
        if (prefetchRows)
          prefetch(iv, panel, k);
        if (next) {
          const int64_t size =
              cast<MemRefType>(bFlat.getType()).getNumElements();
          Value step = muli(arith::SubIOp::create(b, loc, k, k0), spreadStep);
          Value at = arith::MinUIOp::create(b, loc, addi(next, step),
                                            idx(size - 1));
          memref::PrefetchOp::create(b, loc, bFlat, ValueRange{at},
                                     /*isWrite=*/false, /*localityHint=*/2,
                                     /*isDataCache=*/true);
        }
        Value bRow;
        if (packB == "none") {
          bRow = readAlong(bSrc, c.b.map, iv, c.n);
        } else {
          SmallVector<Value> at;
          for (unsigned d : bOuter)
            at.push_back(iv[d]);
          at.append({panel, k, idx(0)});
          bRow = vector::TransferReadOp::create(
              b, loc, VectorType::get({NR}, c.bElt), bSrc, at, zero(c.bElt),
              ArrayRef<bool>{true});
        }
        bRow = castTo(bRow, f32);
        SmallVector<Value> next;
        for (int64_t r = 0; r < rows; ++r) {
          iv[c.m] = rowsAt[r];
          Value a = tensor::ExtractOp::create(b, loc, aSrc,
                                              indices(c.a.map, iv));
          Value splat =
              vector::BroadcastOp::create(b, loc, accType, castTo(a, f32));
          next.push_back(vector::FMAOp::create(b, loc, splat, bRow, it[r]));
        }
        scf::YieldOp::create(b, loc, next);
      });
  loop->setAttr("kestrel.micro_kernel", b.getUnitAttr());
  if (next)
    loop->setAttr("kestrel.prefetch_next_panel",
                  b.getI64IntegerAttr(spreadStep));
  return SmallVector<Value>(loop.getResults());
}

/// Prefetches (for reading, into L2) every cache line of the panel row
/// `prefetchRows` after `k` (the last row near the end of K).
void Emitter::prefetch(ArrayRef<Value> iv, Value panel, Value k) {
  Value ahead = arith::MinSIOp::create(b, loc, addi(k, idx(prefetchRows)),
                                       idx(c.K - 1));
  auto type = cast<MemRefType>(bBuf.getType());
  const int64_t perLine = 512 / type.getElementTypeBitWidth();
  for (int64_t j = 0; j < NR; j += perLine) {
    SmallVector<Value> at;
    for (unsigned d : bOuter)
      at.push_back(iv[d]);
    at.append({panel, ahead, idx(j)});
    memref::PrefetchOp::create(b, loc, bBuf, at, /*isWrite=*/false,
                               /*localityHint=*/2, /*isDataCache=*/true);
  }
}

/// The consumer's body on vector<nr> values at C position `iv` (or a cast
/// of the accumulator to C's element type without a consumer).
Value Emitter::epilogue(Value acc, ArrayRef<Value> iv) {
  Value result = castTo(acc, c.cElt);
  if (!c.consumer)
    return result;
  // Consumer dim j is C dim j, i.e. iteration dim cMap(j).
  SmallVector<Value> civ;
  for (AffineExpr e : c.cMap.getResults())
    civ.push_back(iv[cast<AffineDimExpr>(e).getPosition()]);
  const unsigned last = civ.size() - 1;
  Block &body = *c.consumer.getBody();
  IRMapping map;
  SmallVector<AffineMap> maps = c.consumer.getIndexingMapsArray();
  auto vec = [&](Type t) { return VectorType::get({NR}, t); };
  for (OpOperand *in : c.consumer.getDpsInputOperands()) {
    int64_t i = in->getOperandNumber();
    BlockArgument arg = body.getArgument(i);
    if (i == c.consumerInput) {
      map.map(arg, result);
      continue;
    }
    AffineMap m = maps[i];
    bool alongN = llvm::any_of(m.getResults(), [&](AffineExpr e) {
      auto d = dyn_cast<AffineDimExpr>(e);
      return d && d.getPosition() == last;
    });
    if (alongN) {
      map.map(arg, readAlong(in->get(), m, civ, last));
    } else {
      Value s = tensor::ExtractOp::create(b, loc, in->get(), indices(m, civ));
      map.map(arg, vector::BroadcastOp::create(b, loc, vec(s.getType()), s));
    }
  }
  for (Operation &op : body.without_terminator()) {
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      Attribute value = cst.getValue();
      map.map(cst.getResult(),
              arith::ConstantOp::create(
                  b, loc,
                  DenseElementsAttr::get(vec(cst.getType()),
                                         ArrayRef<Attribute>(value))));
      continue;
    }
    for (Value v : op.getOperands())
      if (!map.contains(v))
        map.map(v, vector::BroadcastOp::create(b, loc, vec(v.getType()), v));
    Operation *clone = b.clone(op, map);
    for (Value r : clone->getResults())
      r.setType(vec(r.getType()));
  }
  Value y = body.getTerminator()->getOperand(0);
  if (!map.contains(y))
    return vector::BroadcastOp::create(b, loc, vec(y.getType()), y);
  return map.lookup(y);
}

Value kestrel::emitContraction(RewriterBase &rewriter,
                               const ContractionMatch &match,
                               ContractionConfigAttr cfg) {
  return Emitter(rewriter, match, cfg).emit();
}
