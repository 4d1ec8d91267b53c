// kestrelc imports ONNX files directly (no Python in the compile path).
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t && python3 %kestrel_src/test/onnx/make_models.py %t
// RUN: kestrelc %t/attention.onnx --emit=mlir | FileCheck %s
// RUN: kestrelc %t/attention.onnx -o %t/a.so && kestrel-run %t/a.so --repeat=1 | FileCheck %s --check-prefix=EXEC
// RUN: not kestrelc %t/symbolic.onnx -o %t/s.so 2>&1 | FileCheck %s --check-prefix=SYMBOLIC
// RUN: kestrelc %t/symbolic.onnx --input-shape q=1x2x8x4 --input-shape k=1x2x8x4 --input-shape v=1x2x8x4 -o %t/s.so
// RUN: not kestrelc %t/unsupported.onnx -o %t/u.so 2>&1 | FileCheck %s --check-prefix=NOTSUP
// RUN: not kestrelc %t/truncated.onnx -o %t/t.so 2>&1 | FileCheck %s --check-prefix=MALFORMED
// RUN: not kestrelc %t/garbage.onnx -o %t/g.so 2>&1 | FileCheck %s --check-prefix=MALFORMED
// RUN: not kestrelc %t/attention.onnx --input-shape=q -o %t/x.so 2>&1 | FileCheck %s --check-prefix=SHAPEARG
// RUN: not ls %t/u.so %t/t.so %t/g.so %t/x.so
// RUN: kestrelc --list-onnx-ops | FileCheck %s --check-prefix=LIST

// CHECK: func.func @attention(%{{.*}}: tensor<1x2x8x4xf32>, %{{.*}}: tensor<1x2x8x4xf32>, %{{.*}}: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
// CHECK: linalg.generic
// CHECK: math.exp
// EXEC: attention: median
// SYMBOLIC: error: graph input 'q' has symbolic dimension 'B': give its shape with --input-shape q=DxDx...
// NOTSUP: error: unsupported ONNX operators:
// NOTSUP-NEXT: node 'gelu0': Gelu (domain 'ai.onnx', opset 20)
// NOTSUP-NEXT: node 'topk0': TopK (domain 'ai.onnx', opset 20)
// NOTSUP-NEXT: node 'fused0': FusedMatMul (domain 'com.microsoft', opset 20)
// MALFORMED: error: not a valid ONNX model
// SHAPEARG: --input-shape expects NAME=DxDx..., got 'q'
// LIST: MatMul
// LIST: Softmax
