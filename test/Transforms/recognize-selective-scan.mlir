// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s
// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-recognize{selective-scan=false}))' | FileCheck %s --check-prefix=OFF

// kestrel-recognize, selective scan: the exporter's unrolled sequential scan
// (per step t: h = dA[:, t] * h + dBx[:, t], y_t = sum_n h * Cm[:, t], with
// dA = exp(dt[..., None] * A), dBx = (dt * x)[..., None] * Bm[:, :, None],
// the time slices as the importer's constant-index Gather, the y_t
// concatenated along time) becomes one kestrel.selective_scan between
// transposes (also with the time slices as extract_slice, and with the
// state starting from an argument: initial_state); a step that differs, or
// a time index out of place, leaves the graph as it is. Every case is 4
// steps written out, B=1, C=3, N=2. With selective-scan=false nothing is
// re-rolled (OFF).

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#col4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#par4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#bc3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#s3 = affine_map<(d0, d1, d2) -> ()>
#s2 = affine_map<(d0, d1) -> ()>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @scan4(
// CHECK-SAME: %[[X:[^:]*]]: tensor<1x4x3xf32>, %[[DT:[^:]*]]: tensor<1x4x3xf32>, %[[A:[^:]*]]: tensor<3x2xf32>, %[[BM:[^:]*]]: tensor<1x4x2xf32>, %[[CM:[^:]*]]: tensor<1x4x2xf32>
// CHECK-DAG: %[[XT:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<1x4x3xf32>) outs(%{{.*}} : tensor<1x3x4xf32>)
// CHECK-DAG: %[[DTT:.*]] = linalg.generic {{.*}} ins(%[[DT]] : tensor<1x4x3xf32>) outs(%{{.*}} : tensor<1x3x4xf32>)
// CHECK-DAG: %[[BT:.*]] = linalg.generic {{.*}} ins(%[[BM]] : tensor<1x4x2xf32>) outs(%{{.*}} : tensor<1x2x4xf32>)
// CHECK-DAG: %[[CT:.*]] = linalg.generic {{.*}} ins(%[[CM]] : tensor<1x4x2xf32>) outs(%{{.*}} : tensor<1x2x4xf32>)
// CHECK: %[[Y:.*]], %{{.*}} = kestrel.selective_scan %[[XT]], %[[DTT]], %[[A]], %[[BT]], %[[CT]] : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<3x2xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32> -> tensor<1x3x4xf32>, tensor<1x3x2xf32>
// CHECK: %[[YT:.*]] = linalg.generic {{.*}} ins(%[[Y]] : tensor<1x3x4xf32>) outs(%{{.*}} : tensor<1x4x3xf32>)
// CHECK-NOT: math.exp
// CHECK-NOT: tensor.concat
// CHECK: return %[[YT]]
// OFF-LABEL: func.func @scan4(
// OFF-NOT: kestrel.selective_scan
// OFF: tensor.concat
func.func @scan4(%x: tensor<1x4x3xf32>, %dt: tensor<1x4x3xf32>, %A: tensor<3x2xf32>, %bm: tensor<1x4x2xf32>, %cm: tensor<1x4x2xf32>) -> tensor<1x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %dt4 = tensor.expand_shape %dt [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %u_e = tensor.empty() : tensor<1x4x3x2xf32>
  %u = linalg.generic {indexing_maps = [#col4, #par4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%dt4, %A : tensor<1x4x3x1xf32>, tensor<3x2xf32>) outs(%u_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %dA_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dA = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%u : tensor<1x4x3x2xf32>) outs(%dA_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = math.exp %i0 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %e_e = tensor.empty() : tensor<1x4x3xf32>
  %e = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%dt, %x : tensor<1x4x3xf32>, tensor<1x4x3xf32>) outs(%e_e : tensor<1x4x3xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3xf32>
  %e4 = tensor.expand_shape %e [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %b4 = tensor.expand_shape %bm [[0], [1, 2], [3]] output_shape [1, 4, 1, 2] : tensor<1x4x2xf32> into tensor<1x4x1x2xf32>
  %dBx_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dBx = linalg.generic {indexing_maps = [#col4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e4, %b4 : tensor<1x4x3x1xf32>, tensor<1x4x1x2xf32>) outs(%dBx_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %hinit = arith.constant dense<0.0> : tensor<1x3x2xf32>
  %idx0 = arith.constant dense<0> : tensor<i64>
  %ga0_e = tensor.empty() : tensor<1x3x2xf32>
  %ga0 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%ga0_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m0_e = tensor.empty() : tensor<1x3x2xf32>
  %m0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga0, %hinit : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb0_e = tensor.empty() : tensor<1x3x2xf32>
  %gb0 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%gb0_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h0_e = tensor.empty() : tensor<1x3x2xf32>
  %h0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m0, %gb0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc0_e = tensor.empty() : tensor<1x2xf32>
  %gc0 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%gc0_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_0 = tensor.expand_shape %gc0 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p0_e = tensor.empty() : tensor<1x3x2xf32>
  %p0 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h0, %gc3_0 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y0_e = tensor.empty() : tensor<1x3xf32>
  %y0_f = linalg.fill ins(%zero : f32) outs(%y0_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y0 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p0 : tensor<1x3x2xf32>) outs(%y0_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_0 = tensor.expand_shape %y0 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx1 = arith.constant dense<1> : tensor<i64>
  %ga1_e = tensor.empty() : tensor<1x3x2xf32>
  %ga1 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%ga1_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m1_e = tensor.empty() : tensor<1x3x2xf32>
  %m1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga1, %h0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb1_e = tensor.empty() : tensor<1x3x2xf32>
  %gb1 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%gb1_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h1_e = tensor.empty() : tensor<1x3x2xf32>
  %h1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m1, %gb1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc1_e = tensor.empty() : tensor<1x2xf32>
  %gc1 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%gc1_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_1 = tensor.expand_shape %gc1 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p1_e = tensor.empty() : tensor<1x3x2xf32>
  %p1 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h1, %gc3_1 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y1_e = tensor.empty() : tensor<1x3xf32>
  %y1_f = linalg.fill ins(%zero : f32) outs(%y1_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y1 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p1 : tensor<1x3x2xf32>) outs(%y1_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_1 = tensor.expand_shape %y1 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx2 = arith.constant dense<2> : tensor<i64>
  %ga2_e = tensor.empty() : tensor<1x3x2xf32>
  %ga2 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%ga2_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m2_e = tensor.empty() : tensor<1x3x2xf32>
  %m2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga2, %h1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb2_e = tensor.empty() : tensor<1x3x2xf32>
  %gb2 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%gb2_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h2_e = tensor.empty() : tensor<1x3x2xf32>
  %h2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m2, %gb2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc2_e = tensor.empty() : tensor<1x2xf32>
  %gc2 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%gc2_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_2 = tensor.expand_shape %gc2 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p2_e = tensor.empty() : tensor<1x3x2xf32>
  %p2 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h2, %gc3_2 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y2_e = tensor.empty() : tensor<1x3xf32>
  %y2_f = linalg.fill ins(%zero : f32) outs(%y2_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y2 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p2 : tensor<1x3x2xf32>) outs(%y2_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_2 = tensor.expand_shape %y2 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx3 = arith.constant dense<3> : tensor<i64>
  %ga3_e = tensor.empty() : tensor<1x3x2xf32>
  %ga3 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%ga3_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m3_e = tensor.empty() : tensor<1x3x2xf32>
  %m3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga3, %h2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb3_e = tensor.empty() : tensor<1x3x2xf32>
  %gb3 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%gb3_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h3_e = tensor.empty() : tensor<1x3x2xf32>
  %h3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m3, %gb3 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc3_e = tensor.empty() : tensor<1x2xf32>
  %gc3 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%gc3_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_3 = tensor.expand_shape %gc3 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p3_e = tensor.empty() : tensor<1x3x2xf32>
  %p3 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h3, %gc3_3 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y3_e = tensor.empty() : tensor<1x3xf32>
  %y3_f = linalg.fill ins(%zero : f32) outs(%y3_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y3 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p3 : tensor<1x3x2xf32>) outs(%y3_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_3 = tensor.expand_shape %y3 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %cat = tensor.concat dim(1) %y3_0, %y3_1, %y3_2, %y3_3 : (tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>) -> tensor<1x4x3xf32>
  return %cat : tensor<1x4x3xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#col4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#par4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#bc3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#s3 = affine_map<(d0, d1, d2) -> ()>
#s2 = affine_map<(d0, d1) -> ()>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1, d2) -> (d0, d1)>
// step 2 subtracts dBx instead of adding: untouched.
// CHECK-LABEL: func.func @other_state_op(
// CHECK-NOT: kestrel.selective_scan
// CHECK: math.exp
// CHECK: tensor.concat dim(1)
// CHECK-NOT: kestrel.selective_scan
// CHECK: return
func.func @other_state_op(%x: tensor<1x4x3xf32>, %dt: tensor<1x4x3xf32>, %A: tensor<3x2xf32>, %bm: tensor<1x4x2xf32>, %cm: tensor<1x4x2xf32>) -> tensor<1x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %dt4 = tensor.expand_shape %dt [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %u_e = tensor.empty() : tensor<1x4x3x2xf32>
  %u = linalg.generic {indexing_maps = [#col4, #par4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%dt4, %A : tensor<1x4x3x1xf32>, tensor<3x2xf32>) outs(%u_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %dA_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dA = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%u : tensor<1x4x3x2xf32>) outs(%dA_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = math.exp %i0 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %e_e = tensor.empty() : tensor<1x4x3xf32>
  %e = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%dt, %x : tensor<1x4x3xf32>, tensor<1x4x3xf32>) outs(%e_e : tensor<1x4x3xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3xf32>
  %e4 = tensor.expand_shape %e [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %b4 = tensor.expand_shape %bm [[0], [1, 2], [3]] output_shape [1, 4, 1, 2] : tensor<1x4x2xf32> into tensor<1x4x1x2xf32>
  %dBx_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dBx = linalg.generic {indexing_maps = [#col4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e4, %b4 : tensor<1x4x3x1xf32>, tensor<1x4x1x2xf32>) outs(%dBx_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %hinit = arith.constant dense<0.0> : tensor<1x3x2xf32>
  %idx0 = arith.constant dense<0> : tensor<i64>
  %ga0_e = tensor.empty() : tensor<1x3x2xf32>
  %ga0 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%ga0_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m0_e = tensor.empty() : tensor<1x3x2xf32>
  %m0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga0, %hinit : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb0_e = tensor.empty() : tensor<1x3x2xf32>
  %gb0 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%gb0_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h0_e = tensor.empty() : tensor<1x3x2xf32>
  %h0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m0, %gb0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc0_e = tensor.empty() : tensor<1x2xf32>
  %gc0 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%gc0_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_0 = tensor.expand_shape %gc0 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p0_e = tensor.empty() : tensor<1x3x2xf32>
  %p0 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h0, %gc3_0 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y0_e = tensor.empty() : tensor<1x3xf32>
  %y0_f = linalg.fill ins(%zero : f32) outs(%y0_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y0 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p0 : tensor<1x3x2xf32>) outs(%y0_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_0 = tensor.expand_shape %y0 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx1 = arith.constant dense<1> : tensor<i64>
  %ga1_e = tensor.empty() : tensor<1x3x2xf32>
  %ga1 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%ga1_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m1_e = tensor.empty() : tensor<1x3x2xf32>
  %m1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga1, %h0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb1_e = tensor.empty() : tensor<1x3x2xf32>
  %gb1 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%gb1_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h1_e = tensor.empty() : tensor<1x3x2xf32>
  %h1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m1, %gb1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc1_e = tensor.empty() : tensor<1x2xf32>
  %gc1 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%gc1_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_1 = tensor.expand_shape %gc1 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p1_e = tensor.empty() : tensor<1x3x2xf32>
  %p1 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h1, %gc3_1 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y1_e = tensor.empty() : tensor<1x3xf32>
  %y1_f = linalg.fill ins(%zero : f32) outs(%y1_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y1 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p1 : tensor<1x3x2xf32>) outs(%y1_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_1 = tensor.expand_shape %y1 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx2 = arith.constant dense<2> : tensor<i64>
  %ga2_e = tensor.empty() : tensor<1x3x2xf32>
  %ga2 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%ga2_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m2_e = tensor.empty() : tensor<1x3x2xf32>
  %m2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga2, %h1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb2_e = tensor.empty() : tensor<1x3x2xf32>
  %gb2 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%gb2_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h2_e = tensor.empty() : tensor<1x3x2xf32>
  %h2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m2, %gb2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.subf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc2_e = tensor.empty() : tensor<1x2xf32>
  %gc2 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%gc2_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_2 = tensor.expand_shape %gc2 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p2_e = tensor.empty() : tensor<1x3x2xf32>
  %p2 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h2, %gc3_2 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y2_e = tensor.empty() : tensor<1x3xf32>
  %y2_f = linalg.fill ins(%zero : f32) outs(%y2_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y2 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p2 : tensor<1x3x2xf32>) outs(%y2_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_2 = tensor.expand_shape %y2 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx3 = arith.constant dense<3> : tensor<i64>
  %ga3_e = tensor.empty() : tensor<1x3x2xf32>
  %ga3 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%ga3_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m3_e = tensor.empty() : tensor<1x3x2xf32>
  %m3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga3, %h2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb3_e = tensor.empty() : tensor<1x3x2xf32>
  %gb3 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%gb3_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h3_e = tensor.empty() : tensor<1x3x2xf32>
  %h3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m3, %gb3 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc3_e = tensor.empty() : tensor<1x2xf32>
  %gc3 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%gc3_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_3 = tensor.expand_shape %gc3 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p3_e = tensor.empty() : tensor<1x3x2xf32>
  %p3 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h3, %gc3_3 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y3_e = tensor.empty() : tensor<1x3xf32>
  %y3_f = linalg.fill ins(%zero : f32) outs(%y3_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y3 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p3 : tensor<1x3x2xf32>) outs(%y3_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_3 = tensor.expand_shape %y3 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %cat = tensor.concat dim(1) %y3_0, %y3_1, %y3_2, %y3_3 : (tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>) -> tensor<1x4x3xf32>
  return %cat : tensor<1x4x3xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#col4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#par4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#bc3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#s3 = affine_map<(d0, d1, d2) -> ()>
#s2 = affine_map<(d0, d1) -> ()>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1, d2) -> (d0, d1)>
// step 1 reads Cm from Bm: untouched.
// CHECK-LABEL: func.func @other_source(
// CHECK-NOT: kestrel.selective_scan
// CHECK: math.exp
// CHECK: tensor.concat dim(1)
// CHECK-NOT: kestrel.selective_scan
// CHECK: return
func.func @other_source(%x: tensor<1x4x3xf32>, %dt: tensor<1x4x3xf32>, %A: tensor<3x2xf32>, %bm: tensor<1x4x2xf32>, %cm: tensor<1x4x2xf32>) -> tensor<1x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %dt4 = tensor.expand_shape %dt [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %u_e = tensor.empty() : tensor<1x4x3x2xf32>
  %u = linalg.generic {indexing_maps = [#col4, #par4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%dt4, %A : tensor<1x4x3x1xf32>, tensor<3x2xf32>) outs(%u_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %dA_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dA = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%u : tensor<1x4x3x2xf32>) outs(%dA_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = math.exp %i0 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %e_e = tensor.empty() : tensor<1x4x3xf32>
  %e = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%dt, %x : tensor<1x4x3xf32>, tensor<1x4x3xf32>) outs(%e_e : tensor<1x4x3xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3xf32>
  %e4 = tensor.expand_shape %e [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %b4 = tensor.expand_shape %bm [[0], [1, 2], [3]] output_shape [1, 4, 1, 2] : tensor<1x4x2xf32> into tensor<1x4x1x2xf32>
  %dBx_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dBx = linalg.generic {indexing_maps = [#col4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e4, %b4 : tensor<1x4x3x1xf32>, tensor<1x4x1x2xf32>) outs(%dBx_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %hinit = arith.constant dense<0.0> : tensor<1x3x2xf32>
  %idx0 = arith.constant dense<0> : tensor<i64>
  %ga0_e = tensor.empty() : tensor<1x3x2xf32>
  %ga0 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%ga0_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m0_e = tensor.empty() : tensor<1x3x2xf32>
  %m0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga0, %hinit : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb0_e = tensor.empty() : tensor<1x3x2xf32>
  %gb0 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%gb0_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h0_e = tensor.empty() : tensor<1x3x2xf32>
  %h0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m0, %gb0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc0_e = tensor.empty() : tensor<1x2xf32>
  %gc0 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%gc0_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_0 = tensor.expand_shape %gc0 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p0_e = tensor.empty() : tensor<1x3x2xf32>
  %p0 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h0, %gc3_0 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y0_e = tensor.empty() : tensor<1x3xf32>
  %y0_f = linalg.fill ins(%zero : f32) outs(%y0_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y0 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p0 : tensor<1x3x2xf32>) outs(%y0_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_0 = tensor.expand_shape %y0 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx1 = arith.constant dense<1> : tensor<i64>
  %ga1_e = tensor.empty() : tensor<1x3x2xf32>
  %ga1 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%ga1_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m1_e = tensor.empty() : tensor<1x3x2xf32>
  %m1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga1, %h0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb1_e = tensor.empty() : tensor<1x3x2xf32>
  %gb1 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%gb1_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h1_e = tensor.empty() : tensor<1x3x2xf32>
  %h1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m1, %gb1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc1_e = tensor.empty() : tensor<1x2xf32>
  %gc1 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%gc1_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %bm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_1 = tensor.expand_shape %gc1 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p1_e = tensor.empty() : tensor<1x3x2xf32>
  %p1 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h1, %gc3_1 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y1_e = tensor.empty() : tensor<1x3xf32>
  %y1_f = linalg.fill ins(%zero : f32) outs(%y1_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y1 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p1 : tensor<1x3x2xf32>) outs(%y1_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_1 = tensor.expand_shape %y1 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx2 = arith.constant dense<2> : tensor<i64>
  %ga2_e = tensor.empty() : tensor<1x3x2xf32>
  %ga2 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%ga2_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m2_e = tensor.empty() : tensor<1x3x2xf32>
  %m2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga2, %h1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb2_e = tensor.empty() : tensor<1x3x2xf32>
  %gb2 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%gb2_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h2_e = tensor.empty() : tensor<1x3x2xf32>
  %h2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m2, %gb2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc2_e = tensor.empty() : tensor<1x2xf32>
  %gc2 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%gc2_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_2 = tensor.expand_shape %gc2 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p2_e = tensor.empty() : tensor<1x3x2xf32>
  %p2 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h2, %gc3_2 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y2_e = tensor.empty() : tensor<1x3xf32>
  %y2_f = linalg.fill ins(%zero : f32) outs(%y2_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y2 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p2 : tensor<1x3x2xf32>) outs(%y2_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_2 = tensor.expand_shape %y2 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx3 = arith.constant dense<3> : tensor<i64>
  %ga3_e = tensor.empty() : tensor<1x3x2xf32>
  %ga3 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%ga3_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m3_e = tensor.empty() : tensor<1x3x2xf32>
  %m3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga3, %h2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb3_e = tensor.empty() : tensor<1x3x2xf32>
  %gb3 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%gb3_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h3_e = tensor.empty() : tensor<1x3x2xf32>
  %h3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m3, %gb3 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc3_e = tensor.empty() : tensor<1x2xf32>
  %gc3 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%gc3_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_3 = tensor.expand_shape %gc3 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p3_e = tensor.empty() : tensor<1x3x2xf32>
  %p3 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h3, %gc3_3 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y3_e = tensor.empty() : tensor<1x3xf32>
  %y3_f = linalg.fill ins(%zero : f32) outs(%y3_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y3 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p3 : tensor<1x3x2xf32>) outs(%y3_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_3 = tensor.expand_shape %y3 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %cat = tensor.concat dim(1) %y3_0, %y3_1, %y3_2, %y3_3 : (tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>) -> tensor<1x4x3xf32>
  return %cat : tensor<1x4x3xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#col4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#par4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#bc3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#s3 = affine_map<(d0, d1, d2) -> ()>
#s2 = affine_map<(d0, d1) -> ()>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1, d2) -> (d0, d1)>
// step 2 reads time slice 1 again: untouched.
// CHECK-LABEL: func.func @repeated_time_index(
// CHECK-NOT: kestrel.selective_scan
// CHECK: math.exp
// CHECK: tensor.concat dim(1)
// CHECK-NOT: kestrel.selective_scan
// CHECK: return
func.func @repeated_time_index(%x: tensor<1x4x3xf32>, %dt: tensor<1x4x3xf32>, %A: tensor<3x2xf32>, %bm: tensor<1x4x2xf32>, %cm: tensor<1x4x2xf32>) -> tensor<1x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %dt4 = tensor.expand_shape %dt [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %u_e = tensor.empty() : tensor<1x4x3x2xf32>
  %u = linalg.generic {indexing_maps = [#col4, #par4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%dt4, %A : tensor<1x4x3x1xf32>, tensor<3x2xf32>) outs(%u_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %dA_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dA = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%u : tensor<1x4x3x2xf32>) outs(%dA_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = math.exp %i0 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %e_e = tensor.empty() : tensor<1x4x3xf32>
  %e = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%dt, %x : tensor<1x4x3xf32>, tensor<1x4x3xf32>) outs(%e_e : tensor<1x4x3xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3xf32>
  %e4 = tensor.expand_shape %e [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %b4 = tensor.expand_shape %bm [[0], [1, 2], [3]] output_shape [1, 4, 1, 2] : tensor<1x4x2xf32> into tensor<1x4x1x2xf32>
  %dBx_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dBx = linalg.generic {indexing_maps = [#col4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e4, %b4 : tensor<1x4x3x1xf32>, tensor<1x4x1x2xf32>) outs(%dBx_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %hinit = arith.constant dense<0.0> : tensor<1x3x2xf32>
  %idx0 = arith.constant dense<0> : tensor<i64>
  %ga0_e = tensor.empty() : tensor<1x3x2xf32>
  %ga0 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%ga0_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m0_e = tensor.empty() : tensor<1x3x2xf32>
  %m0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga0, %hinit : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb0_e = tensor.empty() : tensor<1x3x2xf32>
  %gb0 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%gb0_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h0_e = tensor.empty() : tensor<1x3x2xf32>
  %h0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m0, %gb0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc0_e = tensor.empty() : tensor<1x2xf32>
  %gc0 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx0 : tensor<i64>) outs(%gc0_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_0 = tensor.expand_shape %gc0 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p0_e = tensor.empty() : tensor<1x3x2xf32>
  %p0 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h0, %gc3_0 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y0_e = tensor.empty() : tensor<1x3xf32>
  %y0_f = linalg.fill ins(%zero : f32) outs(%y0_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y0 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p0 : tensor<1x3x2xf32>) outs(%y0_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_0 = tensor.expand_shape %y0 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx1 = arith.constant dense<1> : tensor<i64>
  %ga1_e = tensor.empty() : tensor<1x3x2xf32>
  %ga1 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%ga1_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m1_e = tensor.empty() : tensor<1x3x2xf32>
  %m1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga1, %h0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb1_e = tensor.empty() : tensor<1x3x2xf32>
  %gb1 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%gb1_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h1_e = tensor.empty() : tensor<1x3x2xf32>
  %h1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m1, %gb1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc1_e = tensor.empty() : tensor<1x2xf32>
  %gc1 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx1 : tensor<i64>) outs(%gc1_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_1 = tensor.expand_shape %gc1 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p1_e = tensor.empty() : tensor<1x3x2xf32>
  %p1 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h1, %gc3_1 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y1_e = tensor.empty() : tensor<1x3xf32>
  %y1_f = linalg.fill ins(%zero : f32) outs(%y1_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y1 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p1 : tensor<1x3x2xf32>) outs(%y1_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_1 = tensor.expand_shape %y1 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx2 = arith.constant dense<1> : tensor<i64>
  %ga2_e = tensor.empty() : tensor<1x3x2xf32>
  %ga2 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%ga2_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m2_e = tensor.empty() : tensor<1x3x2xf32>
  %m2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga2, %h1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb2_e = tensor.empty() : tensor<1x3x2xf32>
  %gb2 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%gb2_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h2_e = tensor.empty() : tensor<1x3x2xf32>
  %h2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m2, %gb2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc2_e = tensor.empty() : tensor<1x2xf32>
  %gc2 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx2 : tensor<i64>) outs(%gc2_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_2 = tensor.expand_shape %gc2 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p2_e = tensor.empty() : tensor<1x3x2xf32>
  %p2 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h2, %gc3_2 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y2_e = tensor.empty() : tensor<1x3xf32>
  %y2_f = linalg.fill ins(%zero : f32) outs(%y2_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y2 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p2 : tensor<1x3x2xf32>) outs(%y2_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_2 = tensor.expand_shape %y2 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx3 = arith.constant dense<3> : tensor<i64>
  %ga3_e = tensor.empty() : tensor<1x3x2xf32>
  %ga3 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%ga3_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dA[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %m3_e = tensor.empty() : tensor<1x3x2xf32>
  %m3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga3, %h2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb3_e = tensor.empty() : tensor<1x3x2xf32>
  %gb3 = linalg.generic {indexing_maps = [#s3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%gb3_e : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %l2 = linalg.index 2 : index
    %v = tensor.extract %dBx[%l0, %mn, %l1, %l2] : tensor<1x4x3x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x3x2xf32>
  %h3_e = tensor.empty() : tensor<1x3x2xf32>
  %h3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m3, %gb3 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc3_e = tensor.empty() : tensor<1x2xf32>
  %gc3 = linalg.generic {indexing_maps = [#s2, #id2], iterator_types = ["parallel", "parallel"]} ins(%idx3 : tensor<i64>) outs(%gc3_e : tensor<1x2xf32>) {
  ^bb0(%in: i64, %o: f32):
    %c = arith.index_cast %in : i64 to index
    %cT = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %neg = arith.cmpi slt, %c, %c0 : index
    %w = arith.addi %c, %cT : index
    %s = arith.select %neg, %w, %c : index
    %mx = arith.maxsi %s, %c0 : index
    %cL = arith.constant 3 : index
    %mn = arith.minsi %mx, %cL : index
    %l0 = linalg.index 0 : index
    %l1 = linalg.index 1 : index
    %v = tensor.extract %cm[%l0, %mn, %l1] : tensor<1x4x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %gc3_3 = tensor.expand_shape %gc3 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p3_e = tensor.empty() : tensor<1x3x2xf32>
  %p3 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h3, %gc3_3 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y3_e = tensor.empty() : tensor<1x3xf32>
  %y3_f = linalg.fill ins(%zero : f32) outs(%y3_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y3 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p3 : tensor<1x3x2xf32>) outs(%y3_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_3 = tensor.expand_shape %y3 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %cat = tensor.concat dim(1) %y3_0, %y3_1, %y3_2, %y3_3 : (tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>) -> tensor<1x4x3xf32>
  return %cat : tensor<1x4x3xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#col4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#par4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#bc3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#s3 = affine_map<(d0, d1, d2) -> ()>
#s2 = affine_map<(d0, d1) -> ()>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1, d2) -> (d0, d1)>
// The time slices as extract_slice, the state starting from an argument.
// CHECK-LABEL: func.func @slices_initial_state(
// CHECK-SAME: %[[H:[^:]*]]: tensor<1x3x2xf32>)
// CHECK: kestrel.selective_scan {{.*}} initial_state(%[[H]] : tensor<1x3x2xf32>)
// CHECK-NOT: tensor.concat
// CHECK: return
func.func @slices_initial_state(%x: tensor<1x4x3xf32>, %dt: tensor<1x4x3xf32>, %A: tensor<3x2xf32>, %bm: tensor<1x4x2xf32>, %cm: tensor<1x4x2xf32>, %h_in: tensor<1x3x2xf32>) -> tensor<1x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %dt4 = tensor.expand_shape %dt [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %u_e = tensor.empty() : tensor<1x4x3x2xf32>
  %u = linalg.generic {indexing_maps = [#col4, #par4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%dt4, %A : tensor<1x4x3x1xf32>, tensor<3x2xf32>) outs(%u_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %dA_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dA = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%u : tensor<1x4x3x2xf32>) outs(%dA_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = math.exp %i0 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %e_e = tensor.empty() : tensor<1x4x3xf32>
  %e = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%dt, %x : tensor<1x4x3xf32>, tensor<1x4x3xf32>) outs(%e_e : tensor<1x4x3xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3xf32>
  %e4 = tensor.expand_shape %e [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %b4 = tensor.expand_shape %bm [[0], [1, 2], [3]] output_shape [1, 4, 1, 2] : tensor<1x4x2xf32> into tensor<1x4x1x2xf32>
  %dBx_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dBx = linalg.generic {indexing_maps = [#col4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e4, %b4 : tensor<1x4x3x1xf32>, tensor<1x4x1x2xf32>) outs(%dBx_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %hinit = arith.constant dense<0.0> : tensor<1x3x2xf32>
  %idx0 = arith.constant dense<0> : tensor<i64>
  %ga0 = tensor.extract_slice %dA[0, 0, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %m0_e = tensor.empty() : tensor<1x3x2xf32>
  %m0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga0, %h_in : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb0 = tensor.extract_slice %dBx[0, 0, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %h0_e = tensor.empty() : tensor<1x3x2xf32>
  %h0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m0, %gb0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc0 = tensor.extract_slice %cm[0, 0, 0] [1, 1, 2] [1, 1, 1] : tensor<1x4x2xf32> to tensor<1x2xf32>
  %gc3_0 = tensor.expand_shape %gc0 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p0_e = tensor.empty() : tensor<1x3x2xf32>
  %p0 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h0, %gc3_0 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y0_e = tensor.empty() : tensor<1x3xf32>
  %y0_f = linalg.fill ins(%zero : f32) outs(%y0_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y0 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p0 : tensor<1x3x2xf32>) outs(%y0_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_0 = tensor.expand_shape %y0 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx1 = arith.constant dense<1> : tensor<i64>
  %ga1 = tensor.extract_slice %dA[0, 1, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %m1_e = tensor.empty() : tensor<1x3x2xf32>
  %m1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga1, %h0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb1 = tensor.extract_slice %dBx[0, 1, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %h1_e = tensor.empty() : tensor<1x3x2xf32>
  %h1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m1, %gb1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc1 = tensor.extract_slice %cm[0, 1, 0] [1, 1, 2] [1, 1, 1] : tensor<1x4x2xf32> to tensor<1x2xf32>
  %gc3_1 = tensor.expand_shape %gc1 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p1_e = tensor.empty() : tensor<1x3x2xf32>
  %p1 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h1, %gc3_1 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y1_e = tensor.empty() : tensor<1x3xf32>
  %y1_f = linalg.fill ins(%zero : f32) outs(%y1_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y1 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p1 : tensor<1x3x2xf32>) outs(%y1_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_1 = tensor.expand_shape %y1 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx2 = arith.constant dense<2> : tensor<i64>
  %ga2 = tensor.extract_slice %dA[0, 2, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %m2_e = tensor.empty() : tensor<1x3x2xf32>
  %m2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga2, %h1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb2 = tensor.extract_slice %dBx[0, 2, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %h2_e = tensor.empty() : tensor<1x3x2xf32>
  %h2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m2, %gb2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc2 = tensor.extract_slice %cm[0, 2, 0] [1, 1, 2] [1, 1, 1] : tensor<1x4x2xf32> to tensor<1x2xf32>
  %gc3_2 = tensor.expand_shape %gc2 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p2_e = tensor.empty() : tensor<1x3x2xf32>
  %p2 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h2, %gc3_2 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y2_e = tensor.empty() : tensor<1x3xf32>
  %y2_f = linalg.fill ins(%zero : f32) outs(%y2_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y2 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p2 : tensor<1x3x2xf32>) outs(%y2_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_2 = tensor.expand_shape %y2 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx3 = arith.constant dense<3> : tensor<i64>
  %ga3 = tensor.extract_slice %dA[0, 3, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %m3_e = tensor.empty() : tensor<1x3x2xf32>
  %m3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga3, %h2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb3 = tensor.extract_slice %dBx[0, 3, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %h3_e = tensor.empty() : tensor<1x3x2xf32>
  %h3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m3, %gb3 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc3 = tensor.extract_slice %cm[0, 3, 0] [1, 1, 2] [1, 1, 1] : tensor<1x4x2xf32> to tensor<1x2xf32>
  %gc3_3 = tensor.expand_shape %gc3 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p3_e = tensor.empty() : tensor<1x3x2xf32>
  %p3 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h3, %gc3_3 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y3_e = tensor.empty() : tensor<1x3xf32>
  %y3_f = linalg.fill ins(%zero : f32) outs(%y3_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y3 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p3 : tensor<1x3x2xf32>) outs(%y3_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_3 = tensor.expand_shape %y3 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %cat = tensor.concat dim(1) %y3_0, %y3_1, %y3_2, %y3_3 : (tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>) -> tensor<1x4x3xf32>
  return %cat : tensor<1x4x3xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#col4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#par4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#bc3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#s3 = affine_map<(d0, d1, d2) -> ()>
#s2 = affine_map<(d0, d1) -> ()>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1, d2) -> (d0, d1)>
// extract_slice form, steps 1 and 2 read each other's slices: untouched.
// CHECK-LABEL: func.func @slices_out_of_order(
// CHECK-NOT: kestrel.selective_scan
// CHECK: math.exp
// CHECK: tensor.concat dim(1)
// CHECK-NOT: kestrel.selective_scan
// CHECK: return
func.func @slices_out_of_order(%x: tensor<1x4x3xf32>, %dt: tensor<1x4x3xf32>, %A: tensor<3x2xf32>, %bm: tensor<1x4x2xf32>, %cm: tensor<1x4x2xf32>) -> tensor<1x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %dt4 = tensor.expand_shape %dt [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %u_e = tensor.empty() : tensor<1x4x3x2xf32>
  %u = linalg.generic {indexing_maps = [#col4, #par4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%dt4, %A : tensor<1x4x3x1xf32>, tensor<3x2xf32>) outs(%u_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %dA_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dA = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%u : tensor<1x4x3x2xf32>) outs(%dA_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = math.exp %i0 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %e_e = tensor.empty() : tensor<1x4x3xf32>
  %e = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%dt, %x : tensor<1x4x3xf32>, tensor<1x4x3xf32>) outs(%e_e : tensor<1x4x3xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3xf32>
  %e4 = tensor.expand_shape %e [[0], [1], [2, 3]] output_shape [1, 4, 3, 1] : tensor<1x4x3xf32> into tensor<1x4x3x1xf32>
  %b4 = tensor.expand_shape %bm [[0], [1, 2], [3]] output_shape [1, 4, 1, 2] : tensor<1x4x2xf32> into tensor<1x4x1x2xf32>
  %dBx_e = tensor.empty() : tensor<1x4x3x2xf32>
  %dBx = linalg.generic {indexing_maps = [#col4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e4, %b4 : tensor<1x4x3x1xf32>, tensor<1x4x1x2xf32>) outs(%dBx_e : tensor<1x4x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x2xf32>
  %hinit = arith.constant dense<0.0> : tensor<1x3x2xf32>
  %idx0 = arith.constant dense<0> : tensor<i64>
  %ga0 = tensor.extract_slice %dA[0, 0, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %m0_e = tensor.empty() : tensor<1x3x2xf32>
  %m0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga0, %hinit : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb0 = tensor.extract_slice %dBx[0, 0, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %h0_e = tensor.empty() : tensor<1x3x2xf32>
  %h0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m0, %gb0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc0 = tensor.extract_slice %cm[0, 0, 0] [1, 1, 2] [1, 1, 1] : tensor<1x4x2xf32> to tensor<1x2xf32>
  %gc3_0 = tensor.expand_shape %gc0 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p0_e = tensor.empty() : tensor<1x3x2xf32>
  %p0 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h0, %gc3_0 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p0_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y0_e = tensor.empty() : tensor<1x3xf32>
  %y0_f = linalg.fill ins(%zero : f32) outs(%y0_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y0 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p0 : tensor<1x3x2xf32>) outs(%y0_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_0 = tensor.expand_shape %y0 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx1 = arith.constant dense<2> : tensor<i64>
  %ga1 = tensor.extract_slice %dA[0, 2, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %m1_e = tensor.empty() : tensor<1x3x2xf32>
  %m1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga1, %h0 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb1 = tensor.extract_slice %dBx[0, 2, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %h1_e = tensor.empty() : tensor<1x3x2xf32>
  %h1 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m1, %gb1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc1 = tensor.extract_slice %cm[0, 2, 0] [1, 1, 2] [1, 1, 1] : tensor<1x4x2xf32> to tensor<1x2xf32>
  %gc3_1 = tensor.expand_shape %gc1 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p1_e = tensor.empty() : tensor<1x3x2xf32>
  %p1 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h1, %gc3_1 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p1_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y1_e = tensor.empty() : tensor<1x3xf32>
  %y1_f = linalg.fill ins(%zero : f32) outs(%y1_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y1 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p1 : tensor<1x3x2xf32>) outs(%y1_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_1 = tensor.expand_shape %y1 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx2 = arith.constant dense<1> : tensor<i64>
  %ga2 = tensor.extract_slice %dA[0, 1, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %m2_e = tensor.empty() : tensor<1x3x2xf32>
  %m2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga2, %h1 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb2 = tensor.extract_slice %dBx[0, 1, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %h2_e = tensor.empty() : tensor<1x3x2xf32>
  %h2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m2, %gb2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc2 = tensor.extract_slice %cm[0, 1, 0] [1, 1, 2] [1, 1, 1] : tensor<1x4x2xf32> to tensor<1x2xf32>
  %gc3_2 = tensor.expand_shape %gc2 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p2_e = tensor.empty() : tensor<1x3x2xf32>
  %p2 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h2, %gc3_2 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p2_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y2_e = tensor.empty() : tensor<1x3xf32>
  %y2_f = linalg.fill ins(%zero : f32) outs(%y2_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y2 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p2 : tensor<1x3x2xf32>) outs(%y2_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_2 = tensor.expand_shape %y2 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %idx3 = arith.constant dense<3> : tensor<i64>
  %ga3 = tensor.extract_slice %dA[0, 3, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %m3_e = tensor.empty() : tensor<1x3x2xf32>
  %m3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ga3, %h2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%m3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gb3 = tensor.extract_slice %dBx[0, 3, 0, 0] [1, 1, 3, 2] [1, 1, 1, 1] : tensor<1x4x3x2xf32> to tensor<1x3x2xf32>
  %h3_e = tensor.empty() : tensor<1x3x2xf32>
  %h3 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m3, %gb3 : tensor<1x3x2xf32>, tensor<1x3x2xf32>) outs(%h3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.addf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %gc3 = tensor.extract_slice %cm[0, 3, 0] [1, 1, 2] [1, 1, 1] : tensor<1x4x2xf32> to tensor<1x2xf32>
  %gc3_3 = tensor.expand_shape %gc3 [[0, 1], [2]] output_shape [1, 1, 2] : tensor<1x2xf32> into tensor<1x1x2xf32>
  %p3_e = tensor.empty() : tensor<1x3x2xf32>
  %p3 = linalg.generic {indexing_maps = [#id3, #bc3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h3, %gc3_3 : tensor<1x3x2xf32>, tensor<1x1x2xf32>) outs(%p3_e : tensor<1x3x2xf32>) {
  ^bb0(%i0: f32, %i1: f32, %o: f32):
    %r = arith.mulf %i0, %i1 : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %y3_e = tensor.empty() : tensor<1x3xf32>
  %y3_f = linalg.fill ins(%zero : f32) outs(%y3_e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y3 = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%p3 : tensor<1x3x2xf32>) outs(%y3_f : tensor<1x3xf32>) {
  ^bb0(%i0: f32, %o: f32):
    %r = arith.addf %i0, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32>
  %y3_3 = tensor.expand_shape %y3 [[0, 1], [2]] output_shape [1, 1, 3] : tensor<1x3xf32> into tensor<1x1x3xf32>
  %cat = tensor.concat dim(1) %y3_0, %y3_1, %y3_2, %y3_3 : (tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>) -> tensor<1x4x3xf32>
  return %cat : tensor<1x4x3xf32>
}

