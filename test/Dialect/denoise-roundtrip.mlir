// RUN: kestrel-opt %s | kestrel-opt | FileCheck %s
// RUN: kestrel-opt %s --mlir-print-op-generic | kestrel-opt | FileCheck %s

// CHECK-LABEL: func @top_k
// CHECK: kestrel.denoise_step %{{.*}}, %{{.*}} mask_id = 126336 top_k = 2 : tensor<1x64x1024xbf16>, tensor<1x64xi64> -> tensor<1x64xi64>, tensor<1x64xf32>
func.func @top_k(%l: tensor<1x64x1024xbf16>, %t: tensor<1x64xi64>) -> (tensor<1x64xi64>, tensor<1x64xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 126336 top_k = 2 : tensor<1x64x1024xbf16>, tensor<1x64xi64> -> tensor<1x64xi64>, tensor<1x64xf32>
  return %n, %c : tensor<1x64xi64>, tensor<1x64xf32>
}

// CHECK-LABEL: func @threshold_block
// CHECK: kestrel.denoise_step %{{.*}}, %{{.*}} mask_id = 7 threshold = 0.899999976 block = [32, 32] : tensor<2x128x256xf32>, tensor<2x128xi64> -> tensor<2x128xi64>, tensor<2x128xf32>
func.func @threshold_block(%l: tensor<2x128x256xf32>, %t: tensor<2x128xi64>) -> (tensor<2x128xi64>, tensor<2x128xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 7 threshold = 0.9 block = [32, 32] : tensor<2x128x256xf32>, tensor<2x128xi64> -> tensor<2x128xi64>, tensor<2x128xf32>
  return %n, %c : tensor<2x128xi64>, tensor<2x128xf32>
}

// Dynamic sizes verify; the block bound is checked where L is known.
// CHECK-LABEL: func @dynamic
// CHECK: kestrel.denoise_step %{{.*}}, %{{.*}} mask_id = 0 top_k = 1 block = [0, 8] : tensor<?x?x?xf16>, tensor<?x?xi64> -> tensor<?x?xi64>, tensor<?x?xf32>
func.func @dynamic(%l: tensor<?x?x?xf16>, %t: tensor<?x?xi64>) -> (tensor<?x?xi64>, tensor<?x?xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 0 top_k = 1 block = [0, 8] : tensor<?x?x?xf16>, tensor<?x?xi64> -> tensor<?x?xi64>, tensor<?x?xf32>
  return %n, %c : tensor<?x?xi64>, tensor<?x?xf32>
}

// Temperature sampling with an explicit seed.
// CHECK-LABEL: func @sampled
// CHECK: kestrel.denoise_step %{{.*}}, %{{.*}} mask_id = 5 threshold = 0.899999976 temperature = 0.699999988 seed = 42 : tensor<1x4x32xbf16>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
func.func @sampled(%l: tensor<1x4x32xbf16>, %t: tensor<1x4xi64>) -> (tensor<1x4xi64>, tensor<1x4xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 5 threshold = 0.9 temperature = 0.7 seed = 42 : tensor<1x4x32xbf16>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %c : tensor<1x4xi64>, tensor<1x4xf32>
}
