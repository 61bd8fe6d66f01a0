//===- ArtifactWriter.cpp - manifest, fingerprint and weights -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Compiler/ArtifactWriter.h"

#include "qaf/Runtime/HostTensor.h"
#include "qaf/Runtime/SafeTensors.h"
#include "qaf/Support/AtomicFile.h"
#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
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

FailureOr<ManifestTensor> describeTensor(Type type, StringRef name,
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
  ManifestTensor tensor;
  tensor.name = name.str();
  tensor.dtype = getDTypeName(*dtype).str();
  for (auto [i, dim] : llvm::enumerate(tensorType.getShape())) {
    if (!ShapedType::isDynamic(dim)) {
      tensor.shape.push_back(dim);
      continue;
    }
    std::string param;
    if (dimParams && i < dimParams.size())
      if (auto attr = dyn_cast<StringAttr>(dimParams[i]))
        param = attr.str();
    tensor.shape.push_back(param);
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

} // namespace

FailureOr<ArtifactDescription> describeEntryPoint(ModuleOp module,
                                                  StringRef entry) {
  func::FuncOp func = lookupEntry(module, entry);
  if (!func)
    return emitError(module.getLoc()) << "no entry point @" << entry;
  ArtifactDescription description;
  description.entry = entry.str();
  description.symbol = "qaf_entry_" + entry.str();

  // The fingerprint covers the code (the IR without weights) and every
  // weight's bytes: a library, a manifest and a weights file belong together
  // only if they came from the same compilation of the same model.
  std::string irText;
  {
    llvm::raw_string_ostream os(irText);
    OpPrintingFlags flags;
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(16);
    module->print(os, flags);
  }
  SmallVector<uint64_t> hashes = {llvm::xxh3_64bits(irText)};

  Location loc = func.getLoc();
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    Type type = func.getArgumentTypes()[i];
    if (auto weightName =
            func.getArgAttrOfType<StringAttr>(i, kWeightNameAttr)) {
      FailureOr<ManifestTensor> tensor =
          describeTensor(type, weightName.getValue(), nullptr, loc, "weight");
      if (failed(tensor))
        return failure();
      for (auto &dim : tensor->shape)
        if (std::holds_alternative<std::string>(dim))
          return emitError(loc) << "weight '" << weightName.getValue()
                                << "' has a dynamic shape";
      description.weights.push_back(*tensor);
      auto value = func.getArgAttrOfType<ElementsAttr>(i, kWeightValueAttr);
      description.weightValues.push_back(value);
      if (value) {
        if (failed(checkWeightData(weightName.getValue(), value, loc)))
          return failure();
        std::vector<char> storage;
        std::string error;
        FailureOr<ArrayRef<char>> bytes = getElementsBytes(
            value, storage, SubByteLayout::BytePerElement, error);
        if (failed(bytes))
          return emitError(loc)
                 << "weight '" << weightName.getValue() << "': " << error;
        hashes.push_back(llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
            reinterpret_cast<const uint8_t *>(bytes->data()), bytes->size())));
      }
      continue;
    }
    auto name = func.getArgAttrOfType<StringAttr>(i, onnx::kValueNameAttr);
    std::string inputName =
        name ? name.str()
             : "input_" + std::to_string(description.inputs.size());
    FailureOr<ManifestTensor> tensor = describeTensor(
        type, inputName,
        func.getArgAttrOfType<ArrayAttr>(i, onnx::kDimParamsAttr), loc,
        "input");
    if (failed(tensor))
      return failure();
    description.inputs.push_back(*tensor);
  }
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
    auto name = func.getResultAttrOfType<StringAttr>(i, onnx::kValueNameAttr);
    std::string outputName = name ? name.str() : "output_" + std::to_string(i);
    FailureOr<ManifestTensor> tensor = describeTensor(
        func.getResultTypes()[i], outputName,
        func.getResultAttrOfType<ArrayAttr>(i, onnx::kDimParamsAttr), loc,
        "output");
    if (failed(tensor))
      return failure();
    description.outputs.push_back(*tensor);
  }
  uint64_t combined = llvm::xxh3_64bits(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(hashes.data()),
                              hashes.size() * sizeof(uint64_t)));
  description.fingerprint = llvm::formatv("{0:x16}", combined).str();
  return description;
}

LogicalResult checkWeightValues(const ArtifactDescription &description,
                                Location loc) {
  for (auto [tensor, value] :
       llvm::zip_equal(description.weights, description.weightValues))
    if (failed(checkWeightData(tensor.name, value, loc)))
      return failure();
  return success();
}

LogicalResult writeWeights(const ArtifactDescription &description,
                           StringRef path, Location loc) {
  std::vector<SafeTensorsEntry> entries;
  std::vector<std::vector<char>> storages(description.weights.size());
  for (auto [tensor, value, storage] : llvm::zip_equal(
           description.weights, description.weightValues, storages)) {
    if (!value)
      return emitError(loc) << "weight '" << tensor.name << "' has no value";
    std::string error;
    FailureOr<ArrayRef<char>> bytes =
        getElementsBytes(value, storage, SubByteLayout::BytePerElement, error);
    if (failed(bytes))
      return emitError(loc) << "weight '" << tensor.name << "': " << error;
    auto type = cast<ShapedType>(value.getType());
    std::optional<DType> dtype = parseDTypeName(tensor.dtype);
    if (!dtype)
      return emitError(loc)
             << "weight '" << tensor.name << "' has an unknown dtype '"
             << tensor.dtype << "'";
    SafeTensorsEntry entry;
    entry.name = tensor.name;
    entry.dtype = *dtype;
    entry.shape.assign(type.getShape().begin(), type.getShape().end());
    if (!llvm::equal(tensor.shape, entry.shape,
                     [](const auto &dim, int64_t size) {
                       auto *static_size = std::get_if<int64_t>(&dim);
                       return static_size && *static_size == size;
                     }))
      return emitError(loc)
             << "weight '" << tensor.name << "': its value has type " << type
             << ", which does not match its description";
    entry.bytes = *bytes;
    entries.push_back(std::move(entry));
  }
  std::map<std::string, std::string> metadata = {
      {"qaf.fingerprint", description.fingerprint}};
  if (llvm::Error error = writeSafeTensors(path, entries, metadata))
    return emitError(loc) << llvm::toString(std::move(error));
  return success();
}

namespace {

Attribute encodeTensor(Builder &builder, const ManifestTensor &tensor,
                       ElementsAttr value) {
  SmallVector<Attribute> shape;
  for (const auto &dim : tensor.shape) {
    if (auto *size = std::get_if<int64_t>(&dim))
      shape.push_back(builder.getI64IntegerAttr(*size));
    else
      shape.push_back(builder.getStringAttr(std::get<std::string>(dim)));
  }
  SmallVector<NamedAttribute> fields = {
      builder.getNamedAttr("name", builder.getStringAttr(tensor.name)),
      builder.getNamedAttr("dtype", builder.getStringAttr(tensor.dtype)),
      builder.getNamedAttr("shape", builder.getArrayAttr(shape))};
  if (value)
    fields.push_back(builder.getNamedAttr("value", value));
  return builder.getDictionaryAttr(fields);
}

Attribute encodeTensors(Builder &builder,
                        const std::vector<ManifestTensor> &tensors,
                        ArrayRef<ElementsAttr> values = {}) {
  SmallVector<Attribute> encoded;
  for (auto [i, tensor] : llvm::enumerate(tensors))
    encoded.push_back(
        encodeTensor(builder, tensor, i < values.size() ? values[i] : nullptr));
  return builder.getArrayAttr(encoded);
}

/// Decodes one tensor list; `values` collects the optional `value` fields.
LogicalResult decodeTensors(DictionaryAttr dict, StringRef key,
                            std::vector<ManifestTensor> &tensors,
                            std::vector<ElementsAttr> *values, Location loc) {
  auto list = dict.getAs<ArrayAttr>(key);
  auto malformed = [&]() {
    return emitError(loc) << "malformed '" << kArtifactDescriptionAttr
                          << "' attribute: bad '" << key << "' list";
  };
  if (!list)
    return malformed();
  for (Attribute element : list) {
    auto fields = dyn_cast<DictionaryAttr>(element);
    if (!fields)
      return malformed();
    auto name = fields.getAs<StringAttr>("name");
    auto dtype = fields.getAs<StringAttr>("dtype");
    auto shape = fields.getAs<ArrayAttr>("shape");
    if (!name || !dtype || !shape)
      return malformed();
    ManifestTensor tensor;
    tensor.name = name.str();
    tensor.dtype = dtype.str();
    for (Attribute dim : shape) {
      if (auto size = dyn_cast<IntegerAttr>(dim))
        tensor.shape.push_back(size.getInt());
      else if (auto param = dyn_cast<StringAttr>(dim))
        tensor.shape.push_back(param.str());
      else
        return malformed();
    }
    tensors.push_back(std::move(tensor));
    if (values)
      values->push_back(fields.getAs<ElementsAttr>("value"));
  }
  return success();
}

} // namespace

void attachDescription(ModuleOp module,
                       const ArtifactDescription &description) {
  Builder builder(module.getContext());
  SmallVector<NamedAttribute> fields = {
      builder.getNamedAttr("entry", builder.getStringAttr(description.entry)),
      builder.getNamedAttr("symbol", builder.getStringAttr(description.symbol)),
      builder.getNamedAttr("fingerprint",
                           builder.getStringAttr(description.fingerprint)),
      builder.getNamedAttr("inputs",
                           encodeTensors(builder, description.inputs)),
      builder.getNamedAttr("outputs",
                           encodeTensors(builder, description.outputs)),
      builder.getNamedAttr("weights",
                           encodeTensors(builder, description.weights,
                                         description.weightValues))};
  module->setAttr(kArtifactDescriptionAttr, builder.getDictionaryAttr(fields));
}

FailureOr<std::optional<ArtifactDescription>> readDescription(ModuleOp module) {
  Attribute attr = module->getAttr(kArtifactDescriptionAttr);
  if (!attr)
    return std::optional<ArtifactDescription>();
  Location loc = module.getLoc();
  auto dict = dyn_cast<DictionaryAttr>(attr);
  if (!dict)
    return emitError(loc) << "malformed '" << kArtifactDescriptionAttr
                          << "' attribute: not a dictionary";
  ArtifactDescription description;
  for (auto [key, field] :
       {std::pair<StringRef, std::string *>{"entry", &description.entry},
        {"symbol", &description.symbol},
        {"fingerprint", &description.fingerprint}}) {
    auto value = dict.getAs<StringAttr>(key);
    if (!value)
      return emitError(loc) << "malformed '" << kArtifactDescriptionAttr
                            << "' attribute: no '" << key << "' string";
    *field = value.str();
  }
  if (failed(decodeTensors(dict, "inputs", description.inputs, nullptr, loc)) ||
      failed(
          decodeTensors(dict, "outputs", description.outputs, nullptr, loc)) ||
      failed(decodeTensors(dict, "weights", description.weights,
                           &description.weightValues, loc)))
    return failure();
  return std::optional<ArtifactDescription>(std::move(description));
}

void stripWeightValues(ModuleOp module, StringRef entry) {
  func::FuncOp func = lookupEntry(module, entry);
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    func.removeArgAttr(i, kWeightValueAttr);
}

void stripEntryPointAttributes(ModuleOp module, StringRef entry) {
  func::FuncOp func = lookupEntry(module, entry);
  Builder builder(module.getContext());
  SmallVector<DictionaryAttr> argAttrs(func.getNumArguments(),
                                       builder.getDictionaryAttr({}));
  SmallVector<DictionaryAttr> resultAttrs(func.getNumResults(),
                                          builder.getDictionaryAttr({}));
  func.setAllArgAttrs(argAttrs);
  func.setAllResultAttrs(resultAttrs);
}

LogicalResult writeManifest(const ArtifactDescription &description,
                            StringRef path, Location loc) {
  auto file = AtomicFile::create(path);
  if (!file)
    return emitError(loc) << llvm::toString(file.takeError());
  llvm::json::OStream json((*file)->os(), /*IndentSize=*/2);
  auto writeTensors = [&](StringRef key,
                          const std::vector<ManifestTensor> &tensors) {
    json.attributeArray(key, [&] {
      for (const ManifestTensor &tensor : tensors)
        json.object([&] {
          json.attribute("name", tensor.name);
          json.attribute("dtype", tensor.dtype);
          json.attributeArray("shape", [&] {
            for (const auto &dim : tensor.shape) {
              if (auto *size = std::get_if<int64_t>(&dim))
                json.value(*size);
              else if (std::get<std::string>(dim).empty())
                json.value(nullptr);
              else
                json.value(std::get<std::string>(dim));
            }
          });
        });
    });
  };
  json.object([&] {
    json.attribute("format", "qaf-artifact");
    json.attribute("version", 1);
    json.attribute("library", description.libraryFile);
    json.attribute("weights", description.weightsFile);
    json.attribute("fingerprint", description.fingerprint);
    json.attributeObject("target", [&] {
      json.attribute("triple", description.target.triple);
      json.attribute("cpu", description.target.cpu);
      json.attribute("features", description.target.features);
    });
    json.attributeArray("entry_points", [&] {
      json.object([&] {
        json.attribute("name", description.entry);
        json.attribute("symbol", description.symbol);
        writeTensors("weights", description.weights);
        writeTensors("inputs", description.inputs);
        writeTensors("outputs", description.outputs);
      });
    });
  });
  (*file)->os() << "\n";
  if (llvm::Error error = (*file)->commit())
    return emitError(loc) << llvm::toString(std::move(error));
  return success();
}

} // namespace qaf
