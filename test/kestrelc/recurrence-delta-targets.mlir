// The delta rules' chunked kernels (kestrel-gpu-recurrence, gate delta and
// gated_delta: the WY launch, then the chunk walk over V' = U - W S) in
// every variant compile for cuda and ptxas assembles them for sm_90a and
// sm_80: chunk 64 (kestrel-tile's default) and 32, a forced Dv tile, f32
// log-gates / beta / state beside bf16 q/k/v, f16, GQA, ragged T, Dk 256,
// the two-kernel walk, and the decode step that stays recurrent. The CPU
// build of the same ops is unchanged (kestrel-fuse-io-aware).
// REQUIRES: ptxas
// RUN: rm -rf %t && split-file %s %t
// RUN: kestrelc %t/all.mlir --target=cpu --emit=so -o %t/all.so
// RUN: kestrelc %t/all.mlir --target=cuda:sm_90a -o %t/all90.ptx
// RUN: %ptxas -arch=sm_90a %t/all90.ptx -o %t/all90.cubin
// RUN: kestrelc %t/all.mlir --target=cuda:sm_80 -o %t/all80.ptx
// RUN: %ptxas -arch=sm_80 %t/all80.ptx -o %t/all80.cubin
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/all90.manifest
// RUN: FileCheck %s --check-prefix=PTX < %t/all90.ptx

// Two launches per op: the WY kernel, grid (ceil(T / C), B * H), then the
// walk, grid (Dv / dvt, B * H). WY shared memory at Dk = Dv = 128, C = 64:
// K, V (2 x 64 x 136 bf16), gates and beta (2 x 256), A and T (2 x 64 x 64
// f32), the inverse's scratch (3 KiB), T's four 64 x 72 16-bit tiles.
// MANIFEST-LABEL: function gated_delta_bf16_f32state
// MANIFEST: launch gated_delta_bf16_f32state_kernel grid 5 4 1 block 128 1 1 smem 108032
// MANIFEST: launch gated_delta_bf16_f32state_kernel_0 grid 8 4 1 block 128 1 1 smem 116992
// MANIFEST-NOT: launch
// MANIFEST-LABEL: function delta_f16_chunk32_tile32
// MANIFEST: launch delta_f16_chunk32_tile32_kernel grid 3 8 1 block 64 1 1 smem 28928
// MANIFEST: launch delta_f16_chunk32_tile32_kernel_1 grid 2 8 1 block 64 1 1 smem 38016
// MANIFEST-LABEL: function gated_delta_two_kernels
// MANIFEST: launch gated_delta_two_kernels_kernel grid 4 2 1 block 128 1 1 smem 91648
// MANIFEST: launch gated_delta_two_kernels_kernel_2 grid 4 2 1 block 128 1 1 smem 64768
// MANIFEST: launch gated_delta_two_kernels_kernel_3 grid 4 2 1 block 128 1 1 smem 64768
// MANIFEST-LABEL: function delta_bf16_dk256
// MANIFEST: launch delta_bf16_dk256_kernel grid 2 2 1 block 128 1 1 smem 116224
// MANIFEST: launch delta_bf16_dk256_kernel_4 grid 4 2 1 block 128 1 1 smem 221440
// MANIFEST-LABEL: function gated_delta_bf16_decode
// MANIFEST: launch gated_delta_bf16_decode_kernel grid {{.*}} smem 0
// MANIFEST-NOT: launch

// PTX-LABEL: .entry gated_delta_bf16_f32state_kernel(
// PTX: cp.async.cg.shared.global
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX: fma.rn.f32
// PTX: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX-LABEL: .entry gated_delta_bf16_f32state_kernel_0(
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-LABEL: .entry delta_f16_chunk32_tile32_kernel(
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32

//--- all.mlir
func.func @gated_delta_bf16_f32state(%q: tensor<1x4x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>, %g: tensor<1x4x300xf32>, %b: tensor<1x4x300xf32>, %s0: tensor<1x4x128x128xf32>) -> (tensor<1x4x300x128xbf16>, tensor<1x4x128x128xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = gated_delta log_gate(%g : tensor<1x4x300xf32>) beta(%b : tensor<1x4x300xf32>) initial_state(%s0 : tensor<1x4x128x128xf32>) scale = 0.25 : tensor<1x4x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x4x300x128xbf16>, tensor<1x4x128x128xf32>
  return %o, %s : tensor<1x4x300x128xbf16>, tensor<1x4x128x128xf32>
}

func.func @delta_f16_chunk32_tile32(%q: tensor<2x4x67x64xf16>, %k: tensor<2x2x67x64xf16>, %v: tensor<2x2x67x64xf16>, %b: tensor<2x4x67xf16>) -> (tensor<2x4x67x64xf16>, tensor<2x4x64x64xf16>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = delta beta(%b : tensor<2x4x67xf16>) {kestrel.chunk = #kestrel.chunk<32>, kestrel.value_tile = 32 : i64} : tensor<2x4x67x64xf16>, tensor<2x2x67x64xf16>, tensor<2x2x67x64xf16> -> tensor<2x4x67x64xf16>, tensor<2x4x64x64xf16>
  return %o, %s : tensor<2x4x67x64xf16>, tensor<2x4x64x64xf16>
}

func.func @gated_delta_two_kernels(%q: tensor<1x2x200x64xbf16>, %g: tensor<1x2x200xbf16>) -> (tensor<1x2x200x64xbf16>, tensor<1x2x64x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = gated_delta log_gate(%g : tensor<1x2x200xbf16>) beta(%g : tensor<1x2x200xbf16>) {kestrel.recurrence_kernel = "chunked_mma_scores"} : tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16> -> tensor<1x2x200x64xbf16>, tensor<1x2x64x64xbf16>
  return %o, %s : tensor<1x2x200x64xbf16>, tensor<1x2x64x64xbf16>
}

func.func @delta_bf16_dk256(%q: tensor<1x2x100x256xbf16>, %v: tensor<1x2x100x64xbf16>, %b: tensor<1x2x100xf32>) -> (tensor<1x2x100x64xbf16>, tensor<1x2x256x64xbf16>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %v gate = delta beta(%b : tensor<1x2x100xf32>) scale = 0.0625 : tensor<1x2x100x256xbf16>, tensor<1x2x100x256xbf16>, tensor<1x2x100x64xbf16> -> tensor<1x2x100x64xbf16>, tensor<1x2x256x64xbf16>
  return %o, %s : tensor<1x2x100x64xbf16>, tensor<1x2x256x64xbf16>
}

func.func @gated_delta_bf16_decode(%q: tensor<2x4x1x128xbf16>, %g: tensor<2x4x1xf32>, %s0: tensor<2x4x128x128xf32>) -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %q, %q gate = gated_delta log_gate(%g : tensor<2x4x1xf32>) beta(%g : tensor<2x4x1xf32>) initial_state(%s0 : tensor<2x4x128x128xf32>) : tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16> -> tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>
  return %o, %s : tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>
}
