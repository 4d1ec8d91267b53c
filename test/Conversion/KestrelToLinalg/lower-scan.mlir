// RUN: kestrel-opt %s --kestrel-lower-to-linalg --split-input-file | FileCheck %s

// Every option of the selective scan, bf16 activations: Δ (bias, softplus)
// once before the loop; the initial state copied (the loop updates it in
// place); one scf.for over T = 5 carrying the f32 state and scan output, with
// per step the in-place state update and the reduction over N into column t;
// D skip, z gate and the narrowing once after the loop.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[CHAN:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-DAG: #[[STEP:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[BC:.*]] = affine_map<(d0, d1, d2) -> (d0, d2, 0)>
// CHECK-LABEL: func @scan
// CHECK-SAME: (%[[X:[^:]*]]: tensor<2x3x5xbf16>, %[[DT:[^:]*]]: tensor<2x3x5xbf16>, %[[AA:[^:]*]]: tensor<3x4xf32>, %[[B:[^:]*]]: tensor<2x4x5xbf16>, %[[C:[^:]*]]: tensor<2x4x5xbf16>, %[[D:[^:]*]]: tensor<3xf32>, %[[Z:[^:]*]]: tensor<2x3x5xbf16>, %[[DB:[^:]*]]: tensor<3xf32>, %[[H0:[^:]*]]: tensor<2x3x4xf32>)
// CHECK-NOT: kestrel.selective_scan
// CHECK: %[[DELTA:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[CHAN]], #[[ID]]], {{.*}} ins(%[[DT]], %[[DB]] : {{.*}}) outs(%{{.*}} : tensor<2x3x5xf32>)
// CHECK:   arith.addf
// CHECK:   arith.minimumf
// CHECK:   math.exp
// CHECK:   math.log1p
// CHECK:   arith.cmpf ogt
// CHECK:   arith.select
// CHECK: %[[S0:.*]] = linalg.copy ins(%[[H0]] : tensor<2x3x4xf32>)
// CHECK: %[[Y0:.*]] = tensor.empty() : tensor<2x3x5xf32>
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[T:.*]] = %c0 to %c5 step %c1 iter_args(%[[S:.*]] = %[[S0]], %[[Y:.*]] = %[[Y0]]) -> (tensor<2x3x4xf32>, tensor<2x3x5xf32>)
// CHECK:   %[[XT:.*]] = tensor.extract_slice %[[X]][0, 0, %[[T]]] [2, 3, 1] [1, 1, 1] : tensor<2x3x5xbf16> to tensor<2x3x1xbf16>
// CHECK:   %[[DTT:.*]] = tensor.extract_slice %[[DELTA]][0, 0, %[[T]]] [2, 3, 1]
// CHECK:   %[[BT:.*]] = tensor.extract_slice %[[B]][0, 0, %[[T]]] [2, 4, 1]
// CHECK:   %[[CT:.*]] = tensor.extract_slice %[[C]][0, 0, %[[T]]] [2, 4, 1]
// CHECK:   %[[NEW:.*]] = linalg.generic {indexing_maps = [#[[STEP]], #[[A]], #[[BC]], #[[STEP]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[DTT]], %[[AA]], %[[BT]], %[[XT]] : {{.*}}) outs(%[[S]] : tensor<2x3x4xf32>)
// CHECK:     math.exp
// CHECK:   %[[COL:.*]] = tensor.extract_slice %[[Y]][0, 0, %[[T]]] [2, 3, 1]
// CHECK:   %[[ZERO:.*]] = linalg.fill {{.*}} outs(%[[COL]] : tensor<2x3x1xf32>)
// CHECK:   %[[YT:.*]] = linalg.generic {indexing_maps = [#[[BC]], #[[ID]], #[[STEP]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[CT]], %[[NEW]] : {{.*}}) outs(%[[ZERO]] : tensor<2x3x1xf32>)
// CHECK:   %[[INS:.*]] = tensor.insert_slice %[[YT]] into %[[Y]][0, 0, %[[T]]] [2, 3, 1]
// CHECK:   scf.yield %[[NEW]], %[[INS]]
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[LOOP]]#1, %[[D]], %[[X]], %[[Z]] : {{.*}}) outs(%{{.*}} : tensor<2x3x5xbf16>)
// CHECK:   arith.divf
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %[[OUT]], %[[LOOP]]#0
func.func @scan(%x: tensor<2x3x5xbf16>, %dt: tensor<2x3x5xbf16>, %a: tensor<3x4xf32>, %b: tensor<2x4x5xbf16>, %c: tensor<2x4x5xbf16>, %d: tensor<3xf32>, %z: tensor<2x3x5xbf16>, %db: tensor<3xf32>, %h0: tensor<2x3x4xf32>) -> (tensor<2x3x5xbf16>, tensor<2x3x4xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c D(%d : tensor<3xf32>) z(%z : tensor<2x3x5xbf16>) delta_bias(%db : tensor<3xf32>) initial_state(%h0 : tensor<2x3x4xf32>) delta_softplus : tensor<2x3x5xbf16>, tensor<2x3x5xbf16>, tensor<3x4xf32>, tensor<2x4x5xbf16>, tensor<2x4x5xbf16> -> tensor<2x3x5xbf16>, tensor<2x3x4xf32>
  return %y, %h : tensor<2x3x5xbf16>, tensor<2x3x4xf32>
}

// -----

// No options, f32: Δ used as given (no softplus), zero initial state, and
// no epilogue: the loop's output is the result.
// CHECK-LABEL: func @plain
// CHECK-NOT: math.log1p
// CHECK: %[[S0:.*]] = linalg.fill {{.*}} -> tensor<1x2x3xf32>
// CHECK-NOT: linalg.copy
// CHECK: %[[LOOP:.*]]:2 = scf.for {{.*}} iter_args(%{{.*}} = %[[S0]], %{{.*}} = %{{.*}}) -> (tensor<1x2x3xf32>, tensor<1x2x4xf32>)
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK-NEXT: return %[[LOOP]]#1, %[[LOOP]]#0
func.func @plain(%x: tensor<1x2x4xf32>, %dt: tensor<1x2x4xf32>, %a: tensor<2x3xf32>, %b: tensor<1x3x4xf32>, %c: tensor<1x3x4xf32>) -> (tensor<1x2x4xf32>, tensor<1x2x3xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<2x3xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32> -> tensor<1x2x4xf32>, tensor<1x2x3xf32>
  return %y, %h : tensor<1x2x4xf32>, tensor<1x2x3xf32>
}

// -----

// causal_conv1d with state and bias, f16: xs = state ++ x gathered
// elementwise (both reads clamped, then a select), the bias broadcast into
// the f32 accumulator, one reduction over the kernel taps reading xs at
// t + i, silu and the narrowing in one pass, and new_state read from xs at
// t + T. There is no loop over time.
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG: #[[TAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 + d3)>
// CHECK-DAG: #[[OUT4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[LAST:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2 + 6)>
// CHECK-LABEL: func @conv
// CHECK-SAME: (%[[X:[^:]*]]: tensor<2x3x6xf16>, %[[WT:[^:]*]]: tensor<3x4xf16>, %[[BIAS:[^:]*]]: tensor<3xf16>, %[[S0:[^:]*]]: tensor<2x3x3xf16>)
// CHECK-NOT: kestrel.causal_conv1d
// CHECK-NOT: scf.for
// CHECK: %[[XS:.*]] = linalg.generic {indexing_maps = [#[[ID3]]], {{.*}} outs(%{{.*}} : tensor<2x3x9xf16>)
// CHECK:   %[[J:.*]] = linalg.index 2
// CHECK:   arith.cmpi sge, %[[J]], %c3
// CHECK:   tensor.extract %[[X]]
// CHECK:   arith.minsi %[[J]], %c2
// CHECK:   tensor.extract %[[S0]]
// CHECK:   arith.select
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<3xf16>) outs(%{{.*}} : tensor<2x3x6xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[W]], #[[TAP]], #[[OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[WT]], %[[XS]] : tensor<3x4xf16>, tensor<2x3x9xf16>) outs(%[[ACC]] : tensor<2x3x6xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x3x6xf32>) outs(%{{.*}} : tensor<2x3x6xf16>)
// CHECK:   math.exp
// CHECK:   arith.divf
// CHECK:   arith.truncf %{{.*}} : f32 to f16
// CHECK: %[[NEW:.*]] = linalg.generic {indexing_maps = [#[[LAST]], #[[ID3]]], {{.*}} ins(%[[XS]] : tensor<2x3x9xf16>) outs(%{{.*}} : tensor<2x3x3xf16>)
// CHECK: return %[[Y]], %[[NEW]]
func.func @conv(%x: tensor<2x3x6xf16>, %w: tensor<3x4xf16>, %bias: tensor<3xf16>, %s0: tensor<2x3x3xf16>) -> (tensor<2x3x6xf16>, tensor<2x3x3xf16>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu bias(%bias : tensor<3xf16>) state(%s0 : tensor<2x3x3xf16>) : tensor<2x3x6xf16>, tensor<3x4xf16> -> tensor<2x3x6xf16>, tensor<2x3x3xf16>
  return %y, %s : tensor<2x3x6xf16>, tensor<2x3x3xf16>
}

// -----

// No state: the first K-1 columns of xs are zeros (no read of a state), the
// accumulator starts at zero, activation none in f32 needs no final pass.
// CHECK-LABEL: func @conv_plain
// CHECK: linalg.generic
// CHECK:   arith.cmpi sge
// CHECK:   %[[XV:.*]] = tensor.extract
// CHECK-NOT: tensor.extract
// CHECK:   arith.select %{{.*}}, %[[XV]], %cst
// CHECK: linalg.fill
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}}"reduction"
// CHECK-NOT: math.exp
// CHECK: return %[[SUM]]
func.func @conv_plain(%x: tensor<1x2x5xf32>, %w: tensor<2x3xf32>) -> (tensor<1x2x5xf32>, tensor<1x2x2xf32>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = none : tensor<1x2x5xf32>, tensor<2x3xf32> -> tensor<1x2x5xf32>, tensor<1x2x2xf32>
  return %y, %s : tensor<1x2x5xf32>, tensor<1x2x2xf32>
}

// -----

// K = 1: xs is x itself and new_state is empty.
// CHECK-LABEL: func @conv_k1
// CHECK-NOT: linalg.index
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}}"reduction"{{.*}} ins(%{{.*}}, %arg0 : tensor<2x1xf32>, tensor<1x2x5xf32>)
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x2x0xf32>
// CHECK: return %[[SUM]], %[[EMPTY]]
func.func @conv_k1(%x: tensor<1x2x5xf32>, %w: tensor<2x1xf32>) -> (tensor<1x2x5xf32>, tensor<1x2x0xf32>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = none : tensor<1x2x5xf32>, tensor<2x1xf32> -> tensor<1x2x5xf32>, tensor<1x2x0xf32>
  return %y, %s : tensor<1x2x5xf32>, tensor<1x2x0xf32>
}

