//===- ArtifactWriter.h - manifest, fingerprint and tensor files -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// What a compiled artifact says about itself (docs/artifact-abi.md), taken
// from the entry points after qaf-outline-weights, while their types still
// carry ONNX signedness and their arguments the names and weights. The
// description is the runtime's schema (qaf/Runtime/Manifest.h) plus the
// tensor values; the manifest and the `qaf.artifact` module attribute are
// both written and read by that schema's code.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_COMPILER_ARTIFACTWRITER_H
#define QAF_COMPILER_ARTIFACTWRITER_H

#include "qaf/Runtime/Manifest.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>

namespace qaf {

struct ArtifactDescription {
  Manifest manifest;
  /// The values of the weights and parameters, by name; null where the IR
  /// the description came from had none (elided from text).
  llvm::StringMap<mlir::ElementsAttr> values;
};

/// The module attribute that carries an ArtifactDescription (and the tensor
/// values) from the phase where the weights are outlined down to code
/// generation, so any phase's IR can be written and compiled later.
inline constexpr llvm::StringLiteral kArtifactDescriptionAttr = "qaf.artifact";

/// The name of the parameters file when an artifact has parameters.
inline constexpr llvm::StringLiteral kParametersFile = "parameters.safetensors";

/// Whether outlined argument `argIndex` of `entry` is a parameter (a tensor
/// the entry point may update: it feeds a trainable operand of an adapter
/// op) rather than a read-only weight. The one place that decides it.
bool isTrainableParameter(mlir::func::FuncOp entry, unsigned argIndex);

/// Describes entry points `entries` (weights, parameters, inputs, outputs)
/// and computes the artifact's fingerprint from the IR and the tensor bytes.
/// First orders each entry point's arguments as the ABI passes them:
/// weights, then parameters, then inputs. The target's backend fills in the
/// manifest's target record (TargetBackend::describeTarget).
mlir::FailureOr<ArtifactDescription>
describeArtifact(mlir::ModuleOp module, llvm::ArrayRef<std::string> entries);

/// Stores `description` (with the tensor values) on `module` as
/// kArtifactDescriptionAttr: `{manifest = <the manifest's JSON as
/// attributes>, values = {<name> = <value>, ...}}`.
void attachDescription(mlir::ModuleOp module,
                       const ArtifactDescription &description);

/// Reads the description that attachDescription stored: nullopt when there
/// is none, failure (diagnosed) when it is malformed.
mlir::FailureOr<std::optional<ArtifactDescription>>
readDescription(mlir::ModuleOp module);

/// Fails (with the tensor's name) unless every weight and parameter has its
/// data.
mlir::LogicalResult checkWeightValues(const ArtifactDescription &description,
                                      mlir::Location loc);

/// Writes the weights file and, when there are parameters, the parameters
/// file into folder `dir`, each with the fingerprint in its metadata.
mlir::LogicalResult writeTensorFiles(const ArtifactDescription &description,
                                     llvm::StringRef dir, mlir::Location loc);

/// Drops the `qaf.weight_value` argument attributes of every entry point
/// once the description holds them: later passes should not carry the
/// weights along twice.
void stripWeightValues(mlir::ModuleOp module,
                       const ArtifactDescription &description);

/// Drops the entry points' argument and result attributes (names, dims,
/// weights): the manifest holds them, and the LLVM lowering has no use for
/// them.
void stripEntryPointAttributes(mlir::ModuleOp module,
                               const ArtifactDescription &description);

/// The library's description of itself (writeLibraryABI): the entry points
/// and the content hashes of the weights and parameters files, computed
/// from the tensors' values.
mlir::FailureOr<std::string>
describeLibrary(const ArtifactDescription &description, mlir::Location loc);

/// Writes manifest.json (atomically).
mlir::LogicalResult writeManifest(const ArtifactDescription &description,
                                  llvm::StringRef path, mlir::Location loc);

} // namespace qaf

#endif // QAF_COMPILER_ARTIFACTWRITER_H
