//===- GpuRowAttrs.cpp - Verifier of #kestrel.row_plan --------------------===//
//
// The thread mapping of a row kernel (dialects/GpuRowAttrs.td): a known
// kind, whole warps per block (32 to 1024 threads: no kernel launches fewer
// than 32 threads per block), vectors of 1 to 8 elements.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"

using namespace mlir;
using namespace kestrel;

LogicalResult RowPlanAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  StringRef kind, int64_t threads,
                                  int64_t vector, int64_t perThread,
                                  int64_t ops) {
  if (kind != "elementwise" && kind != "rows" && kind != "serial")
    return emitError() << "row_plan kind must be elementwise, rows or serial, "
                          "got \""
                       << kind << "\"";
  if (threads < 32 || threads > 1024 || threads % 32)
    return emitError() << "row_plan threads = " << threads
                       << " is not a multiple of 32 in [32, 1024]";
  if (vector < 1 || vector > 8 || (vector & (vector - 1)))
    return emitError() << "row_plan vector = " << vector
                       << " is not 1, 2, 4 or 8";
  if (perThread < 1 || ops < 1)
    return emitError() << "row_plan per_thread = " << perThread
                       << " and ops = " << ops << " must be positive";
  return success();
}
