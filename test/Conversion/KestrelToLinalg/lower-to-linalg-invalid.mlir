// RUN: kestrel-opt %s --kestrel-lower-to-linalg -verify-diagnostics

func.func @dynamic(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  // expected-error @+1 {{the reference lowering needs static shapes; specialize dynamic dimensions first}}
  %o = kestrel.attention %q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x?x8xf32>
  return %o : tensor<1x4x?x8xf32>
}
