// kestrel-run on a valid CUDA manifest where there is no NVIDIA driver (CI):
// a clear error, no crash and no loader failure. The manifest and PTX are
// written by hand so the test needs neither kestrelc's CUDA path nor a GPU.
// REQUIRES: kestrel-cuda-runtime
// UNSUPPORTED: cuda-driver
// RUN: rm -rf %t && split-file %s %t
// RUN: not kestrel-run %t/m.manifest 2>&1 | FileCheck %s
// RUN: not kestrel-run %t/m.manifest --repeat=3 --outputs=%t 2>&1 | FileCheck %s
// RUN: not ls %t/out0.npy
// The CPU path of the same binary still starts (the driver is not linked).
// RUN: not kestrel-run %t/missing.so 2>&1 | FileCheck %s --check-prefix=CPU

// CHECK: kestrel-run: error: cannot run on the GPU: no CUDA driver on this machine (cannot load libcuda.so.1
// CPU: kestrel-run: error: {{.*}}missing.so

//--- m.manifest
kestrel-manifest 1 cuda
target sm_90a
ptx m.ptx
function f 1 1
in f32 4
out f32 4
launch copy_kernel grid 1 1 1 block 4 1 1 smem 0 params b0 b1 i64:4 f32:0x3f800000
end
//--- m.ptx
.version 8.0
.target sm_90a
.address_size 64
.visible .entry copy_kernel(.param .u64 a, .param .u64 b, .param .u64 n, .param .f32 s)
{
  ret;
}
