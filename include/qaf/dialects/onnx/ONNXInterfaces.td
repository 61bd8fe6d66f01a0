//===- ONNXInterfaces.td - interfaces of the onnx dialect --*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_ONNX_ONNXINTERFACES_TD
#define QAF_DIALECTS_ONNX_ONNXINTERFACES_TD

include "mlir/IR/OpBase.td"

def ONNX_ShapeInferenceOpInterface : OpInterface<"ShapeInferenceOpInterface"> {
  let cppNamespace = "::qaf::onnx";
  let description = [{
    Static shape and element-type inference for an ONNX operator. The
    importer builds each op with placeholder result types and calls
    `inferShapes` to compute them from the operand types, the attributes and
    the values of constant operands (shape vectors, axes, ...). The method
    only ever refines: a dimension already static in a result type (for
    example from the model's `value_info`) is kept, and a conflict between
    the two is reported as an error on the op.
  }];
  let methods = [
    InterfaceMethod<[{
        Computes the result types and writes them into the op's results.
        Emits an error and fails if the operands are inconsistent.
      }],
      "::mlir::LogicalResult", "inferShapes", (ins)>,
  ];
}

#endif // QAF_DIALECTS_ONNX_ONNXINTERFACES_TD
