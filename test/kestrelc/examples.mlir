// Every example model in examples/ (one per family: attention variants,
// recurrence, MoE, denoising, a hybrid; attention.mlir is the README's)
// compiles for the CPU and to PTX for sm_90a; with ptxas present the PTX
// must assemble (ptxas.mlir covers attention.mlir on the GPU side).
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %kestrel_src/examples/attention.mlir --target=cpu -o %t/attention.so --report=%t/attention.cpu.txt
// RUN: kestrelc %kestrel_src/examples/attention_variants.mlir --target=cpu -o %t/attention_variants.so --report=%t/attention_variants.cpu.txt
// RUN: kestrelc %kestrel_src/examples/recurrence.mlir --target=cpu -o %t/recurrence.so --report=%t/recurrence.cpu.txt
// RUN: kestrelc %kestrel_src/examples/moe.mlir --target=cpu -o %t/moe.so --report=%t/moe.cpu.txt
// RUN: kestrelc %kestrel_src/examples/denoise.mlir --target=cpu -o %t/denoise.so --report=%t/denoise.cpu.txt
// RUN: kestrelc %kestrel_src/examples/hybrid.mlir --target=cpu -o %t/hybrid.so --report=%t/hybrid.cpu.txt
// RUN: kestrelc %kestrel_src/examples/attention_variants.mlir --target=cuda:sm_90a -o %t/attention_variants.ptx --report=%t/attention_variants.cuda.txt
// RUN: kestrelc %kestrel_src/examples/recurrence.mlir --target=cuda:sm_90a -o %t/recurrence.ptx --report=%t/recurrence.cuda.txt
// RUN: kestrelc %kestrel_src/examples/moe.mlir --target=cuda:sm_90a -o %t/moe.ptx --report=%t/moe.cuda.txt
// RUN: kestrelc %kestrel_src/examples/denoise.mlir --target=cuda:sm_90a -o %t/denoise.ptx --report=%t/denoise.cuda.txt
// RUN: kestrelc %kestrel_src/examples/hybrid.mlir --target=cuda:sm_90a -o %t/hybrid.ptx --report=%t/hybrid.cuda.txt
// RUN: cat %t/attention_variants.cpu.txt %t/recurrence.cpu.txt %t/moe.cpu.txt %t/denoise.cpu.txt %t/hybrid.cpu.txt | FileCheck %s --check-prefix=CPU
// RUN: cat %t/attention_variants.cuda.txt %t/recurrence.cuda.txt %t/moe.cuda.txt %t/denoise.cuda.txt %t/hybrid.cuda.txt | FileCheck %s --check-prefix=CUDA
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t/attention_variants.ptx -o %t/attention_variants.cubin %}
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t/recurrence.ptx -o %t/recurrence.cubin %}
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t/moe.ptx -o %t/moe.cubin %}
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t/denoise.ptx -o %t/denoise.cubin %}
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t/hybrid.ptx -o %t/hybrid.cubin %}

// CPU: function @window_sinks
// CPU: function @mla
// CPU: function @rope_attention
// CPU: refused: none
// CPU: function @gated_linear_attention
// CPU: function @mamba_mixer
// CPU: refused: none
// CPU: function @moe
// CPU: refused: none
// CPU: function @greedy
// CPU: function @sampled
// CPU: refused: none
// CPU: function @hybrid
// CPU: refused: none

// CUDA: function @window_sinks
// CUDA: flash attention: tensor cores (mma.sync)
// CUDA: function @gated_linear_attention
// CUDA: function @moe
// CUDA: function @greedy
// CUDA: denoise
// CUDA: function @hybrid
// CUDA: refused: none
