// Malformed CUDA manifests: kestrel-run reports the manifest's problem (with
// its line where the parser has one) before it touches the driver, so these
// read the same with and without a GPU.
// REQUIRES: kestrel-cuda-runtime
// RUN: rm -rf %t && split-file %s %t
// RUN: not kestrel-run %t/header.manifest 2>&1 | FileCheck %s --check-prefix=HEADER
// RUN: not kestrel-run %t/launch.manifest 2>&1 | FileCheck %s --check-prefix=LAUNCH
// RUN: not kestrel-run %t/param.manifest 2>&1 | FileCheck %s --check-prefix=PARAM
// RUN: not kestrel-run %t/buffer.manifest 2>&1 | FileCheck %s --check-prefix=BUFFER
// RUN: not kestrel-run %t/unterminated.manifest 2>&1 | FileCheck %s --check-prefix=END
// RUN: not kestrel-run %t/cpu.manifest 2>&1 | FileCheck %s --check-prefix=KIND
// RUN: not kestrel-run %t/noptx.manifest 2>&1 | FileCheck %s --check-prefix=NOPTX
// RUN: not kestrel-run %t/absent.manifest 2>&1 | FileCheck %s --check-prefix=ABSENT
// RUN: not kestrel-run %t/dtype.manifest 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not kestrel-run %t/arity.manifest 2>&1 | FileCheck %s --check-prefix=ARITY
// RUN: not kestrel-run %t/overflow.manifest 2>&1 | FileCheck %s --check-prefix=OVERFLOW
// RUN: echo ".entry k(" > %t/m.ptx && env LD_LIBRARY_PATH=%mock_cuda_dir not kestrel-run %t/huge.manifest 2>&1 | FileCheck %s --check-prefix=HUGE

// HEADER: kestrel-run: error: {{.*}}header.manifest: manifest line 1: expected 'kestrel-manifest 1 <cpu|cuda>': 'kestrel-manifest 2 cuda'
// LAUNCH: kestrel-run: error: {{.*}}launch.manifest: manifest line 6: bad grid dimensions: 'launch k grid 1 0 1 block 1 1 1 smem 0 params b0'
// PARAM: kestrel-run: error: {{.*}}param.manifest: manifest line 6: bad kernel parameter 'x7'
// BUFFER: kestrel-run: error: {{.*}}buffer.manifest: f: launch of k uses unknown buffer b9
// END: kestrel-run: error: {{.*}}unterminated.manifest: manifest ends inside function 'f'
// KIND: kestrel-run: error: {{.*}}cpu.manifest is a 'cpu' manifest, not 'cuda'
// NOPTX: kestrel-run: error: cannot open {{.*}}nothere.ptx
// ABSENT: kestrel-run: error: cannot open {{.*}}absent.manifest
// DTYPE: kestrel-run: error: {{.*}}dtype.manifest: manifest line 4: unknown dtype 'f33': 'in f33 4'
// ARITY: kestrel-run: error: {{.*}}arity.manifest: manifest line 6: function 'f' declares 2 inputs and 1 outputs but lists 1 and 1: 'end'
// OVERFLOW: kestrel-run: error: {{.*}}overflow.manifest: manifest line 4: expected 'in DTYPE DIMxDIM...': 'in f32 4294967296x4294967296'
// A 4 TB input (within the parser's limit) is refused before any
// allocation, instead of aborting in operator new.
// HUGE: mock: module of
// HUGE: kestrel-run: error: f needs 4000.0 GB of host buffers (inputs + outputs), more than this machine's {{[0-9.]+}} GB of memory

//--- header.manifest
kestrel-manifest 2 cuda
//--- launch.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
in f32 4
out f32 4
launch k grid 1 0 1 block 1 1 1 smem 0 params b0
end
//--- param.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
in f32 4
out f32 4
launch k grid 1 1 1 block 1 1 1 smem 0 params b0 x7
end
//--- buffer.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
in f32 4
out f32 4
temp 2 64
launch k grid 1 1 1 block 1 1 1 smem 0 params b0 b2 b9
end
//--- unterminated.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
in f32 4
//--- cpu.manifest
kestrel-manifest 1 cpu
function f 1 1
in f32 4
out f32 4
end
//--- noptx.manifest
kestrel-manifest 1 cuda
ptx nothere.ptx
function f 1 1
in f32 4
out f32 4
end
//--- m.ptx
// unused: parsing fails first
//--- dtype.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
in f33 4
out f32 4
end
//--- arity.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 2 1
in f32 4
out f32 4
end
//--- overflow.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
in f32 4294967296x4294967296
out f32 4
end
//--- huge.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
in f32 1000000x1000000
out f32 4
launch k grid 1 1 1 block 1 1 1 smem 0 params b0 b1
end
