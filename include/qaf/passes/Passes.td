//===- Passes.td - qaf's graph-level passes ----------------*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_PASSES_PASSES_TD
#define QAF_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def ONNXInferShapesPass : Pass<"qaf-onnx-infer-shapes", "mlir::ModuleOp"> {
  let summary = "Infer the result types of onnx ops and refine function types";
  let description = [{
    Walks every function of the module in order and calls `inferShapes()`
    on each op that implements the onnx `ShapeInferenceOpInterface`, so
    each op sees the refined types of its operands. Result types are only
    refined: a static dimension already declared (for example from an ONNX
    model's `value_info`) is kept, and a declared type that contradicts the
    inferred one is an error, as are inconsistent operands (mismatched
    matmul dimensions, shapes that do not broadcast, ...). An unranked
    declared type is a placeholder and is replaced outright.

    Afterwards each function's result types are set to the refined types of
    the values it returns.

    Example:

    ```mlir
    func.func @f(%x: tensor<2x3xf32>) -> tensor<*xf32> {
      %0 = onnx.Transpose %x : (tensor<2x3xf32>) -> tensor<*xf32>
      return %0 : tensor<*xf32>
    }
    ```

    becomes

    ```mlir
    func.func @f(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
      %0 = onnx.Transpose %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
      return %0 : tensor<3x2xf32>
    }
    ```

    It runs on the module, not per function, because changing a function's
    signature is visible to the rest of the module.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def OutlineWeightsPass : Pass<"qaf-outline-weights", "mlir::ModuleOp"> {
  let summary = "Turn the graph's weights into arguments of a compiled entry point";
  let description = [{
    Compiled code does not embed weights: the runtime memory-maps them from
    the artifact's `.safetensors` and passes them in. This pass renames the
    graph function `@main_graph` to the entry point (`entry`, default
    `infer`) and replaces every `onnx.Constant` whose value is a blob
    (`dense_resource`, i.e. a weight) or has more than `max-inline-elements`
    elements with a new leading function argument. Each such argument
    carries `qaf.weight_name` (the initializer's name, unique) and
    `qaf.weight_value` (the value itself, a handle to the same blob: nothing
    is copied), from which the compile driver writes the weights file. Small
    constants (shape vectors, scalars) stay in the code, where folding and
    the lowering can read them.

    ```mlir
    func.func @main_graph(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
      %w = onnx.Constant {value = dense_resource<w> : tensor<64x64xf32>} : tensor<64x64xf32>
      %y = onnx.MatMul %x, %w : ...
    ```
    becomes
    ```mlir
    func.func @infer(%w: tensor<64x64xf32> {qaf.weight_name = "w", qaf.weight_value = dense_resource<w> : ...},
                     %x: tensor<?x64xf32>) -> tensor<?x64xf32> {
      %y = onnx.MatMul %x, %w : ...
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"infer\"",
           "Name of the entry point the graph function becomes">,
    Option<"maxInlineElements", "max-inline-elements", "int64_t",
           /*default=*/"1024",
           "Constants with more elements become weight arguments">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def FoldWeightTransposesPass
    : Pass<"qaf-fold-weight-transposes", "mlir::func::FuncOp"> {
  let summary = "Transpose weights once at compile time instead of every run";
  let description = [{
    `onnx.Transpose` of an `onnx.Constant` of any size becomes a constant
    holding the transposed values (a new blob named `<weight>.transposed`),
    so no transpose runs on every call. The dialect's own folder only
    handles small constants.

    Except where folding would copy a weight that stays: the 2-D transpose
    of a constant something else also reads (a tied embedding, gathered by
    the embedding lookup and multiplied by as `lm_head = x @ embed^T`),
    used only as the B operand of MatMuls, is left to the lowering, whose
    matmul reads B transposed in place (every target's kernels take the
    transposed form). The artifact then holds the weight once, not twice
    (113 MB saved for SmolLM2-135M), and the GEMM packs its B panels from
    contiguous rows.
  }];
}

def ShareGroupedKVPass : Pass<"qaf-share-grouped-kv", "mlir::func::FuncOp"> {
  let summary = "Grouped-query attention on the shared key/value heads";
  let description = [{
    Exporters write grouped-query attention's repeat_kv as
    `Reshape(Expand(Unsqueeze(kv, [2]), [b, g, n, t, d]), [b, g·n, t, d])`,
    which, lowered as written, copies the key/value cache n times on every
    call. A MatMul of query heads [b, g·n, s, x] with that tensor (or its
    transpose over the last two axes) becomes one with kv itself: the n
    query heads of a group are contiguous, so
    `Reshape(MatMul(Reshape(q, [b, g, n·s, x]), kv), [b, g·n, s, y])` is
    the same product, and the Reshapes move no data. `Shape` of the
    repeat_kv (masks are sliced to the keys' length read off it) becomes
    `Shape(kv) · [1, n, 1, 1]`. The repeat_kv ops left without users are
    removed by the canonicalizer.
  }];
}

def FuseAttentionPass : Pass<"qaf-fuse-attention", "mlir::func::FuncOp"> {
  let summary = "Scaled dot-product attention spelled out op by op as one "
                "qaf.kernel.attention";
  let description = [{
    For targets with a fused attention kernel (CUDA): the chain exporters
    write, `MatMul(Softmax(Add(Div(MatMul(Q, Transpose(K, [0, 1, 3, 2])),
    c), mask), axis = -1), V)` on rank-4 f32 tensors (Mul by a constant c
    instead of Div, the mask on either side of the Add, or either step
    absent), becomes `qaf.kernel.attention scale(1 / c) ins(Q, K, V,
    mask)`. Grouped-query attention's repeat_kv of K and V (with static
    head counts) is looked through: the op reads the shared heads. Each
    intermediate must have no other user (a training step's forward keeps
    the softmax for its backward, and stays unfused).

    Runs before qaf-share-grouped-kv, which rewrites the products it
    matches.
  }];
  let dependentDialects = ["::qaf::QAFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SelectInt8ActivationsPass
    : Pass<"qaf-select-int8-activations", "mlir::func::FuncOp"> {
  let summary = "Mark quantized layers whose products round x to int8";
  let description = [{
    ONNX Runtime runs a `MatMulNBits` with `accuracy_level` 4 (ORT GenAI's
    CPU int4 files ask for it) on int8 activations: each block of features
    of x rounded to int8 with its own scale, the products with the codes
    summed as integers. qaf computes the exact float product unless asked:
    this pass marks `qaf.qlinear` layers with `qaf.int8_activations`, which
    the lowering turns into `qaf.kernel.qlinear ... int8_activations` (the
    CPU's `qaf_qlinear_int8`: where its AVX512-VNNI path serves, 4-bit
    codes in groups of a multiple of 32, dot products for few rows of x and
    an int8 GEMM for many; else the exact product). `layers=file` marks the layers raised from a `MatMulNBits`
    that asked for accuracy_level 4 or more (what ONNX Runtime does with the
    same file); `layers=all` marks every layer.
  }];
  let options = [
    Option<"layers", "layers", "std::string", /*default=*/"\"file\"",
           "file (the layers whose MatMulNBits asked for accuracy_level >= "
           "4) or all">,
  ];
}

def ShareZeroPointRowsPass
    : Pass<"qaf-share-zero-point-rows", "mlir::func::FuncOp"> {
  let summary = "Quantized layers whose zero-point rows are equal read one row";
  let description = [{
    ONNX Runtime GenAI's int4 files store no zero points (2^(bits - 1)
    everywhere), which qaf-raise-matmulnbits spells out as a full
    [N, K / group] f32 constant: one float streamed per group on every
    decode step. A `qaf.qlinear` or `qaf.qlinear_transposed` whose constant
    zero points have the same bytes in every row reads
    `onnx.Expand(<row> : [1, K / group], [N, K / group])` instead, the row a
    new constant named `<zero points>.row`; the full constant is removed
    once nothing reads it. The lowering hands that row to the qaf_qlinear
    kernel (and CUDA's) with row stride 0, so the artifact holds and each
    step reads K / group floats per layer, not N times as many. Layers whose
    rows differ (qaf's own quantizer, merged models) are left alone.

    ```mlir
    %z = onnx.Constant ... : tensor<1536x18xf32>   // every row 8.0
    %y = qaf.qlinear %x, %codes, %scales, %z {...}
    ```
    becomes
    ```mlir
    %row = onnx.Constant ... : tensor<1x18xf32>
    %z = onnx.Expand %row, %shape : (...) -> tensor<1536x18xf32>
    %y = qaf.qlinear %x, %codes, %scales, %z {...}
    ```
  }];
}

def QuantizeWeightsPass : Pass<"qaf-quantize-weights", "mlir::ModuleOp"> {
  let summary = "Quantize the weights of linear layers into qaf.qlinear ops";
  let description = [{
    Replaces every `onnx.MatMul` whose right operand is a constant 2-D float
    weight [K, N] (and every `onnx.Gemm` with a constant B, transA = 0,
    alpha = 1) by `qaf.qlinear` over packed codes, per-group scales and zero
    points (../shared/METHODS.md §0), stored as new weight blobs named
    `<weight>.qcodes`, `<weight>.scales` and `<weight>.zero_points`. A Gemm's
    C becomes an `onnx.Add` (times beta).

    Which layers: by default every linear layer except the output head (a
    MatMul whose result is returned, possibly through shape-only ops) and
    weights that are also embeddings (read by an `onnx.Gather`, as tied
    embeddings are). `include` (a regex over weight names) selects layers
    instead, head and embeddings included when they match; `exclude`
    removes matches. A group size that does not divide a selected layer's
    input dimension is an error naming the weight.

    Layers that are already quantized, ONNX Runtime `MatMulNBits` with
    constant weights (ORT GenAI's int4 models), become `qaf.qlinear` as they
    are (as qaf-raise-matmulnbits raises them): the same code bytes, scales
    and zero points (unpacked to floats; 2^(bits-1) where absent) in their
    own bits and block size, never requantized. One with a `g_idx` or bias,
    other than 2, 4 or 8 bits, or non-f32 values, stays `MatMulNBits`.

    `tied-head=1` also quantizes tied embeddings, a float table E [V, H]
    read by an `onnx.Gather` (axis 0) and, through `onnx.Transpose`, by the
    head's `onnx.MatMul` (or stored as Eᵀ [H, V], read by the head and,
    through `onnx.Transpose`, by the Gather, as ORT GenAI's fp32 builder
    writes it): E is quantized once, in `bits`/`group-size`/
    `scheme` (2, 4 or 8 bits, asym or sym), into `<table>.qcodes`,
    `.scales`, `.zero_points` (f32, for the head's `qaf.qlinear`) and
    `.zero_points_u8` (packed codes, for the Gather, which becomes
    `com.microsoft.GatherBlockQuantized` over the same code blob), as ORT
    GenAI's int4 models share them. An asym group whose values share one
    sign has a zero point outside the codes and is an error naming it.
    `tied-head-bits` and `tied-head-group-size` give the table a format of
    its own (0: the layers'), as llama.cpp keeps its head in Q8_0 beside
    4-bit layers: `bits=4 group-size=64 tied-head=1 tied-head-bits=8` reads
    the 135M model's head as 28 MB of codes instead of 113 MB of floats.

    ```mlir
    %y = onnx.MatMul %x, %w : (tensor<?x576xf32>, tensor<576x1536xf32>) -> ...
    ```
    becomes
    ```mlir
    %y = qaf.qlinear %x, %codes, %scales, %zeros
           {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} ...
    ```
  }];
  let options = [
    Option<"bits", "bits", "unsigned", /*default=*/"4",
           "Bits per code: 2, 3, 4 or 8">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"64",
           "Input features per group (must divide every selected layer's)">,
    Option<"scheme", "scheme", "std::string", /*default=*/"\"asym\"",
           "asym (min-max RTN), sym (absmax RTN) or nf (NF4/NF2 codebook)">,
    Option<"include", "include", "std::string", /*default=*/"\"\"",
           "Quantize only weights whose names match this regex">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "Never quantize weights whose names match this regex">,
    Option<"reportErrors", "report-errors", "bool", /*default=*/"false",
           "Remark each layer's relative RMS weight error ‖W − Ŵ‖/‖W‖ and "
           "the whole model's">,
    Option<"tiedHead", "tied-head", "bool", /*default=*/"false",
           "Quantize tied embedding tables (Gather + MatMul of their "
           "Transpose) into one set of codes: the head becomes qaf.qlinear, "
           "the Gather com.microsoft.GatherBlockQuantized">,
    Option<"tiedHeadBits", "tied-head-bits", "unsigned", /*default=*/"0",
           "Bits of the tied table's codes (0: bits)">,
    Option<"tiedHeadGroupSize", "tied-head-group-size", "int64_t",
           /*default=*/"0",
           "Group size of the tied table (0: group-size)">,
  ];
  let dependentDialects = ["::qaf::QAFDialect"];
}

def RaiseMatMulNBitsPass : Pass<"qaf-raise-matmulnbits", "mlir::ModuleOp"> {
  let summary = "Raise com.microsoft.MatMulNBits layers to qaf.qlinear";
  let description = [{
    The inverse of qaf-lower-qlinear-to-onnx, for models whose weights are
    already quantized (ONNX Runtime GenAI's int4 exports): each MatMulNBits
    with constant B, float32 scales, and uint8 packed, float32 or no zero
    points becomes `qaf.qlinear` (asym) with the same code bytes (reshaped
    to [N, K * bits / 8]), the same scales ([N, K / block_size]) and the
    same zero-point values as f32 (absent: 2^(bits - 1)) and its
    accuracy_level as qaf.ort_accuracy_level (written back on export);
    nothing is dequantized. qaf-quantize-weights raises such layers the
    same way before it quantizes the float ones. Layers with g_idx, a bias, a K that is not a multiple of
    block_size, another input type or non-constant weights stay
    MatMulNBits (they still lower), with a remark saying why.
  }];
  let dependentDialects = ["::qaf::QAFDialect"];
}

def LowerQLinearToONNXPass : Pass<"qaf-lower-qlinear-to-onnx", "mlir::ModuleOp"> {
  let summary = "Express qaf.qlinear with ONNX operators, for export";
  let description = [{
    `format=matmulnbits` (default): ONNX Runtime's `com.microsoft.MatMulNBits`.
    The packed codes are reused as they are (the same blob, reshaped to
    [N, K / block, block * bits / 8]); 3-bit codes are repacked into a 4-bit
    container, which holds them losslessly. Needs a block (group) size that
    is a power of two, at least 16. Zero points, per layer, by `zero-points`:
      - `auto` (default): none when every one is ONNX Runtime's default
        2^(bits - 1) (symmetric RTN), packed uint8 when every one is an
        integer in [0, 2^bits - 1] (asymmetric RTN), float when some are
        fractional (merged adapters leave such);
      - `uint8`: packed uint8 always; a fractional or out-of-range zero
        point is an error naming the weight;
      - `float`: float zero points (ONNX Runtime 1.30 runs them several
        times slower, bench/results/ort_zero_points.md).
    Packed uint8 zero points are laid out like the codes, one row of
    ceil(K / block * bits / 8) bytes per output. 8-bit layers always get
    uint8 zero points, which must then be integers in [0, 255]: ONNX Runtime
    1.30 takes float zero points only for 2 and 4 bits.

    `format=dequantizelinear`: standard ONNX, opset 21 blocked
    `DequantizeLinear` (codes transposed to [K, N], blocked along K) feeding
    `MatMul`. It needs integer zero points; the integer type is the smallest
    of uint4, uint8, int8, int16, int32 that holds the layer's codes and zero
    points.

    NormalFloat weights (codebook values) have neither form, and weights
    that are not constants cannot be exported: both are errors naming the
    layer.
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"matmulnbits\"",
           "matmulnbits or dequantizelinear">,
    Option<"zeroPointForm", "zero-points", "std::string",
           /*default=*/"\"auto\"",
           "MatMulNBits zero points: auto (uint8 or none where they are "
           "integers, float where fractional), uint8 or float">,
  ];
  let dependentDialects = ["::qaf::onnx::ONNXDialect"];
}

def MergeAdaptersPass : Pass<"qaf-merge-adapters", "mlir::ModuleOp"> {
  let summary = "Merge trained adapters into the quantized layers";
  let description = [{
    Every adapter op becomes an ordinary `qaf.qlinear` (METHODS.md §1–§4,
    §7), by the op's merge rule (AdapterOpInterface::mergeInto):
      - lota: q' = q + Ŵ, z' = z − μ; scales are the same constant;
      - qalora, qahira: the pooled update folds into the zero points;
        codes and scales are the same constants;
      - l4q: the trained codes w̃ + 2^(b−1), scales s and zero points
        2^(b−1) − β/s are the layer (the float W0 is gone);
      - lora (and loftq), qbara: not mergeable into integers. An error says
        so, unless `allow-lossy` (W + ΔW quantized again in the layer's
        format; max and mean relative weight error reported per layer and
        overall) or `keep-adapters` (the adapter stays, as two float
        `onnx.MatMul`s added to the quantized layer).
    ```mlir
    %y = qaf.lota_linear %x, %q, %s, %z, %a, %b {...}
    // becomes
    %y = qaf.qlinear %x, %q2, %s, %z2 {format = ...}
    ```
    The trained values come from `checkpoint` (a folder with `latest`, as
    `qaf-run train --ckpt-dir` writes, or one `.safetensors` file), looked
    up by the parameters' blob names; without it the values in the IR are
    merged. A checkpoint of another model, method, rank or shape, and
    non-finite values, are errors naming the tensor. New blobs are written
    for what changes; the input's blobs are never modified. `report`
    writes a JSON summary (layers, codes moved, lossy errors).
  }];
  let options = [
    Option<"checkpoint", "checkpoint", "std::string", /*default=*/"\"\"",
           "Checkpoint folder (with 'latest') or .safetensors file of the "
           "trained parameters (default: the values in the IR)">,
    Option<"allowLossy", "allow-lossy", "bool", /*default=*/"false",
           "Merge LoRA, LoftQ and Q-BaRA by re-quantizing W + ΔW">,
    Option<"keepAdapters", "keep-adapters", "bool", /*default=*/"false",
           "Keep LoRA, LoftQ and Q-BaRA adapters as two float MatMuls">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write a JSON report of the merge to this file">,
  ];
  let dependentDialects = ["::qaf::QAFDialect", "::qaf::onnx::ONNXDialect"];
}

def LoftQInitPass : Pass<"qaf-loftq-init", "mlir::ModuleOp"> {
  let summary = "LoftQ: quantize linear layers with a LoRA that makes up the error";
  let description = [{
    For every selected float linear layer (the same selection as
    qaf-quantize-weights), runs LoftQ (../shared/METHODS.md §5): `iters`
    alternations of quantizing W − L·R and a rank-`rank` SVD (LAPACK) of
    the remainder, keeping the best iterate. The layer becomes
    `qaf.qlinear` over the quantized base plus `qaf.lora` with B = L and
    A = R (blobs `<weight>.lora_A`, `<weight>.lora_B`), scaled by
    alpha / rank; the factors are divided by sqrt(alpha / rank), so the sum
    reproduces the LoftQ approximation. Layers run in parallel.
  }];
  let options = [
    Option<"rank", "rank", "int64_t", /*default=*/"16", "LoRA rank r">,
    Option<"iters", "iters", "int64_t", /*default=*/"5",
           "Alternating steps T">,
    Option<"bits", "bits", "unsigned", /*default=*/"4",
           "Bits of the quantized base">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"64",
           "Input features per group (block size for nf)">,
    Option<"scheme", "scheme", "std::string", /*default=*/"\"nf\"",
           "Quantizer of the base: nf (NF4/NF2, LoftQ's), asym or sym">,
    Option<"alpha", "alpha", "double", /*default=*/"16.0",
           "LoRA alpha; the adapter's scale is alpha / rank">,
    Option<"include", "include", "std::string", /*default=*/"\"\"",
           "Only weights whose names match this regex">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "Never weights whose names match this regex">,
  ];
  let dependentDialects = ["::qaf::QAFDialect"];
}

def AttachAdaptersPass : Pass<"qaf-attach-adapters", "mlir::ModuleOp"> {
  let summary = "Attach trainable adapters, initialised as METHODS.md says";
  let description = [{
    `method=lota|lora|qalora|qahira|qbara` adapts `qaf.qlinear` layers
    (quantize first); `method=l4q` turns float linear layers into
    `qaf.l4q_linear` (with `bits`, `group-size`). Every adapter starts as a
    no-op (its output-side factor is zero), so the adapted model computes
    exactly what it did before:

    - lota: `qaf.lota_linear`, A_T = ternarised Kaiming-normal draw
      (sign(N)·[|N| > 0.75·mean|N|]), B_T = 0, threshold `omega`
      (default 0.75·rank); needs asym/sym weights.
    - lora: + `qaf.lora`, A Kaiming-uniform (bound 1/sqrt(K)), B = 0,
      scale alpha / rank.
    - qalora: + `qaf.qalora` pooled over the weight's groups, A
      Xavier-uniform, B = 0, scale alpha / rank.
    - qahira: + `qaf.qahira`, M = 0 (`repeat-out` rows per output), alpha.
    - qbara: + `qaf.qbara` with `pool` (λ), A Kaiming-uniform, B = 0, scale
      alpha / rank.
    - l4q: `qaf.l4q_linear`, A Kaiming-uniform, B = 0, per-group scale
      max(|min W0|/2^(bits−1), max W0/(2^(bits−1)−1)) (nothing clips at
      start), offsets 0, LoRA multiplier alpha / rank.

    Layers are chosen by weight name (`include`/`exclude` regexes; for the
    quantized methods the name of the original weight). Random draws come
    from `seed` and the layer's name, so they do not depend on order.
    Parameters become blobs named `<weight>.<method>_A`, `..._B`, ...
  }];
  let options = [
    Option<"method", "method", "std::string", /*default=*/"\"lora\"",
           "lota, lora, qalora, qahira, qbara or l4q">,
    Option<"rank", "rank", "int64_t", /*default=*/"16", "Adapter rank r">,
    Option<"alpha", "alpha", "double", /*default=*/"16.0",
           "LoRA alpha (scale alpha / rank); QA-HiRA's alpha">,
    Option<"omega", "omega", "double", /*default=*/"0.0",
           "LoTA threshold (0: 0.75 * rank)">,
    Option<"pool", "pool", "int64_t", /*default=*/"2", "Q-BaRA pooling λ">,
    Option<"repeatOut", "repeat-out", "int64_t", /*default=*/"1",
           "QA-HiRA output repeat λ_out">,
    Option<"bits", "bits", "unsigned", /*default=*/"4", "L4Q bits">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"64",
           "L4Q group size">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Seed of the random initialisations">,
    Option<"include", "include", "std::string", /*default=*/"\"\"",
           "Only layers whose weight names match this regex">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "Never layers whose weight names match this regex">,
  ];
  let dependentDialects = ["::qaf::QAFDialect"];
}

def BuildTrainingPass : Pass<"qaf-build-training", "mlir::ModuleOp"> {
  let summary = "Generate the training step and the evaluation step";
  let description = [{
    Turns the forward graph `@main_graph` (its first result the logits
    [B, S, V]) into two more entry points, from the adapters' trainable
    parameters (AdapterOpInterface; frozen weights get no gradient and no
    state):

    - `@train_step(params..., state..., inputs..., labels, step) ->
      (loss, new params..., new state...)`: the forward, the causal-LM loss
      (the mean over the tokens whose label is not negative; `labels` [B, S]
      are the shifted ids: the label of position s is the token at s + 1,
      -100 where there is none), its gradients (qaf::buildReverseMode over
      the ops' GradientOpInterface rules), gradient accumulation, clipping
      by global norm and the optimizer (`qaf.adamw_update`,
      `qaf.tsignsgd_update`). `step` (i64) counts the calls made before
      this one.
    - `@eval_step(params..., inputs..., labels) -> (loss_sum, token_count)`.
      Zero-point adapters (QA-LoRA, QA-HiRA) are evaluated in their merged
      form there: the qaf.qlinear they add to reads zero points
      z' = float(z − factor·update / (g·s)), computed in double as
      qaf-merge-adapters computes them, so the evaluation runs the merged
      model's kernels on its operands and prints its perplexity to the
      last digit. Their trained values stay parameters (`qaf.parameter`).

    With `eval-only`, only `@eval_step` is built, and a model without
    adapters (a float, quantized or merged one) is accepted: its
    `@eval_step` takes no parameters.

    Parameters and optimizer state are arguments carrying `qaf.weight_name`
    and `qaf.weight_value` (their initial values: the adapters' blobs, and
    zeros for the state); `@main_graph` reads the parameters the same way.
    Each result of `@train_step` after the loss carries
    `qaf.updates = "<name>"`: it is the new value of that argument, which
    the compiled entry point writes in place (the buffer the runtime holds
    for the parameter); see passes/BuildTraining.cpp.

    ```mlir
    func.func @main_graph(%ids: tensor<2x8xi64>) -> tensor<2x8x32xf32> {
      %a = onnx.Constant {value = dense_resource<l.lora_A> : ...}
      ...
    ```
    becomes, with optimizer=adamw, besides `@main_graph` and `@eval_step`,
    ```mlir
    func.func @train_step(%a: tensor<4x16xf32> {qaf.weight_name = "l.lora_A", ...},
                          %a_m: tensor<4x16xf32> {qaf.weight_name = "l.lora_A.exp_avg", ...},
                          ..., %ids: tensor<2x8xi64>, %labels: tensor<2x8xi64>,
                          %step: tensor<i64>)
        -> (tensor<f32>, tensor<4x16xf32> {qaf.updates = "l.lora_A"}, ...)
    ```
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"causal-lm\"",
           "The loss: causal-lm (next-token cross-entropy)">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"auto\"",
           "auto (t-signsgd for ternary parameters, adamw for the others), "
           "adamw or t-signsgd">,
    Option<"lr", "lr", "double", /*default=*/"1e-4",
           "AdamW's peak learning rate">,
    Option<"schedule", "schedule", "std::string", /*default=*/"\"constant\"",
           "Learning-rate schedule after the warm-up: constant or cosine">,
    Option<"warmup", "warmup", "int64_t", /*default=*/"0",
           "Optimizer steps of linear learning-rate warm-up">,
    Option<"totalSteps", "total-steps", "int64_t", /*default=*/"1000",
           "Optimizer steps of the whole run (the cosine and the t-SignSGD "
           "quantile schedules)">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.01",
           "AdamW's decoupled weight decay">,
    Option<"maxGradNorm", "max-grad-norm", "double", /*default=*/"1.0",
           "Clip the gradients to this global norm (0: no clipping)">,
    Option<"accumulate", "accumulate", "int64_t", /*default=*/"1",
           "Micro-batches (train_step calls) per optimizer step">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9",
           "AdamW's first-moment decay">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999",
           "AdamW's second-moment decay">,
    Option<"eps", "eps", "double", /*default=*/"1e-8",
           "AdamW's denominator term">,
    Option<"evalOnly", "eval-only", "bool", /*default=*/"false",
           "Build @eval_step only: for any model, a merged or a float one "
           "included (the adapters' values, if any, still become its "
           "parameters)">,
  ];
  let dependentDialects = ["::qaf::QAFDialect", "::qaf::onnx::ONNXDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // QAF_PASSES_PASSES_TD
