// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-fuse-io-aware))" | FileCheck %s

// Greedy step, V = 40 = 2·16 + 8: one scf.forall over the (b, p) pairs; in
// each, an scf.for over the two full groups of 16 vocabulary entries
// carrying the lanes' (max, sum, argmax), then the last group read with
// -inf padding (not in bounds), then the lanes combined (max, first index
// at the max, rescaled sum). The selection stage follows (the rank's
// reduction over positions).
// CHECK-LABEL: func @greedy
// CHECK-NOT: kestrel.denoise_step
// CHECK: scf.forall ({{.*}}) in (2, 8) shared_outs({{.*}}) -> (tensor<2x8xi64>, tensor<2x8xf32>)
// CHECK:   scf.for {{.*}} to %c32 step %c16 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xi64>)
// CHECK:     vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<2x8x40xbf16>, vector<16xbf16>
// CHECK:     arith.extf
// CHECK:     math.exp
// CHECK:   } {kestrel.denoise_one_pass}
// CHECK:   vector.transfer_read %arg0[{{.*}}, %c32], {{[^{]*}} : tensor<2x8x40xbf16>, vector<16xbf16>
// CHECK:   vector.reduction <maximumf>
// CHECK:   vector.reduction <minsi>
// CHECK:   vector.reduction <add>
// CHECK: } {kestrel.tile = #kestrel.vocab_block<16>}
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
func.func @greedy(%l: tensor<2x8x40xbf16>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 2
      : tensor<2x8x40xbf16>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

// V = 32: only whole groups, no padded read.
// CHECK-LABEL: func @whole_groups
// CHECK: } {kestrel.denoise_one_pass}
// CHECK-NOT: vector.transfer_read
// CHECK: kestrel.tile = #kestrel.vocab_block<16>
func.func @whole_groups(%l: tensor<1x4x32xf32>, %t: tensor<1x4xi64>) -> (tensor<1x4xi64>, tensor<1x4xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 threshold = 0.9
      : tensor<1x4x32xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %c : tensor<1x4xi64>, tensor<1x4xf32>
}

// -----

// Temperature sampling keeps the reference two-pass form (left to
// kestrel-lower-to-linalg).
// CHECK-LABEL: func @sampled
// CHECK: kestrel.denoise_step
// CHECK-NOT: scf.forall
func.func @sampled(%l: tensor<1x4x32xf32>, %t: tensor<1x4xi64>) -> (tensor<1x4xi64>, tensor<1x4xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 1 temperature = 0.5 seed = 7
      : tensor<1x4x32xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %c : tensor<1x4xi64>, tensor<1x4xf32>
}

// -----

// The vocabulary block recorded by kestrel-tile sets the lanes: 8 here,
// V = 20 = 2·8 + 4.
// CHECK-LABEL: func @recorded_block
// CHECK: scf.for {{.*}} to %c16 step %c8 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xi64>)
// CHECK: } {kestrel.denoise_one_pass}
// CHECK: vector.transfer_read %arg0[{{.*}}, %c16], {{[^{]*}} : tensor<1x4x20xf32>, vector<8xf32>
// CHECK: } {kestrel.tile = #kestrel.vocab_block<8>}
func.func @recorded_block(%l: tensor<1x4x20xf32>, %t: tensor<1x4xi64>) -> (tensor<1x4xi64>, tensor<1x4xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 1 {kestrel.tile = #kestrel.vocab_block<8>}
      : tensor<1x4x20xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %c : tensor<1x4xi64>, tensor<1x4xf32>
}
