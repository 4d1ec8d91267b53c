// Hugging Face's chunked gated delta rule (test/onnx/export_chunked_delta.py:
// transformers' torch_chunk_gated_delta_rule, T 20 padded to 3 chunks of 8,
// one query/key head of 8 over 2 value heads of 8), recognized by the ONNX
// importer (lib/Frontend/Onnx/OnnxChunkedDelta.cpp): one kestrel.gated_recurrence
// with gate gated_delta over the 24 padded tokens (q, k, v, log-gate and beta
// as the form reads them, heads before time, scale 1, no initial state), its
// output back to the chunked view [1, 2, 3, 8, 8]; none of the 7 row updates
// is left (the last reads the rows before it, [1, 2, 3, 7]). --no-recognize keeps the nodes.
// RUN: kestrelc %kestrel_src/test/onnx/models/gated_delta_chunked.onnx --emit=mlir | FileCheck %s
// RUN: kestrelc %kestrel_src/test/onnx/models/gated_delta_chunked.onnx --emit=mlir --no-recognize | FileCheck %s --check-prefix=PLAIN

// CHECK-LABEL: func.func @main_graph
// CHECK: kestrel.gated_recurrence {{.*}} gate = gated_delta log_gate({{.*}} : tensor<1x2x24xf32>) beta({{.*}} : tensor<1x2x24xf32>) scale = 1.000000e+00 : tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32> -> tensor<1x2x24x8xf32>, tensor<1x2x8x8xf32>
// CHECK-NOT: kestrel.gated_recurrence
// CHECK: tensor.expand_shape {{.*}} output_shape [1, 2, 3, 8, 8] : tensor<1x2x24x8xf32> into tensor<1x2x3x8x8xf32>
// CHECK-NOT: tensor<1x2x3x7xf32>
// CHECK: return {{.*}} : tensor<1x20x2x8xf32>

// PLAIN-NOT: kestrel.gated_recurrence
// PLAIN: tensor<1x2x3x7xf32>
