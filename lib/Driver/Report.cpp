//===- Report.cpp - The compile report of kestrelc --report ---------------===//
//
// A pass instrumentation that snapshots each function around the passes of
// the target pipeline: the kestrel ops before and after kestrel-recognize,
// the generic linalg/tensor ops recognition left, the kestrel.* decision
// attributes passes record (docs/architecture.md: decisions live in
// attributes), the gpu.launch ops by kernel kind, the kestrel ops that reach
// kestrel-lower-to-linalg without a decision (reference lowering) and the
// contractions no contraction pass took, the fused regions (GEMM fusions
// of CUDA launches, CPU contractions with a fused epilogue, elementwise
// chains fused by kestrel-fuse-elementwise) and, from the static shapes
// after recognition, estimated FLOPs and bytes per function. Nothing here
// changes the IR.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Driver/Report.h"

#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"

#include <mutex>

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
  std::string scatter = str(decision::kScatter);
  if (!scatter.empty())
    return "scatter (one thread per update, reduction " + scatter +
           "): SIMT";
  std::string denoise = str(decision::kDenoiseKernel);
  if (!denoise.empty())
    return "denoise " + denoise + ": SIMT";
  return "other: SIMT (no decision recorded: mapped loops, decode, "
         "recurrence or copy kernels)";
}


//===----------------------------------------------------------------------===//
// Estimated work: FLOPs from static shapes, bytes of the function boundary
// and constants (docs/cli.md lists the formulas)
//===----------------------------------------------------------------------===//

/// Elements of a statically shaped tensor; nullopt otherwise.
std::optional<double> numel(Type t) {
  auto s = dyn_cast<RankedTensorType>(t);
  if (!s || !s.hasStaticShape())
    return std::nullopt;
  double n = 1;
  for (int64_t d : s.getShape())
    n *= (double)d;
  return n;
}

std::optional<double> bytesOf(Type t) {
  std::optional<double> n = numel(t);
  if (!n)
    return std::nullopt;
  Type elt = cast<RankedTensorType>(t).getElementType();
  unsigned bits = elt.isIntOrFloat() ? elt.getIntOrFloatBitWidth()
                  : elt.isIndex()    ? 64
                                     : 0;
  if (!bits)
    return std::nullopt;
  return *n * (double)((bits + 7) / 8);
}

int64_t dim(Value v, int64_t d) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getDimSize(d < 0 ? t.getRank() + d : d);
}

/// Visible (query, key) pairs of one attention head: all T * S, or under
/// `causal` those with s <= t + (S - T), and s > t + (S - T) - window.
double attentionPairs(int64_t T, int64_t S, bool causal,
                      std::optional<int64_t> window) {
  if (!causal)
    return (double)T * (double)S;
  double pairs = 0;
  for (int64_t t = 0; t < T; ++t) {
    int64_t hi = std::min(S - 1, t + S - T);
    int64_t lo = window ? std::max<int64_t>(0, t + S - T - *window + 1) : 0;
    if (hi >= lo)
      pairs += (double)(hi - lo + 1);
  }
  return pairs;
}

/// The FLOPs of a kestrel op with static shapes, by the formulas of
/// docs/cli.md; nullopt for ops without one (or dynamic shapes).
std::optional<double> kestrelFlops(Operation *op) {
  for (Type t : op->getOperandTypes())
    if (isa<RankedTensorType>(t) && !numel(t))
      return std::nullopt;
  auto n = [](Value v) { return *numel(v.getType()); };
  if (auto a = dyn_cast<AttentionOp>(op)) {
    std::optional<int64_t> window;
    if (auto w = op->getAttrOfType<IntegerAttr>("window"))
      window = w.getInt();
    int64_t B = dim(a.getQuery(), 0), H = dim(a.getQuery(), 1),
            T = dim(a.getQuery(), 2), D = dim(a.getQuery(), 3),
            S = dim(a.getKey(), 2), Dv = dim(a.getValue(), 3);
    return 2.0 * (double)B * (double)H * (double)(D + Dv) *
           attentionPairs(T, S, op->hasAttr("causal"), window);
  }
  if (auto m = dyn_cast<MoeOp>(op)) {
    double perExpert = (n(m.getW1()) + n(m.getW3()) + n(m.getW2())) /
                       (double)dim(m.getW1(), 0);
    double flops = 2.0 * n(m.getIndices()) * perExpert;
    if (m.getSharedW1() && m.getSharedW3() && m.getSharedW2())
      flops += 2.0 * n(m.getX()) / (double)dim(m.getX(), -1) *
               (n(m.getSharedW1()) + n(m.getSharedW3()) + n(m.getSharedW2()));
    return flops;
  }
  if (auto g = dyn_cast<GatedMlpOp>(op))
    return 2.0 * n(g.getInput()) / (double)dim(g.getInput(), -1) *
           (n(g.getW1()) + n(g.getW3()) + n(g.getW2()));
  if (auto r = dyn_cast<RmsNormOp>(op))
    return 4.0 * n(r.getInput());
  if (auto r = dyn_cast<RopeOp>(op))
    return 3.0 * n(r.getInput());
  if (auto r = dyn_cast<RouteOp>(op))
    return 4.0 * n(r.getLogits());
  if (auto c = dyn_cast<CausalConv1dOp>(op))
    return 2.0 * n(c.getX()) * (double)dim(c.getWeight(), -1);
  if (auto s = dyn_cast<SelectiveScanOp>(op))
    return 9.0 * n(s.getX()) * (double)dim(s.getA(), -1);
  if (auto g = dyn_cast<GatedRecurrenceOp>(op))
    return 6.0 * n(g.getQuery()) * (double)dim(g.getValue(), -1);
  return std::nullopt;
}

/// Arithmetic ops of a linalg body (not constants, casts or index ops).
unsigned bodyArithmetic(linalg::LinalgOp op) {
  unsigned ops = 0;
  op->getRegion(0).walk([&](Operation *o) {
    StringRef dialect = o->getDialect() ? o->getDialect()->getNamespace() : "";
    if ((dialect == "arith" || dialect == "math") &&
        !isa<arith::ConstantOp, arith::IndexCastOp, arith::ExtFOp,
             arith::TruncFOp, arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp,
             arith::SIToFPOp, arith::UIToFPOp, arith::FPToSIOp,
             arith::FPToUIOp, arith::BitcastOp>(o))
      ++ops;
  });
  return ops;
}

constexpr llvm::StringLiteral kContractionKind = "linalg contractions";
constexpr llvm::StringLiteral kLinalgKind = "other linalg ops";

CompileReport::Work estimateWork(func::FuncOp f) {
  CompileReport::Work w;
  w.valid = true;
  for (Type t : f.getArgumentTypes())
    if (std::optional<double> b = bytesOf(t))
      w.argumentBytes += *b;
  for (Type t : f.getResultTypes())
    if (std::optional<double> b = bytesOf(t))
      w.resultBytes += *b;
  walkTopLevel(f, [&](Operation *o) {
    if (auto c = dyn_cast<arith::ConstantOp>(o)) {
      auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
      if (dense && dense.isSplat())
        return; // a splat is materialized, not read
      if (std::optional<double> b = bytesOf(c.getType()))
        w.constantBytes += *b;
      return;
    }
    if (isKestrelOp(o)) {
      std::string name = o->getName().getStringRef().str();
      if (std::optional<double> fl = kestrelFlops(o)) {
        w.flops[name] += *fl;
        ++w.count[name];
      } else {
        ++w.notCounted[name];
      }
      return;
    }
    auto l = dyn_cast<linalg::LinalgOp>(o);
    if (!l)
      return;
    double points = 1;
    for (int64_t r : l.getStaticLoopRanges()) {
      if (ShapedType::isDynamic(r)) {
        ++w.notCounted[o->getName().getStringRef().str() +
                       " (dynamic shape)"];
        return;
      }
      points *= (double)r;
    }
    if (linalg::isaContractionOpInterface(l)) {
      w.flops[kContractionKind.str()] += 2.0 * points;
      ++w.count[kContractionKind.str()];
      return;
    }
    if (unsigned ops = bodyArithmetic(l)) {
      w.flops[kLinalgKind.str()] += (double)ops * points;
      ++w.count[kLinalgKind.str()];
    }
  });
  return w;
}

/// How each kind's FLOPs were computed, for the report.
std::string flopFormula(StringRef kind) {
  return llvm::StringSwitch<std::string>(kind)
      .Case(kContractionKind, "2 x loop points each (2*M*N*K, x batch)")
      .Case(kLinalgKind, "loop points x arithmetic ops in the body")
      .Case("kestrel.attention",
            "2*B*H*(D+Dv) x visible (query, key) pairs: T*S, causal "
            "sum_t min(S, t+S-T+1) (T(T+1)/2 at T = S), window clipped; "
            "softmax not counted")
      .Case("kestrel.moe", "2 x (token, expert) pairs x weights per expert "
                           "(w1+w3+w2), + 2*N x shared weights")
      .Case("kestrel.gated_mlp", "2*N x weights (w1+w3+w2), N = tokens")
      .Case("kestrel.rms_norm", "4 per element")
      .Case("kestrel.rope", "3 per element")
      .Case("kestrel.route", "4 per logit")
      .Case("kestrel.causal_conv1d", "2*K per output element")
      .Case("kestrel.selective_scan", "9*N per element of x")
      .Case("kestrel.gated_recurrence", "6*Dk*Dv per (b, h, t)")
      .Default("");
}

/// `v` with a decimal SI prefix: "1.5 M".
std::string scaled(double v) {
  const char *prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1000.0 && i < 5) {
    v /= 1000.0;
    ++i;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format(i ? "%.3g " : "%.0f ", v) << prefixes[i];
  return text;
}

std::string integer(double v) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format("%.0f", v);
  return text;
}

/// Top-level linalg ops kestrel-fuse-elementwise may fuse (not
/// contractions, not fills).
int elementwiseOps(func::FuncOp f) {
  int n = 0;
  walkTopLevel(f, [&](Operation *o) {
    auto l = dyn_cast<linalg::LinalgOp>(o);
    if (l && !isa<linalg::FillOp>(o) && !linalg::isaContractionOpInterface(l))
      ++n;
  });
  return n;
}

/// Nested pipelines (func.func(...)) run on several functions at once:
/// their callbacks are serialized.
struct Instrumentation : public PassInstrumentation {
  explicit Instrumentation(CompileReport &report) : report(report) {}
  void runBeforePass(Pass *pass, Operation *op) override {
    std::lock_guard<std::mutex> lock(mutex);
    report.beforePass(pass->getArgument(), op);
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    std::lock_guard<std::mutex> lock(mutex);
    if (!pass->getArgument().empty())
      report.afterPass(pass->getArgument(), op);
  }
  CompileReport &report;
  std::mutex mutex;
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
  // The functions in module order, before nested pipelines reach them in
  // whatever order their threads run (the report prints this order).
  if (isa<ModuleOp>(op))
    for (func::FuncOp f : functionsOf(op))
      function(f);
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
  if (pass == "kestrel-fuse-elementwise")
    for (func::FuncOp f : functionsOf(op))
      function(f).elementwiseBefore = elementwiseOps(f);
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
      fn.work = estimateWork(f);
    }
    if (pass == "kestrel-fuse-elementwise")
      fn.elementwiseAfter = elementwiseOps(f);
    if (pass == "kestrel-cpu-choose-contraction") {
      // Contractions whose single elementwise consumer runs in the
      // micro-kernel's store.
      fn.fusions.erase("cpu contraction + fused elementwise epilogue");
      f.walk([&](Operation *o) {
        auto config = o->getAttrOfType<ContractionConfigAttr>(
            "kestrel.contraction_config");
        if (!config || config.getEpilogue() != "fused")
          return;
        OpGroup &g =
            fn.fusions["cpu contraction + fused elementwise epilogue"];
        ++g.count;
        collectNodes(o->getLoc(), g.nodes);
      });
    }
    if (pass == "kestrel-gpu-gemm") {
      for (auto it = fn.fusions.begin(); it != fn.fusions.end();)
        it = StringRef(it->first).starts_with("gemm launch")
                 ? fn.fusions.erase(it)
                 : std::next(it);
      f.walk([&](gpu::LaunchOp launch) {
        auto fusion = launch->getAttrOfType<StringAttr>("kestrel.gemm_fusion");
        if (!fusion)
          return;
        OpGroup &g = fn.fusions["gemm launch, fusion \"" +
                                fusion.getValue().str() + "\""];
        ++g.count;
        collectNodes(launch->getLoc(), g.nodes);
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
    bool elementwiseFused = fn.elementwiseBefore >= 0 &&
                            fn.elementwiseAfter >= 0 &&
                            fn.elementwiseAfter < fn.elementwiseBefore;
    os << "  fused regions:"
       << (fn.fusions.empty() && !elementwiseFused ? " none\n" : "\n");
    printGroups(os, fn.fusions);
    if (elementwiseFused)
      os << "    elementwise chains: " << fn.elementwiseBefore
         << " linalg ops (not contractions or fills) before "
            "kestrel-fuse-elementwise, "
         << fn.elementwiseAfter << " after\n";
    if (fn.work.valid) {
      const CompileReport::Work &w = fn.work;
      double flops = 0;
      for (const auto &[kind, f] : w.flops)
        flops += f;
      os << "  estimated work (from the static shapes after recognition; an "
            "estimate, not a measurement):\n";
      os << "    flops: " << integer(flops) << " (" << scaled(flops)
         << "FLOP)\n";
      for (const auto &[kind, f] : w.flops)
        os << "      " << kind << " x" << w.count.at(kind) << ": "
           << integer(f) << " (" << flopFormula(kind) << ")\n";
      if (!w.notCounted.empty()) {
        os << "      not counted:";
        bool first = true;
        for (const auto &[kind, c] : w.notCounted) {
          os << (first ? " " : ", ") << kind << " x" << c;
          first = false;
        }
        os << "\n";
      }
      double bytes = w.argumentBytes + w.resultBytes + w.constantBytes;
      os << "    bytes: " << integer(bytes) << " (" << scaled(bytes)
         << "B) at least: arguments " << integer(w.argumentBytes)
         << " + results " << integer(w.resultBytes) << " + constants "
         << integer(w.constantBytes)
         << ", each read or written once (non-splat constants; "
            "intermediates not counted)\n";
      if (bytes > 0)
        os << "    arithmetic intensity: "
           << llvm::format("%.2f", flops / bytes) << " FLOP/byte at most\n";
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
