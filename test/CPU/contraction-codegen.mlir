// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-cpu-contraction),canonicalize,cse)' | FileCheck %s

// Ragged GEMM with runtime B: a parallel packing loop writes [N/nr, K, nr]
// panels (masked reads past N = 90), then the forall over (M, N) blocks
// runs 8-row tiles of the micro-kernel (8 accumulators vector<32xf32>,
// broadcast A, fma) and single rows for the ragged end; stores are masked.
// Each of the mb / mr = 8 row tiles of a panel prefetches 1/8 of the next
// panel (the panel after it in the block, or the block's first at the next
// K block), 32 / 8 = 4 elements per step, clamped to the packed buffer;
// the ragged rows do not.
// CHECK-LABEL: func.func @gemm
// CHECK: %[[P:.*]] = scf.forall (%{{.*}}) in (3) shared_outs({{.*}}) -> (tensor<3x70x32xf32>)
// CHECK:   vector.transfer_read %{{.*}} : tensor<70x90xf32>, vector<32xf32>
// CHECK:   vector.transfer_write {{.*}} {in_bounds = [true]} : vector<32xf32>, tensor<70x32xf32>
// CHECK: } {kestrel.pack_b}
// CHECK: %[[BUF:.*]] = bufferization.to_buffer %[[P]] read_only
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[BUF]] {{\[\[}}0, 1, 2]] : memref<3x70x32xf32> into memref<6720xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (2, 3) shared_outs
// CHECK:   tensor.extract_slice {{.*}} to tensor<?x?xf32>
// CHECK:   scf.for {{.*}} step %c32
// CHECK:     arith.select
// CHECK:     scf.for {{.*}} step %c8
// CHECK:       scf.for {{.*}} iter_args({{.*}}) -> (vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>)
// CHECK:         %[[AT:.*]] = arith.minui {{.*}}, %c6719
// CHECK:         memref.prefetch %[[FLAT]][%[[AT]]], read, locality<2>, data : memref<6720xf32>
// CHECK:         vector.transfer_read %[[P]]{{.*}} {in_bounds = [true]} : tensor<3x70x32xf32>, vector<32xf32>
// CHECK:         tensor.extract %arg0
// CHECK:         vector.broadcast
// CHECK:         vector.fma
// CHECK:       } {kestrel.micro_kernel, kestrel.prefetch_next_panel = 4 : i64}
// CHECK:       vector.transfer_write {{.*}} : vector<32xf32>, tensor<?x?xf32>
// CHECK:     scf.for {{.*}} step %c1
// CHECK:       -> (vector<32xf32>)
// CHECK-NOT:     memref.prefetch
// CHECK:       } {kestrel.micro_kernel}
// CHECK: } {kestrel.contraction_tile = array<i64: 8, 32>}
func.func @gemm(%a: tensor<100x70xf32>, %b: tensor<70x90xf32>) -> tensor<100x90xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<100x90xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<100x90xf32>) -> tensor<100x90xf32>
  %r = linalg.matmul {kestrel.contraction_config = #kestrel.contraction<path = "gemm", mr = 8, nr = 32, kc = 70, mb = 64, nb = 32, pack_b = "runtime", epilogue = "none">} ins(%a, %b : tensor<100x70xf32>, tensor<70x90xf32>) outs(%f : tensor<100x90xf32>) -> tensor<100x90xf32>
  return %r : tensor<100x90xf32>
}

// -----

// K blocked (kc = 16 of K = 40): an scf.for over the 3 K blocks; the first
// block starts from zero, later ones from the partial sums in the output.
// A constant B is packed at compile time into a new [1, 40, 32] constant.
// CHECK-LABEL: func.func @kblocks
// (One parallel block: canonicalize folds the single-iteration forall.)
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<1x40x32xf32>
// CHECK:   scf.for %[[KB:.*]] = %c0 to %c3 step %c1
// CHECK:     %[[FIRST:.*]] = arith.cmpi eq, %[[KB]], %c0
// CHECK:     scf.if %[[FIRST]] -> (vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>)
// CHECK:     vector.transfer_read %[[W]]
// CHECK:     } {kestrel.micro_kernel}
func.func @kblocks(%a: tensor<4x40xf32>) -> tensor<4x32xf32> {
  %w = arith.constant dense<0.5> : tensor<40x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x32xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x32xf32>) -> tensor<4x32xf32>
  %r = linalg.matmul {kestrel.contraction_config = #kestrel.contraction<path = "gemv", mr = 4, nr = 32, kc = 16, mb = 4, nb = 32, pack_b = "compile_time", epilogue = "none">} ins(%a, %w : tensor<4x40xf32>, tensor<40x32xf32>) outs(%f : tensor<4x32xf32>) -> tensor<4x32xf32>
  return %r : tensor<4x32xf32>
}

// -----

// Fused bias + SiLU epilogue, bf16 operands: A is widened to f32 once in
// front (`kestrel.widen_a`), the panel row in the kernel; the consumer's
// body runs on vector<16> values (bias read along n) and the result is
// stored once, in bf16. The consumer is gone.
// CHECK-LABEL: func.func @fused
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<2x8xbf16>) outs(%{{.*}} : tensor<2x8xf32>) attrs = {kestrel.widen_a}
// CHECK:   arith.extf {{.*}} : bf16 to f32
// CHECK-NOT: linalg.generic
// CHECK: scf.forall ({{.*}}) in (4)
// CHECK:   scf.for
// CHECK:     arith.extf {{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK:     tensor.extract %[[A]]
// CHECK:     vector.fma
// CHECK:   } {kestrel.micro_kernel}
// CHECK:   arith.truncf {{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK:   vector.transfer_read %arg1{{.*}} : tensor<64xbf16>, vector<16xbf16>
// CHECK:   arith.addf {{.*}} : vector<16xbf16>
// CHECK:   math.exp {{.*}} : vector<16xbf16>
// CHECK:   vector.transfer_write {{.*}} : vector<16xbf16>, tensor<2x16xbf16>
// CHECK-NOT: linalg.generic
func.func @fused(%a: tensor<2x8xbf16>, %bias: tensor<64xbf16>, %b: tensor<8x64xbf16>) -> tensor<2x64xbf16> {
  %z = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<2x64xbf16>
  %f = linalg.fill ins(%z : bf16) outs(%e : tensor<2x64xbf16>) -> tensor<2x64xbf16>
  %c = linalg.matmul {kestrel.contraction_config = #kestrel.contraction<path = "gemv", mr = 2, nr = 16, kc = 8, mb = 2, nb = 16, pack_b = "none", epilogue = "fused">} ins(%a, %b : tensor<2x8xbf16>, tensor<8x64xbf16>) outs(%f : tensor<2x64xbf16>) -> tensor<2x64xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : tensor<2x64xbf16>, tensor<64xbf16>) outs(%e : tensor<2x64xbf16>) {
  ^bb0(%x: bf16, %y: bf16, %o: bf16):
    %one = arith.constant 1.0 : bf16
    %s = arith.addf %x, %y : bf16
    %n = arith.negf %s : bf16
    %ex = math.exp %n : bf16
    %d = arith.addf %one, %ex : bf16
    %r = arith.divf %s, %d : bf16
    linalg.yield %r : bf16
  } -> tensor<2x64xbf16>
  return %g : tensor<2x64xbf16>
}


// -----

// GEMV over constant (packed) panels: the micro-kernel prefetches every
// cache line of the panel row 16 KiB ahead into L2 (64 rows of 64 f32,
// clamped to the last row), through a read-only view of the packed
// constant.
// CHECK-LABEL: func.func @gemv_prefetch
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<1x40x64xf32>
// CHECK: %[[BUF:.*]] = bufferization.to_buffer %[[W]] read_only : tensor<1x40x64xf32> to memref<1x40x64xf32>
// CHECK: scf.for %[[K:.*]] = %c0 to %c40 step %c1
// CHECK:   %[[KP:.*]] = arith.addi %[[K]], %c64
// CHECK:   %[[AHEAD:.*]] = arith.minsi %[[KP]], %c39
// CHECK:   memref.prefetch %[[BUF]][%c0, %[[AHEAD]], %c0], read, locality<2>, data
// CHECK:   memref.prefetch %[[BUF]][%c0, %[[AHEAD]], %c16], read, locality<2>, data
// CHECK:   memref.prefetch %[[BUF]][%c0, %[[AHEAD]], %c32], read, locality<2>, data
// CHECK:   memref.prefetch %[[BUF]][%c0, %[[AHEAD]], %c48], read, locality<2>, data
// CHECK:   vector.transfer_read %[[W]]
// CHECK: } {kestrel.micro_kernel}
func.func @gemv_prefetch(%a: tensor<1x40xf32>) -> tensor<1x64xf32> {
  %w = arith.constant dense<0.5> : tensor<40x64xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x64xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x64xf32>) -> tensor<1x64xf32>
  %r = linalg.matmul {kestrel.contraction_config = #kestrel.contraction<path = "gemv", mr = 1, nr = 64, kc = 40, mb = 1, nb = 64, pack_b = "compile_time", epilogue = "none">} ins(%a, %w : tensor<1x40xf32>, tensor<40x64xf32>) outs(%f : tensor<1x64xf32>) -> tensor<1x64xf32>
  return %r : tensor<1x64xf32>
}
