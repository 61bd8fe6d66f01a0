//===- ToolSupport.h - what every qaf tool's main shares ---------*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_SUPPORT_TOOLSUPPORT_H
#define QAF_SUPPORT_TOOLSUPPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace qaf {

/// Prints diagnostics as `<file>: node '<name>': error: <message>`: ONNX
/// models have no line numbers, so the node name is what locates a problem.
class ToolDiagnosticHandler : public mlir::ScopedDiagnosticHandler {
public:
  ToolDiagnosticHandler(mlir::MLIRContext *context, llvm::StringRef toolName);
};

/// Describes a location for a user: the file and the node or value name.
std::string describeLocation(mlir::Location loc);

/// Reads a `.mlir` or `.mlirbc` file.
mlir::OwningOpRef<mlir::ModuleOp> parseMlirFile(llvm::StringRef path,
                                                mlir::MLIRContext *context);

/// Writes a module as text (large weights elided unless `printWeights`) or
/// bytecode, atomically; "-" is standard output.
mlir::LogicalResult writeMlirFile(mlir::ModuleOp module, llvm::StringRef path,
                                  bool bytecode, bool printWeights);

} // namespace qaf

#endif // QAF_SUPPORT_TOOLSUPPORT_H
