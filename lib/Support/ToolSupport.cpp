//===- ToolSupport.cpp - what every qaf tool's main shares ----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Support/ToolSupport.h"

#include "qaf/Support/AtomicFile.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

using namespace mlir;

namespace qaf {

/// Resources (weights) larger than this many bytes are elided from text IR.
constexpr int64_t kElidedResourceBytes = 1024;
/// Dense constants with more elements than this are elided too: shape
/// vectors stay readable, norm weights do not flood the text.
constexpr int64_t kElidedDenseElements = 32;

static void collectLocation(Location loc, std::string &file,
                            std::string &name) {
  if (auto fileLoc = dyn_cast<FileLineColLoc>(loc)) {
    file = fileLoc.getFilename().str();
    if (fileLoc.getLine() != 0)
      file += ":" + std::to_string(fileLoc.getLine()) + ":" +
              std::to_string(fileLoc.getColumn());
  } else if (auto nameLoc = dyn_cast<NameLoc>(loc)) {
    if (name.empty())
      name = nameLoc.getName().str();
    collectLocation(nameLoc.getChildLoc(), file, name);
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location inner : fused.getLocations())
      collectLocation(inner, file, name);
  } else if (auto callSite = dyn_cast<CallSiteLoc>(loc)) {
    collectLocation(callSite.getCallee(), file, name);
  }
}

std::string describeLocation(Location loc) {
  std::string file, name;
  collectLocation(loc, file, name);
  std::string result = file;
  if (!name.empty())
    result += (result.empty() ? "" : ": ") + std::string("node '") + name + "'";
  return result;
}

ToolDiagnosticHandler::ToolDiagnosticHandler(MLIRContext *context,
                                             llvm::StringRef toolName)
    : ScopedDiagnosticHandler(context) {
  std::string tool = toolName.str();
  setHandler([tool](Diagnostic &diag) {
    auto print = [&](Diagnostic &d) {
      llvm::errs() << tool << ": ";
      std::string where = describeLocation(d.getLocation());
      if (!where.empty())
        llvm::errs() << where << ": ";
      switch (d.getSeverity()) {
      case DiagnosticSeverity::Error:
        llvm::errs() << "error: ";
        break;
      case DiagnosticSeverity::Warning:
        llvm::errs() << "warning: ";
        break;
      case DiagnosticSeverity::Note:
        llvm::errs() << "note: ";
        break;
      case DiagnosticSeverity::Remark:
        llvm::errs() << "remark: ";
        break;
      }
      llvm::errs() << d.str() << "\n";
    };
    print(diag);
    for (Diagnostic &note : diag.getNotes())
      print(note);
    return success();
  });
}

OwningOpRef<ModuleOp> parseMlirFile(llvm::StringRef path,
                                    MLIRContext *context) {
  llvm::SourceMgr sourceMgr;
  auto buffer =
      llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/true);
  if (!buffer) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "cannot read '" << path << "': " << buffer.getError().message();
    return nullptr;
  }
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(context));
}

LogicalResult writeMlirFile(ModuleOp module, llvm::StringRef path,
                            bool bytecode, bool printWeights) {
  auto write = [&](llvm::raw_ostream &os) -> LogicalResult {
    if (bytecode)
      return writeBytecodeToFile(module, os);
    OpPrintingFlags flags;
    if (!printWeights) {
      flags.elideLargeResourceString(kElidedResourceBytes);
      flags.elideLargeElementsAttrs(kElidedDenseElements);
    }
    module->print(os, flags);
    return success();
  };
  if (path == "-")
    return write(llvm::outs());
  auto file = AtomicFile::create(path);
  if (!file)
    return emitError(module.getLoc()) << toString(file.takeError());
  if (failed(write((*file)->os())))
    return emitError(module.getLoc()) << "cannot write bytecode to " << path;
  if (llvm::Error error = (*file)->commit())
    return emitError(module.getLoc()) << toString(std::move(error));
  return success();
}

llvm::Error checkOutputIsNotInput(llvm::StringRef outputPath,
                                  llvm::StringRef inputPath) {
  if (outputPath == "-" || inputPath == "-")
    return llvm::Error::success();
  bool same = false;
  // `equivalent` compares device and inode, following symbolic links; it
  // fails when either file is missing, which is never the same file.
  if (llvm::sys::fs::equivalent(outputPath, inputPath, same) || !same)
    return llvm::Error::success();
  std::string how = outputPath == inputPath ? "" : " (the same file)";
  return llvm::createStringError(
      "output '" + outputPath + "' is the input '" + inputPath + "'" + how +
      ": writing it would replace the input; choose another output path");
}

namespace {
/// What the fatal error handler names: the tool and its input.
std::string fatalErrorPrefix;

void reportFatalErrorAndExit(void *, const char *reason, bool) {
  // A malformed input, not a crash of the tool: one line, no stack dump.
  std::string message = fatalErrorPrefix + "fatal error: " + reason + "\n";
  ssize_t written = ::write(2, message.data(), message.size());
  (void)written;
  llvm::sys::RunInterruptHandlers();
  ::_exit(1);
}
} // namespace

void installFatalErrorHandler(llvm::StringRef toolName,
                              llvm::StringRef inputPath) {
  fatalErrorPrefix = toolName.str() + ": ";
  if (!inputPath.empty() && inputPath != "-")
    fatalErrorPrefix += inputPath.str() + ": ";
  llvm::install_fatal_error_handler(reportFatalErrorAndExit);
}

} // namespace qaf
