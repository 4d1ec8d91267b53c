// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm=chip=sm_90a | FileCheck %s
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm | FileCheck %s --check-prefix=SM80
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm="chip=sm_90a mma=sync" | FileCheck %s --check-prefix=SM80
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm="mma=wgmma tile=128,128,64,8,1,3" | FileCheck %s --check-prefix=TILE
// RUN: kestrel-opt %s -split-input-file --kestrel-gpu-gemm="mma=wgmma tile=192,128,64,12,1,4" | FileCheck %s --check-prefix=PART

// The sm_90a kernel (GemmWgmmaKernel.cpp) on a big bf16 matmul: 128 x 256
// block tiles of two warpgroups (8 warps of 16 rows), tile_k 64, four
// stages; 32 x 16 = 512 blocks of 256 threads; dynamic shared memory =
// 4 stages * (128 + 256) x 64 * 2 bytes + 1024 bytes of alignment slack.
// B ([k][n]) is N-major: imm-trans-b = 1. The K loop waits for its tile
// (ahead = stages - 2 = 2 tiles in flight: at most 1 younger group
// pending), fences the async proxy, synchronizes, then issues 4 wgmmas
// m64n256k16 (128 f32 accumulators each), commits them, issues the copies
// of tile kt + 2 and waits for all but the newest wgmma group.
// CHECK-LABEL: func.func @big_bf16
// CHECK-DAG: %[[BLOCKS:.*]] = arith.constant 512 : index
// CHECK-DAG: %[[THREADS:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 197632 : i32
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[THREADS]], {{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "fence.proxy.async.shared::cta;"
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.fence.sync.aligned;"
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 1;
// CHECK: "wgmma.commit_group.sync.aligned;"
// CHECK: scf.if
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.wait_group.sync.aligned 1;"
// CHECK: scf.yield
// CHECK: "wgmma.wait_group.sync.aligned 0;"
// C through shared memory: pairs into the padded C tile, a barrier, then
// 16-byte rows out.
// CHECK: gpu.barrier
// CHECK: vector.from_elements {{.*}} : vector<2xbf16>
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : vector<2xbf16>, !llvm.ptr<3>
// CHECK: gpu.barrier
// CHECK: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<4xi32>
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<1>
// CHECK: } {kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 256, tileK = 64, warpsM = 8, warpsN = 1, stages = 4, splitK = 1, operandType = bf16, aKMajor = true, bKMajor = false>}
// CHECK-NOT: nvvm.mma.sync
// SM80-LABEL: func.func @big_bf16
// SM80-NOT: wgmma
// SM80: nvvm.mma.sync
// SM80: } {kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 256, tileK = 32, warpsM = 2, warpsN = 4,
// 192 x 128 tiles: 384 threads; A's 192 x 64 tile is 1536 16-byte copies
// (4 per thread), B's 64 x 128 tile 1024 (2 2/3 per thread): in the third
// round only threads 0..255 copy -- the others issue nothing (no
// zero-filling copy into a chunk another thread writes).
// PART-LABEL: func.func @big_bf16
// PART-COUNT-4: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg, %{{.*}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// PART-COUNT-2: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
// PART-NEXT: scf.if
// PART: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
// PART-NEXT: }
// PART-NEXT: nvvm.cp.async.commit.group
// PART: kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 192, tileN = 128, tileK = 64, warpsM = 12, warpsN = 1, stages = 4,
// TILE-LABEL: func.func @big_bf16
// TILE: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// TILE: kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 64, warpsM = 8, warpsN = 1, stages = 3,
func.func @big_bf16(%a: tensor<4096x4096xbf16>, %b: tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16> {
  %zero = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<4096x4096xbf16>
  %c = linalg.fill ins(%zero : bf16) outs(%e : tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16>
  %r = linalg.matmul ins(%a, %b : tensor<4096x4096xbf16>, tensor<4096x4096xbf16>) outs(%c : tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16>
  return %r : tensor<4096x4096xbf16>
}

// -----

// Transposed f16 weights (B K-major, imm-trans-b = 0) with too few 128 x 256
// tiles to fill the SMs twice (8 x 4 = 32 < 264): 128 x 128 tiles, three
// stages (3 x 32 KiB + 1 KiB). No wgmma group stays in flight at the end of
// a tile, so the copies run 2 tiles ahead (at most 1 younger group
// pending). f32 results go out through shared memory in 8-byte pairs.
// CHECK-LABEL: func.func @weights_f16
// CHECK-DAG: arith.constant 99328 : i32
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {{.*}}, p, 1, 1, 0, 0;
// CHECK: "wgmma.wait_group.sync.aligned 0;"
// CHECK: scf.yield
// CHECK: llvm.store {{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<3>
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<1>
// CHECK: kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 64, warpsM = 8, warpsN = 1, stages = 3, splitK = 1, operandType = f16, aKMajor = true, bKMajor = true>
// SM80-LABEL: func.func @weights_f16
// SM80-NOT: kestrel.gemm_mma
// SM80: nvvm.mma.sync
func.func @weights_f16(%a: tensor<1024x512xf16>, %w: tensor<512x512xf16>) -> tensor<1024x512xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1024x512xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<1024x512xf32>) -> tensor<1024x512xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                        affine_map<(m, n, k) -> (n, k)>,
                                        affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1024x512xf16>, tensor<512x512xf16>) outs(%c : tensor<1024x512xf32>) {
  ^bb0(%x: f16, %y: f16, %acc: f32):
    %xf = arith.extf %x : f16 to f32
    %yf = arith.extf %y : f16 to f32
    %p = arith.mulf %xf, %yf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1024x512xf32>
  return %r : tensor<1024x512xf32>
}

// -----

// Decode rows (M = 16) stay on mma.sync on sm_90a: the wgmma kernel takes
// M > 64 only (without a tile override).
// CHECK-LABEL: func.func @decode_bf16
// CHECK-NOT: wgmma
// CHECK: nvvm.mma.sync
// CHECK: kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 16, tileN = 64, tileK = 64, warpsM = 1, warpsN = 4, stages = 4,
func.func @decode_bf16(%a: tensor<16x4096xbf16>, %b: tensor<4096x14336xbf16>) -> tensor<16x14336xbf16> {
  %zero = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<16x14336xbf16>
  %c = linalg.fill ins(%zero : bf16) outs(%e : tensor<16x14336xbf16>) -> tensor<16x14336xbf16>
  %r = linalg.matmul ins(%a, %b : tensor<16x4096xbf16>, tensor<4096x14336xbf16>) outs(%c : tensor<16x14336xbf16>) -> tensor<16x14336xbf16>
  return %r : tensor<16x14336xbf16>
}

// -----

// A stored [k][m] (M-major: imm-trans-a = 1) with ragged M, N and K
// (K = 72: the second K tile is zero-filled past k = 72): the edges are
// checked on load and store; N = 300 is no multiple of 8, so C is stored
// in pairs straight from the accumulators.
// CHECK-LABEL: func.func @ragged_ta
// CHECK: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1, 1;
// CHECK-NOT: !llvm.ptr<3> -> vector<4xi32>
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : vector<2xbf16>, !llvm.ptr<1>
// CHECK: kestrel.gemm_mma = "wgmma", kestrel.gemm_plan = #kestrel.gemm_plan<tileM = 128, tileN = 128, tileK = 64, warpsM = 8, warpsN = 1, stages = 3, splitK = 1, operandType = bf16, aKMajor = false, bKMajor = false>
func.func @ragged_ta(%a: tensor<72x200xbf16>, %b: tensor<72x300xbf16>) -> tensor<200x300xbf16> {
  %zero = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<200x300xbf16>
  %c = linalg.fill ins(%zero : bf16) outs(%e : tensor<200x300xbf16>) -> tensor<200x300xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>,
                                        affine_map<(m, n, k) -> (k, n)>,
                                        affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<72x200xbf16>, tensor<72x300xbf16>) outs(%c : tensor<200x300xbf16>) {
  ^bb0(%x: bf16, %y: bf16, %acc: bf16):
    %p = arith.mulf %x, %y : bf16
    %s = arith.addf %acc, %p : bf16
    linalg.yield %s : bf16
  } -> tensor<200x300xbf16>
  return %r : tensor<200x300xbf16>
}
