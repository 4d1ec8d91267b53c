//===- DecisionAttrs.td - Typed decisions of the passes ----*- tablegen -*-===//
//
// What one pass decides and a later pass reads travels in the IR as a
// discardable attribute of the op it is about. Each decision has its own
// attribute here (typed, verified: sizes > 0), and the dialect's
// verifyOperationAttribute (DecisionAttrs.cpp) checks that it sits on an op
// it means something for. docs/pipelines.md lists who writes and reads each.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_DECISION_ATTRS_TD
#define KESTREL_DECISION_ATTRS_TD

include "dialects/KestrelBase.td"
include "mlir/IR/EnumAttr.td"

class Kestrel_DecisionAttr<string name, string attrMnemonic>
    : AttrDef<Kestrel_Dialect, name> {
  let mnemonic = attrMnemonic;
  let genVerifyDecl = 1;
}

def Kestrel_AttentionTilesAttr
    : Kestrel_DecisionAttr<"AttentionTiles", "attention_tiles"> {
  let summary = "Query × key tile of a kestrel.attention (Br × Bc)";
  let description = [{
    `kestrel.tile` of a `kestrel.attention`: the fused lowering
    (kestrel-fuse-io-aware) iterates over tiles of `query` rows × `key`
    columns; kestrel-specialize-sparsity classifies the same tiles.
    Written by kestrel-tile (or kestrel-specialize-sparsity).

    ```mlir
    {kestrel.tile = #kestrel.attention_tiles<query = 64, key = 64>}
    ```
  }];
  let parameters = (ins "int64_t":$query, "int64_t":$key);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Kestrel_MoeRegisterTileAttr
    : Kestrel_DecisionAttr<"MoeRegisterTile", "moe_register_tile"> {
  let summary = "Register tile MR × NR of the expert products of a kestrel.moe";
  let description = [{
    `kestrel.tile` of a `kestrel.moe`: kestrel-moe-dispatch computes its
    expert products in `rows` token rows × `cols` weight columns held in
    registers. Written by kestrel-tile; the `scf.forall` of each stage that
    kestrel-moe-dispatch builds carries the tile it used (`cols` there is
    the panel width actually taken).

    ```mlir
    {kestrel.tile = #kestrel.moe_register_tile<rows = 6, cols = 16>}
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Kestrel_VocabBlockAttr : Kestrel_DecisionAttr<"VocabBlock", "vocab_block"> {
  let summary = "Vocabulary entries per vector step of a kestrel.denoise_step";
  let description = [{
    `kestrel.tile` of a `kestrel.denoise_step`: the fused one-pass form
    (kestrel-fuse-io-aware) reads this many vocabulary entries per step of
    each position's online max/sum/argmax. Written by kestrel-tile; the
    `scf.forall` built for the step carries the block it used.

    ```mlir
    {kestrel.tile = #kestrel.vocab_block<16>}
    ```
  }];
  let parameters = (ins "int64_t":$entries);
  let assemblyFormat = "`<` $entries `>`";
}

def Kestrel_ChunkAttr : Kestrel_DecisionAttr<"Chunk", "chunk"> {
  let summary = "Chunk length of a kestrel.gated_recurrence";
  let description = [{
    `kestrel.chunk` of a `kestrel.gated_recurrence`: the chunked form
    (kestrel-fuse-io-aware) processes `length` time steps per chunk with
    matrix products. Written by kestrel-tile.

    ```mlir
    {kestrel.chunk = #kestrel.chunk<64>}
    ```
  }];
  let parameters = (ins "int64_t":$length);
  let assemblyFormat = "`<` $length `>`";
}

def Kestrel_MoeBoundsAttr : Kestrel_DecisionAttr<"MoeBounds", "moe_bounds"> {
  let summary = "Static bounds of the routed pairs of a kestrel.moe";
  let description = [{
    `kestrel.moe_bounds` of a `kestrel.moe`: at most `pairs` (token, expert)
    pairs are routed and at most `per_expert` tokens reach one expert
    (both >= 0). Written by kestrel-specialize-sparsity, read by
    kestrel-moe-dispatch to size its packed row space.

    ```mlir
    {kestrel.moe_bounds = #kestrel.moe_bounds<pairs = 20, per_expert = 10>}
    ```
  }];
  let parameters = (ins "int64_t":$pairs, "int64_t":$per_expert);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Kestrel_TileClassesAttr
    : Kestrel_DecisionAttr<"TileClasses", "tile_classes"> {
  let summary = "Static class of every (query tile, key tile) of an attention";
  let description = [{
    `kestrel.tile_classes` of a tiled `kestrel.attention`: one string per
    query tile, one character per key tile: `.` skipped (no visible key),
    `f` full (every key visible, no mask arithmetic), `p` partial (masked
    element by element). The counts of each class follow (they must match
    the table). The table has ⌈T / Br⌉ rows of ⌈S / Bc⌉ characters for the
    op's `kestrel.tile`. Written by kestrel-specialize-sparsity, read by
    kestrel-fuse-io-aware.

    ```mlir
    {kestrel.tile_classes = #kestrel.tile_classes<["p..", "fp.", "ffp"],
                                                  skipped = 3, full = 3, partial = 3>}
    ```
  }];
  let parameters = (ins "int64_t":$queryTiles, "int64_t":$keyTiles,
                        ArrayRefParameter<"int8_t">:$classes);
  let hasCustomAssemblyFormat = 1;
  let extraClassDeclaration = [{
    /// The class of (query tile i, key tile j): 0 skipped, 1 full,
    /// 2 partial (TileClass of AttentionMask.h).
    int8_t at(int64_t i, int64_t j) const {
      return getClasses()[i * getKeyTiles() + j];
    }
    /// How many tiles have class `c`.
    int64_t count(int8_t c) const;
  }];
}

def Kestrel_MoeStage : I32EnumAttr<"MoeStage",
    "stage of a kestrel.moe that a loop of kestrel-moe-dispatch computes", [
      I32EnumAttrCase<"Dispatch", 0, "dispatch">,
      I32EnumAttrCase<"Up", 1, "up">,
      I32EnumAttrCase<"SharedUp", 2, "shared_up">,
      I32EnumAttrCase<"Down", 3, "down">,
      I32EnumAttrCase<"CombineInit", 4, "combine_init">,
      I32EnumAttrCase<"Combine", 5, "combine">]> {
  let cppNamespace = "::kestrel";
  let genSpecializedAttr = 0;
}

def Kestrel_MoeStageAttr : EnumAttr<Kestrel_Dialect, Kestrel_MoeStage,
                                    "moe_stage"> {
  let summary = "Which stage of a kestrel.moe a loop computes";
  let description = [{
    `kestrel.moe_stage` of the loops kestrel-moe-dispatch builds and of the
    launches of kestrel-gpu-moe: `dispatch` (counting sort into the packed
    row space), `up` and `shared_up` (gate/up products of routed and shared
    experts), `down`, `combine_init` (an accumulator seeded with the shared
    experts' output or 0), `combine` (each token's weighted expert rows
    summed in a fixed order onto that seed, kestrel-gpu-moe).

    ```mlir
    } {kestrel.moe_stage = #kestrel.moe_stage<up>, kestrel.tile = ...}
    ```
  }];
  let assemblyFormat = "`<` $value `>`";
}

#endif // KESTREL_DECISION_ATTRS_TD
