/*===- Runtime.h - C API of the Kestrel CUDA runtime -------------*- C -*-===*\
|*                                                                          *|
|* Loads a PTX module + launch manifest made by kestrelc and runs its       *|
|* functions on device pointers the caller owns (for example the data of    *|
|* torch or CuPy tensors). libKestrelRuntimeC.so links neither LLVM nor     *|
|* MLIR, and opens libcuda only when a module is loaded.                    *|
|*                                                                          *|
\*===----------------------------------------------------------------------===*/

#ifndef KESTREL_C_RUNTIME_H
#define KESTREL_C_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kestrel_cuda_module kestrel_cuda_module;

/* Loads `manifest_path` (and the PTX it names) on CUDA device `device`.
 * Returns NULL and sets `*error` (free with kestrel_runtime_free) on
 * failure. */
kestrel_cuda_module *kestrel_cuda_load(const char *manifest_path, int device,
                                       char **error);

/* Runs `function` with one device pointer per input, then per output, and
 * waits for it to finish. Returns 0 on success. */
int kestrel_cuda_run(kestrel_cuda_module *module, const char *function,
                     const uint64_t *buffers, size_t count, char **error);

void kestrel_cuda_unload(kestrel_cuda_module *module);
void kestrel_runtime_free(char *text);

#ifdef __cplusplus
}
#endif

#endif /* KESTREL_C_RUNTIME_H */
