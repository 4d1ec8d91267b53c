// Paged decode attention (with lse) and Quest page selection compile for
// cuda; ptxas assembles the PTX for sm_90a and sm_80.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s --target=cuda:sm_90a -o %t/kv90.ptx && %ptxas -arch=sm_90a %t/kv90.ptx -o %t/kv90.cubin
// RUN: kestrelc %s --target=cuda:sm_80 -o %t/kv80.ptx && %ptxas -arch=sm_80 %t/kv80.ptx -o %t/kv80.cubin
// RUN: FileCheck %s < %t/kv90.manifest
// CHECK: function decode 5 2
// CHECK: in i32 2x3
// CHECK: out f32 2x4x1{{$}}
// CHECK: function select 4 1
// CHECK: out i32 2x2x3

func.func @decode(%q: tensor<2x4x1x8xf32>, %k: tensor<6x4x2x8xf32>, %v: tensor<6x4x2x8xf32>, %len: tensor<2xi32>, %bt: tensor<2x3xi32>) -> (tensor<2x4x1x8xf32>, tensor<2x4x1xf32>) {
  %o, %l = kestrel.decode_attention %q, %k, %v layout = #kestrel.kv_layout<paged, page_size = 4> seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x3xi32>)
      : tensor<2x4x1x8xf32>, tensor<6x4x2x8xf32>, tensor<6x4x2x8xf32> -> tensor<2x4x1x8xf32>, tensor<2x4x1xf32>
  return %o, %l : tensor<2x4x1x8xf32>, tensor<2x4x1xf32>
}

func.func @select(%q: tensor<2x4x1x8xf32>, %mn: tensor<2x2x5x8xf32>, %mx: tensor<2x2x5x8xf32>, %len: tensor<2xi32>) -> tensor<2x2x3xi32> {
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<2xi32>) k = 3 page_size = 4
      : tensor<2x4x1x8xf32>, tensor<2x2x5x8xf32> -> tensor<2x2x3xi32>
  return %o : tensor<2x2x3xi32>
}
