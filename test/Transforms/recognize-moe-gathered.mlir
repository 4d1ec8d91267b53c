// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s

// kestrel-recognize, MoE with gathered expert weights: Hugging Face's
// batched_mm experts as the importer writes them (test/models: Mixtral,
// Qwen2-MoE, Jamba, Qwen3-Next, GraniteMoeHybrid). Generated from a
// Softmax -> TopK -> renormalize router and GatherND(W, idx) -> MatMul
// experts (kestrelc --emit=mlir --no-recognize, then canonicalize), with
// readable weights Wgu[e, r, c] = 100e + 10r + c [3, 4, 4] and
// Wd[e, o, f] = 100e + 10o + f [3, 4, 2]: kestrel.moe takes them transposed,
// w1[e] = Wgu[e, 0:2, :]^T, w3[e] = Wgu[e, 2:4, :]^T, w2[e] = Wd[e]^T.

#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1) -> (d0)>
#map2 = affine_map<(d0, d1) -> (d0, 0)>
#map3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#map4 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#map6 = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#map7 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#map8 = affine_map<(d0, d1, d2) -> (d0, d2)>

// CHECK-LABEL: func.func @moe_gathered(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x4xf32>, %[[L:[^:]*]]: tensor<2x3xf32>
// CHECK-DAG: %[[W1:.*]] = arith.constant dense<{{\[}}[{{\[}}0.000000e+00, 1.000000e+01], [1.000000e+00, 1.100000e+01], [2.000000e+00, 1.200000e+01], [3.000000e+00, 1.300000e+01]], {{\[}}[1.000000e+02, 1.100000e+02]{{.*}} : tensor<3x4x2xf32>
// CHECK-DAG: %[[W3:.*]] = arith.constant dense<{{\[}}[{{\[}}2.000000e+01, 3.000000e+01], [2.100000e+01, 3.100000e+01]{{.*}} : tensor<3x4x2xf32>
// CHECK-DAG: %[[W2:.*]] = arith.constant dense<{{\[}}[{{\[}}0.000000e+00, 1.000000e+01, 2.000000e+01, 3.000000e+01], [1.000000e+00, 1.100000e+01, 2.100000e+01, 3.100000e+01]], {{.*}} : tensor<3x2x4xf32>
// CHECK-DAG: %[[XC:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<2x1x4xf32> into tensor<2x4xf32>
// CHECK: %[[I:.*]], %[[W:.*]] = kestrel.route %[[L]] score = softmax k = 2 renormalize : tensor<2x3xf32> -> tensor<2x2xi64>, tensor<2x2xf32>
// CHECK: %[[M:.*]] = kestrel.moe %[[XC]], %[[I]], %[[W]] experts(%[[W1]], %[[W3]], %[[W2]]) : {{.*}} -> tensor<2x4xf32>
// CHECK-NOT: kestrel.top_k
// CHECK: return %[[M]]
func.func @moe_gathered(%arg0: tensor<2x4xf32>, %arg1: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %cst = arith.constant dense<[2, 2, 4]> : tensor<3xindex>
  %cst_0 = arith.constant dense<[4, 2, 1]> : tensor<3xindex>
  %cst_1 = arith.constant 1.000000e+00 : f32
  %cst_2 = arith.constant dense<[4, 4, 1]> : tensor<3xindex>
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c0 = arith.constant 0 : index
  %cst_3 = arith.constant dense<[4, 1]> : tensor<2xindex>
  %cst_4 = arith.constant dense<4> : tensor<2xindex>
  %cst_5 = arith.constant dense<[2, 1, 4]> : tensor<3xindex>
  %cst_6 = arith.constant 0.000000e+00 : f32
  %cst_7 = arith.constant dense<[2, 1]> : tensor<2xindex>
  %cst_8 = arith.constant dense<[[[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0], [20.0, 21.0, 22.0, 23.0], [30.0, 31.0, 32.0, 33.0]], [[100.0, 101.0, 102.0, 103.0], [110.0, 111.0, 112.0, 113.0], [120.0, 121.0, 122.0, 123.0], [130.0, 131.0, 132.0, 133.0]], [[200.0, 201.0, 202.0, 203.0], [210.0, 211.0, 212.0, 213.0], [220.0, 221.0, 222.0, 223.0], [230.0, 231.0, 232.0, 233.0]]]> : tensor<3x4x4xf32>
  %cst_9 = arith.constant dense<[[[0.0, 1.0], [10.0, 11.0], [20.0, 21.0], [30.0, 31.0]], [[100.0, 101.0], [110.0, 111.0], [120.0, 121.0], [130.0, 131.0]], [[200.0, 201.0], [210.0, 211.0], [220.0, 221.0], [230.0, 231.0]]]> : tensor<3x4x2xf32>
  %cst_10 = arith.constant 0xFF800000 : f32
  %0 = tensor.empty() : tensor<2xf32>
  %1 = linalg.fill ins(%cst_10 : f32) outs(%0 : tensor<2xf32>) -> tensor<2xf32>
  %2 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%arg1 : tensor<2x3xf32>) outs(%1 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.maximumf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape = tensor.reshape %2(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %3 = tensor.empty() : tensor<2x3xf32>
  %4 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%arg1, %reshape : tensor<2x3xf32>, tensor<2x1xf32>) outs(%3 : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.subf %in, %in_21 : f32
    %33 = math.exp %32 : f32
    linalg.yield %33 : f32
  } -> tensor<2x3xf32>
  %5 = linalg.fill ins(%cst_6 : f32) outs(%0 : tensor<2xf32>) -> tensor<2xf32>
  %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%4 : tensor<2x3xf32>) outs(%5 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape_11 = tensor.reshape %6(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %7 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%4, %reshape_11 : tensor<2x3xf32>, tensor<2x1xf32>) outs(%3 : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.divf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<2x3xf32>
  %values, %indices = kestrel.top_k %7 {axis = 1 : i64, k = 2 : i64} : tensor<2x3xf32> -> tensor<2x2xf32>, tensor<2x2xi64>
  %8 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%values : tensor<2x2xf32>) outs(%5 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape_12 = tensor.reshape %8(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %9 = tensor.empty() : tensor<2x2xf32>
  %10 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%values, %reshape_12 : tensor<2x2xf32>, tensor<2x1xf32>) outs(%9 : tensor<2x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.divf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<2x2xf32>
  %reshape_13 = tensor.reshape %arg0(%cst_5) : (tensor<2x4xf32>, tensor<3xindex>) -> tensor<2x1x4xf32>
  %11 = tensor.empty() : tensor<2x2x4xf32>
  %12 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel"]} ins(%reshape_13 : tensor<2x1x4xf32>) outs(%11 : tensor<2x2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x2x4xf32>
  %reshape_14 = tensor.reshape %indices(%cst_3) : (tensor<2x2xi64>, tensor<2xindex>) -> tensor<4x1xi64>
  %13 = tensor.empty() : tensor<4x4x4xf32>
  %14 = linalg.generic {indexing_maps = [#map4], iterator_types = ["parallel", "parallel", "parallel"]} outs(%13 : tensor<4x4x4xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %34 = linalg.index 2 : index
    %extracted = tensor.extract %reshape_14[%32, %c0] : tensor<4x1xi64>
    %35 = arith.index_cast %extracted : i64 to index
    %36 = arith.cmpi slt, %35, %c0 : index
    %37 = arith.addi %35, %c3 : index
    %38 = arith.select %36, %37, %35 : index
    %39 = arith.maxsi %38, %c0 : index
    %40 = arith.minsi %39, %c2 : index
    %extracted_21 = tensor.extract %cst_8[%40, %33, %34] : tensor<3x4x4xf32>
    linalg.yield %extracted_21 : f32
  } -> tensor<4x4x4xf32>
  %reshape_15 = tensor.reshape %12(%cst_2) : (tensor<2x2x4xf32>, tensor<3xindex>) -> tensor<4x4x1xf32>
  %15 = tensor.empty() : tensor<4x4x1xf32>
  %16 = linalg.fill ins(%cst_6 : f32) outs(%15 : tensor<4x4x1xf32>) -> tensor<4x4x1xf32>
  %17 = linalg.generic {indexing_maps = [#map5, #map6, #map7], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%14, %reshape_15 : tensor<4x4x4xf32>, tensor<4x4x1xf32>) outs(%16 : tensor<4x4x1xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    %33 = arith.addf %out, %32 : f32
    linalg.yield %33 : f32
  } -> tensor<4x4x1xf32>
  %reshape_16 = tensor.reshape %17(%cst_4) : (tensor<4x4x1xf32>, tensor<2xindex>) -> tensor<4x4xf32>
  %18 = tensor.empty() : tensor<4x2xf32>
  %19 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]} outs(%18 : tensor<4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %extracted = tensor.extract %reshape_16[%32, %33] : tensor<4x4xf32>
    linalg.yield %extracted : f32
  } -> tensor<4x2xf32>
  %20 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]} outs(%18 : tensor<4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %34 = arith.addi %33, %c2 : index
    %extracted = tensor.extract %reshape_16[%32, %34] : tensor<4x4xf32>
    linalg.yield %extracted : f32
  } -> tensor<4x2xf32>
  %21 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%19 : tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.negf %in : f32
    %33 = math.exp %32 : f32
    %34 = arith.addf %33, %cst_1 : f32
    %35 = arith.divf %cst_1, %34 : f32
    linalg.yield %35 : f32
  } -> tensor<4x2xf32>
  %22 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%19, %21 : tensor<4x2xf32>, tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x2xf32>
  %23 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%22, %20 : tensor<4x2xf32>, tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x2xf32>
  %24 = tensor.empty() : tensor<4x4x2xf32>
  %25 = linalg.generic {indexing_maps = [#map4], iterator_types = ["parallel", "parallel", "parallel"]} outs(%24 : tensor<4x4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %34 = linalg.index 2 : index
    %extracted = tensor.extract %reshape_14[%32, %c0] : tensor<4x1xi64>
    %35 = arith.index_cast %extracted : i64 to index
    %36 = arith.cmpi slt, %35, %c0 : index
    %37 = arith.addi %35, %c3 : index
    %38 = arith.select %36, %37, %35 : index
    %39 = arith.maxsi %38, %c0 : index
    %40 = arith.minsi %39, %c2 : index
    %extracted_21 = tensor.extract %cst_9[%40, %33, %34] : tensor<3x4x2xf32>
    linalg.yield %extracted_21 : f32
  } -> tensor<4x4x2xf32>
  %reshape_17 = tensor.reshape %23(%cst_0) : (tensor<4x2xf32>, tensor<3xindex>) -> tensor<4x2x1xf32>
  %26 = linalg.generic {indexing_maps = [#map5, #map6, #map7], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%25, %reshape_17 : tensor<4x4x2xf32>, tensor<4x2x1xf32>) outs(%16 : tensor<4x4x1xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    %33 = arith.addf %out, %32 : f32
    linalg.yield %33 : f32
  } -> tensor<4x4x1xf32>
  %reshape_18 = tensor.reshape %26(%cst_4) : (tensor<4x4x1xf32>, tensor<2xindex>) -> tensor<4x4xf32>
  %reshape_19 = tensor.reshape %10(%cst_3) : (tensor<2x2xf32>, tensor<2xindex>) -> tensor<4x1xf32>
  %27 = tensor.empty() : tensor<4x4xf32>
  %28 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%reshape_18, %reshape_19 : tensor<4x4xf32>, tensor<4x1xf32>) outs(%27 : tensor<4x4xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x4xf32>
  %reshape_20 = tensor.reshape %28(%cst) : (tensor<4x4xf32>, tensor<3xindex>) -> tensor<2x2x4xf32>
  %29 = tensor.empty() : tensor<2x4xf32>
  %30 = linalg.fill ins(%cst_6 : f32) outs(%29 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %31 = linalg.generic {indexing_maps = [#map4, #map8], iterator_types = ["parallel", "reduction", "parallel"]} ins(%reshape_20 : tensor<2x2x4xf32>) outs(%30 : tensor<2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2x4xf32>
  return %31 : tensor<2x4xf32>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1) -> (d0)>
#map2 = affine_map<(d0, d1) -> (d0, 0)>
#map3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#map4 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#map6 = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#map7 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#map8 = affine_map<(d0, d1, d2) -> (d0, d2)>

// The down projection gathers with other indices than the up projection:
// not one expert per (token, slot), left as is.
// CHECK-LABEL: func.func @other_index(
// CHECK-NOT: kestrel.route
// CHECK: kestrel.top_k
// CHECK-NOT: kestrel.moe
// CHECK: return
func.func @other_index(%arg0: tensor<2x4xf32>, %arg1: tensor<2x3xf32>, %other: tensor<4x1xi64>) -> tensor<2x4xf32> {
  %cst = arith.constant dense<[2, 2, 4]> : tensor<3xindex>
  %cst_0 = arith.constant dense<[4, 2, 1]> : tensor<3xindex>
  %cst_1 = arith.constant 1.000000e+00 : f32
  %cst_2 = arith.constant dense<[4, 4, 1]> : tensor<3xindex>
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c0 = arith.constant 0 : index
  %cst_3 = arith.constant dense<[4, 1]> : tensor<2xindex>
  %cst_4 = arith.constant dense<4> : tensor<2xindex>
  %cst_5 = arith.constant dense<[2, 1, 4]> : tensor<3xindex>
  %cst_6 = arith.constant 0.000000e+00 : f32
  %cst_7 = arith.constant dense<[2, 1]> : tensor<2xindex>
  %cst_8 = arith.constant dense<[[[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0], [20.0, 21.0, 22.0, 23.0], [30.0, 31.0, 32.0, 33.0]], [[100.0, 101.0, 102.0, 103.0], [110.0, 111.0, 112.0, 113.0], [120.0, 121.0, 122.0, 123.0], [130.0, 131.0, 132.0, 133.0]], [[200.0, 201.0, 202.0, 203.0], [210.0, 211.0, 212.0, 213.0], [220.0, 221.0, 222.0, 223.0], [230.0, 231.0, 232.0, 233.0]]]> : tensor<3x4x4xf32>
  %cst_9 = arith.constant dense<[[[0.0, 1.0], [10.0, 11.0], [20.0, 21.0], [30.0, 31.0]], [[100.0, 101.0], [110.0, 111.0], [120.0, 121.0], [130.0, 131.0]], [[200.0, 201.0], [210.0, 211.0], [220.0, 221.0], [230.0, 231.0]]]> : tensor<3x4x2xf32>
  %cst_10 = arith.constant 0xFF800000 : f32
  %0 = tensor.empty() : tensor<2xf32>
  %1 = linalg.fill ins(%cst_10 : f32) outs(%0 : tensor<2xf32>) -> tensor<2xf32>
  %2 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%arg1 : tensor<2x3xf32>) outs(%1 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.maximumf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape = tensor.reshape %2(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %3 = tensor.empty() : tensor<2x3xf32>
  %4 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%arg1, %reshape : tensor<2x3xf32>, tensor<2x1xf32>) outs(%3 : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.subf %in, %in_21 : f32
    %33 = math.exp %32 : f32
    linalg.yield %33 : f32
  } -> tensor<2x3xf32>
  %5 = linalg.fill ins(%cst_6 : f32) outs(%0 : tensor<2xf32>) -> tensor<2xf32>
  %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%4 : tensor<2x3xf32>) outs(%5 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape_11 = tensor.reshape %6(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %7 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%4, %reshape_11 : tensor<2x3xf32>, tensor<2x1xf32>) outs(%3 : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.divf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<2x3xf32>
  %values, %indices = kestrel.top_k %7 {axis = 1 : i64, k = 2 : i64} : tensor<2x3xf32> -> tensor<2x2xf32>, tensor<2x2xi64>
  %8 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%values : tensor<2x2xf32>) outs(%5 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape_12 = tensor.reshape %8(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %9 = tensor.empty() : tensor<2x2xf32>
  %10 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%values, %reshape_12 : tensor<2x2xf32>, tensor<2x1xf32>) outs(%9 : tensor<2x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.divf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<2x2xf32>
  %reshape_13 = tensor.reshape %arg0(%cst_5) : (tensor<2x4xf32>, tensor<3xindex>) -> tensor<2x1x4xf32>
  %11 = tensor.empty() : tensor<2x2x4xf32>
  %12 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel"]} ins(%reshape_13 : tensor<2x1x4xf32>) outs(%11 : tensor<2x2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x2x4xf32>
  %reshape_14 = tensor.reshape %indices(%cst_3) : (tensor<2x2xi64>, tensor<2xindex>) -> tensor<4x1xi64>
  %13 = tensor.empty() : tensor<4x4x4xf32>
  %14 = linalg.generic {indexing_maps = [#map4], iterator_types = ["parallel", "parallel", "parallel"]} outs(%13 : tensor<4x4x4xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %34 = linalg.index 2 : index
    %extracted = tensor.extract %reshape_14[%32, %c0] : tensor<4x1xi64>
    %35 = arith.index_cast %extracted : i64 to index
    %36 = arith.cmpi slt, %35, %c0 : index
    %37 = arith.addi %35, %c3 : index
    %38 = arith.select %36, %37, %35 : index
    %39 = arith.maxsi %38, %c0 : index
    %40 = arith.minsi %39, %c2 : index
    %extracted_21 = tensor.extract %cst_8[%40, %33, %34] : tensor<3x4x4xf32>
    linalg.yield %extracted_21 : f32
  } -> tensor<4x4x4xf32>
  %reshape_15 = tensor.reshape %12(%cst_2) : (tensor<2x2x4xf32>, tensor<3xindex>) -> tensor<4x4x1xf32>
  %15 = tensor.empty() : tensor<4x4x1xf32>
  %16 = linalg.fill ins(%cst_6 : f32) outs(%15 : tensor<4x4x1xf32>) -> tensor<4x4x1xf32>
  %17 = linalg.generic {indexing_maps = [#map5, #map6, #map7], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%14, %reshape_15 : tensor<4x4x4xf32>, tensor<4x4x1xf32>) outs(%16 : tensor<4x4x1xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    %33 = arith.addf %out, %32 : f32
    linalg.yield %33 : f32
  } -> tensor<4x4x1xf32>
  %reshape_16 = tensor.reshape %17(%cst_4) : (tensor<4x4x1xf32>, tensor<2xindex>) -> tensor<4x4xf32>
  %18 = tensor.empty() : tensor<4x2xf32>
  %19 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]} outs(%18 : tensor<4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %extracted = tensor.extract %reshape_16[%32, %33] : tensor<4x4xf32>
    linalg.yield %extracted : f32
  } -> tensor<4x2xf32>
  %20 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]} outs(%18 : tensor<4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %34 = arith.addi %33, %c2 : index
    %extracted = tensor.extract %reshape_16[%32, %34] : tensor<4x4xf32>
    linalg.yield %extracted : f32
  } -> tensor<4x2xf32>
  %21 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%19 : tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.negf %in : f32
    %33 = math.exp %32 : f32
    %34 = arith.addf %33, %cst_1 : f32
    %35 = arith.divf %cst_1, %34 : f32
    linalg.yield %35 : f32
  } -> tensor<4x2xf32>
  %22 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%19, %21 : tensor<4x2xf32>, tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x2xf32>
  %23 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%22, %20 : tensor<4x2xf32>, tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x2xf32>
  %24 = tensor.empty() : tensor<4x4x2xf32>
  %25 = linalg.generic {indexing_maps = [#map4], iterator_types = ["parallel", "parallel", "parallel"]} outs(%24 : tensor<4x4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %34 = linalg.index 2 : index
    %extracted = tensor.extract %other[%32, %c0] : tensor<4x1xi64>
    %35 = arith.index_cast %extracted : i64 to index
    %36 = arith.cmpi slt, %35, %c0 : index
    %37 = arith.addi %35, %c3 : index
    %38 = arith.select %36, %37, %35 : index
    %39 = arith.maxsi %38, %c0 : index
    %40 = arith.minsi %39, %c2 : index
    %extracted_21 = tensor.extract %cst_9[%40, %33, %34] : tensor<3x4x2xf32>
    linalg.yield %extracted_21 : f32
  } -> tensor<4x4x2xf32>
  %reshape_17 = tensor.reshape %23(%cst_0) : (tensor<4x2xf32>, tensor<3xindex>) -> tensor<4x2x1xf32>
  %26 = linalg.generic {indexing_maps = [#map5, #map6, #map7], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%25, %reshape_17 : tensor<4x4x2xf32>, tensor<4x2x1xf32>) outs(%16 : tensor<4x4x1xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    %33 = arith.addf %out, %32 : f32
    linalg.yield %33 : f32
  } -> tensor<4x4x1xf32>
  %reshape_18 = tensor.reshape %26(%cst_4) : (tensor<4x4x1xf32>, tensor<2xindex>) -> tensor<4x4xf32>
  %reshape_19 = tensor.reshape %10(%cst_3) : (tensor<2x2xf32>, tensor<2xindex>) -> tensor<4x1xf32>
  %27 = tensor.empty() : tensor<4x4xf32>
  %28 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%reshape_18, %reshape_19 : tensor<4x4xf32>, tensor<4x1xf32>) outs(%27 : tensor<4x4xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x4xf32>
  %reshape_20 = tensor.reshape %28(%cst) : (tensor<4x4xf32>, tensor<3xindex>) -> tensor<2x2x4xf32>
  %29 = tensor.empty() : tensor<2x4xf32>
  %30 = linalg.fill ins(%cst_6 : f32) outs(%29 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %31 = linalg.generic {indexing_maps = [#map4, #map8], iterator_types = ["parallel", "reduction", "parallel"]} ins(%reshape_20 : tensor<2x2x4xf32>) outs(%30 : tensor<2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2x4xf32>
  return %31 : tensor<2x4xf32>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1) -> (d0)>
#map2 = affine_map<(d0, d1) -> (d0, 0)>
#map3 = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
#map4 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#map6 = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#map7 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#map8 = affine_map<(d0, d1, d2) -> (d0, d2)>

// Gate and up read the same columns (not the two halves of gate_up): not a
// gated MLP of two projections, left as is.
// CHECK-LABEL: func.func @same_columns(
// CHECK-NOT: kestrel.route
// CHECK: kestrel.top_k
// CHECK-NOT: kestrel.moe
// CHECK: return
func.func @same_columns(%arg0: tensor<2x4xf32>, %arg1: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %cst = arith.constant dense<[2, 2, 4]> : tensor<3xindex>
  %cst_0 = arith.constant dense<[4, 2, 1]> : tensor<3xindex>
  %cst_1 = arith.constant 1.000000e+00 : f32
  %cst_2 = arith.constant dense<[4, 4, 1]> : tensor<3xindex>
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c0 = arith.constant 0 : index
  %cst_3 = arith.constant dense<[4, 1]> : tensor<2xindex>
  %cst_4 = arith.constant dense<4> : tensor<2xindex>
  %cst_5 = arith.constant dense<[2, 1, 4]> : tensor<3xindex>
  %cst_6 = arith.constant 0.000000e+00 : f32
  %cst_7 = arith.constant dense<[2, 1]> : tensor<2xindex>
  %cst_8 = arith.constant dense<[[[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0], [20.0, 21.0, 22.0, 23.0], [30.0, 31.0, 32.0, 33.0]], [[100.0, 101.0, 102.0, 103.0], [110.0, 111.0, 112.0, 113.0], [120.0, 121.0, 122.0, 123.0], [130.0, 131.0, 132.0, 133.0]], [[200.0, 201.0, 202.0, 203.0], [210.0, 211.0, 212.0, 213.0], [220.0, 221.0, 222.0, 223.0], [230.0, 231.0, 232.0, 233.0]]]> : tensor<3x4x4xf32>
  %cst_9 = arith.constant dense<[[[0.0, 1.0], [10.0, 11.0], [20.0, 21.0], [30.0, 31.0]], [[100.0, 101.0], [110.0, 111.0], [120.0, 121.0], [130.0, 131.0]], [[200.0, 201.0], [210.0, 211.0], [220.0, 221.0], [230.0, 231.0]]]> : tensor<3x4x2xf32>
  %cst_10 = arith.constant 0xFF800000 : f32
  %0 = tensor.empty() : tensor<2xf32>
  %1 = linalg.fill ins(%cst_10 : f32) outs(%0 : tensor<2xf32>) -> tensor<2xf32>
  %2 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%arg1 : tensor<2x3xf32>) outs(%1 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.maximumf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape = tensor.reshape %2(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %3 = tensor.empty() : tensor<2x3xf32>
  %4 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%arg1, %reshape : tensor<2x3xf32>, tensor<2x1xf32>) outs(%3 : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.subf %in, %in_21 : f32
    %33 = math.exp %32 : f32
    linalg.yield %33 : f32
  } -> tensor<2x3xf32>
  %5 = linalg.fill ins(%cst_6 : f32) outs(%0 : tensor<2xf32>) -> tensor<2xf32>
  %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%4 : tensor<2x3xf32>) outs(%5 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape_11 = tensor.reshape %6(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %7 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%4, %reshape_11 : tensor<2x3xf32>, tensor<2x1xf32>) outs(%3 : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.divf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<2x3xf32>
  %values, %indices = kestrel.top_k %7 {axis = 1 : i64, k = 2 : i64} : tensor<2x3xf32> -> tensor<2x2xf32>, tensor<2x2xi64>
  %8 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]} ins(%values : tensor<2x2xf32>) outs(%5 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2xf32>
  %reshape_12 = tensor.reshape %8(%cst_7) : (tensor<2xf32>, tensor<2xindex>) -> tensor<2x1xf32>
  %9 = tensor.empty() : tensor<2x2xf32>
  %10 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%values, %reshape_12 : tensor<2x2xf32>, tensor<2x1xf32>) outs(%9 : tensor<2x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.divf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<2x2xf32>
  %reshape_13 = tensor.reshape %arg0(%cst_5) : (tensor<2x4xf32>, tensor<3xindex>) -> tensor<2x1x4xf32>
  %11 = tensor.empty() : tensor<2x2x4xf32>
  %12 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel"]} ins(%reshape_13 : tensor<2x1x4xf32>) outs(%11 : tensor<2x2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x2x4xf32>
  %reshape_14 = tensor.reshape %indices(%cst_3) : (tensor<2x2xi64>, tensor<2xindex>) -> tensor<4x1xi64>
  %13 = tensor.empty() : tensor<4x4x4xf32>
  %14 = linalg.generic {indexing_maps = [#map4], iterator_types = ["parallel", "parallel", "parallel"]} outs(%13 : tensor<4x4x4xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %34 = linalg.index 2 : index
    %extracted = tensor.extract %reshape_14[%32, %c0] : tensor<4x1xi64>
    %35 = arith.index_cast %extracted : i64 to index
    %36 = arith.cmpi slt, %35, %c0 : index
    %37 = arith.addi %35, %c3 : index
    %38 = arith.select %36, %37, %35 : index
    %39 = arith.maxsi %38, %c0 : index
    %40 = arith.minsi %39, %c2 : index
    %extracted_21 = tensor.extract %cst_8[%40, %33, %34] : tensor<3x4x4xf32>
    linalg.yield %extracted_21 : f32
  } -> tensor<4x4x4xf32>
  %reshape_15 = tensor.reshape %12(%cst_2) : (tensor<2x2x4xf32>, tensor<3xindex>) -> tensor<4x4x1xf32>
  %15 = tensor.empty() : tensor<4x4x1xf32>
  %16 = linalg.fill ins(%cst_6 : f32) outs(%15 : tensor<4x4x1xf32>) -> tensor<4x4x1xf32>
  %17 = linalg.generic {indexing_maps = [#map5, #map6, #map7], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%14, %reshape_15 : tensor<4x4x4xf32>, tensor<4x4x1xf32>) outs(%16 : tensor<4x4x1xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    %33 = arith.addf %out, %32 : f32
    linalg.yield %33 : f32
  } -> tensor<4x4x1xf32>
  %reshape_16 = tensor.reshape %17(%cst_4) : (tensor<4x4x1xf32>, tensor<2xindex>) -> tensor<4x4xf32>
  %18 = tensor.empty() : tensor<4x2xf32>
  %19 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]} outs(%18 : tensor<4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %extracted = tensor.extract %reshape_16[%32, %33] : tensor<4x4xf32>
    linalg.yield %extracted : f32
  } -> tensor<4x2xf32>
  %20 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]} outs(%18 : tensor<4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %extracted = tensor.extract %reshape_16[%32, %33] : tensor<4x4xf32>
    linalg.yield %extracted : f32
  } -> tensor<4x2xf32>
  %21 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%19 : tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.negf %in : f32
    %33 = math.exp %32 : f32
    %34 = arith.addf %33, %cst_1 : f32
    %35 = arith.divf %cst_1, %34 : f32
    linalg.yield %35 : f32
  } -> tensor<4x2xf32>
  %22 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%19, %21 : tensor<4x2xf32>, tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x2xf32>
  %23 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%22, %20 : tensor<4x2xf32>, tensor<4x2xf32>) outs(%18 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x2xf32>
  %24 = tensor.empty() : tensor<4x4x2xf32>
  %25 = linalg.generic {indexing_maps = [#map4], iterator_types = ["parallel", "parallel", "parallel"]} outs(%24 : tensor<4x4x2xf32>) {
  ^bb0(%out: f32):
    %32 = linalg.index 0 : index
    %33 = linalg.index 1 : index
    %34 = linalg.index 2 : index
    %extracted = tensor.extract %reshape_14[%32, %c0] : tensor<4x1xi64>
    %35 = arith.index_cast %extracted : i64 to index
    %36 = arith.cmpi slt, %35, %c0 : index
    %37 = arith.addi %35, %c3 : index
    %38 = arith.select %36, %37, %35 : index
    %39 = arith.maxsi %38, %c0 : index
    %40 = arith.minsi %39, %c2 : index
    %extracted_21 = tensor.extract %cst_9[%40, %33, %34] : tensor<3x4x2xf32>
    linalg.yield %extracted_21 : f32
  } -> tensor<4x4x2xf32>
  %reshape_17 = tensor.reshape %23(%cst_0) : (tensor<4x2xf32>, tensor<3xindex>) -> tensor<4x2x1xf32>
  %26 = linalg.generic {indexing_maps = [#map5, #map6, #map7], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%25, %reshape_17 : tensor<4x4x2xf32>, tensor<4x2x1xf32>) outs(%16 : tensor<4x4x1xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    %33 = arith.addf %out, %32 : f32
    linalg.yield %33 : f32
  } -> tensor<4x4x1xf32>
  %reshape_18 = tensor.reshape %26(%cst_4) : (tensor<4x4x1xf32>, tensor<2xindex>) -> tensor<4x4xf32>
  %reshape_19 = tensor.reshape %10(%cst_3) : (tensor<2x2xf32>, tensor<2xindex>) -> tensor<4x1xf32>
  %27 = tensor.empty() : tensor<4x4xf32>
  %28 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%reshape_18, %reshape_19 : tensor<4x4xf32>, tensor<4x1xf32>) outs(%27 : tensor<4x4xf32>) {
  ^bb0(%in: f32, %in_21: f32, %out: f32):
    %32 = arith.mulf %in, %in_21 : f32
    linalg.yield %32 : f32
  } -> tensor<4x4xf32>
  %reshape_20 = tensor.reshape %28(%cst) : (tensor<4x4xf32>, tensor<3xindex>) -> tensor<2x2x4xf32>
  %29 = tensor.empty() : tensor<2x4xf32>
  %30 = linalg.fill ins(%cst_6 : f32) outs(%29 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %31 = linalg.generic {indexing_maps = [#map4, #map8], iterator_types = ["parallel", "reduction", "parallel"]} ins(%reshape_20 : tensor<2x2x4xf32>) outs(%30 : tensor<2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %32 = arith.addf %in, %out : f32
    linalg.yield %32 : f32
  } -> tensor<2x4xf32>
  return %31 : tensor<2x4xf32>
}
