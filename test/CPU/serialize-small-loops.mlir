// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-cpu-serialize-small-loops))' | FileCheck %s
// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-cpu-serialize-small-loops{min-work=8}))' | FileCheck %s --check-prefix=LOW

// 4 rows of 64 elements (4 x 64 x 2 ops): serial. With min-work=8 the
// estimate (~512) is above the threshold and the loop stays parallel.
// CHECK-LABEL: func @small_rows
// CHECK-NOT: scf.forall
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK: linalg.generic
// LOW-LABEL: func @small_rows
// LOW: scf.forall (%{{.*}}) in (4)
func.func @small_rows(%a: memref<4x64xf32>, %b: memref<4x64xf32>) {
  scf.forall (%i) in (4) {
    %ra = memref.subview %a[%i, 0] [1, 64] [1, 1] : memref<4x64xf32> to memref<64xf32, strided<[1], offset: ?>>
    %rb = memref.subview %b[%i, 0] [1, 64] [1, 1] : memref<4x64xf32> to memref<64xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                    iterator_types = ["parallel"]}
        ins(%ra : memref<64xf32, strided<[1], offset: ?>>)
        outs(%rb : memref<64xf32, strided<[1], offset: ?>>) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.mulf %x, %x : f32
      linalg.yield %s : f32
    }
  }
  return
}

// -----

// 512 blocks x 256 steps of an inner loop with vector FMAs: far above the
// threshold, stays parallel.
// CHECK-LABEL: func @big_blocks
// CHECK: scf.forall (%{{.*}}) in (512)
func.func @big_blocks(%a: memref<512x256xf32>, %acc: vector<32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %z = arith.constant 0.0 : f32
  scf.forall (%i) in (512) {
    %r = scf.for %k = %c0 to %c256 step %c1 iter_args(%v = %acc) -> vector<32xf32> {
      %x = vector.transfer_read %a[%i, %c0], %z : memref<512x256xf32>, vector<32xf32>
      %f = vector.fma %x, %x, %v : vector<32xf32>
      scf.yield %f : vector<32xf32>
    }
    vector.transfer_write %r, %a[%i, %c0] : vector<32xf32>, memref<512x256xf32>
  }
  return
}

// -----

// An inner loop with a runtime trip count: the work is unknown, the loop
// stays parallel.
// CHECK-LABEL: func @dynamic_inner
// CHECK: scf.forall (%{{.*}}) in (2)
func.func @dynamic_inner(%a: memref<2x?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.forall (%i) in (2) {
    scf.for %k = %c0 to %n step %c1 {
      memref.store %one, %a[%i, %k] : memref<2x?xf32>
    }
  }
  return
}
