// The PTX kestrelc emits for each supported chip assembles with ptxas.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %kestrel_src/examples/attention.mlir --target=cuda:sm_90a -o %t/a90.ptx
// RUN: %ptxas -arch=sm_90a %t/a90.ptx -o %t/a90.cubin
// RUN: kestrelc %kestrel_src/examples/attention.mlir --target=cuda:sm_80 -o %t/a80.ptx
// RUN: %ptxas -arch=sm_80 %t/a80.ptx -o %t/a80.cubin
// RUN: kestrelc %s --target=cuda:sm_90a -o %t/s.ptx && %ptxas -arch=sm_90a %t/s.ptx -o %t/s.cubin
func.func @softcap_bf16(%q: tensor<1x4x8x4xbf16>, %k: tensor<1x2x8x4xbf16>, %v: tensor<1x2x8x4xbf16>) -> tensor<1x4x8x4xbf16> {
  %o = kestrel.attention %q, %k, %v causal window = 3 sinks = 1 softcap = 20.0 : tensor<1x4x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16> -> tensor<1x4x8x4xbf16>
  return %o : tensor<1x4x8x4xbf16>
}
