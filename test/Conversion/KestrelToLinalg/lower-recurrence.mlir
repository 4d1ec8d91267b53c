// RUN: kestrel-opt %s --kestrel-lower-to-linalg --split-input-file | FileCheck %s

// Gated delta with shared k/v heads (group 2): the f32 initial state is
// copied (the loop updates its state in place), then one scf.for over T = 5 carries
// the f32 state and output. Per step: slice step t of every input (the time
// dimension kept, read at 0), decay the state in place, kS, the correction
// β(v − kS), the rank-1 update in place, then o_t written into its output row.
// CHECK-DAG: #[[GATE:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0)>
// CHECK-DAG: #[[KEY:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 floordiv 2, 0, d3)>
// CHECK-LABEL: func @gated_delta
// CHECK-NOT: kestrel.gated_recurrence
// CHECK: %[[S0:.*]] = linalg.copy ins(%{{.*}} : tensor<1x4x8x6xf32>)
// CHECK: %[[OUT0:.*]] = tensor.empty() : tensor<1x4x5x6xf32>
// CHECK: scf.for %[[T:.*]] = %c0 to %c5 step %c1 iter_args(%[[S:.*]] = %[[S0]], %[[OUT:.*]] = %[[OUT0]]) -> (tensor<1x4x8x6xf32>, tensor<1x4x5x6xf32>)
// CHECK:   %[[Q:.*]] = tensor.extract_slice %{{.*}}[0, 0, %[[T]], 0] [1, 4, 1, 8] [1, 1, 1, 1] : tensor<1x4x5x8xf32> to tensor<1x4x1x8xf32>
// CHECK:   %[[K:.*]] = tensor.extract_slice %{{.*}}[0, 0, %[[T]], 0] [1, 2, 1, 8]
// CHECK:   %[[G:.*]] = tensor.extract_slice %{{.*}}[0, 0, %[[T]]] [1, 4, 1]
// CHECK:   %[[DECAYED:.*]] = linalg.generic {{.*}}#[[GATE]]{{.*}} ins(%[[G]] : tensor<1x4x1xf32>) outs(%[[S]] : tensor<1x4x8x6xf32>)
// CHECK:     math.exp
// CHECK:   %[[KS:.*]] = linalg.generic {{.*}}#[[KEY]]{{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%[[K]], %[[DECAYED]]
// CHECK:   %[[U:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[KS]], %{{.*}} : tensor<1x2x1x6xf32>, tensor<1x4x6xf32>, tensor<1x4x1xf32>)
// CHECK:     arith.subf
// CHECK:     arith.mulf
// CHECK:   %[[NEW:.*]] = linalg.generic {{.*}} ins(%[[K]], %[[U]] : tensor<1x2x1x8xf32>, tensor<1x4x6xf32>) outs(%[[DECAYED]] : tensor<1x4x8x6xf32>)
// CHECK:   %[[ROW:.*]] = tensor.extract_slice %[[OUT]][0, 0, %[[T]], 0] [1, 4, 1, 6]
// CHECK:   %[[ZERO:.*]] = linalg.fill {{.*}} outs(%[[ROW]] : tensor<1x4x1x6xf32>)
// CHECK:   %[[O:.*]] = linalg.generic {{.*}} ins(%[[Q]], %[[NEW]] : {{.*}}) outs(%[[ZERO]] : tensor<1x4x1x6xf32>)
// CHECK:     arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK:   %[[INS:.*]] = tensor.insert_slice %[[O]] into %[[OUT]][0, 0, %[[T]], 0] [1, 4, 1, 6]
// CHECK:   scf.yield %[[NEW]], %[[INS]]
// CHECK: return %{{.*}}#1, %{{.*}}#0
func.func @gated_delta(%q: tensor<1x4x5x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x6xf32>, %g: tensor<1x4x5xf32>, %b: tensor<1x4x5xf32>, %s0: tensor<1x4x8x6xf32>) -> (tensor<1x4x5x6xf32>, tensor<1x4x8x6xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x4x5xf32>) beta(%b : tensor<1x4x5xf32>) initial_state(%s0 : tensor<1x4x8x6xf32>) scale = 0.5 : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x6xf32> -> tensor<1x4x5x6xf32>, tensor<1x4x8x6xf32>
  return %o, %s : tensor<1x4x5x6xf32>, tensor<1x4x8x6xf32>
}

// -----

// Linear attention: no state operand (zeros), no decay, no delta: per step
// only the rank-1 update with v_t and the output contraction.
// CHECK-LABEL: func @none
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK-NOT: math.exp
// CHECK-NOT: arith.subf
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>)
// CHECK: scf.yield
func.func @none(%q: tensor<1x1x3x4xf32>, %k: tensor<1x1x3x4xf32>, %v: tensor<1x1x3x4xf32>) -> (tensor<1x1x3x4xf32>, tensor<1x1x4x4xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32> -> tensor<1x1x3x4xf32>, tensor<1x1x4x4xf32>
  return %o, %s : tensor<1x1x3x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// Vector gate: the log-gate is indexed by the key channel (d2) too.
// CHECK-DAG: #[[VGATE:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d2)>
// CHECK-LABEL: func @vector
// CHECK: scf.for
// CHECK: linalg.generic {{.*}}#[[VGATE]]
// CHECK:   math.exp
func.func @vector(%q: tensor<1x1x3x4xf32>, %k: tensor<1x1x3x4xf32>, %v: tensor<1x1x3x2xf32>, %g: tensor<1x1x3x4xf32>) -> (tensor<1x1x3x2xf32>, tensor<1x1x4x2xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<1x1x3x4xf32>) : tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>, tensor<1x1x3x2xf32> -> tensor<1x1x3x2xf32>, tensor<1x1x4x2xf32>
  return %o, %s : tensor<1x1x3x2xf32>, tensor<1x1x4x2xf32>
}

// -----

// bf16 storage: inputs widened inside the step bodies, both results narrowed
// once after the loop.
// CHECK-LABEL: func @bf16
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: scf.for
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: scf.yield
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @bf16(%q: tensor<1x1x3x4xbf16>, %k: tensor<1x1x3x4xbf16>, %v: tensor<1x1x3x4xbf16>, %b: tensor<1x1x3xbf16>, %s0: tensor<1x1x4x4xbf16>) -> (tensor<1x1x3x4xbf16>, tensor<1x1x4x4xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = delta beta(%b : tensor<1x1x3xbf16>) initial_state(%s0 : tensor<1x1x4x4xbf16>) : tensor<1x1x3x4xbf16>, tensor<1x1x3x4xbf16>, tensor<1x1x3x4xbf16> -> tensor<1x1x3x4xbf16>, tensor<1x1x4x4xbf16>
  return %o, %s : tensor<1x1x3x4xbf16>, tensor<1x1x4x4xbf16>
}
