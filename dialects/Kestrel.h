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
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/KestrelDialect.h.inc"
#include "dialects/KestrelEnums.h.inc"

#define GET_OP_CLASSES
#include "dialects/KestrelOps.h.inc"

#endif // KESTREL_DIALECTS_KESTREL_H
