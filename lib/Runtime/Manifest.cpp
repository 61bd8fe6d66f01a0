//===- Manifest.cpp - the artifact's manifest.json ------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Manifest.h"

#include "qaf/Support/AtomicFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

using namespace llvm;

namespace qaf {

std::string ManifestDim::str() const {
  if (isStatic())
    return std::to_string(size);
  return isNamed() ? symbol : "?";
}

std::vector<int64_t> TensorSpec::getStaticShape() const {
  assert(isStatic() && "shape has dynamic dimensions");
  std::vector<int64_t> sizes;
  for (const ManifestDim &dim : shape)
    sizes.push_back(dim.size);
  return sizes;
}

bool TensorSpec::isStatic() const {
  return all_of(shape, [](const ManifestDim &dim) { return dim.isStatic(); });
}

std::string TensorSpec::describe() const {
  std::string text = getDTypeName(dtype).str() + "[";
  for (auto [i, dim] : enumerate(shape))
    text += (i ? ", " : "") + dim.str();
  return text + "]";
}

bool EntryPoint::hasOutputsWrittenIntoInputs() const {
  return any_of(outputs, [](const TensorSpec &output) {
    return !output.writtenInto.empty();
  });
}

const EntryPoint *Manifest::findEntryPoint(StringRef name) const {
  for (const EntryPoint &entry : entryPoints)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

std::vector<TensorSpec> Manifest::getAllParameters() const {
  std::vector<TensorSpec> all;
  StringSet<> seen;
  for (const EntryPoint &entry : entryPoints)
    for (const TensorSpec &parameter : entry.parameters)
      if (seen.insert(parameter.name).second)
        all.push_back(parameter);
  return all;
}

std::vector<TensorSpec> Manifest::getAllWeights() const {
  std::vector<TensorSpec> all;
  StringSet<> seen;
  for (const EntryPoint &entry : entryPoints)
    for (const TensorSpec &weight : entry.weights)
      if (seen.insert(weight.name).second)
        all.push_back(weight);
  return all;
}

std::string Manifest::listEntryPoints() const {
  std::string names;
  for (const EntryPoint &entry : entryPoints)
    names += (names.empty() ? "" : ", ") + entry.name;
  return names;
}

namespace {
constexpr std::pair<TargetKind, StringLiteral> kTargetKindNames[] = {
    {TargetKind::CPU, "cpu"}, {TargetKind::CUDA, "cuda"}};
constexpr std::pair<BinaryKind, StringLiteral> kBinaryKindNames[] = {
    {BinaryKind::SharedLibrary, "shared-library"},
    {BinaryKind::Cubin, "cubin"},
    {BinaryKind::PTX, "ptx"},
    {BinaryKind::Fatbin, "fatbin"}};

template <typename Kind, size_t N>
StringRef getKindName(const std::pair<Kind, StringLiteral> (&names)[N],
                      Kind kind) {
  for (const auto &[each, name] : names)
    if (each == kind)
      return name;
  llvm_unreachable("a kind without a name");
}

template <typename Kind, size_t N>
std::optional<Kind>
parseKindName(const std::pair<Kind, StringLiteral> (&names)[N],
              StringRef name) {
  for (const auto &[each, eachName] : names)
    if (eachName == name)
      return each;
  return std::nullopt;
}

template <typename Kind, size_t N>
std::string listKindNames(const std::pair<Kind, StringLiteral> (&names)[N]) {
  std::string list;
  for (const auto &[kind, name] : names)
    list += (list.empty() ? "" : ", ") + name.str();
  return list;
}
} // namespace

StringRef getTargetKindName(TargetKind kind) {
  return getKindName(kTargetKindNames, kind);
}
std::optional<TargetKind> parseTargetKindName(StringRef name) {
  return parseKindName(kTargetKindNames, name);
}
StringRef getBinaryKindName(BinaryKind kind) {
  return getKindName(kBinaryKindNames, kind);
}
std::optional<BinaryKind> parseBinaryKindName(StringRef name) {
  return parseKindName(kBinaryKindNames, name);
}

bool isBinaryKindOf(TargetKind kind, BinaryKind binary) {
  switch (kind) {
  case TargetKind::CPU:
    return binary == BinaryKind::SharedLibrary;
  case TargetKind::CUDA:
    return binary == BinaryKind::Cubin || binary == BinaryKind::PTX ||
           binary == BinaryKind::Fatbin;
  }
  llvm_unreachable("unknown target kind");
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

namespace {

/// Parses one manifest; every error names the source and the field.
class ManifestParser {
public:
  explicit ManifestParser(StringRef sourceName) : sourceName(sourceName) {}

  Expected<Manifest> parse(const json::Value &json);
  Expected<LibraryABI> parseLibraryABI(const json::Value &json);

private:
  Error fail(const Twine &field, const Twine &message) const {
    return make_error<StringError>(sourceName + ": " + field + ": " + message,
                                   inconvertibleErrorCode());
  }

  Expected<const json::Object *> getObject(const json::Value &value,
                                           const Twine &field) const;
  Expected<const json::Array *> getArray(const json::Object &object,
                                         StringRef key,
                                         const Twine &parentField) const;
  /// A required non-empty string member.
  Expected<std::string> getString(const json::Object &object, StringRef key,
                                  const Twine &parentField) const;
  /// An optional string member ("" when absent).
  Expected<std::string> getOptionalString(const json::Object &object,
                                          StringRef key,
                                          const Twine &parentField) const;
  Expected<TensorSpec> parseTensorSpec(const json::Value &value,
                                       const std::string &field) const;
  /// The tensors of a file (weights, parameters) have fixed shapes.
  Error checkFileTensors(ArrayRef<TensorSpec> specs, StringRef role,
                         const std::string &listField) const;
  Expected<TargetDescription> parseTarget(const json::Value &value) const;
  /// A file the manifest names (`key`) is a relative path that stays in
  /// the artifact folder.
  Error checkInsideArtifact(StringRef key, StringRef file) const;
  /// Parameters named by several entry points are one buffer: they must
  /// agree, and no name may be both a weight and a parameter.
  Error checkSharedParameters(const Manifest &manifest) const;
  /// The top-level "format" field must be `expected` (a manifest, a
  /// library description).
  Error checkFormat(const json::Object &root, StringRef expected) const;
  Expected<std::vector<TensorSpec>>
  parseTensorSpecs(const json::Object &entry, StringRef key,
                   const std::string &entryField) const;
  Expected<EntryPoint> parseEntryPoint(const json::Value &value,
                                       const std::string &field) const;
  /// An output's `written_into` names a distinct input of its dtype and
  /// rank, beside the kCacheLengthInput scalar; nothing else has one.
  Error checkWrittenInto(const EntryPoint &entry,
                         const std::string &field) const;

  std::string sourceName;
};

std::string joinField(const Twine &parent, StringRef key) {
  std::string parentText = parent.str();
  return parentText.empty() ? key.str() : parentText + "." + key.str();
}

Expected<const json::Object *>
ManifestParser::getObject(const json::Value &value, const Twine &field) const {
  const json::Object *object = value.getAsObject();
  if (!object)
    return fail(field, "expected an object");
  return object;
}

Expected<const json::Array *>
ManifestParser::getArray(const json::Object &object, StringRef key,
                         const Twine &parentField) const {
  std::string field = joinField(parentField, key);
  const json::Value *value = object.get(key);
  if (!value)
    return fail(field, "missing");
  const json::Array *array = value->getAsArray();
  if (!array)
    return fail(field, "expected an array");
  return array;
}

Expected<std::string>
ManifestParser::getOptionalString(const json::Object &object, StringRef key,
                                  const Twine &parentField) const {
  const json::Value *value = object.get(key);
  if (!value)
    return "";
  std::optional<StringRef> text = value->getAsString();
  if (!text)
    return fail(joinField(parentField, key), "expected a string");
  return text->str();
}

Expected<std::string>
ManifestParser::getString(const json::Object &object, StringRef key,
                          const Twine &parentField) const {
  std::string field = joinField(parentField, key);
  if (!object.get(key))
    return fail(field, "missing");
  Expected<std::string> text = getOptionalString(object, key, parentField);
  if (!text)
    return text.takeError();
  if (text->empty())
    return fail(field, "must not be empty");
  return text;
}

Expected<TensorSpec>
ManifestParser::parseTensorSpec(const json::Value &value,
                                const std::string &field) const {
  Expected<const json::Object *> object = getObject(value, field);
  if (!object)
    return object.takeError();
  TensorSpec spec;
  Expected<std::string> name = getString(**object, "name", field);
  if (!name)
    return name.takeError();
  spec.name = std::move(*name);

  Expected<std::string> dtypeName = getString(**object, "dtype", field);
  if (!dtypeName)
    return dtypeName.takeError();
  std::optional<DType> dtype = parseDTypeName(*dtypeName);
  if (!dtype) {
    std::string known;
    for (DType each : getAllDTypes())
      known += (known.empty() ? "" : ", ") + getDTypeName(each).str();
    return fail(field + ".dtype",
                "unknown dtype '" + *dtypeName + "' (known: " + known + ")");
  }
  spec.dtype = *dtype;

  Expected<const json::Array *> dims = getArray(**object, "shape", field);
  if (!dims)
    return dims.takeError();
  for (auto [i, dim] : enumerate(**dims)) {
    std::string dimField = field + ".shape[" + std::to_string(i) + "]";
    if (dim.kind() == json::Value::Null) {
      spec.shape.push_back(ManifestDim::getUnnamed());
    } else if (std::optional<StringRef> symbol = dim.getAsString()) {
      if (symbol->empty())
        return fail(dimField, "a dimension name must not be empty");
      spec.shape.push_back(ManifestDim::getNamed(*symbol));
    } else if (std::optional<int64_t> size = dim.getAsInteger()) {
      if (*size < 0)
        return fail(dimField, "negative dimension " + Twine(*size));
      spec.shape.push_back(ManifestDim::getStatic(*size));
    } else {
      return fail(dimField, "expected an integer, a dimension name or null");
    }
  }
  Expected<std::string> writtenInto =
      getOptionalString(**object, "written_into", field);
  if (!writtenInto)
    return writtenInto.takeError();
  spec.writtenInto = std::move(*writtenInto);
  return spec;
}

Expected<std::vector<TensorSpec>>
ManifestParser::parseTensorSpecs(const json::Object &entry, StringRef key,
                                 const std::string &entryField) const {
  Expected<const json::Array *> array = getArray(entry, key, entryField);
  if (!array)
    return array.takeError();
  std::vector<TensorSpec> specs;
  StringSet<> names;
  for (auto [i, value] : enumerate(**array)) {
    std::string field =
        joinField(entryField, key) + "[" + std::to_string(i) + "]";
    Expected<TensorSpec> spec = parseTensorSpec(value, field);
    if (!spec)
      return spec.takeError();
    if (!names.insert(spec->name).second)
      return fail(field + ".name", "duplicate name '" + spec->name + "'");
    specs.push_back(std::move(*spec));
  }
  return specs;
}

Expected<EntryPoint>
ManifestParser::parseEntryPoint(const json::Value &value,
                                const std::string &field) const {
  Expected<const json::Object *> object = getObject(value, field);
  if (!object)
    return object.takeError();
  EntryPoint entry;
  Expected<std::string> name = getString(**object, "name", field);
  if (!name)
    return name.takeError();
  entry.name = std::move(*name);
  if (!all_of(entry.name, [](char c) { return isAlnum(c) || c == '_'; }))
    return fail(field + ".name", "'" + entry.name +
                                     "' is not an entry point name (letters, "
                                     "digits and '_')");
  Expected<std::string> symbol = getString(**object, "symbol", field);
  if (!symbol)
    return symbol.takeError();
  entry.symbol = std::move(*symbol);
  // The runtime calls the symbol with the entry point ABI: anything else
  // the library exports (or links in, like `free`) must not be reachable.
  if (entry.symbol != "qaf_entry_" + entry.name)
    return fail(field + ".symbol",
                "'" + entry.symbol + "' is not the symbol of entry point '" +
                    entry.name + "' (expected 'qaf_entry_" + entry.name + "')");

  for (auto [key, specs] : {std::pair<StringRef, std::vector<TensorSpec> *>{
                                "weights", &entry.weights},
                            {"parameters", &entry.parameters},
                            {"inputs", &entry.inputs},
                            {"outputs", &entry.outputs}}) {
    Expected<std::vector<TensorSpec>> parsed =
        parseTensorSpecs(**object, key, field);
    if (!parsed)
      return parsed.takeError();
    *specs = std::move(*parsed);
  }
  if (Error error =
          checkFileTensors(entry.weights, "weight", field + ".weights"))
    return std::move(error);
  if (Error error = checkFileTensors(entry.parameters, "parameter",
                                     field + ".parameters"))
    return std::move(error);
  if (Error error = checkWrittenInto(entry, field))
    return std::move(error);
  return entry;
}

Error ManifestParser::checkWrittenInto(const EntryPoint &entry,
                                       const std::string &field) const {
  for (auto [key, specs] :
       {std::pair<StringRef, ArrayRef<TensorSpec>>{"weights", entry.weights},
        {"parameters", entry.parameters},
        {"inputs", entry.inputs}})
    for (auto [i, spec] : enumerate(specs))
      if (!spec.writtenInto.empty())
        return fail(joinField(field, key) + "[" + std::to_string(i) +
                        "].written_into",
                    "only an output is written into an input");
  bool hasLength = false;
  for (const TensorSpec &input : entry.inputs)
    hasLength |= input.name == kCacheLengthInput &&
                 input.dtype == DType::Int64 && input.getRank() == 0;
  StringSet<> targets;
  for (auto [i, output] : enumerate(entry.outputs)) {
    if (output.writtenInto.empty())
      continue;
    std::string outputField = joinField(field, "outputs") + "[" +
                              std::to_string(i) + "].written_into";
    const TensorSpec *input = nullptr;
    for (const TensorSpec &each : entry.inputs)
      if (each.name == output.writtenInto)
        input = &each;
    if (!input || input->dtype != output.dtype ||
        input->getRank() != output.getRank() || input->getRank() != 4)
      return fail(outputField,
                  "'" + output.writtenInto +
                      "' is not an input of the output's dtype and rank 4 "
                      "[batch, heads, length, head size]");
    if (!targets.insert(output.writtenInto).second)
      return fail(outputField, "two outputs are written into input '" +
                                   output.writtenInto + "'");
    if (!hasLength)
      return fail(outputField, "the entry point has no int64 scalar input '" +
                                   kCacheLengthInput +
                                   "' to say how long the past is");
  }
  return Error::success();
}

Error ManifestParser::checkFileTensors(ArrayRef<TensorSpec> specs,
                                       StringRef role,
                                       const std::string &listField) const {
  for (auto [i, spec] : enumerate(specs)) {
    std::string field = listField + "[" + std::to_string(i) + "].shape";
    std::string what = (role + " '" + spec.name + "'").str();
    if (!spec.isStatic())
      return fail(field, what + " has a dynamic dimension: " + spec.describe());
    if (Expected<int64_t> count =
            getCheckedNumElements(spec.getStaticShape(), spec.dtype, what);
        !count)
      return fail(field, toString(count.takeError()));
  }
  return Error::success();
}

Error ManifestParser::checkInsideArtifact(StringRef key, StringRef file) const {
  // The runtime loads these files (dlopen runs the library's constructors):
  // a manifest must not reach outside its own folder.
  bool escapes =
      sys::path::is_absolute(file) ||
      sys::path::is_absolute(file, sys::path::Style::windows) ||
      any_of(make_range(sys::path::begin(file), sys::path::end(file)),
             [](StringRef part) { return part == ".."; });
  if (escapes)
    return fail(key, "'" + file +
                         "' is outside the artifact folder (a file of the "
                         "artifact is a relative path without '..')");
  return Error::success();
}

Expected<TargetDescription>
ManifestParser::parseTarget(const json::Value &value) const {
  Expected<const json::Object *> object = getObject(value, "target");
  if (!object)
    return object.takeError();
  TargetDescription target;
  Expected<std::string> kindName = getString(**object, "kind", "target");
  if (!kindName)
    return kindName.takeError();
  std::optional<TargetKind> kind = parseTargetKindName(*kindName);
  if (!kind)
    return fail("target.kind",
                "unknown target kind '" + *kindName +
                    "' (known: " + listKindNames(kTargetKindNames) + ")");
  target.kind = *kind;
  Expected<std::string> binaryName = getString(**object, "binary", "target");
  if (!binaryName)
    return binaryName.takeError();
  std::optional<BinaryKind> binary = parseBinaryKindName(*binaryName);
  if (!binary)
    return fail("target.binary",
                "unknown binary kind '" + *binaryName +
                    "' (known: " + listKindNames(kBinaryKindNames) + ")");
  if (!isBinaryKindOf(*kind, *binary))
    return fail("target.binary", "a " + *kindName + " target's code cannot " +
                                     "be a " + *binaryName);
  target.binary = *binary;
  for (auto [key, member] :
       {std::pair<StringRef, std::string *>{"triple", &target.triple},
        {"cpu", &target.cpu},
        {"features", &target.features},
        {"arch", &target.arch},
        {"ptx_isa", &target.ptxISA},
        {"matmul_precision", &target.matmulPrecision}}) {
    Expected<std::string> text = getOptionalString(**object, key, "target");
    if (!text)
      return text.takeError();
    *member = std::move(*text);
  }
  if (!target.matmulPrecision.empty()) {
    if (target.kind != TargetKind::CUDA)
      return fail("target.matmul_precision",
                  "only a cuda target records a matmul precision");
    if (!is_contained(kMatmulPrecisions, target.matmulPrecision))
      return fail("target.matmul_precision",
                  "unknown matmul precision '" + target.matmulPrecision +
                      "' (known: " +
                      join(std::begin(kMatmulPrecisions),
                           std::end(kMatmulPrecisions), ", ") +
                      ")");
  }
  if (target.kind == TargetKind::CUDA) {
    // `sm_90`, `sm_90a`, `sm_100f`: what ptxas and the driver accept.
    if (target.arch.empty())
      return fail("target.arch",
                  "missing: a cuda target names its GPU architecture "
                  "(e.g. sm_90)");
    StringRef version = target.arch;
    bool valid = version.consume_front("sm_");
    if (version.ends_with("a") || version.ends_with("f"))
      version = version.drop_back();
    if (!valid || version.empty() || !all_of(version, isDigit))
      return fail("target.arch", "'" + target.arch +
                                     "' is not a CUDA architecture (expected "
                                     "sm_<version>, e.g. sm_90)");
  }
  return target;
}

Error ManifestParser::checkSharedParameters(const Manifest &manifest) const {
  StringMap<std::pair<const TensorSpec *, const EntryPoint *>> parameters;
  StringMap<const EntryPoint *> weights;
  for (const EntryPoint &entry : manifest.entryPoints)
    for (const TensorSpec &weight : entry.weights)
      weights.try_emplace(weight.name, &entry);
  for (auto [e, entry] : enumerate(manifest.entryPoints))
    for (auto [i, parameter] : enumerate(entry.parameters)) {
      std::string field = "entry_points[" + std::to_string(e) +
                          "].parameters[" + std::to_string(i) + "]";
      if (const EntryPoint *owner = weights.lookup(parameter.name))
        return fail(field + ".name",
                    "'" + parameter.name +
                        "' is a parameter here but a weight of entry point '" +
                        owner->name + "'");
      auto [it, inserted] =
          parameters.try_emplace(parameter.name, &parameter, &entry);
      if (inserted)
        continue;
      const TensorSpec &first = *it->second.first;
      if (first.dtype != parameter.dtype || first.shape != parameter.shape)
        return fail(field, "parameter '" + parameter.name + "' is " +
                               parameter.describe() + " here but " +
                               first.describe() + " in entry point '" +
                               it->second.second->name +
                               "' (entry points share a parameter's buffer)");
    }
  bool hasParameters = !parameters.empty();
  if (hasParameters && manifest.parameters.empty())
    return fail("parameters", "missing: entry points have parameters, which "
                              "need a parameters file");
  if (!hasParameters && !manifest.parameters.empty())
    return fail("parameters", "names a file, but no entry point has "
                              "parameters");
  return Error::success();
}

Error ManifestParser::checkFormat(const json::Object &root,
                                  StringRef expected) const {
  Expected<std::string> format = getString(root, "format", "");
  if (!format)
    return format.takeError();
  if (*format != expected)
    return fail("format",
                "expected '" + expected + "', found '" + *format + "'");
  return Error::success();
}

Expected<Manifest> ManifestParser::parse(const json::Value &json) {
  Expected<const json::Object *> root = getObject(json, "(top level)");
  if (!root)
    return root.takeError();

  if (Error error = checkFormat(**root, Manifest::kFormat))
    return std::move(error);
  const json::Value *version = (*root)->get("version");
  if (!version)
    return fail("version", "missing");
  std::optional<int64_t> versionNumber = version->getAsInteger();
  if (!versionNumber)
    return fail("version", "expected an integer");
  if (*versionNumber != Manifest::kVersion)
    return fail("version",
                "version " + Twine(*versionNumber) +
                    " is not supported (this runtime reads version " +
                    Twine(Manifest::kVersion) +
                    "): recompile the model with this qaf-compile");

  Manifest manifest;
  manifest.version = *versionNumber;
  for (auto [key, member] :
       {std::pair<StringRef, std::string *>{"library", &manifest.library},
        {"weights", &manifest.weights},
        {"fingerprint", &manifest.fingerprint}}) {
    Expected<std::string> value = getString(**root, key, "");
    if (!value)
      return value.takeError();
    *member = std::move(*value);
  }

  if ((*root)->get("parameters")) {
    Expected<std::string> value = getString(**root, "parameters", "");
    if (!value)
      return value.takeError();
    manifest.parameters = std::move(*value);
  }
  for (auto [key, file] :
       {std::pair<StringRef, StringRef>{"library", manifest.library},
        {"weights", manifest.weights},
        {"parameters", manifest.parameters}})
    if (Error error = checkInsideArtifact(key, file))
      return std::move(error);

  const json::Value *target = (*root)->get("target");
  if (!target)
    return fail("target", "missing");
  Expected<TargetDescription> parsedTarget = parseTarget(*target);
  if (!parsedTarget)
    return parsedTarget.takeError();
  manifest.target = std::move(*parsedTarget);

  Expected<const json::Array *> entries = getArray(**root, "entry_points", "");
  if (!entries)
    return entries.takeError();
  if ((*entries)->empty())
    return fail("entry_points", "the artifact has no entry point");
  StringSet<> entryNames;
  for (auto [i, value] : enumerate(**entries)) {
    std::string field = "entry_points[" + std::to_string(i) + "]";
    Expected<EntryPoint> entry = parseEntryPoint(value, field);
    if (!entry)
      return entry.takeError();
    if (!entryNames.insert(entry->name).second)
      return fail(field + ".name",
                  "duplicate entry point '" + entry->name + "'");
    manifest.entryPoints.push_back(std::move(*entry));
  }
  if (Error error = checkSharedParameters(manifest))
    return std::move(error);
  return manifest;
}

Expected<LibraryABI> ManifestParser::parseLibraryABI(const json::Value &json) {
  Expected<const json::Object *> root = getObject(json, "(top level)");
  if (!root)
    return root.takeError();
  if (Error error = checkFormat(**root, LibraryABI::kFormat))
    return std::move(error);
  const json::Value *version = (*root)->get("version");
  if (!version || version->getAsInteger() != LibraryABI::kVersion)
    return fail("version", "expected " + Twine(LibraryABI::kVersion) +
                               ": recompile the model with this qaf-compile");
  LibraryABI abi;
  for (auto [key, member, required] :
       {std::tuple<StringRef, std::string *, bool>{"fingerprint",
                                                   &abi.fingerprint, true},
        {"weights_hash", &abi.weightsHash, true},
        {"parameters_hash", &abi.parametersHash, false}}) {
    Expected<std::string> value = required ? getString(**root, key, "")
                                           : getOptionalString(**root, key, "");
    if (!value)
      return value.takeError();
    *member = std::move(*value);
  }
  Expected<const json::Array *> entries = getArray(**root, "entry_points", "");
  if (!entries)
    return entries.takeError();
  for (auto [i, value] : enumerate(**entries)) {
    Expected<EntryPoint> entry =
        parseEntryPoint(value, "entry_points[" + std::to_string(i) + "]");
    if (!entry)
      return entry.takeError();
    abi.entryPoints.push_back(std::move(*entry));
  }
  return abi;
}

} // namespace

Expected<LibraryABI> parseLibraryABI(StringRef text, StringRef sourceName) {
  Expected<json::Value> json = json::parse(text);
  if (!json)
    return make_error<StringError>(sourceName +
                                       ": its description is not valid JSON: " +
                                       toString(json.takeError()),
                                   inconvertibleErrorCode());
  return ManifestParser(sourceName).parseLibraryABI(*json);
}

Expected<Manifest> parseManifestValue(const json::Value &json,
                                      StringRef sourceName) {
  return ManifestParser(sourceName).parse(json);
}

Expected<Manifest> parseManifest(StringRef text, StringRef sourceName) {
  Expected<json::Value> json = json::parse(text);
  if (!json)
    return make_error<StringError>(
        sourceName + ": not valid JSON: " + toString(json.takeError()),
        inconvertibleErrorCode());
  return parseManifestValue(*json, sourceName);
}

Expected<Manifest> readManifestFile(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return createStringError(buffer.getError(), "cannot read '%s': %s",
                             path.str().c_str(),
                             buffer.getError().message().c_str());
  return parseManifest((*buffer)->getBuffer(), path);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {
void writeTensorSpecs(json::OStream &json, StringRef key,
                      ArrayRef<TensorSpec> specs) {
  json.attributeArray(key, [&] {
    for (const TensorSpec &spec : specs)
      json.object([&] {
        json.attribute("name", spec.name);
        json.attribute("dtype", getDTypeName(spec.dtype));
        json.attributeArray("shape", [&] {
          for (const ManifestDim &dim : spec.shape) {
            if (dim.isStatic())
              json.value(dim.size);
            else if (dim.isNamed())
              json.value(dim.symbol);
            else
              json.value(nullptr);
          }
        });
        if (!spec.writtenInto.empty())
          json.attribute("written_into", spec.writtenInto);
      });
  });
}

void writeEntryPoints(json::OStream &json, ArrayRef<EntryPoint> entryPoints) {
  json.attributeArray("entry_points", [&] {
    for (const EntryPoint &entry : entryPoints)
      json.object([&] {
        json.attribute("name", entry.name);
        json.attribute("symbol", entry.symbol);
        writeTensorSpecs(json, "weights", entry.weights);
        writeTensorSpecs(json, "parameters", entry.parameters);
        writeTensorSpecs(json, "inputs", entry.inputs);
        writeTensorSpecs(json, "outputs", entry.outputs);
      });
  });
}
} // namespace

void writeManifestJSON(json::OStream &json, const Manifest &manifest) {
  const TargetDescription &target = manifest.target;
  json.object([&] {
    json.attribute("format", Manifest::kFormat);
    json.attribute("version", manifest.version);
    json.attribute("library", manifest.library);
    json.attribute("weights", manifest.weights);
    if (!manifest.parameters.empty())
      json.attribute("parameters", manifest.parameters);
    json.attribute("fingerprint", manifest.fingerprint);
    json.attributeObject("target", [&] {
      json.attribute("kind", getTargetKindName(target.kind));
      json.attribute("binary", getBinaryKindName(target.binary));
      for (auto [key, value] :
           {std::pair<StringRef, StringRef>{"arch", target.arch},
            {"triple", target.triple},
            {"cpu", target.cpu},
            {"features", target.features},
            {"ptx_isa", target.ptxISA},
            {"matmul_precision", target.matmulPrecision}})
        if (!value.empty())
          json.attribute(key, value);
    });
    writeEntryPoints(json, manifest.entryPoints);
  });
}

LibraryABI describeLibraryABI(const Manifest &manifest, StringRef weightsHash,
                              StringRef parametersHash) {
  LibraryABI abi;
  abi.fingerprint = manifest.fingerprint;
  abi.weightsHash = weightsHash.str();
  abi.parametersHash = parametersHash.str();
  abi.entryPoints = manifest.entryPoints;
  return abi;
}

std::string writeLibraryABI(const LibraryABI &abi) {
  std::string text;
  raw_string_ostream os(text);
  json::OStream json(os);
  json.object([&] {
    json.attribute("format", LibraryABI::kFormat);
    json.attribute("version", LibraryABI::kVersion);
    json.attribute("fingerprint", abi.fingerprint);
    json.attribute("weights_hash", abi.weightsHash);
    if (!abi.parametersHash.empty())
      json.attribute("parameters_hash", abi.parametersHash);
    writeEntryPoints(json, abi.entryPoints);
  });
  return text;
}

namespace {
/// `weights [w: float32[4], x: int64[2]]`, to show a disagreement.
std::string describeSpecs(StringRef role, ArrayRef<TensorSpec> specs) {
  std::string text = role.str() + " [";
  for (auto [i, spec] : enumerate(specs))
    text += (i ? ", " : "") + spec.name + ": " + spec.describe();
  return text + "]";
}

bool sameSpecs(ArrayRef<TensorSpec> a, ArrayRef<TensorSpec> b) {
  return a.size() == b.size() && all_of(zip_equal(a, b), [](auto pair) {
           const auto &[x, y] = pair;
           return x.name == y.name && x.dtype == y.dtype &&
                  x.shape == y.shape && x.writtenInto == y.writtenInto;
         });
}
} // namespace

Error checkManifestMatchesLibrary(const Manifest &manifest,
                                  const LibraryABI &abi,
                                  StringRef libraryPath) {
  auto disagree = [&](const Twine &what) {
    return make_error<StringError>("the manifest disagrees with its library '" +
                                       libraryPath + "': " + what,
                                   inconvertibleErrorCode());
  };
  auto listNames = [](ArrayRef<EntryPoint> entries) {
    std::string names;
    for (const EntryPoint &entry : entries)
      names += (names.empty() ? "" : ", ") + entry.symbol;
    return names;
  };
  for (const EntryPoint &entry : manifest.entryPoints) {
    auto compiled = find_if(abi.entryPoints, [&](const EntryPoint &each) {
      return each.name == entry.name;
    });
    if (compiled == abi.entryPoints.end())
      return disagree("the library has no entry point '" + entry.name +
                      "' (it defines " + listNames(abi.entryPoints) + ")");
    if (compiled->symbol != entry.symbol)
      return disagree("entry point '" + entry.name + "' is " +
                      compiled->symbol + " in the library, " + entry.symbol +
                      " in the manifest");
    for (auto [role, listed, actual] :
         {std::tuple<StringRef, ArrayRef<TensorSpec>, ArrayRef<TensorSpec>>{
              "weights", entry.weights, compiled->weights},
          {"parameters", entry.parameters, compiled->parameters},
          {"inputs", entry.inputs, compiled->inputs},
          {"outputs", entry.outputs, compiled->outputs}})
      if (!sameSpecs(listed, actual))
        return disagree("entry point '" + entry.name +
                        "': the manifest lists " + describeSpecs(role, listed) +
                        ", the library takes " + describeSpecs(role, actual));
  }
  return Error::success();
}

std::string hashTensorContents(ArrayRef<ArrayRef<char>> tensors) {
  std::vector<uint8_t> hashes;
  hashes.reserve(tensors.size() * sizeof(uint64_t));
  for (ArrayRef<char> bytes : tensors) {
    uint64_t hash = xxh3_64bits(ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
    for (unsigned i = 0; i < sizeof(uint64_t); ++i)
      hashes.push_back(uint8_t(hash >> (8 * i)));
  }
  return formatv("{0:x16}", xxh3_64bits(hashes)).str();
}

json::Value toJSON(const Manifest &manifest) {
  std::string text;
  raw_string_ostream os(text);
  json::OStream json(os);
  writeManifestJSON(json, manifest);
  os.flush();
  // What writeManifestJSON wrote is valid JSON by construction.
  return cantFail(json::parse(text));
}

Error writeManifestFile(StringRef path, const Manifest &manifest) {
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  json::OStream json((*file)->os(), /*IndentSize=*/2);
  writeManifestJSON(json, manifest);
  (*file)->os() << "\n";
  return (*file)->commit();
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

namespace {
/// `2 tensors, 40 elements, 0.0 MiB`.
std::string summarizeTensors(ArrayRef<TensorSpec> specs) {
  int64_t elements = 0;
  uint64_t bytes = 0;
  for (const TensorSpec &spec : specs) {
    int64_t count = 1;
    for (int64_t dim : spec.getStaticShape())
      count *= dim;
    elements += count;
    bytes += count * getDTypeSize(spec.dtype);
  }
  return formatv("{0} tensors, {1} elements, {2:f1} MiB", specs.size(),
                 elements, bytes / 1048576.0)
      .str();
}
} // namespace

void printManifest(raw_ostream &os, const Manifest &manifest, bool verbose) {
  os << "format: " << Manifest::kFormat << " version " << manifest.version
     << "\n";
  os << "library: " << manifest.library << "\n";
  os << "weights: " << manifest.weights << "\n";
  if (!manifest.parameters.empty())
    os << "parameters: " << manifest.parameters << "\n";
  os << "fingerprint: " << manifest.fingerprint << "\n";
  const TargetDescription &target = manifest.target;
  os << "target: " << getTargetKindName(target.kind) << " "
     << getBinaryKindName(target.binary);
  for (StringRef field :
       {StringRef(target.triple.empty() || target.kind == TargetKind::CUDA
                      ? target.arch
                      : target.triple),
        StringRef(target.cpu)})
    if (!field.empty())
      os << " " << field;
  // Compilers record every feature, enabled or not: a long list that only
  // the verbose form shows.
  SmallVector<StringRef> features;
  SplitString(target.features, features, ",");
  size_t enabled = count_if(
      features, [](StringRef feature) { return feature.starts_with("+"); });
  if (!verbose && enabled)
    os << " (" << enabled << " features enabled)";
  os << "\n";
  if (verbose && !features.empty())
    os << "target features: " << target.features << "\n";
  if (!target.matmulPrecision.empty())
    os << "matmul precision: " << target.matmulPrecision
       << " inputs, float accumulation\n";
  for (const EntryPoint &entry : manifest.entryPoints) {
    os << "entry point '" << entry.name << "' (" << entry.symbol << "):\n";
    for (auto [title, specs] :
         {std::pair<StringRef, ArrayRef<TensorSpec>>{"inputs", entry.inputs},
          {"outputs", entry.outputs}}) {
      os << "  " << title << ":" << (specs.empty() ? " none" : "") << "\n";
      for (const TensorSpec &spec : specs) {
        os << "    " << spec.name << ": " << spec.describe();
        if (!spec.writtenInto.empty())
          os << " (written into input '" << spec.writtenInto << "')";
        os << "\n";
      }
    }
    for (auto [title, specs] :
         {std::pair<StringRef, ArrayRef<TensorSpec>>{"weights", entry.weights},
          {"parameters", entry.parameters}}) {
      // Infer-only artifacts have no parameters: no line about them.
      if (title == "parameters" && specs.empty())
        continue;
      os << "  " << title << ": " << summarizeTensors(specs) << "\n";
      if (verbose)
        for (const TensorSpec &spec : specs)
          os << "    " << spec.name << ": " << spec.describe() << "\n";
    }
  }
}

} // namespace qaf
