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

// -----

// A block map leaving three runs of key tiles for query tile 0 (blocks 0, 2
// and 4): the key loop walks explicit per-tile visit lists (counts and
// lists as constants), the skipped tiles are never loaded. The runtime key
// length bounds the walk (tiles starting at or past it are not counted)
// and makes a statically full tile take the masked branch when it crosses
// the length; the masked branch reads the block map and compares the key
// with the length. lse = m + log l is a second shared output.
// CHECK-LABEL: func @block_lists_lengths_lse
// CHECK-DAG: %[[COUNTS:.*]] = arith.constant dense<3> : tensor<2xi64>
// CHECK-DAG: %[[LISTS:.*]] = arith.constant dense<{{\[}}[0, 2, 4], [1, 2, 3]]> : tensor<2x3xi64>
// CHECK-DAG: %[[MAP:.*]] = arith.constant dense<{{\[}}[1, 0, 1, 0, 1], [0, 1, 1, 1, 0]]> : tensor<2x5xi8>
// CHECK: scf.forall (%[[B:.*]], %[[H:.*]], %[[I:.*]]) in (1, 1, 2) shared_outs(%[[OUT:.*]] = %{{.*}}, %[[LSE:.*]] = %{{.*}}) -> (tensor<1x1x8x8xf32>, tensor<1x1x8xf32>)
// CHECK:   %[[LEN:.*]] = tensor.extract %{{.*}}[%[[B]]] : tensor<1xi32>
// CHECK:   %[[LENI:.*]] = arith.index_cast %[[LEN]] : i32 to index
// CHECK:   %[[CLAMPED:.*]] = arith.maxsi %[[LENI]], %c0
// CHECK:   %[[NTILES:.*]] = arith.ceildivsi %[[CLAMPED]], %c4
// CHECK:   %[[LIVE:.*]] = arith.minsi %c5, %[[NTILES]]
// CHECK:   %[[COUNT:.*]] = tensor.extract %[[COUNTS]][%[[I]]]
// CHECK:   %[[BELOW:.*]] = scf.for {{.*}} -> (index)
// CHECK:     tensor.extract %[[LISTS]]
// CHECK:     arith.cmpi slt, %{{.*}}, %[[LIVE]]
// CHECK:   scf.for %[[IT:.*]] = %c0 to %[[BELOW]] step %c1 iter_args
// CHECK:     %[[J64:.*]] = tensor.extract %[[LISTS]][%[[I]], %[[IT]]] : tensor<2x3xi64>
// CHECK:     %[[J:.*]] = arith.index_cast %[[J64]] : i64 to index
// CHECK:     %[[S0:.*]] = arith.muli %[[J]], %c4
// CHECK:     tensor.extract_slice %{{.*}}[%[[B]], %{{.*}}, %[[S0]], 0] [1, 1, 4, 8]
// CHECK:     %[[END:.*]] = arith.minsi %{{.*}}, %c20
// CHECK:     %[[INSIDE:.*]] = arith.cmpi sle, %[[END]], %{{.*}}
// CHECK:     %[[FULL:.*]] = arith.andi %{{.*}}, %[[INSIDE]]
// CHECK:     scf.if %[[FULL]]
// CHECK:     } else {
// CHECK:       tensor.extract %[[MAP]]
// CHECK:       arith.cmpi ne
// CHECK:       arith.extsi %[[LEN]] : i32 to i64
// CHECK:       arith.cmpi slt
// CHECK:   math.log
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[B]], %[[H]], %{{.*}}, 0] [1, 1, 4, 8]
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[LSE]][%[[B]], %[[H]], %{{.*}}] [1, 1, 4] [1, 1, 1] : tensor<4xf32> into tensor<1x1x8xf32>
func.func @block_lists_lengths_lse(%q: tensor<1x1x8x8xf32>, %k: tensor<1x1x20x8xf32>, %len: tensor<1xi32>) -> (tensor<1x1x8x8xf32>, tensor<1x1x8xf32>) {
  %o, %l = kestrel.attention %q, %k, %k key_lengths(%len : tensor<1xi32>) block_size = [4, 4]
      block_map = dense<[[true, false, true, false, true], [false, true, true, true, false]]> : tensor<2x5xi1>
      : tensor<1x1x8x8xf32>, tensor<1x1x20x8xf32>, tensor<1x1x20x8xf32> -> tensor<1x1x8x8xf32>, tensor<1x1x8xf32>
  return %o, %l : tensor<1x1x8x8xf32>, tensor<1x1x8xf32>
}

// -----

// Key lengths with the range table: each range's upper bound is clamped to
// the number of tiles that start below the length.
// CHECK-LABEL: func @causal_lengths
// CHECK: %[[LIVE:.*]] = arith.minsi %c4, %{{.*}} : index
// CHECK: %[[HI0:.*]] = arith.minsi %{{.*}}, %[[LIVE]] : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[HI0]]
// CHECK: %[[HI1:.*]] = arith.minsi %{{.*}}, %[[LIVE]] : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[HI1]]
func.func @causal_lengths(%q: tensor<2x1x16x8xf32>, %len: tensor<2xi32>) -> tensor<2x1x16x8xf32> {
  %o = kestrel.attention %q, %q, %q key_lengths(%len : tensor<2xi32>) causal : tensor<2x1x16x8xf32>, tensor<2x1x16x8xf32>, tensor<2x1x16x8xf32> -> tensor<2x1x16x8xf32>
  return %o : tensor<2x1x16x8xf32>
}
