// The recurrence compiles for the CPU; on cuda targets kestrelc refuses it
// with a reason (its host-side loop over time cannot be replayed by the
// launch manifest) and writes nothing.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s --target=cpu --emit=so -o %t/rec.so
// RUN: not kestrelc %s --target=cuda:sm_90a -o %t/rec.ptx 2>&1 | FileCheck %s
// RUN: ls %t | FileCheck %s --check-prefix=FILES

// CHECK: recurrence-targets.mlir:[[# @LINE + 6]]:12: error: 'kestrel.gated_recurrence' op is not supported on cuda targets yet: its lowering loops over time on the host, which the launch manifest cannot replay; use --target=cpu
// FILES: rec.so
// FILES-NOT: rec.ptx
// FILES-NOT: rec.manifest

func.func @rec(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x4x4xf32>, %v: tensor<1x2x4x4xf32>, %g: tensor<1x2x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = scalar log_gate(%g : tensor<1x2x4xf32>) : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}
