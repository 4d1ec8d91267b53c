// RUN: kestrel-opt %s | kestrel-opt | FileCheck %s

// Linear attention: no gate operands, default scale (not printed).
// CHECK-LABEL: func @none
// CHECK: kestrel.gated_recurrence %{{.*}}, %{{.*}}, %{{.*}} gate = none : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x6xf32> -> tensor<1x2x8x6xf32>, tensor<1x2x4x6xf32>
func.func @none(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x6xf32>) -> (tensor<1x2x8x6xf32>, tensor<1x2x4x6xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x6xf32> -> tensor<1x2x8x6xf32>, tensor<1x2x4x6xf32>
  return %o, %s : tensor<1x2x8x6xf32>, tensor<1x2x4x6xf32>
}

// Scalar decay (RetNet, Mamba2 SSD) with an initial state and shared k/v heads.
// CHECK-LABEL: func @scalar
// CHECK: gate = scalar log_gate(%{{.*}} : tensor<1x4x8xf16>) initial_state(%{{.*}} : tensor<1x4x4x4xf16>) scale = 5.000000e-01
func.func @scalar(%q: tensor<1x4x8x4xf16>, %k: tensor<1x2x8x4xf16>, %v: tensor<1x2x8x4xf16>, %g: tensor<1x4x8xf16>, %s0: tensor<1x4x4x4xf16>) -> (tensor<1x4x8x4xf16>, tensor<1x4x4x4xf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x4x8xf16>) initial_state(%s0 : tensor<1x4x4x4xf16>) scale = 0.5 : tensor<1x4x8x4xf16>, tensor<1x2x8x4xf16>, tensor<1x2x8x4xf16> -> tensor<1x4x8x4xf16>, tensor<1x4x4x4xf16>
  return %o, %s : tensor<1x4x8x4xf16>, tensor<1x4x4x4xf16>
}

// Vector gate (GLA): one log-gate per key channel.
// CHECK-LABEL: func @vector
// CHECK: gate = vector log_gate(%{{.*}} : tensor<2x2x3x4xf32>)
func.func @vector(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x3x4xf32>, %v: tensor<2x2x3x5xf32>, %g: tensor<2x2x3x4xf32>) -> (tensor<2x2x3x5xf32>, tensor<2x2x4x5xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<2x2x3x4xf32>) : tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x5xf32> -> tensor<2x2x3x5xf32>, tensor<2x2x4x5xf32>
  return %o, %s : tensor<2x2x3x5xf32>, tensor<2x2x4x5xf32>
}

// Delta rule (DeltaNet).
// CHECK-LABEL: func @delta
// CHECK: gate = delta beta(%{{.*}} : tensor<1x1x1xbf16>) :
func.func @delta(%q: tensor<1x1x1x8xbf16>, %k: tensor<1x1x1x8xbf16>, %v: tensor<1x1x1x8xbf16>, %b: tensor<1x1x1xbf16>) -> (tensor<1x1x1x8xbf16>, tensor<1x1x8x8xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = delta beta(%b : tensor<1x1x1xbf16>) : tensor<1x1x1x8xbf16>, tensor<1x1x1x8xbf16>, tensor<1x1x1x8xbf16> -> tensor<1x1x1x8xbf16>, tensor<1x1x8x8xbf16>
  return %o, %s : tensor<1x1x1x8xbf16>, tensor<1x1x8x8xbf16>
}

// Gated delta rule (Gated DeltaNet), every optional operand.
// CHECK-LABEL: func @gated_delta
// CHECK: gate = gated_delta log_gate(%{{.*}} : tensor<1x2x4xf32>) beta(%{{.*}} : tensor<1x2x4xf32>) initial_state(%{{.*}} : tensor<1x2x4x4xf32>) scale = 2.500000e-01
func.func @gated_delta(%q: tensor<1x2x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<1x1x4x4xf32>, %g: tensor<1x2x4xf32>, %b: tensor<1x2x4xf32>, %s0: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x2x4xf32>) beta(%b : tensor<1x2x4xf32>) initial_state(%s0 : tensor<1x2x4x4xf32>) scale = 0.25 : tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// Dynamic sizes are accepted by the verifier.
// CHECK-LABEL: func @dynamic
// CHECK: gate = none : tensor<?x2x?x4xf32>
func.func @dynamic(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>, %v: tensor<?x2x?x4xf32>) -> (tensor<?x2x?x4xf32>, tensor<?x2x4x4xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32> -> tensor<?x2x?x4xf32>, tensor<?x2x4x4xf32>
  return %o, %s : tensor<?x2x?x4xf32>, tensor<?x2x4x4xf32>
}

// bf16 activations with the state, log-gates and beta in f32 (as fla keeps
// them); the output follows value.
// CHECK-LABEL: func @mixed_types
// CHECK: gate = gated_delta log_gate(%{{.*}} : tensor<1x2x4xf32>) beta(%{{.*}} : tensor<1x2x4xf32>) initial_state(%{{.*}} : tensor<1x2x4x4xf32>) : tensor<1x2x4x4xbf16>, tensor<1x1x4x4xbf16>, tensor<1x1x4x4xbf16> -> tensor<1x2x4x4xbf16>, tensor<1x2x4x4xf32>
func.func @mixed_types(%q: tensor<1x2x4x4xbf16>, %k: tensor<1x1x4x4xbf16>, %v: tensor<1x1x4x4xbf16>, %g: tensor<1x2x4xf32>, %b: tensor<1x2x4xf32>, %s0: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xbf16>, tensor<1x2x4x4xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x2x4xf32>) beta(%b : tensor<1x2x4xf32>) initial_state(%s0 : tensor<1x2x4x4xf32>) : tensor<1x2x4x4xbf16>, tensor<1x1x4x4xbf16>, tensor<1x1x4x4xbf16> -> tensor<1x2x4x4xbf16>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x4x4xbf16>, tensor<1x2x4x4xf32>
}
