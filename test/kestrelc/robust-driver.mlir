// Bad driver inputs are one located error, exit status 1 and no output:
// -o naming the input (which stays intact), an unknown chip in
// kestrel-cuda-pipeline, brackets nested deeper than the parser can recurse
// (docs/cli.md), and a failing kestrel-opt run with -o.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/in.mlir
// RUN: not kestrelc %t/in.mlir --emit=mlir -o %t/in.mlir 2>&1 | FileCheck %s --check-prefix=SAME
// RUN: not kestrel-opt %t/in.mlir -o %t/in.mlir 2>&1 | FileCheck %s --check-prefix=SAME
// RUN: diff %s %t/in.mlir
// SAME: error: the output -o {{.*}}in.mlir is the input file: it would be overwritten

// RUN: not kestrel-opt %s --kestrel-cuda-pipeline='chip=sm_999' -o %t/chip.mlir 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not ls %t/chip.mlir
// CHIP: unknown chip 'sm_999' (supported: sm_80, sm_86, sm_89, sm_90, sm_90a)

// RUN: %python -c "print('func.func @f() {\n  %%c = arith.constant dense<' + '[' * 100000 + '1' + ']' * 100000 + '> : tensor<1xf32>\n  return\n}')" > %t/deep.mlir
// RUN: not kestrel-opt %t/deep.mlir -o %t/deep.out 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: not kestrelc %t/deep.mlir --emit=mlir -o %t/deep.out 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: not ls %t/deep.out
// DEEP: deep.mlir:2:{{[0-9]+}}: error: brackets nested deeper than 1000 levels: refusing to parse

// RUN: echo 'func.func @g() { %%x = "kestrel.no_such_op"() : () -> i32 return }' > %t/bad.mlir
// RUN: not kestrel-opt %t/bad.mlir -o %t/fail.mlir 2>&1 | FileCheck %s --check-prefix=FAIL
// RUN: ls %t | FileCheck %s --check-prefix=LEFT
// FAIL: bad.mlir:1:{{[0-9]+}}: error:
// LEFT-NOT: fail.mlir
// LEFT-NOT: tmp-

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
