//===- GpuGemmAttrs.cpp - Verifier of #kestrel.gemm_plan ------------------===//
//
// The tile plan of a tensor-core GEMM kernel (dialects/GpuGemmAttrs.td): its
// tiles must be whole mma.m16n8k16 fragments per warp.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"

using namespace mlir;
using namespace kestrel;

LogicalResult GemmPlanAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t tileM, int64_t tileN, int64_t tileK,
                                   int64_t warpsM, int64_t warpsN,
                                   int64_t stages, int64_t splitK,
                                   Type operandType, bool aKMajor,
                                   bool bKMajor) {
  if (warpsM <= 0 || warpsN <= 0 || warpsM * warpsN > 16)
    return emitError() << "gemm_plan needs 1 to 16 warps, got " << warpsM
                       << " x " << warpsN;
  if (tileM <= 0 || tileM % (16 * warpsM))
    return emitError() << "gemm_plan tile_m = " << tileM
                       << " is not a multiple of 16 * warps_m";
  if (tileN <= 0 || tileN % (16 * warpsN))
    return emitError() << "gemm_plan tile_n = " << tileN
                       << " is not a multiple of 16 * warps_n";
  if (tileK <= 0 || tileK % 16)
    return emitError() << "gemm_plan tile_k = " << tileK
                       << " is not a multiple of 16";
  if (stages < 2 || stages > 5)
    return emitError() << "gemm_plan stages = " << stages
                       << " is not in [2, 5]";
  if (splitK < 1)
    return emitError() << "gemm_plan split_k = " << splitK << " is below 1";
  if (!operandType || !(operandType.isBF16() || operandType.isF16()))
    return emitError() << "gemm_plan operand_type must be bf16 or f16, got "
                       << operandType;
  return success();
}
