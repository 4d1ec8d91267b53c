//===- EntryPoints.cpp - The C ABI of compiled functions ------------------===//
//
// A compiled public function `f(tensor..., ) -> (tensor...)` becomes
// `void f(T *in0, ..., T *out0, ...)`: every tensor is a dense row-major
// buffer with the static shape of its type. This file reads that signature
// off the tensor-level IR and prints it as the manifest header.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace kestrel {

static FailureOr<std::string> dtypeName(Type t) {
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

static FailureOr<TensorSpec> specOf(func::FuncOp fn, Type type, StringRef what,
                                    unsigned index) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !isa<RankedTensorType, MemRefType>(type) ||
      !shaped.hasStaticShape())
    return fn.emitError() << what << " #" << index << " has type " << type
                          << "; entry points take statically shaped tensors";
  // MLIR's bare-pointer calling convention does not apply to empty memrefs
  // (the function would take whole descriptors and the manifest's plain
  // pointers would be misread), so refuse them here.
  if (shaped.getNumElements() == 0)
    return fn.emitError() << what << " #" << index << " has type " << type
                          << " with no elements; entry points take "
                             "non-empty tensors";
  FailureOr<std::string> dtype = dtypeName(shaped.getElementType());
  if (failed(dtype))
    return fn.emitError() << what << " #" << index
                          << " has unsupported element type "
                          << shaped.getElementType();
  return TensorSpec{*dtype, std::vector<int64_t>(shaped.getShape().begin(),
                                                 shaped.getShape().end())};
}

FailureOr<std::vector<EntryPoint>> describeEntryPoints(ModuleOp module) {
  std::vector<EntryPoint> entries;
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isPrivate() || fn.isExternal())
      continue;
    EntryPoint entry{fn.getSymName().str(), {}, {}};
    for (auto [i, t] : llvm::enumerate(fn.getArgumentTypes())) {
      FailureOr<TensorSpec> s = specOf(fn, t, "argument", i);
      if (failed(s))
        return failure();
      entry.inputs.push_back(*s);
    }
    for (auto [i, t] : llvm::enumerate(fn.getResultTypes())) {
      FailureOr<TensorSpec> s = specOf(fn, t, "result", i);
      if (failed(s))
        return failure();
      entry.outputs.push_back(*s);
    }
    entries.push_back(std::move(entry));
  }
  if (entries.empty())
    return module.emitError("no public function to compile");
  return entries;
}

static void printSpec(llvm::raw_ostream &os, StringRef role,
                      const TensorSpec &s) {
  os << role << ' ' << s.dtype << ' ';
  if (s.shape.empty())
    os << "scalar";
  llvm::interleave(s.shape, os, "x");
  os << '\n';
}

std::string formatEntryPoint(const EntryPoint &e) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "function " << e.name << ' ' << e.inputs.size() << ' '
     << e.outputs.size() << '\n';
  for (const TensorSpec &s : e.inputs)
    printSpec(os, "in", s);
  for (const TensorSpec &s : e.outputs)
    printSpec(os, "out", s);
  return text;
}

std::string formatCpuManifest(const std::vector<EntryPoint> &entries) {
  std::string text = "kestrel-manifest 1 cpu\n";
  for (const EntryPoint &e : entries)
    text += formatEntryPoint(e) + "end\n";
  return text;
}

} // namespace kestrel
