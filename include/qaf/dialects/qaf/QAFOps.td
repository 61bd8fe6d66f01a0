//===- QAFOps.td - the qaf dialect -------------------------*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// What ONNX has no word for: quantized weights and the adapters that train
// them (../shared/METHODS.md). Weights are operands (constants, or entry
// point arguments once outlined), never attributes of these ops, so they
// stay in resource blobs and are never printed.
//
// Layout conventions (METHODS.md §0): a linear layer's weight W is
// d_out × d_in ("N × K"); a group is `group_size` consecutive input features
// of one output row. Activations are [..., K] -> [..., N].
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_QAF_QAFOPS_TD
#define QAF_DIALECTS_QAF_QAFOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "qaf/Interfaces/AdapterOpInterface.td"

def QAF_Dialect : Dialect {
  let name = "qaf";
  let cppNamespace = "::qaf";
  let summary = "Quantized weights, adapters and training";
  let description = [{
    Quantized linear layers (integer codes with per-group float scales and
    zero points) and one op per adapter method: LoTA-QAF, LoRA, QA-LoRA,
    QA-HiRA, Q-BaRA and L4Q.
  }];
  let useDefaultAttributePrinterParser = 1;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def QAF_QuantSchemeEnum : I32EnumAttr<"QuantScheme",
    "how codes map to values", [
  I32EnumAttrCase<"Asymmetric", 0, "asym">,
  I32EnumAttrCase<"Symmetric", 1, "sym">,
  I32EnumAttrCase<"NormalFloat", 2, "nf">,
]> {
  let cppNamespace = "::qaf";
  let genSpecializedAttr = 0;
}

def QAF_QuantFormatAttr : AttrDef<QAF_Dialect, "QuantFormat"> {
  let mnemonic = "qformat";
  let summary = "bits, group size and scheme of a quantized weight";
  let description = [{
    `asym` and `sym`: w = s·(q − z) with a float zero point z per group
    (`sym` quantizes with z = 2^(bits−1), but merges may move it); `nf`: a
    NormalFloat codebook (NF4, NF2), w = s·codebook[q], no zero points.
    Codes are stored packed, `bits` per code, first code in the lowest bits
    of each byte, rows of K·bits/8 bytes.
  }];
  let parameters = (ins "unsigned":$bits, "int64_t":$group_size,
                        EnumParameter<QAF_QuantSchemeEnum>:$scheme);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    uint32_t getMaxCode() const { return (1u << getBits()) - 1; }
    bool hasZeroPoints() const { return getScheme() != QuantScheme::NormalFloat; }
  }];
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

class QAF_Op<string mnemonic, list<Trait> traits = []>
    : Op<QAF_Dialect, mnemonic, !listconcat(traits, [Pure])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

// Every operand and result is ranked: the verifiers read shapes, and an
// unranked tensor has none to check.
def QAF_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def QAF_TernaryTensor : RankedTensorOf<[I8]>;
def QAF_CodesTensor : RankedTensorOf<[UI8]>;

// Attribute ranges checked where the attributes are declared, so the C++
// verifiers keep only what relates operands to each other.
def QAF_FloatIsFinite : AttrConstraint<
    CPred<"::llvm::cast<::mlir::FloatAttr>($_self).getValue().isFinite()">,
    "whose value is finite">;
def QAF_FloatIsPositiveFinite : AttrConstraint<
    CPred<"::llvm::cast<::mlir::FloatAttr>($_self).getValue().isFiniteNonZero() "
          "&& !::llvm::cast<::mlir::FloatAttr>($_self).getValue().isNegative()">,
    "whose value is positive and finite">;
def QAF_FiniteF64Attr : ConfinedAttr<F64Attr, [QAF_FloatIsFinite]>;
def QAF_PositiveFiniteF64Attr
    : ConfinedAttr<F64Attr, [QAF_FloatIsPositiveFinite]>;
def QAF_PositiveI64Attr : ConfinedAttr<I64Attr, [IntPositive]>;
// The code widths the quantizers and kernels support (as #qaf.qformat's).
def QAF_BitsAttr : ConfinedAttr<I64Attr, [IntIsOneOf<[2, 3, 4, 8]>]>;

def QAF_QLinearOp : QAF_Op<"qlinear"> {
  let summary = "y = x · dequant(W)ᵀ with a group-quantized weight";
  let description = [{
    `codes` is [N, K·bits/8] ui8 (packed), `scales` and `zero_points` are
    [N, K/group_size]; `zero_points` is absent for the `nf` scheme.
    ```mlir
    %y = qaf.qlinear %x, %codes, %scales, %zeros
           {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>}
         : (tensor<?x576xf32>, tensor<1536x288xui8>, tensor<1536x9xf32>,
            tensor<1536x9xf32>) -> tensor<?x1536xf32>
    ```
  }];
  let arguments = (ins QAF_FloatTensor:$input, QAF_CodesTensor:$codes,
                   QAF_FloatTensor:$scales,
                   Optional<QAF_FloatTensor>:$zero_points,
                   QAF_QuantFormatAttr:$format);
  let results = (outs QAF_FloatTensor:$output);
}

def QAF_LoTALinearOp : QAF_Op<"lota_linear",
    [DeclareOpInterfaceMethods<AdapterOpInterface>]> {
  let summary = "LoTA-QAF: a quantized linear layer with a ternary adapter";
  let description = [{
    METHODS.md §1. `a` (A_T) is [r, K] and `b` (B_T) [N, r], ternary int8
    in {−1, 0, 1}; ΔW = B_T·A_T; codes move by Ŵ = ±1 where |ΔW| > omega
    (and the code stays in range), the remainder's group mean shifts the
    zero point: w_eff = s·((q + Ŵ) − (z − μ)). With b = 0 it equals
    `qaf.qlinear` bit for bit.
  }];
  let arguments = (ins QAF_FloatTensor:$input, QAF_CodesTensor:$codes,
                   QAF_FloatTensor:$scales, QAF_FloatTensor:$zero_points,
                   QAF_TernaryTensor:$a, QAF_TernaryTensor:$b,
                   QAF_QuantFormatAttr:$format,
                   QAF_PositiveFiniteF64Attr:$omega);
  let results = (outs QAF_FloatTensor:$output);
}

def QAF_L4QLinearOp : QAF_Op<"l4q_linear",
    [DeclareOpInterfaceMethods<AdapterOpInterface>]> {
  let summary = "L4Q: fake-quantized W0 + α·B·A with trainable scales";
  let description = [{
    METHODS.md §2. `weight` is the frozen float W0 in ONNX MatMul layout
    [K, N] (not copied); `a` [r, K], `b` [N, r]; `scales` and `offsets` (β)
    [N, K/group_size]. W_q = s·round(clamp((W0ᵀ + α·B·A − β)/s, Q_N, Q_P)) + β
    with Q_N = −2^(bits−1), Q_P = 2^(bits−1) − 1; y = x · W_qᵀ.
  }];
  let arguments = (ins QAF_FloatTensor:$input, QAF_FloatTensor:$weight,
                   QAF_FloatTensor:$a, QAF_FloatTensor:$b,
                   QAF_FloatTensor:$scales, QAF_FloatTensor:$offsets,
                   QAF_BitsAttr:$bits, QAF_PositiveI64Attr:$group_size,
                   QAF_FiniteF64Attr:$alpha);
  let results = (outs QAF_FloatTensor:$output);
}

def QAF_LoRAOp : QAF_Op<"lora",
    [DeclareOpInterfaceMethods<AdapterOpInterface, ["getFloatFactors"]>]> {
  let summary = "LoRA update: Δy = scale · (x · Aᵀ) · Bᵀ";
  let description = [{
    METHODS.md §5–6. `a` [r, K], `b` [N, r]; `scale` is α/r. The layer's
    output is its base output plus Δy.
  }];
  let arguments = (ins QAF_FloatTensor:$input, QAF_FloatTensor:$a,
                   QAF_FloatTensor:$b, QAF_FiniteF64Attr:$scale);
  let results = (outs QAF_FloatTensor:$output);
}

def QAF_QALoRAOp : QAF_Op<"qalora",
    [DeclareOpInterfaceMethods<AdapterOpInterface>]> {
  let summary = "QA-LoRA update: Δy = scale · B · A · x̄ (x pooled per group)";
  let description = [{
    METHODS.md §3. x̄ is the mean of x over each group of `group_size`
    input features; `a` [r, K/group_size], `b` [N, r]; `scale` is α/r.
  }];
  let arguments = (ins QAF_FloatTensor:$input, QAF_FloatTensor:$a,
                   QAF_FloatTensor:$b, QAF_PositiveI64Attr:$group_size,
                   QAF_FiniteF64Attr:$scale);
  let results = (outs QAF_FloatTensor:$output);
}

def QAF_QAHiRAOp : QAF_Op<"qahira",
    [DeclareOpInterfaceMethods<AdapterOpInterface>]> {
  let summary = "QA-HiRA update: Δy = α · RepeatRows_λ(M · x̄)";
  let description = [{
    METHODS.md §3. x̄ pooled over each group of `group_size` input features;
    `m` [N/repeat_out, K/group_size]; each of its rows feeds `repeat_out`
    consecutive outputs.
  }];
  let arguments = (ins QAF_FloatTensor:$input, QAF_FloatTensor:$m,
                   QAF_PositiveI64Attr:$group_size,
                   QAF_PositiveI64Attr:$repeat_out, QAF_FiniteF64Attr:$alpha);
  let results = (outs QAF_FloatTensor:$output);
}

def QAF_QBaRAOp : QAF_Op<"qbara",
    [DeclareOpInterfaceMethods<AdapterOpInterface, ["getFloatFactors"]>]> {
  let summary = "Q-BaRA update: Δy = scale · RepeatRows_λ(B · A · AvgPool_λ(x))";
  let description = [{
    METHODS.md §4. `a` [λr, K/λ], `b` [N/λ, λr] with λ = `pool`; `scale`
    is α/r.
  }];
  let arguments = (ins QAF_FloatTensor:$input, QAF_FloatTensor:$a,
                   QAF_FloatTensor:$b, QAF_PositiveI64Attr:$pool,
                   QAF_FiniteF64Attr:$scale);
  let results = (outs QAF_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// What the gradient rules of the ops above emit (lib/Autodiff/QAFGradients.cpp)
//===----------------------------------------------------------------------===//

def QAF_QLinearTransposedOp : QAF_Op<"qlinear_transposed",
    [AttrSizedOperandSegments]> {
  let summary = "x = g · dequant(W): the input gradient of a quantized layer";
  let description = [{
    The product with the quantized weight W [N, K] untransposed: `input`
    is [..., N] (the gradient of a `qaf.qlinear`'s output), the result
    [..., K] (the gradient of its input). Codes, scales and zero points are
    those of `qaf.qlinear`; `moves` (int8 [N, K], LoTA-QAF's ternary update
    Ŵ, with `asym`/`sym` only) is added to the codes:
    w = s·((q + move) − z). The lowering multiplies straight from the packed
    codes; the dequantized W is never formed.
    ```mlir
    %dx = qaf.qlinear_transposed %dy, %codes, %scales zero_points(%zeros)
            {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>}
          : (tensor<?x1536xf32>, tensor<1536x288xui8>, tensor<1536x9xf32>,
             tensor<1536x9xf32>) -> tensor<?x576xf32>
    ```
  }];
  let arguments = (ins QAF_FloatTensor:$input, QAF_CodesTensor:$codes,
                   QAF_FloatTensor:$scales,
                   Optional<QAF_FloatTensor>:$zero_points,
                   Optional<QAF_TernaryTensor>:$moves,
                   QAF_QuantFormatAttr:$format);
  let results = (outs QAF_FloatTensor:$output);
  // Two optional operands: each is named, so that either may be absent.
  let assemblyFormat = [{
    $input `,` $codes `,` $scales
    (`zero_points` `(` $zero_points^ `)`)? (`moves` `(` $moves^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def QAF_LoTAUpdateOp : QAF_Op<"lota_update"> {
  let summary = "LoTA-QAF's effective weight: the code moves Ŵ and z − μ";
  let description = [{
    METHODS.md §1: what `qaf.lota_linear` with the same operands multiplies
    by, as a quantized weight with moved codes: `moves` is Ŵ (int8 [N, K],
    ±1 where |B_T·A_T| > omega and the code can move, else 0) and
    `zero_points` is z − μ [N, K/group_size]. The input gradient of a
    LoTA-QAF layer multiplies by it (`qaf.qlinear_transposed`).
    ```mlir
    %moves, %zeros2 = qaf.lota_update %codes, %zeros, %a, %b
        {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>,
         omega = 6.0 : f64}
      : (tensor<40x48xui8>, tensor<40x3xf32>, tensor<8x96xi8>,
         tensor<40x8xi8>) -> (tensor<40x96xi8>, tensor<40x3xf32>)
    ```
  }];
  let arguments = (ins QAF_CodesTensor:$codes, QAF_FloatTensor:$zero_points,
                   QAF_TernaryTensor:$a, QAF_TernaryTensor:$b,
                   QAF_QuantFormatAttr:$format,
                   QAF_PositiveFiniteF64Attr:$omega);
  let results = (outs QAF_TernaryTensor:$moves,
                      QAF_FloatTensor:$moved_zero_points);
}

def QAF_L4QQuantizeOp : QAF_Op<"l4q_quantize"> {
  let summary = "L4Q's fake quantizer: u and w̃ of W0ᵀ + α·B·A";
  let description = [{
    METHODS.md §2 with the operands and attributes of `qaf.l4q_linear`:
    `normalized` is u = (W0ᵀ + α·B·A − β)/s and `codes` is
    w̃ = round(clamp(u, Q_N, Q_P)) (float integers), both [N, K]: what the
    straight-through gradients of L4Q read (the layer's weight is
    W_q = s·w̃ + β). One layer's dense weight, formed for its backward.
    ```mlir
    %u, %codes = qaf.l4q_quantize %w, %a, %b, %s, %beta
        {alpha = 1.0 : f64, bits = 4 : i64, group_size = 32 : i64}
      : (tensor<96x40xf32>, tensor<4x96xf32>, tensor<40x4xf32>,
         tensor<40x3xf32>, tensor<40x3xf32>)
        -> (tensor<40x96xf32>, tensor<40x96xf32>)
    ```
  }];
  let arguments = (ins QAF_FloatTensor:$weight, QAF_FloatTensor:$a,
                   QAF_FloatTensor:$b, QAF_FloatTensor:$scales,
                   QAF_FloatTensor:$offsets, QAF_BitsAttr:$bits,
                   QAF_PositiveI64Attr:$group_size, QAF_FiniteF64Attr:$alpha);
  let results = (outs QAF_FloatTensor:$normalized, QAF_FloatTensor:$codes);
}

def QAF_AdapterGradientsOp : QAF_Op<"adapter_gradients"> {
  let summary = "LoTA-QAF's or L4Q's parameter gradients, from g and x";
  let description = [{
    What the gradient rules of `qaf.lota_linear` and `qaf.l4q_linear` emit
    in f32: the gradients `qaf.kernel.adapter_gradients` (same `method`,
    operands and attributes; see there) accumulates, here starting from
    zero, so the op reads no destination and the training step's zeros are
    never weights. The lowering fills the kernel op's inits with zeros; it
    verifies the operands (this op has no verifier of its own).
    ```mlir
    %da, %db = qaf.adapter_gradients "lota" group_size(32) coefficient(3.0)
        ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>,
            tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>)
        -> tensor<4x64xf32>, tensor<8x4xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, StrAttr:$method,
                   QAF_PositiveI64Attr:$group_size, F64Attr:$coefficient,
                   OptionalAttr<QAF_BitsAttr>:$bits);
  let results = (outs Variadic<TensorRankOf<[F32], [2]>>:$gradients);
  let assemblyFormat = [{
    $method `group_size` `(` $group_size `)`
    `coefficient` `(` $coefficient `)` (`bits` `(` $bits^ `)`)?
    `ins` `(` $inputs `:` type($inputs) `)` attr-dict `->` type($gradients)
  }];
  let hasVerifier = 0;
}

// Micro-kernel ops: computations a target may hand to a library kernel.
include "qaf/dialects/qaf/QAFKernelOps.td"

// Optimizer updates of a training step.
include "qaf/dialects/qaf/QAFTrainingOps.td"

// Run-time checks: conditions on the inputs that only the run can decide.
def QAF_CheckOp : Op<QAF_Dialect, "check", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "a run-time check reported through the error channel";
  let description = [{
    Checks that `condition` holds when the model runs. When it does not,
    the entry point returns a non-zero status (`code`: 1 for an input the
    model cannot run on, 2 for a failed allocation) with `message`, in
    which `{0}`, `{1}` and `{2}` stand for the `values` (at most three, as
    signed decimals), and skips the work that follows the check
    (docs/artifact-abi.md, "Calling an entry point"). The lowering of an
    ONNX node starts the message with the node's op type and name.

    ```mlir
    qaf.check %inRange, "Gather node 'embed': index {0} is out of range"
        (%index : i64)
    ```
  }];
  let arguments = (ins I1:$condition,
                   Variadic<AnySignlessIntegerOrIndex>:$values,
                   StrAttr:$message,
                   DefaultValuedAttr<I32Attr, "1">:$code);
  let assemblyFormat = [{
    $condition `,` $message (`(` $values^ `:` type($values) `)`)? attr-dict
  }];
  let hasVerifier = 1;
  let hasCanonicalizeMethod = 1;
}

#endif // QAF_DIALECTS_QAF_QAFOPS_TD
