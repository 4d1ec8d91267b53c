// The plugin's op parses and verifies in kestrel-opt, its pass lowers it,
// and kestrelc compiles a linear-attention model (plugin op + Kestrel's
// gated_recurrence) to a CPU library that runs.
// RUN: %kx-opt %s | FileCheck %s --check-prefix=PARSE
// Plugin passes register after the command line is parsed: name them in a
// textual pipeline.
// RUN: %kx-opt %s --pass-pipeline="builtin.module(kx-lower-feature-map)" | FileCheck %s --check-prefix=LOWER
// RUN: %kx-kestrelc %s --extra-passes='kx-lower-feature-map' -o %t.so
// RUN: kestrel-run %t.so --repeat=1 | FileCheck %s --check-prefix=EXEC

// PARSE: kx.feature_map %{{.*}} : tensor<1x2x8x4xf32>
// LOWER-NOT: kx.feature_map
// LOWER: linalg.generic
// LOWER: math.exp
// EXEC: linear_attention: median
func.func @linear_attention(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %fq = kx.feature_map %q : tensor<1x2x8x4xf32>
  %fk = kx.feature_map %k : tensor<1x2x8x4xf32>
  %o, %s = kestrel.gated_recurrence %fq, %fk, %v gate = none : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
