// denoise_step compiles for cuda through kestrel-gpu-denoise (greedy bf16
// with 16-byte loads, sampled f32 with scalar loads): two kernels each, and
// ptxas assembles the PTX for sm_90a and sm_80.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s --target=cuda:sm_90a -o %t/d90.ptx && %ptxas -arch=sm_90a %t/d90.ptx -o %t/d90.cubin
// RUN: kestrelc %s --target=cuda:sm_80 -o %t/d80.ptx && %ptxas -arch=sm_80 %t/d80.ptx -o %t/d80.cubin
// RUN: FileCheck %s < %t/d90.manifest
// CHECK: function greedy 2 2
// CHECK: launch greedy_kernel grid 512 1 1 block 256 1 1
// CHECK: launch greedy_kernel_{{[0-9]+}} grid 2 1 1 block 256 1 1
// CHECK-NOT: launch greedy
// CHECK: function sampled 2 2
// CHECK: launch sampled_kernel grid 24 1 1 block 256 1 1
// CHECK: launch sampled_kernel_{{[0-9]+}} grid 1 1 1 block 24 1 1
// CHECK-NOT: launch sampled

func.func @greedy(%l: tensor<2x256x32000xbf16>, %t: tensor<2x256xi64>) -> (tensor<2x256xi64>, tensor<2x256xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 31999 top_k = 8 block = [64, 32] : tensor<2x256x32000xbf16>, tensor<2x256xi64> -> tensor<2x256xi64>, tensor<2x256xf32>
  return %n, %c : tensor<2x256xi64>, tensor<2x256xf32>
}

func.func @sampled(%l: tensor<1x24x301xf32>, %t: tensor<1x24xi64>) -> (tensor<1x24xi64>, tensor<1x24xf32>) {
  %n, %c = kestrel.denoise_step %l, %t mask_id = 5 threshold = 0.3 temperature = 0.7 seed = 42 : tensor<1x24x301xf32>, tensor<1x24xi64> -> tensor<1x24xi64>, tensor<1x24xf32>
  return %n, %c : tensor<1x24xi64>, tensor<1x24xf32>
}
