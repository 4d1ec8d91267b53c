// RUN: kestrel-opt %s --pass-pipeline='builtin.module(func.func(kestrel-expand-strided-copies))' | FileCheck %s

// A copy out of a strided view becomes linalg.copy (lowered to loops later);
// a copy between contiguous buffers stays a memref.copy (a memcpy).
// CHECK-LABEL: func.func @copies
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x4xf32>, %[[C:.*]]: memref<4x8xf32>)
// CHECK: %[[VIEW:.*]] = memref.subview %[[A]]
// CHECK: linalg.copy ins(%[[VIEW]] : memref<4x4xf32, strided<[8, 1], offset: 2>>) outs(%[[B]] : memref<4x4xf32>)
// CHECK: memref.copy %[[A]], %[[C]] : memref<4x8xf32> to memref<4x8xf32>
// CHECK-NOT: memref.copy
func.func @copies(%a: memref<4x8xf32>, %b: memref<4x4xf32>, %c: memref<4x8xf32>) {
  %view = memref.subview %a[0, 2] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 2>>
  memref.copy %view, %b : memref<4x4xf32, strided<[8, 1], offset: 2>> to memref<4x4xf32>
  memref.copy %a, %c : memref<4x8xf32> to memref<4x8xf32>
  return
}
