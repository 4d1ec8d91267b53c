//===- KestrelDialect.cpp - Registration of the kestrel dialect -----------===//

#include "dialects/Kestrel.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kestrel;

#include "dialects/KestrelDialect.cpp.inc"
#include "dialects/KestrelEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/KestrelAttrs.cpp.inc"

void KestrelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/KestrelOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/KestrelAttrs.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "dialects/KestrelOps.cpp.inc"
