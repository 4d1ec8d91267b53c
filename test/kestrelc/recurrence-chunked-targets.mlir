// The chunked tensor-core recurrence kernel (kestrel-gpu-recurrence, gate
// kinds none and scalar, f16/bf16 q/k/v) in every variant compiles for
// cuda and ptxas assembles it for sm_90a and sm_80: chunk lengths 32, 64
// (kestrel-tile's default) and 128, Dv tiles 16/32/64, an f32 state and
// log-gate beside bf16 q/k/v, GQA, ragged T. The CPU build of the same
// ops is unchanged (its chunked form, kestrel-fuse-io-aware).
// REQUIRES: ptxas
// RUN: rm -rf %t && split-file %s %t
// RUN: kestrelc %t/all.mlir --target=cpu --emit=so -o %t/all.so
// RUN: kestrelc %t/all.mlir --target=cuda:sm_90a -o %t/all90.ptx
// RUN: %ptxas -arch=sm_90a %t/all90.ptx -o %t/all90.cubin
// RUN: kestrelc %t/all.mlir --target=cuda:sm_80 -o %t/all80.ptx
// RUN: %ptxas -arch=sm_80 %t/all80.ptx -o %t/all80.cubin
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/all90.manifest
// RUN: FileCheck %s --check-prefix=PTX < %t/all90.ptx

// One launch per op; grid (Dv / dvt, B * H), C / 16 warps, dynamic shared
// memory for two stages of Q, K, V, the state copy and the gates.
// MANIFEST-LABEL: function scalar_bf16_gqa
// MANIFEST: launch scalar_bf16_gqa_kernel grid 4 8 1 block 128 1 1 smem 46336
// MANIFEST-NOT: launch
// MANIFEST-LABEL: function scalar_f32_state_chunk128
// MANIFEST: launch scalar_f32_state_chunk128_kernel grid 8 2 1 block 256 1 1 smem 158208
// MANIFEST-LABEL: function none_f16_chunk32_tile64
// MANIFEST: launch none_f16_chunk32_tile64_kernel grid 1 2 1 block 64 1 1 smem 36992
// MANIFEST-LABEL: function scalar_bf16_decode
// MANIFEST: launch scalar_bf16_decode_kernel grid {{.*}} smem 0

// PTX-LABEL: .entry scalar_bf16_gqa_kernel
// PTX: cp.async.cg.shared.global
// PTX: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-LABEL: .entry none_f16_chunk32_tile64_kernel
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32

//--- all.mlir
func.func @scalar_bf16_gqa(%q: tensor<2x4x67x64xbf16>, %k: tensor<2x2x67x64xbf16>, %v: tensor<2x2x67x64xbf16>, %g: tensor<2x4x67xbf16>, %s0: tensor<2x4x64x64xbf16>) -> (tensor<2x4x67x64xbf16>, tensor<2x4x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<2x4x67xbf16>) initial_state(%s0 : tensor<2x4x64x64xbf16>) scale = 0.5 : tensor<2x4x67x64xbf16>, tensor<2x2x67x64xbf16>, tensor<2x2x67x64xbf16> -> tensor<2x4x67x64xbf16>, tensor<2x4x64x64xbf16>
  return %o, %s : tensor<2x4x67x64xbf16>, tensor<2x4x64x64xbf16>
}

func.func @scalar_f32_state_chunk128(%q: tensor<1x2x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>, %g: tensor<1x2x300xf32>, %s0: tensor<1x2x128x128xf32>) -> (tensor<1x2x300x128xbf16>, tensor<1x2x128x128xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x300xf32>) initial_state(%s0 : tensor<1x2x128x128xf32>) {kestrel.chunk = #kestrel.chunk<128>} : tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x2x300x128xbf16>, tensor<1x2x128x128xf32>
  return %o, %s : tensor<1x2x300x128xbf16>, tensor<1x2x128x128xf32>
}

func.func @none_f16_chunk32_tile64(%q: tensor<1x2x100x64xf16>, %k: tensor<1x1x100x64xf16>, %v: tensor<1x1x100x64xf16>) -> (tensor<1x2x100x64xf16>, tensor<1x2x64x64xf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = none {kestrel.chunk = #kestrel.chunk<32>, kestrel.value_tile = 64 : i64} : tensor<1x2x100x64xf16>, tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16> -> tensor<1x2x100x64xf16>, tensor<1x2x64x64xf16>
  return %o, %s : tensor<1x2x100x64xf16>, tensor<1x2x64x64xf16>
}

func.func @scalar_bf16_decode(%q: tensor<2x4x1x128xbf16>, %k: tensor<2x4x1x128xbf16>, %v: tensor<2x4x1x128xbf16>, %g: tensor<2x4x1xbf16>, %s0: tensor<2x4x128x128xbf16>) -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<2x4x1xbf16>) initial_state(%s0 : tensor<2x4x128x128xbf16>) : tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16> -> tensor<2x4x1x128xbf16>, tensor<2x4x128x128xbf16>
  return %o, %s : tensor<2x4x1x128xbf16>, tensor<2x4x128x128xbf16>
}
