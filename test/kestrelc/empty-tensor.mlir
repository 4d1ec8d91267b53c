// An entry point with an empty tensor (here the K-1 = 0 state of a conv
// with kernel size 1) is refused with a reason, not compiled into a library
// whose calling convention the manifest would misdescribe.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not kestrelc %s --target=cpu --emit=so -o %t/out.so 2>&1 | FileCheck %s
// RUN: ls %t | count 0

// CHECK: empty-tensor.mlir:[[# @LINE + 1]]:1: error: result #1 has type 'tensor<1x2x0xf32>' with no elements; entry points take non-empty tensors
func.func @conv(%x: tensor<1x2x5xf32>, %w: tensor<2x1xf32>) -> (tensor<1x2x5xf32>, tensor<1x2x0xf32>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = none : tensor<1x2x5xf32>, tensor<2x1xf32> -> tensor<1x2x5xf32>, tensor<1x2x0xf32>
  return %y, %s : tensor<1x2x5xf32>, tensor<1x2x0xf32>
}
