// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-moe-dispatch))" | FileCheck %s
// RUN: kestrel-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kestrel-moe-dispatch{mr=4 nr=8}))" | FileCheck %s --check-prefix=SMALL

// N = 10 tokens, k = 2 of E = 4 experts, d = 32, ff = 48, shared fs = 40.
// Packed row space: at most min(N·E, N·k) = 20 routed rows plus E·(MR-1)
// = 4·5 rows of padding = 40 rows; gathered tokens are packed as
// [40/6 tiles = 6, d, MR]. ff and d split into 16-wide panels, fs = 40 into
// 8-wide ones (the largest power of two <= nr dividing it).
// CHECK-LABEL: func @moe_shared
// CHECK-NOT: kestrel.moe
//       Counting sort: per expert, per token, list the tokens with P != 0.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (index, tensor<40xindex>, tensor<40xf32>, tensor<8xindex>)
// CHECK:   scf.for {{.*}} -> (index, tensor<40xindex>, tensor<40xf32>)
// CHECK:     arith.cmpf une
// CHECK:     tensor.insert
// CHECK:   arith.ceildivui {{.*}}, %c6
// CHECK: } {kestrel.moe_stage = #kestrel.moe_stage<dispatch>}
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<6x32x6xf32>)
// CHECK: scf.forall ({{.*}}) in (3) shared_outs({{.*}}) -> (tensor<40x48xf32>)
//       Experts without tokens are skipped; weight panels packed per expert.
// CHECK:   arith.cmpi ult
// CHECK:   scf.if
// CHECK:     scf.for {{.*}} -> (tensor<32x16xf32>)
// CHECK:       vector.transfer_read %arg3{{.*}} : tensor<4x32x48xf32>, vector<16xf32>
// CHECK:     } {kestrel.moe_pack}
// CHECK:     scf.for {{.*}} -> (tensor<32x16xf32>)
// CHECK:       vector.transfer_read %arg4{{.*}} : tensor<4x32x48xf32>, vector<16xf32>
// CHECK:     } {kestrel.moe_pack}
// CHECK:     scf.for {{.*}} step %c6
// CHECK:       scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:         vector.transfer_read {{.*}} : tensor<32x16xf32>, vector<16xf32>
// CHECK-COUNT-6: vector.fma
// CHECK:       } {kestrel.micro_kernel}
// CHECK:       } {kestrel.micro_kernel}
// CHECK:       math.exp
// CHECK: } {kestrel.moe_stage = #kestrel.moe_stage<up>, kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 16>}
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<2x32x6xf32>)
// CHECK: scf.forall ({{.*}}) in (5) shared_outs({{.*}}) -> (tensor<12x40xf32>)
// CHECK: } {kestrel.moe_stage = #kestrel.moe_stage<shared_up>, kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 8>}
// CHECK: scf.forall ({{.*}}) in (2) shared_outs({{.*}}) -> (tensor<10x32xf32>)
//       Shared experts first (full tile, then the partial tile of 4 rows) ...
// CHECK:   vector.transfer_read %arg8{{.*}} : tensor<40x32xf32>, vector<16xf32>
// CHECK:   } {kestrel.moe_pack}
// CHECK:   } {kestrel.micro_kernel}
// CHECK-COUNT-6: vector.transfer_write
// CHECK:   } {kestrel.micro_kernel}
// CHECK-COUNT-4: vector.transfer_write
//       ... then the routed experts, scatter-added into their tokens' rows.
// CHECK:   vector.transfer_read %arg5{{.*}} : tensor<4x48x32xf32>, vector<16xf32>
// CHECK:   } {kestrel.moe_pack}
// CHECK:   } {kestrel.micro_kernel}
// CHECK:   scf.if
// CHECK:     tensor.extract {{.*}} : tensor<40xindex>
// CHECK:     tensor.extract {{.*}} : tensor<40xf32>
// CHECK:     vector.fma
// CHECK: } {kestrel.moe_stage = #kestrel.moe_stage<down>, kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 16>}
// SMALL-LABEL: func @moe_shared
// SMALL: -> (index, tensor<32xindex>, tensor<32xf32>, tensor<8xindex>)
// SMALL: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// SMALL: kestrel.moe_stage = #kestrel.moe_stage<up>, kestrel.tile = #kestrel.moe_register_tile<rows = 4, cols = 8>
// SMALL: kestrel.moe_stage = #kestrel.moe_stage<shared_up>, kestrel.tile = #kestrel.moe_register_tile<rows = 4, cols = 8>
// SMALL: kestrel.moe_stage = #kestrel.moe_stage<down>, kestrel.tile = #kestrel.moe_register_tile<rows = 4, cols = 8>
func.func @moe_shared(%x: tensor<10x32xf32>, %i: tensor<10x2xi32>, %w: tensor<10x2xf32>,
    %w1: tensor<4x32x48xf32>, %w3: tensor<4x32x48xf32>, %w2: tensor<4x48x32xf32>,
    %s1: tensor<32x40xf32>, %s3: tensor<32x40xf32>, %s2: tensor<40x32xf32>) -> tensor<10x32xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      shared(%s1, %s3, %s2 : tensor<32x40xf32>, tensor<32x40xf32>, tensor<40x32xf32>)
      : tensor<10x32xf32>, tensor<10x2xi32>, tensor<10x2xf32>, tensor<4x32x48xf32>,
        tensor<4x32x48xf32>, tensor<4x48x32xf32> -> tensor<10x32xf32>
  return %y : tensor<10x32xf32>
}

// -----

// Expert choice [E, c] = [3, 4] holds token indices: at most
// min(N·E, E·c) = 12 routed rows (+ 3·5 padding). bf16 weights are widened
// to f32 while packed (arith.extf of each panel row), and the f32 result is
// rounded once to bf16 at the end. No shared experts: the output panel
// starts from 0.
// CHECK-LABEL: func @moe_expert_choice_bf16
// CHECK: -> (index, tensor<27xindex>, tensor<27xf32>, tensor<6xindex>)
// CHECK: arith.extf {{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<up>
// CHECK: scf.forall
// CHECK:   linalg.fill
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<down>
// CHECK: arith.truncf {{.*}} : f32 to bf16
func.func @moe_expert_choice_bf16(%x: tensor<9x16xbf16>, %i: tensor<3x4xi64>, %w: tensor<3x4xf32>,
    %w1: tensor<3x16x32xbf16>, %w3: tensor<3x16x32xbf16>, %w2: tensor<3x32x16xbf16>) -> tensor<9x16xbf16> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) mode = expert_choice
      : tensor<9x16xbf16>, tensor<3x4xi64>, tensor<3x4xf32>, tensor<3x16x32xbf16>,
        tensor<3x16x32xbf16>, tensor<3x32x16xbf16> -> tensor<9x16xbf16>
  return %y : tensor<9x16xbf16>
}

// -----

// Dynamic shapes are left for the reference lowering (which reports them).
// CHECK-LABEL: func @moe_dynamic
// CHECK: kestrel.moe
// CHECK-NOT: scf.forall
func.func @moe_dynamic(%x: tensor<?x16xf32>, %i: tensor<?x2xi32>, %w: tensor<?x2xf32>,
    %w1: tensor<4x16x32xf32>, %w3: tensor<4x16x32xf32>, %w2: tensor<4x32x16xf32>) -> tensor<?x16xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2)
      : tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<4x16x32xf32>,
        tensor<4x16x32xf32>, tensor<4x32x16xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// The register tile recorded by kestrel-tile wins over the options, and the
// bound recorded by kestrel-specialize-sparsity sizes the row space:
// 12 pairs + 3·(2 - 1) padding rows = 15, tiles of 2 rows, 8-wide panels.
// CHECK-LABEL: func @moe_recorded_tile
// CHECK: -> (index, tensor<15xindex>, tensor<15xf32>, tensor<6xindex>)
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>)
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<up>, kestrel.tile = #kestrel.moe_register_tile<rows = 2, cols = 8>
// CHECK: kestrel.moe_stage = #kestrel.moe_stage<down>, kestrel.tile = #kestrel.moe_register_tile<rows = 2, cols = 8>
// SMALL-LABEL: func @moe_recorded_tile
// SMALL: kestrel.tile = #kestrel.moe_register_tile<rows = 2, cols = 8>
func.func @moe_recorded_tile(%x: tensor<9x16xf32>, %i: tensor<3x4xi64>, %w: tensor<3x4xf32>,
    %w1: tensor<3x16x32xf32>, %w3: tensor<3x16x32xf32>, %w2: tensor<3x32x16xf32>) -> tensor<9x16xf32> {
  %y = kestrel.moe %x, %i, %w experts(%w1, %w3, %w2) mode = expert_choice
      {kestrel.tile = #kestrel.moe_register_tile<rows = 2, cols = 8>, kestrel.moe_bounds = #kestrel.moe_bounds<pairs = 12, per_expert = 4>}
      : tensor<9x16xf32>, tensor<3x4xi64>, tensor<3x4xf32>, tensor<3x16x32xf32>,
        tensor<3x16x32xf32>, tensor<3x32x16xf32> -> tensor<9x16xf32>
  return %y : tensor<9x16xf32>
}
