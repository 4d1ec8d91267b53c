// RUN: kestrel-opt %s --pass-pipeline='builtin.module(func.func(kestrel-read-only-arguments))' | FileCheck %s
// RUN: kestrel-opt %s --pass-pipeline='builtin.module(func.func(kestrel-read-only-arguments),one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map})' | FileCheck %s --check-prefix=BUF

// Tensor arguments of public functions become read-only (an explicit
// attribute is kept; private functions and non-tensor arguments are not
// touched), so bufferization copies the argument instead of updating the
// caller's buffer in place.
// CHECK-LABEL: func.func @update(%{{.*}}: tensor<4x8xf32> {bufferization.writable = false}, %{{.*}}: tensor<4x2xf32> {bufferization.writable = false}, %{{.*}}: index)
// BUF-LABEL: func.func @update(
// BUF-SAME: %[[X:[a-z0-9]+]]: memref<4x8xf32>
// BUF: %[[COPY:.*]] = memref.alloc() {{.*}}: memref<4x8xf32>
// BUF: memref.copy %[[X]], %[[COPY]]
// BUF: memref.subview %[[COPY]]
func.func @update(%x: tensor<4x8xf32>, %y: tensor<4x2xf32>, %i: index) -> tensor<4x8xf32> {
  %r = tensor.insert_slice %y into %x[0, 5] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @kept(%{{.*}}: tensor<4xf32> {bufferization.writable = true})
func.func @kept(%x: tensor<4xf32> {bufferization.writable = true}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// CHECK-LABEL: func.func private @helper(%{{.*}}: tensor<4xf32>) -> tensor<4xf32> {
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// A tensor returned twice (and an argument returned twice): each repeat
// becomes a copy into a fresh tensor, so every result has its own buffer
// (buffer-results-to-out-params crashed on the repeated value).
// CHECK-LABEL: func.func @twice(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<4xf32>
// CHECK: %[[R:.*]] = linalg.add
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[C1:.*]] = linalg.copy ins(%[[R]] : tensor<4xf32>) outs(%[[E1]] : tensor<4xf32>)
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[C2:.*]] = linalg.copy ins(%[[A]] : tensor<4xf32>) outs(%[[E2]] : tensor<4xf32>)
// CHECK: return %[[R]], %[[C1]], %[[A]], %[[C2]]
func.func @twice(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.add ins(%a, %a : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %r, %r, %a, %a : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
