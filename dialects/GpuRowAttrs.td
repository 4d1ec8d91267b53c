//===- GpuRowAttrs.td - Thread mapping of GPU row kernels --*- tablegen -*-===//
//
// How kestrel-gpu-row-kernels maps an elementwise op, or a row reduction
// with its elementwise neighbours, onto a kernel; recorded on the
// gpu.launch it emits (docs/pipelines.md, "Row kernels").
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_GPU_ROW_ATTRS_TD
#define KESTREL_GPU_ROW_ATTRS_TD

include "dialects/KestrelBase.td"

def Kestrel_RowPlanAttr : AttrDef<Kestrel_Dialect, "RowPlan"> {
  let mnemonic = "row_plan";
  let summary = "Thread mapping of an elementwise or row-reduction kernel";
  let description = [{
    - `kind = "elementwise"`: one all-parallel generic; every thread owns
      `vector` consecutive elements along the innermost dimension (one
      16-byte access where the operand's last dimension is that one),
      `threads` threads per block, as many blocks as needed;
    - `kind = "rows"`: a fused group of `ops` generics over one row space
      (row reductions over the innermost dimension and the elementwise ops
      around them); one block of `threads` threads per row, each thread
      owning `per_thread` chunks of `vector` elements of the row, kept in
      registers between the ops; reductions combine per-thread partials
      with warp shuffles (`gpu.all_reduce`);
    - `kind = "serial"`: one reduction over a short innermost dimension;
      one thread per output element, `threads` per block, a sequential
      loop over the reduced dimension.

    ```mlir
    #kestrel.row_plan<kind = "rows", threads = 128, vector = 4,
                      perThread = 1, ops = 3>
    ```
  }];
  let parameters = (ins StringRefParameter<>:$kind, "int64_t":$threads,
                        "int64_t":$vector, "int64_t":$perThread,
                        "int64_t":$ops);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // KESTREL_GPU_ROW_ATTRS_TD
