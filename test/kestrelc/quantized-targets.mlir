// kestrelc refuses kestrel.quantized_attention on cuda targets with a reason
// (its lowering leaves buffer reshapes on the host) and writes nothing; the
// same op compiles for the CPU.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not kestrelc %s --target=cuda:sm_90a -o %t/q.ptx 2>&1 | FileCheck %s
// RUN: not ls %t/q.ptx
// RUN: not ls %t/q.manifest
// RUN: kestrelc %s --target=cpu -o %t/q.so && ls %t/q.so

// CHECK: quantized-targets.mlir:[[# @LINE + 3]]:{{[0-9]+}}: error: 'kestrel.quantized_attention' op is not supported on cuda targets yet: its lowering leaves reshapes of buffers on the host, which the launch manifest cannot replay; use --target=cpu

func.func @smooth(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = kestrel.quantized_attention %q, %k, %k causal smooth_k block_q = 4 block_k = 8 : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}
