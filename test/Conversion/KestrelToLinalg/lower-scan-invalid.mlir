// RUN: kestrel-opt %s --kestrel-lower-to-linalg -split-input-file -verify-diagnostics

// Dynamic shapes are left to the pass, which reports them.
func.func @scan_dynamic(%x: tensor<1x2x?xf32>, %a: tensor<2x3xf32>, %b: tensor<1x3x?xf32>) -> (tensor<1x2x?xf32>, tensor<1x2x3xf32>) {
  // expected-error @+1 {{the reference lowering needs static shapes; specialize dynamic dimensions first}}
  %y, %h = kestrel.selective_scan %x, %x, %a, %b, %b : tensor<1x2x?xf32>, tensor<1x2x?xf32>, tensor<2x3xf32>, tensor<1x3x?xf32>, tensor<1x3x?xf32> -> tensor<1x2x?xf32>, tensor<1x2x3xf32>
  return %y, %h : tensor<1x2x?xf32>, tensor<1x2x3xf32>
}

// -----

func.func @conv_dynamic(%x: tensor<1x2x?xf32>, %w: tensor<2x4xf32>) -> (tensor<1x2x?xf32>, tensor<1x2x3xf32>) {
  // expected-error @+1 {{the reference lowering needs static shapes; specialize dynamic dimensions first}}
  %y, %s = kestrel.causal_conv1d %x, %w activation = none : tensor<1x2x?xf32>, tensor<2x4xf32> -> tensor<1x2x?xf32>, tensor<1x2x3xf32>
  return %y, %s : tensor<1x2x?xf32>, tensor<1x2x3xf32>
}
