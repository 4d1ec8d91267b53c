// The plugin example of docs/tutorial-new-architecture.md, exactly as the
// tutorial builds it: install Kestrel, configure examples/plugin against the
// installed CMake package, build it, and run its lit tests (which load the
// plugin into the installed kestrel-opt and kestrelc).
// RUN: rm -rf %t && mkdir -p %t
// RUN: cmake --install %kestrel_obj --prefix %t/prefix > %t/install.log
// RUN: cmake -G Ninja -S %kestrel_src/examples/plugin -B %t/build -DKestrel_DIR=%t/prefix/lib/cmake/kestrel -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 > %t/configure.log
// RUN: cmake --build %t/build --target check-kx | FileCheck %s
// The installed Python package compiles and runs with the library beside it.
// RUN: env -u KESTREL_CAPI_LIB PYTHONPATH=%t/prefix/python python3 -c "import kestrel, numpy as np; lib = kestrel.compile('%kestrel_src/examples/attention.mlir'); print(kestrel.api._capi()._name, lib.attention(*[np.ones(s, np.float32) for s in ((1,8,256,64),(1,2,256,64),(1,2,256,64))])[0].shape)" | FileCheck %s --check-prefix=PY

// CHECK: PASS: KxPlugin :: feature-map.mlir
// CHECK: Passed: 1
// PY: prefix/python/kestrel/libKestrelCAPI.so (1, 8, 256, 64)
