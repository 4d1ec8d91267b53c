// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

// One case per verifier branch of kestrel.route and kestrel.moe.

func.func @logits_rank(%l: tensor<8xf32>) -> (tensor<8x1xi32>, tensor<8x1xf32>) {
  // expected-error @+1 {{logits must have rank 2 [N, E], got 'tensor<8xf32>'}}
  %i, %w = kestrel.route %l score = softmax k = 1 : tensor<8xf32> -> tensor<8x1xi32>, tensor<8x1xf32>
  return %i, %w : tensor<8x1xi32>, tensor<8x1xf32>
}

// -----

func.func @k_zero(%l: tensor<4x8xf32>) -> (tensor<4x0xi32>, tensor<4x0xf32>) {
  // expected-error @+1 {{k must be at least 1, got 0}}
  %i, %w = kestrel.route %l score = softmax k = 0 : tensor<4x8xf32> -> tensor<4x0xi32>, tensor<4x0xf32>
  return %i, %w : tensor<4x0xi32>, tensor<4x0xf32>
}

// -----

func.func @k_too_big(%l: tensor<4x8xf32>) -> (tensor<4x9xi32>, tensor<4x9xf32>) {
  // expected-error @+1 {{k (9) must not exceed the number of experts E (8)}}
  %i, %w = kestrel.route %l score = softmax k = 9 : tensor<4x8xf32> -> tensor<4x9xi32>, tensor<4x9xf32>
  return %i, %w : tensor<4x9xi32>, tensor<4x9xf32>
}

// -----

func.func @bias_shape(%l: tensor<4x8xf32>, %b: tensor<4xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  // expected-error @+1 {{selection_bias must have shape [E] = [8], got 'tensor<4xf32>'}}
  %i, %w = kestrel.route %l score = sigmoid k = 2 selection_bias(%b : tensor<4xf32>)  : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return %i, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

func.func @groups_alone(%l: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  // expected-error @+1 {{n_groups and topk_groups must be given together}}
  %i, %w = kestrel.route %l score = sigmoid k = 2 n_groups = 4 : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return %i, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

func.func @groups_zero(%l: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  // expected-error @+1 {{n_groups must be at least 1, got 0}}
  %i, %w = kestrel.route %l score = sigmoid k = 2 n_groups = 0 topk_groups = 1 : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return %i, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

func.func @topk_groups_range(%l: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  // expected-error @+1 {{topk_groups (5) must lie in [1, n_groups] = [1, 4]}}
  %i, %w = kestrel.route %l score = sigmoid k = 2 n_groups = 4 topk_groups = 5 : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return %i, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

func.func @groups_divide(%l: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  // expected-error @+1 {{the number of experts E (8) must be a multiple of n_groups (3)}}
  %i, %w = kestrel.route %l score = sigmoid k = 2 n_groups = 3 topk_groups = 1 : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return %i, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

func.func @groups_too_few_experts(%l: tensor<4x8xf32>) -> (tensor<4x3xi32>, tensor<4x3xf32>) {
  // expected-error @+1 {{k (3) exceeds the 2 experts of the topk_groups (1) groups that stay eligible}}
  %i, %w = kestrel.route %l score = sigmoid k = 3 n_groups = 4 topk_groups = 1 : tensor<4x8xf32> -> tensor<4x3xi32>, tensor<4x3xf32>
  return %i, %w : tensor<4x3xi32>, tensor<4x3xf32>
}

// -----

func.func @capacity_factor_sign(%l: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  // expected-error @+1 {{capacity_factor must be positive and finite, got 0}}
  %i, %w = kestrel.route %l score = softmax k = 2 capacity_factor = 0.0 : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return %i, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

func.func @capacity_token_choice(%l: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  // expected-error @+1 {{capacity is only meaningful in expert_choice mode; token_choice drops by capacity_factor}}
  %i, %w = kestrel.route %l score = softmax k = 2 capacity = 2 : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return %i, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

func.func @indices_shape(%l: tensor<4x8xf32>) -> (tensor<4x3xi32>, tensor<4x2xf32>) {
  // expected-error @+1 {{indices must have shape [N, k] = [4, 2], got 'tensor<4x3xi32>'}}
  %i, %w = kestrel.route %l score = softmax k = 2 : tensor<4x8xf32> -> tensor<4x3xi32>, tensor<4x2xf32>
  return %i, %w : tensor<4x3xi32>, tensor<4x2xf32>
}

// -----

func.func @weights_shape(%l: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<2x4xf32>) {
  // expected-error @+1 {{weights must have shape [N, k] = [4, 2], got 'tensor<2x4xf32>'}}
  %i, %w = kestrel.route %l score = softmax k = 2 : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<2x4xf32>
  return %i, %w : tensor<4x2xi32>, tensor<2x4xf32>
}

// -----

func.func @ec_bias(%l: tensor<4x8xf32>, %b: tensor<8xf32>) -> (tensor<8x2xi32>, tensor<8x2xf32>) {
  // expected-error @+1 {{expert_choice mode takes no selection_bias: a per-expert bias cannot change which tokens an expert prefers}}
  %i, %w = kestrel.route %l score = sigmoid k = 1 selection_bias(%b : tensor<8xf32>) mode = expert_choice capacity = 2 : tensor<4x8xf32> -> tensor<8x2xi32>, tensor<8x2xf32>
  return %i, %w : tensor<8x2xi32>, tensor<8x2xf32>
}

// -----

func.func @ec_renormalize(%l: tensor<4x8xf32>) -> (tensor<8x2xi32>, tensor<8x2xf32>) {
  // expected-error @+1 {{expert_choice mode does not renormalize}}
  %i, %w = kestrel.route %l score = softmax k = 1 renormalize mode = expert_choice capacity = 2 : tensor<4x8xf32> -> tensor<8x2xi32>, tensor<8x2xf32>
  return %i, %w : tensor<8x2xi32>, tensor<8x2xf32>
}

// -----

func.func @ec_groups(%l: tensor<4x8xf32>) -> (tensor<8x2xi32>, tensor<8x2xf32>) {
  // expected-error @+1 {{expert_choice mode takes no n_groups/topk_groups}}
  %i, %w = kestrel.route %l score = softmax k = 1 n_groups = 2 topk_groups = 1 mode = expert_choice capacity = 2 : tensor<4x8xf32> -> tensor<8x2xi32>, tensor<8x2xf32>
  return %i, %w : tensor<8x2xi32>, tensor<8x2xf32>
}

// -----

func.func @ec_no_capacity(%l: tensor<4x8xf32>) -> (tensor<8x2xi32>, tensor<8x2xf32>) {
  // expected-error @+1 {{expert_choice mode needs exactly one of capacity and capacity_factor}}
  %i, %w = kestrel.route %l score = softmax k = 1 mode = expert_choice : tensor<4x8xf32> -> tensor<8x2xi32>, tensor<8x2xf32>
  return %i, %w : tensor<8x2xi32>, tensor<8x2xf32>
}

// -----

func.func @ec_both_capacities(%l: tensor<4x8xf32>) -> (tensor<8x2xi32>, tensor<8x2xf32>) {
  // expected-error @+1 {{expert_choice mode needs exactly one of capacity and capacity_factor}}
  %i, %w = kestrel.route %l score = softmax k = 1 capacity_factor = 1.0 mode = expert_choice capacity = 2 : tensor<4x8xf32> -> tensor<8x2xi32>, tensor<8x2xf32>
  return %i, %w : tensor<8x2xi32>, tensor<8x2xf32>
}

// -----

func.func @ec_capacity_zero(%l: tensor<4x8xf32>) -> (tensor<8x0xi32>, tensor<8x0xf32>) {
  // expected-error @+1 {{capacity must be at least 1, got 0}}
  %i, %w = kestrel.route %l score = softmax k = 1 mode = expert_choice capacity = 0 : tensor<4x8xf32> -> tensor<8x0xi32>, tensor<8x0xf32>
  return %i, %w : tensor<8x0xi32>, tensor<8x0xf32>
}

// -----

func.func @ec_capacity_too_big(%l: tensor<4x8xf32>) -> (tensor<8x5xi32>, tensor<8x5xf32>) {
  // expected-error @+1 {{capacity (5) must not exceed the number of tokens N (4)}}
  %i, %w = kestrel.route %l score = softmax k = 1 mode = expert_choice capacity = 5 : tensor<4x8xf32> -> tensor<8x5xi32>, tensor<8x5xf32>
  return %i, %w : tensor<8x5xi32>, tensor<8x5xf32>
}

// -----

func.func @ec_indices_shape(%l: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<8x2xf32>) {
  // expected-error @+1 {{indices must have shape [E, c] = [8, 2] in expert_choice mode, got 'tensor<4x2xi32>'}}
  %i, %w = kestrel.route %l score = softmax k = 1 mode = expert_choice capacity = 2 : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<8x2xf32>
  return %i, %w : tensor<4x2xi32>, tensor<8x2xf32>
}

// -----

func.func @ec_weights_shape_factor(%l: tensor<4x8xf32>) -> (tensor<8x3xi32>, tensor<8x2xf32>) {
  // expected-error @+1 {{weights must have shape [E, c] = [8, 3] in expert_choice mode, got 'tensor<8x2xf32>'}}
  %i, %w = kestrel.route %l score = softmax k = 5 capacity_factor = 1.0 mode = expert_choice : tensor<4x8xf32> -> tensor<8x3xi32>, tensor<8x2xf32>
  return %i, %w : tensor<8x3xi32>, tensor<8x2xf32>
}

// -----

func.func @index_type(%l: tensor<4x8xf32>) -> (tensor<4x2xi16>, tensor<4x2xf32>) {
  // expected-error @+1 {{must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %i, %w = kestrel.route %l score = softmax k = 2 : tensor<4x8xf32> -> tensor<4x2xi16>, tensor<4x2xf32>
  return %i, %w : tensor<4x2xi16>, tensor<4x2xf32>
}

// -----

func.func @moe_x_rank(%x: tensor<48xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{x must have rank 2 [N, d], got 'tensor<48xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<48xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_w1_rank(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{w1 must have rank 3 [E, d, ff], got 'tensor<8x5xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_elt(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xbf16>) -> tensor<6x8xf32> {
  // expected-error @+1 {{w2 has element type 'bf16' but x has 'f32'; x, the expert weights and the result must share one}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xbf16> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_indices_rank(%x: tensor<6x8xf32>, %i: tensor<12xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{indices must have rank 2, got 'tensor<12xi32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<6x8xf32>, tensor<12xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_indices_tokens(%x: tensor<6x8xf32>, %i: tensor<5x2xi32>, %w: tensor<5x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{indices must have shape [N, k] with N = 6, got 'tensor<5x2xi32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<6x8xf32>, tensor<5x2xi32>, tensor<5x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_indices_experts(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{indices must have shape [E, c] with E = 4 in expert_choice mode, got 'tensor<6x2xi32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) mode = expert_choice : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_weights_shape(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x3xf16>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{weights must have the shape of indices [6, 2], got 'tensor<6x3xf16>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x3xf16>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_w3_shape(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x6xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{w3 must have shape [E, d, ff] = [4, 8, 5], got 'tensor<4x8x6xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x6xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_w2_shape(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x8x5xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{w2 must have shape [E, ff, d] = [4, 5, 8], got 'tensor<4x8x5xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_result_shape(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x5xf32> {
  // expected-error @+1 {{result must have shape [N, d] = [6, 8], got 'tensor<6x5xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x5xf32>
  return %y : tensor<6x5xf32>
}

// -----

func.func @moe_shared_rank(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>, %s1: tensor<4x8x3xf32>, %s3: tensor<8x3xf32>, %s2: tensor<3x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{shared_w1 must have rank 2 [d, fs], got 'tensor<4x8x3xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) shared(%s1, %s3, %s2 : tensor<4x8x3xf32>, tensor<8x3xf32>, tensor<3x8xf32>) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_shared_w3(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>, %s1: tensor<8x3xf32>, %s3: tensor<8x4xf32>, %s2: tensor<3x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{shared_w3 must have shape [d, fs] = [8, 3], got 'tensor<8x4xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) shared(%s1, %s3, %s2 : tensor<8x3xf32>, tensor<8x4xf32>, tensor<3x8xf32>) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_shared_w2(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>, %s1: tensor<8x3xf32>, %s3: tensor<8x3xf32>, %s2: tensor<8x3xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{shared_w2 must have shape [fs, d] = [3, 8], got 'tensor<8x3xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) shared(%s1, %s3, %s2 : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_shared_d(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>, %s1: tensor<7x3xf32>, %s3: tensor<8x3xf32>, %s2: tensor<3x8xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{shared_w1 must have shape [d, fs] = [8, 3], got 'tensor<7x3xf32>'}}
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) shared(%s1, %s3, %s2 : tensor<7x3xf32>, tensor<8x3xf32>, tensor<3x8xf32>) : tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @moe_shared_partial(%x: tensor<6x8xf32>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>, %s1: tensor<8x3xf32>) -> tensor<6x8xf32> {
  // expected-error @+1 {{shared_w1, shared_w3 and shared_w2 must be given together}}
  %y = "kestrel.moe"(%x, %i, %w, %w1, %w3, %w2, %s1) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0>}> : (tensor<6x8xf32>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32>, tensor<8x3xf32>) -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

func.func @top_k_axis(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>) {
  // expected-error @+1 {{axis 2 is outside [0, 2)}}
  %v, %i = kestrel.top_k %x {k = 2 : i64, axis = 2 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  return %v, %i : tensor<4x2xf32>, tensor<4x2xi64>
}

// -----

func.func @top_k_too_many(%x: tensor<4x8xf32>) -> (tensor<4x9xf32>, tensor<4x9xi64>) {
  // expected-error @+1 {{k = 9 must be in [0, 8] (the size of axis 1)}}
  %v, %i = kestrel.top_k %x {k = 9 : i64, axis = 1 : i64} : tensor<4x8xf32> -> tensor<4x9xf32>, tensor<4x9xi64>
  return %v, %i : tensor<4x9xf32>, tensor<4x9xi64>
}

// -----

func.func @top_k_values_shape(%x: tensor<4x8xf32>) -> (tensor<4x3xf32>, tensor<4x2xi64>) {
  // expected-error @+1 {{values must have shape [4, 2] and the input's element type, got 'tensor<4x3xf32>'}}
  %v, %i = kestrel.top_k %x {k = 2 : i64, axis = 1 : i64} : tensor<4x8xf32> -> tensor<4x3xf32>, tensor<4x2xi64>
  return %v, %i : tensor<4x3xf32>, tensor<4x2xi64>
}

// -----

func.func @top_k_index_type(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi32>) {
  // expected-error @+1 {{indices must be i64 of shape [4, 2], got 'tensor<4x2xi32>'}}
  %v, %i = kestrel.top_k %x {k = 2 : i64, axis = 1 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi32>
  return %v, %i : tensor<4x2xf32>, tensor<4x2xi32>
}

// -----

func.func @top_k_bool(%x: tensor<4x8xi1>) -> (tensor<4x2xi1>, tensor<4x2xi64>) {
  // expected-error @+1 {{input must hold floats or integers (not i1)}}
  %v, %i = kestrel.top_k %x {k = 2 : i64, axis = 1 : i64} : tensor<4x8xi1> -> tensor<4x2xi1>, tensor<4x2xi64>
  return %v, %i : tensor<4x2xi1>, tensor<4x2xi64>
}
