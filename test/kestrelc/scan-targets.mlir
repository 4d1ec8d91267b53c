// The Mamba mixer ops compile for the CPU. On cuda targets kestrelc refuses
// the selective scan with a reason and writes nothing (its lowering loops
// over time on the host, which the launch manifest cannot replay); the conv
// compiles to PTX that ptxas accepts (its GPU results were checked on an
// H100 by bench/gpu/conv.sh).
// REQUIRES: ptxas
// RUN: rm -rf %t && split-file %s %t
// RUN: kestrelc %t/scan.mlir --target=cpu --emit=so -o %t/scan.so
// RUN: kestrelc %t/conv.mlir --target=cpu --emit=so -o %t/conv.so
// RUN: not kestrelc %t/scan.mlir --target=cuda:sm_90a -o %t/scan.ptx 2>&1 | FileCheck %s --check-prefix=SCAN
// RUN: kestrelc %t/conv.mlir --target=cuda:sm_90a -o %t/conv.ptx
// RUN: %ptxas -arch=sm_90a %t/conv.ptx -o %t/conv.cubin
// RUN: FileCheck %s --check-prefix=CONV < %t/conv.manifest
// RUN: ls %t/scan.so %t/conv.so
// RUN: not ls %t/scan.ptx
// RUN: not ls %t/scan.manifest

// SCAN: scan.mlir:2:12: error: 'kestrel.selective_scan' op is not supported on cuda targets yet: its lowering loops over time on the host, which the launch manifest cannot replay; use --target=cpu
// CONV: launch

//--- scan.mlir
func.func @scan(%x: tensor<1x4x8xf32>, %dt: tensor<1x4x8xf32>, %a: tensor<4x16xf32>, %b: tensor<1x16x8xf32>, %c: tensor<1x16x8xf32>, %h0: tensor<1x4x16xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x16xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c initial_state(%h0 : tensor<1x4x16xf32>) delta_softplus : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<4x16xf32>, tensor<1x16x8xf32>, tensor<1x16x8xf32> -> tensor<1x4x8xf32>, tensor<1x4x16xf32>
  return %y, %h : tensor<1x4x8xf32>, tensor<1x4x16xf32>
}

//--- conv.mlir
func.func @conv(%x: tensor<1x4x8xf32>, %w: tensor<4x4xf32>, %s0: tensor<1x4x3xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x3xf32>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = silu state(%s0 : tensor<1x4x3xf32>) : tensor<1x4x8xf32>, tensor<4x4xf32> -> tensor<1x4x8xf32>, tensor<1x4x3xf32>
  return %y, %s : tensor<1x4x8xf32>, tensor<1x4x3xf32>
}
