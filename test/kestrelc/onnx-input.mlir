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
// RUN: kestrelc %t/block.onnx --emit=mlir | FileCheck %s --check-prefix=FOLD

// CHECK: func.func @attention(%{{.*}}: tensor<1x2x8x4xf32>, %{{.*}}: tensor<1x2x8x4xf32>, %{{.*}}: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
// The decomposed attention (Q·Kᵀ / 2 -> Softmax -> ·V) is recognized at import.
// CHECK-NEXT: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} scale = 5.000000e-01 :
// CHECK-NOT: linalg.generic
// CHECK: return
// EXEC: attention: median
// SYMBOLIC: error: graph input 'q' has symbolic dimension 'B': give its shape with --input-shape q=DxDx...
// NOTSUP: error: unsupported ONNX operators:
// NOTSUP-NEXT: node 'grid0': GridSample (domain 'ai.onnx', opset 20)
// NOTSUP-NEXT: node 'resize0': Resize (domain 'ai.onnx', opset 20)
// NOTSUP-NEXT: node 'fused0': FusedMatMul (domain 'com.microsoft', opset 20)
// MALFORMED: error: not a valid ONNX model
// SHAPEARG: --input-shape expects NAME=DxDx..., got 'q'
// LIST: MatMul
// LIST: Softmax
// LIST: ConstantOfShape
// LIST: RMSNormalization
// LIST: SimplifiedLayerNormalization
// LIST: Attention
// LIST: RotaryEmbedding
// LIST: GroupQueryAttention

// Shape -> Gather -> Unsqueeze -> Concat reshape targets are folded at import
// time: the reshapes read constants and no shape arithmetic is left.
// FOLD-LABEL: func.func @block(%{{.*}}: tensor<2x6x8xf32>) -> (tensor<2x6x4xf32>, tensor<2x6x2xf32>, tensor<2x6x2xi64>)
// FOLD-NOT: tensor<3xi64>
// FOLD: tensor.reshape %arg0(%{{.*}}) : (tensor<2x6x8xf32>, tensor<4xindex>) -> tensor<2x6x2x4xf32>
