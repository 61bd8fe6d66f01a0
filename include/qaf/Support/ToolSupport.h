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
#include "llvm/Support/Error.h"

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

/// Fails with one message naming both paths when `outputPath` is the same
/// file as `inputPath` (same device and inode: the same path, a symbolic
/// link or a hard link to it): writing it would replace the tool's input.
/// Standard output ("-") and a missing file are never the input.
llvm::Error checkOutputIsNotInput(llvm::StringRef outputPath,
                                  llvm::StringRef inputPath);

/// Makes LLVM's fatal errors (MLIR's bytecode reader reports some malformed
/// inputs this way) one line, `<tool>: <input>: fatal error: <reason>`, and
/// exit status 1, without a stack dump; temporary files registered for
/// removal on a signal are removed.
void installFatalErrorHandler(llvm::StringRef toolName,
                              llvm::StringRef inputPath);

} // namespace qaf

#endif // QAF_SUPPORT_TOOLSUPPORT_H
