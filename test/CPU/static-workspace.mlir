// RUN: kestrel-opt %s --kestrel-cpu-static-workspace=min-bytes=1 -split-input-file | FileCheck %s
// RUN: kestrel-opt %s --kestrel-cpu-static-workspace="min-bytes=1 max-bytes=1024" -split-input-file | FileCheck %s --check-prefix=SMALL

// Three intermediates: %a (4096 B) dies before %c (4096 B) is allocated, so
// they share offset 0; %b (2048 B) overlaps both and sits after them. The
// workspace is 4096 + 2048 bytes, taken with an atomic exchange of its flag
// and released (or the fallback alloc freed) before the return.

// CHECK-DAG: memref.global "private" @__kestrel_ws_f : memref<6144xi8> = uninitialized {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" @__kestrel_ws_f_flag : memref<1xi32> = dense<0>
// CHECK-LABEL: func.func @f(
// CHECK: %[[FLAG:.*]] = memref.get_global @__kestrel_ws_f_flag
// CHECK: %[[OLD:.*]] = memref.atomic_rmw assign %{{.*}}, %[[FLAG]]
// CHECK: %[[OWNED:.*]] = arith.cmpi eq, %[[OLD]]
// CHECK: %[[WS:.*]] = scf.if %[[OWNED]] -> (memref<6144xi8>)
// CHECK:   memref.get_global @__kestrel_ws_f : memref<6144xi8>
// CHECK: } else {
// CHECK:   memref.alloc() {alignment = 64 : i64} : memref<6144xi8>
// CHECK: %[[A:.*]] = memref.view %[[WS]][%c0{{.*}}][] : memref<6144xi8> to memref<1024xf32>
// CHECK: %[[B:.*]] = memref.view %[[WS]][%c4096{{.*}}][] : memref<6144xi8> to memref<512xf32>
// CHECK: %[[C:.*]] = memref.view %[[WS]][%c0{{.*}}][] : memref<6144xi8> to memref<1024xf32>
// CHECK-NOT: memref.dealloc %[[A]]
// CHECK: scf.if %[[OWNED]] {
// CHECK:   memref.atomic_rmw assign %{{.*}}, %[[FLAG]]
// CHECK: } else {
// CHECK:   memref.dealloc %[[WS]]
// CHECK: return
// SMALL-LABEL: func.func @f(
// SMALL-NOT: memref.view
// SMALL: memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
func.func @f(%x: memref<1024xf32>, %y: memref<512xf32>, %out: memref<1024xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<512xf32>
  memref.copy %x, %a : memref<1024xf32> to memref<1024xf32>
  %sa = memref.subview %a[0] [512] [1] : memref<1024xf32> to memref<512xf32, strided<[1]>>
  memref.copy %sa, %b : memref<512xf32, strided<[1]>> to memref<512xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %x, %c : memref<1024xf32> to memref<1024xf32>
  %sc = memref.subview %c[0] [512] [1] : memref<1024xf32> to memref<512xf32, strided<[1]>>
  memref.copy %b, %sc : memref<512xf32> to memref<512xf32, strided<[1]>>
  memref.copy %c, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %b : memref<512xf32>
  memref.dealloc %c : memref<1024xf32>
  return
}

// -----

// Not placed: a dynamic alloc, an alloc without a dealloc in the body (it
// is returned), an alloc passed to a call, and allocs nested in loops.

// CHECK-LABEL: func.func @escapes(
// CHECK-NOT: memref.view
// CHECK-NOT: memref.get_global
// CHECK: return
func.func private @use(memref<16xf32>)
func.func @escapes(%n: index) -> memref<16xf32> {
  %d = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %d : memref<?xf32>
  %r = memref.alloc() : memref<16xf32>
  %p = memref.alloc() : memref<16xf32>
  func.call @use(%p) : (memref<16xf32>) -> ()
  memref.dealloc %p : memref<16xf32>
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %l = memref.alloc() : memref<16xf32>
    memref.dealloc %l : memref<16xf32>
  }
  return %r : memref<16xf32>
}

// -----

// With the default min-bytes (over 1 MiB) a 1 MiB buffer stays an alloc
// (small and medium buffers come from malloc's heap without page faults, and
// keep LLVM's no-alias knowledge of distinct allocations); a 2 MiB one is
// placed.
// RUN: kestrel-opt %s --kestrel-cpu-static-workspace -split-input-file | FileCheck %s --check-prefix=DEFAULT
// DEFAULT-LABEL: func.func @sizes(
// DEFAULT: memref.alloc() {alignment = 64 : i64} : memref<262144xf32>
// DEFAULT: memref.view %{{.*}}[%{{.*}}][] : memref<2097152xi8> to memref<524288xf32>
func.func @sizes(%out: memref<262144xf32>, %out2: memref<524288xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<262144xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<524288xf32>
  memref.copy %a, %out : memref<262144xf32> to memref<262144xf32>
  memref.copy %b, %out2 : memref<524288xf32> to memref<524288xf32>
  memref.dealloc %a : memref<262144xf32>
  memref.dealloc %b : memref<524288xf32>
  return
}
