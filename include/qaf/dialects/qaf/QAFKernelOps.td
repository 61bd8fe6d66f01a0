//===- QAFKernelOps.td - computations a target may call a kernel for ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Micro-kernel ops, as IREE's `iree_codegen.ukernel.*`: the shared lowering
// states that a computation is one a library kernel implements by emitting
// an op, not by tagging a linalg op with a discardable attribute that any
// pass rebuilding the linalg op would drop. The ops are destination-passing
// on tensors and on buffers; a target with the kernel turns the bufferized
// op into a call (the CPU: qaf-linalg-to-cpu-kernels), any other decomposes
// it into its reference linalg.generic (qaf-decompose-kernel-ops).
// Included by QAFOps.td, after the dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_QAF_QAFKERNELOPS_TD
#define QAF_DIALECTS_QAF_QAFKERNELOPS_TD

include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Matrices as a kernel reads them, on tensors or on buffers.
def QAF_KernelF32Matrix
    : AnyTypeOf<[TensorRankOf<[F32], [2]>, MemRefRankOf<[F32], [2]>]>;
def QAF_KernelByteMatrix
    : AnyTypeOf<[TensorRankOf<[AnyI8], [2]>, MemRefRankOf<[AnyI8], [2]>]>;
def QAF_KernelF32Vector
    : AnyTypeOf<[TensorRankOf<[F32], [1]>, MemRefRankOf<[F32], [1]>]>;

def QAF_QLinearKernelOp : Op<QAF_Dialect, "kernel.qlinear", [
    DestinationStyleOpInterface, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "init += x · dequant(W)ᵀ, computed by the qaf_qlinear kernel";
  let description = [{
    A quantized linear layer's contraction over (m, n, k):
    `init[m, n] += Σ_k input[m, k] · s[n, k/g] · ((q[n, k] + moves[n, k]) −
    z[n, k/g])`, with `g` = `group_size`, `s` and `z` the `scales` and
    `zero_points` [N, K/g] (zero points may be one row [1, K/g] that every
    row reads), and `q` the codes: `codes` is [N, K·bits/8]
    bytes, a bit stream per row with the first code in the lowest bits.
    `moves` (LoTA-QAF's ternary update Ŵ, int8 [N, K]) is optional.
    A NormalFloat layer has a `codebook` (f32 [2^bits]) instead of zero
    points, and its weight is `s[n, k/g] · codebook[q[n, k]]`.
    With `transpose_weight`, the product is with W itself (a layer's input
    gradient): `init[m, k] += Σ_n input[m, n] · w[n, k]`, `input` [M, N]
    and `init` [M, K].

    Only what the kernel computes is admitted: f32 activations, scales,
    zero points, codebook and accumulator; zero points or a codebook of
    2^bits entries, one of them, and no moves with a codebook; 2, 3, 4 or 8
    bits; groups of whole bytes (`group_size`·`bits` a multiple of 8). The weights have static shapes;
    M (and K in `input`'s type) may be dynamic. On buffers every operand's
    rows are contiguous (unit innermost stride): the kernel takes one row
    stride per operand, so bufferization copies any other buffer into one
    that is.

    With `int8_activations` (a layer whose MatMulNBits asked for
    accuracy_level 4, compiled with `int8-activations`), the CPU rounds each
    group of features of a row of `input` to int8 as ONNX Runtime does
    (`qaf_qlinear_int8`, where its AVX512-VNNI path serves; the exact
    product elsewhere, and on other targets); not with `transpose_weight`.

    The CPU pipeline replaces the bufferized op by a call of `qaf_qlinear`
    (lib/Runtime/CPU/Kernels/QLinear.cpp); `qaf-decompose-kernel-ops`
    rebuilds the reference linalg.generic for targets without the kernel.

    ```mlir
    %y = qaf.kernel.qlinear bits(4) group_size(64)
           input(%x : tensor<?x128xf32>) scales(%s : tensor<8x2xf32>)
           zero_points(%z : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>)
           outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins QAF_KernelF32Matrix:$input,
                   QAF_KernelF32Matrix:$scales,
                   Optional<QAF_KernelF32Matrix>:$zero_points,
                   Optional<QAF_KernelByteMatrix>:$moves,
                   Optional<QAF_KernelF32Vector>:$codebook,
                   QAF_KernelByteMatrix:$codes,
                   QAF_KernelF32Matrix:$init,
                   ConfinedAttr<I64Attr, [IntIsOneOf<[2, 3, 4, 8]>]>:$bits,
                   ConfinedAttr<I64Attr, [IntPositive]>:$group_size,
                   UnitAttr:$transpose_weight,
                   UnitAttr:$int8_activations);
  let results = (outs Optional<TensorRankOf<[F32], [2]>>:$result);
  let assemblyFormat = [{
    `bits` `(` $bits `)` `group_size` `(` $group_size `)`
    `input` `(` $input `:` type($input) `)`
    `scales` `(` $scales `:` type($scales) `)`
    (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    (`moves` `(` $moves^ `:` type($moves) `)`)?
    (`codebook` `(` $codebook^ `:` type($codebook) `)`)?
    `codes` `(` $codes `:` type($codes) `)`
    `outs` `(` $init `:` type($init) `)`
    (`transpose_weight` $transpose_weight^)?
    (`int8_activations` $int8_activations^)?
    attr-dict (`->` type($result)^)?
  }];
  let builders = [
    // The result is `init`'s type on tensors, none on buffers; null
    // `zeroPoints`, `moves` or `codebook` are absent.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$scales,
                   "::mlir::Value":$zeroPoints, "::mlir::Value":$moves,
                   "::mlir::Value":$codebook, "::mlir::Value":$codes,
                   "::mlir::Value":$init, "int64_t":$bits,
                   "int64_t":$groupSize,
                   CArg<"bool", "false">:$transposeWeight,
                   CArg<"bool", "false">:$int8Activations)>
  ];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitMutable();
    }
    /// Whether the kernel can read (or write) a buffer of this type: its
    /// rows must be contiguous (unit innermost stride).
    static bool isKernelReadable(::mlir::MemRefType type);
    /// Whether the zero points are one row [1, K/g] that every row reads
    /// (row stride 0 for the kernels).
    bool hasSharedZeroPointRow() {
      ::mlir::Value zeroPoints = getZeroPoints();
      return zeroPoints &&
             ::mlir::cast<::mlir::ShapedType>(zeroPoints.getType())
                     .getDimSize(0) == 1;
    }
  }];
  let hasVerifier = 1;
}

def QAF_AdapterGradientsKernelOp : Op<QAF_Dialect, "kernel.adapter_gradients", [
    DestinationStyleOpInterface, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "LoTA-QAF's or L4Q's factor gradients, by qaf's kernel";
  let description = [{
    The straight-through gradients of a LoTA-QAF or L4Q layer's trainable
    parameters (../shared/METHODS.md §1, §2), accumulated into `inits`,
    from the layer's output gradient `g` [M, N] and input `x` [M, K], with
    Gw = gᵀ · x [N, K] and `g_s` = `group_size`:

    - `method = "lota"`: `inputs` = (g, x, scales [N, K/g_s], A_T [r, K]
      i8, B_T [N, r] i8), `inits` = (∂A_T [r, K], ∂B_T [N, r]), and
      `coefficient` ω: with D = s⊙Gw + (1/ω)·P_g(s⊙Gw),
      ∂A_T += B_Tᵀ · D, ∂B_T += D · A_Tᵀ.
    - `method = "l4q"`: `inputs` = (g, x, u [N, K], w̃ [N, K], A [r, K],
      B [N, r]), `inits` = (∂A, ∂B, ∂s, ∂β; the last two [N, K/g_s]),
      `bits`, and `coefficient` α: with M = [Q_N ≤ u ≤ Q_P],
      ∂A += α·Bᵀ(M⊙Gw), ∂B += α·(M⊙Gw)·Aᵀ, ∂s += Σ_group Gw⊙(w̃ − M⊙u),
      ∂β += Σ_group Gw⊙(1 − M).

    The CPU pipeline calls `qaf_lota_factor_gradients` or
    `qaf_l4q_gradients` (lib/Runtime/CPU/Kernels/AdapterGradients.cpp),
    which never form Gw whole; `qaf-decompose-kernel-ops` rebuilds the
    reference linalg ops (Gw, then D, then the two products) for targets
    without them. f32 throughout; N, K and r static, M may be dynamic.

    ```mlir
    %da, %db = qaf.kernel.adapter_gradients "lota" group_size(32)
        coefficient(3.0)
        ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>,
            tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>)
        outs(%da0, %db0 : tensor<4x64xf32>, tensor<8x4xf32>)
        -> tensor<4x64xf32>, tensor<8x4xf32>
    ```
  }];
  let arguments = (ins
      Variadic<AnyTypeOf<[QAF_KernelF32Matrix, QAF_KernelByteMatrix]>>:$inputs,
      Variadic<QAF_KernelF32Matrix>:$inits,
      StrAttr:$method,
      ConfinedAttr<I64Attr, [IntPositive]>:$group_size,
      F64Attr:$coefficient,
      OptionalAttr<ConfinedAttr<I64Attr, [IntIsOneOf<[2, 3, 4, 8]>]>>:$bits);
  let results = (outs Variadic<TensorRankOf<[F32], [2]>>:$results);
  let assemblyFormat = [{
    $method `group_size` `(` $group_size `)`
    `coefficient` `(` $coefficient `)` (`bits` `(` $bits^ `)`)?
    `ins` `(` $inputs `:` type($inputs) `)`
    `outs` `(` $inits `:` type($inits) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitsMutable();
    }
    bool isLoTA() { return getMethod() == "lota"; }
    /// The operands by role (both methods start with g and x).
    ::mlir::Value getOutputGradient() { return getInputs()[0]; }
    ::mlir::Value getLayerInput() { return getInputs()[1]; }
    /// A and B: the last two inputs.
    ::mlir::Value getA() { return getInputs()[getInputs().size() - 2]; }
    ::mlir::Value getB() { return getInputs().back(); }
  }];
  let hasVerifier = 1;
}

def QAF_KernelF32Rank4
    : AnyTypeOf<[TensorRankOf<[F32], [4]>, MemRefRankOf<[F32], [4]>]>;

def QAF_AttentionKernelOp : Op<QAF_Dialect, "kernel.attention", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "init = softmax(q · kᵀ · scale + bias) · v, one fused kernel";
  let description = [{
    Scaled dot-product attention over (b, h, s, t, d), written into `init`
    (whose values are not read):
    `scores[b, h, s, t] = scale · Σ_d query[b, h, s, d] · key[b, h/g, t, d]
    + bias[b, h, s, t]`, `init[b, h, s, e] = Σ_t softmax_t(scores)[b, h, s,
    t] · value[b, h/g, t, e]`, with `query` [B, H, S, D], `key` [B', H/g,
    T, D], `value` [B', H/g, T, E], `init` [B, H, S, E] and the optional
    `bias` (an additive mask) broadcast to [B, H, S, T]. Query head h reads
    key and value head h / g, g = H / (key heads): grouped-query attention
    without repeated keys. A key and value batch B' of 1 and any bias
    dimension of 1 broadcast (numpy's rule; any other size must be the full
    one). The
    softmax is the ONNX operator's (the maximum subtracted); a row whose
    scores are all -inf gives NaN, as it does there, or, with
    `zero_nan_rows`, 0: a row's softmax is NaN exactly when its largest
    score is not finite (every key masked, or an infinite or NaN score),
    and transformers' exports zero those probabilities
    (`Where(IsNaN(p), 0, p)`).

    The CUDA target's qaf-cuda-kernels launches one kernel that computes a
    query row's scores, softmax and weighted sum of the values without
    writing the scores anywhere; `qaf-decompose-kernel-ops` rebuilds the
    unfused linalg for any other target. Made by `qaf-fuse-attention` from
    the MatMul, scale, mask, Softmax, MatMul chain exporters write.

    ```mlir
    %o = qaf.kernel.attention scale(0.25)
           ins(%q, %k, %v, %mask : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>,
               tensor<?x2x?x16xf32>, tensor<?x1x?x?xf32>)
           outs(%init : tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
    ```
  }];
  let arguments = (ins Variadic<QAF_KernelF32Rank4>:$inputs,
                   QAF_KernelF32Rank4:$init,
                   F64Attr:$scale,
                   UnitAttr:$zero_nan_rows);
  let results = (outs Optional<TensorRankOf<[F32], [4]>>:$result);
  let assemblyFormat = [{
    `scale` `(` $scale `)` (`zero_nan_rows` $zero_nan_rows^)?
    `ins` `(` $inputs `:` type($inputs) `)`
    `outs` `(` $init `:` type($init) `)`
    attr-dict (`->` type($result)^)?
  }];
  let builders = [
    // The result is `init`'s type on tensors, none on buffers; a null
    // `bias` is absent.
    OpBuilder<(ins "::mlir::Value":$query, "::mlir::Value":$key,
                   "::mlir::Value":$value, "::mlir::Value":$bias,
                   "::mlir::Value":$init, "double":$scale,
                   CArg<"bool", "false">:$zeroNanRows)>
  ];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitMutable();
    }
    ::mlir::Value getQuery() { return getInputs()[0]; }
    ::mlir::Value getKey() { return getInputs()[1]; }
    ::mlir::Value getValue() { return getInputs()[2]; }
    /// The additive mask, or null.
    ::mlir::Value getBias() {
      return getInputs().size() > 3 ? getInputs()[3] : ::mlir::Value();
    }
    /// The query or the value when its head size is dynamic or not from 1
    /// to `largest` (what a target's kernel takes), else null.
    ::mlir::Value getHeadSizeOutside(int64_t largest) {
      for (::mlir::Value operand : {getQuery(), getValue()}) {
        int64_t size =
            ::mlir::cast<::mlir::ShapedType>(operand.getType()).getDimSize(3);
        if (::mlir::ShapedType::isDynamic(size) || size < 1 || size > largest)
          return operand;
      }
      return {};
    }
  }];
  let hasVerifier = 1;
}

#endif // QAF_DIALECTS_QAF_QAFKERNELOPS_TD
