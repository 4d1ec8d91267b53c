// DeepSeek-V3's group-limited sigmoid router (test/onnx/export_group_router.py:
// transformers' DeepseekV3TopkRouter, 12 tokens, 16 experts in 4 groups, 2
// groups kept, k 4), recognized by the ONNX importer
// (lib/Frontend/Onnx/OnnxGroupRouter.cpp): one kestrel.route with the
// selection bias, the group limits and renormalization; its indices are the
// graph's second output, its weights scaled by the routed scaling factor
// (generic) the first. None of the three TopKs or the scatter is left.
// --no-recognize keeps the nodes.
// RUN: kestrelc %kestrel_src/test/onnx/models/group_router.onnx --emit=mlir | FileCheck %s
// RUN: kestrelc %kestrel_src/test/onnx/models/group_router.onnx --emit=mlir --no-recognize | FileCheck %s --check-prefix=PLAIN

// CHECK-LABEL: func.func @main_graph
// CHECK-NOT: kestrel.top_k
// CHECK: %[[IDX:.*]], %[[W:.*]] = kestrel.route {{.*}} score = sigmoid k = 4 selection_bias({{.*}} : tensor<16xf32>) renormalize n_groups = 4 topk_groups = 2 : tensor<12x16xf32> -> tensor<12x4xi64>, tensor<12x4xf32>
// CHECK-NOT: kestrel.top_k
// CHECK-NOT: scf.for
// CHECK: return {{.*}}, %[[IDX]] : tensor<12x4xf32>, tensor<12x4xi64>

// PLAIN-NOT: kestrel.route
// PLAIN-COUNT-2: kestrel.top_k
// PLAIN: scf.for
// PLAIN: kestrel.top_k
