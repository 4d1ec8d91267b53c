//===- CudaCode.cpp - PTX and the launch manifest -------------------------===//
//
// After kestrel-cuda-pipeline a module holds one gpu.binary (the PTX of every
// kernel) and host functions that are straight-line sequences of buffer
// allocations, kernel launches and copies. The CUDA runtime does not run MLIR
// host code: it replays those steps from a manifest written here (format in
// docs/runtime.md), so the runtime needs neither LLVM nor MLIR.
//
// Constant tensors (ONNX initializers, dense `arith.constant`s) reach the
// host code as `memref.get_global` of constant `memref.global`s. Those a
// launch or copy uses become `const` buffers of the manifest whose bytes are
// stored in a sidecar file beside it (the "weights" file), each once,
// 64-byte aligned; the runtime uploads them when it loads the module.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Target/Target.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
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

/// The constant globals the manifest's `const` buffers name, shared by all
/// functions of a module: each global's bytes go into the weights file once.
struct WeightTable {
  struct Entry {
    memref::GlobalOp global;
    std::string dtype, shape; // as in the manifest
    uint64_t offset = 0, bytes = 0;
  };
  std::vector<Entry> entries;
  llvm::StringMap<unsigned> bySymbol;
  uint64_t size = 0; // end of the last entry

  static constexpr uint64_t kAlignment = 64;
};

/// The manifest dtype of a constant's element type (index is stored as i64,
/// as the NVVM lowering passes it to kernels).
static FailureOr<std::string> constantDtype(Type t) {
  if (isa<IndexType>(t))
    return std::string("i64");
  if (t.isF32())
    return std::string("f32");
  if (t.isF16())
    return std::string("f16");
  if (t.isBF16())
    return std::string("bf16");
  if (auto i = dyn_cast<IntegerType>(t))
    if (llvm::is_contained({1u, 8u, 32u, 64u}, i.getWidth()))
      return "i" + std::to_string(i.getWidth());
  return failure();
}

/// Bytes of one element in device memory (i1 takes a byte, index 8).
static uint64_t deviceElementBytes(Type t) {
  if (isa<IndexType>(t))
    return 8;
  return (t.getIntOrFloatBitWidth() + 7) / 8;
}

/// Appends the row-major, little-endian device image of a constant global's
/// initial value to `out`.
static LogicalResult serializeConstant(memref::GlobalOp global,
                                       std::string &out) {
  auto type = global.getType();
  Type elt = type.getElementType();
  uint64_t eltBytes = deviceElementBytes(elt);
  uint64_t n = type.getNumElements();
  Attribute init = global.getInitialValueAttr();
  if (auto dense = dyn_cast<DenseElementsAttr>(init)) {
    if (elt.isInteger(1)) { // bit-packed in MLIR, one byte per i1 on device
      for (bool b : dense.getValues<bool>())
        out.push_back(b ? 1 : 0);
      return success();
    }
    if (isa<IndexType>(elt)) {
      for (const APInt &v : dense.getValues<APInt>()) {
        uint64_t x = v.getSExtValue();
        for (int i = 0; i < 8; ++i)
          out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
      }
      return success();
    }
    ArrayRef<char> raw = dense.getRawData();
    if (dense.isSplat()) {
      if (raw.size() != eltBytes)
        return global.emitError("unexpected splat storage of ") << elt;
      for (uint64_t i = 0; i < n; ++i)
        out.append(raw.begin(), raw.end());
      return success();
    }
    if (raw.size() != n * eltBytes)
      return global.emitError("unexpected dense storage of ") << type;
    out.append(raw.begin(), raw.end());
    return success();
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(init)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return global.emitError("dense resource of constant has no data");
    ArrayRef<char> raw = blob->getData();
    if (elt.isInteger(1) || isa<IndexType>(elt) || raw.size() != n * eltBytes)
      return global.emitError("cannot serialize dense resource of ") << type;
    out.append(raw.begin(), raw.end());
    return success();
  }
  return global.emitError("constant global has no dense initial value");
}

/// Reads one host function into manifest lines.
class HostReplay {
public:
  HostReplay(func::FuncOp fn, llvm::raw_ostream &os, WeightTable &weights)
      : fn(fn), os(os), weights(weights) {}

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
    if (auto get = dyn_cast<memref::GetGlobalOp>(op))
      return getGlobal(get);
    // Views that keep the data pointer and an identity layout alias their
    // source: the kernels take bare pointers and know their static shapes.
    if (isa<memref::ReshapeOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
            memref::CastOp>(op))
      return alias(op);
    if (auto copy = dyn_cast<memref::CopyOp>(op))
      return copyStep(copy);
    if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op))
      return launchStep(launch);
    return op.emitError("host operation '")
           << op.getName()
           << "' cannot be replayed by the CUDA runtime (only allocations, "
              "copies and kernel launches can)";
  }

  static std::optional<int64_t> byteSize(MemRefType type) {
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return std::nullopt;
    return type.getNumElements() * deviceElementBytes(type.getElementType());
  }

  /// A constant global becomes a `const` buffer only when a launch or copy
  /// uses it (bufferOf): shapes read only by memref.reshape stay on the host.
  LogicalResult getGlobal(memref::GetGlobalOp get) {
    auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
        get, get.getNameAttr());
    if (!global)
      return get.emitError("global ") << get.getNameAttr() << " not found";
    if (!global.getConstant() || !global.getInitialValue() ||
        global.isExternal() || global.isUninitialized())
      return get.emitError("only constant, initialized globals can be "
                           "uploaded by the CUDA runtime");
    if (!byteSize(global.getType()))
      return get.emitError("constant globals must have static shapes and "
                           "identity layouts");
    if (failed(constantDtype(global.getType().getElementType())))
      return get.emitError("constant of unsupported element type ")
             << global.getType().getElementType();
    globals[get.getResult()] = global;
    return success();
  }

  LogicalResult alias(Operation &op) {
    Value src = op.getOperand(0), result = op.getResult(0);
    auto srcType = dyn_cast<MemRefType>(src.getType());
    auto type = dyn_cast<MemRefType>(result.getType());
    if (!srcType || !type || !byteSize(srcType) || !byteSize(type))
      return op.emitError("only reshapes of whole, dense buffers to static, "
                          "identity-layout shapes can be replayed");
    aliases[result] = src;
    return success();
  }

  /// The `const` buffer of a constant global, declared at its first use.
  unsigned constBuffer(memref::GlobalOp global) {
    auto [it, inserted] = weights.bySymbol.try_emplace(global.getSymName(),
                                                       weights.entries.size());
    if (inserted) {
      MemRefType type = global.getType();
      WeightTable::Entry e;
      e.global = global;
      e.dtype = *constantDtype(type.getElementType());
      llvm::raw_string_ostream shape(e.shape);
      if (type.getRank() == 0)
        shape << "scalar";
      llvm::interleave(type.getShape(), shape, "x");
      e.bytes = *byteSize(type);
      e.offset = llvm::alignTo(weights.size, WeightTable::kAlignment);
      weights.size = e.offset + e.bytes;
      weights.entries.push_back(std::move(e));
    }
    const WeightTable::Entry &e = weights.entries[it->second];
    unsigned id = nextBuffer++;
    os << "const " << id << ' ' << e.dtype << ' ' << e.shape << ' ' << e.offset
       << ' ' << e.bytes << '\n';
    return id;
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
    for (auto a = aliases.find(v); a != aliases.end(); a = aliases.find(v))
      v = a->second;
    auto it = buffers.find(v);
    if (it == buffers.end())
      if (auto g = globals.find(v); g != globals.end())
        it = buffers.try_emplace(v, constBuffer(g->second)).first;
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
    if (isConst(*dst))
      return copy.emitError("copy into a constant buffer");
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
    // Operands first: a constant's `const` line must precede its launch.
    std::string params;
    for (Value arg : launch.getKernelOperands()) {
      if (isa<MemRefType>(arg.getType())) {
        FailureOr<unsigned> id = bufferOf(launch, arg);
        if (failed(id))
          return failure();
        params += " b" + std::to_string(*id);
        continue;
      }
      FailureOr<std::string> s = scalar(launch, arg);
      if (failed(s))
        return failure();
      params += ' ' + *s;
    }
    os << "launch " << launch.getKernelName().getValue() << " grid" << *grid
       << " block" << *block << " smem " << smem << " params" << params;
    os << '\n';
    return success();
  }

  bool isConst(unsigned id) const {
    for (auto &[v, b] : buffers)
      if (b == id)
        return globals.count(v);
    return false;
  }

  func::FuncOp fn;
  llvm::raw_ostream &os;
  WeightTable &weights;
  llvm::DenseMap<Value, unsigned> buffers;
  /// Results of memref.get_global of constants, not yet a buffer.
  llvm::DenseMap<Value, memref::GlobalOp> globals;
  /// View results -> the value they view.
  llvm::DenseMap<Value, Value> aliases;
  unsigned nextBuffer = 0;
};

} // namespace

/// FNV-1a, 64 bits, continued over `bytes` from state `h`.
static uint64_t fnv1a64(uint64_t h, StringRef bytes) {
  for (unsigned char c : bytes.bytes()) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t fnv1a64(StringRef bytes) {
  return fnv1a64(0xcbf29ce484222325ULL, bytes);
}

FailureOr<CudaManifest>
buildCudaManifest(ModuleOp lowered, const std::vector<EntryPoint> &entries,
                  StringRef ptxFile, StringRef chip, StringRef weightsFile,
                  llvm::raw_ostream &weightsOut) {
  std::string body;
  llvm::raw_string_ostream os(body);
  WeightTable weights;
  for (const EntryPoint &entry : entries) {
    auto fn = lowered.lookupSymbol<func::FuncOp>(entry.name);
    if (!fn)
      return lowered.emitError("lowered module lost function @") << entry.name;
    os << formatEntryPoint(entry);
    if (failed(HostReplay(fn, os, weights).run()))
      return failure();
    os << "end\n";
  }

  // One constant at a time: besides the IR, at most the largest constant is
  // held in memory.
  CudaManifest out;
  uint64_t hash = 0xcbf29ce484222325ULL;
  std::string bytes;
  for (WeightTable::Entry &e : weights.entries) {
    bytes.assign(e.offset - out.weightsBytes, '\0'); // alignment padding
    if (failed(serializeConstant(e.global, bytes)))
      return failure();
    if (bytes.size() != e.offset + e.bytes - out.weightsBytes)
      return e.global.emitError("serialized constant has ")
             << bytes.size() - (e.offset - out.weightsBytes)
             << " bytes, expected " << e.bytes;
    hash = fnv1a64(hash, bytes);
    weightsOut << bytes;
    out.weightsBytes += bytes.size();
  }
  llvm::raw_string_ostream text(out.manifest);
  text << "kestrel-manifest 1 cuda\n"
       << "target " << chip << '\n'
       << "ptx " << ptxFile << '\n';
  if (!weights.entries.empty())
    text << "weights " << weightsFile << ' ' << out.weightsBytes << ' '
         << llvm::format_hex(hash, 18) << '\n';
  text << body;
  return out;
}

} // namespace kestrel
