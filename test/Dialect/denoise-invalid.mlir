// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

func.func @logits_rank(%l: tensor<2x8xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{logits must have rank 3 ([B, L, V]), got 'tensor<2x8xf32>'}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 : tensor<2x8xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @tokens_shape(%l: tensor<2x8x16xf32>, %t: tensor<2x7xi64>) -> (tensor<2x7xi64>, tensor<2x7xf32>) {
  // expected-error @+1 {{tokens must have shape [B, L] = [2, 8], got 'tensor<2x7xi64>'}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 : tensor<2x8x16xf32>, tensor<2x7xi64> -> tensor<2x7xi64>, tensor<2x7xf32>
  return %n, %c : tensor<2x7xi64>, tensor<2x7xf32>
}

// -----

func.func @no_policy(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{needs exactly one policy, top_k or threshold}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3  : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @two_policies(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{needs exactly one policy, top_k or threshold}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 threshold = 0.5 : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @top_k(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{top_k must be positive, got 0}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 0 : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @threshold(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{threshold must lie in [0, 1] (it bounds a probability), got 1.500000e+00}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 threshold = 1.5 : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @block_arity(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{block must be [start, size], got 3 values}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 block = [1, 2, 3] : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @block_empty(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{block [2, 0] needs start >= 0 and size > 0}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 block = [2, 0] : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @block_end(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{block [4, 5] ends past the sequence length L (8)}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 block = [4, 5] : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @tokens_type(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi32>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of 64-bit signless integer values, but got 'tensor<2x8xi32>'}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 : tensor<2x8x16xf32>, tensor<2x8xi32> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @result_shape(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x4xf32>) {
  // expected-error @+1 {{new_tokens and confidence must have the shape of tokens 'tensor<2x8xi64>', got 'tensor<2x8xi64>' and 'tensor<2x4xf32>'}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x4xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x4xf32>
}

// -----

func.func @temperature_without_seed(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{temperature sampling needs both temperature and an explicit seed, got a temperature without a seed}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 temperature = 0.5 : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @seed_without_temperature(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{temperature sampling needs both temperature and an explicit seed, got a seed without a temperature}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 seed = 7 : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}

// -----

func.func @temperature_not_positive(%l: tensor<2x8x16xf32>, %t: tensor<2x8xi64>) -> (tensor<2x8xi64>, tensor<2x8xf32>) {
  // expected-error @+1 {{temperature must be positive (omit it for greedy decoding), got 0}}
  %n, %c = kestrel.denoise_step %l, %t mask_id = 3 top_k = 1 temperature = 0.0 seed = 7 : tensor<2x8x16xf32>, tensor<2x8xi64> -> tensor<2x8xi64>, tensor<2x8xf32>
  return %n, %c : tensor<2x8xi64>, tensor<2x8xf32>
}
