//===- Manifest.h - the artifact's manifest.json ----------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The manifest of a compiled artifact (docs/artifact-abi.md): its files, its
// fingerprint, and per entry point the weights, inputs and outputs with
// their dtypes and shapes. Parsing validates everything the loader relies on
// and names the offending field (`entry_points[0].inputs[1].dtype`).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_MANIFEST_H
#define QAF_RUNTIME_MANIFEST_H

#include "qaf/Runtime/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

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

/// A weight, input or output of an entry point.
struct TensorSpec {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<ManifestDim> shape;

  int64_t getRank() const { return shape.size(); }
  /// The sizes of a fully static shape.
  std::vector<int64_t> getStaticShape() const;
  bool isStatic() const;
  /// `float32[batch, 4]`.
  std::string describe() const;
};

struct EntryPoint {
  /// `infer`, `train_step`, `eval_step`.
  std::string name;
  /// The C symbol in the library: `qaf_entry_<name>`.
  std::string symbol;
  std::vector<TensorSpec> weights;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

/// What the code was compiled for; informational.
struct TargetDescription {
  std::string arch;
  /// The LLVM target triple, when the compiler recorded one.
  std::string triple;
  std::string cpu;
  std::string features;
};

struct Manifest {
  static constexpr llvm::StringLiteral kFormat = "qaf-artifact";
  static constexpr int64_t kVersion = 1;

  int64_t version = kVersion;
  /// The library and weight files, relative to the artifact folder.
  std::string library = "model.so";
  std::string weights = "weights.safetensors";
  std::string fingerprint;
  TargetDescription target;
  std::vector<EntryPoint> entryPoints;

  /// The entry point called `name`, or null.
  const EntryPoint *findEntryPoint(llvm::StringRef name) const;
};

/// Parses and validates manifest JSON; errors start with `sourceName`.
llvm::Expected<Manifest> parseManifest(llvm::StringRef json,
                                       llvm::StringRef sourceName);

/// Reads and parses a manifest.json file.
llvm::Expected<Manifest> readManifestFile(llvm::StringRef path);

/// The manifest as JSON, in the documented field order.
llvm::json::Value toJSON(const Manifest &manifest);

/// Writes a manifest.json file atomically (pretty-printed).
llvm::Error writeManifestFile(llvm::StringRef path, const Manifest &manifest);

/// The manifest for people: files, fingerprint, target, and per entry point
/// its inputs, outputs and weight totals; `verbose` adds every weight and
/// the target's feature list.
void printManifest(llvm::raw_ostream &os, const Manifest &manifest,
                   bool verbose);

} // namespace qaf

#endif // QAF_RUNTIME_MANIFEST_H
