// Every CPU --emit kind of kestrelc on one attention function (the PTX
// kinds are in ptxas.mlir, which also assembles what it emits).
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s --emit=mlir | FileCheck %s --check-prefix=MLIR
// RUN: kestrelc %s --emit=llvm | FileCheck %s --check-prefix=LLVM
// RUN: kestrelc %s --emit=obj -o %t/a.o && test -s %t/a.o
// RUN: kestrelc %s --emit=so -o %t/a.so && kestrel-run %t/a.so --repeat=2 | FileCheck %s --check-prefix=EXEC
// RUN: kestrelc %s --print-ir-after-all -o %t/c.so 2>&1 | FileCheck %s --check-prefix=AFTERALL
// RUN: kestrelc %s --timing -o %t/d.so 2>&1 | FileCheck %s --check-prefix=TIMING

// MLIR: kestrel.attention
// LLVM-DAG: define void @attention(ptr {{.*}}, ptr {{.*}}, ptr {{.*}}, ptr {{.*}})
// LLVM-DAG: @kestrel_manifest = constant [{{[0-9]+}} x i8] c"kestrel-manifest 1 cpu\0Afunction attention 3 1\0Ain f32 1x4x8x4\0Ain f32 1x2x8x4\0Ain f32 1x2x8x4\0Aout f32 1x4x8x4\0Aend\0A\00"
// EXEC: attention: median {{.*}} ms, min {{.*}} ms over 2 calls
// AFTERALL: IR Dump After LowerToLinalg (kestrel-lower-to-linalg)
// AFTERALL: IR Dump After ReconcileUnrealizedCastsPass
// TIMING: Execution time report
// TIMING: LowerToLinalg
func.func @attention(%q: tensor<1x4x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x4x8x4xf32>
  return %o : tensor<1x4x8x4xf32>
}
