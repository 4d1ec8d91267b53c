// RUN: kestrel-opt %s --kestrel-merge-gpu-modules | FileCheck %s

// Two outlined kernels with the same name end up in one module; the second
// is renamed and its launch follows it.
// CHECK-LABEL: gpu.module @first
// CHECK:   gpu.func @kernel()
// CHECK:   gpu.func @kernel_0()
// CHECK-NOT: gpu.module
// CHECK: func.func @host
// CHECK:   gpu.launch_func @first::@kernel
// CHECK:   gpu.launch_func @first::@kernel_0
module attributes {gpu.container_module} {
  gpu.module @first {
    gpu.func @kernel() kernel { gpu.return }
  }
  gpu.module @second {
    gpu.func @kernel() kernel { gpu.return }
  }
  func.func @host() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @first::@kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @second::@kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
}
