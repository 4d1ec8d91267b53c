//===- RowKernels.cpp - Elementwise ops and row reductions as GPU kernels -===//
//
// Rewrites the statically shaped linalg.generic ops left in a function body
// (after kestrel-gpu-gemm and kestrel-fuse-elementwise) into gpu.launch
// kernels on buffers (bufferization.to_buffer of the operands, a fresh
// memref.alloc per written result, bufferization.to_tensor back), each with
// a #kestrel.row_plan (dialects/GpuRowAttrs.td):
//
//   rows:        a row reduction over the innermost loop (matchReduction:
//                one add/mul/max/min combiner per output) with a row of at
//                least min-row elements, grouped with the generics next to
//                it over the same loop space that it feeds or that feed it
//                (RMSNorm: residual add, sum of squares, scale; softmax:
//                max, exp, sum, divide). One block per row; thread t owns
//                the chunks t, t + T, ... of `vector` elements of the row,
//                the values of one op stay in registers (SSA values of the
//                unrolled chunks) for the next; a reduction folds the
//                thread's chunks from the combiner's identity, then
//                gpu.all_reduce (warp shuffles) and the init value;
//   elementwise: one all-parallel generic; every thread owns `vector`
//                consecutive innermost elements, 16-byte loads and stores
//                for operands whose last dim is the innermost loop;
//   serial:      a reduction over a short innermost loop: one thread per
//                output element, a sequential scf.for.
//
// Bodies are cloned per element: block arguments become loaded values,
// linalg.index the element's loop index, tensor.extract of a tensor from
// above a memref.load of its buffer.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/Kestrel.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"

namespace kestrel {
#define GEN_PASS_DEF_GPUROWKERNELS
#include "passes/Passes.h.inc"
} // namespace kestrel

using namespace mlir;
using namespace kestrel;

namespace {

using utils::IteratorType;

/// One generic this pass can emit, with its reduction combiners (one per
/// output; empty for all-parallel ops).
struct RowOp {
  mutable linalg::GenericOp op; // op handles are not const-correct
  bool reduction = false;       // the innermost loop is a reduction
  bool combinable = false;      // every output has a recognized combiner
  SmallVector<Operation *> combiners;
  SmallVector<arith::AtomicRMWKind> kinds;
  llvm::SetVector<Value> above; // tensors the body reads with tensor.extract
  SmallVector<int64_t> shape;   // static loop ranges
};

std::optional<arith::AtomicRMWKind> combinerKind(Operation *op) {
  if (isa<arith::AddFOp>(op))
    return arith::AtomicRMWKind::addf;
  if (isa<arith::MulFOp>(op))
    return arith::AtomicRMWKind::mulf;
  if (isa<arith::MaximumFOp>(op))
    return arith::AtomicRMWKind::maximumf;
  if (isa<arith::MinimumFOp>(op))
    return arith::AtomicRMWKind::minimumf;
  if (isa<arith::MaxNumFOp>(op))
    return arith::AtomicRMWKind::maxnumf;
  if (isa<arith::MinNumFOp>(op))
    return arith::AtomicRMWKind::minnumf;
  return std::nullopt;
}

gpu::AllReduceOperation allReduceKind(arith::AtomicRMWKind kind) {
  switch (kind) {
  case arith::AtomicRMWKind::addf:
    return gpu::AllReduceOperation::ADD;
  case arith::AtomicRMWKind::mulf:
    return gpu::AllReduceOperation::MUL;
  case arith::AtomicRMWKind::maximumf:
    return gpu::AllReduceOperation::MAXIMUMF;
  case arith::AtomicRMWKind::minimumf:
    return gpu::AllReduceOperation::MINIMUMF;
  case arith::AtomicRMWKind::maxnumf:
    return gpu::AllReduceOperation::MAXNUMF;
  default:
    return gpu::AllReduceOperation::MINNUMF;
  }
}

bool hasStaticTensorOperands(Operation *op) {
  return llvm::all_of(op->getOperandTypes(), [](Type t) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    return tensor && tensor.hasStaticShape();
  });
}

/// The generics this pass owns: in the function body, not a kestrel kernel's
/// tile op, static, iterators all parallel or all parallel but the
/// innermost (a reduction with recognized float combiners), tensors used
/// from above only through tensor.extract.
std::optional<RowOp> analyze(linalg::GenericOp op) {
  if (!isa_and_nonnull<func::FuncOp>(op->getParentOp()) ||
      !op.hasPureTensorSemantics() || !hasStaticTensorOperands(op) ||
      op.getNumLoops() == 0 || op->getNumResults() == 0)
    return std::nullopt;
  if (llvm::any_of(op->getAttrs(), [](NamedAttribute a) {
        return a.getName().strref().starts_with("kestrel.");
      }))
    return std::nullopt;
  SmallVector<IteratorType> iters = op.getIteratorTypesArray();
  unsigned n = iters.size();
  for (unsigned i = 0; i + 1 < n; ++i)
    if (iters[i] != IteratorType::parallel)
      return std::nullopt;
  RowOp row;
  row.op = op;
  row.shape = op.getStaticLoopRanges();
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(op.getRegion(), above);
  for (Value v : above)
    if (isa<ShapedType>(v.getType()))
      row.above.insert(v);
  for (Value v : row.above)
    if (llvm::any_of(v.getUsers(), [&](Operation *user) {
          auto extract = dyn_cast<tensor::ExtractOp>(user);
          return op->isAncestor(user) &&
                 (!extract || extract.getTensor() != v ||
                  !isa<RankedTensorType>(v.getType()));
        }))
      return std::nullopt;
  if (iters[n - 1] == IteratorType::parallel) {
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    for (AffineMap m : ArrayRef(maps).drop_front(op.getNumDpsInputs()))
      if (!m.isPermutation())
        return std::nullopt;
    return row;
  }
  row.reduction = true;
  row.combinable = true;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap m = op.getMatchingIndexingMap(&init);
    if (m.getNumResults() != n - 1 || !m.isProjectedPermutation() ||
        m.isFunctionOfDim(n - 1))
      return std::nullopt;
    SmallVector<Operation *, 4> combiner;
    unsigned pos = init.getOperandNumber() - op.getNumDpsInputs();
    std::optional<arith::AtomicRMWKind> kind;
    if (matchReduction(op.getRegionOutputArgs(), pos, combiner) &&
        combiner.size() == 1)
      kind = combinerKind(combiner[0]);
    if (!kind) {
      row.combinable = false;
      continue;
    }
    row.combiners.push_back(combiner[0]);
    row.kinds.push_back(*kind);
  }
  if (!row.combinable) {
    row.combiners.clear();
    row.kinds.clear();
  }
  return row;
}

/// Builds the kernels. Holds the buffers of the tensors read (created
/// before the launch) and the index helpers.
class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value idx(int64_t c) { return arith::ConstantIndexOp::create(b, loc, c); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t c) {
    return c == 1 ? x : arith::MulIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value divC(Value x, int64_t c) {
    return c == 1 ? x : arith::DivUIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value remC(Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, idx(c));
  }
  Value ult(Value x, int64_t c) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, idx(c));
  }

  /// The buffer of `tensor`, created before the launch.
  Value buffer(Value tensor) {
    auto it = buffers.find(tensor);
    if (it != buffers.end())
      return it->second;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(launchPoint);
    auto type = cast<RankedTensorType>(tensor.getType());
    Value buf = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
    return buffers[tensor] = buf;
  }

  /// Indices of `map` at the loop point `loops`.
  SmallVector<Value> indices(AffineMap map, ArrayRef<Value> loops) {
    SmallVector<Value> out;
    for (AffineExpr e : map.getResults()) {
      if (auto d = dyn_cast<AffineDimExpr>(e))
        out.push_back(loops[d.getPosition()]);
      else
        out.push_back(affine::expandAffineExpr(b, loc, e, loops, {}));
    }
    return out;
  }

  /// Splits `flat` into indices of `shape` (row-major).
  SmallVector<Value> delinearize(Value flat, ArrayRef<int64_t> shape) {
    SmallVector<Value> out(shape.size());
    for (int64_t i = shape.size() - 1; i >= 0; --i) {
      out[i] = i == 0 ? flat : remC(flat, shape[i]);
      if (i > 0)
        flat = divC(flat, shape[i]);
    }
    return out;
  }

  /// Clones `row`'s body at the loop point `loops` with the block arguments
  /// bound to `args` (null: unused). Returns the yielded values; with
  /// `skipCombiners`, for each output the value its combiner folds into the
  /// accumulator instead (the combiners themselves are not cloned).
  SmallVector<Value> cloneBody(const RowOp &row, ArrayRef<Value> loops,
                               ArrayRef<Value> args, bool skipCombiners) {
    Block &body = row.op.getRegion().front();
    IRMapping map;
    for (auto [arg, v] : llvm::zip(body.getArguments(), args))
      if (v)
        map.map(arg, v);
    for (Operation &inner : body.without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
        map.map(index.getResult(), loops[index.getDim()]);
        continue;
      }
      if (skipCombiners && llvm::is_contained(row.combiners, &inner))
        continue;
      Operation *copy = b.clone(inner, map);
      SmallVector<tensor::ExtractOp> extracts;
      copy->walk([&](tensor::ExtractOp e) {
        if (row.above.contains(e.getTensor()))
          extracts.push_back(e);
      });
      for (tensor::ExtractOp e : extracts) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(e);
        Value load = memref::LoadOp::create(b, loc, buffer(e.getTensor()),
                                            e.getIndices());
        e.replaceAllUsesWith(load);
        // The mapping of a cloned top-level extract must follow it.
        if (e.getOperation() == copy)
          map.map(inner.getResult(0), load);
        e.erase();
      }
    }
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    SmallVector<Value> out;
    for (auto [i, v] : llvm::enumerate(yield.getValues())) {
      if (!skipCombiners) {
        out.push_back(map.lookupOrDefault(v));
        continue;
      }
      Operation *c = row.combiners[i];
      Value acc = row.op.getRegionOutputArgs()[i];
      Value other =
          c->getOperand(0) == acc ? c->getOperand(1) : c->getOperand(0);
      out.push_back(map.lookupOrDefault(other));
    }
    return out;
  }

  /// The launch of `blocks` x `threads`, before which buffers are made;
  /// the builder is left at the start of its body.
  gpu::LaunchOp launch(int64_t blocks, int64_t threads, RowPlanAttr plan) {
    Value one = idx(1);
    auto launch = gpu::LaunchOp::create(b, loc, idx(blocks), one, one,
                                        idx(threads), one, one);
    launch->setAttr("kestrel.row_plan", plan);
    launchPoint = launch;
    b.setInsertionPointToStart(&launch.getBody().front());
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&launch.getBody().front());
    return launch;
  }

  /// A fresh buffer for `result` and the tensor that replaces it.
  Value output(Value result) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(launchPoint);
    auto type = cast<RankedTensorType>(result.getType());
    Value buf = memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()));
    Value tensor = bufferization::ToTensorOp::create(
        b, loc, type, buf, /*restrict=*/true, /*writable=*/true);
    replacements.push_back({result, tensor});
    return buf;
  }

  OpBuilder &b;
  Location loc;
  Operation *launchPoint = nullptr;
  DenseMap<Value, Value> buffers;
  SmallVector<std::pair<Value, Value>> replacements;
};

} // namespace

namespace {

int64_t elementBits(Type t) {
  Type e = getElementTypeOrSelf(t);
  return e.isIntOrFloat() ? e.getIntOrFloatBitWidth() : 64;
}

/// Lanes per chunk (16 bytes of the narrowest element) for `ops` along an
/// innermost extent of `inner` (1 when some tensor holds sub-byte elements).
int64_t vectorWidth(ArrayRef<const RowOp *> ops, int64_t inner) {
  // The narrowest element sets the lanes: 16 bytes of it (8 bf16, 4 f32);
  // wider tensors of the group then move 32 bytes per chunk (two 16-byte
  // accesses).
  int64_t minBits = 64;
  for (const RowOp *row : ops)
    for (Type t : llvm::concat<const Type>(row->op->getOperandTypes(),
                                           row->op->getResultTypes())) {
      if (elementBits(t) < 8)
        return 1;
      minBits = std::min(minBits, elementBits(t));
    }
  int64_t vec = std::min<int64_t>(8, 128 / minBits);
  while (vec > 1 && inner % vec)
    vec /= 2;
  return vec;
}

/// Whether `map`'s last result is the innermost loop: the operand's
/// elements along it are contiguous.
bool innermostLast(AffineMap map) {
  if (map.getNumResults() == 0)
    return false;
  auto d = dyn_cast<AffineDimExpr>(map.getResults().back());
  return d && d.getPosition() == map.getNumDims() - 1;
}

/// Loads of the operands of one generic at the elements of one thread:
/// vectors where the operand is contiguous along the innermost loop, scalars
/// elsewhere (once for operands that do not vary along it).
class OperandLoader {
public:
  OperandLoader(KernelBuilder &k, int64_t vec) : k(k), vec(vec) {}

  /// Operand `tensor` read through `map` at loop point `lp`, whose
  /// innermost index is `lane` elements into a chunk starting at `lp0`.
  Value load(Value tensor, AffineMap map, ArrayRef<Value> lp,
             ArrayRef<Value> lp0, int64_t lane, int64_t chunk) {
    auto type = cast<RankedTensorType>(tensor.getType());
    unsigned inner = map.getNumDims() - 1;
    if (!map.isFunctionOfDim(inner)) {
      auto &cached = rowScalars[{tensor, map}];
      if (!cached)
        cached = memref::LoadOp::create(k.b, k.loc, k.buffer(tensor),
                                        k.indices(map, lp));
      return cached;
    }
    if (vec > 1 && innermostLast(map) && elementBits(type) >= 8) {
      auto &v = vectors[{tensor, map, chunk}];
      if (!v) {
        int64_t bytes = vec * elementBits(type) / 8;
        v = vector::LoadOp::create(
            k.b, k.loc, VectorType::get({vec}, type.getElementType()),
            k.buffer(tensor), k.indices(map, lp0), false,
            llvm::MaybeAlign(bytes));
      }
      return vector::ExtractOp::create(k.b, k.loc, v, lane);
    }
    return memref::LoadOp::create(k.b, k.loc, k.buffer(tensor),
                                  k.indices(map, lp));
  }

private:
  KernelBuilder &k;
  int64_t vec;
  DenseMap<std::pair<Value, AffineMap>, Value> rowScalars;
  DenseMap<std::tuple<Value, AffineMap, int64_t>, Value> vectors;
};

/// Stores `values` (one per lane) of result buffer `buf` at the chunk whose
/// first element is at loop point `lp0`.
void storeChunk(KernelBuilder &k, Value buf, AffineMap map, ArrayRef<Value> lp0,
                ArrayRef<Value> values) {
  SmallVector<Value> idx = k.indices(map, lp0);
  if (values.size() == 1) {
    memref::StoreOp::create(k.b, k.loc, values[0], buf, idx);
    return;
  }
  auto type = VectorType::get({(int64_t)values.size()}, values[0].getType());
  Value v = vector::FromElementsOp::create(k.b, k.loc, type, values);
  vector::StoreOp::create(
      k.b, k.loc, v, buf, idx, false,
      llvm::MaybeAlign(values.size() * elementBits(values[0].getType()) / 8));
}

/// Runs `body` under `cond` (unconditionally when null).
void ifThen(KernelBuilder &k, Value cond, llvm::function_ref<void()> body) {
  if (!cond)
    return body();
  auto op = scf::IfOp::create(k.b, k.loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(k.b);
  k.b.setInsertionPointToStart(&op.getThenRegion().front());
  body();
}

/// The value of a reduction's init operand for one row: a fill's scalar, or
/// a load.
Value initValue(KernelBuilder &k, linalg::GenericOp op, unsigned i,
                ArrayRef<Value> lp) {
  OpOperand *init = op.getDpsInitOperand(i);
  if (auto fill = init->get().getDefiningOp<linalg::FillOp>())
    return fill.getInputs()[0];
  return memref::LoadOp::create(k.b, k.loc, k.buffer(init->get()),
                                k.indices(op.getMatchingIndexingMap(init), lp));
}

/// The loop point `lp` with the innermost index moved by `lane`.
SmallVector<Value> atLane(KernelBuilder &k, ArrayRef<Value> lp, int64_t lane) {
  SmallVector<Value> out(lp);
  if (lane)
    out.back() = k.add(out.back(), k.idx(lane));
  return out;
}

/// One all-parallel generic: `threads` threads per block, `vec`
/// consecutive innermost elements per thread.
void emitElementwise(KernelBuilder &k, const RowOp &row, int64_t threads) {
  linalg::GenericOp op = row.op;
  ArrayRef<int64_t> shape = row.shape;
  int64_t vec = vectorWidth({&row}, shape.back());
  for (OpOperand &init : op.getDpsInitsMutable())
    if (!innermostLast(op.getMatchingIndexingMap(&init)))
      vec = 1;
  SmallVector<int64_t> chunks(shape);
  chunks.back() /= vec;
  int64_t total = 1;
  for (int64_t c : chunks)
    total *= c;
  threads = std::min<int64_t>(threads,
                              std::max<int64_t>(32, llvm::alignTo(total, 32)));
  auto plan =
      RowPlanAttr::get(op.getContext(), "elementwise", threads, vec, 1, 1);
  gpu::LaunchOp launch =
      k.launch(llvm::divideCeil(total, threads), threads, plan);
  SmallVector<Value> bufs;
  for (Value r : op->getResults())
    bufs.push_back(k.output(r));
  Value gid =
      k.add(k.mul(launch.getBlockIds().x, threads), launch.getThreadIds().x);
  Value inRange = total % threads ? k.ult(gid, total) : Value();
  ifThen(k, inRange, [&] {
    SmallVector<Value> lp0 = k.delinearize(gid, chunks);
    lp0.back() = k.mul(lp0.back(), vec);
    OperandLoader loader(k, vec);
    SmallVector<SmallVector<Value>> results(op->getNumResults());
    Block &body = op.getRegion().front();
    for (int64_t lane = 0; lane < vec; ++lane) {
      SmallVector<Value> lp = atLane(k, lp0, lane);
      SmallVector<Value> args;
      for (OpOperand &o : op->getOpOperands()) {
        bool isInit = o.getOperandNumber() >= op.getNumDpsInputs();
        if (isInit && body.getArgument(o.getOperandNumber()).use_empty()) {
          args.push_back(Value());
          continue;
        }
        args.push_back(loader.load(o.get(), op.getMatchingIndexingMap(&o), lp,
                                   lp0, lane, 0));
      }
      for (auto [i, v] : llvm::enumerate(k.cloneBody(row, lp, args, false)))
        results[i].push_back(v);
    }
    for (auto [i, buf] : llvm::enumerate(bufs))
      storeChunk(k, buf, op.getMatchingIndexingMap(op.getDpsInitOperand(i)),
                 lp0, results[i]);
  });
}

/// A reduction over a short innermost loop: one thread per output element,
/// a sequential loop over the row.
void emitSerial(KernelBuilder &k, const RowOp &row, int64_t threads) {
  linalg::GenericOp op = row.op;
  ArrayRef<int64_t> shape = row.shape;
  SmallVector<int64_t> rowShape(shape.drop_back());
  int64_t rows = 1;
  for (int64_t c : rowShape)
    rows *= c;
  threads = std::min<int64_t>(threads,
                              std::max<int64_t>(32, llvm::alignTo(rows, 32)));
  auto plan =
      RowPlanAttr::get(op.getContext(), "serial", threads, 1, shape.back(), 1);
  gpu::LaunchOp launch =
      k.launch(llvm::divideCeil(rows, threads), threads, plan);
  SmallVector<Value> bufs;
  for (Value r : op->getResults())
    bufs.push_back(k.output(r));
  Value gid =
      k.add(k.mul(launch.getBlockIds().x, threads), launch.getThreadIds().x);
  Value inRange = rows % threads ? k.ult(gid, rows) : Value();
  ifThen(k, inRange, [&] {
    SmallVector<Value> lp = k.delinearize(gid, rowShape);
    lp.push_back(k.idx(0));
    SmallVector<Value> inits;
    for (unsigned i = 0; i < op.getNumDpsInits(); ++i)
      inits.push_back(initValue(k, op, i, lp));
    auto loop = scf::ForOp::create(k.b, k.loc, k.idx(0), k.idx(shape.back()),
                                   k.idx(1), inits);
    {
      OpBuilder::InsertionGuard guard(k.b);
      k.b.setInsertionPointToStart(loop.getBody());
      lp.back() = loop.getInductionVar();
      SmallVector<Value> args;
      for (OpOperand *in : op.getDpsInputOperands())
        args.push_back(memref::LoadOp::create(
            k.b, k.loc, k.buffer(in->get()),
            k.indices(op.getMatchingIndexingMap(in), lp)));
      llvm::append_range(args, loop.getRegionIterArgs());
      scf::YieldOp::create(k.b, k.loc, k.cloneBody(row, lp, args, false));
    }
    lp.back() = k.idx(0);
    for (auto [i, buf] : llvm::enumerate(bufs))
      memref::StoreOp::create(
          k.b, k.loc, loop.getResult(i), buf,
          k.indices(op.getMatchingIndexingMap(op.getDpsInitOperand(i)), lp));
  });
}

} // namespace
namespace {

/// A fused group of generics over one loop space with at least one row
/// reduction: one block per row.
void emitRows(KernelBuilder &k, ArrayRef<const RowOp *> group) {
  ArrayRef<int64_t> shape = group.front()->shape;
  SmallVector<int64_t> rowShape(shape.drop_back());
  int64_t rows = 1;
  for (int64_t c : rowShape)
    rows *= c;
  int64_t n = shape.back();
  int64_t vec = vectorWidth(group, n);
  int64_t chunks = n / vec;
  int64_t threads = std::clamp<int64_t>(
      llvm::PowerOf2Ceil(llvm::divideCeil(chunks, 4)), 64, 1024);
  int64_t perThread = llvm::divideCeil(chunks, threads);
  MLIRContext *ctx = group.front()->op.getContext();
  auto plan =
      RowPlanAttr::get(ctx, "rows", threads, vec, perThread, group.size());
  gpu::LaunchOp launch = k.launch(rows, threads, plan);

  // Results read outside the group are written to memory.
  llvm::SmallPtrSet<Operation *, 8> members;
  for (const RowOp *row : group)
    members.insert(row->op);
  DenseMap<Value, Value> bufs;
  for (const RowOp *row : group)
    for (Value r : row->op->getResults())
      if (llvm::any_of(r.getUsers(),
                       [&](Operation *u) { return !members.contains(u); }))
        bufs[r] = k.output(r);

  Value tid = launch.getThreadIds().x;
  SmallVector<Value> rowIdx = k.delinearize(launch.getBlockIds().x, rowShape);
  // Chunk c = tid + i * threads of the row; chunks past the row (when
  // threads do not divide it) load the last chunk and store nothing.
  SmallVector<SmallVector<Value>> chunkStart;
  SmallVector<Value> chunkValid;
  for (int64_t i = 0; i < perThread; ++i) {
    Value c = k.add(tid, k.idx(i * threads));
    Value valid;
    if ((i + 1) * threads > chunks) {
      valid = k.ult(c, chunks);
      c = arith::MinUIOp::create(k.b, k.loc, c, k.idx(chunks - 1));
    }
    SmallVector<Value> lp0(rowIdx);
    lp0.push_back(k.mul(c, vec));
    chunkStart.push_back(lp0);
    chunkValid.push_back(valid);
  }

  // One loader for the group: an input two ops read is loaded once.
  OperandLoader loader(k, vec);
  DenseMap<Value, SmallVector<Value>> rowValues; // [chunk * vec + lane]
  DenseMap<Value, Value> rowScalars;             // reduction results
  for (const RowOp *row : group) {
    linalg::GenericOp op = row->op;
    Block &body = op.getRegion().front();
    SmallVector<SmallVector<Value>> results(op->getNumResults());
    SmallVector<Value> partials;
    for (auto [i, kind] : llvm::enumerate(row->kinds))
      partials.push_back(arith::getIdentityValue(
          kind, getElementTypeOrSelf(op->getResult(i).getType()), k.b, k.loc));
    for (int64_t i = 0; i < perThread; ++i) {
      for (int64_t lane = 0; lane < vec; ++lane) {
        SmallVector<Value> lp = atLane(k, chunkStart[i], lane);
        SmallVector<Value> args;
        for (OpOperand &o : op->getOpOperands()) {
          bool isInit = o.getOperandNumber() >= op.getNumDpsInputs();
          if (isInit && (row->reduction ||
                         body.getArgument(o.getOperandNumber()).use_empty())) {
            args.push_back(Value());
          } else if (auto it = rowValues.find(o.get()); it != rowValues.end()) {
            args.push_back(it->second[i * vec + lane]);
          } else if (auto it = rowScalars.find(o.get());
                     it != rowScalars.end()) {
            args.push_back(it->second);
          } else {
            args.push_back(loader.load(o.get(), op.getMatchingIndexingMap(&o),
                                       lp, chunkStart[i], lane, i));
          }
        }
        SmallVector<Value> vals = k.cloneBody(*row, lp, args, row->reduction);
        for (auto [r, v] : llvm::enumerate(vals)) {
          if (!row->reduction) {
            results[r].push_back(v);
            continue;
          }
          Value next =
              arith::getReductionOp(row->kinds[r], k.b, k.loc, v, partials[r]);
          partials[r] = chunkValid[i]
                            ? arith::SelectOp::create(k.b, k.loc, chunkValid[i],
                                                      next, partials[r])
                                  .getResult()
                            : next;
        }
      }
    }
    if (!row->reduction) {
      for (auto [index, result] : llvm::enumerate(op->getResults())) {
        size_t r = index; // captured below (a binding cannot be in C++17)
        rowValues[result] = results[r];
        auto it = bufs.find(result);
        if (it == bufs.end())
          continue;
        AffineMap map = op.getMatchingIndexingMap(op.getDpsInitOperand(r));
        for (int64_t i = 0; i < perThread; ++i)
          ifThen(k, chunkValid[i], [&] {
            storeChunk(k, it->second, map, chunkStart[i],
                       ArrayRef<Value>(results[r]).slice(i * vec, vec));
          });
      }
      continue;
    }
    SmallVector<Value> lpRow(rowIdx);
    lpRow.push_back(k.idx(0));
    for (auto [index, result] : llvm::enumerate(op->getResults())) {
      size_t r = index; // captured below (a binding cannot be in C++17)
      auto kind =
          gpu::AllReduceOperationAttr::get(ctx, allReduceKind(row->kinds[r]));
      Value total = gpu::AllReduceOp::create(k.b, k.loc, partials[r], kind,
                                             /*uniform=*/true);
      Value value = arith::getReductionOp(row->kinds[r], k.b, k.loc, total,
                                          initValue(k, op, r, lpRow));
      rowScalars[result] = value;
      auto it = bufs.find(result);
      if (it == bufs.end())
        continue;
      Value first = arith::CmpIOp::create(k.b, k.loc, arith::CmpIPredicate::eq,
                                          tid, k.idx(0));
      ifThen(k, first, [&] {
        memref::StoreOp::create(
            k.b, k.loc, value, it->second,
            k.indices(op.getMatchingIndexingMap(op.getDpsInitOperand(r)),
                      lpRow));
      });
    }
  }
}

/// Whether `next` may join `group`: same loop space, reads a result of the
/// group, reads group results exactly where they were produced (row values
/// through the producer's output map, reduction results through the
/// reduction's), writes no output over a group result, and stores row
/// values contiguously.
bool canJoin(ArrayRef<const RowOp *> group, const RowOp &next) {
  if (next.shape != group.front()->shape ||
      (next.reduction && !next.combinable))
    return false;
  linalg::GenericOp op = next.op;
  if (!next.reduction)
    for (OpOperand &init : op.getDpsInitsMutable())
      if (!innermostLast(op.getMatchingIndexingMap(&init)))
        return false;
  bool connected = false;
  for (OpOperand &o : op->getOpOperands()) {
    for (const RowOp *row : group) {
      auto res = dyn_cast<OpResult>(o.get());
      if (!res || res.getOwner() != row->op.getOperation())
        continue;
      if (o.getOperandNumber() >= op.getNumDpsInputs())
        return false;
      AffineMap produced = row->op.getMatchingIndexingMap(
          row->op.getDpsInitOperand(res.getResultNumber()));
      if (op.getMatchingIndexingMap(&o) != produced)
        return false;
      connected = true;
    }
  }
  return connected;
}

/// The linalg op after (or before) `op` in its block, skipping the ops a
/// group may be moved across: constants, tensor.empty, linalg.fill.
linalg::GenericOp neighbour(Operation *op, bool after) {
  for (Operation *it = after ? op->getNextNode() : op->getPrevNode(); it;
       it = after ? it->getNextNode() : it->getPrevNode()) {
    if (isa<arith::ConstantOp, tensor::EmptyOp, linalg::FillOp>(it))
      continue;
    return dyn_cast<linalg::GenericOp>(it);
  }
  return {};
}

/// More rows than this (attention scores of the reference lowering: one
/// short dot product per output) run as serial reductions: a block per
/// output would be mostly launch and reduction overhead.
constexpr int64_t kMaxRowBlocks = 1 << 20;

int64_t rowCount(const RowOp &row) {
  int64_t rows = 1;
  for (int64_t c : ArrayRef(row.shape).drop_back())
    rows *= c;
  return rows;
}

struct GpuRowKernelsPass : kestrel::impl::GpuRowKernelsBase<GpuRowKernelsPass> {
  using Base::Base;

  /// A static generic with one reduction dimension that is not the
  /// innermost (ReduceSum over a middle axis) gets its loops interchanged
  /// so that the reduction is innermost: the kernels below take it, where
  /// convert-linalg-to-parallel-loops would nest the inner parallel loop in
  /// the reduction's scf.for, which no kernel mapping covers (the loop
  /// would stay on the host).
  void moveReductionInnermost() {
    SmallVector<linalg::GenericOp> ops;
    getOperation().walk([&](linalg::GenericOp op) {
      SmallVector<utils::IteratorType> it = op.getIteratorTypesArray();
      if (op.hasDynamicShape() || op.getNumReductionLoops() != 1 ||
          it.back() == utils::IteratorType::reduction)
        return;
      ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : ops) {
      SmallVector<utils::IteratorType> it = op.getIteratorTypesArray();
      SmallVector<unsigned> order;
      unsigned reduction = 0;
      for (unsigned d = 0; d < it.size(); ++d) {
        if (it[d] == utils::IteratorType::reduction)
          reduction = d;
        else
          order.push_back(d);
      }
      order.push_back(reduction);
      rewriter.setInsertionPoint(op);
      (void)linalg::interchangeGenericOp(rewriter, op, order);
    }
  }

  void runOnOperation() override {
    moveReductionInnermost();
    SmallVector<RowOp> rows;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<RowOp> row = analyze(op))
        rows.push_back(std::move(*row));
    });
    DenseMap<Operation *, const RowOp *> byOp;
    for (const RowOp &row : rows)
      byOp[row.op] = &row;
    // Groups around each long, combinable row reduction.
    llvm::SmallPtrSet<const RowOp *, 16> taken;
    SmallVector<SmallVector<const RowOp *>> groups;
    for (const RowOp &row : rows) {
      if (taken.contains(&row) || !row.combinable ||
          row.shape.back() < minRow || rowCount(row) > kMaxRowBlocks)
        continue;
      SmallVector<const RowOp *> group{&row};
      if (linalg::GenericOp prev = neighbour(row.op, /*after=*/false)) {
        const RowOp *p = byOp.lookup(prev);
        if (p && !taken.contains(p) && !p->reduction && canJoin({p}, row) &&
            llvm::all_of(p->op.getDpsInitsMutable(), [&](OpOperand &init) {
              return innermostLast(p->op.getMatchingIndexingMap(&init));
            }))
          group.insert(group.begin(), p);
      }
      while (linalg::GenericOp next = neighbour(group.back()->op, true)) {
        const RowOp *c = byOp.lookup(next);
        if (!c || !canJoin(group, *c))
          break;
        group.push_back(c);
      }
      taken.insert(group.begin(), group.end());
      groups.push_back(group);
    }
    for (ArrayRef<const RowOp *> group : groups) {
      OpBuilder b(group.back()->op);
      KernelBuilder k(b, group.back()->op.getLoc());
      emitRows(k, group);
      finish(k, group);
    }
    for (const RowOp &row : rows) {
      if (taken.contains(&row))
        continue;
      OpBuilder b(row.op);
      KernelBuilder k(b, row.op.getLoc());
      if (row.reduction)
        emitSerial(k, row, threads);
      else
        emitElementwise(k, row, threads);
      finish(k, {&row});
    }
  }

  /// Replaces the group's results by the kernel's and erases the group.
  static void finish(KernelBuilder &k, ArrayRef<const RowOp *> group) {
    for (auto [from, to] : k.replacements)
      from.replaceAllUsesWith(to);
    for (const RowOp *row : llvm::reverse(group))
      row->op->erase();
  }
};

} // namespace
