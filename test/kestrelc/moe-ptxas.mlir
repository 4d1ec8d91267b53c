// The sparse MoE path of kestrel-gpu-moe (dispatch, grouped up/down GEMMs
// with gathered rows, the down epilogue's f32 row-pair stores and the
// ordered combine, no float atomics) and the routing kernel of
// kestrel-gpu-route assemble with ptxas: bf16 on tensor cores, f32 on the
// FFMA GEMM, and f32 under --precision=bf16.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s --target=cuda:sm_90a -o %t/m.ptx && %ptxas -arch=sm_90a %t/m.ptx -o %t/m.cubin
// RUN: kestrelc %s --target=cuda:sm_90a --precision=bf16 -o %t/p.ptx && %ptxas -arch=sm_90a %t/p.ptx -o %t/p.cubin
// RUN: kestrelc %s --target=cuda:sm_80 -o %t/m80.ptx && %ptxas -arch=sm_80 %t/m80.ptx -o %t/m80.cubin
// RUN: FileCheck %s --implicit-check-not=atom.global.add.f32 < %t/m.ptx
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-DAG: atom.shared.add.u32
// CHECK-DAG: st.global.v2.b32
// CHECK-DAG: shfl.sync.bfly.b32

func.func @moe_bf16(%x: tensor<64x128xbf16>, %logits: tensor<64x8xf32>,
    %w1: tensor<8x128x256xbf16>, %w3: tensor<8x128x256xbf16>, %w2: tensor<8x256x128xbf16>) -> tensor<64x128xbf16> {
  %idx, %w = kestrel.route %logits score = softmax k = 2 renormalize
      : tensor<64x8xf32> -> tensor<64x2xi32>, tensor<64x2xf32>
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      : tensor<64x128xbf16>, tensor<64x2xi32>, tensor<64x2xf32>,
        tensor<8x128x256xbf16>, tensor<8x128x256xbf16>, tensor<8x256x128xbf16> -> tensor<64x128xbf16>
  return %y : tensor<64x128xbf16>
}

func.func @moe_f32(%x: tensor<200x64xf32>, %idx: tensor<200x2xi64>, %w: tensor<200x2xf32>,
    %w1: tensor<8x64x128xf32>, %w3: tensor<8x64x128xf32>, %w2: tensor<8x128x64xf32>,
    %s1: tensor<64x64xf32>, %s3: tensor<64x64xf32>, %s2: tensor<64x64xf32>) -> tensor<200x64xf32> {
  %y = kestrel.moe %x, %idx, %w experts(%w1, %w3, %w2)
      shared(%s1, %s3, %s2 : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>)
      : tensor<200x64xf32>, tensor<200x2xi64>, tensor<200x2xf32>,
        tensor<8x64x128xf32>, tensor<8x64x128xf32>, tensor<8x128x64xf32> -> tensor<200x64xf32>
  return %y : tensor<200x64xf32>
}
