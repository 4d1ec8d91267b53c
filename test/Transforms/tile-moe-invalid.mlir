// RUN: not kestrel-opt %s --pass-pipeline="builtin.module(func.func(kestrel-tile{moe-rows=0}))" 2>&1 | FileCheck %s

// CHECK: kestrel-tile: moe-rows must be > 0 and moe-cols >= 0
func.func @f(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  return %x : tensor<4x16xf32>
}
