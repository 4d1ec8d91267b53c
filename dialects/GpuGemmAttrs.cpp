//===- GpuGemmAttrs.cpp - Verifier of #kestrel.gemm_plan ------------------===//
//
// The tile plan of a GEMM kernel (dialects/GpuGemmAttrs.td): bf16/f16 tiles
// must be whole mma.m16n8k16 fragments per warp, f32 warp tiles 32 lanes of
// 8 x 8 outputs.
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
  if (operandType && operandType.isF32()) {
    // FFMA kernel: 8 x 8 outputs per lane, 32 lanes per warp tile.
    if (tileM <= 0 || tileN <= 0 || tileM % (8 * warpsM) ||
        tileN % (8 * warpsN) || (tileM / warpsM) * (tileN / warpsN) != 2048)
      return emitError() << "gemm_plan f32 warp tiles must be multiples of "
                            "8 holding 32 x 64 elements, got "
                         << tileM << " x " << tileN << " over " << warpsM
                         << " x " << warpsN << " warps";
    if (tileK <= 0 || tileK % 4)
      return emitError() << "gemm_plan tile_k = " << tileK
                         << " is not a multiple of 4";
  } else {
    if (tileM <= 0 || tileM % (16 * warpsM))
      return emitError() << "gemm_plan tile_m = " << tileM
                         << " is not a multiple of 16 * warps_m";
    if (tileN <= 0 || tileN % (16 * warpsN))
      return emitError() << "gemm_plan tile_n = " << tileN
                         << " is not a multiple of 16 * warps_n";
    // The mma's K extent: 16 for bf16/f16, 8 for tf32 (m16n8k8).
    int64_t mmaK = operandType && operandType.isTF32() ? 8 : 16;
    if (tileK <= 0 || tileK % mmaK)
      return emitError() << "gemm_plan tile_k = " << tileK
                         << " is not a multiple of " << mmaK;
  }
  if (stages < 2 || stages > 5)
    return emitError() << "gemm_plan stages = " << stages
                       << " is not in [2, 5]";
  if (splitK < 1)
    return emitError() << "gemm_plan split_k = " << splitK << " is below 1";
  if (!operandType ||
      !(operandType.isBF16() || operandType.isF16() || operandType.isF32() ||
        operandType.isTF32()))
    return emitError()
           << "gemm_plan operand_type must be bf16, f16, tf32 or f32, got "
           << operandType;
  return success();
}
