// The attention of a Llama decoder block exported by PyTorch
// (test/onnx/export_llama_block.py: RMSNorm, RoPE, repeat_kv GQA with 4 query
// and 2 KV heads, q @ k^T / sqrt(16) + causal mask -> softmax -> @ v, SwiGLU)
// is recognized by kestrel-recognize into one causal kestrel.attention reading
// K and V before the repeat; the decomposed softmax is gone, the rest stays
// linalg. The plain import run through kestrel-opt's kestrel-recognize gives
// the same attention.
// REQUIRES: onnx
// RUN: kestrelc %kestrel_src/test/onnx/models/llama_block.onnx --emit=mlir | FileCheck %s
// RUN: kestrelc %kestrel_src/test/onnx/models/llama_block.onnx --emit=mlir --no-recognize | kestrel-opt --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s

// CHECK-LABEL: func.func @main_graph(%{{.*}}: tensor<1x16x64xf32>) -> tensor<1x16x64xf32>
// CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} causal scale = 2.500000e-01 : tensor<1x4x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32> -> tensor<1x4x16x16xf32>
// CHECK-NOT: kestrel.attention
// CHECK: return
