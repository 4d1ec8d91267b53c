// kestrel-run refuses files dlopen would crash on or misread: a truncated
// library (dlopen maps pages past its end: SIGBUS), a file that is no
// shared object, and out-of-range or non-numeric counts.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kestrelc %s -o %t/m.so
// RUN: head -c 3000 %t/m.so > %t/cut.so
// RUN: not kestrel-run %t/cut.so 2>&1 | FileCheck %s --check-prefix=CUT
// RUN: head -c 40 %t/m.so > %t/short.so
// RUN: not kestrel-run %t/short.so 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: cp %s %t/text.so
// RUN: not kestrel-run %t/text.so 2>&1 | FileCheck %s --check-prefix=TEXT
// RUN: not kestrel-run %t/m.so --repeat=4294967295 2>&1 | FileCheck %s --check-prefix=WRAP
// RUN: not kestrel-run %t/m.so --warmup=-1 2>&1 | FileCheck %s --check-prefix=NEG
// RUN: not kestrel-run %t/m.so --repeat=1x 2>&1 | FileCheck %s --check-prefix=JUNK
// RUN: not kestrel-run %t/m.so --repeat= 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: cd %t && kestrel-run m.so --repeat=1 | FileCheck %s --check-prefix=RELATIVE
// RUN: mkdir -p %t/in && cp %t/m.so %t/in/in0.npy && not kestrel-run %t/m.so --inputs=%t/in 2>&1 | FileCheck %s --check-prefix=NPY

// CUT: kestrel-run: error: {{.*}}cut.so: truncated or not a shared object (loadable segment at bytes [{{[0-9]+}}, +{{[0-9]+}}) beyond the file's 3000 bytes)
// SHORT: kestrel-run: error: {{.*}}short.so: truncated or not a shared object (a file of 40 bytes, shorter than an ELF header)
// TEXT: kestrel-run: error: {{.*}}text.so: truncated or not a shared object (no ELF magic)
// WRAP: kestrel-run: bad number in --repeat=4294967295 (expected an integer from 0 to 1000000000)
// NEG: kestrel-run: bad number in --warmup=-1
// JUNK: kestrel-run: bad number in --repeat=1x
// EMPTY: kestrel-run: bad number in --repeat=
// RELATIVE: f: median {{.*}} over 1 calls
// NPY: kestrel-run: error: {{.*}}in0.npy is not a version 1 .npy file
func.func @f(%q: tensor<1x4x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32> {
  %o = kestrel.attention %q, %k, %v causal : tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x4x8x4xf32>
  return %o : tensor<1x4x8x4xf32>
}
