//===- KxDialect.cpp - The kx dialect -------------------------------------===//

#include "Kx/Kx.h"

#include "Kx/KxOpsDialect.cpp.inc"

#define GET_OP_CLASSES
#include "Kx/KxOps.cpp.inc"

void kx::KxDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Kx/KxOps.cpp.inc"
      >();
}
