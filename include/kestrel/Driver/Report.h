//===- Report.h - What a compilation did to each function -------*- C++ -*-===//
//
// The compile report of `kestrelc --report` and `kestrel.compile(...,
// report=True)`: per function, the kestrel ops (recognized or given) with
// the ONNX nodes they came from, the generic linalg/tensor ops that stayed,
// every decision a pass recorded as a kestrel.* attribute (tiles,
// contraction paths, GEMM plans, kernel kinds), the GPU kernels by kind
// (tensor cores or SIMT), the fused regions, estimated FLOPs and bytes,
// what went through a reference lowering and what was refused with the
// compiler's reason. docs/cli.md describes the text.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DRIVER_REPORT_H
#define KESTREL_DRIVER_REPORT_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace kestrel {

class CompileReport {
public:
  /// Insertion-ordered, deduplicated ONNX node labels.
  using NodeSet = llvm::SetVector<std::string, std::vector<std::string>,
                                  std::set<std::string>>;
  /// Ops of one kind and the ONNX nodes (NameLoc "node 'n' (Op)") they
  /// came from.
  struct OpGroup {
    unsigned count = 0;
    NodeSet nodes;
  };
  /// "op-name value" -> count, for one decision attribute.
  using Decisions = std::map<std::string, unsigned>;

  /// The estimated work of a function after recognition (static shapes):
  /// FLOPs per kind of op, the bytes of its arguments, results and
  /// constants, and the ops no formula covers. docs/cli.md gives the
  /// formulas.
  struct Work {
    std::map<std::string, double> flops;   // kind -> FLOPs
    std::map<std::string, unsigned> count; // kind -> ops counted
    std::map<std::string, unsigned> notCounted;
    double argumentBytes = 0, resultBytes = 0, constantBytes = 0;
    bool valid = false;
  };

  struct Function {
    std::map<std::string, unsigned> givenKestrel; // before kestrel-recognize
    std::map<std::string, OpGroup> kestrel;       // after kestrel-recognize
    std::map<std::string, unsigned> generic;      // linalg/tensor left
    std::map<std::string, Decisions> decisions;   // attr name -> values
    std::map<std::string, OpGroup> referenceLowered;
    std::map<std::string, OpGroup> genericContractions;
    std::map<std::string, unsigned> kernels; // kind -> gpu.launch count
    unsigned launches = 0;
    bool recognized = false;
    Work work;
    /// Fused regions: GEMM epilogue/sibling fusions on cuda launches
    /// (kestrel.gemm_fusion), CPU contractions with a fused epilogue.
    std::map<std::string, OpGroup> fusions;
    /// Top-level non-contraction linalg ops around kestrel-fuse-elementwise.
    int elementwiseBefore = -1, elementwiseAfter = -1;
  };

  CompileReport(std::string target, std::string precision, bool reference)
      : target(std::move(target)), precision(std::move(precision)),
        reference(reference) {}

  /// Snapshots the module after (and around) the passes of `pm`.
  void instrument(mlir::PassManager &pm);
  /// Records an error of the compilation (what was refused, and why).
  void addRefusal(mlir::Diagnostic &diag);
  void print(llvm::raw_ostream &os) const;

  // Called by the instrumentation.
  void beforePass(llvm::StringRef pass, mlir::Operation *op);
  void afterPass(llvm::StringRef pass, mlir::Operation *op);

private:
  Function &function(mlir::Operation *func);
  void snapshotDecisions(mlir::Operation *func);

  std::string target, precision;
  bool reference;
  llvm::MapVector<std::string, Function, std::map<std::string, unsigned>>
      functions;
  std::vector<std::string> refusals;
};

} // namespace kestrel

#endif // KESTREL_DRIVER_REPORT_H
