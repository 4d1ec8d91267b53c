//===- KestrelDialect.cpp - Registration of the kestrel dialect -----------===//

#include "dialects/Kestrel.h"

using namespace mlir;
using namespace kestrel;

#include "dialects/KestrelDialect.cpp.inc"
#include "dialects/KestrelEnums.cpp.inc"

void KestrelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/KestrelOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "dialects/KestrelOps.cpp.inc"
