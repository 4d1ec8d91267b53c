// Every gate kind of the recurrence, the selective scan and the causal conv
// compile for cuda through kestrel-gpu-recurrence (one launch each, looping
// over time on the device; the bf16 delta-rule prefill gets its two chunked
// launches instead) and ptxas assembles the PTX for sm_90a and
// sm_80: f32 and bf16 storage, T = 1 (decode) and T = 67 (not a multiple of
// anything), H_kv < H, Dk = 40 (rows past Dk guarded). With
// --reference-lowering kestrelc still refuses the recurrence on cuda with a
// reason and writes nothing.
// REQUIRES: ptxas
// RUN: rm -rf %t && split-file %s %t
// RUN: kestrelc %t/all.mlir --target=cpu --emit=so -o %t/all.so
// RUN: kestrelc %t/all.mlir --target=cuda:sm_90a -o %t/all90.ptx
// RUN: %ptxas -arch=sm_90a %t/all90.ptx -o %t/all90.cubin
// RUN: kestrelc %t/all.mlir --target=cuda:sm_80 -o %t/all80.ptx
// RUN: %ptxas -arch=sm_80 %t/all80.ptx -o %t/all80.cubin
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/all90.manifest
// RUN: not kestrelc %t/all.mlir --target=cuda:sm_90a --reference-lowering -o %t/ref.ptx 2>&1 | FileCheck %s --check-prefix=REF
// RUN: ls %t | FileCheck %s --check-prefix=FILES

// One launch per op: no host loop over time.
// MANIFEST-LABEL: function none_f32
// MANIFEST: launch none_f32_kernel grid 16 8 1 block 128 1 1
// MANIFEST-NOT: launch
// MANIFEST: end
// A bf16 prefill of a delta rule takes the chunked kernels (test/kestrelc/
// recurrence-delta-targets.mlir): the WY launch and the chunk walk.
// MANIFEST-LABEL: function gated_delta_bf16_gqa
// MANIFEST: launch gated_delta_bf16_gqa_kernel grid 2 4 1
// MANIFEST-NEXT: launch gated_delta_bf16_gqa_kernel_{{[0-9]+}} grid
// MANIFEST-NOT: launch
// MANIFEST: end
// MANIFEST-LABEL: function mamba_mixer
// MANIFEST-COUNT-2: launch
// MANIFEST-NOT: launch
// MANIFEST: end

// REF: all.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'kestrel.gated_recurrence' op is not supported on cuda targets with --reference-lowering: its reference lowering loops over time on the host, which the launch manifest cannot replay; use --target=cpu
// FILES: all.so
// FILES-NOT: ref.ptx

//--- all.mlir
func.func @none_f32(%q: tensor<2x4x67x64xf32>, %k: tensor<2x4x67x64xf32>, %v: tensor<2x4x67x64xf32>) -> (tensor<2x4x67x64xf32>, tensor<2x4x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none scale = 0.125 : tensor<2x4x67x64xf32>, tensor<2x4x67x64xf32>, tensor<2x4x67x64xf32> -> tensor<2x4x67x64xf32>, tensor<2x4x64x64xf32>
  return %o, %s : tensor<2x4x67x64xf32>, tensor<2x4x64x64xf32>
}

func.func @scalar_bf16_decode(%q: tensor<2x4x1x128xbf16>, %k: tensor<2x4x1x128xbf16>, %v: tensor<2x4x1x128xbf16>, %g: tensor<2x4x1xbf16>, %s0: tensor<2x4x128x128xbf16>) -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<2x4x1xbf16>) initial_state(%s0 : tensor<2x4x128x128xbf16>) : tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16> -> tensor<2x4x1x128xbf16>, tensor<2x4x128x128xbf16>
  return %o, %s : tensor<2x4x1x128xbf16>, tensor<2x4x128x128xbf16>
}

func.func @vector_f16_dk40(%q: tensor<1x2x67x40xf16>, %k: tensor<1x2x67x40xf16>, %v: tensor<1x2x67x24xf16>, %g: tensor<1x2x67x40xf16>) -> (tensor<1x2x67x24xf16>, tensor<1x2x40x24xf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<1x2x67x40xf16>) : tensor<1x2x67x40xf16>, tensor<1x2x67x40xf16>, tensor<1x2x67x24xf16> -> tensor<1x2x67x24xf16>, tensor<1x2x40x24xf16>
  return %o, %s : tensor<1x2x67x24xf16>, tensor<1x2x40x24xf16>
}

func.func @delta_f32(%q: tensor<1x2x67x64xf32>, %k: tensor<1x2x67x64xf32>, %v: tensor<1x2x67x64xf32>, %b: tensor<1x2x67xf32>, %s0: tensor<1x2x64x64xf32>) -> (tensor<1x2x67x64xf32>, tensor<1x2x64x64xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = delta beta(%b : tensor<1x2x67xf32>) initial_state(%s0 : tensor<1x2x64x64xf32>) : tensor<1x2x67x64xf32>, tensor<1x2x67x64xf32>, tensor<1x2x67x64xf32> -> tensor<1x2x67x64xf32>, tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x67x64xf32>, tensor<1x2x64x64xf32>
}

func.func @gated_delta_bf16_gqa(%q: tensor<1x4x67x128xbf16>, %k: tensor<1x2x67x128xbf16>, %v: tensor<1x2x67x128xbf16>, %g: tensor<1x4x67xbf16>, %b: tensor<1x4x67xbf16>) -> (tensor<1x4x67x128xbf16>, tensor<1x4x128x128xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x4x67xbf16>) beta(%b : tensor<1x4x67xbf16>) scale = 0.088 : tensor<1x4x67x128xbf16>, tensor<1x2x67x128xbf16>, tensor<1x2x67x128xbf16> -> tensor<1x4x67x128xbf16>, tensor<1x4x128x128xbf16>
  return %o, %s : tensor<1x4x67x128xbf16>, tensor<1x4x128x128xbf16>
}

func.func @mamba_mixer(%x: tensor<1x8x67xbf16>, %w: tensor<8x4xbf16>, %cb: tensor<8xbf16>, %dt: tensor<1x8x67xbf16>, %a: tensor<8x16xf32>, %bm: tensor<1x16x67xbf16>, %cm: tensor<1x16x67xbf16>, %d: tensor<8xf32>, %z: tensor<1x8x67xbf16>, %db: tensor<8xf32>, %h0: tensor<1x8x16xf32>) -> (tensor<1x8x67xbf16>, tensor<1x8x3xbf16>, tensor<1x8x16xf32>) {
  %xc, %cs = kestrel.causal_conv1d %x, %w activation = silu bias(%cb : tensor<8xbf16>) : tensor<1x8x67xbf16>, tensor<8x4xbf16> -> tensor<1x8x67xbf16>, tensor<1x8x3xbf16>
  %y, %h = kestrel.selective_scan %xc, %dt, %a, %bm, %cm D(%d : tensor<8xf32>) z(%z : tensor<1x8x67xbf16>) delta_bias(%db : tensor<8xf32>) initial_state(%h0 : tensor<1x8x16xf32>) delta_softplus : tensor<1x8x67xbf16>, tensor<1x8x67xbf16>, tensor<8x16xf32>, tensor<1x16x67xbf16>, tensor<1x16x67xbf16> -> tensor<1x8x67xbf16>, tensor<1x8x16xf32>
  return %y, %cs, %h : tensor<1x8x67xbf16>, tensor<1x8x3xbf16>, tensor<1x8x16xf32>
}

func.func @conv_decode(%x: tensor<2x8x1xf32>, %w: tensor<8x4xf32>, %s0: tensor<2x8x3xf32>) -> (tensor<2x8x1xf32>, tensor<2x8x3xf32>) {
  %y, %s = kestrel.causal_conv1d %x, %w activation = none state(%s0 : tensor<2x8x3xf32>) : tensor<2x8x1xf32>, tensor<8x4xf32> -> tensor<2x8x1xf32>, tensor<2x8x3xf32>
  return %y, %s : tensor<2x8x1xf32>, tensor<2x8x3xf32>
}

