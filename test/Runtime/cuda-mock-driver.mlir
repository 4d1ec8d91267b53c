// The CUDA runtime against a stand-in driver (test/Runtime/MockCuda, built as
// libcuda.so.1; memory is host memory, launches are logged, not run): checks
// how kestrel-run and CudaModule replay a manifest without a GPU.
// REQUIRES: kestrel-cuda-runtime
// RUN: rm -rf %t && split-file %s %t && mkdir -p %t/io
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir kestrel-run %t/m.manifest --warmup=1 --repeat=2 --outputs=%t/io 2>&1 | FileCheck %s
//
// One module load; the three launches run once per warmup and timed call.
// Buffers: alloc0 = input, alloc1 = output (allocated by kestrel-run), then
// the temp, allocated on the first run only. f32 parameters arrive as their
// bit patterns, i64 as 8 bytes, i32 as 4.
// The first call captures the steps into a CUDA graph, every call replays it.
// CHECK: mock: module of {{[0-9]+}} bytes
// CHECK-NEXT: mock: shared memory limit 65536
// CHECK-NEXT: mock: graph of 3 steps
// CHECK-NEXT: mock: launch fill grid 2 3 4 block 32 8 1 smem 0 u32:0x3f800000 alloc2 u64:16
// CHECK-NEXT: mock: launch big grid 1 1 1 block 1 1 1 smem 65536 alloc0 alloc2 u32:0x00000007 u64:18446744073709551615
// CHECK-NEXT: mock: copy alloc0 -> alloc1, 16 bytes
// CHECK-NOT: mock: graph of
// CHECK-COUNT-2: mock: copy alloc0 -> alloc1, 16 bytes
// CHECK: attention: median 0.250 ms, min 0.250 ms over 2 calls (CUDA events, Mock GPU, 2 launches, graph replay)
//
// --no-graph (or KESTREL_CUDA_GRAPHS=0) launches kernel by kernel.
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir kestrel-run %t/m.manifest --warmup=1 --repeat=2 --no-graph 2>&1 | FileCheck %s --check-prefix=NOGRAPH
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir KESTREL_CUDA_GRAPHS=0 kestrel-run %t/m.manifest --warmup=1 --repeat=2 2>&1 | FileCheck %s --check-prefix=NOGRAPH
// NOGRAPH-NOT: mock: graph of
// NOGRAPH: mock: launch fill
// NOGRAPH: attention: median 0.250 ms, min 0.250 ms over 2 calls (CUDA events, Mock GPU, 2 launches)
//
// The copy step moved the input into the output through "device" memory,
// upload and download included: out0.npy holds in0's data.
// RUN: cmp %t/io/in0.npy %t/io/out0.npy
//
// The same input through --inputs gives the same bytes back.
// RUN: mkdir -p %t/io2 && env LD_LIBRARY_PATH=%mock_cuda_dir kestrel-run %t/m.manifest --inputs=%t/io --outputs=%t/io2 --repeat=0 --warmup=0
// RUN: cmp %t/io/out0.npy %t/io2/out0.npy
//
// Driver failures are reported with cuGetErrorString's text.
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir MOCK_CUDA_DEVICES=0 not kestrel-run %t/m.manifest 2>&1 | FileCheck %s --check-prefix=NODEV
// NODEV: kestrel-run: error: no CUDA device 0 (found 0)
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir MOCK_CUDA_MAX_ALLOC=32 not kestrel-run %t/m.manifest 2>&1 | FileCheck %s --check-prefix=OOM
// OOM: kestrel-run: error: cuMemAlloc: mock error (CUresult 2) (64 bytes for temp 2 of attention)
//
// A kernel the PTX does not define fails at load.
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir not kestrel-run %t/missing.manifest 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: kestrel-run: error: cuModuleGetFunction(nothere): mock error (CUresult 500)

//--- m.manifest
kestrel-manifest 1 cuda
target sm_90a
ptx m.ptx
function attention 1 1
in f32 2x2
out f32 2x2
temp 2 64
launch fill grid 2 3 4 block 32 8 1 smem 0 params f32:0x3f800000 b2 i64:16
launch big grid 1 1 1 block 1 1 1 smem 65536 params b0 b2 i32:7 i64:-1
copy 0 1 16
end
//--- missing.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function attention 1 1
in f32 2x2
out f32 2x2
launch nothere grid 1 1 1 block 1 1 1 smem 0 params b0
end
//--- m.ptx
.version 8.0
.target sm_90a
.address_size 64
.visible .entry fill(.param .f32 a, .param .u64 .ptr .align 1 b, .param .u64 c)
{
  ret;
}
.visible .entry big(.param .u64 a, .param .u64 b, .param .u32 c, .param .u64 d)
{
  ret;
}
