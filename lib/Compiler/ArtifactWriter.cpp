//===- ArtifactWriter.cpp - manifest, fingerprint and tensor files -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Compiler/ArtifactWriter.h"

#include "qaf/Compiler/CacheInPlace.h"
#include "qaf/Interfaces/AdapterOpInterface.h"
#include "qaf/Runtime/HostTensor.h"
#include "qaf/Runtime/SafeTensors.h"
#include "qaf/Support/AtomicFile.h"
#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;

namespace qaf {

namespace {

/// The runtime dtype of an ONNX-level element type.
std::optional<DType> getDType(Type type) {
  if (type.isF32())
    return DType::Float32;
  if (type.isF16())
    return DType::Float16;
  if (type.isBF16())
    return DType::BFloat16;
  if (type.isF64())
    return DType::Float64;
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return std::nullopt;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 1:
    return DType::Bool;
  case 8:
    return isUnsigned ? DType::UInt8 : DType::Int8;
  case 16:
    return isUnsigned ? DType::UInt16 : DType::Int16;
  case 32:
    return isUnsigned ? DType::UInt32 : DType::Int32;
  case 64:
    return isUnsigned ? DType::UInt64 : DType::Int64;
  default:
    return std::nullopt;
  }
}

FailureOr<TensorSpec> describeTensor(Type type, StringRef name,
                                     ArrayAttr dimParams, Location loc,
                                     StringRef role) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return emitError(loc) << role << " '" << name << "' has type " << type
                          << ": compiled entry points need ranked tensors";
  std::optional<DType> dtype = getDType(tensorType.getElementType());
  if (!dtype)
    return emitError(loc) << role << " '" << name << "' has element type "
                          << tensorType.getElementType()
                          << ", which compiled entry points do not support";
  TensorSpec tensor;
  tensor.name = name.str();
  tensor.dtype = *dtype;
  for (auto [i, dim] : llvm::enumerate(tensorType.getShape())) {
    if (!ShapedType::isDynamic(dim)) {
      tensor.shape.push_back(ManifestDim::getStatic(dim));
      continue;
    }
    StringAttr param;
    if (dimParams && i < dimParams.size())
      param = dyn_cast<StringAttr>(dimParams[i]);
    tensor.shape.push_back(param && !param.empty()
                               ? ManifestDim::getNamed(param.getValue())
                               : ManifestDim::getUnnamed());
  }
  return tensor;
}

/// A weight read back from text IR has no data (the printer elides it).
LogicalResult checkWeightData(StringRef name, ElementsAttr value,
                              Location loc) {
  auto resource = dyn_cast_if_present<DenseResourceElementsAttr>(value);
  if (value && (!resource || resource.getRawHandle().getBlob()))
    return success();
  return emitError(loc) << "weight '" << name
                        << "' has no data: text IR elides weights; write the "
                           "stage as bytecode (-o file.mlirbc) to compile it";
}

func::FuncOp lookupEntry(ModuleOp module, StringRef entry) {
  return module.lookupSymbol<func::FuncOp>(entry);
}

/// The ABI passes weights, then parameters, then inputs: moves the
/// parameters after the weights, each group keeping its order. (Outlining
/// puts every weight first, so only adapted models change.)
LogicalResult orderEntryPointArguments(func::FuncOp func) {
  SmallVector<unsigned> weights, parameters, inputs;
  unsigned numArguments = func.getNumArguments();
  for (unsigned i = 0; i < numArguments; ++i) {
    if (!func.getArgAttr(i, kWeightNameAttr))
      inputs.push_back(i);
    else if (isTrainableParameter(func, i))
      parameters.push_back(i);
    else
      weights.push_back(i);
  }
  SmallVector<unsigned> order =
      llvm::to_vector(llvm::concat<unsigned>(weights, parameters, inputs));
  if (llvm::equal(order, llvm::seq(0u, numArguments)))
    return success();
  // Append every argument again in the new order, then drop the originals.
  for (unsigned old : order) {
    BlockArgument argument = func.getArgument(old);
    if (failed(func.insertArgument(func.getNumArguments(), argument.getType(),
                                   func.getArgAttrDict(old),
                                   argument.getLoc())))
      return failure();
    argument.replaceAllUsesWith(func.getArgument(func.getNumArguments() - 1));
  }
  llvm::BitVector originals(func.getNumArguments());
  originals.set(0, numArguments);
  return func.eraseArguments(originals);
}

/// Hashes a tensor value's bytes into `hashes`.
LogicalResult hashValue(StringRef name, ElementsAttr value, Location loc,
                        SmallVectorImpl<uint64_t> &hashes) {
  if (failed(checkWeightData(name, value, loc)))
    return failure();
  std::vector<char> storage;
  std::string error;
  FailureOr<ArrayRef<char>> bytes =
      getElementsBytes(value, storage, SubByteLayout::BytePerElement, error);
  if (failed(bytes))
    return emitError(loc) << "weight '" << name << "': " << error;
  hashes.push_back(llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(bytes->data()), bytes->size())));
  return success();
}

/// Whether two weights hold the same type and bytes. A per-function pass
/// (qaf-fold-weight-transposes) folds the same weight once in each entry
/// point, so equal values can arrive as distinct attributes.
bool sameWeightValue(ElementsAttr a, ElementsAttr b) {
  if (a == b)
    return true;
  if (!a || !b || a.getType() != b.getType())
    return false;
  std::vector<char> storageA, storageB;
  std::string error;
  FailureOr<ArrayRef<char>> bytesA =
      getElementsBytes(a, storageA, SubByteLayout::BytePerElement, error);
  FailureOr<ArrayRef<char>> bytesB =
      getElementsBytes(b, storageB, SubByteLayout::BytePerElement, error);
  return succeeded(bytesA) && succeeded(bytesB) && *bytesA == *bytesB;
}

} // namespace

bool isTrainableParameter(func::FuncOp entry, unsigned argIndex) {
  // Trainable operands are known through the adapter interface, never by
  // blob names (or marked where the adapter was evaluated in its merged
  // form, kParameterAttr); a training step's optimizer state is known by
  // the result that updates it (kUpdatesAttr).
  if (entry.getArgAttr(argIndex, kParameterAttr) ||
      llvm::any_of(entry.getArgument(argIndex).getUses(),
                   [](OpOperand &use) { return isTrainableOperand(use); }))
    return true;
  auto name = entry.getArgAttrOfType<StringAttr>(argIndex, kWeightNameAttr);
  return name &&
         llvm::any_of(llvm::seq(entry.getNumResults()), [&](unsigned result) {
           return entry.getResultAttr(result, kUpdatesAttr) == name;
         });
}

FailureOr<ArtifactDescription> describeArtifact(ModuleOp module,
                                                ArrayRef<std::string> entries) {
  SmallVector<func::FuncOp> funcs;
  for (const std::string &entry : entries) {
    func::FuncOp func = lookupEntry(module, entry);
    if (!func)
      return emitError(module.getLoc()) << "no entry point @" << entry;
    if (failed(orderEntryPointArguments(func)))
      return emitError(func.getLoc())
             << "cannot order the arguments of entry point @" << entry;
    funcs.push_back(func);
  }

  ArtifactDescription description;
  Manifest &manifest = description.manifest;

  // The fingerprint covers the code (the IR without weights) and every
  // weight's and parameter's bytes: a library, a manifest and the tensor
  // files belong together only if they came from the same compilation of
  // the same model.
  std::string irText;
  {
    llvm::raw_string_ostream os(irText);
    OpPrintingFlags flags;
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(16);
    module->print(os, flags);
  }
  SmallVector<uint64_t> hashes = {llvm::xxh3_64bits(irText)};

  for (func::FuncOp func : funcs) {
    EntryPoint entry;
    entry.name = func.getSymName().str();
    entry.symbol = "qaf_entry_" + entry.name;
    Location loc = func.getLoc();
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
      Type type = func.getArgumentTypes()[i];
      if (auto weightName =
              func.getArgAttrOfType<StringAttr>(i, kWeightNameAttr)) {
        bool isParameter = isTrainableParameter(func, i);
        FailureOr<TensorSpec> tensor =
            describeTensor(type, weightName.getValue(), nullptr, loc,
                           isParameter ? "parameter" : "weight");
        if (failed(tensor))
          return failure();
        if (!tensor->isStatic())
          return emitError(loc)
                 << (isParameter ? "parameter '" : "weight '")
                 << weightName.getValue() << "' has a dynamic shape";
        auto value = func.getArgAttrOfType<ElementsAttr>(i, kWeightValueAttr);
        auto [it, inserted] =
            description.values.try_emplace(weightName.getValue(), value);
        if (!inserted && !sameWeightValue(it->second, value))
          return emitError(loc) << "weight '" << weightName.getValue()
                                << "' has different values in two entry "
                                   "points";
        if (inserted && value &&
            failed(hashValue(weightName.getValue(), value, loc, hashes)))
          return failure();
        (isParameter ? entry.parameters : entry.weights)
            .push_back(std::move(*tensor));
        continue;
      }
      auto name = func.getArgAttrOfType<StringAttr>(i, onnx::kValueNameAttr);
      std::string inputName =
          name ? name.str() : "input_" + std::to_string(entry.inputs.size());
      FailureOr<TensorSpec> tensor = describeTensor(
          type, inputName,
          func.getArgAttrOfType<ArrayAttr>(i, onnx::kDimParamsAttr), loc,
          "input");
      if (failed(tensor))
        return failure();
      entry.inputs.push_back(std::move(*tensor));
    }
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
      // A parameter's new value is stored in place, not returned.
      if (func.getResultAttr(i, kUpdatesAttr))
        continue;
      auto name = func.getResultAttrOfType<StringAttr>(i, onnx::kValueNameAttr);
      std::string outputName =
          name ? name.str() : "output_" + std::to_string(i);
      FailureOr<TensorSpec> tensor = describeTensor(
          func.getResultTypes()[i], outputName,
          func.getResultAttrOfType<ArrayAttr>(i, onnx::kDimParamsAttr), loc,
          "output");
      if (failed(tensor))
        return failure();
      if (auto input = func.getResultAttrOfType<StringAttr>(i, kWritesIntoAttr))
        tensor->writtenInto = input.str();
      entry.outputs.push_back(std::move(*tensor));
    }
    if (!entry.parameters.empty())
      manifest.parameters = kParametersFile.str();
    manifest.entryPoints.push_back(std::move(entry));
  }
  uint64_t combined = llvm::xxh3_64bits(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(hashes.data()),
                              hashes.size() * sizeof(uint64_t)));
  manifest.fingerprint = llvm::formatv("{0:x16}", combined).str();
  return description;
}

namespace {

/// The content hash (hashTensorContents) of `tensors`' values: the bytes
/// the tensor file holds.
FailureOr<std::string> hashValues(const ArtifactDescription &description,
                                  ArrayRef<TensorSpec> tensors, Location loc) {
  std::vector<std::vector<char>> storages(tensors.size());
  std::vector<ArrayRef<char>> contents;
  for (auto [tensor, storage] : llvm::zip_equal(tensors, storages)) {
    ElementsAttr value = description.values.lookup(tensor.name);
    if (!value)
      return emitError(loc) << "'" << tensor.name << "' has no value";
    std::string error;
    FailureOr<ArrayRef<char>> bytes =
        getElementsBytes(value, storage, SubByteLayout::BytePerElement, error);
    if (failed(bytes))
      return emitError(loc) << "'" << tensor.name << "': " << error;
    contents.push_back(*bytes);
  }
  return hashTensorContents(contents);
}

/// Writes `tensors` (weights or parameters, as `role` says) with their
/// values to a safetensors file, with the fingerprint in its metadata.
LogicalResult writeTensorFile(const ArtifactDescription &description,
                              ArrayRef<TensorSpec> tensors, StringRef path,
                              StringRef role, Location loc) {
  std::vector<SafeTensorsEntry> entries;
  std::vector<std::vector<char>> storages(tensors.size());
  for (auto [tensor, storage] : llvm::zip_equal(tensors, storages)) {
    ElementsAttr value = description.values.lookup(tensor.name);
    if (!value)
      return emitError(loc) << role << " '" << tensor.name << "' has no value";
    std::string error;
    FailureOr<ArrayRef<char>> bytes =
        getElementsBytes(value, storage, SubByteLayout::BytePerElement, error);
    if (failed(bytes))
      return emitError(loc) << role << " '" << tensor.name << "': " << error;
    auto type = cast<ShapedType>(value.getType());
    if (type.getShape() != ArrayRef<int64_t>(tensor.getStaticShape()) ||
        getDType(type.getElementType()) != tensor.dtype)
      return emitError(loc)
             << role << " '" << tensor.name << "': its value has type " << type
             << ", which does not match its description " << tensor.describe();
    SafeTensorsEntry entry;
    entry.name = tensor.name;
    entry.dtype = tensor.dtype;
    entry.shape.assign(type.getShape().begin(), type.getShape().end());
    entry.bytes = *bytes;
    entries.push_back(std::move(entry));
  }
  std::map<std::string, std::string> metadata = {
      {"qaf.fingerprint", description.manifest.fingerprint}};
  if (llvm::Error error = writeSafeTensors(path, entries, metadata))
    return emitError(loc) << llvm::toString(std::move(error));
  return success();
}

} // namespace

LogicalResult checkWeightValues(const ArtifactDescription &description,
                                Location loc) {
  for (const EntryPoint &entry : description.manifest.entryPoints)
    for (ArrayRef<TensorSpec> tensors :
         {ArrayRef(entry.weights), ArrayRef(entry.parameters)})
      for (const TensorSpec &tensor : tensors)
        if (failed(checkWeightData(
                tensor.name, description.values.lookup(tensor.name), loc)))
          return failure();
  return success();
}

LogicalResult writeTensorFiles(const ArtifactDescription &description,
                               StringRef dir, Location loc) {
  const Manifest &manifest = description.manifest;
  SmallString<256> weightsPath(dir);
  llvm::sys::path::append(weightsPath, manifest.weights);
  if (failed(writeTensorFile(description, manifest.getAllWeights(), weightsPath,
                             "weight", loc)))
    return failure();
  if (manifest.parameters.empty())
    return success();
  SmallString<256> parametersPath(dir);
  llvm::sys::path::append(parametersPath, manifest.parameters);
  return writeTensorFile(description, manifest.getAllParameters(),
                         parametersPath, "parameter", loc);
}

namespace {

/// The manifest's JSON as attributes: objects become dictionaries, null
/// becomes `unit`.
Attribute convertJSONToAttribute(Builder &builder,
                                 const llvm::json::Value &json) {
  switch (json.kind()) {
  case llvm::json::Value::Null:
    return builder.getUnitAttr();
  case llvm::json::Value::Boolean:
    return builder.getBoolAttr(*json.getAsBoolean());
  case llvm::json::Value::Number:
    if (std::optional<int64_t> integer = json.getAsInteger())
      return builder.getI64IntegerAttr(*integer);
    return builder.getF64FloatAttr(*json.getAsNumber());
  case llvm::json::Value::String:
    return builder.getStringAttr(*json.getAsString());
  case llvm::json::Value::Array: {
    SmallVector<Attribute> elements;
    for (const llvm::json::Value &element : *json.getAsArray())
      elements.push_back(convertJSONToAttribute(builder, element));
    return builder.getArrayAttr(elements);
  }
  case llvm::json::Value::Object: {
    SmallVector<NamedAttribute> fields;
    for (const auto &[key, value] : *json.getAsObject())
      fields.push_back(builder.getNamedAttr(
          key.str(), convertJSONToAttribute(builder, value)));
    return builder.getDictionaryAttr(fields);
  }
  }
  llvm_unreachable("unknown JSON kind");
}

/// The inverse of convertJSONToAttribute; nullopt for an attribute that no
/// JSON value becomes.
std::optional<llvm::json::Value> convertAttributeToJSON(Attribute attr) {
  if (isa<UnitAttr>(attr))
    return llvm::json::Value(nullptr);
  if (auto boolean = dyn_cast<BoolAttr>(attr))
    return llvm::json::Value(boolean.getValue());
  if (auto integer = dyn_cast<IntegerAttr>(attr))
    return llvm::json::Value(integer.getInt());
  if (auto number = dyn_cast<FloatAttr>(attr))
    return llvm::json::Value(number.getValueAsDouble());
  if (auto text = dyn_cast<StringAttr>(attr))
    return llvm::json::Value(text.str());
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array elements;
    for (Attribute element : array) {
      std::optional<llvm::json::Value> converted =
          convertAttributeToJSON(element);
      if (!converted)
        return std::nullopt;
      elements.push_back(std::move(*converted));
    }
    return llvm::json::Value(std::move(elements));
  }
  if (auto dict = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (NamedAttribute field : dict) {
      std::optional<llvm::json::Value> converted =
          convertAttributeToJSON(field.getValue());
      if (!converted)
        return std::nullopt;
      object[field.getName().str()] = std::move(*converted);
    }
    return llvm::json::Value(std::move(object));
  }
  return std::nullopt;
}

} // namespace

void attachDescription(ModuleOp module,
                       const ArtifactDescription &description) {
  Builder builder(module.getContext());
  SmallVector<NamedAttribute> values;
  for (const auto &entry : description.values)
    if (entry.getValue())
      values.push_back(builder.getNamedAttr(entry.getKey(), entry.getValue()));
  module->setAttr(
      kArtifactDescriptionAttr,
      builder.getDictionaryAttr(
          {builder.getNamedAttr(
               "manifest",
               convertJSONToAttribute(builder, toJSON(description.manifest))),
           builder.getNamedAttr("values", builder.getDictionaryAttr(values))}));
}

FailureOr<std::optional<ArtifactDescription>> readDescription(ModuleOp module) {
  Attribute attr = module->getAttr(kArtifactDescriptionAttr);
  if (!attr)
    return std::optional<ArtifactDescription>();
  Location loc = module.getLoc();
  auto malformed = [&](const Twine &why) {
    return emitError(loc) << "malformed '" << kArtifactDescriptionAttr
                          << "' attribute: " << why;
  };
  auto dict = dyn_cast<DictionaryAttr>(attr);
  if (!dict)
    return malformed("not a dictionary");
  auto manifestAttr = dict.getAs<DictionaryAttr>("manifest");
  auto values = dict.getAs<DictionaryAttr>("values");
  if (!manifestAttr || !values)
    return malformed("expected a 'manifest' and a 'values' dictionary");
  std::optional<llvm::json::Value> json = convertAttributeToJSON(manifestAttr);
  if (!json)
    return malformed("the manifest holds an attribute JSON has no value for");
  llvm::Expected<Manifest> manifest = parseManifestValue(*json, "manifest");
  if (!manifest)
    return malformed(llvm::toString(manifest.takeError()));
  ArtifactDescription description;
  description.manifest = std::move(*manifest);
  for (NamedAttribute value : values) {
    auto elements = dyn_cast<ElementsAttr>(value.getValue());
    if (!elements)
      return malformed("value '" + value.getName().getValue() +
                       "' is not a tensor");
    description.values[value.getName().getValue()] = elements;
  }
  return std::optional<ArtifactDescription>(std::move(description));
}

void stripWeightValues(ModuleOp module,
                       const ArtifactDescription &description) {
  for (const EntryPoint &entry : description.manifest.entryPoints) {
    func::FuncOp func = lookupEntry(module, entry.name);
    if (!func)
      continue;
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      func.removeArgAttr(i, kWeightValueAttr);
  }
}

void stripEntryPointAttributes(ModuleOp module,
                               const ArtifactDescription &description) {
  Builder builder(module.getContext());
  for (const EntryPoint &entry : description.manifest.entryPoints) {
    func::FuncOp func = lookupEntry(module, entry.name);
    if (!func)
      continue;
    SmallVector<DictionaryAttr> argAttrs(func.getNumArguments(),
                                         builder.getDictionaryAttr({}));
    SmallVector<DictionaryAttr> resultAttrs(func.getNumResults(),
                                            builder.getDictionaryAttr({}));
    // Ties to arguments outlive their names (kUpdatesArgumentAttr): a
    // parameter's update names the weight, a cache's present the input.
    for (unsigned result = 0; result < func.getNumResults(); ++result) {
      // Already a tie by position (a stage stripped before): kept.
      if (Attribute tied = func.getResultAttr(result, kUpdatesArgumentAttr)) {
        resultAttrs[result] = builder.getDictionaryAttr(
            builder.getNamedAttr(kUpdatesArgumentAttr, tied));
        continue;
      }
      auto [tie, argName] =
          func.getResultAttr(result, kUpdatesAttr)
              ? std::pair(func.getResultAttr(result, kUpdatesAttr),
                          kWeightNameAttr)
              : std::pair(func.getResultAttr(result, kWritesIntoAttr),
                          onnx::kValueNameAttr);
      if (!tie)
        continue;
      for (unsigned arg = 0; arg < func.getNumArguments(); ++arg)
        if (func.getArgAttr(arg, argName) == tie)
          resultAttrs[result] = builder.getDictionaryAttr(builder.getNamedAttr(
              kUpdatesArgumentAttr, builder.getI64IntegerAttr(arg)));
    }
    func.setAllArgAttrs(argAttrs);
    func.setAllResultAttrs(resultAttrs);
  }
}

LogicalResult writeManifest(const ArtifactDescription &description,
                            StringRef path, Location loc) {
  if (llvm::Error error = writeManifestFile(path, description.manifest))
    return emitError(loc) << llvm::toString(std::move(error));
  return success();
}

FailureOr<std::string> describeLibrary(const ArtifactDescription &description,
                                       Location loc) {
  const Manifest &manifest = description.manifest;
  FailureOr<std::string> weightsHash =
      hashValues(description, manifest.getAllWeights(), loc);
  if (failed(weightsHash))
    return failure();
  std::string parametersHash;
  if (!manifest.parameters.empty()) {
    FailureOr<std::string> hash =
        hashValues(description, manifest.getAllParameters(), loc);
    if (failed(hash))
      return failure();
    parametersHash = *hash;
  }
  return writeLibraryABI(
      describeLibraryABI(manifest, *weightsHash, parametersHash));
}

} // namespace qaf
