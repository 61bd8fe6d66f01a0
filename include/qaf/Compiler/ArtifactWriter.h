//===- ArtifactWriter.h - manifest, fingerprint and weights ------*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// What a compiled artifact says about itself (docs/artifact-abi.md), taken
// from the entry point after qaf-outline-weights, while its types still
// carry ONNX signedness and its arguments the names and weights.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_COMPILER_ARTIFACTWRITER_H
#define QAF_COMPILER_ARTIFACTWRITER_H

#include "qaf/Compiler/CPUCodegen.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <variant>
#include <vector>

namespace qaf {

struct ManifestTensor {
  std::string name;
  /// numpy name: float32, int64, bool, ...
  std::string dtype;
  /// A static size, or the symbolic name of a dynamic dimension ("" when it
  /// has none).
  llvm::SmallVector<std::variant<int64_t, std::string>> shape;
};

struct ArtifactDescription {
  std::string entry;
  std::string symbol;
  std::string fingerprint;
  std::string libraryFile = "model.so";
  std::string weightsFile = "weights.safetensors";
  CPUTarget target;
  std::vector<ManifestTensor> weights, inputs, outputs;
};

/// Describes entry point `entry` (weights, inputs, outputs) and computes the
/// artifact's fingerprint from the IR and the weight bytes.
mlir::FailureOr<ArtifactDescription>
describeEntryPoint(mlir::ModuleOp module, llvm::StringRef entry,
                   const CPUTarget &target);

/// Writes the entry point's weights (its `qaf.weight_value` arguments) to a
/// safetensors file, with the fingerprint in its metadata.
mlir::LogicalResult writeWeights(mlir::ModuleOp module, llvm::StringRef entry,
                                 const ArtifactDescription &description,
                                 llvm::StringRef path);

/// Drops the `qaf.weight_value` argument attributes: the code does not need
/// them, and later passes should not carry the weights along.
void stripWeightValues(mlir::ModuleOp module, llvm::StringRef entry);

/// Drops the entry point's argument and result attributes (names, dims,
/// weights): the manifest holds them, and the LLVM lowering has no use for
/// them.
void stripEntryPointAttributes(mlir::ModuleOp module, llvm::StringRef entry);

/// Writes manifest.json (atomically).
mlir::LogicalResult writeManifest(const ArtifactDescription &description,
                                  llvm::StringRef path, mlir::Location loc);

} // namespace qaf

#endif // QAF_COMPILER_ARTIFACTWRITER_H
