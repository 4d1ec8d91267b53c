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

// HEADER: kestrel-run: error: {{.*}}header.manifest: manifest line 1: expected 'kestrel-manifest 1 <cpu|cuda>': 'kestrel-manifest 2 cuda'
// LAUNCH: kestrel-run: error: {{.*}}launch.manifest: manifest line 6: bad grid dimensions: 'launch k grid 1 0 1 block 1 1 1 smem 0 params b0'
// PARAM: kestrel-run: error: {{.*}}param.manifest: manifest line 6: bad kernel parameter 'x7'
// BUFFER: kestrel-run: error: {{.*}}buffer.manifest: f: launch of k uses unknown buffer b9
// END: kestrel-run: error: {{.*}}unterminated.manifest: manifest ends inside function 'f'
// KIND: kestrel-run: error: {{.*}}cpu.manifest is a 'cpu' manifest, not 'cuda'
// NOPTX: kestrel-run: error: cannot open {{.*}}nothere.ptx
// ABSENT: kestrel-run: error: cannot open {{.*}}absent.manifest

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
