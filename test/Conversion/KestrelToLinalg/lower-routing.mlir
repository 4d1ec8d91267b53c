// RUN: kestrel-opt %s --kestrel-lower-to-linalg --split-input-file -verify-diagnostics | FileCheck %s

// Token choice with everything: sigmoid scores, the bias added for selection
// only, groups of 2 experts ranked inside the group (membership e floordiv 2
// tested in the body; no reshape) and scored by their top-2 sum, groups
// ranked (keep 2 of 3, eligibility read through e floordiv 2), ranks among
// eligible experts (ineligible get rank E = 6), the renormalizing sum of the
// selected unbiased scores, positions in token order against the capacity
// ceil(2.0 * 4 * 2 / 6) = 3, and the gather of slot j = rank j.
// CHECK-DAG: #[[$GROUPOF:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
// CHECK-DAG: #[[$EARLIER:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-LABEL: func @route_groups_capacity
// CHECK-NOT: kestrel.route
// CHECK-DAG: %[[CAP:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[E:.*]] = arith.constant 6 : i64
// CHECK-DAG: %[[SIZE:.*]] = arith.constant 2 : index
// CHECK: %[[S:.*]] = linalg.generic
// CHECK:   arith.extf %{{.*}} : bf16 to f32
// CHECK:   arith.negf
// CHECK:   math.exp
// CHECK: %[[U:.*]] = linalg.generic {{.*}} ins(%[[S]], %{{.*}} : tensor<4x6xf32>, tensor<6xf32>)
// CHECK:   arith.addf
// CHECK: %[[INRANK:.*]] = linalg.generic {{.*}} ins(%[[U]], %[[U]]{{.*}} outs({{.*}} : tensor<4x6xi64>)
// CHECK:   arith.divui %{{.*}}, %[[SIZE]] : index
// CHECK:   arith.divui %{{.*}}, %[[SIZE]] : index
// CHECK: %[[GS:.*]] = linalg.generic {{.*}} ins(%[[U]], %[[INRANK]]{{.*}} outs({{.*}} : tensor<4x3xf32>)
// CHECK: %[[GR:.*]] = linalg.generic {{.*}} ins(%[[GS]], %[[GS]]{{.*}} outs({{.*}} : tensor<4x3xi64>)
// CHECK: %[[ELIG:.*]] = linalg.generic {indexing_maps = [#[[$GROUPOF]], {{.*}}} ins(%[[GR]]{{.*}} outs({{.*}} : tensor<4x6xi1>)
// CHECK: %[[RANK0:.*]] = linalg.generic {{.*}} ins(%[[U]], %[[U]], %[[ELIG]]{{.*}} outs({{.*}} : tensor<4x6xi64>)
// CHECK: %[[RANK:.*]] = linalg.generic {{.*}} ins(%[[RANK0]], %[[ELIG]]
// CHECK:   arith.select %{{.*}}, %{{.*}}, %[[E]] : i64
// CHECK: %[[DENOM:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[RANK]]{{.*}} outs({{.*}} : tensor<4xf32>)
// CHECK: %[[POS:.*]] = linalg.generic {indexing_maps = [#[[$EARLIER]], {{.*}}} ins(%[[RANK]]{{.*}} outs({{.*}} : tensor<4x6xi64>)
// CHECK: %[[W:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[RANK]], %[[DENOM]], %[[POS]] :
// CHECK:   arith.divf
// CHECK:   arith.cmpi slt, %{{.*}}, %[[CAP]] : i64
// CHECK: %[[OUT:.*]]:2 = linalg.generic {{.*}} ins(%[[RANK]], %[[W]] : {{.*}}) outs({{.*}} : tensor<4x2xi32>, tensor<4x2xf32>)
// CHECK:   arith.index_cast %{{.*}} : index to i32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %[[OUT]]#0
func.func @route_groups_capacity(%l: tensor<4x6xbf16>, %b: tensor<6xf32>) -> (tensor<4x2xi32>, tensor<4x2xbf16>) {
  %i, %w = kestrel.route %l score = sigmoid k = 2 selection_bias(%b : tensor<6xf32>) renormalize n_groups = 3 topk_groups = 2 capacity_factor = 2.0 : tensor<4x6xbf16> -> tensor<4x2xi32>, tensor<4x2xbf16>
  return %i, %w : tensor<4x2xi32>, tensor<4x2xbf16>
}

// -----

// Expert choice: softmax (max, sum of exponentials, quotient), then every
// expert ranks the tokens (scores read transposed) and gathers its top 3.
// CHECK-DAG: #[[$T_SELF:.*]] = affine_map<(d0, d1, d2) -> (d1, d0)>
// CHECK-DAG: #[[$T_OTHER:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-LABEL: func @route_expert_choice
// CHECK-NOT: kestrel.route
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[S:.*]] = linalg.generic
// CHECK:   arith.divf
// CHECK: %[[RANK:.*]] = linalg.generic {indexing_maps = [#[[$T_SELF]], #[[$T_OTHER]], {{.*}}} ins(%[[S]], %[[S]]{{.*}} outs({{.*}} : tensor<4x5xi64>)
// CHECK: linalg.generic {{.*}} ins(%[[RANK]], %[[S]] {{.*}} outs({{.*}} : tensor<4x3xi64>, tensor<4x3xf32>)
func.func @route_expert_choice(%l: tensor<5x4xf32>) -> (tensor<4x3xi64>, tensor<4x3xf32>) {
  %i, %w = kestrel.route %l score = softmax k = 1 mode = expert_choice capacity = 3 : tensor<5x4xf32> -> tensor<4x3xi64>, tensor<4x3xf32>
  return %i, %w : tensor<4x3xi64>, tensor<4x3xf32>
}

// -----

// moe, dense: P[n, e] from the routing, x W1 and x W3 for every (token,
// expert), h masked where P == 0, the shared expert's gated MLP as the
// accumulator's start, then Σ_{e, f} h W2 (again masked), narrowed to f16.
// CHECK-DAG: #[[$UP_X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-DAG: #[[$UP_W:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d3, d2)>
// CHECK-DAG: #[[$DOWN_W:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3, d1)>
// CHECK-LABEL: func @moe_shared
// CHECK-NOT: kestrel.moe
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<6x2xi32>, tensor<6x2xf32>) outs(%{{.*}} : tensor<6x4xf32>)
// CHECK:   arith.index_cast %{{.*}} : index to i32
// CHECK:   arith.cmpi eq
// CHECK: %[[A:.*]] = linalg.generic {indexing_maps = [#[[$UP_X]], #[[$UP_W]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} {{.*}} outs({{.*}} : tensor<6x4x5xf32>)
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[$UP_X]], #[[$UP_W]], {{.*}} outs({{.*}} : tensor<6x4x5xf32>)
// CHECK: %[[H:.*]] = linalg.generic {{.*}} ins(%[[A]], %[[G]], %[[P]] :
// CHECK:   arith.cmpf oeq
// CHECK:   arith.select
// CHECK: %[[SH:.*]] = linalg.generic {{.*}} outs({{.*}} : tensor<6x8xf32>)
// CHECK: linalg.generic {indexing_maps = [{{.*}}, #[[$DOWN_W]], {{.*}}], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[H]], %{{.*}}, %[[P]] : {{.*}}) outs(%[[SH]] : tensor<6x8xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @moe_shared(%x: tensor<6x8xf16>, %i: tensor<6x2xi32>, %w: tensor<6x2xf32>, %w1: tensor<4x8x5xf16>, %w3: tensor<4x8x5xf16>, %w2: tensor<4x5x8xf16>, %s1: tensor<8x3xf16>, %s3: tensor<8x3xf16>, %s2: tensor<3x8xf16>) -> tensor<6x8xf16> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) shared(%s1, %s3, %s2 : tensor<8x3xf16>, tensor<8x3xf16>, tensor<3x8xf16>) : tensor<6x8xf16>, tensor<6x2xi32>, tensor<6x2xf32>, tensor<4x8x5xf16>, tensor<4x8x5xf16>, tensor<4x5x8xf16> -> tensor<6x8xf16>
  return %y : tensor<6x8xf16>
}

// -----

// Expert choice routing for moe: P[n, e] reads indices and weights [E, c]
// at (e, j) and compares the index with the token n.
// CHECK-DAG: #[[$EC:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func @moe_expert_choice
// CHECK: linalg.generic {indexing_maps = [#[[$EC]], #[[$EC]], {{.*}}} ins(%{{.*}}, %{{.*}} : tensor<4x3xi64>, tensor<4x3xf32>) outs(%{{.*}} : tensor<6x4xf32>)
// CHECK:   linalg.index 0
// CHECK-NOT: kestrel.moe
func.func @moe_expert_choice(%x: tensor<6x8xf32>, %i: tensor<4x3xi64>, %w: tensor<4x3xf32>, %w1: tensor<4x8x5xf32>, %w3: tensor<4x8x5xf32>, %w2: tensor<4x5x8xf32>) -> tensor<6x8xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) mode = expert_choice : tensor<6x8xf32>, tensor<4x3xi64>, tensor<4x3xf32>, tensor<4x8x5xf32>, tensor<4x8x5xf32>, tensor<4x5x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

// Dynamic shapes are left alone by the patterns; the pass then says why.
func.func @route_dynamic(%l: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>) {
  // expected-error @+1 {{the reference lowering needs static shapes; specialize dynamic dimensions first}}
  %i, %w = kestrel.route %l score = softmax k = 2 : tensor<?x8xf32> -> tensor<?x2xi32>, tensor<?x2xf32>
  return %i, %w : tensor<?x2xi32>, tensor<?x2xf32>
}

// -----

// top_k: ranks by counting (one reduction over the axis), then the element
// of rank r gathered by a second reduction; no kestrel op is left.
// CHECK-LABEL: func.func @top_k
// CHECK-NOT: kestrel.top_k
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.cmpf ogt
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: return
func.func @top_k(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>) {
  %v, %i = kestrel.top_k %x {k = 2 : i64, axis = 1 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  return %v, %i : tensor<4x2xf32>, tensor<4x2xi64>
}
