// kestrelc refuses kestrel.kv_append on cuda targets with a reason (its
// reference lowering loops on the host) and writes nothing; decode_attention
// and select_kv_pages compile to PTX that ptxas assembles (kvcache-ptxas.mlir).
// RUN: rm -rf %t && mkdir -p %t
// RUN: not kestrelc %s --target=cuda:sm_90a -o %t/append.ptx 2>&1 | FileCheck %s
// RUN: not ls %t/append.ptx

// CHECK: kvcache-targets.mlir:[[# @LINE + 3]]:{{[0-9]+}}: error: 'kestrel.kv_append' op is not supported on cuda targets yet: its lowering loops over the appended tokens on the host, which the launch manifest cannot replay; use --target=cpu

func.func @append(%n: tensor<1x2x1x8xf32>, %c: tensor<1x2x16x8xf32>, %pos: tensor<1xi32>) -> tensor<1x2x16x8xf32> {
  %o = kestrel.kv_append %n into %c layout = #kestrel.kv_layout<head_major> positions(%pos : tensor<1xi32>)
      : tensor<1x2x1x8xf32> into tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
