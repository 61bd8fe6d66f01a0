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

#include "qaf/Target/CPU/CPUCodegen.h"

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <optional>
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
  /// The weights' values, in the order of `weights`; null where the IR the
  /// description came from had none (elided from text).
  std::vector<mlir::ElementsAttr> weightValues;
};

/// The module attribute that carries an ArtifactDescription (and the weight
/// values) from the phase where the weights are outlined down to code
/// generation, so any phase's IR can be written and compiled later.
inline constexpr llvm::StringLiteral kArtifactDescriptionAttr = "qaf.artifact";

/// Describes entry point `entry` (weights, inputs, outputs) and computes the
/// artifact's fingerprint from the IR and the weight bytes. The target's
/// backend fills in `target` (TargetBackend::describeTarget).
mlir::FailureOr<ArtifactDescription> describeEntryPoint(mlir::ModuleOp module,
                                                        llvm::StringRef entry);

/// Stores `description` (with the weight values) on `module` as
/// kArtifactDescriptionAttr.
void attachDescription(mlir::ModuleOp module,
                       const ArtifactDescription &description);

/// Reads the description that attachDescription stored: nullopt when there
/// is none, failure (diagnosed) when it is malformed.
mlir::FailureOr<std::optional<ArtifactDescription>>
readDescription(mlir::ModuleOp module);

/// Fails (with the weight's name) unless every weight has its data.
mlir::LogicalResult checkWeightValues(const ArtifactDescription &description,
                                      mlir::Location loc);

/// Writes the description's weight values to a safetensors file, with the
/// fingerprint in its metadata.
mlir::LogicalResult writeWeights(const ArtifactDescription &description,
                                 llvm::StringRef path, mlir::Location loc);

/// Drops the `qaf.weight_value` argument attributes once the description
/// holds them: later passes should not carry the weights along twice.
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
