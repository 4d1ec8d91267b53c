// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-specialize-sparsity{block-q=4 block-k=4},kestrel-fuse-io-aware))" | FileCheck %s

// Causal attention becomes a parallel loop over (batch, head, query tile)
// whose key loop runs only over the visited tiles of the constant range
// table; no T×S tensor exists, only per-tile ones. Full tiles take the
// unmasked branch.
// CHECK-LABEL: func @causal_gqa
// CHECK-DAG: %[[RANGES:.*]] = arith.constant dense<{{\[}}[0, 1, 0, 0], [0, 2, 0, 0], [0, 3, 0, 0], [0, 4, 0, 0]]> : tensor<4x4xi64>
// CHECK-DAG: %[[CLASSES:.*]] = arith.constant dense<{{\[}}[2, 0, 0, 0], [1, 2, 0, 0], [1, 1, 2, 0], [1, 1, 1, 2]]> : tensor<4x4xi8>
// CHECK-NOT: tensor<1x4x16x16xf32>
// CHECK: scf.forall (%[[B:.*]], %[[H:.*]], %[[I:.*]]) in (1, 4, 4)
// CHECK:   %[[KV:.*]] = arith.divui %[[H]], %c2
// CHECK:   tensor.extract %[[RANGES]][%[[I]], %c0]
// CHECK:   scf.for %[[J:.*]] = {{.*}} iter_args
// CHECK:     tensor.extract_slice %{{.*}}[%[[B]], %[[KV]], {{.*}}] [1, 1, 4, 8] [1, 1, 1, 1] : tensor<1x2x16x8xf32> to tensor<4x8xf32>
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]
// CHECK:     %[[CLS:.*]] = tensor.extract %[[CLASSES]][%[[I]], %[[J]]] : tensor<4x4xi8>
// CHECK:     %[[FULL:.*]] = arith.cmpi eq, %[[CLS]], %c1_i8
// CHECK:     scf.if %[[FULL]]
// CHECK:     } else {
// CHECK:       linalg.index 0
// CHECK:     arith.maximumf
// CHECK:     math.exp
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%[[B]], %[[H]], {{.*}}] [1, 1, 4, 8]
func.func @causal_gqa(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

// Window with sinks: two visited ranges per query tile (the sink tile and
// the band). A ragged last tile (T = 22) uses a dynamic extent.
// CHECK-LABEL: func @window_ragged
// CHECK: arith.constant dense<{{\[}}[0, 1, 0, 0], [0, 2, 0, 0], [0, 3, 0, 0], [0, 1, 2, 4], [0, 1, 3, 5], [0, 1, 4, 6]]> : tensor<6x4xi64>
// CHECK: scf.forall
// CHECK: arith.minsi
// CHECK: scf.for
// CHECK: scf.for
func.func @window_ragged(%q: tensor<1x1x22x8xf32>) -> tensor<1x1x22x8xf32> {
  %o = kestrel.attention %q, %q, %q causal window = 4 sinks = 2 : tensor<1x1x22x8xf32>, tensor<1x1x22x8xf32>, tensor<1x1x22x8xf32> -> tensor<1x1x22x8xf32>
  return %o : tensor<1x1x22x8xf32>
}

// -----

// Without a mask there is no class lookup and no branch.
// CHECK-LABEL: func @unmasked
// CHECK-NOT: scf.if
// CHECK: scf.forall
func.func @unmasked(%q: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %o = kestrel.attention %q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32> -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}
