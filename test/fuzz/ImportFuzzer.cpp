//===- ImportFuzzer.cpp - libFuzzer target for ONNX import and export -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Feeds arbitrary bytes to the ONNX importer as a binary model and, when they
// import, exports the module again. Any input may be rejected with a
// diagnostic; none may crash, hang or read out of bounds.
//
//===----------------------------------------------------------------------===//

#include "qaf/Export/ONNXExporter.h"
#include "qaf/Import/ONNXImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input, so no state carries over between runs, and no
  // thread pool: one input is one thread's work.
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  // Rejecting a malformed model is the expected outcome: keep it quiet.
  mlir::ScopedDiagnosticHandler swallow(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });

  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      qaf::importOnnxBuffer(bytes, "fuzz.onnx", /*externalDataDir=*/"",
                            /*textFormat=*/false, &context);
  if (!module)
    return 0;
  (void)qaf::exportOnnxToString(*module);
  return 0;
}
