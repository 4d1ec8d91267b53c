// RUN: kestrel-opt %s --kestrel-lower-to-linalg --split-input-file | FileCheck %s

// GQA with 4 query heads per KV head: K and V are indexed by h floordiv 4,
// never copied. Scores, max, exp, sum and P·V are separate generics.
// CHECK-DAG: #[[KMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d3, d4)>
// CHECK-DAG: #[[VMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d4, d3)>
// CHECK-LABEL: func @gqa_causal
// CHECK-NOT: kestrel.attention
// CHECK: linalg.generic {{.*}}#[[KMAP]]{{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x8x16x4xf32>, tensor<1x2x16x4xf32>)
// CHECK: linalg.generic
// CHECK:   arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK:   linalg.index 2
// CHECK:   linalg.index 3
// CHECK:   arith.cmpi sle
// CHECK:   arith.select
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: linalg.generic {{.*}}#[[VMAP]]
// CHECK: arith.divf
func.func @gqa_causal(%q: tensor<1x8x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x4xf32>) -> tensor<1x8x16x4xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x8x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32> -> tensor<1x8x16x4xf32>
  return %o : tensor<1x8x16x4xf32>
}

// -----

// Without a mask there is no index arithmetic; the default scale is
// 1/sqrt(16) = 0.25.
// CHECK-LABEL: func @unmasked
// CHECK-NOT: linalg.index
// CHECK: arith.constant 2.500000e-01 : f32
func.func @unmasked(%q: tensor<1x1x4x16xf32>, %k: tensor<1x1x4x16xf32>, %v: tensor<1x1x4x16xf32>) -> tensor<1x1x4x16xf32> {
  %o = kestrel.attention %q, %k, %v : tensor<1x1x4x16xf32>, tensor<1x1x4x16xf32>, tensor<1x1x4x16xf32> -> tensor<1x1x4x16xf32>
  return %o : tensor<1x1x4x16xf32>
}

// -----

// A window adds the lower bound and sinks re-admit the first keys.
// CHECK-LABEL: func @window_sinks
// CHECK: arith.cmpi sle
// CHECK: arith.cmpi sgt
// CHECK: arith.cmpi slt
// CHECK: arith.ori
// CHECK: arith.andi
func.func @window_sinks(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  %o = kestrel.attention %q, %k, %v causal window = 3 sinks = 1 : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}

// -----

// bf16 storage: inputs widened to f32, the result narrowed once at the end;
// softcap as c·tanh(x/c).
// CHECK-LABEL: func @bf16_softcap
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.tanh
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @bf16_softcap(%q: tensor<1x1x8x4xbf16>, %k: tensor<1x1x8x4xbf16>, %v: tensor<1x1x8x4xbf16>) -> tensor<1x1x8x4xbf16> {
  %o = kestrel.attention %q, %k, %v softcap = 30.0 : tensor<1x1x8x4xbf16>, tensor<1x1x8x4xbf16>, tensor<1x1x8x4xbf16> -> tensor<1x1x8x4xbf16>
  return %o : tensor<1x1x8x4xbf16>
}
