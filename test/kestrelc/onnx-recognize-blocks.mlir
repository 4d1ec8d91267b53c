// PyTorch-exported blocks (test/onnx/export_*_block.py) come out of
// kestrelc --emit=mlir with their structure recognized by the
// kestrel-recognize pass: RMSNorm, RoPE, attention, top-k MoE routing, the
// causal conv and the unrolled selective scan. The plain import
// (--no-recognize) holds no kestrel op but kestrel.top_k, and
// kestrel-recognize run on it by kestrel-opt finds the same ops (same
// FileCheck prefixes). Numerics against onnxruntime:
// test/onnx/test_onnx_recognize_blocks.py.
// REQUIRES: onnx
// RUN: kestrelc %kestrel_src/test/onnx/models/llama_block.onnx --emit=mlir | FileCheck %s --check-prefix=LLAMA
// RUN: kestrelc %kestrel_src/test/onnx/models/moe_block.onnx --emit=mlir | FileCheck %s --check-prefix=MOE
// RUN: kestrelc %kestrel_src/test/onnx/models/mamba_block.onnx --emit=mlir | FileCheck %s --check-prefix=MAMBA
// RUN: kestrelc %kestrel_src/test/onnx/models/llama_block.onnx --emit=mlir --no-recognize | kestrel-opt --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s --check-prefix=LLAMA
// RUN: kestrelc %kestrel_src/test/onnx/models/moe_block.onnx --emit=mlir --no-recognize | kestrel-opt --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s --check-prefix=MOE
// RUN: kestrelc %kestrel_src/test/onnx/models/mamba_block.onnx --emit=mlir --no-recognize | kestrel-opt --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s --check-prefix=MAMBA
// RUN: kestrelc %kestrel_src/test/onnx/models/llama_block.onnx --emit=mlir --no-recognize | FileCheck %s --check-prefix=PLAIN
// RUN: kestrelc %kestrel_src/test/onnx/models/moe_block.onnx --emit=mlir --no-recognize | FileCheck %s --check-prefix=PLAIN-MOE
// RUN: kestrelc %kestrel_src/test/onnx/models/mamba_block.onnx --emit=mlir --no-recognize | FileCheck %s --check-prefix=PLAIN
// RUN: not kestrelc %kestrel_src/test/onnx/models/mamba_block.onnx --no-recognize -o %t.so 2>&1 | FileCheck %s --check-prefix=NOEMIT

// PLAIN-NOT: kestrel.
// PLAIN: tensor.extract_slice
// PLAIN-NOT: kestrel.
// PLAIN: return
// PLAIN-MOE-NOT: kestrel.{{[a-su-z]}}
// PLAIN-MOE: kestrel.top_k %{{.*}} {axis = 1 : i64, k = 2 : i64} : tensor<16x8xf32> -> tensor<16x2xf32>, tensor<16x2xi64>
// PLAIN-MOE-NOT: kestrel.{{[a-su-z]}}
// PLAIN-MOE: return
// NOEMIT: --no-recognize needs --emit=mlir

// LLAMA: kestrel.rms_norm %arg0, %{{.*}} eps = 9.99999997E-7 : tensor<1x16x64xf32>, tensor<64xf32>
// LLAMA: %[[Q:.*]] = kestrel.rope %{{.*}} base = 1.000000e+04 : tensor<1x4x16x16xf32>
// LLAMA: %[[K:.*]] = kestrel.rope %{{.*}} base = 1.000000e+04 : tensor<1x2x16x16xf32>
// LLAMA: kestrel.attention %[[Q]], %[[K]], %{{.*}} causal
// LLAMA: kestrel.rms_norm
// LLAMA-NOT: math.sqrt
// LLAMA: return

// MOE: kestrel.rms_norm %arg0
// MOE: %[[I:.*]], %[[W:.*]] = kestrel.route %{{.*}} score = softmax k = 2 renormalize : tensor<16x8xf32> -> tensor<16x2xi64>, tensor<16x2xf32>
// MOE: kestrel.moe %{{.*}}, %[[I]], %[[W]] experts(%{{.*}}, %{{.*}}, %{{.*}}) : {{.*}}, tensor<8x64x96xf32>, tensor<8x64x96xf32>, tensor<8x96x64xf32> -> tensor<16x64xf32>
// MOE-NOT: math.exp
// MOE: return

// MAMBA: kestrel.rms_norm %arg0
// MAMBA: kestrel.causal_conv1d %{{.*}}, %{{.*}} activation = silu bias(%{{.*}} : tensor<64xf32>) : tensor<1x64x8xf32>, tensor<64x4xf32>
// MAMBA: kestrel.selective_scan
// MAMBA-SAME: -> tensor<1x64x8xf32>, tensor<1x64x8xf32>
// MAMBA-NOT: tensor.concat
// MAMBA: return
