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

const EntryPoint *Manifest::findEntryPoint(StringRef name) const {
  for (const EntryPoint &entry : entryPoints)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

namespace {

/// Parses one manifest; every error names the source and the field.
class ManifestParser {
public:
  explicit ManifestParser(StringRef sourceName) : sourceName(sourceName) {}

  Expected<Manifest> parse(StringRef json);

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
  Expected<std::vector<TensorSpec>>
  parseTensorSpecs(const json::Object &entry, StringRef key,
                   const std::string &entryField) const;
  Expected<EntryPoint> parseEntryPoint(const json::Value &value,
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
  Expected<std::string> symbol = getString(**object, "symbol", field);
  if (!symbol)
    return symbol.takeError();
  entry.symbol = std::move(*symbol);

  for (auto [key, specs] : {std::pair<StringRef, std::vector<TensorSpec> *>{
                                "weights", &entry.weights},
                            {"inputs", &entry.inputs},
                            {"outputs", &entry.outputs}}) {
    Expected<std::vector<TensorSpec>> parsed =
        parseTensorSpecs(**object, key, field);
    if (!parsed)
      return parsed.takeError();
    *specs = std::move(*parsed);
  }
  // Weights come from the weight file, whose tensors have fixed shapes.
  for (auto [i, weight] : enumerate(entry.weights)) {
    std::string weightField =
        field + ".weights[" + std::to_string(i) + "].shape";
    if (!weight.isStatic())
      return fail(weightField,
                  "weight '" + weight.name +
                      "' has a dynamic dimension: " + weight.describe());
    if (Expected<int64_t> count =
            getCheckedNumElements(weight.getStaticShape(), weight.dtype,
                                  "weight '" + weight.name + "'");
        !count)
      return fail(weightField, toString(count.takeError()));
  }
  return entry;
}

Expected<Manifest> ManifestParser::parse(StringRef text) {
  Expected<json::Value> json = json::parse(text);
  if (!json)
    return make_error<StringError>(
        sourceName + ": not valid JSON: " + toString(json.takeError()),
        inconvertibleErrorCode());
  Expected<const json::Object *> root = getObject(*json, "(top level)");
  if (!root)
    return root.takeError();

  Expected<std::string> format = getString(**root, "format", "");
  if (!format)
    return format.takeError();
  if (*format != Manifest::kFormat)
    return fail("format", "expected '" + Manifest::kFormat + "', found '" +
                              *format + "'");
  const json::Value *version = (*root)->get("version");
  if (!version)
    return fail("version", "missing");
  std::optional<int64_t> versionNumber = version->getAsInteger();
  if (!versionNumber)
    return fail("version", "expected an integer");
  if (*versionNumber != Manifest::kVersion)
    return fail("version", "version " + Twine(*versionNumber) +
                               " is not supported (this runtime reads "
                               "version " +
                               Twine(Manifest::kVersion) + ")");

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

  if (const json::Value *target = (*root)->get("target")) {
    Expected<const json::Object *> object = getObject(*target, "target");
    if (!object)
      return object.takeError();
    for (auto [key, member] :
         {std::pair<StringRef, std::string *>{"arch", &manifest.target.arch},
          {"triple", &manifest.target.triple},
          {"cpu", &manifest.target.cpu},
          {"features", &manifest.target.features}}) {
      Expected<std::string> value = getOptionalString(**object, key, "target");
      if (!value)
        return value.takeError();
      *member = std::move(*value);
    }
  }

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
  return manifest;
}

} // namespace

Expected<Manifest> parseManifest(StringRef json, StringRef sourceName) {
  return ManifestParser(sourceName).parse(json);
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
json::Value toJSON(const TensorSpec &spec) {
  json::Array shape;
  for (const ManifestDim &dim : spec.shape) {
    if (dim.isStatic())
      shape.push_back(dim.size);
    else if (dim.isNamed())
      shape.push_back(dim.symbol);
    else
      shape.push_back(nullptr);
  }
  return json::Object{{"name", spec.name},
                      {"dtype", getDTypeName(spec.dtype)},
                      {"shape", std::move(shape)}};
}

json::Array toJSON(ArrayRef<TensorSpec> specs) {
  json::Array array;
  for (const TensorSpec &spec : specs)
    array.push_back(toJSON(spec));
  return array;
}
} // namespace

json::Value toJSON(const Manifest &manifest) {
  json::Array entries;
  for (const EntryPoint &entry : manifest.entryPoints)
    entries.push_back(json::Object{{"name", entry.name},
                                   {"symbol", entry.symbol},
                                   {"weights", toJSON(entry.weights)},
                                   {"inputs", toJSON(entry.inputs)},
                                   {"outputs", toJSON(entry.outputs)}});
  json::Object target;
  for (auto [key, value] :
       {std::pair<StringRef, StringRef>{"arch", manifest.target.arch},
        {"triple", manifest.target.triple},
        {"cpu", manifest.target.cpu},
        {"features", manifest.target.features}})
    if (!value.empty())
      target[key] = value;
  return json::Object{
      {"format", Manifest::kFormat},         {"version", manifest.version},
      {"library", manifest.library},         {"weights", manifest.weights},
      {"fingerprint", manifest.fingerprint}, {"target", std::move(target)},
      {"entry_points", std::move(entries)}};
}

Error writeManifestFile(StringRef path, const Manifest &manifest) {
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  (*file)->os() << formatv("{0:2}", toJSON(manifest)) << "\n";
  return (*file)->commit();
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

void printManifest(raw_ostream &os, const Manifest &manifest, bool verbose) {
  os << "format: " << Manifest::kFormat << " version " << manifest.version
     << "\n";
  os << "library: " << manifest.library << "\n";
  os << "weights: " << manifest.weights << "\n";
  os << "fingerprint: " << manifest.fingerprint << "\n";
  const TargetDescription &target = manifest.target;
  if (!target.arch.empty() || !target.triple.empty() || !target.cpu.empty()) {
    os << "target: "
       << (!target.triple.empty() ? target.triple
           : !target.arch.empty() ? target.arch
                                  : "?");
    if (!target.cpu.empty())
      os << " " << target.cpu;
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
  }
  for (const EntryPoint &entry : manifest.entryPoints) {
    os << "entry point '" << entry.name << "' (" << entry.symbol << "):\n";
    for (auto [title, specs] :
         {std::pair<StringRef, ArrayRef<TensorSpec>>{"inputs", entry.inputs},
          {"outputs", entry.outputs}}) {
      os << "  " << title << ":" << (specs.empty() ? " none" : "") << "\n";
      for (const TensorSpec &spec : specs)
        os << "    " << spec.name << ": " << spec.describe() << "\n";
    }
    int64_t elements = 0;
    uint64_t bytes = 0;
    for (const TensorSpec &weight : entry.weights) {
      int64_t count = 1;
      for (int64_t dim : weight.getStaticShape())
        count *= dim;
      elements += count;
      bytes += count * getDTypeSize(weight.dtype);
    }
    os << "  weights: " << entry.weights.size() << " tensors, " << elements
       << " elements, " << format("%.1f", bytes / 1048576.0) << " MiB\n";
    if (verbose)
      for (const TensorSpec &weight : entry.weights)
        os << "    " << weight.name << ": " << weight.describe() << "\n";
  }
}

} // namespace qaf
