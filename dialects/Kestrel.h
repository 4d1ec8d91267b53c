//===- Kestrel.h - The kestrel dialect and its ops --------------*- C++ -*-===//
//
// Include this to use the kestrel dialect: it declares the dialect class and
// every op generated from KestrelOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DIALECTS_KESTREL_H
#define KESTREL_DIALECTS_KESTREL_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"

#include "dialects/DecisionAttrs.h"
#include "dialects/KestrelDialect.h.inc"
#include "dialects/KestrelEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/KestrelAttrs.h.inc"

namespace kestrel {
/// `layout = #kestrel.kv_layout<...>` in op assembly: the attribute is
/// printed whole (with its dialect prefix), so that tests read as the docs.
mlir::ParseResult parseKVLayout(mlir::OpAsmParser &parser, KVLayoutAttr &attr);
void printKVLayout(mlir::OpAsmPrinter &printer, mlir::Operation *op,
                   KVLayoutAttr attr);
} // namespace kestrel

#define GET_OP_CLASSES
namespace kestrel {
/// Fails unless every static dimension of `op`'s shaped operands and results
/// is below 2^31 and each has fewer than 2^40 elements (docs/ops.md).
mlir::LogicalResult verifySizeBounds(mlir::Operation *op);
namespace OpTrait {
template <typename ConcreteType>
class SizeBounded
    : public mlir::OpTrait::TraitBase<ConcreteType, SizeBounded> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifySizeBounds(op);
  }
};
} // namespace OpTrait
} // namespace kestrel

#include "dialects/KestrelOps.h.inc"

#endif // KESTREL_DIALECTS_KESTREL_H
