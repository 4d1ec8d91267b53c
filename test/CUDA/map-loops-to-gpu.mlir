// RUN: kestrel-opt %s --pass-pipeline="builtin.module(func.func(kestrel-map-loops-to-gpu))" | FileCheck %s

// The grid loop maps innermost-first onto blocks, the nested loop onto
// threads; a fourth dimension runs sequentially.
// CHECK-LABEL: func @nest
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: mapping = [#gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = thread_z{{.*}}>, #gpu.loop_dim_map<processor = thread_y{{.*}}>, #gpu.loop_dim_map<processor = thread_x{{.*}}>]
// CHECK: mapping = [#gpu.loop_dim_map<processor = block_y{{.*}}>, #gpu.loop_dim_map<processor = block_x{{.*}}>]
func.func @nest(%m: memref<4x4x8x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    scf.parallel (%a, %b, %c, %d) = (%c0, %c0, %c0, %c0) to (%c1, %c1, %c8, %c32) step (%c1, %c1, %c1, %c1) {
      memref.store %f, %m[%i, %j, %c, %d] : memref<4x4x8x32xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}
