// RUN: kestrel-opt %s -split-input-file -verify-diagnostics --kestrel-gpu-gemm="mma=wgmma tile=128,128,32,8,1,3"
// RUN: kestrel-opt %s -split-input-file -verify-diagnostics --kestrel-gpu-gemm="mma=wgmma tile=128,96,64,8,1,3"

// A tile override that is no wgmma plan under mma=wgmma is an error, not a
// silent mma.sync kernel: tile_k must be 64, tile_n a multiple of 64.
func.func @bad_tile(%a: tensor<256x256xbf16>, %b: tensor<256x256xbf16>) -> tensor<256x256xbf16> {
  %zero = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<256x256xbf16>
  %c = linalg.fill ins(%zero : bf16) outs(%e : tensor<256x256xbf16>) -> tensor<256x256xbf16>
  // expected-error @+1 {{kestrel-gpu-gemm: tile a wgmma plan has tile_k = 64}}
  %r = linalg.matmul ins(%a, %b : tensor<256x256xbf16>, tensor<256x256xbf16>) outs(%c : tensor<256x256xbf16>) -> tensor<256x256xbf16>
  return %r : tensor<256x256xbf16>
}
