//===- Kx.h - The kx dialect and its lowering pass --------------*- C++ -*-===//

#ifndef KX_KX_H
#define KX_KX_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/Pass.h"

#include "Kx/KxOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "Kx/KxOps.h.inc"

namespace kx {
/// Registers `kx-lower-feature-map`.
void registerPasses();
} // namespace kx

#endif // KX_KX_H
