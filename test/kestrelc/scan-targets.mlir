// The Mamba mixer ops compile for the CPU and for cuda: kestrel-gpu-recurrence
// turns the selective scan and the conv into one kernel each, and ptxas
// accepts the PTX (their GPU results are checked against the NumPy oracles
// by bench/gpu/bench_recurrence.sh). With --reference-lowering kestrelc
// still refuses the scan on cuda (its lowering loops over time on the host)
// and writes nothing.
// REQUIRES: ptxas
// RUN: rm -rf %t && split-file %s %t
// RUN: kestrelc %t/scan.mlir --target=cpu --emit=so -o %t/scan.so
// RUN: kestrelc %t/conv.mlir --target=cpu --emit=so -o %t/conv.so
// RUN: kestrelc %t/scan.mlir --target=cuda:sm_90a -o %t/scan.ptx
// RUN: %ptxas -arch=sm_90a %t/scan.ptx -o %t/scan.cubin
// RUN: not kestrelc %t/scan.mlir --target=cuda:sm_90a --reference-lowering -o %t/ref.ptx 2>&1 | FileCheck %s --check-prefix=SCAN
// RUN: kestrelc %t/conv.mlir --target=cuda:sm_90a -o %t/conv.ptx
// RUN: %ptxas -arch=sm_90a %t/conv.ptx -o %t/conv.cubin
// RUN: FileCheck %s --check-prefix=CONV < %t/conv.manifest
// RUN: FileCheck %s --check-prefix=CONV < %t/scan.manifest
// RUN: ls %t/scan.so %t/conv.so
// RUN: not ls %t/ref.ptx
// A state of N = 128 per channel (lanes split it) compiles and assembles
// without spills; N = 65 (no 2^k slices of at most 32) is refused.
// RUN: kestrelc %t/scan128.mlir --target=cuda:sm_90a -o %t/scan128.ptx
// RUN: %ptxas -arch=sm_90a -v %t/scan128.ptx -o %t/scan128.cubin 2>&1 | FileCheck %s --check-prefix=NOSPILL
// RUN: not kestrelc %t/scan65.mlir --target=cuda:sm_90a -o %t/scan65.ptx 2>&1 | FileCheck %s --check-prefix=N65
// NOSPILL-NOT: {{[1-9][0-9]* bytes spill}}
// N65: error: 'kestrel.selective_scan' op is not supported on cuda targets with a state of more than 64 elements per channel that is not 2^k slices of at most 32 (k <= 5)

// SCAN: scan.mlir:2:12: error: 'kestrel.selective_scan' op is not supported on cuda targets with --reference-lowering: its reference lowering loops over time on the host, which the launch manifest cannot replay; use --target=cpu
// One launch, nothing else.
// CONV: launch
// CONV-NOT: launch

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

//--- scan128.mlir
func.func @scan128(%x: tensor<2x6x5xf32>, %dt: tensor<2x6x5xf32>, %a: tensor<6x128xf32>, %b: tensor<2x128x5xf32>, %c: tensor<2x128x5xf32>) -> (tensor<2x6x5xf32>, tensor<2x6x128xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c delta_softplus : tensor<2x6x5xf32>, tensor<2x6x5xf32>, tensor<6x128xf32>, tensor<2x128x5xf32>, tensor<2x128x5xf32> -> tensor<2x6x5xf32>, tensor<2x6x128xf32>
  return %y, %h : tensor<2x6x5xf32>, tensor<2x6x128xf32>
}

//--- scan65.mlir
func.func @scan65(%x: tensor<1x4x5xf32>, %dt: tensor<1x4x5xf32>, %a: tensor<4x65xf32>, %b: tensor<1x65x5xf32>, %c: tensor<1x65x5xf32>) -> (tensor<1x4x5xf32>, tensor<1x4x65xf32>) {
  %y, %h = kestrel.selective_scan %x, %dt, %a, %b, %c : tensor<1x4x5xf32>, tensor<1x4x5xf32>, tensor<4x65xf32>, tensor<1x65x5xf32>, tensor<1x65x5xf32> -> tensor<1x4x5xf32>, tensor<1x4x65xf32>
  return %y, %h : tensor<1x4x5xf32>, tensor<1x4x65xf32>
}
