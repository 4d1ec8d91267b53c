// RUN: kestrel-opt %s --kestrel-align-workgroup-memory | FileCheck %s
// RUN: kestrel-opt %s --kestrel-align-workgroup-memory=alignment=128 | FileCheck %s --check-prefix=WIDE

// Unaligned attributions get 16 bytes (or the option's value); an explicit
// alignment is kept.
// CHECK: workgroup(%{{.*}} : memref<64xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 4 : i64})
// WIDE: workgroup(%{{.*}} : memref<64xbf16, #gpu.address_space<workgroup>> {llvm.align = 128 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 4 : i64})
gpu.module @kernels {
  gpu.func @k() workgroup(%a: memref<64xbf16, #gpu.address_space<workgroup>>, %b: memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 4 : i64}) kernel {
    gpu.return
  }
}
