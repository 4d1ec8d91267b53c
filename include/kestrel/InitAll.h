//===- InitAll.h - Everything a Kestrel tool registers ---------*- C++ -*-===//
//
// The dialects, extensions, translations, passes and pipelines that
// kestrel-opt and kestrelc make available.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_INITALL_H
#define KESTREL_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace kestrel {

/// The kestrel dialect plus every upstream dialect, interface model and
/// LLVM IR translation the pipelines need.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Kestrel's passes and pipelines plus the upstream passes they use.
void registerAllPasses();

} // namespace kestrel

#endif // KESTREL_INITALL_H
