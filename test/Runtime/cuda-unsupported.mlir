// A kestrel-run built without the CUDA toolkit refuses CUDA manifests with a
// clear error instead of treating them as CPU libraries.
// UNSUPPORTED: kestrel-cuda-runtime
// RUN: rm -rf %t && split-file %s %t
// RUN: not kestrel-run %t/m.manifest 2>&1 | FileCheck %s
// CHECK: kestrel-run: error: {{.*}}m.manifest: this kestrel-run was built without CUDA support

//--- m.manifest
kestrel-manifest 1 cuda
