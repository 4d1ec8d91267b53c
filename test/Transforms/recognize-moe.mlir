// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s

// kestrel-recognize, MoE: the dense-mask expert loop Σ_e P_e · expert_e(X)
// over one kestrel.top_k of softmax(L) becomes kestrel.route + kestrel.moe
// with the expert weights stacked; near misses stay.

#id = affine_map<(d0, d1) -> (d0, d1)>
#sc = affine_map<(d0, d1) -> ()>
#row = affine_map<(d0, d1) -> (d0, 0)>
#red = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @moe(
// CHECK-SAME: %[[X:[^:]*]]: tensor<3x2xf32>, %[[L:[^:]*]]: tensor<3x2xf32>
// CHECK-DAG: %[[W1:.*]] = arith.constant dense<{{\[}}[{{\[}}1.000000e+00, 5.000000e-01], [2.500000e-01, 2.000000e+00]], {{\[}}[2.000000e+00, 5.000000e-01], [2.500000e-01, 3.000000e+00]]]> : tensor<2x2x2xf32>
// CHECK: %[[I:.*]], %[[W:.*]] = kestrel.route %[[L]] score = softmax k = 1 : tensor<3x2xf32> -> tensor<3x1xi64>, tensor<3x1xf32>
// CHECK: %[[M:.*]] = kestrel.moe %[[X]], %[[I]], %[[W]] experts(%[[W1]], %{{.*}}, %{{.*}}) : {{.*}} -> tensor<3x2xf32>
// CHECK-NOT: linalg.matmul
// CHECK: return %[[M]]
func.func @moe(%x: tensor<3x2xf32>, %l: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %zero = arith.constant 0.0 : f32
  %fz = arith.constant dense<0.0> : tensor<f32>
  %sm0 = tensor.empty() : tensor<3x2xf32>
  %sm = linalg.softmax dimension(1) ins(%l : tensor<3x2xf32>) outs(%sm0 : tensor<3x2xf32>) -> tensor<3x2xf32>
  %vals, %idx = kestrel.top_k %sm {axis = 1 : i64, k = 1 : i64} : tensor<3x2xf32> -> tensor<3x1xf32>, tensor<3x1xi64>
  %e0 = arith.constant dense<0> : tensor<i64>
  %eq00 = tensor.empty() : tensor<3x1xi1>
  %eq0 = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%idx, %e0 : tensor<3x1xi64>, tensor<i64>) outs(%eq00 : tensor<3x1xi1>) {
  ^bb0(%a: i64, %b: i64, %o: i1):
    %r = arith.cmpi eq, %a, %b : i64
    linalg.yield %r : i1
  } -> tensor<3x1xi1>
  %sel00 = tensor.empty() : tensor<3x1xf32>
  %sel0 = linalg.generic {indexing_maps = [#id, #id, #sc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%eq0, %vals, %fz : tensor<3x1xi1>, tensor<3x1xf32>, tensor<f32>) outs(%sel00 : tensor<3x1xf32>) {
  ^bb0(%c: i1, %a: f32, %b: f32, %o: f32):
    %r = arith.select %c, %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x1xf32>
  %s0e = tensor.empty() : tensor<3xf32>
  %s0f = linalg.fill ins(%zero : f32) outs(%s0e : tensor<3xf32>) -> tensor<3xf32>
  %s0 = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["parallel", "reduction"]}
      ins(%sel0 : tensor<3x1xf32>) outs(%s0f : tensor<3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<3xf32>
  %p0 = tensor.expand_shape %s0 [[0, 1]] output_shape [3, 1] : tensor<3xf32> into tensor<3x1xf32>
  %w1_0 = arith.constant dense<[[1.0, 0.5], [0.25, 2.0]]> : tensor<2x2xf32>
  %w3_0 = arith.constant dense<[[1.0, 0.5], [2.0, 1.0]]> : tensor<2x2xf32>
  %w2_0 = arith.constant dense<[[0.5, 1.0], [1.0, 0.25]]> : tensor<2x2xf32>
  %g0e = tensor.empty() : tensor<3x2xf32>
  %g0f = linalg.fill ins(%zero : f32) outs(%g0e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %g0 = linalg.matmul ins(%x, %w1_0 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%g0f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %u0e = tensor.empty() : tensor<3x2xf32>
  %u0f = linalg.fill ins(%zero : f32) outs(%u0e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %u0 = linalg.matmul ins(%x, %w3_0 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%u0f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %sg00 = tensor.empty() : tensor<3x2xf32>
  %sg0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g0 : tensor<3x2xf32>) outs(%sg00 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %one2 = arith.constant 1.0 : f32
    %dd = arith.addf %one2, %ex : f32
    %r = arith.divf %one, %dd : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %si00 = tensor.empty() : tensor<3x2xf32>
  %si0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g0, %sg0 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%si00 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %h00 = tensor.empty() : tensor<3x2xf32>
  %h0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%si0, %u0 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%h00 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %dn0e = tensor.empty() : tensor<3x2xf32>
  %dn0f = linalg.fill ins(%zero : f32) outs(%dn0e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %dn0 = linalg.matmul ins(%h0, %w2_0 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%dn0f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %t00 = tensor.empty() : tensor<3x2xf32>
  %t0 = linalg.generic {indexing_maps = [#row, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p0, %dn0 : tensor<3x1xf32>, tensor<3x2xf32>) outs(%t00 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %e1 = arith.constant dense<1> : tensor<i64>
  %eq10 = tensor.empty() : tensor<3x1xi1>
  %eq1 = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%idx, %e1 : tensor<3x1xi64>, tensor<i64>) outs(%eq10 : tensor<3x1xi1>) {
  ^bb0(%a: i64, %b: i64, %o: i1):
    %r = arith.cmpi eq, %a, %b : i64
    linalg.yield %r : i1
  } -> tensor<3x1xi1>
  %sel10 = tensor.empty() : tensor<3x1xf32>
  %sel1 = linalg.generic {indexing_maps = [#id, #id, #sc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%eq1, %vals, %fz : tensor<3x1xi1>, tensor<3x1xf32>, tensor<f32>) outs(%sel10 : tensor<3x1xf32>) {
  ^bb0(%c: i1, %a: f32, %b: f32, %o: f32):
    %r = arith.select %c, %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x1xf32>
  %s1e = tensor.empty() : tensor<3xf32>
  %s1f = linalg.fill ins(%zero : f32) outs(%s1e : tensor<3xf32>) -> tensor<3xf32>
  %s1 = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["parallel", "reduction"]}
      ins(%sel1 : tensor<3x1xf32>) outs(%s1f : tensor<3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<3xf32>
  %p1 = tensor.expand_shape %s1 [[0, 1]] output_shape [3, 1] : tensor<3xf32> into tensor<3x1xf32>
  %w1_1 = arith.constant dense<[[2.0, 0.5], [0.25, 3.0]]> : tensor<2x2xf32>
  %w3_1 = arith.constant dense<[[1.0, 1.5], [2.0, 1.0]]> : tensor<2x2xf32>
  %w2_1 = arith.constant dense<[[0.5, 1.0], [2.0, 0.25]]> : tensor<2x2xf32>
  %g1e = tensor.empty() : tensor<3x2xf32>
  %g1f = linalg.fill ins(%zero : f32) outs(%g1e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %g1 = linalg.matmul ins(%x, %w1_1 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%g1f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %u1e = tensor.empty() : tensor<3x2xf32>
  %u1f = linalg.fill ins(%zero : f32) outs(%u1e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %u1 = linalg.matmul ins(%x, %w3_1 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%u1f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %sg10 = tensor.empty() : tensor<3x2xf32>
  %sg1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g1 : tensor<3x2xf32>) outs(%sg10 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %one2 = arith.constant 1.0 : f32
    %dd = arith.addf %one2, %ex : f32
    %r = arith.divf %one, %dd : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %si10 = tensor.empty() : tensor<3x2xf32>
  %si1 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g1, %sg1 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%si10 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %h10 = tensor.empty() : tensor<3x2xf32>
  %h1 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%si1, %u1 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%h10 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %dn1e = tensor.empty() : tensor<3x2xf32>
  %dn1f = linalg.fill ins(%zero : f32) outs(%dn1e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %dn1 = linalg.matmul ins(%h1, %w2_1 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%dn1f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %t10 = tensor.empty() : tensor<3x2xf32>
  %t1 = linalg.generic {indexing_maps = [#row, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p1, %dn1 : tensor<3x1xf32>, tensor<3x2xf32>) outs(%t10 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %out0 = tensor.empty() : tensor<3x2xf32>
  %out = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t0, %t1 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%out0 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  return %out : tensor<3x2xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#sc = affine_map<(d0, d1) -> ()>
#row = affine_map<(d0, d1) -> (d0, 0)>
#red = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @expert_twice(
// CHECK-NOT: kestrel.moe
// CHECK: linalg.matmul
func.func @expert_twice(%x: tensor<3x2xf32>, %l: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %zero = arith.constant 0.0 : f32
  %fz = arith.constant dense<0.0> : tensor<f32>
  %sm0 = tensor.empty() : tensor<3x2xf32>
  %sm = linalg.softmax dimension(1) ins(%l : tensor<3x2xf32>) outs(%sm0 : tensor<3x2xf32>) -> tensor<3x2xf32>
  %vals, %idx = kestrel.top_k %sm {axis = 1 : i64, k = 1 : i64} : tensor<3x2xf32> -> tensor<3x1xf32>, tensor<3x1xi64>
  %e0 = arith.constant dense<0> : tensor<i64>
  %eq00 = tensor.empty() : tensor<3x1xi1>
  %eq0 = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%idx, %e0 : tensor<3x1xi64>, tensor<i64>) outs(%eq00 : tensor<3x1xi1>) {
  ^bb0(%a: i64, %b: i64, %o: i1):
    %r = arith.cmpi eq, %a, %b : i64
    linalg.yield %r : i1
  } -> tensor<3x1xi1>
  %sel00 = tensor.empty() : tensor<3x1xf32>
  %sel0 = linalg.generic {indexing_maps = [#id, #id, #sc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%eq0, %vals, %fz : tensor<3x1xi1>, tensor<3x1xf32>, tensor<f32>) outs(%sel00 : tensor<3x1xf32>) {
  ^bb0(%c: i1, %a: f32, %b: f32, %o: f32):
    %r = arith.select %c, %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x1xf32>
  %s0e = tensor.empty() : tensor<3xf32>
  %s0f = linalg.fill ins(%zero : f32) outs(%s0e : tensor<3xf32>) -> tensor<3xf32>
  %s0 = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["parallel", "reduction"]}
      ins(%sel0 : tensor<3x1xf32>) outs(%s0f : tensor<3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<3xf32>
  %p0 = tensor.expand_shape %s0 [[0, 1]] output_shape [3, 1] : tensor<3xf32> into tensor<3x1xf32>
  %w1_0 = arith.constant dense<[[1.0, 0.5], [0.25, 2.0]]> : tensor<2x2xf32>
  %w3_0 = arith.constant dense<[[1.0, 0.5], [2.0, 1.0]]> : tensor<2x2xf32>
  %w2_0 = arith.constant dense<[[0.5, 1.0], [1.0, 0.25]]> : tensor<2x2xf32>
  %g0e = tensor.empty() : tensor<3x2xf32>
  %g0f = linalg.fill ins(%zero : f32) outs(%g0e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %g0 = linalg.matmul ins(%x, %w1_0 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%g0f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %u0e = tensor.empty() : tensor<3x2xf32>
  %u0f = linalg.fill ins(%zero : f32) outs(%u0e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %u0 = linalg.matmul ins(%x, %w3_0 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%u0f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %sg00 = tensor.empty() : tensor<3x2xf32>
  %sg0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g0 : tensor<3x2xf32>) outs(%sg00 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %one2 = arith.constant 1.0 : f32
    %dd = arith.addf %one2, %ex : f32
    %r = arith.divf %one, %dd : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %si00 = tensor.empty() : tensor<3x2xf32>
  %si0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g0, %sg0 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%si00 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %h00 = tensor.empty() : tensor<3x2xf32>
  %h0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%si0, %u0 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%h00 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %dn0e = tensor.empty() : tensor<3x2xf32>
  %dn0f = linalg.fill ins(%zero : f32) outs(%dn0e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %dn0 = linalg.matmul ins(%h0, %w2_0 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%dn0f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %t00 = tensor.empty() : tensor<3x2xf32>
  %t0 = linalg.generic {indexing_maps = [#row, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p0, %dn0 : tensor<3x1xf32>, tensor<3x2xf32>) outs(%t00 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %e1 = arith.constant dense<0> : tensor<i64>
  %eq10 = tensor.empty() : tensor<3x1xi1>
  %eq1 = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%idx, %e1 : tensor<3x1xi64>, tensor<i64>) outs(%eq10 : tensor<3x1xi1>) {
  ^bb0(%a: i64, %b: i64, %o: i1):
    %r = arith.cmpi eq, %a, %b : i64
    linalg.yield %r : i1
  } -> tensor<3x1xi1>
  %sel10 = tensor.empty() : tensor<3x1xf32>
  %sel1 = linalg.generic {indexing_maps = [#id, #id, #sc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%eq1, %vals, %fz : tensor<3x1xi1>, tensor<3x1xf32>, tensor<f32>) outs(%sel10 : tensor<3x1xf32>) {
  ^bb0(%c: i1, %a: f32, %b: f32, %o: f32):
    %r = arith.select %c, %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x1xf32>
  %s1e = tensor.empty() : tensor<3xf32>
  %s1f = linalg.fill ins(%zero : f32) outs(%s1e : tensor<3xf32>) -> tensor<3xf32>
  %s1 = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["parallel", "reduction"]}
      ins(%sel1 : tensor<3x1xf32>) outs(%s1f : tensor<3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<3xf32>
  %p1 = tensor.expand_shape %s1 [[0, 1]] output_shape [3, 1] : tensor<3xf32> into tensor<3x1xf32>
  %w1_1 = arith.constant dense<[[2.0, 0.5], [0.25, 3.0]]> : tensor<2x2xf32>
  %w3_1 = arith.constant dense<[[1.0, 1.5], [2.0, 1.0]]> : tensor<2x2xf32>
  %w2_1 = arith.constant dense<[[0.5, 1.0], [2.0, 0.25]]> : tensor<2x2xf32>
  %g1e = tensor.empty() : tensor<3x2xf32>
  %g1f = linalg.fill ins(%zero : f32) outs(%g1e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %g1 = linalg.matmul ins(%x, %w1_1 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%g1f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %u1e = tensor.empty() : tensor<3x2xf32>
  %u1f = linalg.fill ins(%zero : f32) outs(%u1e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %u1 = linalg.matmul ins(%x, %w3_1 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%u1f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %sg10 = tensor.empty() : tensor<3x2xf32>
  %sg1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g1 : tensor<3x2xf32>) outs(%sg10 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %one2 = arith.constant 1.0 : f32
    %dd = arith.addf %one2, %ex : f32
    %r = arith.divf %one, %dd : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %si10 = tensor.empty() : tensor<3x2xf32>
  %si1 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g1, %sg1 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%si10 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %h10 = tensor.empty() : tensor<3x2xf32>
  %h1 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%si1, %u1 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%h10 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %dn1e = tensor.empty() : tensor<3x2xf32>
  %dn1f = linalg.fill ins(%zero : f32) outs(%dn1e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %dn1 = linalg.matmul ins(%h1, %w2_1 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%dn1f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %t10 = tensor.empty() : tensor<3x2xf32>
  %t1 = linalg.generic {indexing_maps = [#row, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p1, %dn1 : tensor<3x1xf32>, tensor<3x2xf32>) outs(%t10 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %out0 = tensor.empty() : tensor<3x2xf32>
  %out = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t0, %t1 : tensor<3x2xf32>, tensor<3x2xf32>) outs(%out0 : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  return %out : tensor<3x2xf32>
}
