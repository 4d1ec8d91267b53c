//===- ContractionAttrs.td - CPU contraction decisions -----*- tablegen -*-===//
//
// The decisions of kestrel-cpu-choose-contraction, printed on each static
// contraction before kestrel-cpu-contraction rewrites it.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_CONTRACTION_ATTRS_TD
#define KESTREL_CONTRACTION_ATTRS_TD

include "dialects/KestrelBase.td"

def Kestrel_ContractionConfigAttr
    : AttrDef<Kestrel_Dialect, "ContractionConfig"> {
  let mnemonic = "contraction";
  let summary = "How one contraction is register-tiled, packed and split";
  let description = [{
    Decisions for `C[o.., m, n] = Σ_k A[.., m, .., k] · B[.., k, .., n]`
    (any operand layout; `o` are the outer parallel dims) on the CPU:

    - `path`: `gemm` (packed B panels, cache blocks over M, N and K) or
      `gemv` (M ≤ 16: every B panel streamed once, all M rows at a time);
    - `mr × nr`: the register tile of the micro-kernel: `mr` accumulators
      `vector<nr x f32>` carried through the reduction loop;
    - `kc`: the reduction block (partial sums go through the output between
      blocks; `kc = K` when the output is not f32);
    - `mb × nb`: the output block one `scf.forall` iteration computes; the
      forall runs over (outer dims, ⌈M/mb⌉, ⌈N/nb⌉);
    - `pack_b`: `compile_time` (B is a constant, repacked into a new
      constant `[o.., N/nr, K, nr]`), `runtime` (a parallel loop packs it),
      or `none` (panels read in place: rows of B are contiguous in n);
    - `epilogue`: `fused` when the single elementwise consumer of the
      result is computed in the micro-kernel's store, else `none`.

    ```mlir
    #kestrel.contraction<path = "gemm", mr = 8, nr = 32, kc = 256, mb = 64,
                         nb = 256, pack_b = "compile_time", epilogue = "none">
    ```
  }];
  let parameters = (ins StringRefParameter<"kernel path">:$path,
                        "int64_t":$mr, "int64_t":$nr, "int64_t":$kc,
                        "int64_t":$mb, "int64_t":$nb,
                        StringRefParameter<"how B is packed">:$pack_b,
                        StringRefParameter<"epilogue fusion">:$epilogue);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // KESTREL_CONTRACTION_ATTRS_TD
