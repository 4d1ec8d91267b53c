// RUN: kestrel-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kestrel-gpu-row-kernels))' | FileCheck %s

// RMSNorm after fusion: a residual add, the sum of squares over the row,
// the scaling. One block per row; the sum is the only reduction; the add is
// written (returned) and the normalized row is written; row of 512 f32:
// 4-lane chunks, 128 chunks over 64 threads, 2 per thread.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @rms_norm
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK-COUNT-2: vector.load {{.*}} : memref<16x512xf32>, vector<4xf32>
// CHECK: gpu.all_reduce add {{.*}} uniform
// CHECK: math.rsqrt
// CHECK: vector.store {{.*}} : memref<16x512xf32>, vector<4xf32>
// CHECK: kestrel.row_plan = #kestrel.row_plan<kind = "rows", threads = 64, vector = 4, perThread = 2, ops = 3>
// CHECK-NOT: gpu.launch
func.func @rms_norm(%x: tensor<16x512xf32>, %r: tensor<16x512xf32>, %w: tensor<512xf32>) -> (tensor<16x512xf32>, tensor<16x512xf32>) {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 512.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %e = tensor.empty() : tensor<16x512xf32>
  %h = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %r : tensor<16x512xf32>, tensor<16x512xf32>) outs(%e : tensor<16x512xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<16x512xf32>
  %e1 = tensor.empty() : tensor<16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e1 : tensor<16xf32>) -> tensor<16xf32>
  %ss = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%h : tensor<16x512xf32>) outs(%f : tensor<16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %sq, %acc : f32
    linalg.yield %s : f32
  } -> tensor<16xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%h, %ss, %w : tensor<16x512xf32>, tensor<16xf32>, tensor<512xf32>) outs(%e : tensor<16x512xf32>) {
  ^bb0(%a: f32, %s: f32, %g: f32, %o: f32):
    %m = arith.divf %s, %n : f32
    %me = arith.addf %m, %eps : f32
    %rs = math.rsqrt %me : f32
    %t = arith.mulf %a, %rs : f32
    %u = arith.mulf %t, %g : f32
    linalg.yield %u : f32
  } -> tensor<16x512xf32>
  return %h, %y : tensor<16x512xf32>, tensor<16x512xf32>
}

// -----

// Softmax over rows of 1000 (not a multiple of 4 lanes... of 8: 4 lanes):
// max, exp, sum, divide in one kernel; only the probabilities are written.
// 250 chunks over 64 threads: 4 per thread, the last partly past the row.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @softmax
// CHECK: gpu.launch
// CHECK: gpu.all_reduce maxnumf {{.*}} uniform
// CHECK: math.exp
// CHECK: gpu.all_reduce add {{.*}} uniform
// CHECK: arith.divf
// CHECK: scf.if
// CHECK: vector.store
// CHECK: kestrel.row_plan = #kestrel.row_plan<kind = "rows", threads = 64, vector = 4, perThread = 4, ops = 4>
// CHECK-NOT: gpu.launch
func.func @softmax(%x: tensor<8x1000xf32>) -> tensor<8x1000xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<8xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<8xf32>) -> tensor<8xf32>
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<8x1000xf32>) outs(%fm : tensor<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.maxnumf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %e = tensor.empty() : tensor<8x1000xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<8x1000xf32>, tensor<8xf32>) outs(%e : tensor<8x1000xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %x2 = math.exp %d : f32
    linalg.yield %x2 : f32
  } -> tensor<8x1000xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%e1 : tensor<8xf32>) -> tensor<8xf32>
  %s = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%p : tensor<8x1000xf32>) outs(%fs : tensor<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %a, %acc : f32
    linalg.yield %t : f32
  } -> tensor<8xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %s : tensor<8x1000xf32>, tensor<8xf32>) outs(%e : tensor<8x1000xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %q = arith.divf %a, %b : f32
    linalg.yield %q : f32
  } -> tensor<8x1000xf32>
  return %y : tensor<8x1000xf32>
}

// -----

// SiLU(gate) * up: 256-thread blocks, 4 elements (one 16-byte access) per
// thread: 2048 x 1408 / 4 / 256 = 2816 blocks.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @silu_mul
// CHECK: %[[BLOCKS:.*]] = arith.constant 2816 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]]
// CHECK-COUNT-2: vector.load {{.*}} : memref<2048x1408xf32>, vector<4xf32>
// CHECK-COUNT-4: math.exp
// CHECK: vector.store {{.*}} : memref<2048x1408xf32>, vector<4xf32>
// CHECK: kestrel.row_plan = #kestrel.row_plan<kind = "elementwise", threads = 256, vector = 4, perThread = 1, ops = 1>
func.func @silu_mul(%g: tensor<2048x1408xf32>, %u: tensor<2048x1408xf32>) -> tensor<2048x1408xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2048x1408xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g, %u : tensor<2048x1408xf32>, tensor<2048x1408xf32>) outs(%e : tensor<2048x1408xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %n = arith.negf %a : f32
    %x = math.exp %n : f32
    %d = arith.addf %x, %one : f32
    %s = arith.divf %a, %d : f32
    %m = arith.mulf %s, %b : f32
    linalg.yield %m : f32
  } -> tensor<2048x1408xf32>
  return %y : tensor<2048x1408xf32>
}

// -----

// A transpose: the input's last dim is not the innermost loop, so it is read
// element by element; the output is still written in 4-lane vectors.
#in = affine_map<(d0, d1) -> (d1, d0)>
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @transpose
// CHECK: gpu.launch
// CHECK-COUNT-4: memref.load {{.*}} : memref<64x32xf32>
// CHECK: vector.store {{.*}} : memref<32x64xf32>, vector<4xf32>
// CHECK: kestrel.row_plan = #kestrel.row_plan<kind = "elementwise", threads = 256, vector = 4, perThread = 1, ops = 1>
func.func @transpose(%x: tensor<64x32xf32>) -> tensor<32x64xf32> {
  %e = tensor.empty() : tensor<32x64xf32>
  %y = linalg.generic {indexing_maps = [#in, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x32xf32>) outs(%e : tensor<32x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<32x64xf32>
  return %y : tensor<32x64xf32>
}

// -----

// A short reduction (rows of 16, under min-row): one thread per output
// element and a sequential loop; 64 x 32 outputs in blocks of 256.
#in = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @short_rows
// CHECK: gpu.launch
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.addf
// CHECK: kestrel.row_plan = #kestrel.row_plan<kind = "serial", threads = 256, vector = 1, perThread = 16, ops = 1>
func.func @short_rows(%x: tensor<64x32x16xf32>) -> tensor<64x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x32xf32>) -> tensor<64x32xf32>
  %y = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : tensor<64x32x16xf32>) outs(%f : tensor<64x32xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<64x32xf32>
  return %y : tensor<64x32xf32>
}
