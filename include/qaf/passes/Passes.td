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

#endif // QAF_PASSES_PASSES_TD
