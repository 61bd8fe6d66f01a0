//===- ONNXExporter.h - onnx dialect -> ONNX protobuf -----------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_EXPORT_ONNXEXPORTER_H
#define QAF_EXPORT_ONNXEXPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace qaf {

struct OnnxExportOptions {
  enum class ExternalData {
    /// External data when the model was imported with it, or when the
    /// weights would not fit protobuf's 2 GiB limit.
    Auto,
    Always,
    Never,
  };
  ExternalData externalData = ExternalData::Auto;
  /// With external data, tensors smaller than this stay inside the model.
  size_t externalDataThreshold = 1024;
};

/// Writes the module's `@main_graph` as an ONNX model to `path`, with
/// external data in `<path>.data` beside it when that is chosen. Both files
/// are written atomically. Errors are MLIR diagnostics on the offending op.
mlir::LogicalResult exportOnnxFile(mlir::ModuleOp module, llvm::StringRef path,
                                   const OnnxExportOptions &options = {});

/// Serializes the module to ONNX protobuf bytes (all weights inline).
mlir::FailureOr<std::string> exportOnnxToString(mlir::ModuleOp module);

} // namespace qaf

#endif // QAF_EXPORT_ONNXEXPORTER_H
