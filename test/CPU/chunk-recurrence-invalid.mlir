// RUN: kestrel-opt %s --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(func.func(kestrel-fuse-io-aware))"
// RUN: not kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile{chunk-size=0}))" 2>&1 | FileCheck %s --check-prefix=OPTION

// OPTION: kestrel-tile: block sizes must be >= 0, cache-kib and chunk-size > 0

func.func @valid(%q: tensor<1x1x4x8xf32>) -> (tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = none
      : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
  return %o, %s : tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
}

// -----

// A chunk length of 0 is rejected when the IR is read, before any pass.

func.func @zero_chunk(%q: tensor<1x1x4x8xf32>) -> (tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>) {
  // expected-error @+1 {{#kestrel.chunk: the chunk length must be positive, got 0}}
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = none {kestrel.chunk = #kestrel.chunk<0>}
      : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
  return %o, %s : tensor<1x1x4x8xf32>, tensor<1x1x8x8xf32>
}
