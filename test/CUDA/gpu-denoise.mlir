// RUN: kestrel-opt %s --kestrel-gpu-denoise --split-input-file | FileCheck %s

// Greedy top-n over bf16 logits: V = 1024 is a multiple of 8, so the stats
// kernel reads 16-byte vectors of 8 bf16; one block of 256 threads per
// position (2 x 64 = 128), then one select block per batch row with the
// row's 64 confidences staged in shared memory.
// CHECK-LABEL: func @greedy_top_k
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c128{{.*}}, {{.*}} = %c1{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c256
// CHECK-SAME: workgroup(%{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<256xi64, #gpu.address_space<workgroup>>)
// CHECK: vector.load %{{.*}} : memref<2x64x1024xbf16>, vector<8xbf16>
// CHECK: math.exp
// CHECK: gpu.barrier
// CHECK: } {kestrel.denoise_kernel = "stats", kestrel.vector = 8 : i64}
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}) threads({{.*}}) in ({{.*}} = %c64
// CHECK-SAME: workgroup(%{{.*}} : memref<64xf32, #gpu.address_space<workgroup>>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpi slt, %{{.*}}, %c2_i64
// CHECK: } {kestrel.denoise_kernel = "select"}
// CHECK-NOT: kestrel.denoise_step
func.func @greedy_top_k(%l: tensor<2x64x1024xbf16>, %t: tensor<2x64xi64>) -> (tensor<2x64xi64>, tensor<2x64xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 126336 top_k = 2 : tensor<2x64x1024xbf16>, tensor<2x64xi64> -> tensor<2x64xi64>, tensor<2x64xf32>
  return %n, %c : tensor<2x64xi64>, tensor<2x64xf32>
}

// -----

// Temperature sampling: the threads also carry the f64 noisy score and its
// index (two more shared arrays), hashed by splitmix64; V = 1001 is not a
// multiple of 4, so the f32 loads are scalar.
// CHECK-LABEL: func @sampled_threshold
// CHECK: gpu.launch
// CHECK-SAME: memref<256xf64, #gpu.address_space<workgroup>>, %{{.*}} : memref<256xi64, #gpu.address_space<workgroup>>)
// CHECK: arith.constant -7046029254386353131 : i64
// CHECK: math.log %{{.*}} : f64
// CHECK: } {kestrel.denoise_kernel = "stats", kestrel.vector = 1 : i64}
// CHECK: arith.constant 0.899999976 : f32
// CHECK: } {kestrel.denoise_kernel = "select"}
func.func @sampled_threshold(%l: tensor<1x16x1001xf32>, %t: tensor<1x16xi64>) -> (tensor<1x16xi64>, tensor<1x16xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 5 threshold = 0.9 block = [4, 8] temperature = 0.7 seed = 42 : tensor<1x16x1001xf32>, tensor<1x16xi64> -> tensor<1x16xi64>, tensor<1x16xf32>
  return %n, %c : tensor<1x16xi64>, tensor<1x16xf32>
}

// -----

// Dynamic shapes keep the reference lowering.
// CHECK-LABEL: func @dynamic
// CHECK-NOT: gpu.launch
// CHECK: kestrel.denoise_step
func.func @dynamic(%l: tensor<?x?x?xf16>, %t: tensor<?x?xi64>) -> (tensor<?x?xi64>, tensor<?x?xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 0 top_k = 1 : tensor<?x?x?xf16>, tensor<?x?xi64> -> tensor<?x?xi64>, tensor<?x?xf32>
  return %n, %c : tensor<?x?xi64>, tensor<?x?xf32>
}
