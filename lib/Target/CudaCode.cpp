//===- CudaCode.cpp - PTX and the launch manifest -------------------------===//
//
// After kestrel-cuda-pipeline a module holds one gpu.binary (the PTX of every
// kernel) and host functions that are straight-line sequences of buffer
// allocations, kernel launches and copies. The CUDA runtime does not run MLIR
// host code: it replays those steps from a manifest written here (format in
// docs/runtime.md), so the runtime needs neither LLVM nor MLIR.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Target/Target.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace kestrel {

FailureOr<std::string> extractPTX(ModuleOp module) {
  auto binaries = llvm::to_vector(module.getOps<gpu::BinaryOp>());
  if (binaries.size() != 1)
    return module.emitError("expected exactly one gpu.binary after the CUDA "
                            "pipeline, found ")
           << binaries.size();
  for (Attribute attr : binaries.front().getObjects()) {
    auto object = dyn_cast<gpu::ObjectAttr>(attr);
    if (object && object.getFormat() == gpu::CompilationTarget::Assembly)
      return object.getObject().getValue().str();
  }
  return binaries.front().emitError("gpu.binary holds no PTX assembly");
}

namespace {

/// Reads one host function into manifest lines.
class HostReplay {
public:
  HostReplay(func::FuncOp fn, llvm::raw_ostream &os) : fn(fn), os(os) {}

  LogicalResult run() {
    for (BlockArgument arg : fn.getArguments())
      buffers[arg] = nextBuffer++;
    if (!fn.getBody().hasOneBlock())
      return fn.emitError("CUDA host code must be a single block");
    for (Operation &op : fn.getBody().front())
      if (failed(visit(op)))
        return failure();
    return success();
  }

private:
  LogicalResult visit(Operation &op) {
    if (isa<arith::ConstantOp, memref::DeallocOp, func::ReturnOp>(op))
      return success();
    if (auto alloc = dyn_cast<memref::AllocOp>(op))
      return temp(alloc.getResult(), alloc.getType());
    if (auto alloca = dyn_cast<memref::AllocaOp>(op))
      return temp(alloca.getResult(), alloca.getType());
    if (auto copy = dyn_cast<memref::CopyOp>(op))
      return copyStep(copy);
    if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op))
      return launchStep(launch);
    return op.emitError("host operation cannot be replayed by the CUDA "
                        "runtime (only allocations, copies and kernel launches "
                        "can)");
  }

  static std::optional<int64_t> byteSize(MemRefType type) {
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return std::nullopt;
    int64_t bits = type.getElementTypeBitWidth();
    return type.getNumElements() * ((bits + 7) / 8);
  }

  LogicalResult temp(Value value, MemRefType type) {
    std::optional<int64_t> bytes = byteSize(type);
    if (!bytes)
      return value.getDefiningOp()->emitError(
          "temporary buffers must have static shapes and identity layouts");
    buffers[value] = nextBuffer;
    os << "temp " << nextBuffer++ << ' ' << *bytes << '\n';
    return success();
  }

  FailureOr<unsigned> bufferOf(Operation *user, Value v) {
    auto it = buffers.find(v);
    if (it == buffers.end())
      return user->emitError("operand is not a function argument or an "
                             "allocation, so the runtime cannot name it");
    return it->second;
  }

  LogicalResult copyStep(memref::CopyOp copy) {
    FailureOr<unsigned> src = bufferOf(copy, copy.getSource());
    FailureOr<unsigned> dst = bufferOf(copy, copy.getTarget());
    std::optional<int64_t> bytes =
        byteSize(cast<MemRefType>(copy.getSource().getType()));
    if (failed(src) || failed(dst) || !bytes)
      return copy.emitError("only whole, dense buffers can be copied");
    os << "copy " << *src << ' ' << *dst << ' ' << *bytes << '\n';
    return success();
  }

  /// The integer or float a host value is known to be, as a manifest param.
  FailureOr<std::string> scalar(Operation *user, Value v) {
    auto cst = v.getDefiningOp<arith::ConstantOp>();
    if (!cst)
      return user->emitError("kernel launch operand is not a constant");
    std::string text;
    llvm::raw_string_ostream s(text);
    if (auto i = dyn_cast<IntegerAttr>(cst.getValue())) {
      unsigned width = isa<IndexType>(i.getType())
                           ? 64
                           : i.getType().getIntOrFloatBitWidth();
      if (width != 32 && width != 64)
        return user->emitError("unsupported integer kernel parameter width ")
               << width;
      s << 'i' << width << ':' << i.getValue().getSExtValue();
      return text;
    }
    if (auto f = dyn_cast<FloatAttr>(cst.getValue());
        f && (f.getType().isF32() || f.getType().isF64())) {
      bool f64 = f.getType().isF64();
      s << (f64 ? "f64:" : "f32:")
        << llvm::format_hex(f.getValue().bitcastToAPInt().getZExtValue(),
                            f64 ? 18 : 10);
      return text;
    }
    return user->emitError("unsupported kernel parameter ") << cst.getValue();
  }

  LogicalResult launchStep(gpu::LaunchFuncOp launch) {
    auto dims = [&](gpu::KernelDim3 d) -> FailureOr<std::string> {
      std::string text;
      for (Value v : {d.x, d.y, d.z}) {
        APInt n;
        if (!matchPattern(v, m_ConstantInt(&n)))
          return launch.emitError("launch dimensions must be constants");
        text += ' ' + std::to_string(n.getSExtValue());
      }
      return text;
    };
    FailureOr<std::string> grid = dims(launch.getGridSizeOperandValues());
    FailureOr<std::string> block = dims(launch.getBlockSizeOperandValues());
    if (failed(grid) || failed(block))
      return failure();
    int64_t smem = 0;
    if (Value dyn = launch.getDynamicSharedMemorySize()) {
      APInt n;
      if (!matchPattern(dyn, m_ConstantInt(&n)))
        return launch.emitError("dynamic shared memory size must be constant");
      smem = n.getSExtValue();
    }
    os << "launch " << launch.getKernelName().getValue() << " grid" << *grid
       << " block" << *block << " smem " << smem << " params";
    for (Value arg : launch.getKernelOperands()) {
      if (isa<MemRefType>(arg.getType())) {
        FailureOr<unsigned> id = bufferOf(launch, arg);
        if (failed(id))
          return failure();
        os << " b" << *id;
        continue;
      }
      FailureOr<std::string> s = scalar(launch, arg);
      if (failed(s))
        return failure();
      os << ' ' << *s;
    }
    os << '\n';
    return success();
  }

  func::FuncOp fn;
  llvm::raw_ostream &os;
  llvm::DenseMap<Value, unsigned> buffers;
  unsigned nextBuffer = 0;
};

} // namespace

FailureOr<std::string>
buildCudaManifest(ModuleOp lowered, const std::vector<EntryPoint> &entries,
                  StringRef ptxFile, StringRef chip) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "kestrel-manifest 1 cuda\n"
     << "target " << chip << '\n'
     << "ptx " << ptxFile << '\n';
  for (const EntryPoint &entry : entries) {
    auto fn = lowered.lookupSymbol<func::FuncOp>(entry.name);
    if (!fn)
      return lowered.emitError("lowered module lost function @") << entry.name;
    os << formatEntryPoint(entry);
    if (failed(HostReplay(fn, os).run()))
      return failure();
    os << "end\n";
  }
  return text;
}

} // namespace kestrel
