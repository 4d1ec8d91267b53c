//===- ReferenceLowering.h --------------------------------------*- C++ -*-===//
//
// Every op family contributes the patterns of its naive, obviously correct
// lowering to linalg (one file per family, <Family>.cpp); the
// kestrel-lower-to-linalg pass applies them all. They build their IR with
// IREmitter (passes/Common/IRBuilder.h).
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_REFERENCELOWERING_H
#define KESTREL_PASSES_REFERENCELOWERING_H

#include "passes/Common/AttentionVisibility.h"
#include "passes/Common/IRBuilder.h"

#include "mlir/IR/PatternMatch.h"

namespace kestrel {

void populateAttentionReferencePatterns(mlir::RewritePatternSet &patterns);
void populateMLAReferencePatterns(mlir::RewritePatternSet &patterns);
void populateQuantReferencePatterns(mlir::RewritePatternSet &patterns);
void populateRecurrenceReferencePatterns(mlir::RewritePatternSet &patterns);
void populateScanReferencePatterns(mlir::RewritePatternSet &patterns);
void populateSupportReferencePatterns(mlir::RewritePatternSet &patterns);
void populateDenoiseReferencePatterns(mlir::RewritePatternSet &patterns);
void populateRoutingReferencePatterns(mlir::RewritePatternSet &patterns);
void populateKVCacheReferencePatterns(mlir::RewritePatternSet &patterns);

} // namespace kestrel

#endif // KESTREL_PASSES_REFERENCELOWERING_H
