//===- ONNXImporter.h - ONNX protobuf -> onnx dialect -----------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_IMPORT_ONNXIMPORTER_H
#define QAF_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace qaf {

struct OnnxImportOptions {
  /// Fold constant sub-graphs (the shape computations exporters emit) while
  /// importing. Off gives a node-for-node image of the file.
  bool foldConstants = true;
  /// Tensors with at most this many elements become `dense` attributes that
  /// folders can read; larger ones become `dense_resource` blobs that alias
  /// the loaded bytes.
  int64_t maxDenseElements = 1024;
};

/// Imports an ONNX model file (binary protobuf, or protobuf text format when
/// the name ends in `.textproto`, `.pbtxt` or `.onnxtxt`). External data is
/// memory-mapped from the model's folder. Errors are reported as MLIR
/// diagnostics naming the file and the node; the result is null on error.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(llvm::StringRef path, mlir::MLIRContext *context,
               const OnnxImportOptions &options = {});

/// Imports a model held in memory. `sourceName` names it in diagnostics;
/// `externalDataDir` is the folder external data is read from (empty: a model
/// with external data is rejected).
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBuffer(llvm::StringRef bytes, llvm::StringRef sourceName,
                 llvm::StringRef externalDataDir, bool textFormat,
                 mlir::MLIRContext *context,
                 const OnnxImportOptions &options = {});

/// The ONNX op types the importer accepts: `Add` for the default domain,
/// `com.microsoft.MatMulNBits` for others. Sorted.
std::vector<std::string> getSupportedOnnxOps(mlir::MLIRContext *context);

} // namespace qaf

#endif // QAF_IMPORT_ONNXIMPORTER_H
