// --extra-passes runs a pipeline before the target's; plugin flags exist and
// reject what is not a plugin.
// RUN: kestrelc %s --emit=mlir --extra-passes='func.func(kestrel-tile{block-q=2 block-k=4})' | FileCheck %s
// RUN: not kestrelc %s --emit=mlir --extra-passes='func.func(no-such-pass)' 2>&1 | FileCheck %s --check-prefix=BADPIPE
// RUN: not kestrelc %s --emit=mlir --load-pass-plugin=%t.missing.so 2>&1 | FileCheck %s --check-prefix=NOPLUGIN
// RUN: not kestrelc %s --emit=mlir --load-dialect-plugin=%t.missing.so 2>&1 | FileCheck %s --check-prefix=NODIALECT

// CHECK: kestrel.attention {{.*}} {kestrel.tile = #kestrel.attention_tiles<query = 2, key = 4>}
// BADPIPE: error: invalid --extra-passes pipeline 'func.func(no-such-pass)'
// NOPLUGIN: kestrelc: error: cannot load pass plugin {{.*}}missing.so
// NODIALECT: kestrelc: error: cannot load dialect plugin {{.*}}missing.so
func.func @f(%q: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  %o = kestrel.attention %q, %q, %q causal : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %o : tensor<1x1x8x4xf32>
}
