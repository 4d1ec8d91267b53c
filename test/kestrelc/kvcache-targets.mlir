// kestrelc refuses kestrel.kv_append on cuda with --reference-lowering, with
// a reason (that lowering loops on the host) and writes nothing; without it
// kestrel-gpu-decode-attention makes a device copy plus a scatter kernel,
// which ptxas assembles (kvcache-ptxas.mlir covers decode_attention).
// RUN: rm -rf %t && mkdir -p %t
// RUN: not kestrelc %s --target=cuda:sm_90a --reference-lowering -o %t/append.ptx 2>&1 | FileCheck %s
// RUN: not ls %t/append.ptx
// RUN: kestrelc %s --target=cuda:sm_90a -o %t/scatter.ptx
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/scatter.manifest
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t/scatter.ptx -o %t/scatter.cubin %}

// CHECK: kvcache-targets.mlir:[[# @LINE + 8]]:{{[0-9]+}}: error: 'kestrel.kv_append' op is not supported on cuda targets with --reference-lowering: its reference lowering loops over the appended tokens on the host, which the launch manifest cannot replay; use --target=cpu

// The cache is copied into the result, then one scatter launch.
// MANIFEST: function append 3 1
// MANIFEST-NEXT: in f32 1x2x1x8
// MANIFEST: copy 1 3 1024
// MANIFEST-NEXT: launch {{.*}} grid 1 1 1 block 128 1 1
func.func @append(%n: tensor<1x2x1x8xf32>, %c: tensor<1x2x16x8xf32>, %pos: tensor<1xi32>) -> tensor<1x2x16x8xf32> {
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<head_major> positions(%pos : tensor<1xi32>)
      : tensor<1x2x1x8xf32> into tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
