//===- Passes.h - Kestrel passes --------------------------------*- C++ -*-===//
//
// Declarations and registration of every pass in Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_PASSES_H
#define KESTREL_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace kestrel {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The chunked form of kestrel.gated_recurrence ops carrying kestrel.chunk
/// (ChunkedRecurrence.cpp); kestrel-fuse-io-aware applies it.
void populateChunkedRecurrencePatterns(mlir::RewritePatternSet &patterns);

} // namespace kestrel

#endif // KESTREL_PASSES_PASSES_H
