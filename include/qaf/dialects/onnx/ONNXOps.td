//===- ONNXOps.td - the onnx dialect -----------------------*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The `onnx` dialect mirrors ONNX operators one to one: op names are the ONNX
// op types (`onnx.MatMul`), ops of another domain carry it in their name
// (`onnx.com.microsoft.MatMulNBits`), operands and results are in ONNX order,
// and attributes keep their ONNX names and kinds. That makes import and export
// mechanical:
//
//   ONNX attribute kind   MLIR attribute
//   INT                   IntegerAttr (i64)
//   FLOAT                 FloatAttr (f32)
//   STRING                StringAttr
//   INTS                  DenseI64ArrayAttr
//   FLOATS                DenseF32ArrayAttr
//   TENSOR                ElementsAttr
//
// An omitted optional input is the result of `onnx.NoValue` (type `none`).
// Optional attributes are `DefaultValuedOptionalAttr`: absent from the IR
// when absent from the model, so a round trip writes back what was read.
// The semantics are those of the newest opset qaf knows; the importer rewrites
// older forms (attributes that later became inputs, pre-13 Softmax) on entry.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_ONNX_ONNXOPS_TD
#define QAF_DIALECTS_ONNX_ONNXOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "qaf/dialects/onnx/ONNXInterfaces.td"

def ONNX_Dialect : Dialect {
  let name = "onnx";
  let cppNamespace = "::qaf::onnx";
  let summary = "ONNX operators, one MLIR op per ONNX op type";
  let description = [{
    A faithful image of an ONNX graph: import and export are mechanical, and
    a graph that only contains `onnx` ops exports back to a standard ONNX
    model. Quantized weights, adapters and training live in the `qaf`
    dialect instead.
  }];
  let hasConstantMaterializer = 1;
  // Attributes stay in the attribute dictionary: the importer and exporter
  // treat every op generically by attribute name and kind.
  let usePropertiesForAttributes = 0;
  let extraClassDeclaration = [{
    /// Largest opset of the default domain whose semantics qaf implements.
    static constexpr int64_t kMaxOpset = 25;
    /// Smallest opset of the default domain the importer accepts.
    static constexpr int64_t kMinOpset = 1;
  }];
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def ONNX_TensorOrNone : AnyTypeOf<[AnyTensor, NoneType], "tensor or none">;

//===----------------------------------------------------------------------===//
// Semantic traits
//===----------------------------------------------------------------------===//

// Each result element is a function of the operand elements at the same
// index (after broadcasting, where the op broadcasts): the lowering turns the
// op into one all-parallel linalg.generic around a scalar body, and the
// gradient rules of these ops differentiate that scalar function. Every
// operand is data of the function (no shape, axes or type operands).
// C++: qaf::onnx::OpTrait::Elementwise (ONNXTraits.h).
def ONNX_Elementwise : NativeOpTrait<"Elementwise"> {
  let cppNamespace = "::qaf::onnx::OpTrait";
}

// The operands broadcast together as ONNX's "multidirectional (NumPy-style)
// broadcasting" says: shapes align at their last dim and a size-1 or missing
// dim stretches to the others'. Shape inference, the lowering and the
// gradient rules (which sum a result gradient back over the broadcast dims
// of each operand) share one implementation of the rule, ONNXShapeHelpers.h.
// C++: qaf::onnx::OpTrait::MultidirectionalBroadcast (ONNXTraits.h).
def ONNX_MultidirectionalBroadcast
    : NativeOpTrait<"MultidirectionalBroadcast", [ONNX_Elementwise]> {
  let cppNamespace = "::qaf::onnx::OpTrait";
}

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

class ONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<ONNX_Dialect, mnemonic, !listconcat(traits, [
          Pure, DeclareOpInterfaceMethods<ONNX_ShapeInferenceOpInterface>])>;

// Element-wise ops of one operand (no broadcasting to speak of).
class ONNX_UnaryOp<string mnemonic, string summaryText, list<Trait> traits = []>
    : ONNX_Op<mnemonic, !listconcat(traits, [ONNX_Elementwise])> {
  let summary = summaryText;
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Binary ops with NumPy-style (multidirectional) broadcasting.
class ONNX_BinaryOp<string mnemonic, string summaryText, list<Trait> traits = []>
    : ONNX_Op<mnemonic, !listconcat(traits, [ONNX_Elementwise,
                                             ONNX_MultidirectionalBroadcast])> {
  let summary = summaryText;
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$C);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Graph plumbing
//===----------------------------------------------------------------------===//

def ONNX_NoValueOp : Op<ONNX_Dialect, "NoValue", [Pure, ConstantLike]> {
  let summary = "an omitted optional input";
  let description = [{
    Stands for an empty input name in an ONNX node. Exported as `""`.
  }];
  let results = (outs NoneType:$none);
  let assemblyFormat = "attr-dict";
  let hasFolder = 1;
}

def ONNX_ConstantOp : ONNX_Op<"Constant", [ConstantLike]> {
  let summary = "a constant tensor (an ONNX initializer or Constant node)";
  let description = [{
    Every initializer and every `Constant` node becomes one. Small tensors
    are dense elements; large ones are `dense_resource` blobs that alias the
    loaded file (or external data file) instead of copying it, and are
    elided from text output. The other value forms of ONNX `Constant`
    (`value_float`, `value_ints`, ...) are normalised to `value`.
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

// Not ONNX_Elementwise: it forwards its input rather than computing anything.
def ONNX_IdentityOp : ONNX_Op<"Identity"> {
  let summary = "identity";
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Element-wise arithmetic
//===----------------------------------------------------------------------===//

def ONNX_AddOp : ONNX_BinaryOp<"Add", "element-wise addition", [Commutative]> {
  let hasFolder = 1;
}
def ONNX_SubOp : ONNX_BinaryOp<"Sub", "element-wise subtraction"> {
  let hasFolder = 1;
}
def ONNX_MulOp : ONNX_BinaryOp<"Mul", "element-wise multiplication", [Commutative]> {
  let hasFolder = 1;
}
def ONNX_DivOp : ONNX_BinaryOp<"Div", "element-wise division"> {
  let hasFolder = 1;
}
def ONNX_PowOp : ONNX_Op<"Pow", [ONNX_Elementwise,
                                        ONNX_MultidirectionalBroadcast]> {
  let summary = "element-wise power; the exponent type may differ";
  let arguments = (ins AnyTensor:$X, AnyTensor:$Y);
  let results = (outs AnyTensor:$Z);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}
def ONNX_EqualOp : ONNX_BinaryOp<"Equal", "element-wise ==, bool result", [Commutative]> {
  let hasFolder = 1;
}
def ONNX_LessOp : ONNX_BinaryOp<"Less", "element-wise <, bool result"> {
  let hasFolder = 1;
}
def ONNX_LessOrEqualOp : ONNX_BinaryOp<"LessOrEqual", "element-wise <=, bool result">;
def ONNX_GreaterOp : ONNX_BinaryOp<"Greater", "element-wise >, bool result"> {
  let hasFolder = 1;
}
def ONNX_GreaterOrEqualOp : ONNX_BinaryOp<"GreaterOrEqual", "element-wise >=, bool result">;
def ONNX_AndOp : ONNX_BinaryOp<"And", "element-wise logical and", [Commutative]>;
def ONNX_OrOp : ONNX_BinaryOp<"Or", "element-wise logical or", [Commutative]>;

def ONNX_SqrtOp : ONNX_UnaryOp<"Sqrt", "element-wise square root">;
def ONNX_ReciprocalOp : ONNX_UnaryOp<"Reciprocal", "element-wise 1/x">;
def ONNX_NegOp : ONNX_UnaryOp<"Neg", "element-wise negation"> {
  let hasFolder = 1;
}
def ONNX_AbsOp : ONNX_UnaryOp<"Abs", "element-wise absolute value">;
def ONNX_ExpOp : ONNX_UnaryOp<"Exp", "element-wise e^x"> {
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$output);
}
def ONNX_LogOp : ONNX_UnaryOp<"Log", "element-wise natural logarithm"> {
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$output);
}
def ONNX_TanhOp : ONNX_UnaryOp<"Tanh", "element-wise tanh"> {
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$output);
}
def ONNX_ErfOp : ONNX_UnaryOp<"Erf", "element-wise error function"> {
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$output);
}
def ONNX_SigmoidOp : ONNX_UnaryOp<"Sigmoid", "element-wise logistic function">;
def ONNX_ReluOp : ONNX_UnaryOp<"Relu", "element-wise max(x, 0)">;
def ONNX_CosOp : ONNX_UnaryOp<"Cos", "element-wise cosine"> {
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$output);
}
def ONNX_SinOp : ONNX_UnaryOp<"Sin", "element-wise sine"> {
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$output);
}
def ONNX_NotOp : ONNX_UnaryOp<"Not", "element-wise logical not">;
def ONNX_IsNaNOp : ONNX_Op<"IsNaN", [ONNX_Elementwise]> {
  let summary = "element-wise NaN test, bool result (opset 20)";
  let description = [{
    True where the float element X is a NaN of any payload or sign. Opset 20
    takes every float type (float, double, float16, bfloat16 and the float8
    kinds; qaf imports those it has element types for); the result is bool
    with X's shape. Exporters write it for the masks of attention
    (`torch.where(isnan(scores), 0, scores)`).
  }];
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_GeluOp : ONNX_Op<"Gelu", [ONNX_Elementwise]> {
  let summary = "Gaussian error linear unit (opset 20)";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedOptionalAttr<StrAttr, "\"none\"">:$approximate);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_SoftmaxOp : ONNX_Op<"Softmax"> {
  let summary = "softmax along one axis (opset 13 semantics)";
  let arguments = (ins AnyTensor:$input,
                   DefaultValuedOptionalAttr<I64Attr, "-1">:$axis);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_LogSoftmaxOp : ONNX_Op<"LogSoftmax"> {
  let summary = "log of softmax along one axis (opset 13 semantics)";
  let arguments = (ins AnyTensor:$input,
                   DefaultValuedOptionalAttr<I64Attr, "-1">:$axis);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_MaxOp : ONNX_Op<"Max", [ONNX_Elementwise,
                                        ONNX_MultidirectionalBroadcast]> {
  let summary = "element-wise maximum of any number of inputs";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$max);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_MinOp : ONNX_Op<"Min", [ONNX_Elementwise,
                                        ONNX_MultidirectionalBroadcast]> {
  let summary = "element-wise minimum of any number of inputs";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$min);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_ClipOp : ONNX_Op<"Clip"> {
  let summary = "clamp to [min, max] (opset 11+: bounds are inputs)";
  let arguments = (ins AnyTensor:$input, ONNX_TensorOrNone:$min,
                   ONNX_TensorOrNone:$max);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def ONNX_WhereOp : ONNX_Op<"Where", [ONNX_Elementwise,
                                        ONNX_MultidirectionalBroadcast]> {
  let summary = "select X where condition, else Y (broadcasting)";
  let arguments = (ins AnyTensor:$condition, AnyTensor:$X, AnyTensor:$Y);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def ONNX_CastOp : ONNX_Op<"Cast"> {
  let summary = "element type conversion";
  let description = [{
    `to` is an ONNX `TensorProto.DataType` code. `saturate` only affects
    float8 targets; `round_mode` is the opset-24 rounding of float8 casts.
  }];
  let arguments = (ins AnyTensor:$input, I64Attr:$to,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$saturate,
                   OptionalAttr<StrAttr>:$round_mode);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def ONNX_CastLikeOp : ONNX_Op<"CastLike"> {
  let summary = "cast to the element type of another tensor";
  let arguments = (ins AnyTensor:$input, AnyTensor:$target_type,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$saturate,
                   OptionalAttr<StrAttr>:$round_mode);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def ONNX_MatMulOp : ONNX_Op<"MatMul"> {
  let summary = "NumPy matmul (batched, broadcasting batch dimensions)";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_GemmOp : ONNX_Op<"Gemm"> {
  let summary = "Y = alpha * op(A) * op(B) + beta * C (2-D)";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B, ONNX_TensorOrNone:$C,
                   DefaultValuedOptionalAttr<F32Attr, "1.0">:$alpha,
                   DefaultValuedOptionalAttr<F32Attr, "1.0">:$beta,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$transA,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$transB);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_MatMulIntegerOp : ONNX_Op<"MatMulInteger"> {
  let summary = "integer matmul with zero points, int32 result";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B,
                   ONNX_TensorOrNone:$a_zero_point,
                   ONNX_TensorOrNone:$b_zero_point);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def ONNX_TransposeOp : ONNX_Op<"Transpose"> {
  let summary = "permute dimensions (default: reverse them)";
  let arguments = (ins AnyTensor:$data, OptionalAttr<DenseI64ArrayAttr>:$perm);
  let results = (outs AnyTensor:$transposed);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def ONNX_ReshapeOp : ONNX_Op<"Reshape"> {
  let summary = "reshape to a shape given as an int64 tensor";
  let arguments = (ins AnyTensor:$data, AnyTensor:$shape,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$allowzero);
  let results = (outs AnyTensor:$reshaped);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def ONNX_FlattenOp : ONNX_Op<"Flatten"> {
  let summary = "flatten to 2-D around an axis";
  let arguments = (ins AnyTensor:$input,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$axis);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_SqueezeOp : ONNX_Op<"Squeeze"> {
  let summary = "remove size-1 dimensions (opset 13+: axes is an input)";
  let arguments = (ins AnyTensor:$data, ONNX_TensorOrNone:$axes);
  let results = (outs AnyTensor:$squeezed);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def ONNX_UnsqueezeOp : ONNX_Op<"Unsqueeze"> {
  let summary = "insert size-1 dimensions (opset 13+: axes is an input)";
  let arguments = (ins AnyTensor:$data, AnyTensor:$axes);
  let results = (outs AnyTensor:$expanded);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def ONNX_ConcatOp : ONNX_Op<"Concat"> {
  let summary = "concatenate along an axis";
  let arguments = (ins Variadic<AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyTensor:$concat_result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def ONNX_SplitOp : ONNX_Op<"Split"> {
  let summary = "split along an axis (opset 13+: sizes are an input)";
  let arguments = (ins AnyTensor:$input, ONNX_TensorOrNone:$split,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$axis,
                   OptionalAttr<I64Attr>:$num_outputs);
  let results = (outs Variadic<AnyTensor>:$outputs);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_SliceOp : ONNX_Op<"Slice"> {
  let summary = "strided slice (opset 10+: bounds are inputs)";
  let arguments = (ins AnyTensor:$data, AnyTensor:$starts, AnyTensor:$ends,
                   ONNX_TensorOrNone:$axes, ONNX_TensorOrNone:$steps);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def ONNX_GatherOp : ONNX_Op<"Gather"> {
  let summary = "gather slices along an axis (embedding lookup)";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$axis);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def ONNX_GatherElementsOp : ONNX_Op<"GatherElements"> {
  let summary = "element-wise gather along an axis";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$axis);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_GatherNDOp : ONNX_Op<"GatherND"> {
  let summary = "gather slices of data at N-d index tuples (opset 13)";
  let description = [{
    data of rank r, indices (int64) of rank q >= 1 whose last dim k is the
    length of each index tuple; the first `batch_dims` dims of both are
    batch dims that must agree. Each tuple indexes dims batch_dims ...
    batch_dims + k - 1 of data (negative components count from the end);
    the result has shape indices.shape[:-1] + data.shape[batch_dims + k:].
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$batch_dims);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}
def ONNX_ExpandOp : ONNX_Op<"Expand"> {
  let summary = "broadcast to a shape given as an int64 tensor";
  let arguments = (ins AnyTensor:$input, AnyTensor:$shape);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_TileOp : ONNX_Op<"Tile"> {
  let summary = "repeat a tensor along each axis";
  let arguments = (ins AnyTensor:$input, AnyTensor:$repeats);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def ONNX_ShapeOp : ONNX_Op<"Shape"> {
  let summary = "the shape of a tensor as a 1-D int64 tensor";
  let arguments = (ins AnyTensor:$data, OptionalAttr<I64Attr>:$end,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$start);
  let results = (outs AnyTensor:$shape);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def ONNX_SizeOp : ONNX_Op<"Size"> {
  let summary = "the number of elements as an int64 scalar";
  let arguments = (ins AnyTensor:$data);
  let results = (outs AnyTensor:$size);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def ONNX_ConstantOfShapeOp : ONNX_Op<"ConstantOfShape"> {
  let summary = "a tensor of a given shape filled with one value";
  let arguments = (ins AnyTensor:$input, OptionalAttr<ElementsAttr>:$value);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def ONNX_RangeOp : ONNX_Op<"Range"> {
  let summary = "arithmetic sequence [start, limit) by delta";
  let arguments = (ins AnyTensor:$start, AnyTensor:$limit, AnyTensor:$delta);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def ONNX_TriluOp : ONNX_Op<"Trilu"> {
  let summary = "upper or lower triangle of the last two dimensions";
  let arguments = (ins AnyTensor:$input, ONNX_TensorOrNone:$k,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$upper);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def ONNX_CumSumOp : ONNX_Op<"CumSum"> {
  let summary = "cumulative sum along an axis";
  let arguments = (ins AnyTensor:$x, AnyTensor:$axis,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$exclusive,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$reverse);
  let results = (outs AnyTensor:$y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def ONNX_ScatterNDOp : ONNX_Op<"ScatterND"> {
  let summary = "scatter updates into a copy of data at N-d indices";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$updates,
                   DefaultValuedOptionalAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class ONNX_ReduceOp<string mnemonic, string summaryText>
    : ONNX_Op<mnemonic> {
  let summary = summaryText;
  let description = [{
    Opset 18 form: `axes` is an optional int64 input. With no axes, all
    dimensions are reduced unless `noop_with_empty_axes` is set.
  }];
  let arguments = (ins AnyTensor:$data, ONNX_TensorOrNone:$axes,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$keepdims,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$noop_with_empty_axes);
  let results = (outs AnyTensor:$reduced);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def ONNX_ReduceMeanOp : ONNX_ReduceOp<"ReduceMean", "mean over axes">;
def ONNX_ReduceSumOp : ONNX_ReduceOp<"ReduceSum", "sum over axes">;
def ONNX_ReduceMaxOp : ONNX_ReduceOp<"ReduceMax", "maximum over axes">;
def ONNX_ReduceMinOp : ONNX_ReduceOp<"ReduceMin", "minimum over axes">;

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

def ONNX_LayerNormalizationOp : ONNX_Op<"LayerNormalization"> {
  let summary = "layer normalisation over the dimensions from `axis` on";
  let description = [{
    Results are Y, Mean and InvStdDev; Mean and InvStdDev are always
    present in the IR and exported only when used.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$Scale, ONNX_TensorOrNone:$B,
                   DefaultValuedOptionalAttr<I64Attr, "-1">:$axis,
                   DefaultValuedOptionalAttr<F32Attr, "1e-05">:$epsilon,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$stash_type);
  let results = (outs AnyTensor:$Y, AnyTensor:$Mean, AnyTensor:$InvStdDev);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

// ONNX Runtime registers this contrib op in the default domain (unlike the
// Skip variant, which lives in com.microsoft).
def ONNX_SimplifiedLayerNormalizationOp
    : ONNX_Op<"SimplifiedLayerNormalization"> {
  let summary = "RMS normalisation (ONNX Runtime contrib op, default domain)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$scale,
                   DefaultValuedOptionalAttr<I64Attr, "-1">:$axis,
                   DefaultValuedOptionalAttr<F32Attr, "1e-05">:$epsilon,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$stash_type);
  let results = (outs AnyTensor:$Y, AnyTensor:$inv_std_var);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_SkipSimplifiedLayerNormalizationOp
    : ONNX_Op<"com.microsoft.SkipSimplifiedLayerNormalization"> {
  let summary = "RMS normalisation of input + skip (+ bias), ONNX Runtime contrib op";
  let description = [{
    Results: output, mean (always empty in ONNX Runtime's kernel),
    inv_std_var, and input_skip_bias_sum (the residual sum).
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$skip, AnyTensor:$gamma,
                   ONNX_TensorOrNone:$bias,
                   DefaultValuedOptionalAttr<F32Attr, "1e-05">:$epsilon);
  let results = (outs AnyTensor:$output, AnyTensor:$mean,
                      AnyTensor:$inv_std_var, AnyTensor:$input_skip_bias_sum);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_RotaryEmbeddingOp : ONNX_Op<"com.microsoft.RotaryEmbedding"> {
  let summary = "rotary position embedding (ONNX Runtime contrib op)";
  let description = [{
    input is (batch, seq, hidden) or (batch, heads, seq, head_size);
    position_ids (batch, seq) or a scalar offset; cos/sin caches
    (max_seq, rotary_dim / 2).
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$position_ids,
                   AnyTensor:$cos_cache, AnyTensor:$sin_cache,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$interleaved,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$is_packed_batching,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$num_heads,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$rotary_embedding_dim,
                   DefaultValuedOptionalAttr<F32Attr, "1.0">:$scale);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def ONNX_GroupQueryAttentionOp
    : ONNX_Op<"com.microsoft.GroupQueryAttention"> {
  let summary = "causal grouped-query attention with a KV cache (ONNX Runtime contrib op)";
  let description = [{
    ONNX Runtime GenAI's attention. query (B, S, num_heads * H), key and
    value (B, S, kv_num_heads * H); or, with key and value omitted, packed
    QKV (B, S, (num_heads + 2 * kv_num_heads) * H). past_key/past_value
    (B, kv_num_heads, P, H) (BNSH, P a buffer length), seqlens_k (B) int32
    holds each row's total length - 1, total_sequence_length an int32
    scalar, the longest. Query head n reads kv head n / (num_heads /
    kv_num_heads). A row's past length is 0 when S equals
    total_sequence_length (the first prompt), else seqlens_k[b] + 1 - S;
    present (B, kv_num_heads, max(P, total_sequence_length), H) holds that
    many past positions, then the S new ones, then zeros. Query s sees the
    keys up to its own position past + s (and, with local_window_size W > 0,
    only the last W of them). Scores are q.k * scale (default 1 /
    sqrt(H)), then softcap * tanh(score / softcap) when softcap > 0, plus
    attention_bias. With do_rotary, the new query and key are rotated at
    their positions by cos_cache/sin_cache ((max_seq, rotary_dim / 2)).
    head_sink (num_heads), or smooth_softmax = 1 (a sink of 0), adds
    exp(sink) to each softmax denominator. output_qk is the fourth result,
    unused unless qk_output is set. The quantized-cache, QK-norm, position
    and window-cache inputs and attributes are declared so that a model
    using them imports; the lowering rejects them by name.
  }];
  let arguments = (ins AnyTensor:$query, ONNX_TensorOrNone:$key,
                   ONNX_TensorOrNone:$value, ONNX_TensorOrNone:$past_key,
                   ONNX_TensorOrNone:$past_value, AnyTensor:$seqlens_k,
                   AnyTensor:$total_sequence_length,
                   ONNX_TensorOrNone:$cos_cache, ONNX_TensorOrNone:$sin_cache,
                   ONNX_TensorOrNone:$position_ids,
                   ONNX_TensorOrNone:$attention_bias,
                   ONNX_TensorOrNone:$head_sink, ONNX_TensorOrNone:$k_scale,
                   ONNX_TensorOrNone:$v_scale,
                   ONNX_TensorOrNone:$q_norm_weight,
                   ONNX_TensorOrNone:$k_norm_weight,
                   I64Attr:$num_heads, I64Attr:$kv_num_heads,
                   DefaultValuedOptionalAttr<F32Attr, "0.0">:$scale,
                   DefaultValuedOptionalAttr<F32Attr, "0.0">:$softcap,
                   DefaultValuedOptionalAttr<I64Attr, "-1">:$local_window_size,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$do_rotary,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$rotary_interleaved,
                   DefaultValuedOptionalAttr<I64Attr, "-1">:$smooth_softmax,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$causal,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$qk_output,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$sliding_window_cache,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$kv_cache_bit_width,
                   DefaultValuedOptionalAttr<StrAttr, "\"NONE\"">:$k_quant_type,
                   DefaultValuedOptionalAttr<StrAttr, "\"NONE\"">:$v_quant_type,
                   DefaultValuedOptionalAttr<F32Attr, "1e-06">:$qk_norm_epsilon);
  let results = (outs AnyTensor:$output, AnyTensor:$present_key,
                      AnyTensor:$present_value, AnyTensor:$output_qk);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Key and value are packed into query (both omitted).
    bool isPackedQKV();
    /// H, from query's last dim and the head counts; ShapedType::kDynamic
    /// when that dim is dynamic or query is unranked.
    int64_t getHeadSize();
  }];
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def ONNX_SoftmaxCrossEntropyLossOp : ONNX_Op<"SoftmaxCrossEntropyLoss"> {
  let summary = "cross-entropy of softmax(scores) along dim 1 (opset 13)";
  let description = [{
    scores (N, C) or (N, C, d1, ..., dk), labels (N) or (N, d1, ..., dk) of
    int32/int64 classes in [0, C), optional weights (C). The loss of an
    element is -log_prob[n, label, d...] * weights[label]; elements whose
    label is `ignore_index` count for nothing. `reduction` "none" gives the
    per-element losses (labels' shape), "sum" their sum, "mean" their sum
    divided by the summed weights of the counted elements (their count
    without weights; 0 / 0 = NaN when every label is ignored). Causal
    language models (logits (B, T, V)) pass scores transposed to (B, V, T),
    as the PyTorch exporter does, with ignore_index = -100 as Hugging Face
    uses. Results: output and log_prob (log_softmax(scores) along dim 1);
    log_prob is always present in the IR and exported only when used.
  }];
  let arguments = (ins AnyTensor:$scores, AnyTensor:$labels,
                   ONNX_TensorOrNone:$weights,
                   OptionalAttr<I64Attr>:$ignore_index,
                   DefaultValuedOptionalAttr<StrAttr, "\"mean\"">:$reduction);
  let results = (outs AnyTensor:$output, AnyTensor:$log_prob);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def ONNX_QuantizeLinearOp : ONNX_Op<"QuantizeLinear"> {
  let summary = "y = saturate(round(x / y_scale) + y_zero_point)";
  let description = [{
    Per-tensor, per-axis, or (opset 21) blocked along `axis` with
    `block_size`. The output type is that of y_zero_point, else
    `output_dtype`, else uint8.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$y_scale,
                   ONNX_TensorOrNone:$y_zero_point,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$axis,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$block_size,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$output_dtype,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$saturate);
  let results = (outs AnyTensor:$y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_DequantizeLinearOp : ONNX_Op<"DequantizeLinear"> {
  let summary = "y = (x - x_zero_point) * x_scale";
  let description = [{
    Per-tensor, per-axis, or (opset 21) blocked along `axis` with
    `block_size`; x may be 2-, 4- or 8-bit integers.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$x_scale,
                   ONNX_TensorOrNone:$x_zero_point,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$axis,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$block_size,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$output_dtype);
  let results = (outs AnyTensor:$y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_DynamicQuantizeLinearOp : ONNX_Op<"DynamicQuantizeLinear"> {
  let summary = "quantize float to uint8 with a computed scale and zero point";
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y, AnyTensor:$y_scale, AnyTensor:$y_zero_point);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def ONNX_GatherBlockQuantizedOp
    : ONNX_Op<"com.microsoft.GatherBlockQuantized"> {
  let summary = "gather rows of a blockwise quantized table, dequantized (ONNX Runtime contrib op)";
  let description = [{
    ONNX Runtime GenAI's quantized embedding. data holds int4/uint4 codes, or
    uint8 bytes of `bits`-bit codes packed low bits first along the last
    axis (then gather_axis must be 0 and quantize_axis the last axis); its
    logical shape has the last dim times 8 / bits. scales (float, float16 or
    bfloat16) have data's logical shape with quantize_axis divided by
    block_size (rounded up); zero_points, optional, have data's type and are
    packed like data (default: 2^(bits-1) for uint8, 0 for int4/uint4). The
    result, logical data.shape with gather_axis replaced by indices.shape,
    is (code - zero_point) * scale in the scales' type.
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$scales,
                   ONNX_TensorOrNone:$zero_points,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$gather_axis,
                   DefaultValuedOptionalAttr<I64Attr, "1">:$quantize_axis,
                   DefaultValuedOptionalAttr<I64Attr, "128">:$block_size,
                   DefaultValuedOptionalAttr<I64Attr, "4">:$bits);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def ONNX_MatMulNBitsOp : ONNX_Op<"com.microsoft.MatMulNBits"> {
  let summary = "x times a blockwise 2/4/8-bit quantized weight (ONNX Runtime contrib op)";
  let description = [{
    B holds codes packed little-end first, shape (N, k_blocks, block_size *
    bits / 8) as uint8; scales (N * k_blocks) or (N, k_blocks); zero_points
    packed like B, or as floats of the scales' type. Without zero points the
    zero is 2^(bits-1).
  }];
  let arguments = (ins AnyTensor:$A, AnyTensor:$B, AnyTensor:$scales,
                   ONNX_TensorOrNone:$zero_points, ONNX_TensorOrNone:$g_idx,
                   ONNX_TensorOrNone:$bias,
                   I64Attr:$K, I64Attr:$N,
                   DefaultValuedOptionalAttr<I64Attr, "4">:$bits,
                   I64Attr:$block_size,
                   DefaultValuedOptionalAttr<I64Attr, "0">:$accuracy_level);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // QAF_DIALECTS_ONNX_ONNXOPS_TD
