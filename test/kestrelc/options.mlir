// Option errors are reported before any work and write nothing.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not kestrelc %s --target=rocm -o %t/a 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not kestrelc %s --target=cuda:sm_75 -o %t/a 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not kestrelc %s --target=cpu --emit=ptx -o %t/a 2>&1 | FileCheck %s --check-prefix=PTX
// RUN: not kestrelc %s --target=cuda:sm_90a --emit=so -o %t/a 2>&1 | FileCheck %s --check-prefix=SO
// RUN: not kestrelc %s --emit=obj 2>&1 | FileCheck %s --check-prefix=STDOUT
// RUN: not kestrelc %t/missing.mlir -o %t/a 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not kestrelc %s -O4 -o %t/a 2>&1 | FileCheck %s --check-prefix=OPT
// RUN: not kestrelc %t/model.onnx -o %t/a 2>&1 | FileCheck %s --check-prefix=ONNX
// RUN: ls %t | count 0
// RUN: kestrelc --help | FileCheck %s --check-prefix=HELP

// TARGET: kestrelc: error: unknown target
// PTX: --emit=ptx needs a cuda target
// SO: --emit=llvm|obj|so need --target=cpu
// STDOUT: binary output needs -o <path>
// OPT: kestrelc: error: -O4 is not a level (expected 0 to 3)
// ONNX: kestrelc: error: cannot open input file '{{.*}}model.onnx'
// MISSING: kestrelc: error: cannot open input file '{{.*}}missing.mlir'

// HELP: kestrelc: compile a Kestrel model to a CPU library or CUDA PTX
// HELP: --emit=<value>
// HELP: =so
// HELP: =ptx
// HELP: --print-ir-after-all
// HELP: --target=<string>
// HELP: --timing
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
