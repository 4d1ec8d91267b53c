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

LogicalResult kestrel::verifySizeBounds(Operation *op) {
  constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;
  constexpr int64_t kMaxElements = int64_t(1) << 40;
  auto check = [&](Type t, StringRef kind, unsigned i) -> LogicalResult {
    auto shaped = dyn_cast<ShapedType>(t);
    if (!shaped || !shaped.hasRank())
      return success();
    int64_t count = 1;
    bool empty = false;
    for (int64_t d : shaped.getShape()) {
      if (ShapedType::isDynamic(d))
        continue;
      if (d > kMaxDim)
        return op->emitOpError()
               << kind << " #" << i << " (" << t << ") has dimension " << d
               << ", over the limit of 2^31 - 1: lowerings index dimensions "
                  "with 32-bit GPU indices and multiply them into loop bounds";
      empty |= d == 0;
      if (!empty && d && count > kMaxElements / d)
        return op->emitOpError()
               << kind << " #" << i << " (" << t
               << ") has more than 2^40 elements: lowerings multiply its "
                  "dimensions into 64-bit offsets that would overflow";
      count *= d ? d : 1;
    }
    return success();
  };
  for (auto [i, t] : llvm::enumerate(op->getOperandTypes()))
    if (failed(check(t, "operand", i)))
      return failure();
  for (auto [i, t] : llvm::enumerate(op->getResultTypes()))
    if (failed(check(t, "result", i)))
      return failure();
  return success();
}
