//===- MmaEmit.h - ldmatrix and mma.sync for the CUDA kernels -*- C++ -*-===//
//
// The two warp-level tensor-core instructions the flash attention and GEMM
// kernels are built from, as NVVM ops: ldmatrix.x4 (four 8x8 b16 matrices
// from shared memory into mma operand registers) and mma.sync m16n8k16 with
// bf16/f16 operands (m16n8k8 with tf32 ones) and f32 accumulators.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_PASSES_CUDA_MMAEMIT_H
#define KESTREL_PASSES_CUDA_MMAEMIT_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"

namespace kestrel {

/// ldmatrix.x4 (transposed with `trans`): lane l passes the shared address
/// of row l % 8 of 8x8 matrix l / 8 and receives, per matrix, the mma
/// operand register of its fragment position (i32, or vector<2xf16> when
/// `elem` is f16).
inline llvm::SmallVector<mlir::Value>
emitLdMatrixX4(mlir::OpBuilder &b, mlir::Location loc, mlir::Value address,
               bool trans, mlir::Type elem) {
  using namespace mlir;
  Type i32 = b.getI32Type();
  auto type =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {i32, i32, i32, i32});
  Value regs = NVVM::LdMatrixOp::create(
      b, loc, type, address, 4,
      trans ? NVVM::MMALayout::col : NVVM::MMALayout::row,
      NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
      NVVM::LdStMatrixEltType::B16);
  llvm::SmallVector<Value> out;
  for (int64_t i = 0; i < 4; ++i) {
    Value word = LLVM::ExtractValueOp::create(b, loc, regs, i);
    if (elem.isF16())
      word = LLVM::BitcastOp::create(b, loc, VectorType::get({2}, elem), word);
    out.push_back(word);
  }
  return out;
}

/// c += a * b on one m16n8kK tile of `ptx` operands: `a` 4 and `bOps` 2
/// operand registers, `c` the 4 f32 accumulators, updated in place.
inline void emitMmaM16N8(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::NVVM::MMATypes ptx, int64_t k,
                         mlir::ArrayRef<mlir::Value> a,
                         mlir::ArrayRef<mlir::Value> bOps,
                         llvm::MutableArrayRef<mlir::Value> c) {
  using namespace mlir;
  Type f32 = b.getF32Type();
  auto resultType =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  Value d = NVVM::MmaOp::create(
      b, loc, resultType, a, bOps, c, llvm::ArrayRef<int64_t>{16, 8, k},
      std::nullopt, std::nullopt, std::array<NVVM::MMATypes, 2>{ptx, ptx},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  for (int64_t i = 0; i < 4; ++i)
    c[i] = LLVM::ExtractValueOp::create(b, loc, d, i);
}

/// c += a * b on one m16n8k16 tile: `a` 4 and `bOps` 2 operand registers
/// of element type `elem` (bf16 or f16), `c` the 4 f32 accumulators,
/// updated in place.
inline void emitMmaM16N8K16(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Type elem, mlir::ArrayRef<mlir::Value> a,
                            mlir::ArrayRef<mlir::Value> bOps,
                            llvm::MutableArrayRef<mlir::Value> c) {
  emitMmaM16N8(b, loc,
               elem.isF16() ? mlir::NVVM::MMATypes::f16
                            : mlir::NVVM::MMATypes::bf16,
               16, a, bOps, c);
}

/// c += a * b on one m16n8k8 tile with tf32 operands: `a` 4 and `bOps` 2
/// i32 registers holding tf32 values (cvt.rna.tf32.f32), `c` the 4 f32
/// accumulators, updated in place. Fragment layouts as for m16n8k16, one
/// 32-bit element per register.
inline void emitMmaM16N8K8Tf32(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::ArrayRef<mlir::Value> a,
                               mlir::ArrayRef<mlir::Value> bOps,
                               llvm::MutableArrayRef<mlir::Value> c) {
  emitMmaM16N8(b, loc, mlir::NVVM::MMATypes::tf32, 8, a, bOps, c);
}

} // namespace kestrel

#endif // KESTREL_PASSES_CUDA_MMAEMIT_H
