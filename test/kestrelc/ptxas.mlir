// The PTX kestrelc emits for each supported chip, and its manifest; every
// PTX file is assembled with ptxas.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %kestrel_src/examples/attention.mlir --target=cuda:sm_90a -o %t/a90.ptx
// RUN: %ptxas -arch=sm_90a %t/a90.ptx -o %t/a90.cubin
// RUN: kestrelc %kestrel_src/examples/attention.mlir --target=cuda:sm_80 -o %t/a80.ptx
// RUN: %ptxas -arch=sm_80 %t/a80.ptx -o %t/a80.cubin
// RUN: kestrelc %s --target=cuda:sm_90a -o %t/s.ptx && %ptxas -arch=sm_90a %t/s.ptx -o %t/s.cubin
// RUN: kestrelc %S/emit.mlir --target=cuda:sm_90a -o %t/a.ptx && %ptxas -arch=sm_90a %t/a.ptx -o %t/a.cubin
// RUN: FileCheck %s --check-prefix=PTX < %t/a.ptx
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/a.manifest
// RUN: kestrelc %S/emit.mlir --target=cuda:sm_80 --emit=ptx -o %t/b.ptx --manifest=%t/custom.txt
// RUN: %ptxas -arch=sm_80 %t/b.ptx -o %t/b.cubin
// RUN: FileCheck %s --check-prefix=SM80 < %t/custom.txt
// PTX: .target sm_90a
// PTX: .visible .entry attention_kernel(
// MANIFEST: kestrel-manifest 1 cuda
// MANIFEST-NEXT: target sm_90a
// MANIFEST-NEXT: ptx a.ptx
// MANIFEST-NEXT: function attention 3 1
// MANIFEST-NEXT: in f32 1x4x8x4
// MANIFEST: out f32 1x4x8x4
// MANIFEST: launch attention_kernel grid {{[0-9]+ [0-9]+ [0-9]+}} block {{[0-9]+ [0-9]+ [0-9]+}} smem 0 params
// MANIFEST: end
// SM80: target sm_80
func.func @softcap_bf16(%q: tensor<1x4x8x4xbf16>, %k: tensor<1x2x8x4xbf16>, %v: tensor<1x2x8x4xbf16>) -> tensor<1x4x8x4xbf16> {
  %o = kestrel.attention %q, %k, %v causal window = 3 sinks = 1 softcap = 20.0 : tensor<1x4x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16> -> tensor<1x4x8x4xbf16>
  return %o : tensor<1x4x8x4xbf16>
}
