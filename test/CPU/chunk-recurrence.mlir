// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile))" | FileCheck %s --check-prefix=TILE
// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-tile{chunk-size=4},kestrel-fuse-io-aware))" | FileCheck %s

// kestrel-tile records the chunk length (64 by default, clamped to T); the
// chunked form of a Gated DeltaNet with T = 10, C = 4: a parallel loop over
// (batch, head), a loop over the two full chunks carrying the [Dk, Dv] state
// and this head's output rows, then the statically shaped tail chunk of 2.
// TILE-LABEL: func @gated_delta
// TILE: kestrel.gated_recurrence {{.*}} {kestrel.chunk = #kestrel.chunk<10>}
// CHECK-LABEL: func @gated_delta
// CHECK-NOT: kestrel.gated_recurrence
// CHECK: scf.forall (%[[B:.*]], %[[H:.*]]) in (1, 2) shared_outs(%[[OUT:.*]] = %{{.*}}, %[[ST:.*]] = %{{.*}})
// CHECK:   %[[KV:.*]] = arith.divui %[[H]], %c2
// CHECK:   scf.for %[[C:.*]] = %c0 to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<8x4xf32>, tensor<10x4xf32>)
// CHECK:     %[[C0:.*]] = arith.muli %[[C]], %c4
// CHECK:     tensor.extract_slice %arg1[%[[B]], %[[KV]], %[[C0]], 0] [1, 1, 4, 8] [1, 1, 1, 1] : tensor<1x1x10x8xf32> to tensor<4x8xf32>
// Cumulative log-gates.
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<4xf32>) outs(%{{.*}} : tensor<4xf32>)
// Q Kᵀ, then masked by D_ij = e^{b_i - b_j}.
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}}ins({{.*}} : tensor<4x8xf32>, tensor<8x4xf32>) outs({{.*}} : tensor<4x4xf32>) attrs = {kestrel.contraction}
// CHECK:       arith.cmpi ule
// CHECK:       math.exp
// K Kᵀ masked strictly below the diagonal and scaled by beta: A.
// CHECK:     linalg.generic {{.*}}ins({{.*}} : tensor<4x8xf32>, tensor<8x4xf32>) outs({{.*}} : tensor<4x4xf32>) attrs = {kestrel.contraction}
// CHECK:       arith.cmpi ult
// T = (I + A)^-1 by forward substitution, one row per iteration.
// CHECK:     scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<4x4xf32>)
// CHECK:       iterator_types = ["reduction", "parallel"]
// CHECK:       tensor.insert_slice {{.*}} : tensor<4xf32> into tensor<4x4xf32>
// W = T diag(beta e^b) K, W S, U = T diag(beta) V - W S.
// CHECK:     ins({{.*}} : tensor<4x4xf32>, tensor<4x8xf32>) outs({{.*}} : tensor<4x8xf32>) attrs = {kestrel.contraction}
// CHECK:     ins({{.*}} : tensor<4x8xf32>, tensor<8x4xf32>) outs({{.*}} : tensor<4x4xf32>) attrs = {kestrel.contraction}
// CHECK:     ins({{.*}} : tensor<4x4xf32>, tensor<4x4xf32>) outs({{.*}} : tensor<4x4xf32>) attrs = {kestrel.contraction}
// CHECK:       arith.subf
// Inter-chunk (Q e^b) S, then intra-chunk P U accumulated onto it.
// CHECK:     ins({{.*}} : tensor<4x8xf32>, tensor<8x4xf32>) outs({{.*}} : tensor<4x4xf32>) attrs = {kestrel.contraction}
// CHECK:     ins({{.*}} : tensor<4x4xf32>, tensor<4x4xf32>) outs({{.*}} : tensor<4x4xf32>) attrs = {kestrel.contraction}
// State: decayed in place, plus (K e^{b_last - b})ᵀ U.
// CHECK:     ins({{.*}} : tensor<8x4xf32>, tensor<4x4xf32>) outs({{.*}} : tensor<8x4xf32>) attrs = {kestrel.contraction}
// CHECK:     tensor.insert_slice {{.*}}[%[[C0]], 0] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<10x4xf32>
// CHECK:     scf.yield
// The tail chunk: rows 8 and 9.
// CHECK:   tensor.extract_slice %arg0[%[[B]], %[[H]], %c8, 0] [1, 1, 2, 8] [1, 1, 1, 1] : tensor<1x2x10x8xf32> to tensor<2x8xf32>
// CHECK:   scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x2xf32>)
// CHECK:   tensor.insert_slice {{.*}}[%c8, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<10x4xf32>
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[B]], %[[H]], 0, 0] [1, 1, 10, 4] [1, 1, 1, 1] : tensor<10x4xf32> into tensor<1x2x10x4xf32>
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[ST]][%[[B]], %[[H]], 0, 0] [1, 1, 8, 4] [1, 1, 1, 1] : tensor<8x4xf32> into tensor<1x2x8x4xf32>
func.func @gated_delta(%q: tensor<1x2x10x8xf32>, %k: tensor<1x1x10x8xf32>, %v: tensor<1x1x10x4xf32>, %g: tensor<1x2x10xf32>, %b: tensor<1x2x10xf32>) -> (tensor<1x2x10x4xf32>, tensor<1x2x8x4xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x2x10xf32>) beta(%b : tensor<1x2x10xf32>) scale = 0.5
      : tensor<1x2x10x8xf32>, tensor<1x1x10x8xf32>, tensor<1x1x10x4xf32> -> tensor<1x2x10x4xf32>, tensor<1x2x8x4xf32>
  return %o, %s : tensor<1x2x10x4xf32>, tensor<1x2x8x4xf32>
}

// -----

// Ungated linear attention with T = 100 > 64: the default chunk. With
// chunk-size=4 and T divisible by it, no tail; no exponential anywhere and
// no forward substitution; the initial state is added to a fresh zero state.
// TILE-LABEL: func @linear
// TILE: kestrel.chunk = #kestrel.chunk<64>
// CHECK-LABEL: func @linear
// CHECK: scf.forall
// CHECK:   linalg.fill
// CHECK:   linalg.generic {{.*}}ins(%{{.*}} : tensor<8x4xf16>) outs(%{{.*}} : tensor<8x4xf32>)
// CHECK:   scf.for %{{.*}} = %c0 to %c25 step %c1
// CHECK-NOT: math.exp
// CHECK-NOT: scf.for
// CHECK:   scf.forall.in_parallel
func.func @linear(%q: tensor<1x1x100x8xf16>, %v: tensor<1x1x100x4xf16>, %s0: tensor<1x1x8x4xf16>) -> (tensor<1x1x100x4xf16>, tensor<1x1x8x4xf16>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %v gate = none initial_state(%s0 : tensor<1x1x8x4xf16>)
      : tensor<1x1x100x8xf16>, tensor<1x1x100x8xf16>, tensor<1x1x100x4xf16> -> tensor<1x1x100x4xf16>, tensor<1x1x8x4xf16>
  return %o, %s : tensor<1x1x100x4xf16>, tensor<1x1x8x4xf16>
}

// -----

// GLA with a chunk of 32 (kept by kestrel-tile): the intra-chunk product by
// 16-row sub-blocks. A diagonal block is one product factored through its
// first row when its gate span max |b_x - b_0| is at most 20 (checked at run
// time), else the exact form with an exponent per term; the block below the
// diagonal is a plain product.
// TILE-LABEL: func @gla
// TILE: kestrel.chunk = #kestrel.chunk<32>
// CHECK-LABEL: func @gla
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1
// CHECK:   linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}}outs(%{{.*}} : tensor<32x8xf32>)
// CHECK:   %[[SPAN:.*]] = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]{{.*}}outs(%{{.*}} : tensor<f32>)
// CHECK:     math.absf
// CHECK:   %[[S:.*]] = tensor.extract %[[SPAN]][] : tensor<f32>
// CHECK:   %[[SAFE:.*]] = arith.cmpf ole, %[[S]], %cst{{.*}} : f32
// CHECK:   scf.if %[[SAFE]] -> (tensor<16x16xf32>)
// CHECK:     ins({{.*}} : tensor<16x8xf32>, tensor<8x16xf32>) outs({{.*}} : tensor<16x16xf32>) attrs = {kestrel.contraction}
// CHECK:   } else {
// CHECK:     linalg.generic {{.*}}ins({{.*}} : tensor<16x8xf32>, tensor<16x8xf32>, tensor<8x16xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<16x16xf32>)
// CHECK:       math.exp
// CHECK:   tensor.insert_slice {{.*}}[0, 0] [16, 16] [1, 1] : tensor<16x16xf32> into tensor<32x32xf32>
// CHECK:   scf.if
// CHECK:   tensor.insert_slice {{.*}}[16, 16] [16, 16] [1, 1] : tensor<16x16xf32> into tensor<32x32xf32>
// CHECK:   ins({{.*}} : tensor<16x8xf32>, tensor<8x16xf32>) outs({{.*}} : tensor<16x16xf32>) attrs = {kestrel.contraction}
// CHECK:   tensor.insert_slice {{.*}}[16, 0] [16, 16] [1, 1] : tensor<16x16xf32> into tensor<32x32xf32>
func.func @gla(%q: tensor<1x1x64x8xf32>, %v: tensor<1x1x64x4xf32>, %g: tensor<1x1x64x8xf32>) -> (tensor<1x1x64x4xf32>, tensor<1x1x8x4xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %v gate = vector log_gate(%g : tensor<1x1x64x8xf32>) {kestrel.chunk = #kestrel.chunk<32>}
      : tensor<1x1x64x8xf32>, tensor<1x1x64x8xf32>, tensor<1x1x64x4xf32> -> tensor<1x1x64x4xf32>, tensor<1x1x8x4xf32>
  return %o, %s : tensor<1x1x64x4xf32>, tensor<1x1x8x4xf32>
}
