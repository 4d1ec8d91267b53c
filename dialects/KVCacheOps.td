//===- KVCacheOps.td - Decode over a KV cache --------------*- tablegen -*-===//
//
// Attention of a few new queries over a KV cache stored in an explicit layout,
// appending to such a cache, and Quest-style page selection (docs/ops.md §1:
// "Decode", "KV cache layouts", "Training-free / dynamic KV selection").
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_KVCACHE_OPS_TD
#define KESTREL_KVCACHE_OPS_TD

include "dialects/KestrelBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// The layout of a KV cache
//===----------------------------------------------------------------------===//

def Kestrel_KVLayoutKind : I32EnumAttr<"KVLayoutKind",
    "how the tokens and heads of a KV cache are stored", [
      I32EnumAttrCase<"HeadMajor", 0, "head_major">,
      I32EnumAttrCase<"TokenMajor", 1, "token_major">,
      I32EnumAttrCase<"Paged", 2, "paged">,
      I32EnumAttrCase<"MLALatent", 3, "mla_latent">]> {
  let cppNamespace = "::kestrel";
  let genSpecializedAttr = 0;
}

def Kestrel_KVLayoutAttr : AttrDef<Kestrel_Dialect, "KVLayout"> {
  let mnemonic = "kv_layout";
  let summary = "Layout of a KV cache tensor";
  let description = [{
    Where token `s` of KV head `j` of batch row `b` lives in a cache tensor
    (`D` is the head dim; values use the same layout with `Dv`):

    | layout | cache shape | element of (b, j, s, d) |
    | --- | --- | --- |
    | `head_major` | `[B, Hkv, S, D]` | `[b, j, s, d]` |
    | `token_major` | `[B, S, Hkv, D]` | `[b, s, j, d]` |
    | `paged, page_size = P` | `[num_pages, P, Hkv, D]` + `block_table [B, max_pages]` | `[block_table[b, s / P], s % P, j, d]` |
    | `mla_latent` | `[B, S, d_c + d_r]` | `[b, s, d]` (one KV head) |

    In the paged layout the logical capacity of a batch row is
    `S = max_pages · P`; pages are shared freely between rows (vLLM,
    FlashInfer). The MLA latent cache (DeepSeek-V2) holds `[c_kv ; k_r]`: keys
    are whole rows, values their first `d_c` channels.

    ```mlir
    #kestrel.kv_layout<head_major>
    #kestrel.kv_layout<paged, page_size = 16>
    ```
  }];
  let parameters = (ins EnumParameter<Kestrel_KVLayoutKind>:$kind,
                        DefaultValuedParameter<"int64_t", "0">:$pageSize);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isPaged() const { return getKind() == KVLayoutKind::Paged; }
    bool isMLALatent() const { return getKind() == KVLayoutKind::MLALatent; }
    /// The shape of a cache of this layout, in the order of its dimensions,
    /// e.g. "[B, Hkv, S, D]" (`dim` names the last one).
    std::string describeShape(llvm::StringRef dim) const;
  }];
}

//===----------------------------------------------------------------------===//
// kestrel.decode_attention
//===----------------------------------------------------------------------===//

def Kestrel_DecodeAttentionOp : Kestrel_Op<"decode_attention",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Attention of a few queries over a KV cache in an explicit layout";
  let description = [{
    The queries are the last `T` of `L = seq_lens[b]` tokens of batch row `b`
    whose keys and values are in the cache (positions `0 .. L-1`; decode has
    `T = 1`, speculative decoding and chunked prefill a few more). For query
    head `h`, KV head `j = h / g` (`g = H / Hkv`; MQA is `Hkv = 1`), query `t`:

    ```
    x[s]   = scale · (q[b,h,t,:] · K[b,j,s,:])        (f32 accumulation)
    x[s]   = -inf unless s <= t + L - T               (causal with offset)
    p      = softmax(x)                               (over s in [0, S))
    out[b,h,t,:] = Σ_s p[s] · V[b,j,s,:]
    lse[b,h,t]   = log Σ_s exp(x[s])                  (natural log; -inf if none)
    ```

    `K[b,j,s,:]` and `V[b,j,s,:]` are read from `key` and `value` through the
    `layout` (see `#kestrel.kv_layout`); `S` is the cache capacity (`S` of the
    contiguous layouts, `max_pages · page_size` when paged) and positions
    `>= S` do not exist. A query row that sees no key (`t + L - T < 0`, e.g.
    `L = 0`) produces 0 and `lse = -inf`. Cache tokens at positions `>= L`
    are never used and may hold anything (NaN included); so are block table
    entries of pages past the last token (they may be -1). An entry outside
    `[0, num_pages)` of a used page is clamped into it.

    Layouts: `head_major` `key [B, Hkv, S, D]`, `value [B, Hkv, S, Dv]`;
    `token_major` `key [B, S, Hkv, D]`, `value [B, S, Hkv, Dv]`; `paged`
    `key [num_pages, page_size, Hkv, D]`, `value [num_pages, page_size, Hkv,
    Dv]` and `block_table [B, max_pages]` (i32); `mla_latent` has no `value`
    operand: `key [B, S, D]` with `D = d_c + d_r` is the one KV head, and the
    values are its first `Dv = d_c` channels (the absorbed MLA decode form).
    `query [B, H, T, D]`, `seq_lens [B]` (i32), `result [B, H, T, Dv]`, the
    optional second result `lse [B, H, T]` (f32) is what merging split-KV
    partial results needs. `scale` defaults to `1/sqrt(D)`.

    ```mlir
    %o = kestrel.decode_attention %q, %kc, %vc
        layout = #kestrel.kv_layout<paged, page_size = 16>
        seq_lens(%len : tensor<2xi32>) block_table(%bt : tensor<2x8xi32>)
        : tensor<2x32x1x128xbf16>, tensor<64x16x8x128xbf16>,
          tensor<64x16x8x128xbf16> -> tensor<2x32x1x128xbf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$query,
                       Kestrel_FloatTensor:$key,
                       Optional<Kestrel_FloatTensor>:$value,
                       RankedTensorOf<[I32]>:$seq_lens,
                       Optional<RankedTensorOf<[I32]>>:$block_table,
                       Kestrel_KVLayoutAttr:$layout,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs Kestrel_FloatTensor:$result,
                      Optional<RankedTensorOf<[F32]>>:$lse);

  let assemblyFormat = [{
    $query `,` $key (`,` $value^)?
    `layout` `=` custom<KVLayout>($layout)
    `seq_lens` `(` $seq_lens `:` type($seq_lens) `)`
    (`block_table` `(` $block_table^ `:` type($block_table) `)`)?
    (`scale` `=` $scale^)?
    attr-dict `:` type($query) `,` type($key) (`,` type($value)^)?
    `->` type($result) (`,` type($lse)^)?
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The scale applied to q·k: the attribute, or 1/sqrt(D) by default.
    double getEffectiveScale();
    /// Number of KV heads (1 for the MLA latent layout).
    int64_t getNumKvHeads();
    /// Cache capacity per batch row (max_pages · page_size when paged).
    int64_t getCapacity();
  }];
}

//===----------------------------------------------------------------------===//
// kestrel.kv_append
//===----------------------------------------------------------------------===//

def Kestrel_KVAppendOp : Kestrel_Op<"kv_append",
    [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "Writes new keys (or values) into a KV cache of any layout";
  let description = [{
    Returns `cache` with the `Tn` new tokens of every batch row written after
    its `positions[b]` existing ones (`positions` is `seq_lens` before the
    append):

    ```
    for b in 0..B-1, i in 0..Tn-1, j in 0..Hkv-1:
      p = positions[b] + i
      if 0 <= p < S:  C[b, j, p, :] = new[b, j, i, :]
    ```

    `C[b, j, p, :]` is the element of the cache at token `p` of KV head `j`
    through `layout` (`#kestrel.kv_layout`); `S` is the capacity. Writes that
    fall outside the cache (`p < 0`, `p >= S`, or a paged block table entry
    outside `[0, num_pages)`) are dropped. When two writes reach the same
    element (rows sharing a page), the later one in `b, i` order wins. Keys
    and values are appended by one op each; the MLA latent cache `[B, S, D]`
    takes `new [B, 1, Tn, D]`.

    Shapes: `new [B, Hkv, Tn, D]`, `positions [B]` (i32), `block_table
    [B, max_pages]` (i32, paged only); the result has the cache's type.

    ```mlir
    %k2 = kestrel.kv_append %knew into %kc
        layout = #kestrel.kv_layout<token_major> positions(%len : tensor<2xi32>)
        : tensor<2x8x1x128xf16> into tensor<2x4096x8x128xf16>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$new_tokens,
                       Kestrel_FloatTensor:$cache,
                       RankedTensorOf<[I32]>:$positions,
                       Optional<RankedTensorOf<[I32]>>:$block_table,
                       Kestrel_KVLayoutAttr:$layout);
  let results = (outs Kestrel_FloatTensor:$result);

  let assemblyFormat = [{
    $new_tokens `into` $cache
    `layout` `=` custom<KVLayout>($layout)
    `positions` `(` $positions `:` type($positions) `)`
    (`block_table` `(` $block_table^ `:` type($block_table) `)`)?
    attr-dict `:` type($new_tokens) `into` type($cache)
  }];

  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// kestrel.select_kv_pages
//===----------------------------------------------------------------------===//

def Kestrel_SelectKVPagesOp : Kestrel_Op<"select_kv_pages",
    [Pure, AllTypesMatch<["key_min", "key_max"]>]> {
  let summary = "Quest page selection: top-k KV pages by an upper bound of q·k";
  let description = [{
    Quest (Tang et al., 2024) keeps, per KV page, the elementwise minimum
    `kmin` and maximum `kmax` of its keys; `q · k` of any key of the page is
    at most `Σ_d max(q_d · kmin_d, q_d · kmax_d)`. For KV head `j` the score
    of page `p` sums that bound over the `g = H / Hkv` query heads sharing it
    (one selection per KV head, so that each selected page is read once):

    ```
    score[b,j,p] = Σ_{h : h / g = j} Σ_d max(q[b,h,d] · kmin[b,j,p,d],
                                             q[b,h,d] · kmax[b,j,p,d])
    n = min(ceil(seq_lens[b] / page_size), P)     (valid pages; 0 if L <= 0)
    result[b,j,0]     = n - 1                     (the current page, always)
    result[b,j,1..k-1] = the k-1 pages of [0, n-1) with the highest scores,
                        best first, ties to the lower page index
    ```

    Slots left over when fewer than `k` pages are valid hold -1 (all of them
    when `n = 0`). Shapes: `query [B, H, D]` or `[B, H, 1, D]` (decode),
    `kmin`, `kmax [B, Hkv, P, D]` (logical page order of each row),
    `seq_lens [B]` (i32), `result [B, Hkv, k]` (i32).

    ```mlir
    %pages = kestrel.select_kv_pages %q, %kmin, %kmax seq_lens(%len : tensor<2xi32>)
        k = 8 page_size = 16
        : tensor<2x32x128xf32>, tensor<2x8x256x128xf32> -> tensor<2x8x8xi32>
    ```
  }];

  let arguments = (ins Kestrel_FloatTensor:$query,
                       Kestrel_FloatTensor:$key_min,
                       Kestrel_FloatTensor:$key_max,
                       RankedTensorOf<[I32]>:$seq_lens,
                       ConfinedAttr<I64Attr, [IntPositive]>:$k,
                       ConfinedAttr<I64Attr, [IntPositive]>:$page_size);
  let results = (outs RankedTensorOf<[I32]>:$result);

  let assemblyFormat = [{
    $query `,` $key_min `,` $key_max
    `seq_lens` `(` $seq_lens `:` type($seq_lens) `)`
    `k` `=` $k `page_size` `=` $page_size
    attr-dict `:` type($query) `,` type($key_min) `->` type($result)
  }];

  let hasVerifier = 1;
}

#endif // KESTREL_KVCACHE_OPS_TD
