// The vector gate's chunked kernels (kestrel-gpu-recurrence, gate vector /
// GLA: the chunk_gla launch, then the two-kernel chunk walk) in every
// variant compile for cuda and ptxas assembles them for sm_90a and sm_80:
// chunk 64 (kestrel-tile's default), 32 and 128, a forced Dv tile, f32
// log-gates / state beside bf16 q/k/v, GQA, ragged T, Dk 256, and the
// decode step and f16 op that stay recurrent. The CPU build of the same
// ops is unchanged.
// REQUIRES: ptxas
// RUN: rm -rf %t && split-file %s %t
// RUN: kestrelc %t/all.mlir --target=cpu --emit=so -o %t/all.so
// RUN: kestrelc %t/all.mlir --target=cuda:sm_90a -o %t/all90.ptx
// RUN: %ptxas -arch=sm_90a %t/all90.ptx -o %t/all90.cubin
// RUN: kestrelc %t/all.mlir --target=cuda:sm_80 -o %t/all80.ptx
// RUN: %ptxas -arch=sm_80 %t/all80.ptx -o %t/all80.cubin
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/all90.manifest
// RUN: FileCheck %s --check-prefix=PTX < %t/all90.ptx

// Two launches per op: chunk_gla, grid (ceil(T / C), B * H), shared Q, K
// (C x (Dk + 8) bf16 each) and b (C x (Dk + 8) f32); then the walk, grid
// (Dv / dvt, B * H). At Dk = 128, C = 64: 2 * 17408 + 34816 = 69632.
// MANIFEST-LABEL: function gla_bf16_f32state
// MANIFEST: launch gla_bf16_f32state_kernel grid 5 4 1 block 128 1 1 smem 69632
// MANIFEST: launch gla_bf16_f32state_kernel_0 grid 8 4 1 block 128 1 1 smem 82176
// MANIFEST-NOT: launch
// MANIFEST-LABEL: function gla_chunk128_tile64
// MANIFEST: launch gla_chunk128_tile64_kernel grid 2 2 1 block 256 1 1 smem 139264
// MANIFEST: launch gla_chunk128_tile64_kernel_1 grid 1 2 1 block 256 1 1
// MANIFEST-LABEL: function gla_chunk32_gqa
// MANIFEST: launch gla_chunk32_gqa_kernel grid 3 8 1 block 64 1 1 smem 18432
// MANIFEST: launch gla_chunk32_gqa_kernel_2 grid 4 8 1 block 64 1 1
// MANIFEST-LABEL: function gla_dk256
// MANIFEST: launch gla_dk256_kernel grid 2 2 1 block 128 1 1 smem 135168
// MANIFEST: launch gla_dk256_kernel_3 grid 4 2 1 block 128 1 1
// MANIFEST-LABEL: function gla_decode
// MANIFEST: launch gla_decode_kernel grid {{.*}} smem 0
// MANIFEST-NOT: launch
// MANIFEST-LABEL: function gla_f16
// MANIFEST: launch gla_f16_kernel grid {{.*}} smem 0
// MANIFEST-NOT: launch

// PTX-LABEL: .entry gla_bf16_f32state_kernel(
// PTX: cp.async.cg.shared.global
// PTX: ex2.approx.ftz.f32
// PTX: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-LABEL: .entry gla_bf16_f32state_kernel_0(
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

//--- all.mlir
func.func @gla_bf16_f32state(%q: tensor<1x4x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>, %g: tensor<1x4x300x128xf32>, %s0: tensor<1x4x128x128xf32>) -> (tensor<1x4x300x128xbf16>, tensor<1x4x128x128xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<1x4x300x128xf32>) initial_state(%s0 : tensor<1x4x128x128xf32>) scale = 0.25 : tensor<1x4x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x4x300x128xbf16>, tensor<1x4x128x128xf32>
  return %o, %s : tensor<1x4x300x128xbf16>, tensor<1x4x128x128xf32>
}

func.func @gla_chunk128_tile64(%q: tensor<1x2x200x128xbf16>, %v: tensor<1x2x200x64xbf16>, %g: tensor<1x2x200x128xbf16>) -> (tensor<1x2x200x64xbf16>, tensor<1x2x128x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %v gate = vector log_gate(%g : tensor<1x2x200x128xbf16>) {kestrel.chunk = #kestrel.chunk<128>, kestrel.value_tile = 64 : i64} : tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>, tensor<1x2x200x64xbf16> -> tensor<1x2x200x64xbf16>, tensor<1x2x128x64xbf16>
  return %o, %s : tensor<1x2x200x64xbf16>, tensor<1x2x128x64xbf16>
}

func.func @gla_chunk32_gqa(%q: tensor<2x4x67x64xbf16>, %k: tensor<2x2x67x64xbf16>, %v: tensor<2x2x67x64xbf16>, %g: tensor<2x4x67x64xbf16>) -> (tensor<2x4x67x64xbf16>, tensor<2x4x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = vector log_gate(%g : tensor<2x4x67x64xbf16>) scale = 0.5 {kestrel.chunk = #kestrel.chunk<32>} : tensor<2x4x67x64xbf16>, tensor<2x2x67x64xbf16>, tensor<2x2x67x64xbf16> -> tensor<2x4x67x64xbf16>, tensor<2x4x64x64xbf16>
  return %o, %s : tensor<2x4x67x64xbf16>, tensor<2x4x64x64xbf16>
}

func.func @gla_dk256(%q: tensor<1x2x100x256xbf16>, %v: tensor<1x2x100x64xbf16>, %g: tensor<1x2x100x256xf32>) -> (tensor<1x2x100x64xbf16>, tensor<1x2x256x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %v gate = vector log_gate(%g : tensor<1x2x100x256xf32>) scale = 0.0625 : tensor<1x2x100x256xbf16>, tensor<1x2x100x256xbf16>, tensor<1x2x100x64xbf16> -> tensor<1x2x100x64xbf16>, tensor<1x2x256x64xbf16>
  return %o, %s : tensor<1x2x100x64xbf16>, tensor<1x2x256x64xbf16>
}

func.func @gla_decode(%q: tensor<2x4x1x128xbf16>, %g: tensor<2x4x1x128xf32>, %s0: tensor<2x4x128x128xf32>) -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = vector log_gate(%g : tensor<2x4x1x128xf32>) initial_state(%s0 : tensor<2x4x128x128xf32>) : tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16> -> tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>
  return %o, %s : tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>
}

func.func @gla_f16(%q: tensor<1x2x128x64xf16>, %g: tensor<1x2x128x64xf16>) -> (tensor<1x2x128x64xf16>, tensor<1x2x64x64xf16>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = vector log_gate(%g : tensor<1x2x128x64xf16>) : tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16> -> tensor<1x2x128x64xf16>, tensor<1x2x64x64xf16>
  return %o, %s : tensor<1x2x128x64xf16>, tensor<1x2x64x64xf16>
}
