//===- ONNXExporter.cpp - onnx dialect -> ONNX protobuf -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The inverse of the importer: `onnx.T` becomes a node of type T, attributes
// map back by kind, every `onnx.Constant` becomes an initializer, and the
// model metadata kept on the module is written back. Weights go straight from
// their blobs into the protobuf or the external data file.
//
//===----------------------------------------------------------------------===//

#include "qaf/Export/ONNXExporter.h"

#include "qaf/Support/AtomicFile.h"
#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/dialects/onnx/ONNXTypes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

#include <onnx/onnx_pb.h>

using namespace mlir;
using namespace qaf;
namespace proto = ::onnx;
namespace ox = qaf::onnx;

namespace {

/// The opset qaf writes at least: the first with blocked quantization and
/// 4-bit types, so every op of the dialect is expressible.
constexpr int64_t kMinExportOpset = 21;

/// Protobuf cannot serialize messages of 2 GiB or more.
constexpr uint64_t kProtobufLimit = (uint64_t(1) << 31) - (uint64_t(1) << 20);

/// Offsets of tensors in external data files are aligned so that a mapped
/// file gives aligned pointers for any element type and vector load.
constexpr uint64_t kExternalDataAlignment = 64;

/// The IR version an opset needs (onnx's VERSION_TABLE).
int64_t getRequiredIrVersion(int64_t opset) {
  if (opset <= 22)
    return 10;
  if (opset == 23)
    return 11;
  if (opset == 24)
    return 12;
  return 13;
}

/// Outputs past the first of the normalisation ops, of
/// SoftmaxCrossEntropyLoss and of GroupQueryAttention are optional: left
/// unnamed when unused so the runtime need not compute them
/// (GroupQueryAttention's output_qk must even be absent without qk_output).
bool isOptionalResult(Operation *op, unsigned index) {
  return index > 0 &&
         isa<ox::LayerNormalizationOp, ox::SimplifiedLayerNormalizationOp,
             ox::SkipSimplifiedLayerNormalizationOp,
             ox::SoftmaxCrossEntropyLossOp, ox::GroupQueryAttentionOp>(op);
}

class Exporter {
public:
  Exporter(ModuleOp module, const OnnxExportOptions &options,
           std::string dataLocation)
      : module(module), options(options), dataLocation(dataLocation) {}

  /// Builds the model; tensors at or above the threshold are written to
  /// `dataFile` when it is given.
  LogicalResult build(proto::ModelProto &model, AtomicFile *dataFile);

  /// Whether any tensor went to the external data file.
  bool wroteExternalData() const { return dataOffset != 0; }

  /// The total byte size of the constants (to decide on external data).
  static uint64_t getWeightBytes(func::FuncOp func);

private:
  std::string makeUnique(StringRef base, llvm::StringSet<> &used);
  std::string getNodeName(Operation *op);
  LogicalResult exportType(Type type, ArrayAttr dimParams,
                           proto::TypeProto &out, Location loc);
  LogicalResult exportTensor(ElementsAttr value, StringRef name,
                             proto::TensorProto &out, Location loc);
  LogicalResult exportAttribute(NamedAttribute attr, proto::AttributeProto &out,
                                Operation *op);
  LogicalResult exportNode(Operation *op, proto::GraphProto &graph);
  void exportModelAttributes(proto::ModelProto &model, bool usesMicrosoft);

  ModuleOp module;
  OnnxExportOptions options;
  std::string dataLocation;
  AtomicFile *dataFile = nullptr;
  uint64_t dataOffset = 0;

  LogicalResult exportConstant(ox::ConstantOp constant,
                               proto::GraphProto &graph);

  llvm::DenseMap<Value, std::string> names;
  llvm::StringSet<> valueNames;
  llvm::StringSet<> nodeNames;
  /// The initializer written for each blob (by its resource key), and its
  /// type: another constant of the same blob is that initializer, or a
  /// Reshape of it, never a second copy of the bytes.
  llvm::StringMap<std::pair<std::string, ShapedType>> blobInitializers;
};

FailureOr<func::FuncOp> findMainGraph(ModuleOp module) {
  if (auto func = module.lookupSymbol<func::FuncOp>(ox::kMainGraphName))
    return func;
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() == 1)
    return funcs.front();
  return emitError(module.getLoc())
         << "cannot export: expected a function @" << ox::kMainGraphName
         << " (or exactly one function), found " << funcs.size();
}

std::string Exporter::makeUnique(StringRef base, llvm::StringSet<> &used) {
  std::string name = base.empty() ? "value" : base.str();
  if (used.insert(name).second)
    return name;
  for (unsigned suffix = 1;; ++suffix) {
    std::string candidate = name + "_" + std::to_string(suffix);
    if (used.insert(candidate).second)
      return candidate;
  }
}

/// The name a location gives: the importer keeps node and initializer names
/// as NameLocs.
static StringRef getLocationName(Location loc) {
  if (auto nameLoc = dyn_cast<NameLoc>(loc))
    return nameLoc.getName().getValue();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (StringRef name = getLocationName(inner); !name.empty())
        return name;
  return {};
}

std::string Exporter::getNodeName(Operation *op) {
  StringRef name = getLocationName(op->getLoc());
  std::string base = name.empty()
                         ? op->getName().getStringRef().drop_front(5).str()
                         : name.str();
  return makeUnique(base, nodeNames);
}

uint64_t Exporter::getWeightBytes(func::FuncOp func) {
  uint64_t total = 0;
  func.walk([&](ox::ConstantOp constant) {
    auto type = cast<ShapedType>(constant.getValue().getType());
    total += type.getNumElements() *
             llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  });
  return total;
}

LogicalResult Exporter::exportType(Type type, ArrayAttr dimParams,
                                   proto::TypeProto &out, Location loc) {
  auto shaped = dyn_cast<TensorType>(type);
  std::optional<int32_t> dataType =
      shaped ? ox::getDataType(shaped.getElementType()) : std::nullopt;
  if (!dataType)
    return emitError(loc) << "cannot export type " << type << " to ONNX";
  proto::TypeProto::Tensor *tensor = out.mutable_tensor_type();
  tensor->set_elem_type(*dataType);
  if (!shaped.hasRank())
    return success();
  proto::TensorShapeProto *shape = tensor->mutable_shape();
  for (auto [i, dim] : llvm::enumerate(shaped.getShape())) {
    proto::TensorShapeProto::Dimension *out = shape->add_dim();
    if (!ShapedType::isDynamic(dim)) {
      out->set_dim_value(dim);
      continue;
    }
    if (dimParams && i < dimParams.size())
      if (auto param = dyn_cast<StringAttr>(dimParams[i]);
          param && !param.getValue().empty())
        out->set_dim_param(param.str());
  }
  return success();
}

LogicalResult Exporter::exportTensor(ElementsAttr value, StringRef name,
                                     proto::TensorProto &out, Location loc) {
  auto type = cast<ShapedType>(value.getType());
  Type elementType = type.getElementType();
  std::optional<int32_t> dataType = ox::getDataType(elementType);
  if (!dataType)
    return emitError(loc) << "cannot export tensor '" << name
                          << "' of element type " << elementType;
  out.set_name(name.str());
  out.set_data_type(*dataType);
  for (int64_t dim : type.getShape())
    out.add_dims(dim);

  std::vector<char> storage;
  std::string error;
  FailureOr<ArrayRef<char>> maybeBytes =
      getElementsBytes(value, storage, SubByteLayout::Packed, error);
  if (failed(maybeBytes))
    return emitError(loc) << "cannot export tensor '" << name << "': " << error;
  ArrayRef<char> bytes = *maybeBytes;

  if (!dataFile || bytes.size() < options.externalDataThreshold) {
    out.set_raw_data(bytes.data(), bytes.size());
    return success();
  }
  uint64_t padding =
      llvm::alignTo(dataOffset, kExternalDataAlignment) - dataOffset;
  for (uint64_t i = 0; i < padding; ++i)
    dataFile->os() << '\0';
  dataOffset += padding;
  dataFile->os().write(bytes.data(), bytes.size());
  out.set_data_location(proto::TensorProto::EXTERNAL);
  auto addEntry = [&](const char *key, std::string entryValue) {
    proto::StringStringEntryProto *entry = out.add_external_data();
    entry->set_key(key);
    entry->set_value(std::move(entryValue));
  };
  addEntry("location", dataLocation);
  addEntry("offset", std::to_string(dataOffset));
  addEntry("length", std::to_string(bytes.size()));
  dataOffset += bytes.size();
  return success();
}

LogicalResult Exporter::exportAttribute(NamedAttribute attr,
                                        proto::AttributeProto &out,
                                        Operation *op) {
  out.set_name(attr.getName().str());
  Attribute value = attr.getValue();
  if (auto integer = dyn_cast<IntegerAttr>(value)) {
    out.set_type(proto::AttributeProto::INT);
    out.set_i(integer.getInt());
  } else if (auto real = dyn_cast<FloatAttr>(value)) {
    out.set_type(proto::AttributeProto::FLOAT);
    out.set_f(static_cast<float>(real.getValueAsDouble()));
  } else if (auto string = dyn_cast<StringAttr>(value)) {
    out.set_type(proto::AttributeProto::STRING);
    out.set_s(string.str());
  } else if (auto ints = dyn_cast<DenseI64ArrayAttr>(value)) {
    out.set_type(proto::AttributeProto::INTS);
    for (int64_t i : ints.asArrayRef())
      out.add_ints(i);
  } else if (auto floats = dyn_cast<DenseF32ArrayAttr>(value)) {
    out.set_type(proto::AttributeProto::FLOATS);
    for (float f : floats.asArrayRef())
      out.add_floats(f);
  } else if (auto strings = dyn_cast<ArrayAttr>(value)) {
    out.set_type(proto::AttributeProto::STRINGS);
    for (Attribute element : strings) {
      auto string = dyn_cast<StringAttr>(element);
      if (!string)
        return op->emitError() << "cannot export attribute '" << attr.getName()
                               << "': arrays must hold strings";
      out.add_strings(string.str());
    }
  } else if (auto tensor = dyn_cast<ElementsAttr>(value)) {
    out.set_type(proto::AttributeProto::TENSOR);
    return exportTensor(tensor, "", *out.mutable_t(), op->getLoc());
  } else {
    return op->emitError() << "cannot export attribute '" << attr.getName()
                           << "' of kind " << value;
  }
  return success();
}

/// One initializer per constant, except that a blob already written (a
/// tied table's codes, read by GatherBlockQuantized as [V, H·b/8] and by
/// MatMulNBits as [V, blocks, bytes]) is read again through a Reshape of
/// its initializer, as ORT GenAI's int4 models share the table.
LogicalResult Exporter::exportConstant(ox::ConstantOp constant,
                                       proto::GraphProto &graph) {
  Value result = constant.getOutput();
  auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue());
  StringRef key = resource ? resource.getRawHandle().getKey() : "";
  auto shared =
      key.empty() ? blobInitializers.end() : blobInitializers.find(key);
  auto type = cast<ShapedType>(constant.getType());
  if (shared != blobInitializers.end() && !names.count(result) &&
      shared->second.second.getElementType() == type.getElementType() &&
      shared->second.second.getNumElements() == type.getNumElements()) {
    const auto &[source, sourceType] = shared->second;
    if (sourceType.getShape() == type.getShape()) {
      names[result] = source;
      return success();
    }
    std::string base = getLocationName(constant.getLoc()).str();
    if (base.empty())
      base = key.str();
    std::string shapeName = makeUnique(base + "_shape", valueNames);
    proto::TensorProto *shape = graph.add_initializer();
    shape->set_name(shapeName);
    shape->set_data_type(proto::TensorProto::INT64);
    shape->add_dims(type.getRank());
    for (int64_t dim : type.getShape())
      shape->add_int64_data(dim);
    std::string name = makeUnique(base, valueNames);
    proto::NodeProto *reshape = graph.add_node();
    reshape->set_op_type("Reshape");
    reshape->set_name(makeUnique(base + "_reshape", nodeNames));
    reshape->add_input(source);
    reshape->add_input(shapeName);
    reshape->add_output(name);
    names[result] = name;
    return success();
  }
  auto it = names.find(result);
  if (it == names.end()) {
    StringRef base = getLocationName(constant.getLoc());
    // Without locations (text IR printed without debug info) a resource's
    // key still names the initializer.
    if (base.empty())
      base = key;
    it = names
             .try_emplace(result,
                          makeUnique(base.empty() ? "const" : base, valueNames))
             .first;
  }
  if (!key.empty())
    blobInitializers.try_emplace(key, it->second, type);
  return exportTensor(constant.getValue(), it->second, *graph.add_initializer(),
                      constant.getLoc());
}

LogicalResult Exporter::exportNode(Operation *op, proto::GraphProto &graph) {
  StringRef fullName = op->getName().getStringRef();
  proto::NodeProto *node = graph.add_node();
  StringRef opType = fullName.drop_front(strlen("onnx."));
  if (opType.consume_front("com.microsoft."))
    node->set_domain(ox::kMicrosoftDomain.str());
  node->set_op_type(opType.str());
  node->set_name(getNodeName(op));

  SmallVector<std::string> inputs;
  for (Value operand : op->getOperands())
    inputs.push_back(isa<NoneType>(operand.getType()) ? std::string()
                                                      : names.lookup(operand));
  while (!inputs.empty() && inputs.back().empty())
    inputs.pop_back();
  for (std::string &input : inputs)
    node->add_input(input);

  SmallVector<std::string> outputs;
  for (OpResult result : op->getResults()) {
    if (result.use_empty() && !names.count(result) &&
        isOptionalResult(op, result.getResultNumber())) {
      outputs.emplace_back();
      continue;
    }
    auto it = names.find(result);
    if (it == names.end())
      it = names
               .try_emplace(
                   result,
                   makeUnique(node->name() + "_output_" +
                                  std::to_string(result.getResultNumber()),
                              valueNames))
               .first;
    outputs.push_back(it->second);
    proto::ValueInfoProto *info = graph.add_value_info();
    info->set_name(it->second);
    if (failed(exportType(result.getType(), nullptr, *info->mutable_type(),
                          op->getLoc())))
      return failure();
  }
  while (!outputs.empty() && outputs.back().empty())
    outputs.pop_back();
  for (std::string &output : outputs)
    node->add_output(output);

  // Attributes in name order: the dictionary is sorted, so output is stable.
  for (NamedAttribute attr : op->getAttrs())
    if (failed(exportAttribute(attr, *node->add_attribute(), op)))
      return failure();
  return success();
}

void Exporter::exportModelAttributes(proto::ModelProto &model,
                                     bool usesMicrosoft) {
  auto getString = [&](StringRef name) -> std::string {
    if (auto attr = module->getAttrOfType<StringAttr>(name))
      return attr.str();
    return {};
  };
  int64_t defaultOpset = kMinExportOpset;
  bool hasMicrosoft = false;
  if (auto opsets =
          module->getAttrOfType<DictionaryAttr>(ox::kOpsetImportAttr)) {
    for (NamedAttribute entry : opsets) {
      auto version = dyn_cast<IntegerAttr>(entry.getValue());
      if (!version)
        continue;
      if (entry.getName() == ox::kDefaultDomainKey) {
        defaultOpset = std::max(defaultOpset, version.getInt());
        continue;
      }
      proto::OperatorSetIdProto *opset = model.add_opset_import();
      opset->set_domain(entry.getName().str());
      opset->set_version(version.getInt());
      hasMicrosoft |= entry.getName() == ox::kMicrosoftDomain;
    }
  }
  if (usesMicrosoft && !hasMicrosoft) {
    proto::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain(ox::kMicrosoftDomain.str());
    opset->set_version(1);
  }
  proto::OperatorSetIdProto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(defaultOpset);

  int64_t irVersion = getRequiredIrVersion(defaultOpset);
  if (auto attr = module->getAttrOfType<IntegerAttr>(ox::kIrVersionAttr))
    irVersion = std::max(irVersion, attr.getInt());
  model.set_ir_version(irVersion);
  model.set_producer_name(getString(ox::kProducerNameAttr));
  model.set_producer_version(getString(ox::kProducerVersionAttr));
  model.set_domain(getString(ox::kModelDomainAttr));
  model.set_doc_string(getString(ox::kDocStringAttr));
  if (auto attr = module->getAttrOfType<IntegerAttr>(ox::kModelVersionAttr))
    model.set_model_version(attr.getInt());
  if (auto props =
          module->getAttrOfType<DictionaryAttr>(ox::kMetadataPropsAttr)) {
    for (NamedAttribute entry : props) {
      proto::StringStringEntryProto *prop = model.add_metadata_props();
      prop->set_key(entry.getName().str());
      if (auto value = dyn_cast<StringAttr>(entry.getValue()))
        prop->set_value(value.str());
    }
  }
}

LogicalResult Exporter::build(proto::ModelProto &model, AtomicFile *file) {
  dataFile = file;
  FailureOr<func::FuncOp> found = findMainGraph(module);
  if (failed(found))
    return failure();
  func::FuncOp func = *found;
  if (func.getBlocks().size() != 1)
    return func.emitError("cannot export: the graph must be a single block");
  Block &body = func.getBody().front();
  auto returnOp = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!returnOp)
    return func.emitError("cannot export: the graph must end in func.return");

  proto::GraphProto &graph = *model.mutable_graph();
  if (auto name = module->getAttrOfType<StringAttr>(ox::kGraphNameAttr))
    graph.set_name(name.str());
  else
    graph.set_name(func.getName().str());

  // Graph inputs keep their names.
  for (BlockArgument arg : body.getArguments()) {
    auto nameAttr = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      ox::kValueNameAttr);
    std::string name = makeUnique(
        nameAttr ? nameAttr.getValue()
                 : StringRef("input_" + std::to_string(arg.getArgNumber())),
        valueNames);
    names[arg] = name;
    proto::ValueInfoProto *input = graph.add_input();
    input->set_name(name);
    if (failed(exportType(arg.getType(),
                          func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(),
                                                           ox::kDimParamsAttr),
                          *input->mutable_type(), arg.getLoc())))
      return failure();
  }

  // Graph outputs name the values that compute them where they can; a value
  // that already has a name (an input, an initializer) or is returned twice
  // gets an Identity node instead.
  SmallVector<std::string> outputNames;
  for (OpOperand &operand : returnOp->getOpOperands()) {
    unsigned index = operand.getOperandNumber();
    auto nameAttr =
        func.getResultAttrOfType<StringAttr>(index, ox::kValueNameAttr);
    std::string wanted =
        nameAttr ? nameAttr.str() : "output_" + std::to_string(index);
    Value value = operand.get();
    auto it = names.find(value);
    if (it != names.end() && it->second == wanted) {
      outputNames.push_back(wanted);
      continue;
    }
    Operation *producer = value.getDefiningOp();
    bool canName = producer && it == names.end() &&
                   (!isa<ox::ConstantOp>(producer) ||
                    getLocationName(producer->getLoc()) == wanted);
    std::string name = makeUnique(wanted, valueNames);
    if (canName)
      names[value] = name;
    outputNames.push_back(name);
  }

  // Initializers and nodes, in program order (which is topological).
  for (Operation &op : body.without_terminator()) {
    if (isa<ox::NoValueOp>(op))
      continue;
    if (op.getDialect() == nullptr ||
        op.getDialect()->getNamespace() !=
            ox::ONNXDialect::getDialectNamespace())
      return op.emitError() << "cannot export '" << op.getName()
                            << "' to ONNX: only onnx dialect ops can be "
                               "exported";
    if (auto constant = dyn_cast<ox::ConstantOp>(op)) {
      if (failed(exportConstant(constant, graph)))
        return failure();
      continue;
    }
    if (failed(exportNode(&op, graph)))
      return failure();
  }

  for (OpOperand &operand : returnOp->getOpOperands()) {
    unsigned index = operand.getOperandNumber();
    const std::string &outputName = outputNames[index];
    Value value = operand.get();
    if (isa<NoneType>(value.getType()))
      return returnOp.emitError()
             << "cannot export: graph output " << index << " has no value";
    if (names.lookup(value) != outputName) {
      proto::NodeProto *identity = graph.add_node();
      identity->set_op_type("Identity");
      identity->set_name(makeUnique(outputName + "_identity", nodeNames));
      identity->add_input(names.lookup(value));
      identity->add_output(outputName);
    }
    proto::ValueInfoProto *output = graph.add_output();
    output->set_name(outputName);
    if (failed(exportType(
            value.getType(),
            func.getResultAttrOfType<ArrayAttr>(index, ox::kDimParamsAttr),
            *output->mutable_type(), returnOp.getLoc())))
      return failure();
  }
  // Value infos of graph outputs live in graph.output already.
  llvm::StringSet<> outputSet;
  for (const std::string &name : outputNames)
    outputSet.insert(name);
  auto *infos = graph.mutable_value_info();
  infos->erase(std::remove_if(infos->begin(), infos->end(),
                              [&](const proto::ValueInfoProto &info) {
                                return outputSet.contains(info.name());
                              }),
               infos->end());

  bool usesMicrosoft = false;
  for (const proto::NodeProto &node : graph.node())
    usesMicrosoft |= node.domain() == ox::kMicrosoftDomain;
  exportModelAttributes(model, usesMicrosoft);
  return success();
}

} // namespace

LogicalResult qaf::exportOnnxFile(ModuleOp module, StringRef path,
                                  const OnnxExportOptions &options) {
  FailureOr<func::FuncOp> func = findMainGraph(module);
  if (failed(func))
    return failure();
  uint64_t weightBytes = Exporter::getWeightBytes(*func);
  bool external = false;
  switch (options.externalData) {
  case OnnxExportOptions::ExternalData::Always:
    external = true;
    break;
  case OnnxExportOptions::ExternalData::Never:
    external = false;
    break;
  case OnnxExportOptions::ExternalData::Auto:
    external =
        module->hasAttr(ox::kExternalDataAttr) || weightBytes > kProtobufLimit;
    break;
  }
  if (!external && weightBytes > kProtobufLimit)
    return emitError(module.getLoc())
           << "the weights (" << weightBytes
           << " bytes) exceed protobuf's 2 GiB limit: export with external "
              "data";

  std::string dataLocation = llvm::sys::path::filename(path).str() + ".data";
  SmallString<256> dataPath(path);
  llvm::sys::path::remove_filename(dataPath);
  llvm::sys::path::append(dataPath, dataLocation);

  std::unique_ptr<AtomicFile> dataFile;
  if (external) {
    auto created = AtomicFile::create(dataPath);
    if (!created)
      return emitError(module.getLoc()) << toString(created.takeError());
    dataFile = std::move(*created);
  }
  proto::ModelProto model;
  Exporter exporter(module, options, dataLocation);
  if (failed(exporter.build(model, dataFile.get())))
    return failure();
  if (model.ByteSizeLong() > kProtobufLimit)
    return emitError(module.getLoc())
           << "the model exceeds protobuf's 2 GiB limit: export with "
              "external data";

  auto modelFile = AtomicFile::create(path);
  if (!modelFile)
    return emitError(module.getLoc()) << toString(modelFile.takeError());
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return emitError(module.getLoc()) << "cannot serialize the ONNX model";
  (*modelFile)->os() << bytes;
  // The data file first: a model never points at data that is not there.
  // No tensor reached the threshold: no data file (its temporary goes away).
  if (dataFile && !exporter.wroteExternalData())
    dataFile.reset();
  if (dataFile)
    if (llvm::Error error = dataFile->commit())
      return emitError(module.getLoc()) << toString(std::move(error));
  if (llvm::Error error = (*modelFile)->commit())
    return emitError(module.getLoc()) << toString(std::move(error));
  return success();
}

FailureOr<std::string> qaf::exportOnnxToString(ModuleOp module) {
  proto::ModelProto model;
  Exporter exporter(module, OnnxExportOptions(), "");
  if (failed(exporter.build(model, nullptr)))
    return failure();
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return emitError(module.getLoc()) << "cannot serialize the ONNX model";
  return bytes;
}
