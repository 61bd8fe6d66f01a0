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

func::FuncOp lookupEntry(ModuleOp module, StringRef entry) {
  return module.lookupSymbol<func::FuncOp>(entry);
}

} // namespace

FailureOr<ArtifactDescription>
describeEntryPoint(ModuleOp module, StringRef entry, const CPUTarget &target) {
  func::FuncOp func = lookupEntry(module, entry);
  if (!func)
    return emitError(module.getLoc()) << "no entry point @" << entry;
  ArtifactDescription description;
  description.entry = entry.str();
  description.symbol = "qaf_entry_" + entry.str();
  description.target = target;

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
      if (value) {
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

LogicalResult writeWeights(ModuleOp module, StringRef entry,
                           const ArtifactDescription &description,
                           StringRef path) {
  func::FuncOp func = lookupEntry(module, entry);
  std::vector<SafeTensorsEntry> entries;
  std::vector<std::vector<char>> storages;
  storages.reserve(func.getNumArguments());
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, kWeightNameAttr);
    auto value = func.getArgAttrOfType<ElementsAttr>(i, kWeightValueAttr);
    if (!name)
      continue;
    if (!value)
      return emitError(func.getLoc())
             << "weight '" << name.getValue() << "' has no value";
    storages.emplace_back();
    std::string error;
    FailureOr<ArrayRef<char>> bytes = getElementsBytes(
        value, storages.back(), SubByteLayout::BytePerElement, error);
    if (failed(bytes))
      return emitError(func.getLoc())
             << "weight '" << name.getValue() << "': " << error;
    auto type = cast<ShapedType>(value.getType());
    SafeTensorsEntry tensor;
    tensor.name = name.str();
    tensor.dtype = *getDType(type.getElementType());
    tensor.shape.assign(type.getShape().begin(), type.getShape().end());
    tensor.bytes = *bytes;
    entries.push_back(std::move(tensor));
  }
  std::map<std::string, std::string> metadata = {
      {"qaf.fingerprint", description.fingerprint}};
  if (llvm::Error error = writeSafeTensors(path, entries, metadata))
    return emitError(func.getLoc()) << llvm::toString(std::move(error));
  return success();
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
