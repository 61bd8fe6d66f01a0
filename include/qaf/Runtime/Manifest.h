//===- Manifest.h - the artifact's manifest.json ----------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The artifact schema (docs/artifact-abi.md), the one definition that the
// compiler writes (lib/Compiler/ArtifactWriter.cpp, also for the
// `qaf.artifact` module attribute) and the runtime reads: the artifact's
// files, its fingerprint, the target it was compiled for, and per entry
// point the weights, parameters, inputs and outputs with their dtypes and
// shapes. Parsing validates everything the loader relies on and names the
// offending field (`entry_points[0].inputs[1].dtype`).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_MANIFEST_H
#define QAF_RUNTIME_MANIFEST_H

#include "qaf/Runtime/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace qaf {

/// One dimension of a manifest shape: static (`4`), named dynamic
/// (`"batch"`) or unnamed dynamic (`null`).
struct ManifestDim {
  static constexpr int64_t kDynamic = -1;
  /// The size of a static dimension; kDynamic otherwise.
  int64_t size = kDynamic;
  /// The name of a named dynamic dimension; empty otherwise.
  std::string symbol;

  static ManifestDim getStatic(int64_t size) { return {size, ""}; }
  static ManifestDim getNamed(llvm::StringRef symbol) {
    return {kDynamic, symbol.str()};
  }
  static ManifestDim getUnnamed() { return {}; }

  bool isStatic() const { return size != kDynamic; }
  bool isNamed() const { return !symbol.empty(); }
  /// `4`, `batch` or `?`.
  std::string str() const;
  bool operator==(const ManifestDim &other) const {
    return size == other.size && symbol == other.symbol;
  }
};

/// A weight, parameter, input or output of an entry point.
struct TensorSpec {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<ManifestDim> shape;
  /// Outputs only: the input (a KV cache) whose buffer the entry point
  /// writes this output into instead of returning it; empty for an output
  /// it returns. See kCacheLengthInput.
  std::string writtenInto = {};

  int64_t getRank() const { return shape.size(); }
  /// The sizes of a fully static shape.
  std::vector<int64_t> getStaticShape() const;
  bool isStatic() const;
  /// `float32[batch, 4]`.
  std::string describe() const;
};

/// The int64 scalar input of an entry point with outputs written into
/// their inputs' buffers (`written_into`, a decoder's KV cache): the caller
/// passes each such input as a buffer [batch, heads, capacity, head size]
/// whose first `qaf.cache_length` positions along axis 2 hold the past; the
/// entry point writes the new positions after them, so the output is the
/// buffer's first past + new positions. The input's manifest shape is that
/// of the past, the output's that of the past and new positions.
inline constexpr llvm::StringLiteral kCacheLengthInput = "qaf.cache_length";

struct EntryPoint {
  /// `infer`, `train_step`, `eval_step`.
  std::string name;
  /// The C symbol in the library: `qaf_entry_<name>`.
  std::string symbol;
  /// Read-only tensors of the weights file.
  std::vector<TensorSpec> weights;
  /// Tensors of the parameters file that the entry point may update in
  /// place (trainable adapter factors, optimizer state). A parameter named
  /// by several entry points is one buffer.
  std::vector<TensorSpec> parameters;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;

  /// Whether some output is written into an input's buffer.
  bool hasOutputsWrittenIntoInputs() const;
};

/// The kind of machine an artifact's code runs on.
enum class TargetKind : uint8_t { CPU, CUDA };
/// The form of the artifact's code: a shared library (cpu), or a CUDA
/// binary (cubin), PTX for the driver to compile, or a fat binary holding
/// several (cuda).
enum class BinaryKind : uint8_t { SharedLibrary, Cubin, PTX, Fatbin };

/// `cpu`, `cuda`.
llvm::StringRef getTargetKindName(TargetKind kind);
std::optional<TargetKind> parseTargetKindName(llvm::StringRef name);
/// `shared-library`, `cubin`, `ptx`, `fatbin`.
llvm::StringRef getBinaryKindName(BinaryKind kind);
std::optional<BinaryKind> parseBinaryKindName(llvm::StringRef name);
/// Whether code of `binary` form can be code for `kind` (a shared library
/// for cpu; cubin, PTX or a fat binary for cuda).
bool isBinaryKindOf(TargetKind kind, BinaryKind binary);

/// What the code was compiled for. A runtime refuses an artifact whose
/// kind it cannot run.
struct TargetDescription {
  TargetKind kind = TargetKind::CPU;
  BinaryKind binary = BinaryKind::SharedLibrary;
  /// The LLVM target triple (`x86_64-unknown-linux-gnu`,
  /// `nvptx64-nvidia-cuda`), when the compiler recorded one.
  std::string triple;
  /// cpu: the LLVM CPU name (`znver3`) and its features (`+avx2,-xop,...`).
  std::string cpu;
  std::string features;
  /// cuda: the GPU architecture the binary is for (`sm_90`; required).
  /// cpu: the triple's architecture (`x86_64`), informational.
  std::string arch;
  /// cuda: the PTX ISA version the kernels were generated as (`8.0`): the
  /// driver must support it to load PTX of this version.
  std::string ptxISA;
  /// cuda: what the tensor cores take as inputs of the dense matmuls
  /// (kMatmulPrecisions: `tf32`, `bf16`; they accumulate in float); empty
  /// when not recorded. A cpu target has none.
  std::string matmulPrecision;
};

/// The matmul precisions a cuda target may record.
inline constexpr llvm::StringLiteral kMatmulPrecisions[] = {"tf32", "bf16"};

struct Manifest {
  static constexpr llvm::StringLiteral kFormat = "qaf-artifact";
  /// Version 2 added parameters and the target's kind and binary; the
  /// runtime reads this version only (older artifacts are recompiled).
  static constexpr int64_t kVersion = 2;

  int64_t version = kVersion;
  /// The library and weight files, relative to the artifact folder.
  std::string library = "model.so";
  std::string weights = "weights.safetensors";
  /// The parameters file; empty when no entry point has parameters (then
  /// the artifact has no such file).
  std::string parameters;
  std::string fingerprint;
  TargetDescription target;
  std::vector<EntryPoint> entryPoints;

  /// The entry point called `name`, or null.
  const EntryPoint *findEntryPoint(llvm::StringRef name) const;
  /// Every parameter of every entry point once, in the order of first
  /// appearance: the buffers, and the tensors of the parameters file.
  std::vector<TensorSpec> getAllParameters() const;
  /// Every weight of every entry point once, in the order of first
  /// appearance: the tensors of the weights file.
  std::vector<TensorSpec> getAllWeights() const;
  /// The entry points' names: `infer, train_step`.
  std::string listEntryPoints() const;
};

/// What a library says about itself, exported as the JSON string
/// `qaf_artifact_abi` next to `qaf_artifact_fingerprint`: the runtime
/// refuses a manifest that disagrees with the code it describes, and checks
/// the tensor files' content against the hashes computed at compile time.
struct LibraryABI {
  static constexpr llvm::StringLiteral kFormat = "qaf-library-abi";
  static constexpr int64_t kVersion = 1;

  std::string fingerprint;
  /// hashTensorContents of the weights (manifest order of
  /// Manifest::getAllWeights) and of the parameters' initial values
  /// (Manifest::getAllParameters; empty without parameters).
  std::string weightsHash;
  std::string parametersHash;
  /// Per entry point its name, symbol and tensors in call order.
  std::vector<EntryPoint> entryPoints;
};

/// The library description of the code compiled for `manifest`.
LibraryABI describeLibraryABI(const Manifest &manifest,
                              llvm::StringRef weightsHash,
                              llvm::StringRef parametersHash);
/// The description as compact JSON, the string the library exports.
std::string writeLibraryABI(const LibraryABI &abi);
/// Parses a library's description; errors start with `sourceName`.
llvm::Expected<LibraryABI> parseLibraryABI(llvm::StringRef json,
                                           llvm::StringRef sourceName);
/// Names the first difference between a manifest and the library's
/// description of itself (entry points, symbols, and per entry point the
/// weights, parameters, inputs and outputs with dtype and shape, in call
/// order), or returns success when they agree.
llvm::Error checkManifestMatchesLibrary(const Manifest &manifest,
                                        const LibraryABI &abi,
                                        llvm::StringRef libraryPath);

/// The content hash of a weights or parameters file: xxh3-64 over the
/// little-endian xxh3-64 of each tensor's bytes, tensors in manifest order
/// (so reordered or swapped tensors change it), as 16 hex digits.
std::string hashTensorContents(llvm::ArrayRef<llvm::ArrayRef<char>> tensors);

/// Parses and validates manifest JSON; errors start with `sourceName`.
llvm::Expected<Manifest> parseManifest(llvm::StringRef json,
                                       llvm::StringRef sourceName);
/// The same from JSON already parsed (the compiler's module attribute).
llvm::Expected<Manifest> parseManifestValue(const llvm::json::Value &json,
                                            llvm::StringRef sourceName);

/// Reads and parses a manifest.json file.
llvm::Expected<Manifest> readManifestFile(llvm::StringRef path);

/// Writes the manifest as JSON, fields in the documented order. The one
/// place that decides the written fields: toJSON and writeManifestFile use
/// it.
void writeManifestJSON(llvm::json::OStream &json, const Manifest &manifest);

/// The manifest as JSON (objects in a json::Value sort their keys).
llvm::json::Value toJSON(const Manifest &manifest);

/// Writes a manifest.json file atomically (pretty-printed).
llvm::Error writeManifestFile(llvm::StringRef path, const Manifest &manifest);

/// The manifest for people: files, fingerprint, target, and per entry point
/// its inputs, outputs and weight and parameter totals; `verbose` adds every
/// weight and parameter and the target's feature list.
void printManifest(llvm::raw_ostream &os, const Manifest &manifest,
                   bool verbose);

} // namespace qaf

#endif // QAF_RUNTIME_MANIFEST_H
