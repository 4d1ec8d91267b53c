// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s

// kestrel-recognize, attention: softmax([mask]([scale] Q @ K^T)) @ V in plain
// linalg/tensor/arith becomes kestrel.attention; near misses stay as they are.

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @causal_mul(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<1x2x4x8xf32>, %[[K:[^:]*]]: tensor<1x2x4x8xf32>, %[[V:[^:]*]]: tensor<1x2x4x8xf32>
// CHECK: %[[A:.*]] = kestrel.attention %[[Q]], %[[K]], %[[V]] causal scale = 0.353553385 : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
// CHECK-NOT: linalg
// CHECK: return %[[A]]
func.func @causal_mul(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<1x2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xf32>) outs(%kt0 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) outs(%f0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf32>) outs(%ls0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %out: f32):
    %s = arith.constant 0.353553385 : f32
    %r = arith.mulf %x0, %s : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %mask = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %lm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %lm = linalg.generic {indexing_maps = [#id, #ts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ls, %mask : tensor<1x2x4x4xf32>, tensor<4x4xf32>) outs(%lm0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %x1: f32, %out: f32):
    %r = arith.addf %x0, %x1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xf32>) outs(%sm0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%f1 : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %res : tensor<1x2x4x8xf32>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @div_unmasked(
// CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} scale = 2.500000e-01 :
// CHECK-NOT: causal
func.func @div_unmasked(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %four = arith.constant dense<4.0> : tensor<f32>
  %kt0 = tensor.empty() : tensor<1x2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xf32>) outs(%kt0 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) outs(%f0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l, %four : tensor<1x2x4x4xf32>, tensor<f32>) outs(%ls0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %x1: f32, %out: f32):
    %r = arith.divf %x0, %x1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p = linalg.softmax dimension(3) ins(%ls : tensor<1x2x4x4xf32>) outs(%sm0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%f1 : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %res : tensor<1x2x4x8xf32>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @wrong_mask(
// CHECK-NOT: kestrel.attention
// CHECK: linalg.softmax
func.func @wrong_mask(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<1x2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xf32>) outs(%kt0 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) outs(%f0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf32>) outs(%ls0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %out: f32):
    %s = arith.constant 0.353553385 : f32
    %r = arith.mulf %x0, %s : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %mask = arith.constant dense<[[0.0, 0.0, 0.0, 0.0], [0xFF800000, 0.0, 0.0, 0.0], [0xFF800000, 0xFF800000, 0.0, 0.0], [0xFF800000, 0xFF800000, 0xFF800000, 0.0]]> : tensor<4x4xf32>
  %lm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %lm = linalg.generic {indexing_maps = [#id, #ts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ls, %mask : tensor<1x2x4x4xf32>, tensor<4x4xf32>) outs(%lm0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %x1: f32, %out: f32):
    %r = arith.addf %x0, %x1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xf32>) outs(%sm0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%f1 : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %res : tensor<1x2x4x8xf32>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @runtime_scale(
// CHECK-NOT: kestrel.attention
// CHECK: linalg.softmax
func.func @runtime_scale(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %sc: f32) -> tensor<1x2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<1x2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xf32>) outs(%kt0 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) outs(%f0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf32>) outs(%ls0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %out: f32):
    %r = arith.mulf %x0, %sc : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p = linalg.softmax dimension(3) ins(%ls : tensor<1x2x4x4xf32>) outs(%sm0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%f1 : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %res : tensor<1x2x4x8xf32>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @wrong_transpose(
// CHECK-NOT: kestrel.attention
// CHECK: linalg.softmax
func.func @wrong_transpose(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<2x2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<2x2x4x8xf32>) outs(%kt0 : tensor<2x2x8x4xf32>) permutation = [1, 0, 3, 2]
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<2x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<2x2x4x8xf32>, tensor<2x2x8x4xf32>) outs(%f0 : tensor<2x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<2x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<2x2x4x4xf32>) outs(%ls0 : tensor<2x2x4x4xf32>) {
  ^bb0(%x0: f32, %out: f32):
    %s = arith.constant 0.353553385 : f32
    %r = arith.mulf %x0, %s : f32
    linalg.yield %r : f32
  } -> tensor<2x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<2x2x4x4xf32>
  %p = linalg.softmax dimension(3) ins(%ls : tensor<2x2x4x4xf32>) outs(%sm0 : tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %e1 = tensor.empty() : tensor<2x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) outs(%f1 : tensor<2x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x4x8xf32>
  return %res : tensor<2x2x4x8xf32>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @select_mask(
// CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} causal scale = 0.353553385
// CHECK-NOT: arith.select
func.func @select_mask(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<1x2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xf32>) outs(%kt0 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) outs(%f0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf32>) outs(%ls0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %out: f32):
    %s = arith.constant 0.353553385 : f32
    %r = arith.mulf %x0, %s : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %cond = arith.constant dense<[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]> : tensor<4x4xi1>
  %ninf = arith.constant dense<0xFF800000> : tensor<f32>
  %lm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %lm = linalg.generic {indexing_maps = [#ts, #id, #sc, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%cond, %ls, %ninf : tensor<4x4xi1>, tensor<1x2x4x4xf32>, tensor<f32>) outs(%lm0 : tensor<1x2x4x4xf32>) {
  ^bb0(%c: i1, %x: f32, %n: f32, %out: f32):
    %r = arith.select %c, %x, %n : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xf32>) outs(%sm0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%f1 : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %res : tensor<1x2x4x8xf32>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

#rep = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>

// CHECK-LABEL: func.func @gqa_repeat_kv(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<1x2x4x8xf32>, %[[K:[^:]*]]: tensor<1x1x4x8xf32>, %[[V:[^:]*]]: tensor<1x1x4x8xf32>
// CHECK: kestrel.attention %[[Q]], %[[K]], %[[V]] causal scale = 0.353553385 : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x2x4x8xf32>
func.func @gqa_repeat_kv(%q: tensor<1x2x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %ku = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [1, 1, 1, 4, 8] : tensor<1x1x4x8xf32> into tensor<1x1x1x4x8xf32>
  %ke0 = tensor.empty() : tensor<1x1x2x4x8xf32>
  %ke = linalg.generic {indexing_maps = [#rep, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%ku : tensor<1x1x1x4x8xf32>) outs(%ke0 : tensor<1x1x2x4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x1x2x4x8xf32>
  %kr = tensor.collapse_shape %ke [[0], [1, 2], [3], [4]] : tensor<1x1x2x4x8xf32> into tensor<1x2x4x8xf32>
  %vu = tensor.expand_shape %v [[0], [1, 2], [3], [4]] output_shape [1, 1, 1, 4, 8] : tensor<1x1x4x8xf32> into tensor<1x1x1x4x8xf32>
  %ve0 = tensor.empty() : tensor<1x1x2x4x8xf32>
  %ve = linalg.generic {indexing_maps = [#rep, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%vu : tensor<1x1x1x4x8xf32>) outs(%ve0 : tensor<1x1x2x4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x1x2x4x8xf32>
  %vr = tensor.collapse_shape %ve [[0], [1, 2], [3], [4]] : tensor<1x1x2x4x8xf32> into tensor<1x2x4x8xf32>
  %kt0 = tensor.empty() : tensor<1x2x8x4xf32>
  %kt = linalg.transpose ins(%kr : tensor<1x2x4x8xf32>) outs(%kt0 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) outs(%f0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf32>) outs(%ls0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %out: f32):
    %s = arith.constant 0.353553385 : f32
    %r = arith.mulf %x0, %s : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %mask = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %lm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %lm = linalg.generic {indexing_maps = [#id, #ts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ls, %mask : tensor<1x2x4x4xf32>, tensor<4x4xf32>) outs(%lm0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %x1: f32, %out: f32):
    %r = arith.addf %x0, %x1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xf32>) outs(%sm0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vr : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%f1 : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %res : tensor<1x2x4x8xf32>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// PyTorch SDPA's NaN guard after the softmax, select(isnan(p), 0, p), is
// dropped with the causal mask (no fully masked row).
// CHECK-LABEL: func.func @causal_nan_guard(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<1x2x4x8xf32>, %[[K:[^:]*]]: tensor<1x2x4x8xf32>, %[[V:[^:]*]]: tensor<1x2x4x8xf32>
// CHECK: %[[A:.*]] = kestrel.attention %[[Q]], %[[K]], %[[V]] causal scale = 0.353553385 : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
// CHECK-NOT: linalg
// CHECK: return %[[A]]
func.func @causal_nan_guard(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<1x2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xf32>) outs(%kt0 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) outs(%f0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf32>) outs(%ls0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %out: f32):
    %s = arith.constant 0.353553385 : f32
    %r = arith.mulf %x0, %s : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %mask = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %lm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %lm = linalg.generic {indexing_maps = [#id, #ts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ls, %mask : tensor<1x2x4x4xf32>, tensor<4x4xf32>) outs(%lm0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %x1: f32, %out: f32):
    %r = arith.addf %x0, %x1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p0 = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xf32>) outs(%sm0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %nan0 = tensor.empty() : tensor<1x2x4x4xi1>
  %nan = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%p0 : tensor<1x2x4x4xf32>) outs(%nan0 : tensor<1x2x4x4xi1>) {
  ^bb0(%x0: f32, %out: i1):
    %r = arith.cmpf uno, %x0, %x0 : f32
    linalg.yield %r : i1
  } -> tensor<1x2x4x4xi1>
  %zt = arith.constant dense<0.0> : tensor<f32>
  %g0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p = linalg.generic {indexing_maps = [#id, #sc, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%nan, %zt, %p0 : tensor<1x2x4x4xi1>, tensor<f32>, tensor<1x2x4x4xf32>) outs(%g0 : tensor<1x2x4x4xf32>) {
  ^bb0(%c: i1, %z: f32, %x0: f32, %out: f32):
    %r = arith.select %c, %z, %x0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%f1 : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %res : tensor<1x2x4x8xf32>
}

// -----


#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

#rep = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>

// PyTorch SDPA's form (dynamo exports): Q and K^T each scaled by a constant
// (0.5 · 0.5 · 0.354 overall), K^T as expand(transpose(collapse(repeat_kv's
// broadcast to [B·H, S, D]), [0, 2, 1])).
// CHECK-LABEL: func.func @sdpa_flat_k(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<1x2x4x8xf32>, %[[K:[^:]*]]: tensor<1x1x4x8xf32>, %[[V:[^:]*]]: tensor<1x1x4x8xf32>
// CHECK: kestrel.attention %[[Q]], %[[K]], %[[V]] causal scale = 0.0883883461 : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x2x4x8xf32>
func.func @sdpa_flat_k(%q: tensor<1x2x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %ku = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [1, 1, 1, 4, 8] : tensor<1x1x4x8xf32> into tensor<1x1x1x4x8xf32>
  %ke0 = tensor.empty() : tensor<1x1x2x4x8xf32>
  %ke = linalg.generic {indexing_maps = [#rep, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%ku : tensor<1x1x1x4x8xf32>) outs(%ke0 : tensor<1x1x2x4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x1x2x4x8xf32>
  %kf = tensor.collapse_shape %ke [[0, 1, 2], [3], [4]] : tensor<1x1x2x4x8xf32> into tensor<2x4x8xf32>
  %vu = tensor.expand_shape %v [[0], [1, 2], [3], [4]] output_shape [1, 1, 1, 4, 8] : tensor<1x1x4x8xf32> into tensor<1x1x1x4x8xf32>
  %ve0 = tensor.empty() : tensor<1x1x2x4x8xf32>
  %ve = linalg.generic {indexing_maps = [#rep, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%vu : tensor<1x1x1x4x8xf32>) outs(%ve0 : tensor<1x1x2x4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x1x2x4x8xf32>
  %vr = tensor.collapse_shape %ve [[0], [1, 2], [3], [4]] : tensor<1x1x2x4x8xf32> into tensor<1x2x4x8xf32>
  %kft0 = tensor.empty() : tensor<2x8x4xf32>
  %kft = linalg.transpose ins(%kf : tensor<2x4x8xf32>) outs(%kft0 : tensor<2x8x4xf32>) permutation = [0, 2, 1]
  %ktu = tensor.expand_shape %kft [[0, 1], [2], [3]] output_shape [1, 2, 8, 4] : tensor<2x8x4xf32> into tensor<1x2x8x4xf32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %kt0 = tensor.empty() : tensor<1x2x8x4xf32>
  %kt = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ktu, %half : tensor<1x2x8x4xf32>, tensor<f32>) outs(%kt0 : tensor<1x2x8x4xf32>) {
  ^bb0(%x0: f32, %x1: f32, %out: f32):
    %r = arith.mulf %x0, %x1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x4xf32>
  %qs0 = tensor.empty() : tensor<1x2x4x8xf32>
  %qs = linalg.generic {indexing_maps = [#sc, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%half, %q : tensor<f32>, tensor<1x2x4x8xf32>) outs(%qs0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x1: f32, %x0: f32, %out: f32):
    %r = arith.mulf %x1, %x0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%qs, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) outs(%f0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf32>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf32>) outs(%ls0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %out: f32):
    %s = arith.constant 0.353553385 : f32
    %r = arith.mulf %x0, %s : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %mask = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %lm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %lm = linalg.generic {indexing_maps = [#id, #ts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ls, %mask : tensor<1x2x4x4xf32>, tensor<4x4xf32>) outs(%lm0 : tensor<1x2x4x4xf32>) {
  ^bb0(%x0: f32, %x1: f32, %out: f32):
    %r = arith.addf %x0, %x1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf32>
  %p = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xf32>) outs(%sm0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vr : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) outs(%f1 : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %res : tensor<1x2x4x8xf32>
}
