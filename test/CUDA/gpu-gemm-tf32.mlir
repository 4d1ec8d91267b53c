// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm=precision=tf32 | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm | FileCheck %s --check-prefix=F32

// precision=tf32: an f32 matmul on tensor cores without converting its
// operands in memory. The bf16 plan's tiles with half the K extent per
// stage (128 x 128 x 16, 8 warps of 64 x 32, three stages): 3 * (128 + 128)
// * 16 * 4 = 49152 bytes of shared memory. A ([m][k], K-major) is read by
// ldmatrix as for bf16 (a 32-bit element is a pair of b16); B ([k][n]) by
// 4-byte shared loads, which ldmatrix cannot transpose. Every operand
// register is rounded to tf32 (cvt.rna) before the m16n8k8 mmas: per k step
// 4 ldmatrix + 8 loads, 24 roundings, 4 x 4 mmas. precision=f32 (the
// default) keeps the FFMA kernel.
// CHECK-LABEL: func.func @f32_big
// CHECK-DAG: arith.constant 49152 : i32
// CHECK: gpu.launch
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK-COUNT-4: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// CHECK-COUNT-8: llvm.load {{.*}} : !llvm.ptr<3> -> i32
// CHECK: scf.for
// CHECK: nvvm.convert.float.to.tf32 {{.*}} {rnd = #nvvm.fp_rnd_mode<rna>}
// CHECK-COUNT-16: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>}
// CHECK: llvm.store {{.*}} : vector<2xf32>, !llvm.ptr<1>
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 16, warpsM = 2, warpsN = 4, stages = 3, splitK = 1, operandType = tf32, aKMajor = true, bKMajor = false>
// CHECK-NOT: linalg.matmul
// F32-LABEL: func.func @f32_big
// F32-NOT: nvvm.mma.sync
// F32: operandType = f32
func.func @f32_big(%a: tensor<2048x64xf32>, %b: tensor<64x1024xf32>) -> tensor<2048x1024xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2048x1024xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<2048x1024xf32>) -> tensor<2048x1024xf32>
  %r = linalg.matmul ins(%a, %b : tensor<2048x64xf32>, tensor<64x1024xf32>) outs(%c : tensor<2048x1024xf32>) -> tensor<2048x1024xf32>
  return %r : tensor<2048x1024xf32>
}

// -----

// Transposed weights ([N, K], K-major) and A stored [K, M]: B by ldmatrix,
// A by 4-byte loads (a0..a3 of each of the warp's m16 tiles). Decode-sized
// M (16 rows): a 16 x 64 x 32 tile of 4 warps, four stages.
// CHECK-LABEL: func.func @transposed
// CHECK: gpu.launch
// CHECK-COUNT-4: llvm.load {{.*}} : !llvm.ptr<3> -> i32
// CHECK: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// CHECK: nvvm.mma.sync {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 8>
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 16, tileN = 64, tileK = 32, warpsM = 1, warpsN = 4, stages = 4, splitK = 1, operandType = tf32, aKMajor = false, bKMajor = true>
func.func @transposed(%a: tensor<96x16xf32>, %w: tensor<256x96xf32>) -> tensor<16x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>,
                                        affine_map<(m, n, k) -> (n, k)>,
                                        affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<96x16xf32>, tensor<256x96xf32>) outs(%c : tensor<16x256xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x256xf32>
  return %r : tensor<16x256xf32>
}
