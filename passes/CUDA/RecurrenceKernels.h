//===- RecurrenceKernels.h --------------------------------------*- C++ -*-===//
//
// What kestrel-gpu-recurrence covers, for the driver: an op of the
// recurrence family (docs/ops.md §2) that the pass rewrites runs on cuda
// targets; one it leaves to the reference lowering is refused there.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_RECURRENCEKERNELS_H
#define KESTREL_PASSES_CUDA_RECURRENCEKERNELS_H

#include "mlir/IR/Operation.h"

#include <string>

namespace kestrel::cuda {

/// Why kestrel-gpu-recurrence leaves `op` (a gated_recurrence,
/// selective_scan or causal_conv1d) to the reference lowering, or an empty
/// string when it generates a kernel for it.
std::string unsupportedRecurrence(mlir::Operation *op);

} // namespace kestrel::cuda

#endif // KESTREL_PASSES_CUDA_RECURRENCEKERNELS_H
