// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile))" | FileCheck %s
// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile{denoise-lanes=12}))" | FileCheck %s --check-prefix=TWELVE
// RUN: not kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile{denoise-lanes=0}))" 2>&1 | FileCheck %s --check-prefix=BAD

// The vocabulary block of the one-pass denoise step: 16 entries per vector
// step by default; 12 rounds down to 8; a vocabulary of 5 caps it at 4.
// CHECK-LABEL: func @step
// CHECK: kestrel.denoise_step {{.*}} {kestrel.tile = #kestrel.vocab_block<16>}
// CHECK: kestrel.denoise_step {{.*}} {kestrel.tile = #kestrel.vocab_block<4>}
// CHECK: kestrel.denoise_step {{.*}} {kestrel.tile = #kestrel.vocab_block<32>}
// TWELVE-LABEL: func @step
// TWELVE: kestrel.denoise_step {{.*}} {kestrel.tile = #kestrel.vocab_block<8>}
// TWELVE: kestrel.denoise_step {{.*}} {kestrel.tile = #kestrel.vocab_block<4>}
// BAD: kestrel-tile: denoise-lanes must be > 0
func.func @step(%l: tensor<1x4x100xf32>, %s: tensor<1x4x5xf32>, %t: tensor<1x4xi64>)
    -> (tensor<1x4xi64>, tensor<1x4xi64>, tensor<1x4xi64>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 1
      : tensor<1x4x100xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  %n2, %c2 = kestrel.denoise_step %s, %t mask_id = 1000 top_k = 1
      : tensor<1x4x5xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  // An existing tile is kept.
  %n3, %c3 = kestrel.denoise_step %l, %t mask_id = 1000 top_k = 1 {kestrel.tile = #kestrel.vocab_block<32>}
      : tensor<1x4x100xf32>, tensor<1x4xi64> -> tensor<1x4xi64>, tensor<1x4xf32>
  return %n, %n2, %n3 : tensor<1x4xi64>, tensor<1x4xi64>, tensor<1x4xi64>
}
