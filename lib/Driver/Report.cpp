//===- Report.cpp - The compile report of kestrelc --report ---------------===//
//
// A pass instrumentation that snapshots each function around the passes of
// the target pipeline: the kestrel ops before and after kestrel-recognize,
// the generic linalg/tensor ops recognition left, the kestrel.* decision
// attributes passes record (docs/architecture.md: decisions live in
// attributes), the gpu.launch ops by kernel kind, the kestrel ops that reach
// kestrel-lower-to-linalg without a decision (reference lowering) and the
// contractions no contraction pass took. Nothing here changes the IR.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Driver/Report.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"

using namespace mlir;

namespace kestrel {

namespace {

constexpr unsigned kMaxNodesShown = 6;
constexpr size_t kMaxValueChars = 200;

/// The ONNX node names ("node 'n' (Op)") in `loc`, fused locations included.
void collectNodes(Location loc, CompileReport::NodeSet &nodes) {
  loc->walk([&](Location l) {
    if (auto name = dyn_cast<NameLoc>(l))
      if (name.getName().getValue().starts_with("node '"))
        nodes.insert(name.getName().str());
    return WalkResult::advance();
  });
}

bool isKestrelOp(Operation *op) {
  return op->getDialect() && op->getDialect()->getNamespace() == "kestrel";
}

/// The functions `op` is or holds (module passes run on the module).
SmallVector<func::FuncOp> functionsOf(Operation *op) {
  if (auto f = dyn_cast<func::FuncOp>(op))
    return {f};
  SmallVector<func::FuncOp> funcs;
  if (auto module = dyn_cast<ModuleOp>(op))
    for (auto f : module.getOps<func::FuncOp>())
      funcs.push_back(f);
  return funcs;
}

/// A generic op's kind for the report: named linalg ops by name, generics
/// as contractions, other reductions or parallel ops, tensor ops (but
/// tensor.empty) by name.
std::optional<std::string> genericKind(Operation *op) {
  if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
    if (linalg::isaContractionOpInterface(generic))
      return std::string("linalg.generic (contraction)");
    return std::string(generic.getNumReductionLoops() ? "linalg.generic "
                                                        "(reduction)"
                                                      : "linalg.generic "
                                                        "(parallel)");
  }
  if (isa<linalg::LinalgOp>(op) ||
      (op->getDialect() && op->getDialect()->getNamespace() == "tensor" &&
       !isa<tensor::EmptyOp>(op)))
    return op->getName().getStringRef().str();
  return std::nullopt;
}

/// Walks the ops of `func` outside linalg bodies.
void walkTopLevel(func::FuncOp func, function_ref<void(Operation *)> fn) {
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op == func.getOperation())
      return WalkResult::advance();
    fn(op);
    return isa<linalg::LinalgOp>(op) ? WalkResult::skip()
                                     : WalkResult::advance();
  });
}

std::string printAttr(Attribute attr) {
  if (isa<UnitAttr>(attr))
    return "";
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  if (text.size() > kMaxValueChars)
    text = text.substr(0, kMaxValueChars) + "...";
  return text;
}

/// What a gpu.launch runs, from the decisions its pass recorded on it.
std::string kernelKind(Operation *launch) {
  auto str = [&](StringRef name) -> std::string {
    if (auto s = launch->getAttrOfType<StringAttr>(name))
      return s.str();
    return "";
  };
  auto gemm = launch->getAttrOfType<GemmPlanAttr>("kestrel.gemm_plan");
  // The GEMM generator runs f32 plans on CUDA cores (FFMA), bf16/f16 ones
  // on tensor cores: wgmma where kestrel-gpu-gemm recorded
  // kestrel.gemm_mma = "wgmma" (sm_90a), mma.sync otherwise.
  std::string gemmKind;
  if (gemm) {
    llvm::raw_string_ostream os(gemmKind);
    if (gemm.getOperandType().isF32())
      os << "SIMT (FFMA, f32 operands)";
    else
      os << "tensor cores ("
         << (str("kestrel.gemm_mma") == "wgmma" ? "wgmma" : "mma.sync") << ", "
         << gemm.getOperandType() << " operands, f32 accumulation)";
  }
  if (Attribute stage = launch->getAttr(decision::kMoeStage))
    return "moe stage " + printAttr(stage) + ": " +
           (gemm ? gemmKind : std::string("SIMT"));
  if (gemm)
    return "gemm: " + gemmKind;
  std::string attention = str(decision::kAttentionKernel);
  if (attention == "mma_sync")
    return "flash attention: tensor cores (mma.sync)";
  if (!attention.empty())
    return "flash attention: SIMT (" + attention + ")";
  if (launch->hasAttr("kestrel.row_plan"))
    return "row kernel: SIMT";
  std::string denoise = str(decision::kDenoiseKernel);
  if (!denoise.empty())
    return "denoise " + denoise + ": SIMT";
  return "other: SIMT (no decision recorded: mapped loops, decode, "
         "recurrence or copy kernels)";
}

struct Instrumentation : public PassInstrumentation {
  explicit Instrumentation(CompileReport &report) : report(report) {}
  void runBeforePass(Pass *pass, Operation *op) override {
    if (!pass->getArgument().empty())
      report.beforePass(pass->getArgument(), op);
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    if (!pass->getArgument().empty())
      report.afterPass(pass->getArgument(), op);
  }
  CompileReport &report;
};

void printNodes(llvm::raw_ostream &os, const CompileReport::NodeSet &nodes) {
  if (nodes.empty())
    return;
  os << " at ";
  unsigned shown = 0;
  for (const std::string &n : nodes) {
    if (shown == kMaxNodesShown) {
      os << ", ... (" << nodes.size() - shown << " more)";
      break;
    }
    os << (shown++ ? ", " : "") << n;
  }
}

void printGroups(llvm::raw_ostream &os,
                 const std::map<std::string, CompileReport::OpGroup> &groups) {
  for (const auto &[name, group] : groups) {
    os << "    " << name << " x" << group.count;
    printNodes(os, group.nodes);
    os << "\n";
  }
}

} // namespace

void CompileReport::instrument(PassManager &pm) {
  pm.addInstrumentation(std::make_unique<Instrumentation>(*this));
}

CompileReport::Function &CompileReport::function(Operation *func) {
  return functions[cast<func::FuncOp>(func).getSymName().str()];
}

void CompileReport::beforePass(StringRef pass, Operation *op) {
  if (pass == "kestrel-recognize") {
    for (func::FuncOp f : functionsOf(op)) {
      Function &fn = function(f);
      fn.givenKestrel.clear();
      f.walk([&](Operation *o) {
        if (isKestrelOp(o))
          ++fn.givenKestrel[o->getName().getStringRef().str()];
      });
    }
  }
  if (pass == "kestrel-lower-to-linalg") {
    // Kestrel ops still here with no decision on them take the reference
    // lowering (docs/ops.md gives its math); tiled ones carry kestrel.tile.
    for (func::FuncOp f : functionsOf(op)) {
      Function &fn = function(f);
      f.walk([&](Operation *o) {
        if (!isKestrelOp(o))
          return;
        for (NamedAttribute a : o->getDiscardableAttrs())
          if (a.getName().getValue().starts_with("kestrel."))
            return;
        OpGroup &g = fn.referenceLowered[o->getName().getStringRef().str()];
        ++g.count;
        collectNodes(o->getLoc(), g.nodes);
      });
    }
  }
}

void CompileReport::afterPass(StringRef pass, Operation *op) {
  for (func::FuncOp f : functionsOf(op)) {
    Function &fn = function(f);
    if (pass == "kestrel-recognize") {
      fn.recognized = true;
      fn.kestrel.clear();
      fn.generic.clear();
      walkTopLevel(f, [&](Operation *o) {
        if (isKestrelOp(o)) {
          OpGroup &g = fn.kestrel[o->getName().getStringRef().str()];
          ++g.count;
          collectNodes(o->getLoc(), g.nodes);
        } else if (std::optional<std::string> kind = genericKind(o)) {
          ++fn.generic[*kind];
        }
      });
    }
    if (pass == "kestrel-cpu-contraction" || pass == "kestrel-gpu-gemm") {
      fn.genericContractions.clear();
      f.walk([&](linalg::LinalgOp l) {
        if (!linalg::isaContractionOpInterface(l))
          return;
        OpGroup &g = fn.genericContractions[l->getName().getStringRef().str()];
        ++g.count;
        collectNodes(l->getLoc(), g.nodes);
      });
    }
    snapshotDecisions(f);
  }
}

/// Decision attributes outlive some passes and are consumed by others: per
/// attribute, the snapshot with the most ops carrying it is kept.
void CompileReport::snapshotDecisions(Operation *func) {
  std::map<std::string, Decisions> now;
  std::map<std::string, unsigned> kernels;
  unsigned launches = 0;
  func->walk([&](Operation *o) {
    for (NamedAttribute a : o->getDiscardableAttrs()) {
      StringRef name = a.getName().getValue();
      if (!name.starts_with("kestrel."))
        continue;
      std::string value = printAttr(a.getValue());
      std::string key = o->getName().getStringRef().str();
      if (!value.empty())
        key += " " + value;
      ++now[name.str()][key];
    }
    if (isa<gpu::LaunchOp>(o)) {
      ++launches;
      ++kernels[kernelKind(o)];
    }
  });
  Function &fn = function(func);
  auto total = [](const Decisions &d) {
    unsigned n = 0;
    for (const auto &[k, c] : d)
      n += c;
    return n;
  };
  for (auto &[name, values] : now) {
    auto it = fn.decisions.find(name);
    if (it == fn.decisions.end() || total(values) >= total(it->second))
      fn.decisions[name] = std::move(values);
  }
  if (launches && launches >= fn.launches) {
    fn.launches = launches;
    fn.kernels = std::move(kernels);
  }
}

void CompileReport::addRefusal(Diagnostic &diag) {
  if (diag.getSeverity() != DiagnosticSeverity::Error)
    return;
  NodeSet nodes;
  collectNodes(diag.getLocation(), nodes);
  std::string where;
  if (!nodes.empty()) {
    where = nodes.front();
  } else {
    // file:line:col as in diagnostics, else the location as printed.
    llvm::raw_string_ostream os(where);
    diag.getLocation()->walk([&](Location l) {
      if (auto file = dyn_cast<FileLineColLoc>(l)) {
        os << file.getFilename().getValue() << ":" << file.getLine() << ":"
           << file.getColumn();
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (where.empty())
      diag.getLocation().print(os);
  }
  refusals.push_back(where + ": " + diag.str());
}

void CompileReport::print(llvm::raw_ostream &os) const {
  os << "kestrel compile report: target " << target;
  if (target != "cpu")
    os << ", precision " << precision;
  if (reference)
    os << ", reference lowering";
  os << "\n";
  for (const auto &[name, fn] : functions) {
    os << "function @" << name << "\n";
    if (!fn.recognized) {
      os << "  recognition: not run\n";
    } else {
      // Recognized: ops of each kind beyond those the input already had
      // (an input op may also be consumed, e.g. top_k into route).
      unsigned total = 0, recognized = 0, given = 0;
      for (const auto &[op, g] : fn.kestrel) {
        total += g.count;
        auto it = fn.givenKestrel.find(op);
        unsigned before = it == fn.givenKestrel.end() ? 0 : it->second;
        recognized += g.count > before ? g.count - before : 0;
      }
      for (const auto &[op, n] : fn.givenKestrel)
        given += n;
      os << "  kestrel ops: " << total << " (" << recognized
         << " by recognition; the input had " << given;
      for (const auto &[op, n] : fn.givenKestrel)
        os << (op == fn.givenKestrel.begin()->first ? ": " : ", ") << op << " x"
           << n;
      os << ")\n";
      printGroups(os, fn.kestrel);
      unsigned generic = 0;
      for (const auto &[kind, n] : fn.generic)
        generic += n;
      os << "  generic ops left by recognition: " << generic << "\n";
      for (const auto &[kind, n] : fn.generic)
        os << "    " << kind << " x" << n << "\n";
    }
    os << "  decisions:" << (fn.decisions.empty() ? " none\n" : "\n");
    for (const auto &[attr, values] : fn.decisions) {
      os << "    " << attr << ":\n";
      for (const auto &[key, n] : values)
        os << "      " << key << " x" << n << "\n";
    }
    if (fn.launches) {
      os << "  gpu kernels: " << fn.launches << " launches\n";
      for (const auto &[kind, n] : fn.kernels)
        os << "    " << kind << " x" << n << "\n";
    }
    if (!fn.referenceLowered.empty()) {
      os << "  reference lowering (kestrel ops without a kernel or tile "
            "decision):\n";
      printGroups(os, fn.referenceLowered);
    }
    if (!fn.genericContractions.empty()) {
      os << "  contractions left to generic loops (not taken by the "
            "contraction/GEMM pass):\n";
      printGroups(os, fn.genericContractions);
    }
  }
  os << "refused:" << (refusals.empty() ? " none\n" : "\n");
  for (const std::string &r : refusals)
    os << "  " << r << "\n";
}

} // namespace kestrel
