//===- ONNXImporter.cpp - ONNX protobuf -> onnx dialect -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The importer is mechanical by design: a node of type T in the default domain
// becomes the op `onnx.T` (`onnx.<domain>.T` for other domains), built
// generically from its inputs and attributes. What is not mechanical lives in
// three places: the opset normalisations (older forms rewritten to the newest
// one), tensor decoding (raw, typed, packed sub-byte, external data), and the
// validation that turns malformed models into diagnostics.
//
//===----------------------------------------------------------------------===//

#include "qaf/Import/ONNXImporter.h"

#include "TensorProtoDecoding.h"

#include "qaf/Support/BitPacking.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/dialects/onnx/ONNXTypes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/text_format.h>
#include <onnx/onnx_pb.h>

#include <map>
#include <queue>

using namespace mlir;
using namespace qaf;
namespace proto = ::onnx;
namespace ox = qaf::onnx;

namespace {

/// Largest element count a tensor may declare: beyond this a "model" is
/// garbage (and multiplying its dims could overflow).
constexpr int64_t kMaxElements = int64_t(1) << 42;

/// ONNX's attributes that later opsets turned into inputs. A node of an opset
/// older than `firstOpsetAsInput` has the attribute moved to input `index`.
struct AttributeBecameInput {
  llvm::StringLiteral opType;
  int64_t firstOpsetAsInput;
  llvm::StringLiteral attribute;
  unsigned index;
  /// True: the constant takes the element type of input 0 (Clip bounds);
  /// false: int64.
  bool likeFirstInput;
};

constexpr AttributeBecameInput kAttributesBecameInputs[] = {
    {"Squeeze", 13, "axes", 1, false},   {"Unsqueeze", 13, "axes", 1, false},
    {"ReduceSum", 13, "axes", 1, false}, {"ReduceMean", 18, "axes", 1, false},
    {"ReduceMax", 18, "axes", 1, false}, {"ReduceMin", 18, "axes", 1, false},
    {"Split", 13, "split", 1, false},    {"Slice", 10, "starts", 1, false},
    {"Slice", 10, "ends", 2, false},     {"Slice", 10, "axes", 3, false},
    {"Clip", 11, "min", 1, true},        {"Clip", 11, "max", 2, true},
    {"Reshape", 5, "shape", 1, false},
};

/// Element type names of Cast-1, whose `to` was a string.
std::optional<int64_t> getCastTypeCode(StringRef name) {
  for (int32_t code = 1; code <= static_cast<int32_t>(ox::DataType::Int2);
       ++code)
    if (ox::getDataTypeName(code) == name)
      return code;
  return std::nullopt;
}

bool isDefaultDomain(StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}

/// The kind of an attribute's value. Old models leave it implicit in which
/// field is set.
proto::AttributeProto::AttributeType
getAttributeKind(const proto::AttributeProto &attr) {
  if (attr.type() != proto::AttributeProto::UNDEFINED)
    return attr.type();
  if (attr.has_f())
    return proto::AttributeProto::FLOAT;
  if (attr.has_i())
    return proto::AttributeProto::INT;
  if (attr.has_s())
    return proto::AttributeProto::STRING;
  if (attr.has_t())
    return proto::AttributeProto::TENSOR;
  if (attr.floats_size())
    return proto::AttributeProto::FLOATS;
  if (attr.ints_size())
    return proto::AttributeProto::INTS;
  if (attr.strings_size())
    return proto::AttributeProto::STRINGS;
  return proto::AttributeProto::UNDEFINED;
}

/// Bytes of `count` elements of `type` in ONNX storage.
size_t getStorageSize(Type elementType, int64_t count) {
  unsigned bits = ox::getStorageBitWidth(elementType);
  if (bits < 8)
    return getPackedSize(count, bits);
  return static_cast<size_t>(count) * (bits / 8);
}

/// Keeps a resource name readable and unambiguous in text IR.
std::string sanitizeResourceName(StringRef name) {
  std::string result;
  for (char c : name)
    result += (llvm::isAlnum(c) || c == '_' || c == '.') ? c : '_';
  if (result.empty() || llvm::isDigit(result.front()))
    result.insert(0, "w_");
  return result;
}

class Importer {
public:
  Importer(MLIRContext *context, StringRef sourceName, StringRef dataDir,
           const OnnxImportOptions &options)
      : context(context), builder(context), options(options),
        sourceName(sourceName.str()), dataDir(dataDir.str()),
        fileLoc(FileLineColLoc::get(context, sourceName, 0, 0)) {}

  OwningOpRef<ModuleOp> importModel(proto::ModelProto &model);

private:
  // Locations and diagnostics.
  Location nameLoc(StringRef name) {
    return NameLoc::get(StringAttr::get(context, name), fileLoc);
  }
  std::string describe(const proto::NodeProto &node) {
    return "node '" + nodeName(node) + "' (" + node.op_type() + ")";
  }
  std::string nodeName(const proto::NodeProto &node) {
    if (!node.name().empty())
      return node.name();
    return node.output_size() ? node.output(0) : node.op_type();
  }

  // Model-level steps.
  LogicalResult importOpsets(const proto::ModelProto &model);
  LogicalResult checkOperatorsSupported(const proto::GraphProto &graph);
  FailureOr<std::vector<int>> sortNodes(const proto::GraphProto &graph);
  void importModelAttributes(ModuleOp module, const proto::ModelProto &model);

  // Types and tensors.
  FailureOr<Type> importValueType(const proto::TypeProto &type, StringRef name,
                                  SmallVectorImpl<StringRef> &dimParams);
  /// ORT GenAI leaves the head size of its past inputs symbolic
  /// ('kv_cache_dim') although GroupQueryAttention fixes it (the query's
  /// width over the head counts, as ONNX Runtime checks): graph inputs only
  /// attention reads get it, so their cache has a static layout to
  /// allocate. `inputDimParams` (per graph input) loses the refined names.
  void
  refineCacheHeadSizes(MutableArrayRef<SmallVector<StringRef>> inputDimParams);
  FailureOr<ElementsAttr> importTensor(proto::TensorProto &tensor,
                                       StringRef name);
  FailureOr<ElementsAttr> makeElements(RankedTensorType type,
                                       ArrayRef<char> bytes,
                                       std::shared_ptr<void> owner,
                                       StringRef name);
  FailureOr<ArrayRef<char>> readExternalData(const proto::TensorProto &tensor,
                                             StringRef name, size_t expected,
                                             std::shared_ptr<void> &owner);

  // Nodes.
  LogicalResult importNode(const proto::NodeProto &node);
  FailureOr<Attribute> importAttribute(const proto::AttributeProto &attr,
                                       const proto::NodeProto &node);
  LogicalResult importConstantNode(const proto::NodeProto &node);
  FailureOr<SmallVector<Value>>
  buildOp(StringRef opName, ArrayRef<Value> operands,
          ArrayRef<NamedAttribute> attributes, unsigned numResults,
          const proto::NodeProto &node, ArrayRef<Type> declaredTypes);
  LogicalResult importOldSoftmax(const proto::NodeProto &node, StringRef opName,
                                 Value input,
                                 SmallVector<NamedAttribute> attributes);
  Value getNoValue();
  Value makeConstant(ElementsAttr value, Location loc);
  LogicalResult defineValue(StringRef name, Value value,
                            const proto::NodeProto *node);

  MLIRContext *context;
  OpBuilder builder;
  OnnxImportOptions options;
  std::string sourceName;
  std::string dataDir;
  Location fileLoc;

  int64_t defaultOpset = 0;
  llvm::MapVector<StringRef, int64_t> opsets;
  llvm::StringMap<Value> values;
  /// Types the model declares for values (value_info and graph outputs).
  llvm::StringMap<const proto::TypeProto *> declaredTypes;
  /// External data files, mapped once and shared by the blobs that alias them.
  llvm::StringMap<std::shared_ptr<llvm::MemoryBuffer>> externalFiles;
  bool usedExternalData = false;
  Block *body = nullptr;
  Value noValue;
};

//===----------------------------------------------------------------------===//
// Model level
//===----------------------------------------------------------------------===//

LogicalResult Importer::importOpsets(const proto::ModelProto &model) {
  for (const proto::OperatorSetIdProto &opset : model.opset_import()) {
    StringRef domain = opset.domain();
    int64_t version = opset.version();
    if (isDefaultDomain(domain)) {
      if (version < ox::ONNXDialect::kMinOpset ||
          version > ox::ONNXDialect::kMaxOpset)
        return emitError(fileLoc)
               << "unsupported opset version " << version
               << " of the default ONNX domain (qaf supports "
               << ox::ONNXDialect::kMinOpset << " to "
               << ox::ONNXDialect::kMaxOpset << ")";
      defaultOpset = version;
      opsets[ox::kDefaultDomainKey] = version;
      continue;
    }
    if (domain == ox::kMicrosoftDomain && version != 1)
      return emitError(fileLoc)
             << "unsupported opset version " << version
             << " of domain 'com.microsoft' (qaf supports 1)";
    opsets[domain] = version;
  }
  return success();
}

LogicalResult
Importer::checkOperatorsSupported(const proto::GraphProto &graph) {
  // One message for the whole model: a user converting a new architecture
  // wants the full list of what is missing, not one op per attempt.
  struct Unsupported {
    int count = 0;
    std::string firstNode;
  };
  std::map<std::string, Unsupported> unsupported;
  for (const proto::NodeProto &node : graph.node()) {
    StringRef domain = node.domain();
    bool known =
        isDefaultDomain(domain) ? defaultOpset != 0 : opsets.count(domain) != 0;
    std::string opName = "onnx.";
    if (!isDefaultDomain(domain))
      opName += domain.str() + ".";
    opName += node.op_type();
    bool supported = known && node.op_type() != "NoValue" &&
                     RegisteredOperationName::lookup(opName, context);
    if (supported)
      continue;
    std::string key = isDefaultDomain(domain)
                          ? node.op_type()
                          : domain.str() + "." + node.op_type();
    if (!known)
      key += " (domain not imported by the model)";
    Unsupported &entry = unsupported[key];
    if (entry.count++ == 0)
      entry.firstNode = nodeName(node);
  }
  if (unsupported.empty())
    return success();
  InFlightDiagnostic diag = emitError(fileLoc)
                            << unsupported.size()
                            << " unsupported operator type(s):";
  for (const auto &[opType, entry] : unsupported)
    diag << "\n  " << opType << ": " << entry.count << " node(s), e.g. '"
         << entry.firstNode << "'";
  return failure();
}

FailureOr<std::vector<int>>
Importer::sortNodes(const proto::GraphProto &graph) {
  // ONNX requires nodes in topological order; exporters mostly comply, but a
  // model that does not must still import, and a cycle must be an error, not
  // a hang or a crash.
  llvm::StringSet<> available;
  for (const proto::ValueInfoProto &input : graph.input())
    available.insert(input.name());
  for (const proto::TensorProto &init : graph.initializer())
    available.insert(init.name());
  llvm::StringMap<int> producer;
  int numNodes = graph.node_size();
  for (int i = 0; i < numNodes; ++i) {
    for (const std::string &output : graph.node(i).output()) {
      if (output.empty())
        continue;
      if (available.contains(output) || !producer.try_emplace(output, i).second)
        return emitError(nameLoc(nodeName(graph.node(i))))
               << describe(graph.node(i)) << ": value '" << output
               << "' is defined more than once";
    }
  }
  std::vector<std::vector<int>> users(numNodes);
  std::vector<int> pending(numNodes, 0);
  for (int i = 0; i < numNodes; ++i) {
    for (const std::string &input : graph.node(i).input()) {
      if (input.empty() || available.contains(input))
        continue;
      auto it = producer.find(input);
      if (it == producer.end())
        return emitError(nameLoc(nodeName(graph.node(i))))
               << describe(graph.node(i)) << ": input '" << input
               << "' is not defined by any node, initializer or graph input";
      users[it->second].push_back(i);
      ++pending[i];
    }
  }
  // Kahn's algorithm, taking the lowest index first so that a sorted model
  // keeps its order.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < numNodes; ++i)
    if (pending[i] == 0)
      ready.push(i);
  std::vector<int> order;
  order.reserve(numNodes);
  while (!ready.empty()) {
    int node = ready.top();
    ready.pop();
    order.push_back(node);
    for (int user : users[node])
      if (--pending[user] == 0)
        ready.push(user);
  }
  if (static_cast<int>(order.size()) != numNodes) {
    for (int i = 0; i < numNodes; ++i)
      if (pending[i] != 0)
        return emitError(nameLoc(nodeName(graph.node(i))))
               << "the graph has a cycle through " << describe(graph.node(i));
  }
  return order;
}

void Importer::importModelAttributes(ModuleOp module,
                                     const proto::ModelProto &model) {
  auto setString = [&](StringRef name, const std::string &value) {
    if (!value.empty())
      module->setAttr(name, builder.getStringAttr(value));
  };
  module->setAttr(ox::kIrVersionAttr,
                  builder.getI64IntegerAttr(model.ir_version()));
  SmallVector<NamedAttribute> opsetAttrs;
  for (auto &[domain, version] : opsets)
    opsetAttrs.push_back(
        builder.getNamedAttr(domain, builder.getI64IntegerAttr(version)));
  module->setAttr(ox::kOpsetImportAttr, builder.getDictionaryAttr(opsetAttrs));
  setString(ox::kProducerNameAttr, model.producer_name());
  setString(ox::kProducerVersionAttr, model.producer_version());
  setString(ox::kModelDomainAttr, model.domain());
  setString(ox::kDocStringAttr, model.doc_string());
  setString(ox::kGraphNameAttr, model.graph().name());
  if (model.model_version() != 0)
    module->setAttr(ox::kModelVersionAttr,
                    builder.getI64IntegerAttr(model.model_version()));
  if (model.metadata_props_size() != 0) {
    SmallVector<NamedAttribute> props;
    for (const proto::StringStringEntryProto &entry : model.metadata_props())
      if (!entry.key().empty())
        props.push_back(builder.getNamedAttr(
            entry.key(), builder.getStringAttr(entry.value())));
    module->setAttr(ox::kMetadataPropsAttr, builder.getDictionaryAttr(props));
  }
  if (usedExternalData)
    module->setAttr(ox::kExternalDataAttr, builder.getUnitAttr());
}

OwningOpRef<ModuleOp> Importer::importModel(proto::ModelProto &model) {
  context->getOrLoadDialect<ox::ONNXDialect>();
  context->getOrLoadDialect<func::FuncDialect>();
  if (!model.has_graph()) {
    emitError(fileLoc) << "not an ONNX model: it has no graph";
    return nullptr;
  }
  if (failed(importOpsets(model)))
    return nullptr;
  if (defaultOpset == 0 && model.graph().node_size() != 0 &&
      llvm::any_of(model.graph().node(), [](const proto::NodeProto &node) {
        return isDefaultDomain(node.domain());
      })) {
    emitError(fileLoc) << "the model imports no opset of the default ONNX "
                          "domain but uses its operators";
    return nullptr;
  }
  proto::GraphProto &graph = *model.mutable_graph();
  if (failed(checkOperatorsSupported(graph)))
    return nullptr;
  FailureOr<std::vector<int>> order = sortNodes(graph);
  if (failed(order))
    return nullptr;

  for (const proto::ValueInfoProto &info : graph.value_info())
    declaredTypes[info.name()] = &info.type();
  for (const proto::ValueInfoProto &info : graph.output())
    declaredTypes[info.name()] = &info.type();

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, ox::kMainGraphName,
                                   builder.getFunctionType({}, {}));
  body = func.addEntryBlock();
  builder.setInsertionPointToEnd(body);

  // Graph inputs (those that are not initializers: before IR version 4,
  // initializers were also listed as inputs).
  llvm::StringSet<> initializerNames;
  for (const proto::TensorProto &init : graph.initializer())
    initializerNames.insert(init.name());
  SmallVector<StringRef> inputNames;
  SmallVector<SmallVector<StringRef>> inputDimParams;
  for (const proto::ValueInfoProto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    SmallVector<StringRef> dimParams;
    FailureOr<Type> type =
        importValueType(input.type(), input.name(), dimParams);
    if (failed(type))
      return nullptr;
    if (!*type) {
      emitError(nameLoc(input.name()))
          << "graph input '" << input.name() << "' has no type";
      return nullptr;
    }
    BlockArgument arg = body->addArgument(*type, nameLoc(input.name()));
    if (failed(defineValue(input.name(), arg, nullptr)))
      return nullptr;
    inputNames.push_back(input.name());
    inputDimParams.push_back(std::move(dimParams));
  }

  for (proto::TensorProto &init : *graph.mutable_initializer()) {
    FailureOr<ElementsAttr> value = importTensor(init, init.name());
    if (failed(value))
      return nullptr;
    if (failed(defineValue(
            init.name(), makeConstant(*value, nameLoc(init.name())), nullptr)))
      return nullptr;
  }

  for (int index : *order)
    if (failed(importNode(graph.node(index))))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  // Outputs are found by name (qaf-run's files, the artifact's manifest):
  // a name listed twice would be two outputs no one can tell apart.
  llvm::StringSet<> outputNames;
  for (const proto::ValueInfoProto &output : graph.output())
    if (!outputNames.insert(output.name()).second) {
      emitError(nameLoc(output.name()))
          << "graph output '" << output.name()
          << "' is listed twice: each output of a model needs its own name";
      return nullptr;
    }
  for (const proto::ValueInfoProto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end()) {
      emitError(nameLoc(output.name()))
          << "graph output '" << output.name() << "' is not defined";
      return nullptr;
    }
    SmallVector<StringRef> dimParams;
    FailureOr<Type> declared =
        importValueType(output.type(), output.name(), dimParams);
    if (failed(declared))
      return nullptr;
    Value value = it->second;
    if (*declared &&
        failed(verifyCompatibleShape(*declared, value.getType()))) {
      emitError(nameLoc(output.name()))
          << "graph output '" << output.name() << "' is declared as "
          << *declared << " but computes " << value.getType();
      return nullptr;
    }
    results.push_back(value);
    SmallVector<NamedAttribute> attrs{builder.getNamedAttr(
        ox::kValueNameAttr, builder.getStringAttr(output.name()))};
    if (!dimParams.empty())
      attrs.push_back(builder.getNamedAttr(ox::kDimParamsAttr,
                                           builder.getStrArrayAttr(dimParams)));
    resultAttrs.push_back(builder.getDictionaryAttr(attrs));
  }
  func::ReturnOp::create(builder, fileLoc, results);
  // Constants first, in order of creation: folding materialises constants
  // amid the nodes, and an exported model lists them all as initializers,
  // so this keeps import(export(m)) identical to import(m).
  Operation *firstNode = nullptr;
  for (Operation &op : llvm::make_early_inc_range(*body)) {
    bool isConstant = isa<ox::ConstantOp, ox::NoValueOp>(op);
    if (!isConstant && !firstNode)
      firstNode = &op;
    else if (isConstant && firstNode)
      op.moveBefore(firstNode);
  }
  if (options.foldConstants) {
    // Folding leaves the inputs of folded chains (and the initializers only
    // they used) dead; drop them so the graph is what actually computes.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*body)))
      if (isOpTriviallyDead(&op))
        op.erase();
  }
  refineCacheHeadSizes(inputDimParams);
  func.setFunctionType(builder.getFunctionType(body->getArgumentTypes(),
                                               ValueRange(results).getTypes()));
  for (auto [i, name, dimParams] :
       llvm::enumerate(inputNames, inputDimParams)) {
    SmallVector<NamedAttribute> attrs{
        builder.getNamedAttr(ox::kValueNameAttr, builder.getStringAttr(name))};
    if (!dimParams.empty())
      attrs.push_back(builder.getNamedAttr(ox::kDimParamsAttr,
                                           builder.getStrArrayAttr(dimParams)));
    func.setArgAttrs(i, builder.getDictionaryAttr(attrs));
  }
  for (auto [i, attrs] : llvm::enumerate(resultAttrs))
    func.setResultAttrs(i, attrs);

  importModelAttributes(*module, model);
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

void Importer::refineCacheHeadSizes(
    MutableArrayRef<SmallVector<StringRef>> inputDimParams) {
  for (auto attention : body->getOps<ox::GroupQueryAttentionOp>()) {
    int64_t headSize = attention.getHeadSize();
    if (ShapedType::isDynamic(headSize))
      continue;
    for (Value past : {attention.getPastKey(), attention.getPastValue()}) {
      auto arg = dyn_cast<BlockArgument>(past);
      auto type = dyn_cast<RankedTensorType>(past.getType());
      if (!arg || arg.getOwner() != body || !type || type.getRank() != 4 ||
          !type.isDynamicDim(3))
        continue;
      // Only attention reads it, so no other op's type was inferred from
      // the symbolic dim.
      if (!llvm::all_of(arg.getUsers(), [](Operation *user) {
            return isa<ox::GroupQueryAttentionOp>(user);
          }))
        continue;
      SmallVector<int64_t> shape(type.getShape());
      shape[3] = headSize;
      arg.setType(type.clone(shape));
      SmallVector<StringRef> &dimParams = inputDimParams[arg.getArgNumber()];
      if (dimParams.size() == 4)
        dimParams[3] = "";
      if (llvm::all_of(dimParams, [](StringRef p) { return p.empty(); }))
        dimParams.clear();
    }
  }
}

LogicalResult Importer::defineValue(StringRef name, Value value,
                                    const proto::NodeProto *node) {
  if (values.try_emplace(name, value).second)
    return success();
  InFlightDiagnostic diag = emitError(nameLoc(name));
  if (node)
    diag << describe(*node) << ": ";
  return diag << "value '" << name << "' is defined more than once";
}

//===----------------------------------------------------------------------===//
// Types and tensors
//===----------------------------------------------------------------------===//

FailureOr<Type>
Importer::importValueType(const proto::TypeProto &type, StringRef name,
                          SmallVectorImpl<StringRef> &dimParams) {
  switch (type.value_case()) {
  case proto::TypeProto::VALUE_NOT_SET:
    return Type();
  case proto::TypeProto::kTensorType:
    break;
  default:
    return emitError(nameLoc(name))
           << "value '" << name
           << "': only tensor types are supported (sequences, maps, "
              "optionals and sparse tensors are not)";
  }
  const proto::TypeProto::Tensor &tensor = type.tensor_type();
  Type elementType = ox::getElementType(context, tensor.elem_type());
  if (!elementType)
    return emitError(nameLoc(name))
           << "value '" << name << "': unsupported element type "
           << ox::getDataTypeName(tensor.elem_type());
  if (!tensor.has_shape())
    return Type(UnrankedTensorType::get(elementType));
  SmallVector<int64_t> shape;
  bool anyParam = false;
  for (const proto::TensorShapeProto::Dimension &dim : tensor.shape().dim()) {
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0)
        return emitError(nameLoc(name))
               << "value '" << name << "': negative dimension "
               << dim.dim_value();
      shape.push_back(dim.dim_value());
      dimParams.push_back("");
      continue;
    }
    shape.push_back(ShapedType::kDynamic);
    dimParams.push_back(dim.dim_param());
    anyParam |= !dim.dim_param().empty();
  }
  if (!anyParam)
    dimParams.clear();
  return Type(RankedTensorType::get(shape, elementType));
}

FailureOr<ArrayRef<char>>
Importer::readExternalData(const proto::TensorProto &tensor, StringRef name,
                           size_t expected, std::shared_ptr<void> &owner) {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (const proto::StringStringEntryProto &entry : tensor.external_data()) {
    auto parseNumber = [&](uint64_t &out) {
      return !StringRef(entry.value()).getAsInteger(10, out);
    };
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset") {
      if (!parseNumber(offset))
        return emitError(nameLoc(name))
               << "tensor '" << name << "': bad external data offset '"
               << entry.value() << "'";
    } else if (entry.key() == "length") {
      uint64_t value;
      if (!parseNumber(value))
        return emitError(nameLoc(name))
               << "tensor '" << name << "': bad external data length '"
               << entry.value() << "'";
      length = value;
    }
  }
  if (location.empty())
    return emitError(nameLoc(name))
           << "tensor '" << name << "': external data without a location";
  if (dataDir.empty())
    return emitError(nameLoc(name))
           << "tensor '" << name
           << "': external data is not allowed for a model read from memory";
  // The location must stay inside the model's folder: a model file must not
  // be able to make qaf read /etc/shadow or ../../secrets.
  namespace path = llvm::sys::path;
  if (path::is_absolute(location) ||
      llvm::any_of(llvm::make_range(path::begin(location), path::end(location)),
                   [](StringRef part) { return part == ".."; }))
    return emitError(nameLoc(name))
           << "tensor '" << name << "': external data location '" << location
           << "' is absolute or leaves the model's folder";
  SmallString<256> fullPath(dataDir);
  path::append(fullPath, location);
  SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(dataDir, realDir) ||
      llvm::sys::fs::real_path(fullPath, realFile))
    return emitError(nameLoc(name))
           << "tensor '" << name << "': cannot open external data file '"
           << fullPath << "'";
  realDir += path::get_separator();
  if (!StringRef(realFile).starts_with(realDir))
    return emitError(nameLoc(name))
           << "tensor '" << name << "': external data location '" << location
           << "' resolves outside the model's folder";

  std::shared_ptr<llvm::MemoryBuffer> &file = externalFiles[realFile];
  if (!file) {
    auto buffer = llvm::MemoryBuffer::getFile(realFile, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return emitError(nameLoc(name))
             << "tensor '" << name << "': cannot read external data file '"
             << fullPath << "': " << buffer.getError().message();
    file = std::move(*buffer);
  }
  uint64_t size = file->getBufferSize();
  uint64_t byteLength = length.value_or(offset <= size ? size - offset : 0);
  if (length && *length != expected)
    return emitError(nameLoc(name))
           << "tensor '" << name << "': external data length " << *length
           << " does not match its shape and type (" << expected << " bytes)";
  if (offset > size || byteLength > size - offset || byteLength < expected)
    return emitError(nameLoc(name))
           << "tensor '" << name << "': external data [" << offset << ", "
           << offset + expected << ") lies beyond the end of '" << location
           << "' (" << size << " bytes)";
  usedExternalData = true;
  owner = file;
  return ArrayRef<char>(file->getBufferStart() + offset, expected);
}

FailureOr<ElementsAttr> Importer::makeElements(RankedTensorType type,
                                               ArrayRef<char> bytes,
                                               std::shared_ptr<void> owner,
                                               StringRef name) {
  Type elementType = type.getElementType();
  int64_t count = type.getNumElements();
  unsigned bits = ox::getStorageBitWidth(elementType);
  unsigned width = elementType.getIntOrFloatBitWidth();
  auto bytesAsUnsigned = ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  if (width == 1) {
    SmallVector<bool> flags(count);
    for (int64_t i = 0; i < count; ++i)
      flags[i] = bytesAsUnsigned[i] != 0;
    return cast<ElementsAttr>(DenseElementsAttr::get(type, flags));
  }
  if (bits < 8) {
    // Sub-byte codes: MLIR stores one per byte, ONNX packs them.
    std::vector<uint8_t> codes = unpackBits(bytesAsUnsigned, count, bits,
                                            !elementType.isUnsignedInteger());
    SmallVector<APInt> ints;
    ints.reserve(count);
    for (uint8_t code : codes)
      ints.emplace_back(width, code, /*isSigned=*/false,
                        /*implicitTrunc=*/true);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, ints));
  }
  if (count <= options.maxDenseElements) {
    bool detectedSplat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, bytes, detectedSplat))
      return emitError(nameLoc(name))
             << "tensor '" << name << "': malformed data";
    return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, bytes));
  }
  // A blob aliasing the protobuf string or the mapped file: no copy.
  size_t alignment = bits / 8;
  while (alignment > 1 &&
         reinterpret_cast<uintptr_t>(bytes.data()) % alignment != 0)
    alignment /= 2;
  AsmResourceBlob blob(
      bytes, alignment,
      [owner = std::move(owner)](void *, size_t, size_t) mutable {
        owner.reset();
      },
      /*dataIsMutable=*/false);
  return cast<ElementsAttr>(DenseResourceElementsAttr::get(
      type, sanitizeResourceName(name), std::move(blob)));
}

FailureOr<ElementsAttr> Importer::importTensor(proto::TensorProto &tensor,
                                               StringRef name) {
  Type elementType = ox::getElementType(context, tensor.data_type());
  if (!elementType)
    return emitError(nameLoc(name))
           << "tensor '" << name << "': unsupported element type "
           << ox::getDataTypeName(tensor.data_type());
  SmallVector<int64_t> shape;
  int64_t count = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0 || (dim != 0 && count > kMaxElements / dim))
      return emitError(nameLoc(name))
             << "tensor '" << name << "': invalid dimension " << dim;
    shape.push_back(dim);
    count *= dim;
  }
  if (tensor.has_segment())
    return emitError(nameLoc(name))
           << "tensor '" << name << "': segmented tensors are not supported";
  auto type = RankedTensorType::get(shape, elementType);
  size_t expected = getStorageSize(elementType, count);

  if (tensor.data_location() == proto::TensorProto::EXTERNAL) {
    std::shared_ptr<void> owner;
    FailureOr<ArrayRef<char>> bytes =
        readExternalData(tensor, name, expected, owner);
    if (failed(bytes))
      return failure();
    return makeElements(type, *bytes, std::move(owner), name);
  }

  if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != expected)
      return emitError(nameLoc(name))
             << "tensor '" << name << "': raw_data has "
             << tensor.raw_data().size() << " bytes, its shape and type need "
             << expected;
    // Take the bytes out of the protobuf so the blob owns them: one copy of
    // the weights in memory, not two.
    auto owned =
        std::make_shared<std::string>(std::move(*tensor.mutable_raw_data()));
    ArrayRef<char> bytes(owned->data(), owned->size());
    return makeElements(type, bytes, std::move(owned), name);
  }

  // Typed fields: convert to the raw little-endian layout.
  auto data = std::make_shared<std::vector<char>>();
  if (llvm::Error error = decodeTypedTensorValues(
          tensor, count, ox::getStorageBitWidth(elementType), expected, *data))
    return emitError(nameLoc(name))
           << "tensor '" << name << "' " << llvm::toString(std::move(error));
  ArrayRef<char> bytes(data->data(), data->size());
  return makeElements(type, bytes, std::move(data), name);
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

Value Importer::getNoValue() {
  if (!noValue) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(body);
    noValue = ox::NoValueOp::create(builder, fileLoc, builder.getNoneType());
  }
  return noValue;
}

Value Importer::makeConstant(ElementsAttr value, Location loc) {
  return ox::ConstantOp::create(builder, loc, value.getType(), value);
}

FailureOr<Attribute>
Importer::importAttribute(const proto::AttributeProto &attr,
                          const proto::NodeProto &node) {
  switch (getAttributeKind(attr)) {
  case proto::AttributeProto::FLOAT:
    return Attribute(builder.getF32FloatAttr(attr.f()));
  case proto::AttributeProto::INT:
    return Attribute(builder.getI64IntegerAttr(attr.i()));
  case proto::AttributeProto::STRING:
    return Attribute(builder.getStringAttr(attr.s()));
  case proto::AttributeProto::FLOATS:
    return Attribute(builder.getDenseF32ArrayAttr(
        SmallVector<float>(attr.floats().begin(), attr.floats().end())));
  case proto::AttributeProto::INTS:
    return Attribute(builder.getDenseI64ArrayAttr(
        SmallVector<int64_t>(attr.ints().begin(), attr.ints().end())));
  case proto::AttributeProto::STRINGS: {
    SmallVector<StringRef> strings(attr.strings().begin(),
                                   attr.strings().end());
    return Attribute(builder.getStrArrayAttr(strings));
  }
  case proto::AttributeProto::TENSOR: {
    proto::TensorProto tensor = attr.t();
    FailureOr<ElementsAttr> value =
        importTensor(tensor, nodeName(node) + "." + attr.name());
    if (failed(value))
      return failure();
    return Attribute(*value);
  }
  case proto::AttributeProto::GRAPH:
  case proto::AttributeProto::GRAPHS:
    return emitError(nameLoc(nodeName(node)))
           << describe(node) << ": attribute '" << attr.name()
           << "' is a subgraph; control flow is not supported";
  default:
    return emitError(nameLoc(nodeName(node)))
           << describe(node) << ": attribute '" << attr.name()
           << "' has an unsupported kind";
  }
}

LogicalResult Importer::importConstantNode(const proto::NodeProto &node) {
  Location loc = nameLoc(nodeName(node));
  if (node.attribute_size() != 1 || node.output_size() != 1)
    return emitError(loc) << describe(node)
                          << ": expected one value attribute and one output";
  const proto::AttributeProto &attr = node.attribute(0);
  ElementsAttr value;
  StringRef kind = attr.name();
  if (kind == "value") {
    proto::TensorProto tensor = attr.t();
    FailureOr<ElementsAttr> imported = importTensor(tensor, nodeName(node));
    if (failed(imported))
      return failure();
    value = *imported;
  } else if (kind == "value_float") {
    value = DenseElementsAttr::get(
        RankedTensorType::get({}, builder.getF32Type()), attr.f());
  } else if (kind == "value_floats") {
    SmallVector<float> floats(attr.floats().begin(), attr.floats().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)floats.size()}, builder.getF32Type()),
        ArrayRef<float>(floats));
  } else if (kind == "value_int") {
    value = DenseElementsAttr::get(
        RankedTensorType::get({}, builder.getI64Type()), attr.i());
  } else if (kind == "value_ints") {
    SmallVector<int64_t> ints(attr.ints().begin(), attr.ints().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)ints.size()}, builder.getI64Type()),
        ArrayRef<int64_t>(ints));
  } else {
    return emitError(loc) << describe(node) << ": attribute '" << kind
                          << "' is not supported (string and sparse "
                             "constants have no qaf type)";
  }
  return defineValue(node.output(0), makeConstant(value, loc), &node);
}

/// Checks the constraints ODS generates for an op of one of `OpTys`: operand
/// and result types, required attributes and attribute kinds. The op's own
/// verifier is not run.
template <typename... OpTys>
static LogicalResult verifyOdsConstraintsOf(Operation *op) {
  LogicalResult result = success();
  (void)((isa<OpTys>(op) &&
          (result = cast<OpTys>(op).verifyInvariantsImpl(), true)) ||
         ...);
  return result;
}

static LogicalResult verifyOdsConstraints(Operation *op) {
  return verifyOdsConstraintsOf<
#define GET_OP_LIST
#include "qaf/dialects/onnx/ONNXOps.cpp.inc"
      >(op);
}

/// Whether `name` has trait N<count>, for some count in [first, last].
template <template <unsigned> class N, unsigned first, unsigned last>
static std::optional<unsigned> findCountTrait(RegisteredOperationName name) {
  if (name.hasTrait<N<first>::template Impl>())
    return first;
  if constexpr (first < last)
    return findCountTrait<N, first + 1, last>(name);
  return std::nullopt;
}

/// The fixed number of operands or results an op declares, read from the
/// traits ODS gives it (ZeroOperands, OneOperand, NOperands<N>, and the same
/// for results); nullopt when variadic. The dialect's ops have at most 16
/// (GroupQueryAttention's inputs).
template <template <typename> class Zero, template <typename> class One,
          template <unsigned> class N>
static std::optional<unsigned> getDeclaredCount(RegisteredOperationName name) {
  if (name.hasTrait<Zero>())
    return 0;
  if (name.hasTrait<One>())
    return 1;
  return findCountTrait<N, 2, 16>(name);
}

static std::optional<unsigned>
getDeclaredNumOperands(RegisteredOperationName name) {
  return getDeclaredCount<OpTrait::ZeroOperands, OpTrait::OneOperand,
                          OpTrait::NOperands>(name);
}

static std::optional<unsigned>
getDeclaredNumResults(RegisteredOperationName name) {
  return getDeclaredCount<OpTrait::ZeroResults, OpTrait::OneResult,
                          OpTrait::NResults>(name);
}

FailureOr<SmallVector<Value>>
Importer::buildOp(StringRef opName, ArrayRef<Value> operands,
                  ArrayRef<NamedAttribute> attributes, unsigned numResults,
                  const proto::NodeProto &node, ArrayRef<Type> declaredTypes) {
  Location loc = nameLoc(nodeName(node));
  OperationState state(loc, opName);
  state.addOperands(operands);
  state.addAttributes(attributes);
  // Results start as "unknown"; declared types (value_info) seed them and
  // inferShapes computes and checks the rest.
  Type unknown = UnrankedTensorType::get(builder.getF32Type());
  for (unsigned i = 0; i < numResults; ++i)
    state.addTypes(i < declaredTypes.size() && declaredTypes[i]
                       ? declaredTypes[i]
                       : unknown);
  Operation *op = builder.create(state);
  // Inference before the op's verifier: verifiers check result types against
  // attributes (Cast's `to`), and the placeholder types are only right after
  // inference. But inference may rely on what ODS declares (a tensor operand
  // where a node left an input empty, a required attribute, its kind), so
  // those constraints are checked first.
  auto inference = dyn_cast<ox::ShapeInferenceOpInterface>(op);
  if (failed(verifyOdsConstraints(op)) ||
      (inference && failed(inference.inferShapes())) ||
      failed(verify(op, /*verifyRecursively=*/false))) {
    op->erase();
    return failure();
  }
  SmallVector<Value> results(op->getResults());
  SmallVector<OpFoldResult> folded;
  if (!options.foldConstants || isa<ox::ConstantOp>(op) ||
      failed(op->fold(folded)) || folded.empty())
    return results;
  // Replace the op by what it folded to, if every result can be replaced
  // with a value of exactly its type.
  SmallVector<Value> replacements;
  SmallVector<Operation *> materialized;
  Dialect *dialect = op->getDialect();
  for (auto [result, fold] : llvm::zip(op->getResults(), folded)) {
    if (auto value = dyn_cast<Value>(fold)) {
      if (value.getType() != result.getType())
        break;
      replacements.push_back(value);
      continue;
    }
    Operation *constant = dialect->materializeConstant(
        builder, cast<Attribute>(fold), result.getType(), loc);
    if (!constant)
      break;
    materialized.push_back(constant);
    replacements.push_back(constant->getResult(0));
  }
  if (replacements.size() != results.size()) {
    for (Operation *constant : materialized)
      constant->erase();
    return results;
  }
  op->erase();
  return replacements;
}

LogicalResult
Importer::importOldSoftmax(const proto::NodeProto &node, StringRef opName,
                           Value input,
                           SmallVector<NamedAttribute> attributes) {
  // Before opset 13, Softmax and LogSoftmax flattened the input to 2-D at
  // `axis` (default 1) and normalised over the whole second half. That is
  // the opset-13 op on the last axis when `axis` is the last one, and
  // Flatten -> op -> Reshape otherwise.
  if (node.output_size() != 1)
    return emitError(nameLoc(nodeName(node)))
           << describe(node) << ": has " << node.output_size()
           << " outputs, 1 is defined";
  int64_t axis = 1;
  SmallVector<NamedAttribute> kept;
  for (NamedAttribute attr : attributes) {
    if (attr.getName() != "axis") {
      kept.push_back(attr);
      continue;
    }
    auto value = dyn_cast<IntegerAttr>(attr.getValue());
    if (!value)
      return emitError(nameLoc(nodeName(node)))
             << describe(node) << ": attribute 'axis' must be an integer";
    axis = value.getInt();
  }
  auto inputType = dyn_cast<RankedTensorType>(input.getType());
  if (!inputType)
    return emitError(nameLoc(nodeName(node)))
           << describe(node)
           << ": opset < 13 needs the input rank to rewrite the coerced-2D "
              "semantics";
  int64_t rank = inputType.getRank();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return emitError(nameLoc(nodeName(node)))
           << describe(node) << ": axis out of range for rank " << rank;
  SmallVector<Type> declared;
  if (auto it = declaredTypes.find(node.output(0)); it != declaredTypes.end()) {
    SmallVector<StringRef> ignored;
    FailureOr<Type> type =
        importValueType(*it->second, node.output(0), ignored);
    if (failed(type))
      return failure();
    declared.push_back(*type);
  }
  if (axis == rank - 1 || rank == 0) {
    kept.push_back(builder.getNamedAttr("axis", builder.getI64IntegerAttr(-1)));
    FailureOr<SmallVector<Value>> results =
        buildOp(opName, {input}, kept, 1, node, declared);
    if (failed(results))
      return failure();
    return defineValue(node.output(0), results->front(), &node);
  }
  FailureOr<SmallVector<Value>> shape =
      buildOp("onnx.Shape", {input}, {}, 1, node, {});
  if (failed(shape))
    return failure();
  FailureOr<SmallVector<Value>> flat =
      buildOp("onnx.Flatten", {input},
              {builder.getNamedAttr("axis", builder.getI64IntegerAttr(axis))},
              1, node, {});
  if (failed(flat))
    return failure();
  kept.push_back(builder.getNamedAttr("axis", builder.getI64IntegerAttr(-1)));
  FailureOr<SmallVector<Value>> normalised =
      buildOp(opName, {flat->front()}, kept, 1, node, {});
  if (failed(normalised))
    return failure();
  FailureOr<SmallVector<Value>> reshaped =
      buildOp("onnx.Reshape", {normalised->front(), shape->front()}, {}, 1,
              node, declared);
  if (failed(reshaped))
    return failure();
  return defineValue(node.output(0), reshaped->front(), &node);
}

LogicalResult Importer::importNode(const proto::NodeProto &node) {
  StringRef opType = node.op_type();
  StringRef domain = node.domain();
  bool defaultDomain = isDefaultDomain(domain);
  if (defaultDomain && opType == "Constant")
    return importConstantNode(node);
  Location loc = nameLoc(nodeName(node));
  std::string opName = "onnx.";
  if (!defaultDomain)
    opName += domain.str() + ".";
  opName += opType.str();
  auto registered = RegisteredOperationName::lookup(opName, context);
  assert(registered && "unsupported ops are rejected before import");

  // Inputs; "" is an omitted optional input.
  SmallVector<Value> operands;
  for (const std::string &input : node.input())
    operands.push_back(input.empty() ? getNoValue() : values.lookup(input));

  // Attributes, checked against the op's declaration: an attribute qaf does
  // not know could change the semantics, so it is an error, not ignored.
  ArrayRef<StringAttr> known = registered->getAttributeNames();
  SmallVector<NamedAttribute> attributes;
  llvm::StringSet<> attributeNames;
  for (const proto::AttributeProto &attr : node.attribute()) {
    if (!attributeNames.insert(attr.name()).second)
      return emitError(loc) << describe(node) << ": attribute '" << attr.name()
                            << "' is given more than once";
    bool becameInput = false;
    for (const AttributeBecameInput &rule : kAttributesBecameInputs) {
      if (!defaultDomain || rule.opType != opType ||
          rule.attribute != attr.name() ||
          defaultOpset >= rule.firstOpsetAsInput)
        continue;
      becameInput = true;
      // Read with the wrong kind, the value would silently be 0 or [].
      auto kind = rule.likeFirstInput ? proto::AttributeProto::FLOAT
                                      : proto::AttributeProto::INTS;
      if (getAttributeKind(attr) != kind)
        return emitError(loc)
               << describe(node) << ": attribute '" << attr.name()
               << "' must be "
               << (rule.likeFirstInput ? "a float" : "a list of integers");
      // An old-opset node has no input in that position; one that does is
      // ambiguous, not something to overwrite.
      if (operands.size() > rule.index &&
          !isa<NoneType>(operands[rule.index].getType()))
        return emitError(loc)
               << describe(node) << ": attribute '" << attr.name()
               << "' and input " << rule.index << " both give the same value";
      // Named after the node and the attribute, so an export reads well.
      Location constantLoc = nameLoc(nodeName(node) + "." + attr.name());
      Value constant;
      if (rule.likeFirstInput) {
        auto inputType = operands.empty()
                             ? ShapedType()
                             : dyn_cast<ShapedType>(operands[0].getType());
        auto scalarType =
            inputType ? RankedTensorType::get({}, inputType.getElementType())
                      : RankedTensorType();
        if (!scalarType || !isa<FloatType>(scalarType.getElementType()))
          return emitError(loc) << describe(node) << ": attribute '"
                                << attr.name() << "' needs a float input";
        APFloat bound(attr.f());
        bool losesInfo = false;
        bound.convert(
            cast<FloatType>(scalarType.getElementType()).getFloatSemantics(),
            APFloat::rmNearestTiesToEven, &losesInfo);
        constant = makeConstant(
            DenseElementsAttr::get(scalarType, ArrayRef<APFloat>(bound)),
            constantLoc);
      } else {
        SmallVector<int64_t> ints(attr.ints().begin(), attr.ints().end());
        constant = makeConstant(
            DenseElementsAttr::get(RankedTensorType::get({(int64_t)ints.size()},
                                                         builder.getI64Type()),
                                   ArrayRef<int64_t>(ints)),
            constantLoc);
      }
      while (operands.size() < rule.index)
        operands.push_back(getNoValue());
      if (operands.size() == rule.index)
        operands.push_back(constant);
      else
        operands[rule.index] = constant;
      break;
    }
    if (becameInput)
      continue;
    if (!llvm::is_contained(known, StringAttr::get(context, attr.name())))
      return emitError(loc) << describe(node) << ": unsupported attribute '"
                            << attr.name() << "'";
    FailureOr<Attribute> value = importAttribute(attr, node);
    if (failed(value))
      return failure();
    // Cast-1 named its target type ("FLOAT"); Cast-6 on use the code.
    if (defaultDomain && opType == "Cast" && attr.name() == "to")
      if (auto typeName = dyn_cast<StringAttr>(*value)) {
        std::optional<int64_t> code = getCastTypeCode(typeName.getValue());
        if (!code)
          return emitError(loc) << describe(node) << ": unknown type '"
                                << typeName.getValue() << "'";
        value = Attribute(builder.getI64IntegerAttr(*code));
      }
    attributes.push_back(builder.getNamedAttr(attr.name(), *value));
  }

  // Concat's axis was optional (default 1) before opset 4.
  if (defaultDomain && opType == "Concat" && defaultOpset < 4 &&
      !llvm::any_of(attributes, [](NamedAttribute attr) {
        return attr.getName() == "axis";
      }))
    attributes.push_back(
        builder.getNamedAttr("axis", builder.getI64IntegerAttr(1)));

  // Opset-18 Split names its output count; before, it was implied.
  if (defaultDomain && opType == "Split" && defaultOpset < 18 &&
      (operands.size() < 2 || isa<NoneType>(operands[1].getType())))
    attributes.push_back(builder.getNamedAttr(
        "num_outputs", builder.getI64IntegerAttr(node.output_size())));

  // Trailing optional inputs the node omitted are explicit NoValue operands
  // in the IR; the count comes from the op's declared operand list.
  if (std::optional<unsigned> declaredOperands =
          getDeclaredNumOperands(*registered)) {
    unsigned expected = *declaredOperands;
    if (operands.size() > expected)
      return emitError(loc)
             << describe(node) << ": has " << operands.size()
             << " inputs, at most " << expected << " are defined";
    while (operands.size() < expected)
      operands.push_back(getNoValue());
  }

  if (defaultDomain && (opType == "Softmax" || opType == "LogSoftmax") &&
      defaultOpset < 13)
    return importOldSoftmax(node, opName, operands.front(), attributes);

  unsigned numResults =
      getDeclaredNumResults(*registered).value_or(node.output_size());
  if (node.output_size() > static_cast<int>(numResults))
    return emitError(loc) << describe(node) << ": has " << node.output_size()
                          << " outputs, at most " << numResults
                          << " are defined";
  SmallVector<Type> declared;
  for (const std::string &output : node.output()) {
    Type type;
    if (auto it = declaredTypes.find(output);
        !output.empty() && it != declaredTypes.end()) {
      SmallVector<StringRef> ignored;
      FailureOr<Type> imported = importValueType(*it->second, output, ignored);
      if (failed(imported))
        return failure();
      type = *imported;
    }
    declared.push_back(type);
  }
  FailureOr<SmallVector<Value>> results =
      buildOp(opName, operands, attributes, numResults, node, declared);
  if (failed(results))
    return failure();
  for (auto [name, value] : llvm::zip(node.output(), *results))
    if (!name.empty() && failed(defineValue(name, value, &node)))
      return failure();
  return success();
}

/// Parses binary protobuf without the 64 MiB default limit (models are
/// larger) but within protobuf's 2 GiB hard limit.
bool parseBinaryModel(StringRef bytes, proto::ModelProto &model) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return false;
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()),
      static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  return model.ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage();
}

/// Silences protobuf's own logging: parse errors become our diagnostics.
void silenceProtobufLogging() {
  static bool silenced = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)silenced;
}

} // namespace

OwningOpRef<ModuleOp>
qaf::importOnnxBuffer(StringRef bytes, StringRef sourceName,
                      StringRef externalDataDir, bool textFormat,
                      MLIRContext *context, const OnnxImportOptions &options) {
  silenceProtobufLogging();
  proto::ModelProto model;
  bool parsed = textFormat ? google::protobuf::TextFormat::ParseFromString(
                                 std::string(bytes), &model)
                           : parseBinaryModel(bytes, model);
  Location loc = FileLineColLoc::get(context, sourceName, 0, 0);
  if (!parsed) {
    emitError(loc) << "not a valid ONNX model: the "
                   << (textFormat ? "protobuf text" : "protobuf")
                   << " does not parse (truncated or not ONNX?)";
    return nullptr;
  }
  Importer importer(context, sourceName, externalDataDir, options);
  return importer.importModel(model);
}

OwningOpRef<ModuleOp> qaf::importOnnxFile(StringRef path, MLIRContext *context,
                                          const OnnxImportOptions &options) {
  Location loc = FileLineColLoc::get(context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(loc) << "cannot read '" << path
                   << "': " << buffer.getError().message();
    return nullptr;
  }
  StringRef extension = llvm::sys::path::extension(path);
  bool textFormat = extension == ".textproto" || extension == ".pbtxt" ||
                    extension == ".onnxtxt";
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  return importOnnxBuffer((*buffer)->getBuffer(), path, dir, textFormat,
                          context, options);
}

std::vector<std::string> qaf::getSupportedOnnxOps(MLIRContext *context) {
  context->getOrLoadDialect<ox::ONNXDialect>();
  std::vector<std::string> ops;
  for (RegisteredOperationName name : context->getRegisteredOperations()) {
    if (name.getDialectNamespace() != "onnx")
      continue;
    StringRef opType = name.getStringRef().drop_front(strlen("onnx."));
    if (opType != "NoValue")
      ops.push_back(opType.str());
  }
  llvm::sort(ops);
  return ops;
}
