/*===- Kestrel.h - C API of the Kestrel compiler -----------------*- C -*-===*\
|*                                                                          *|
|* A small, stable C interface to the compiler, for language bindings: the  *|
|* Python package loads libKestrelCAPI.so through ctypes. It imports ONNX   *|
|* and compiles MLIR text to the same artifacts as kestrelc.                 *|
|*                                                                          *|
\*===----------------------------------------------------------------------===*/

#ifndef KESTREL_C_KESTREL_H
#define KESTREL_C_KESTREL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Options of one compilation; NULL strings mean the kestrelc default. */
typedef struct {
  const char *target;       /* "cpu" (default) or "cuda:sm_90a", ...     */
  const char *emit;         /* "so", "obj", "llvm", "mlir", "ptx"        */
  int opt_level;            /* 0..3; negative means 3                     */
  int reference_lowering;   /* nonzero: naive reference lowering (cpu)   */
  const char *cuda_path;    /* CUDA toolkit providing libdevice          */
  const char *extra_passes; /* pass pipeline run before the target's     */
  const char *precision;    /* cuda: f32 matmuls in "f32" (default),
                               "tf32", "bf16" or "f16"                    */
  const char *report_path;  /* non-NULL: write the compile report (what
                               each function became; docs/cli.md
                               --report) to this file, "-" for stdout,
                               also when the compilation fails           */
} kestrel_compile_options;

/* Compiles `source` (MLIR text of `length` bytes; `name` labels its
 * diagnostics) and writes `output_path`. Returns 0 on success. On failure
 * returns nonzero, writes nothing, and stores the diagnostics in
 * `*diagnostics` (free with kestrel_free); on success `*diagnostics` holds
 * warnings, if any, or NULL. */
int kestrel_compile(const char *source, size_t length, const char *name,
                    const kestrel_compile_options *options,
                    const char *output_path, char **diagnostics);

/* The module after the target-independent passes, as MLIR text (free with
 * kestrel_free), or NULL with `*diagnostics` set. */
char *kestrel_print_ir(const char *source, size_t length, const char *name,
                       char **diagnostics);

/* Imports the ONNX model file at `path` (external data files resolved next
 * to it) and returns the imported module as MLIR text (free with
 * kestrel_free), ready for kestrel_compile. `input_shapes` holds
 * `num_input_shapes` specs "NAME=DxDx..." that fix symbolic input
 * dimensions, as kestrelc's --input-shape. On failure returns NULL with
 * `*diagnostics` set (every unsupported node listed, or why the file could
 * not be read); also NULL when the library was built without the importer. */
char *kestrel_import_onnx(const char *path, const char *const *input_shapes,
                          size_t num_input_shapes, char **diagnostics);

/* Nonzero when the library was built with the ONNX importer. */
int kestrel_has_onnx(void);

void kestrel_free(char *text);

/* "kestrel <version> (MLIR <version>)" */
const char *kestrel_version(void);

#ifdef __cplusplus
}
#endif

#endif /* KESTREL_C_KESTREL_H */
