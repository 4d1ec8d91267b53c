// Constant tensors on cuda targets: each constant a kernel reads becomes a
// `const` buffer of the manifest, its bytes stored once, 64-byte aligned, in
// the weights file beside the PTX (docs/runtime.md). Views (expand_shape of
// the input here) alias their source and are not buffers of their own.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s --target=cuda:sm_90a -o %t/w.ptx && %ptxas -arch=sm_90a %t/w.ptx -o %t/w.cubin
// RUN: FileCheck %s < %t/w.manifest
// RUN: od -An -v -t f4 -w16 %t/w.weights | FileCheck %s --check-prefix=DATA
// RUN: od -An -v -t d4 -w16 -j 128 %t/w.weights | FileCheck %s --check-prefix=INTS

// CHECK:      ptx w.ptx
// CHECK-NEXT: weights w.weights 136 0x{{[0-9a-f]+$}}
// CHECK-NEXT: function expanded 1 1
// CHECK-NEXT: in f32 2x8
// CHECK-NEXT: out f32 2x2x4
// CHECK-NEXT: const 2 f32 2x2x4 0 64
// CHECK-NEXT: launch {{.*}} params b0 b2 b1{{$}}
// CHECK-NEXT: end
// The same constant in a second function is the same range of the file;
// a second constant starts at the next multiple of 64.
// CHECK-NEXT: function two 1 3
// CHECK:      const 4 f32 3 64 12
// CHECK-NEXT: copy 4 1 12
// CHECK-NEXT: const 5 f32 2x2x4 0 64
// CHECK-NEXT: copy 5 2 64
// CHECK-NEXT: const 6 i32 2 128 8
// CHECK-NEXT: copy 6 3 8
// CHECK-NEXT: end

// DATA:      {{^}} 1 2 3 4{{$}}
// DATA-NEXT: {{^}} 5 6 7 8{{$}}
// DATA-NEXT: {{^}} 9 10 11 12{{$}}
// DATA-NEXT: {{^}} -1 -2 -3 -4.5{{$}}
// DATA-NEXT: {{^}} 0.25 0.5 0.75 0{{$}}
// Padding to the next 64-byte boundary is zeros.
// DATA-NEXT: {{^}} 0 0 0 0{{$}}
// DATA-NEXT: {{^}} 0 0 0 0{{$}}
// DATA-NEXT: {{^}} 0 0 0 0{{$}}
// INTS: 7 -9

func.func @expanded(%x: tensor<2x8xf32>) -> tensor<2x2x4xf32> {
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, -1.0, -2.0, -3.0, -4.5]> : tensor<16xf32>
  %w2 = tensor.expand_shape %w [[0, 1, 2]] output_shape [2, 2, 4] : tensor<16xf32> into tensor<2x2x4xf32>
  %x2 = tensor.expand_shape %x [[0], [1, 2]] output_shape [2, 2, 4] : tensor<2x8xf32> into tensor<2x2x4xf32>
  %e = tensor.empty() : tensor<2x2x4xf32>
  %y = linalg.add ins(%x2, %w2 : tensor<2x2x4xf32>, tensor<2x2x4xf32>) outs(%e : tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  return %y : tensor<2x2x4xf32>
}

func.func @two(%x: tensor<2x8xf32>) -> (tensor<3xf32>, tensor<2x2x4xf32>, tensor<2xi32>) {
  %s = arith.constant dense<[0.25, 0.5, 0.75]> : tensor<3xf32>
  %w = arith.constant dense<[[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], [[9.0, 10.0, 11.0, 12.0], [-1.0, -2.0, -3.0, -4.5]]]> : tensor<2x2x4xf32>
  %i = arith.constant dense<[7, -9]> : tensor<2xi32>
  return %s, %w, %i : tensor<3xf32>, tensor<2x2x4xf32>, tensor<2xi32>
}
