// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s

// kestrel-recognize, causal conv1d: a depthwise conv (loops n, g, m, l, c, k)
// over x zero-padded K-1 on the left, cropped to L, optional bias [C, 1] and
// SiLU, becomes kestrel.causal_conv1d; near misses stay.

#xp = affine_map<(n, g, m, l, c, k) -> (n, g, c, l + k)>
#w = affine_map<(n, g, m, l, c, k) -> (g, m, c, k)>
#y = affine_map<(n, g, m, l, c, k) -> (n, g, m, l)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#col = affine_map<(d0, d1, d2) -> (d1, 0)>

// CHECK-LABEL: func.func @silu_bias(
// CHECK-SAME: %[[X:[^:]*]]: tensor<1x4x6xf32>, %[[W:[^:]*]]: tensor<4x1x4xf32>, %[[B:[^:]*]]: tensor<4xf32>
// CHECK: %[[W2:.*]] = tensor.collapse_shape %[[W]] {{\[}}[0, 1], [2]] : tensor<4x1x4xf32> into tensor<4x4xf32>
// CHECK: %[[Y:.*]], %{{.*}} = kestrel.causal_conv1d %[[X]], %[[W2]] activation = silu bias(%[[B]] : tensor<4xf32>) : tensor<1x4x6xf32>, tensor<4x4xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @silu_bias(%x: tensor<1x4x6xf32>, %w: tensor<4x1x4xf32>, %b: tensor<4xf32>) -> tensor<1x4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %xp = tensor.pad %x low[0, 0, 3] high[0, 0, 3] {
  ^bb0(%i: index, %j: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6xf32> to tensor<1x4x12xf32>
  %xp4 = tensor.expand_shape %xp [[0], [1, 2], [3]] output_shape [1, 4, 1, 12] : tensor<1x4x12xf32> into tensor<1x4x1x12xf32>
  %w4 = tensor.expand_shape %w [[0, 1], [2], [3]] output_shape [4, 1, 1, 4] : tensor<4x1x4xf32> into tensor<4x1x1x4xf32>
  %e = tensor.empty() : tensor<1x4x1x9xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x1x9xf32>) -> tensor<1x4x1x9xf32>
  %c4 = linalg.generic {indexing_maps = [#xp, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%xp4, %w4 : tensor<1x4x1x12xf32>, tensor<4x1x1x4xf32>) outs(%f : tensor<1x4x1x9xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x1x9xf32>
  %c = tensor.collapse_shape %c4 [[0], [1, 2], [3]] : tensor<1x4x1x9xf32> into tensor<1x4x9xf32>
  %b2 = tensor.expand_shape %b [[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
  %cb0 = tensor.empty() : tensor<1x4x9xf32>
  %cb = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c, %b2 : tensor<1x4x9xf32>, tensor<4x1xf32>) outs(%cb0 : tensor<1x4x9xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %r = arith.addf %a, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x4x9xf32>
  %y = tensor.extract_slice %cb[0, 0, 0] [1, 4, 6] [1, 1, 1] : tensor<1x4x9xf32> to tensor<1x4x6xf32>
  %sg0 = tensor.empty() : tensor<1x4x6xf32>
  %sg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x4x6xf32>) outs(%sg0 : tensor<1x4x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %one2 = arith.constant 1.0 : f32
    %d = arith.addf %one2, %ex : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x4x6xf32>
  %z0 = tensor.empty() : tensor<1x4x6xf32>
  %z = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %sg : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%z0 : tensor<1x4x6xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %r = arith.mulf %a, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x4x6xf32>
  return %z : tensor<1x4x6xf32>
}

// -----

#xp = affine_map<(n, g, m, l, c, k) -> (n, g, c, l + k)>
#w = affine_map<(n, g, m, l, c, k) -> (g, m, c, k)>
#y = affine_map<(n, g, m, l, c, k) -> (n, g, m, l)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#col = affine_map<(d0, d1, d2) -> (d1, 0)>

// CHECK-LABEL: func.func @no_crop_no_bias(
// CHECK: kestrel.causal_conv1d %{{.*}}, %{{.*}} activation = none :
// CHECK-NOT: linalg.generic
func.func @no_crop_no_bias(%x: tensor<1x4x6xf32>, %w: tensor<4x1x4xf32>, %b: tensor<4xf32>) -> tensor<1x4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %xp = tensor.pad %x low[0, 0, 3] high[0, 0, 0] {
  ^bb0(%i: index, %j: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6xf32> to tensor<1x4x9xf32>
  %xp4 = tensor.expand_shape %xp [[0], [1, 2], [3]] output_shape [1, 4, 1, 9] : tensor<1x4x9xf32> into tensor<1x4x1x9xf32>
  %w4 = tensor.expand_shape %w [[0, 1], [2], [3]] output_shape [4, 1, 1, 4] : tensor<4x1x4xf32> into tensor<4x1x1x4xf32>
  %e = tensor.empty() : tensor<1x4x1x6xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x1x6xf32>) -> tensor<1x4x1x6xf32>
  %c4 = linalg.generic {indexing_maps = [#xp, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%xp4, %w4 : tensor<1x4x1x9xf32>, tensor<4x1x1x4xf32>) outs(%f : tensor<1x4x1x6xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x1x6xf32>
  %c = tensor.collapse_shape %c4 [[0], [1, 2], [3]] : tensor<1x4x1x6xf32> into tensor<1x4x6xf32>
  return %c : tensor<1x4x6xf32>
}

// -----

#xp = affine_map<(n, g, m, l, c, k) -> (n, g, c, l + k)>
#w = affine_map<(n, g, m, l, c, k) -> (g, m, c, k)>
#y = affine_map<(n, g, m, l, c, k) -> (n, g, m, l)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#col = affine_map<(d0, d1, d2) -> (d1, 0)>

// CHECK-LABEL: func.func @not_causal_pad(
// CHECK-NOT: kestrel.causal_conv1d
// CHECK: tensor.pad
func.func @not_causal_pad(%x: tensor<1x4x6xf32>, %w: tensor<4x1x4xf32>, %b: tensor<4xf32>) -> tensor<1x4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %xp = tensor.pad %x low[0, 0, 2] high[0, 0, 4] {
  ^bb0(%i: index, %j: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6xf32> to tensor<1x4x12xf32>
  %xp4 = tensor.expand_shape %xp [[0], [1, 2], [3]] output_shape [1, 4, 1, 12] : tensor<1x4x12xf32> into tensor<1x4x1x12xf32>
  %w4 = tensor.expand_shape %w [[0, 1], [2], [3]] output_shape [4, 1, 1, 4] : tensor<4x1x4xf32> into tensor<4x1x1x4xf32>
  %e = tensor.empty() : tensor<1x4x1x9xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x1x9xf32>) -> tensor<1x4x1x9xf32>
  %c4 = linalg.generic {indexing_maps = [#xp, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%xp4, %w4 : tensor<1x4x1x12xf32>, tensor<4x1x1x4xf32>) outs(%f : tensor<1x4x1x9xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x1x9xf32>
  %c = tensor.collapse_shape %c4 [[0], [1, 2], [3]] : tensor<1x4x1x9xf32> into tensor<1x4x9xf32>
  %b2 = tensor.expand_shape %b [[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
  %cb0 = tensor.empty() : tensor<1x4x9xf32>
  %cb = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c, %b2 : tensor<1x4x9xf32>, tensor<4x1xf32>) outs(%cb0 : tensor<1x4x9xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %r = arith.addf %a, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x4x9xf32>
  %y = tensor.extract_slice %cb[0, 0, 0] [1, 4, 6] [1, 1, 1] : tensor<1x4x9xf32> to tensor<1x4x6xf32>
  %sg0 = tensor.empty() : tensor<1x4x6xf32>
  %sg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x4x6xf32>) outs(%sg0 : tensor<1x4x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %one2 = arith.constant 1.0 : f32
    %d = arith.addf %one2, %ex : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x4x6xf32>
  %z0 = tensor.empty() : tensor<1x4x6xf32>
  %z = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %sg : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%z0 : tensor<1x4x6xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %r = arith.mulf %a, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x4x6xf32>
  return %z : tensor<1x4x6xf32>
}

// -----

#xp = affine_map<(n, g, m, l, c, k) -> (n, g, c, l + k)>
#w = affine_map<(n, g, m, l, c, k) -> (g, m, c, k)>
#y = affine_map<(n, g, m, l, c, k) -> (n, g, m, l)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#col = affine_map<(d0, d1, d2) -> (d1, 0)>

// CHECK-LABEL: func.func @crop_shifted(
// CHECK-NOT: kestrel.causal_conv1d
// CHECK: tensor.extract_slice
func.func @crop_shifted(%x: tensor<1x4x6xf32>, %w: tensor<4x1x4xf32>, %b: tensor<4xf32>) -> tensor<1x4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %xp = tensor.pad %x low[0, 0, 3] high[0, 0, 3] {
  ^bb0(%i: index, %j: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6xf32> to tensor<1x4x12xf32>
  %xp4 = tensor.expand_shape %xp [[0], [1, 2], [3]] output_shape [1, 4, 1, 12] : tensor<1x4x12xf32> into tensor<1x4x1x12xf32>
  %w4 = tensor.expand_shape %w [[0, 1], [2], [3]] output_shape [4, 1, 1, 4] : tensor<4x1x4xf32> into tensor<4x1x1x4xf32>
  %e = tensor.empty() : tensor<1x4x1x9xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x1x9xf32>) -> tensor<1x4x1x9xf32>
  %c4 = linalg.generic {indexing_maps = [#xp, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%xp4, %w4 : tensor<1x4x1x12xf32>, tensor<4x1x1x4xf32>) outs(%f : tensor<1x4x1x9xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x1x9xf32>
  %c = tensor.collapse_shape %c4 [[0], [1, 2], [3]] : tensor<1x4x1x9xf32> into tensor<1x4x9xf32>
  %b2 = tensor.expand_shape %b [[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
  %cb0 = tensor.empty() : tensor<1x4x9xf32>
  %cb = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c, %b2 : tensor<1x4x9xf32>, tensor<4x1xf32>) outs(%cb0 : tensor<1x4x9xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %r = arith.addf %a, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x4x9xf32>
  %y = tensor.extract_slice %cb[0, 0, 1] [1, 4, 6] [1, 1, 1] : tensor<1x4x9xf32> to tensor<1x4x6xf32>
  %sg0 = tensor.empty() : tensor<1x4x6xf32>
  %sg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x4x6xf32>) outs(%sg0 : tensor<1x4x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %one2 = arith.constant 1.0 : f32
    %d = arith.addf %one2, %ex : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x4x6xf32>
  %z0 = tensor.empty() : tensor<1x4x6xf32>
  %z = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %sg : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%z0 : tensor<1x4x6xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %r = arith.mulf %a, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x4x6xf32>
  return %z : tensor<1x4x6xf32>
}
