// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm=precision=bf16 | FileCheck %s --check-prefix=BF16
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm="tile=64,64,32,1,2,2" | FileCheck %s --check-prefix=TILE

// A big bf16 matmul: 128 x 256 x 32 block tiles, 8 warps of 64 x 64, four
// cp.async stages; 32 x 16 = 512 blocks of 256 threads; dynamic shared
// memory = 4 stages * (128 + 256) x 32 * 2 bytes, unpadded: rows of A
// ([m][k], 4 chunks of 16 bytes) and B ([k][n], 32 chunks) are XOR-swizzled.
// The fragments of the first k step are loaded before the loop; inside, the
// next tile's copies are issued, the next k step's fragments loaded, then
// this step's mmas run; the last step waits for the next tile (at most 2
// younger groups pending) behind a barrier before loading its fragments.
// CHECK-LABEL: func.func @big_bf16
// CHECK-DAG: %[[BLOCKS:.*]] = arith.constant 512 : index
// CHECK-DAG: %[[THREADS:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 98304 : i32
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[THREADS]], {{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK: arith.xori
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 2
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.ldmatrix {{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// CHECK: nvvm.ldmatrix {{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<col>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// CHECK: scf.for
// CHECK: scf.if
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.ldmatrix
// CHECK: nvvm.mma.sync {{.*}} {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK: nvvm.cp.async.wait.group 2
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: vector.from_elements {{.*}} : vector<2xbf16>
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : vector<2xbf16>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 256, tileK = 32, warpsM = 2, warpsN = 4, stages = 4, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>}
// CHECK-NOT: linalg.matmul
// TILE-LABEL: func.func @big_bf16
// TILE: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 64, tileN = 64, tileK = 32, warpsM = 1, warpsN = 2, stages = 2,
func.func @big_bf16(%a: tensor<4096x4096xbf16>, %b: tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16> {
  %zero = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<4096x4096xbf16>
  %c = linalg.fill ins(%zero : bf16) outs(%e : tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16>
  %r = linalg.matmul ins(%a, %b : tensor<4096x4096xbf16>, tensor<4096x4096xbf16>) outs(%c : tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16>
  return %r : tensor<4096x4096xbf16>
}

// -----

// Decode (M = 1): 16 x 64 x 64 tiles, 4 warps side by side along N, four
// stages: 14336 / 64 = 224 blocks of 128 threads.
// CHECK-LABEL: func.func @decode_f16
// CHECK-DAG: arith.constant 224 : index
// CHECK-DAG: arith.constant 128 : index
// CHECK: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32)
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 16, tileN = 64, tileK = 64, warpsM = 1, warpsN = 4, stages = 4, splitK = 1, operandType = f16, aKMajor = true, bKMajor = false>
func.func @decode_f16(%a: tensor<1x4096xf16>, %b: tensor<4096x14336xf16>) -> tensor<1x14336xf16> {
  %zero = arith.constant 0.0 : f16
  %e = tensor.empty() : tensor<1x14336xf16>
  %c = linalg.fill ins(%zero : f16) outs(%e : tensor<1x14336xf16>) -> tensor<1x14336xf16>
  %r = linalg.matmul ins(%a, %b : tensor<1x4096xf16>, tensor<4096x14336xf16>) outs(%c : tensor<1x14336xf16>) -> tensor<1x14336xf16>
  return %r : tensor<1x14336xf16>
}

// -----

// Transposed weights (B is [N, K]: K-major, ldmatrix without .trans for
// both operands) as the importer writes a MatMul with a broadcast batch:
// [2, 100, 64] x [96, 64]^T. The batch dim of A is an M dim (B does not
// have it): M = 200 rows flattened, 8-element copies; ragged M and N get
// bounds checks; 64 x 128 tiles since 128 x 128 would launch 2 blocks.
// CHECK-LABEL: func.func @transposed_b
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// CHECK-NOT: nvvm.mma_layout<col>, num
// CHECK: scf.if
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 64, tileN = 128, tileK = 32, warpsM = 2, warpsN = 2, stages = 3, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = true>
#a = affine_map<(b, m, n, k) -> (b, m, k)>
#bt = affine_map<(b, m, n, k) -> (n, k)>
#c = affine_map<(b, m, n, k) -> (b, m, n)>
func.func @transposed_b(%a: tensor<2x100x64xbf16>, %w: tensor<96x64xbf16>) -> tensor<2x100x96xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x100x96xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<2x100x96xf32>) -> tensor<2x100x96xf32>
  %r = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<2x100x64xbf16>, tensor<96x64xbf16>) outs(%c : tensor<2x100x96xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xf = arith.extf %x : bf16 to f32
    %yf = arith.extf %y : bf16 to f32
    %p = arith.mulf %xf, %yf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x100x96xf32>
  return %r : tensor<2x100x96xf32>
}

// -----

// batch_matmul: the batch is the grid's y dimension (2 blocks of 64 x 128
// tiles per batch entry, y = 3); K = 40 is not a multiple of tileK = 32
// (the second K tile is zero-filled past K); 8-element copies.
// CHECK-LABEL: func.func @batched
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}} = %[[THREE]], {{.*}})
// CHECK: arith.select {{.*}} : i32
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 64, tileN = 128, tileK = 32
func.func @batched(%a: tensor<3x128x40xf16>, %b: tensor<3x40x128xf16>) -> tensor<3x128x128xf16> {
  %zero = arith.constant 0.0 : f16
  %e = tensor.empty() : tensor<3x128x128xf16>
  %c = linalg.fill ins(%zero : f16) outs(%e : tensor<3x128x128xf16>) -> tensor<3x128x128xf16>
  %r = linalg.batch_matmul ins(%a, %b : tensor<3x128x40xf16>, tensor<3x40x128xf16>) outs(%c : tensor<3x128x128xf16>) -> tensor<3x128x128xf16>
  return %r : tensor<3x128x128xf16>
}

// -----

// f32: by default the FFMA kernel (operand_type = f32): 32 rows take one
// warp of 32 x 64 (4 x 8 lanes of 8 x 8), four stages of 32 along K; A is
// contiguous along K, so its copies are single floats transposed into the
// [k][m] tile; every k: 16-byte shared loads, fma. precision=bf16 rounds the
// constant weight at compile time (0.1 -> bf16) and the activation with an
// elementwise truncf, and keeps the f32 result.
// CHECK-LABEL: func.func @f32_matmul
// CHECK: gpu.launch
// CHECK: nvvm.cp.async.shared.global {{.*}}, 4, cache = ca
// CHECK: scf.for
// CHECK: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<4xf32>
// CHECK: llvm.intr.fma({{.*}}) : (f32, f32, f32) -> f32
// CHECK: llvm.store {{.*}} : vector<4xf32>, !llvm.ptr<1>
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 32, tileN = 64, tileK = 32, warpsM = 1, warpsN = 1, stages = 4, splitK = 1, operandType = f32, aKMajor = true, bKMajor = false>
// CHECK-NOT: linalg.matmul
// BF16-LABEL: func.func @f32_matmul
// BF16-DAG: arith.constant dense<1.000980e-01> : tensor<64x32xbf16>
// BF16-DAG: arith.truncf {{.*}} : f32 to bf16
// BF16: gpu.launch
// BF16: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// BF16: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// BF16: operandType = bf16
func.func @f32_matmul(%a: tensor<32x64xf32>) -> tensor<32x32xf32> {
  %w = arith.constant dense<0.1> : tensor<64x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x32xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<32x32xf32>) -> tensor<32x32xf32>
  %r = linalg.matmul ins(%a, %w : tensor<32x64xf32>, tensor<64x32xf32>) outs(%c : tensor<32x32xf32>) -> tensor<32x32xf32>
  return %r : tensor<32x32xf32>
}

// -----

// A big f32 matmul: 128 x 128 x 16 tiles of 8 warps (64 x 32 each, lanes
// 8 x 4), two stages of [k][m] / [k][n] tiles with rows padded by 4
// floats: 2 * 16 * (128 + 128 + 8) * 4 = 33792 bytes; 16 x 8 = 128 blocks.
// B is contiguous along N: 16-byte copies. No bounds checks (the tiles
// divide M, N and K), 16-byte stores of C.
// CHECK-LABEL: func.func @f32_big
// CHECK-DAG: arith.constant 128 : index
// CHECK-DAG: arith.constant 33792 : i32
// CHECK: nvvm.cp.async.shared.global {{.*}}, 4, cache = ca
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK-NOT: scf.if
// CHECK: scf.for
// CHECK-COUNT-64: llvm.intr.fma
// CHECK-NOT: scf.if
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 16, warpsM = 2, warpsN = 4, stages = 2, splitK = 1, operandType = f32, aKMajor = true, bKMajor = false>
func.func @f32_big(%a: tensor<2048x64xf32>, %b: tensor<64x1024xf32>) -> tensor<2048x1024xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2048x1024xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<2048x1024xf32>) -> tensor<2048x1024xf32>
  %r = linalg.matmul ins(%a, %b : tensor<2048x64xf32>, tensor<64x1024xf32>) outs(%c : tensor<2048x1024xf32>) -> tensor<2048x1024xf32>
  return %r : tensor<2048x1024xf32>
}

// -----

// Odd N (no 4-byte copies of B) and a body that is not out + a * b are
// left alone.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul
// CHECK: linalg.generic
#m = affine_map<(m, n, k) -> (m, k)>
#n = affine_map<(m, n, k) -> (k, n)>
#o = affine_map<(m, n, k) -> (m, n)>
func.func @left_alone(%a: tensor<16x32xbf16>, %b: tensor<32x33xbf16>, %c: tensor<32x32xbf16>) -> (tensor<16x33xbf16>, tensor<16x32xbf16>) {
  %zero = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<16x33xbf16>
  %f = linalg.fill ins(%zero : bf16) outs(%e : tensor<16x33xbf16>) -> tensor<16x33xbf16>
  %r = linalg.matmul ins(%a, %b : tensor<16x32xbf16>, tensor<32x33xbf16>) outs(%f : tensor<16x33xbf16>) -> tensor<16x33xbf16>
  %e2 = tensor.empty() : tensor<16x32xbf16>
  %f2 = linalg.fill ins(%zero : bf16) outs(%e2 : tensor<16x32xbf16>) -> tensor<16x32xbf16>
  %s = linalg.generic {indexing_maps = [#m, #n, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %c : tensor<16x32xbf16>, tensor<32x32xbf16>) outs(%f2 : tensor<16x32xbf16>) {
  ^bb0(%x: bf16, %y: bf16, %acc: bf16):
    %p = arith.mulf %x, %y : bf16
    %m = arith.maximumf %acc, %p : bf16
    linalg.yield %m : bf16
  } -> tensor<16x32xbf16>
  return %r, %s : tensor<16x33xbf16>, tensor<16x32xbf16>
}
