// RUN: kestrel-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(kestrel-read-only-arguments),one-shot-bufferize{bufferize-function-boundaries allow-return-allocs-from-loops function-boundary-type-conversion=identity-layout-map},func.func(kestrel-gpu-scatter))' | FileCheck %s

// A run-time-index ScatterElements (axis 1, reduction none) as the ONNX
// importer writes it: a loop nest over the [16, 2] updates marked
// kestrel.scatter. After bufferization the output is a copy of the data
// (on the host), then one kernel of 32 threads, one per update, each
// storing its update at [i, idx[i, j]] (clamped): no host loop is left.
// CHECK-LABEL: func.func @scatter_none
// CHECK: memref.copy
// CHECK-NOT: scf.for
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c32
// CHECK: scf.if
// CHECK: memref.load %{{.*}} : memref<16x2xi64>
// CHECK: memref.load %{{.*}} : memref<16x2xf32>
// CHECK: memref.store %{{.*}} : memref<16x4xf32>
// CHECK: gpu.terminator
// CHECK: kestrel.scatter = "none"
// CHECK-NOT: scf.for
func.func @scatter_none(%x: tensor<16x4xf32>, %idx: tensor<16x2xi64>,
                        %u: tensor<16x2xf32>) -> tensor<16x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %r = scf.for %i = %c0 to %c16 step %c1 iter_args(%a = %x) -> (tensor<16x4xf32>) {
    %c0_0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c1_1 = arith.constant 1 : index
    %r2 = scf.for %j = %c0_0 to %c2 step %c1_1 iter_args(%b = %a) -> (tensor<16x4xf32>) {
      %v = tensor.extract %idx[%i, %j] : tensor<16x2xi64>
      %vi = arith.index_cast %v : i64 to index
      %lo = arith.constant 0 : index
      %hi = arith.constant 3 : index
      %cl = arith.maxsi %vi, %lo : index
      %d = arith.minsi %cl, %hi : index
      %u0 = tensor.extract %u[%i, %j] : tensor<16x2xf32>
      %old = tensor.extract %b[%i, %d] : tensor<16x4xf32>
      %o = tensor.insert %u0 into %b[%i, %d] : tensor<16x4xf32>
      scf.yield %o : tensor<16x4xf32>
    }
    scf.yield %r2 : tensor<16x4xf32>
  } {kestrel.scatter = "none"}
  return %r : tensor<16x4xf32>
}

// -----

// reduction add over 600 updates (ScatterND-like, one loop): 3 blocks of
// 256 threads with a bounds guard, the load-add-store an atomic add.
// CHECK-LABEL: func.func @scatter_add
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c3{{.*}}) threads({{.*}}) in (%{{.*}} = %c256
// CHECK: arith.cmpi ult
// CHECK: scf.if
// CHECK-NOT: memref.store
// CHECK: memref.atomic_rmw addf %{{.*}} : (f32, memref<8xf32>) -> f32
// CHECK: kestrel.scatter = "add"
func.func @scatter_add(%x: tensor<8xf32>, %idx: tensor<600xi64>,
                       %u: tensor<600xf32>) -> tensor<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 600 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%a = %x) -> (tensor<8xf32>) {
    %v = tensor.extract %idx[%i] : tensor<600xi64>
    %d = arith.index_cast %v : i64 to index
    %u0 = tensor.extract %u[%i] : tensor<600xf32>
    %old = tensor.extract %a[%d] : tensor<8xf32>
    %s = arith.addf %old, %u0 : f32
    %o = tensor.insert %s into %a[%d] : tensor<8xf32>
    scf.yield %o : tensor<8xf32>
  } {kestrel.scatter = "add"}
  return %r : tensor<8xf32>
}

// -----

// reduction max on integers: atomic signed max.
// CHECK-LABEL: func.func @scatter_max_i32
// CHECK: memref.atomic_rmw maxs
func.func @scatter_max_i32(%x: tensor<8xi32>, %idx: tensor<5xi64>,
                           %u: tensor<5xi32>) -> tensor<8xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 5 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%a = %x) -> (tensor<8xi32>) {
    %v = tensor.extract %idx[%i] : tensor<5xi64>
    %d = arith.index_cast %v : i64 to index
    %u0 = tensor.extract %u[%i] : tensor<5xi32>
    %old = tensor.extract %a[%d] : tensor<8xi32>
    %s = arith.maxsi %old, %u0 : i32
    %o = tensor.insert %s into %a[%d] : tensor<8xi32>
    scf.yield %o : tensor<8xi32>
  } {kestrel.scatter = "max"}
  return %r : tensor<8xi32>
}

// -----

// reduction mul has no atomic: refused at the scatter.
func.func @scatter_mul(%x: tensor<8xf32>, %idx: tensor<5xi64>,
                       %u: tensor<5xf32>) -> tensor<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 5 : index
  // expected-error @+1 {{scatter with reduction 'mul' is not supported on cuda targets}}
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%a = %x) -> (tensor<8xf32>) {
    %v = tensor.extract %idx[%i] : tensor<5xi64>
    %d = arith.index_cast %v : i64 to index
    %u0 = tensor.extract %u[%i] : tensor<5xf32>
    %old = tensor.extract %a[%d] : tensor<8xf32>
    %s = arith.mulf %old, %u0 : f32
    %o = tensor.insert %s into %a[%d] : tensor<8xf32>
    scf.yield %o : tensor<8xf32>
  } {kestrel.scatter = "mul"}
  return %r : tensor<8xf32>
}
