// kestrelc --report: what each function became (docs/cli.md, "The compile
// report"). The committed blocks (test/onnx/models, export_*_block.py) and
// the functions below. Expected counts follow from the models: the Llama
// block has 2 RMSNorms, 2 RoPEs (q, k), one attention and 7 projections
// (wq, wk, wv, wo, gate, up, down); the MoE block one norm, a softmax top-2
// router over 8 experts for 16 tokens (32 token-expert pairs, at most 16
// per expert) and its gate projection; the Mamba block one norm, the causal
// conv, the unrolled scan and 4 projections (in, x, dt, out).
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %kestrel_src/test/onnx/models/llama_block.onnx -o %t/l.so --report 2>&1 | FileCheck %s --check-prefix=LLAMA
// RUN: kestrelc %kestrel_src/test/onnx/models/llama_block.onnx --target=cuda:sm_90a -o %t/l.ptx --report=%t/l.txt && FileCheck %s --check-prefix=LLAMA-CUDA < %t/l.txt
// RUN: kestrelc %kestrel_src/test/onnx/models/llama_block.onnx --target=cuda:sm_90a --precision=bf16 -o %t/b.ptx --report=- | FileCheck %s --check-prefix=LLAMA-BF16
// RUN: kestrelc %kestrel_src/test/onnx/models/moe_block.onnx -o %t/m.so --report=- | FileCheck %s --check-prefix=MOE
// RUN: kestrelc %kestrel_src/test/onnx/models/mamba_block.onnx -o %t/s.so --report=- | FileCheck %s --check-prefix=MAMBA
// RUN: kestrelc %s --target=cuda:sm_90a -o %t/k.ptx --report=- | FileCheck %s --check-prefix=MLIR
// RUN: sed -e 's/^\/\/ QA: //;t;d' %s > %t/q.mlir && not kestrelc %t/q.mlir --target=cuda:sm_90a -o %t/q.ptx --report=%t/q.txt 2>%t/q.err && FileCheck %s --check-prefix=REFUSED < %t/q.txt
// RUN: kestrelc %s --emit=mlir --no-recognize --report=- | FileCheck %s --check-prefix=NORECOGNIZE
// RUN: kestrelc --help | FileCheck %s --check-prefix=HELP

// LLAMA: kestrel compile report: target cpu
// LLAMA-NEXT: function @main_graph
// LLAMA-NEXT: kestrel ops: 5 (5 by recognition; the input had 0)
// LLAMA-NEXT: kestrel.attention x1 at node '{{.*}}' (MatMul)
// LLAMA-NEXT: kestrel.rms_norm x2 at node '/norm1/{{.*}}, node '/norm2/
// LLAMA-NEXT: kestrel.rope x2 at
// LLAMA: generic ops left by recognition:
// LLAMA: linalg.generic (contraction) x7
// LLAMA: decisions:
// LLAMA: kestrel.contraction_config:
// LLAMA-COUNT-3: linalg.generic #kestrel.contraction<path = "gemv", {{.*}}> x{{[124]}}
// LLAMA: kestrel.contraction_tile:
// LLAMA-NEXT: scf.forall array<i64: 8, 32> x7
// LLAMA: kestrel.tile:
// LLAMA-NEXT: kestrel.attention #kestrel.attention_tiles<query = 16, key = 16> x1
// LLAMA: reference lowering (kestrel ops without a kernel or tile decision):
// LLAMA-NEXT: kestrel.rms_norm x2
// LLAMA-NEXT: kestrel.rope x2
// LLAMA-NEXT: refused: none

// f32 projections run on the FFMA GEMM, seven contractions in four launches
// (Q/K/V joined, gate/up joined, two with the residual as initial value);
// the f32 attention at head dim 16 is lowered through linalg (the SIMT
// flash kernel does not take it).
// LLAMA-CUDA: kestrel compile report: target cuda:sm_90a, precision f32
// LLAMA-CUDA: kestrel.gemm_fusion:
// LLAMA-CUDA-NEXT: gpu.launch "gated" x1
// LLAMA-CUDA-NEXT: gpu.launch "outputs" x1
// LLAMA-CUDA-NEXT: gpu.launch "residual" x2
// LLAMA-CUDA: kestrel.gemm_plan:
// LLAMA-CUDA-NEXT: gpu.launch #kestrel.gemm_plan<{{.*}}operandType = f32{{.*}}> x4
// LLAMA-CUDA: gpu kernels: [[N:[0-9]+]] launches
// LLAMA-CUDA-NEXT: gemm: SIMT (FFMA, f32 operands) x4
// LLAMA-CUDA: row kernel: SIMT x{{[0-9]+}}
// LLAMA-CUDA: reference lowering
// LLAMA-CUDA-NEXT: kestrel.attention x1
// LLAMA-CUDA: refused: none

// LLAMA-BF16: target cuda:sm_90a, precision bf16
// The committed block has M = 8 rows: too short for wgmma (M <= 64), so mma.sync.
// LLAMA-BF16: gemm: tensor cores (mma.sync, bf16 operands, f32 accumulation) x4

// MOE: kestrel ops: 3 (3 by recognition; the input had 1: kestrel.top_k x1)
// MOE-NEXT: kestrel.moe x1 at node
// MOE-NEXT: kestrel.rms_norm x1 at node '/norm/{{.*}}'
// MOE-NEXT: kestrel.route x1 at node
// MOE: linalg.generic (contraction) x1
// MOE: kestrel.moe_bounds:
// MOE-NEXT: kestrel.moe #kestrel.moe_bounds<pairs = 32, per_expert = 16> x1
// MOE: kestrel.moe_stage:
// MOE-DAG: scf.for #kestrel.moe_stage<dispatch> x1
// MOE-DAG: scf.forall #kestrel.moe_stage<down> x1
// MOE-DAG: scf.forall #kestrel.moe_stage<up> x1
// MOE: refused: none

// MAMBA: kestrel ops: 3 (3 by recognition; the input had 0)
// MAMBA-NEXT: kestrel.causal_conv1d x1
// MAMBA-NEXT: kestrel.rms_norm x1
// MAMBA-NEXT: kestrel.selective_scan x1
// MAMBA: linalg.generic (contraction) x4
// MAMBA: kestrel.contraction_tile:
// MAMBA-NEXT: scf.forall array<i64: 8, 32> x4

// MLIR: function @mm_bf16
// MLIR-NEXT: kestrel ops: 0 (0 by recognition; the input had 0)
// MLIR-NEXT: generic ops left by recognition: 2
// MLIR-NEXT: linalg.fill x1
// MLIR-NEXT: linalg.matmul x1
// MLIR: gpu kernels: 1 launches
// MLIR-NEXT: gemm: tensor cores (mma.sync, bf16 operands, f32 accumulation) x1
// MLIR: function @attn_f16
// MLIR-NEXT: kestrel ops: 1 (0 by recognition; the input had 1: kestrel.attention x1)
// MLIR: kestrel.attention_kernel:
// MLIR-NEXT: gpu.launch "mma_sync" x1
// MLIR: gpu kernels: 1 launches
// MLIR-NEXT: flash attention: tensor cores (mma.sync) x1
// MLIR: refused: none

// REFUSED: refused:
// REFUSED-NEXT: {{.*}}q.mlir:2:{{[0-9]+}}: 'kestrel.quantized_attention' op is not supported on cuda targets yet: {{.*}}; use --target=cpu

// HELP: --report[=<FILE>] {{.*}}Print the compile report{{.*}}To stderr, or to FILE ('-': stdout); also on failure

// NORECOGNIZE: kestrel compile report: target cpu
// NORECOGNIZE-NEXT: refused: none

func.func @mm_bf16(%a: tensor<64x128xbf16>, %b: tensor<128x64xbf16>) -> tensor<64x64xf32> {
  %z = tensor.empty() : tensor<64x64xf32>
  %c = arith.constant 0.0 : f32
  %i = linalg.fill ins(%c : f32) outs(%z : tensor<64x64xf32>) -> tensor<64x64xf32>
  %y = linalg.matmul ins(%a, %b : tensor<64x128xbf16>, tensor<128x64xbf16>) outs(%i : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %y : tensor<64x64xf32>
}

func.func @attn_f16(%q: tensor<1x2x64x64xf16>, %k: tensor<1x1x64x64xf16>, %v: tensor<1x1x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x2x64x64xf16>, tensor<1x1x64x64xf16>, tensor<1x1x64x64xf16> -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}

// QA: func.func @q(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
// QA:   %o = kestrel.quantized_attention %q, %k, %k causal smooth_k block_q = 4 block_k = 8 : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
// QA:   return %o : tensor<1x4x16x8xf32>
// QA: }
