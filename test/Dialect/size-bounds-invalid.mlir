// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

// Every kestrel op bounds the static sizes of its operands and results (each
// dimension below 2^31, each tensor below 2^40 elements; docs/ops.md), so
// that lowerings (kestrel-specialize-sparsity, unrolled vector loops, GPU
// grids) cannot overflow their index products. A gated recurrence needs at
// least one step (ChunkGatedRecurrence divides T into chunks).

func.func @attention_dim(%q: tensor<1x1x2147483648x4xf32>, %k: tensor<1x1x4x4xf32>) -> tensor<1x1x2147483648x4xf32> {
  // expected-error @+1 {{operand #0 ('tensor<1x1x2147483648x4xf32>') has dimension 2147483648, over the limit of 2^31 - 1}}
  %o = kestrel.attention %q, %k, %k : tensor<1x1x2147483648x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x2147483648x4xf32>
  return %o : tensor<1x1x2147483648x4xf32>
}

// -----

func.func @attention_elements(%q: tensor<1x1048576x1048576x4xf32>, %k: tensor<1x1048576x4x4xf32>) -> tensor<1x1048576x1048576x4xf32> {
  // expected-error @+1 {{operand #0 ('tensor<1x1048576x1048576x4xf32>') has more than 2^40 elements}}
  %o = kestrel.attention %q, %k, %k : tensor<1x1048576x1048576x4xf32>, tensor<1x1048576x4x4xf32>, tensor<1x1048576x4x4xf32> -> tensor<1x1048576x1048576x4xf32>
  return %o : tensor<1x1048576x1048576x4xf32>
}

// -----

func.func @recurrence_dim(%q: tensor<1x4x2147483648x4xf32>, %v: tensor<1x4x2147483648x6xf32>) -> (tensor<1x4x2147483648x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{has dimension 2147483648, over the limit of 2^31 - 1}}
  %o, %s = kestrel.gated_recurrence %q, %q, %v gate = none : tensor<1x4x2147483648x4xf32>, tensor<1x4x2147483648x4xf32>, tensor<1x4x2147483648x6xf32> -> tensor<1x4x2147483648x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x2147483648x6xf32>, tensor<1x4x4x6xf32>
}

// -----

func.func @recurrence_empty(%q: tensor<1x4x0x4xf32>, %v: tensor<1x4x0x6xf32>) -> (tensor<1x4x0x6xf32>, tensor<1x4x4x6xf32>) {
  // expected-error @+1 {{has sequence length 0 (query 'tensor<1x4x0x4xf32>'): the recurrence needs at least one step}}
  %o, %s = kestrel.gated_recurrence %q, %q, %v gate = none : tensor<1x4x0x4xf32>, tensor<1x4x0x4xf32>, tensor<1x4x0x6xf32> -> tensor<1x4x0x6xf32>, tensor<1x4x4x6xf32>
  return %o, %s : tensor<1x4x0x6xf32>, tensor<1x4x4x6xf32>
}
