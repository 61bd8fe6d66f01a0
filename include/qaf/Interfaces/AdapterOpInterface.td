//===- AdapterOpInterface.td - what every adapter op offers -*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The six adapter ops (LoTA-QAF, L4Q, LoRA, QA-LoRA, QA-HiRA, Q-BaRA) seen
// the same way by the lowering, the gradient rules and the merge
// (../shared/METHODS.md §7). Two interfaces, one per layer:
//
// - AdapterOpInterface, implemented by the ops in the qaf dialect: which
//   operand is the activation, which are the frozen base and which are
//   trained, whether the output is Δy or the whole layer's, how it merges.
// - AdapterAlgebraOpInterface, the method's algebra (ΔW, the output) built
//   as linalg on tensors. It needs the lowering's builders, so it is
//   implemented as external models next to them (the dialect promises it);
//   AdapterOpInterface's buildDeltaW/buildOutput forward to it, so callers
//   need only the one interface.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_INTERFACES_ADAPTEROPINTERFACE_TD
#define QAF_INTERFACES_ADAPTEROPINTERFACE_TD

include "mlir/IR/OpBase.td"

// Declared first: AdapterOpInterface forwards to it.
def AdapterAlgebraOpInterface : OpInterface<"AdapterAlgebraOpInterface"> {
  let cppNamespace = "::qaf";
  let description = [{
    The builders behind AdapterOpInterface's buildDeltaW and buildOutput
    (see there), implemented as external models by the library that owns
    the linalg builders. Call them through AdapterOpInterface.
  }];

  let methods = [
    InterfaceMethod<"See AdapterOpInterface::buildDeltaW.",
      "::mlir::FailureOr<::mlir::Value>", "buildDeltaW",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands)>,
    InterfaceMethod<"See AdapterOpInterface::buildOutput.",
      "::mlir::FailureOr<::mlir::Value>", "buildOutput",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands,
           "::mlir::RankedTensorType":$resultType)>,
  ];
}

def AdapterOpInterface : OpInterface<"AdapterOpInterface"> {
  let cppNamespace = "::qaf";
  let description = [{
    A linear layer's adapter: an op whose operands are the activation x, the
    frozen base weights (if the op carries them) and the trainable
    parameters, and whose attributes fix the method's hyper-parameters.
    Trainable parameters are recognised through this interface (see
    `qaf::getTrainableValues`), never by the names of their blobs.
  }];

  let methods = [
    InterfaceMethod<[{
        The activation x, [..., K].
      }],
      "::mlir::Value", "getAdapterInput">,
    InterfaceMethod<[{
        The frozen base weights the op reads: codes, scales and zero points
        for LoTA-QAF, W0 for L4Q. Empty for the additive adapters (LoRA,
        QA-LoRA, QA-HiRA, Q-BaRA), whose base is the separate layer their Δy
        is added to.
      }],
      "::llvm::SmallVector<::mlir::Value>", "getBaseOperands">,
    InterfaceMethod<[{
        The parameters training updates: LoTA-QAF A_T, B_T; L4Q A, B,
        scales, offsets; LoRA, QA-LoRA and Q-BaRA A, B; QA-HiRA M.
      }],
      "::llvm::SmallVector<::mlir::Value>", "getTrainableOperands">,
    InterfaceMethod<[{
        True when the result is an update Δy added to a base layer's output
        (LoRA, QA-LoRA, QA-HiRA, Q-BaRA); false when it is the whole layer's
        output (LoTA-QAF, L4Q).
      }],
      "bool", "isAdditive">,
    InterfaceMethod<[{
        How the trained adapter merges into the quantized weight.
      }],
      "::qaf::AdapterMerge", "getMergeKind">,
    InterfaceMethod<[{
        Merges the trained adapter into `layer` (METHODS.md §1–§4), through
        the arithmetic of qaf/Quant/Merge.h. On entry `layer` is the
        quantized base (LoTA-QAF's own codes, scales and zero points; the
        qaf.qlinear an additive adapter's Δy is added to) or, for L4Q, only
        its rows, cols and format; on success it is the merged layer.
        `values` holds the host bytes of the op's operands. A lossy merge
        (LossyRequantize) requantizes and records its error in `report`.
        The error names what is wrong (a ternary entry outside {-1, 0, 1},
        a code pushed out of range); nothing is clamped.
      }],
      "::llvm::Error", "mergeInto",
      (ins "const ::qaf::AdapterMergeValues &":$values,
           "::qaf::quant::QuantizedMatrix &":$layer,
           "::qaf::quant::MergeReport &":$report)>,
    InterfaceMethod<[{
        The update as two float factors, Δy = (x · first) · second with
        `first` [K, r'] and `second` [r', N] (pooling and scale folded in),
        for a graph that keeps a lossy adapter in float instead of merging
        it. Only LossyRequantize adapters offer it.
      }],
      "::llvm::Error", "getFloatFactors",
      (ins "const ::qaf::AdapterMergeValues &":$values, "int64_t":$n,
           "int64_t":$k, "::std::vector<float> &":$first,
           "::std::vector<float> &":$second),
      /*methodBody=*/[{}], /*defaultImplementation=*/[{
        return ::llvm::createStringError(
            "the adapter merges into the quantized weight; it has no float "
            "factors to keep");
      }]>,
    InterfaceMethod<[{
        The factor product that is the method's weight update, in the
        method's own coordinates and before its scale (linalg on tensors):
        LoTA-QAF ΔW = B_T·A_T [N, K] (i32, integers in [−r, r]); L4Q B·A
        [N, K] (α scales it); LoRA B·A [N, K]; QA-LoRA B·A [N, K/g] (one
        column per group); QA-HiRA M [N/λ, K/g]; Q-BaRA B·A [N/λ, K/λ].
        `operands` are the op's operands or their type-converted
        replacements, in the op's order. The builders create arith,
        linalg, math and tensor ops: the calling pass must load those
        dialects.
      }],
      "::mlir::FailureOr<::mlir::Value>", "buildDeltaW",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands),
      /*methodBody=*/[{}], /*defaultImplementation=*/[{
        return ::llvm::cast<::qaf::AdapterAlgebraOpInterface>(
                   $_op.getOperation())
            .buildDeltaW(builder, loc, operands);
      }]>,
    InterfaceMethod<[{
        The op's result of type `resultType` (Δy for an additive adapter,
        y otherwise) computed from `operands` (as for buildDeltaW): what
        the lowering replaces the op with.
      }],
      "::mlir::FailureOr<::mlir::Value>", "buildOutput",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands,
           "::mlir::RankedTensorType":$resultType),
      /*methodBody=*/[{}], /*defaultImplementation=*/[{
        return ::llvm::cast<::qaf::AdapterAlgebraOpInterface>(
                   $_op.getOperation())
            .buildOutput(builder, loc, operands, resultType);
      }]>,
  ];
}

#endif // QAF_INTERFACES_ADAPTEROPINTERFACE_TD
