// The weights sidecar of CUDA manifests ('weights' and 'const' lines,
// docs/runtime.md): malformed entries and weights files that do not belong to
// the manifest are refused before the driver is touched, so these read the
// same with and without a GPU; with the stand-in driver (test/Runtime/MockCuda)
// a constant is uploaded once at load and a copy step moves its bytes out.
// REQUIRES: kestrel-cuda-runtime
// RUN: rm -rf %t && split-file %s %t && mkdir -p %t/io
// RUN: not kestrel-run %t/noweights.manifest 2>&1 | FileCheck %s --check-prefix=NOWEIGHTS
// RUN: not kestrel-run %t/late.manifest 2>&1 | FileCheck %s --check-prefix=LATE
// RUN: not kestrel-run %t/size.manifest 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not kestrel-run %t/beyond.manifest 2>&1 | FileCheck %s --check-prefix=BEYOND
// RUN: not kestrel-run %t/dtype.manifest 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not kestrel-run %t/dup.manifest 2>&1 | FileCheck %s --check-prefix=DUP
// RUN: not kestrel-run %t/into.manifest 2>&1 | FileCheck %s --check-prefix=INTO
// RUN: not kestrel-run %t/missing.manifest 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not kestrel-run %t/length.manifest 2>&1 | FileCheck %s --check-prefix=LENGTH
// RUN: not kestrel-run %t/checksum.manifest 2>&1 | FileCheck %s --check-prefix=CHECKSUM

// NOWEIGHTS: kestrel-run: error: {{.*}}noweights.manifest: manifest line 6: 'const' without a 'weights' file: 'const 2 f32 4 0 16'
// LATE: kestrel-run: error: {{.*}}late.manifest: manifest line 4: expected 'weights FILE BYTES 0xFNV1A64' before the functions: 'weights w.weights 17 0x353d73cf45a6cf35'
// SIZE: kestrel-run: error: {{.*}}size.manifest: manifest line 7: constant of 12 bytes, but f32 4 takes 16: 'const 2 f32 4 0 12'
// BEYOND: kestrel-run: error: {{.*}}beyond.manifest: manifest line 7: constant beyond the 17 bytes of w.weights: 'const 2 f32 4 4 16'
// DTYPE: kestrel-run: error: {{.*}}dtype.manifest: manifest line 7: expected 'const ID DTYPE DIMxDIM... OFFSET BYTES': 'const 2 f64 2 0 16'
// DUP: kestrel-run: error: {{.*}}dup.manifest: f: buffer 2 is defined twice
// INTO: kestrel-run: error: {{.*}}into.manifest: f: copy into constant buffer 2
// MISSING: kestrel-run: error: cannot open {{.*}}nothere.weights
// LENGTH: kestrel-run: error: {{.*}}w.weights has 17 bytes, but {{.*}}length.manifest expects 32 (the weights do not belong to this manifest)
// CHECKSUM: kestrel-run: error: {{.*}}w.weights does not match the checksum in {{.*}}checksum.manifest (the weights do not belong to this manifest)

// A good manifest on the stand-in driver: the constant (the first 16 bytes
// of w.weights) is uploaded at load and copied into the output by each run.
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir kestrel-run %t/good.manifest --warmup=0 --repeat=1 --outputs=%t/io 2>&1 | FileCheck %s --check-prefix=GOOD
// GOOD: mock: module of {{[0-9]+}} bytes
// GOOD-NEXT: mock: graph of 2 steps
// GOOD-NEXT: mock: copy alloc0 -> alloc2, 16 bytes
// GOOD-NEXT: mock: launch k grid 1 1 1 block 1 1 1 smem 0 alloc1 alloc0 alloc2
// RUN: head -c 16 %t/w.weights > %t/expected && tail -c 16 %t/io/out0.npy > %t/got && cmp %t/expected %t/got

//--- w.weights
0123456789abcdef
//--- m.ptx
.version 8.0
.target sm_90a
.address_size 64
.visible .entry k(.param .u64 a, .param .u64 b, .param .u64 c)
{
  ret;
}
//--- noweights.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
in f32 4
out f32 4
const 2 f32 4 0 16
end
//--- late.manifest
kestrel-manifest 1 cuda
ptx m.ptx
function f 1 1
weights w.weights 17 0x353d73cf45a6cf35
end
//--- size.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights w.weights 17 0x353d73cf45a6cf35
function f 1 1
in f32 4
out f32 4
const 2 f32 4 0 12
end
//--- beyond.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights w.weights 17 0x353d73cf45a6cf35
function f 1 1
in f32 4
out f32 4
const 2 f32 4 4 16
end
//--- dtype.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights w.weights 17 0x353d73cf45a6cf35
function f 1 1
in f32 4
out f32 4
const 2 f64 2 0 16
end
//--- dup.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights w.weights 17 0x353d73cf45a6cf35
function f 1 1
in f32 4
out f32 4
temp 2 16
const 2 f32 4 0 16
end
//--- into.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights w.weights 17 0x353d73cf45a6cf35
function f 1 1
in f32 4
out f32 4
const 2 f32 4 0 16
copy 0 2 16
end
//--- missing.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights nothere.weights 17 0x353d73cf45a6cf35
function f 1 1
in f32 4
out f32 4
const 2 f32 4 0 16
end
//--- length.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights w.weights 32 0x353d73cf45a6cf35
function f 1 1
in f32 4
out f32 4
const 2 f32 4 0 16
end
//--- checksum.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights w.weights 17 0x353d73cf45a6cf36
function f 1 1
in f32 4
out f32 4
const 2 f32 4 0 16
end
//--- good.manifest
kestrel-manifest 1 cuda
ptx m.ptx
weights w.weights 17 0x353d73cf45a6cf35
function f 1 1
in f32 4
out f32 4
const 2 f32 4 0 16
copy 2 1 16
launch k grid 1 1 1 block 1 1 1 smem 0 params b0 b2 b1
end
