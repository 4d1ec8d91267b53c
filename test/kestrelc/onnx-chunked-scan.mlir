// Mamba2's chunked SSD scan (test/onnx/export_chunked_scan.py: T 20 padded
// to 3 chunks of 8, 2 heads of 8, one group of B/C with N 8), recognized by
// the ONNX importer (lib/Frontend/Onnx/OnnxChunkedScan.cpp): the chunked
// views [1, 3, 8, ...] flattened to the 24 padded tokens, heads before
// time, one scalar-gated kestrel.gated_recurrence with scale 1 (q = C,
// k = B, v = x·dt, log-gate = A·dt), its output back to the chunked view;
// none of the einsums' products is left. --no-recognize keeps the nodes.
// RUN: kestrelc %kestrel_src/test/onnx/models/mamba2_scan.onnx --emit=mlir | FileCheck %s
// RUN: kestrelc %kestrel_src/test/onnx/models/mamba2_scan.onnx --emit=mlir --no-recognize | FileCheck %s --check-prefix=PLAIN

// CHECK-LABEL: func.func @main_graph
// CHECK-COUNT-3: tensor.collapse_shape {{.*}} : tensor<1x3x8x2x8xf32> into tensor<1x24x2x8xf32>
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x3x8x2xf32> into tensor<1x24x2xf32>
// CHECK: kestrel.gated_recurrence {{.*}} gate = scalar log_gate({{.*}} : tensor<1x2x24xf32>) scale = 1.000000e+00 : tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32> -> tensor<1x2x24x8xf32>, tensor<1x2x8x8xf32>
// CHECK-NOT: kestrel.gated_recurrence
// CHECK: tensor.expand_shape {{.*}} output_shape [1, 3, 8, 2, 8] : tensor<1x24x2x8xf32> into tensor<1x3x8x2x8xf32>
// CHECK-NOT: tensor<1x3x8x8x2xf32>
// CHECK: return {{.*}} : tensor<1x20x2x8xf32>

// PLAIN-NOT: kestrel.gated_recurrence
// PLAIN: tensor<1x3x8x8x2xf32>
