//===- GemmWgmmaKernel.cpp - The sm_90a wgmma GEMM kernel -----------------===//
//
// The Hopper kernel of kestrel-gpu-gemm: writes the body of a GEMM launch
// whose #kestrel.gemm_plan was chosen by chooseWgmmaPlan (below) with
// warpgroup-wide `wgmma.mma_async` on shared-memory operands:
//
//   block  = tile_m / 16 warps: tile_m / 64 warpgroups, warpgroup w owns
//            rows [64 w, 64 w + 64) x all tile_n columns of the block's C
//            tile as m64nNk16 accumulators (N = tile_n, f32, tile_n / 2
//            registers per thread);
//   shared = a ring of `stages` buffers, each an A tile (tile_m x 64) and
//            a B tile (64 x tile_n) in the 128-byte swizzle layout of the
//            PTX ISA's wgmma shared-memory matrix layouts: K-major operands
//            as rows of 64 elements (128 bytes), 16-byte chunk c of row r
//            at chunk c ^ (r % 8); MN-major operands as atoms of 64 M/N
//            elements by 64 k rows, chunk c of k row r at c ^ (r % 8). Each
//            wgmma reads them through 64-bit matrix descriptors (start
//            address, leading/stride byte offsets, swizzle mode 1);
//   K loop = cp.async copies (GemmEmitter::planCopies, zero-filling past
//            M, N and K) run `stages - 1 - g` tiles ahead, g = the wgmma
//            groups left in flight (wgmmaGroupsInFlight: 1 for 128 x 256
//            tiles, else 0); per tile: wait for its copies,
//            fence.proxy.async (the copies are generic-proxy writes the
//            tensor cores read through the async proxy), one barrier,
//            wgmma.fence, 4 wgmmas (k16 each), commit, issue the copies of
//            tile kt + stages - 1 - g into the buffer tile kt - 1 - g used,
//            then wgmma.wait_group g (g = 1: tile kt's wgmmas overlap the
//            next tile's wait). The buffer being refilled was last read by
//            the wgmmas of tile kt - 1 - g, which every warpgroup waited
//            for before the barrier of tile kt;
//   epilogue = the accumulators (+ the init value) rounded to C's type:
//            for a plain row-major C (N a multiple of 8, no init tensor)
//            written into a C tile in shared memory (rows padded by 16
//            bytes: the 8 rows of a warp's pair stores hit distinct banks)
//            and copied out 16 bytes per thread, a warp per 512-byte row
//            span; otherwise stored in pairs from registers, or handed to
//            the GemmHooks epilogue.
//
// The wgmma instructions are written as inline PTX (llvm.inline_asm):
// their operands are 64-bit descriptors and up to 128 f32 registers that
// the asm statement reads and writes (tied constraints), so the
// accumulators stay in registers across the K loop.
//
//===----------------------------------------------------------------------===//

#include "passes/CUDA/GemmWgmmaKernel.h"
#include "passes/CUDA/GemmEmit.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <optional>

using namespace mlir;

namespace kestrel {

namespace {

/// Bytes of one 128-byte swizzle atom (8 rows of 128 bytes).
constexpr int64_t kAtomBytes = 1024;

class WgmmaGemm : public GemmEmitter {
public:
  WgmmaGemm(OpBuilder &b, Location loc, const GemmProblem &p, GemmPlanAttr plan,
            Value a, Value bm, Value c, Value init, Value shared,
            const GemmHooks *hooks)
      : GemmEmitter(b, loc, p, plan, hooks), aMem(a), bMem(bm), cMem(c),
        initMem(init), shared(shared) {
    elem = plan.getOperandType();
    threads = plan.warps() * 32;
    aTileBytes = plan.getTileM() * kWgmmaTileK * 2;
    stageBytes = aTileBytes + plan.getTileN() * kWgmmaTileK * 2;
  }

  void build(gpu::LaunchOp launch);

private:
  /// Byte offset of element (mn, k) in a swizzled tile (file comment).
  Value tileOffset(bool kMajor, Value mn, Value k);
  /// The descriptor bits other than the start address of a tile.
  int64_t descriptorBits(bool kMajor);
  /// Descriptor of the matrix starting at shared byte `address` (index).
  Value descriptor(int64_t bits, Value address);
  /// Start-address advance of one k16 step, in bytes.
  static int64_t kStepBytes(bool kMajor) { return kMajor ? 16 * 2 : 16 * 128; }
  void issueStage(Value kTile, Value slot);
  /// An inline PTX statement with side effects and `results` f32 results.
  SmallVector<Value> inlineAsm(StringRef text, StringRef constraints,
                               ValueRange operands, int64_t results);
  /// An inline PTX statement with side effects.
  void statement(StringRef text);
  /// acc = A x B + acc on one m64nNk16 tile.
  SmallVector<Value> wgmma(Value descA, Value descB, ArrayRef<Value> acc);
  /// `acc` passed through an empty asm statement: later reads of the
  /// accumulators stay after the wgmma.wait_group before it.
  SmallVector<Value> pin(ArrayRef<Value> acc);
  /// C tile row of this lane's accumulator 0, and where each accumulator
  /// lies relative to it (PTX ISA, wgmma .m64nNk16 accumulator fragment:
  /// warp w of the warpgroup holds rows 16 w + lane / 4 (+ 8), columns
  /// 8 j + 2 (lane % 4) (+ 1)).
  std::pair<Value, Value> laneOrigin(Value rowStart, Value colStart);
  SmallVector<std::pair<int64_t, int64_t>> accumulatorPlaces();
  /// Whether C can be written through shared memory in 16-byte rows.
  bool canStageC();
  /// The epilogue through shared memory: accumulators rounded into a
  /// padded C tile, then copied out 16 bytes per thread, row by row.
  void stagedEpilogue(ArrayRef<Value> acc, Value batchC, Value rowStart,
                      Value colStart);

  Value aMem, bMem, cMem, initMem, shared;
  Type elem;
  int64_t threads, aTileBytes, stageBytes;
  Value sharedBase, tid;
  TileCopies copiesA, copiesB;
};

Value WgmmaGemm::tileOffset(bool kMajor, Value mn, Value k) {
  if (kMajor) // rows of 64 k elements
    return add(mul(mn, 128),
               add(mul(xorI(div(k, 8), rem(mn, 8)), 16), mul(rem(k, 8), 2)));
  // atoms of 64 mn elements x 64 k rows
  Value atom = mul(div(mn, 64), kWgmmaTileK * 128);
  Value chunk = xorI(div(rem(mn, 64), 8), rem(k, 8));
  return add(add(atom, mul(k, 128)), add(mul(chunk, 16), mul(rem(mn, 8), 2)));
}

int64_t WgmmaGemm::descriptorBits(bool kMajor) {
  // PTX ISA, matrix descriptor: bits 16-29 the leading byte offset, 32-45
  // the stride byte offset (both >> 4), 62-63 the swizzle (1: 128 bytes).
  // K-major: the stride is between 8-row groups; the leading offset is
  // unused (1). MN-major: the leading offset is between 64-element atoms
  // along M/N, the stride between 8-row groups along k.
  int64_t lbo = kMajor ? 1 : kWgmmaTileK * 128 / 16;
  int64_t sbo = kAtomBytes / 16;
  return (lbo << 16) | (sbo << 32) | (int64_t(1) << 62);
}

Value WgmmaGemm::descriptor(int64_t bits, Value address) {
  // Shared addresses are below 2^18: address >> 4 fits the 14-bit field.
  Value d = add(div(address, 16), idx(bits));
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), d);
}

void WgmmaGemm::issueStage(Value kTile, Value slot) {
  GemmEmitter::issueStage(copiesA, copiesB, sharedBase, stageBytes, kTile,
                          slot);
}

SmallVector<Value> WgmmaGemm::inlineAsm(StringRef text, StringRef constraints,
                                        ValueRange operands, int64_t results) {
  // Results come back as one literal struct of f32 (none: no result).
  SmallVector<Type> resultTypes;
  if (results)
    resultTypes.push_back(LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(results, b.getF32Type())));
  auto op = LLVM::InlineAsmOp::create(
      b, loc, resultTypes, operands, text, constraints,
      /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
      ArrayAttr());
  SmallVector<Value> out;
  for (int64_t i = 0; i < results; ++i)
    out.push_back(LLVM::ExtractValueOp::create(b, loc, op.getResult(0), i));
  return out;
}

void WgmmaGemm::statement(StringRef text) { inlineAsm(text, "", {}, 0); }

SmallVector<Value> WgmmaGemm::wgmma(Value descA, Value descB,
                                    ArrayRef<Value> acc) {
  const int64_t n = acc.size();
  std::string type = elem.isF16() ? "f16" : "bf16";
  std::string text =
      "{\n.reg .pred p;\nsetp.ne.b32 p, $" + std::to_string(n + 2) +
      ", 0;\nwgmma.mma_async.sync.aligned.m64n" +
      std::to_string(plan.getTileN()) + "k16.f32." + type + "." + type + " {";
  std::string constraints;
  for (int64_t i = 0; i < n; ++i) {
    text += (i ? ", $" : "$") + std::to_string(i);
    constraints += "=f,";
  }
  text += "}, $" + std::to_string(n) + ", $" + std::to_string(n + 1) +
          ", p, 1, 1, " + (plan.getAKMajor() ? "0" : "1") + ", " +
          (plan.getBKMajor() ? "0" : "1") + ";\n}";
  constraints += "l,l,r";
  for (int64_t i = 0; i < n; ++i)
    constraints += "," + std::to_string(i);
  SmallVector<Value> operands = {
      descA, descB,
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), 1).getResult()};
  llvm::append_range(operands, acc);
  return inlineAsm(text, constraints, operands, n);
}

SmallVector<Value> WgmmaGemm::pin(ArrayRef<Value> acc) {
  const int64_t n = acc.size();
  std::string constraints;
  for (int64_t i = 0; i < n; ++i)
    constraints += "=f,";
  for (int64_t i = 0; i < n; ++i)
    constraints += std::to_string(i) + (i + 1 < n ? "," : "");
  return inlineAsm("", constraints, acc, n);
}

std::pair<Value, Value> WgmmaGemm::laneOrigin(Value rowStart, Value colStart) {
  Value lane = rem(tid, 32), warp = div(tid, 32);
  return {add(add(rowStart, mul(warp, 16)), div(lane, 4)),
          add(colStart, mul(rem(lane, 4), 2))};
}

SmallVector<std::pair<int64_t, int64_t>> WgmmaGemm::accumulatorPlaces() {
  SmallVector<std::pair<int64_t, int64_t>> at;
  for (int64_t i = 0; i < plan.getTileN() / 2; ++i)
    at.push_back({8 * (i % 4 / 2), 8 * (i / 4) + i % 2});
  return at;
}

bool WgmmaGemm::canStageC() {
  int64_t cBytes = p.cType.getIntOrFloatBitWidth() / 8;
  int64_t rowBytes = plan.getTileN() * cBytes + 16;
  return !initMem && p.cPairs && p.nDims.size() == 1 &&
         p.strideC[p.nDims[0]] == 1 && p.N % 8 == 0 &&
         (!p.initConstant || *p.initConstant == 0.0) &&
         plan.getTileM() * rowBytes <= plan.getStages() * stageBytes;
}

void WgmmaGemm::stagedEpilogue(ArrayRef<Value> acc, Value batchC,
                               Value rowStart, Value colStart) {
  Type cType = p.cType;
  int64_t cBytes = cType.getIntOrFloatBitWidth() / 8;
  int64_t rowBytes = plan.getTileN() * cBytes + 16;
  Value lane = rem(tid, 32), warp = div(tid, 32);
  Value r0 = add(mul(warp, 16), div(lane, 4)), c0 = mul(rem(lane, 4), 2);
  // Every warpgroup is past its wgmmas' reads of the ring.
  gpu::BarrierOp::create(b, loc);
  auto pairType = VectorType::get({2}, cType);
  for (int64_t j = 0; j < plan.getTileN() / 8; ++j)
    for (int64_t h = 0; h < 2; ++h) {
      int64_t at = 4 * j + 2 * h;
      Value lo = acc[at], hi = acc[at + 1];
      if (!cType.isF32()) {
        lo = arith::TruncFOp::create(b, loc, cType, lo);
        hi = arith::TruncFOp::create(b, loc, cType, hi);
      }
      Value pair =
          vector::FromElementsOp::create(b, loc, pairType, ValueRange{lo, hi});
      Value off =
          add(mul(add(r0, 8 * h), rowBytes), mul(add(c0, 8 * j), cBytes));
      LLVM::StoreOp::create(b, loc, pair, pointer(add(sharedBase, off), 3),
                            2 * cBytes);
    }
  gpu::BarrierOp::create(b, loc);
  Value cBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, cMem);
  int64_t chunks = plan.getTileN() * cBytes / 16;
  int64_t total = plan.getTileM() * chunks;
  bool checkM = p.M % plan.getTileM() != 0, checkN = p.N % plan.getTileN() != 0;
  auto vecType = VectorType::get({4}, b.getI32Type());
  for (int64_t it = 0; it * threads < total; ++it) {
    Value linear = add(tid, it * threads);
    Value r = div(linear, chunks), ch = rem(linear, chunks);
    Value m = add(rowStart, r), n = add(colStart, mul(ch, 16 / cBytes));
    Value ok =
        andI(checkM ? lt(m, p.M) : Value(), checkN ? lt(n, p.N) : Value());
    ifThen(ok, [&] {
      Value v = LLVM::LoadOp::create(
          b, loc, vecType,
          pointer(add(sharedBase, add(mul(r, rowBytes), mul(ch, 16))), 3), 16);
      Value element = add(add(batchC, offsetOf(p.mDims, m, p.strideC)), n);
      LLVM::StoreOp::create(b, loc, v,
                            pointer(add(cBase, mul(element, cBytes)), 1), 16);
    });
  }
}

void WgmmaGemm::build(gpu::LaunchOp launch) {
  const int64_t tn = plan.getTileN(), stages = plan.getStages();
  const int64_t numK = llvm::divideCeil(p.K, kWgmmaTileK);
  const int64_t inflight = wgmmaGroupsInFlight(plan);
  const int64_t ahead = stages - 1 - inflight; // tiles of copies in flight
  const bool aK = plan.getAKMajor(), bK = plan.getBKMajor();
  tid = launch.getThreadIds().x;
  // The stage ring starts on a 1024-byte boundary (the swizzle pattern's
  // period; wgmmaSharedBytes asks for the slack).
  Value raw = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
  sharedBase = mul(div(add(raw, kAtomBytes - 1), kAtomBytes), kAtomBytes);
  BlockOrigin origin = blockOrigin(launch);
  Value rowStart = origin.row, colStart = origin.col, batchC = origin.batchC;
  std::optional<OpBuilder::InsertionGuard> inActive;
  enterActive(origin.active, inActive);
  auto layoutA = [this, aK](Value mn, Value k) {
    return tileOffset(aK, mn, k);
  };
  auto layoutB = [this, bK](Value mn, Value k) {
    return tileOffset(bK, mn, k);
  };
  std::tie(copiesA, copiesB) =
      planOperandCopies(origin, aMem, bMem, tid, threads, p.vecA, p.vecB, 2,
                        aTileBytes, layoutA, layoutB);

  // This warpgroup's rows of A: 64 rows = 8 K-major row groups, or one
  // MN-major atom; either way 64 x 128 bytes from the A tile's start.
  Value group = div(tid, 128);
  Value aOffset = mul(group, 64 * 128);
  const int64_t bitsA = descriptorBits(aK), bitsB = descriptorBits(bK);

  for (int64_t s = 0; s < ahead; ++s) {
    if (s < numK)
      issueStage(idx(s), idx(s));
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  }
  Value zero =
      arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(0.0f));
  SmallVector<Value> init(tn / 2, zero);
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(numK), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    SmallVector<Value> acc(loop.getRegionIterArgs());
    Value stage = add(sharedBase, mul(rem(kt, stages), stageBytes));
    // Tile kt landed: at most `ahead - 1` younger groups pending.
    NVVM::CpAsyncWaitGroupOp::create(b, loc, ahead - 1);
    statement("fence.proxy.async.shared::cta;");
    gpu::BarrierOp::create(b, loc);
    statement("wgmma.fence.sync.aligned;");
    Value addrA = add(stage, aOffset), addrB = add(stage, aTileBytes);
    for (int64_t kk = 0; kk < kWgmmaTileK / 16; ++kk)
      acc = wgmma(descriptor(bitsA, add(addrA, kk * kStepBytes(aK))),
                  descriptor(bitsB, add(addrB, kk * kStepBytes(bK))), acc);
    statement("wgmma.commit_group.sync.aligned;");
    Value next = add(kt, ahead);
    auto ifNext = scf::IfOp::create(b, loc, lt(next, numK), false);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(&ifNext.getThenRegion().front());
      issueStage(next, rem(next, stages));
    }
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
    statement("wgmma.wait_group.sync.aligned " + std::to_string(inflight) +
              ";");
    scf::YieldOp::create(b, loc, acc);
  }
  statement("wgmma.wait_group.sync.aligned 0;");
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  SmallVector<Value> acc = pin(SmallVector<Value>(loop.getResults()));
  if (canStageC() && !(hooks && hooks->epilogue))
    return stagedEpilogue(acc, batchC, rowStart, colStart);
  auto [row0, col0] = laneOrigin(rowStart, colStart);
  if (hooks && hooks->epilogue)
    return hooks->epilogue(acc, row0, col0, accumulatorPlaces());
  storeC(acc, accumulatorPlaces(), row0, col0, batchC, cMem, initMem);
}

} // namespace

GemmPlanAttr chooseWgmmaPlan(const GemmProblem &p, Type operandType,
                             ArrayRef<int64_t> override, std::string &why) {
  MLIRContext *ctx = operandType.getContext();
  if (!operandType.isBF16() && !operandType.isF16())
    return why = "operands are not bf16 or f16", GemmPlanAttr();
  auto make = [&](int64_t tm, int64_t tn, int64_t stages) {
    return GemmPlanAttr::get(ctx, tm, tn, kWgmmaTileK, tm / 16, 1, stages,
                             /*splitK=*/1, operandType, p.aKMajor, p.bKMajor);
  };
  if (override.size() == 6) {
    auto [tm, tn, tk, wm, wn, stages] =
        std::make_tuple(override[0], override[1], override[2], override[3],
                        override[4], override[5]);
    if (tk != kWgmmaTileK || tm <= 0 || tm % 64 || tm > 256 || wm != tm / 16 ||
        wn != 1 || tn <= 0 || tn % 64 || tn > 256 || stages < 3)
      return why = "a wgmma plan has tile_k = 64, tile_m a multiple of 64 up "
                   "to 256 with warps_m = tile_m / 16, warps_n = 1, tile_n a "
                   "multiple of 64 up to 256 and at least 3 stages",
             GemmPlanAttr();
    return make(tm, tn, stages);
  }
  // A few rows (decode): the mma.sync kernel's narrow tiles stream B better.
  if (p.M <= 64)
    return why = "M <= 64", GemmPlanAttr();
  auto blocksOf = [&](int64_t tm, int64_t tn) {
    return p.batch * llvm::divideCeil(p.M, tm) * llvm::divideCeil(p.N, tn);
  };
  // 128 x 256 (two warpgroups of m64n256, 128 accumulators per thread) and
  // four stages (192 KiB) when that fills the 132 SMs twice; else 128 x 128
  // in three stages (96 KiB: two blocks per SM).
  if (blocksOf(128, 256) >= 264)
    return make(128, 256, 4);
  return make(128, 128, 3);
}

GemmKernelChoice chooseGemmKernel(const GemmProblem &p, Type operandType,
                                  ArrayRef<int64_t> override, StringRef chip,
                                  StringRef mma,
                                  function_ref<GemmPlanAttr()> syncPlan) {
  GemmKernelChoice choice;
  if (!operandType.isF32() && wantsWgmma(chip, mma)) {
    std::string why;
    choice.plan = chooseWgmmaPlan(p, operandType, override, why);
    choice.wgmma = static_cast<bool>(choice.plan);
    if (!choice.plan && !why.empty() && mma == "wgmma" && !override.empty()) {
      choice.error = why;
      return choice;
    }
  }
  if (!choice.plan)
    choice.plan = syncPlan();
  return choice;
}

int64_t gemmSharedBytes(GemmPlanAttr plan, bool wgmma) {
  return wgmma ? wgmmaSharedBytes(plan) : planSharedBytes(plan);
}

int64_t wgmmaGroupsInFlight(GemmPlanAttr plan) {
  // Measured on an H200 (bench/results/2026-12-04-H200-wgmma.md): 128 x 256
  // tiles (one block per SM) keep a wgmma group in flight across the
  // barrier; smaller tiles (two blocks per SM at three stages) gain more
  // from the extra tile of copies in flight.
  return plan.getTileM() * plan.getTileN() >= 128 * 256 ? 1 : 0;
}

int64_t wgmmaSharedBytes(GemmPlanAttr plan) {
  return plan.getStages() * (plan.getTileM() + plan.getTileN()) *
             plan.getTileK() * 2 +
         kAtomBytes;
}

void buildWgmmaGemm(OpBuilder &b, Location loc, const GemmProblem &p,
                    GemmPlanAttr plan, gpu::LaunchOp launch, Value a, Value bm,
                    Value c, Value init, Value shared, const GemmHooks *hooks) {
  WgmmaGemm(b, loc, p, plan, a, bm, c, init, shared, hooks).build(launch);
}

} // namespace kestrel
