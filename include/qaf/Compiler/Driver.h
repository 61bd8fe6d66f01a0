//===- Driver.h - the qaf-compile driver ------------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_COMPILER_DRIVER_H
#define QAF_COMPILER_DRIVER_H

#include "qaf/Target/Phase.h"
#include "qaf/Target/TargetBackend.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "mlir/Support/Timing.h"

#include <string>

namespace qaf {

struct CompileOptions {
  /// Where compilation stops (`--compile-to=`).
  Phase phase = Phase::Artifact;
  /// The entry point the graph becomes.
  std::string entry = "infer";
  /// Passes run on an imported graph before it is outlined (a textual
  /// pipeline of module passes, "a,b{x=1}", empty for none): qaf-compile's
  /// --method and
  /// --emit=train build it (quantize, attach adapters, build training).
  /// The training steps it adds (TrainingEntryPoints.h) become entry points
  /// of the artifact beside `entry`.
  std::string graphPipeline;
  /// An artifact folder for Phase::Artifact, else the output file ("-" for
  /// stdout where text is written).
  std::string output;
  /// With `phase` ONNX: write the graph as an ONNX model (quantized layers
  /// as MatMulNBits, or DequantizeLinear with `quantizedFormat`), not IR.
  bool exportOnnx = false;
  /// qaf-lower-qlinear-to-onnx's format for `exportOnnx`.
  std::string quantizedFormat = "matmulnbits";
  /// Write IR as bytecode whatever the output's extension.
  bool bytecode = false;
  /// Quantized layers whose products round x to int8 as ONNX Runtime does
  /// at MatMulNBits accuracy_level 4: "file" (the layers whose MatMulNBits
  /// asked for it), "all", or empty for none (the exact product).
  std::string int8Activations;
  /// Print each pass pipeline before running it.
  bool printPipelines = false;
  /// Verify the IR after every pass (mlir-opt's default) instead of once
  /// after each pipeline: verification walks the whole module, and a deep
  /// model's pipelines run some sixty passes.
  bool verifyEachPass = false;
  /// Where the phases report their time (`--mlir-timing`); may be null.
  mlir::TimingScope *timing = nullptr;
};

/// Compiles a module in any phase up to Phase::LLVM (an imported onnx graph,
/// or IR that qaf-compile wrote at a phase) for `target`, up to
/// `options.phase`, and writes the result. Errors are diagnostics.
mlir::LogicalResult compile(mlir::ModuleOp module, TargetBackend &target,
                            const CompileOptions &options);

} // namespace qaf

#endif // QAF_COMPILER_DRIVER_H
