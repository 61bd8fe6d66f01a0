//===- MergeAdapters.cpp - trained adapters folded into qaf.qlinear -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The pass finds each adapter's quantized base, reads the trained values
// (checkpoint or IR), and asks the adapter op for its merge rule
// (AdapterOpInterface::mergeInto): the method's algebra lives with the
// method, this file only moves values between IR and host arrays. What a
// merge leaves unchanged (codes, scales) stays the same constant, so it is
// byte-identical by construction.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"

#include "qaf/Interfaces/AdapterOpInterface.h"
#include "qaf/Quant/Merge.h"
#include "qaf/Runtime/Checkpoint.h"
#include "qaf/Runtime/SafeTensors.h"
#include "qaf/Support/AtomicFile.h"
#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"

#include <cmath>

namespace qaf {
#define GEN_PASS_DEF_MERGEADAPTERSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

/// Where trained values come from: a checkpoint file, or the IR.
struct TrainedValues {
  std::unique_ptr<SafeTensorsFile> file;
  /// Names of the model's trainable tensors: a checkpoint tensor that is
  /// none of them (nor their optimizer state, `<name>.<state>`) belongs to
  /// another model or method.
  llvm::StringSet<> modelNames;
};

/// The method name of an adapter op (`qaf.lota_linear` -> lota).
std::string getMethodName(Operation *op) {
  StringRef name = op->getName().stripDialect();
  name.consume_back("_linear");
  return name.str();
}

/// The checkpoint dtype of a trainable tensor's element type.
std::optional<DType> getDType(Type element) {
  if (element.isF32())
    return DType::Float32;
  if (element.isInteger(8))
    return DType::Int8;
  return std::nullopt;
}

/// One quantized layer read from a qaf.qlinear (or LoTA-QAF's operands).
struct QuantizedOperands {
  Value codes, scales, zeroPoints;
  QuantFormatAttr format;
};

quant::Scheme getScheme(QuantScheme scheme) {
  switch (scheme) {
  case QuantScheme::Asymmetric:
    return quant::Scheme::Asymmetric;
  case QuantScheme::Symmetric:
    return quant::Scheme::Symmetric;
  case QuantScheme::NormalFloat:
    return quant::Scheme::NormalFloat;
  }
  llvm_unreachable("unknown scheme");
}

/// The bytes of a constant weight, one element per byte.
FailureOr<ArrayRef<char>> readConstantBytes(Operation *user, Value value,
                                            StringRef role,
                                            std::vector<char> &storage) {
  auto constant = value.getDefiningOp<onnx::ConstantOp>();
  if (!constant)
    return user->emitOpError("cannot be merged: its ")
           << role
           << " are not a constant (merge before the weights are outlined)";
  std::string error;
  FailureOr<ArrayRef<char>> bytes = getElementsBytes(
      constant.getValue(), storage, SubByteLayout::BytePerElement, error);
  if (failed(bytes))
    return user->emitOpError("cannot be merged: ")
           << role << " '" << getWeightName(constant) << "': " << error;
  return *bytes;
}

struct MergeAdaptersPass : qaf::impl::MergeAdaptersPassBase<MergeAdaptersPass> {
  using Base::Base;

  struct LayerEntry {
    std::string name, method, merge;
    int64_t codes = 0;
    bool kept = false;
    quant::MergeReport report;
  };

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Location loc = module.getLoc();
    if (allowLossy && keepAdapters) {
      emitError(loc) << "qaf-merge-adapters: allow-lossy and keep-adapters "
                        "both given; choose one way for LoRA, LoftQ and "
                        "Q-BaRA adapters";
      return signalPassFailure();
    }
    SmallVector<AdapterOpInterface> adapters;
    module.walk([&](AdapterOpInterface op) { adapters.push_back(op); });
    if (adapters.empty()) {
      emitError(loc) << "qaf-merge-adapters: the model has no adapter to "
                        "merge (qaf-attach-adapters adds them)";
      return signalPassFailure();
    }
    TrainedValues trained;
    if (failed(openCheckpoint(loc, adapters, trained)))
      return signalPassFailure();

    std::vector<LayerEntry> entries;
    for (AdapterOpInterface adapter : adapters) {
      LayerEntry entry;
      if (failed(mergeOne(adapter, trained, entry)))
        return signalPassFailure();
      entries.push_back(std::move(entry));
    }
    quant::MergeReport overall;
    for (const LayerEntry &entry : entries)
      overall += entry.report;
    if (overall.lossy)
      emitRemark(loc) << "qaf-merge-adapters: lossy merge, overall max "
                         "relative weight error "
                      << overall.maxRelativeError()
                      << ", mean relative weight error "
                      << overall.meanRelativeError();
    if (!report.empty() && failed(writeReport(loc, entries, overall)))
      return signalPassFailure();
  }

  /// Opens `checkpoint` and checks that it holds this model's trainable
  /// tensors and nothing of another model.
  LogicalResult openCheckpoint(Location loc,
                               ArrayRef<AdapterOpInterface> adapters,
                               TrainedValues &trained) {
    if (checkpoint.empty())
      return success();
    std::string path = checkpoint;
    if (llvm::sys::fs::is_directory(path)) {
      llvm::Expected<std::string> latest = findLatestCheckpoint(path);
      if (!latest)
        return emitError(loc)
               << "qaf-merge-adapters: " << llvm::toString(latest.takeError());
      path = *latest;
    }
    llvm::Expected<std::unique_ptr<SafeTensorsFile>> file =
        SafeTensorsFile::open(path);
    if (!file)
      return emitError(loc) << "qaf-merge-adapters: checkpoint "
                            << llvm::toString(file.takeError());
    trained.file = std::move(*file);
    for (AdapterOpInterface adapter : adapters)
      for (Value value : adapter.getTrainableOperands())
        if (Operation *constant = value.getDefiningOp())
          trained.modelNames.insert(getWeightName(constant));
    for (const SafeTensorInfo &info : trained.file->getTensors()) {
      StringRef name = info.name;
      bool known = trained.modelNames.contains(name);
      for (size_t dot = name.rfind('.'); !known && dot != StringRef::npos;
           dot = name.substr(0, dot).rfind('.'))
        known = trained.modelNames.contains(name.substr(0, dot));
      if (!known)
        return emitError(loc)
               << "qaf-merge-adapters: " << path << ": the checkpoint has "
               << "tensor '" << name << "', which no adapter of this model "
               << "has: a checkpoint of another model, method or rank";
    }
    return success();
  }

  /// The trained value of `value` (a trainable operand of `adapter`): from
  /// the checkpoint when there is one, else the constant's.
  FailureOr<ArrayRef<char>> readTrainable(AdapterOpInterface adapter,
                                          Value value,
                                          const TrainedValues &trained,
                                          std::vector<char> &storage) {
    auto constant = value.getDefiningOp<onnx::ConstantOp>();
    if (!constant)
      return adapter->emitOpError("cannot be merged: a trainable operand is "
                                  "not a constant (merge before the weights "
                                  "are outlined)");
    std::string name = getWeightName(constant);
    auto type = cast<RankedTensorType>(value.getType());
    std::optional<DType> dtype = getDType(type.getElementType());
    if (!dtype)
      return adapter->emitOpError("cannot be merged: trainable tensor '")
             << name << "' is neither f32 nor i8";
    ArrayRef<char> bytes;
    if (trained.file) {
      const SafeTensorInfo *info = trained.file->lookup(name);
      if (!info)
        return adapter->emitOpError("cannot be merged: the checkpoint ")
               << trained.file->getPath() << " has no tensor '" << name << "' ("
               << getDTypeName(*dtype) << formatShape(type.getShape())
               << " in the model): a checkpoint of another model, method "
                  "or rank";
      if (info->dtype != *dtype ||
          ArrayRef<int64_t>(info->shape) != type.getShape())
        return adapter->emitOpError("cannot be merged: tensor '")
               << name << "' is " << getDTypeName(info->dtype)
               << formatShape(info->shape) << " in the checkpoint "
               << trained.file->getPath() << ", but " << getDTypeName(*dtype)
               << formatShape(type.getShape())
               << " in the model: a checkpoint of another method, rank or "
                  "shape";
      bytes = trained.file->getBytes(*info);
    } else {
      FailureOr<ArrayRef<char>> read =
          readConstantBytes(adapter, value, "trainable tensor", storage);
      if (failed(read))
        return failure();
      bytes = *read;
    }
    if (*dtype == DType::Float32) {
      ArrayRef<float> values(reinterpret_cast<const float *>(bytes.data()),
                             bytes.size() / sizeof(float));
      const float *bad =
          llvm::find_if(values, [](float v) { return !std::isfinite(v); });
      if (bad != values.end())
        return adapter->emitOpError("cannot be merged: tensor '")
               << name << "' holds " << *bad << " at element "
               << (bad - values.begin()) << " (a diverged training run?)";
    }
    return bytes;
  }

  /// The host matrix of a quantized layer's constants.
  FailureOr<quant::QuantizedMatrix>
  readQuantized(Operation *user, const QuantizedOperands &operands) {
    QuantFormatAttr format = operands.format;
    auto codesType = cast<RankedTensorType>(operands.codes.getType());
    quant::QuantizedMatrix matrix;
    matrix.rows = codesType.getShape()[0];
    matrix.cols = codesType.getShape()[1] * 8 / format.getBits();
    matrix.format = {format.getBits(), format.getGroupSize(),
                     getScheme(format.getScheme())};
    std::vector<char> codeStorage, scaleStorage, zeroStorage;
    FailureOr<ArrayRef<char>> codes =
        readConstantBytes(user, operands.codes, "codes", codeStorage);
    FailureOr<ArrayRef<char>> scales =
        readConstantBytes(user, operands.scales, "scales", scaleStorage);
    if (failed(codes) || failed(scales))
      return failure();
    if (!cast<ShapedType>(operands.scales.getType()).getElementType().isF32())
      return user->emitOpError("cannot be merged: its scales are not f32");
    matrix.codes = quant::unpackCodes(
        ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(codes->data()),
                          codes->size()),
        format.getBits(), matrix.rows * matrix.cols);
    auto asFloats = [](ArrayRef<char> bytes) {
      const float *data = reinterpret_cast<const float *>(bytes.data());
      return std::vector<float>(data, data + bytes.size() / sizeof(float));
    };
    matrix.scales = asFloats(*scales);
    if (operands.zeroPoints) {
      if (!cast<ShapedType>(operands.zeroPoints.getType())
               .getElementType()
               .isF32())
        return user->emitOpError(
            "cannot be merged: its zero points are not f32");
      FailureOr<ArrayRef<char>> zeros = readConstantBytes(
          user, operands.zeroPoints, "zero points", zeroStorage);
      if (failed(zeros))
        return failure();
      matrix.zeros = asFloats(*zeros);
    }
    return matrix;
  }

  /// A new constant holding `data` named `name`, before `anchor`.
  template <typename T>
  Value createConstant(Operation *anchor, StringRef name,
                       ArrayRef<int64_t> shape, Type element,
                       ArrayRef<T> data) {
    OpBuilder builder(anchor);
    return createBlobConstant<T>(builder, name, shape, element, data);
  }

  LogicalResult mergeOne(AdapterOpInterface adapter,
                         const TrainedValues &trained, LayerEntry &entry) {
    Operation *op = adapter.getOperation();
    MLIRContext *context = op->getContext();
    entry.method = getMethodName(op);
    entry.merge = stringifyAdapterMerge(adapter.getMergeKind()).str();

    // The trained values, and the base operands' bytes.
    AdapterMergeValues values;
    std::vector<std::vector<char>> storage;
    storage.reserve(8);
    for (Value value : adapter.getTrainableOperands()) {
      storage.emplace_back();
      FailureOr<ArrayRef<char>> bytes =
          readTrainable(adapter, value, trained, storage.back());
      if (failed(bytes))
        return failure();
      values.trainable.push_back(*bytes);
    }

    // The quantized layer the merge starts from, and what it replaces.
    QuantizedOperands base;
    Operation *replaced = op;
    SmallVector<Operation *> erased = {op};
    Value input = adapter.getAdapterInput();
    quant::QuantizedMatrix layer;
    std::string layerName;
    if (auto lota = dyn_cast<LoTALinearOp>(op)) {
      base = {lota.getCodes(), lota.getScales(), lota.getZeroPoints(),
              lota.getFormat()};
    } else if (auto l4q = dyn_cast<L4QLinearOp>(op)) {
      storage.emplace_back();
      FailureOr<ArrayRef<char>> w0 =
          readConstantBytes(op, l4q.getWeight(), "weight", storage.back());
      if (failed(w0))
        return failure();
      values.base.push_back(*w0);
      auto weightType = cast<RankedTensorType>(l4q.getWeight().getType());
      layer.rows = weightType.getShape()[1];
      layer.cols = weightType.getShape()[0];
      layer.format = {static_cast<unsigned>(l4q.getBits()),
                      static_cast<int64_t>(l4q.getGroupSize()),
                      quant::Scheme::Symmetric};
      layerName = getWeightName(l4q.getWeight().getDefiningOp());
      // Symmetric: the zero points start at 2^(bits−1) and the trained
      // offsets move them.
      base.format =
          QuantFormatAttr::get(context, layer.format.bits,
                               layer.format.groupSize, QuantScheme::Symmetric);
    } else {
      std::optional<std::pair<onnx::AddOp, QLinearOp>> found =
          findAdditiveBase(adapter);
      if (!found)
        return op->emitOpError(
            "cannot be merged: its update is not added to a qaf.qlinear of "
            "the same input (as qaf-attach-adapters builds it)");
      auto [add, qlinear] = *found;
      base = {qlinear.getCodes(), qlinear.getScales(), qlinear.getZeroPoints(),
              qlinear.getFormat()};
      replaced = add;
      erased = {add, op, qlinear};
    }
    if (base.codes) {
      FailureOr<quant::QuantizedMatrix> read = readQuantized(op, base);
      if (failed(read))
        return failure();
      layer = std::move(*read);
      layerName = StringRef(getWeightName(base.codes.getDefiningOp()))
                      .rsplit(".qcodes")
                      .first.str();
    }
    entry.name = layerName;
    entry.codes = layer.rows * layer.cols;

    if (adapter.getMergeKind() == AdapterMerge::LossyRequantize) {
      if (keepAdapters)
        return keepAsFloatMatMuls(adapter, values, layer, layerName, entry);
      if (!allowLossy)
        return op->emitOpError("cannot merge into integer codes without "
                               "loss: its update ΔW is not constant over a "
                               "quantization group, so no change of codes "
                               "or zero points expresses it. Pass "
                               "allow-lossy=true to merge into the float "
                               "weights and re-quantize (the error is "
                               "reported), or keep-adapters=true to keep "
                               "the adapter as two float MatMuls");
    }
    std::vector<uint8_t> baseCodes = layer.codes;
    std::vector<float> baseScales = layer.scales;
    if (llvm::Error error = adapter.mergeInto(values, layer, entry.report))
      return op->emitOpError("cannot be merged: ")
             << llvm::toString(std::move(error));

    // The merged layer: constants for what changed, the same ones for the
    // rest.
    Type ui8 = IntegerType::get(context, 8, IntegerType::Unsigned);
    Type f32 = Float32Type::get(context);
    int64_t groups = layer.getNumGroups();
    Value codes = base.codes, scales = base.scales;
    if (!codes || layer.codes != baseCodes)
      codes = createConstant<uint8_t>(
          op, layerName + ".qcodes",
          {layer.rows, layer.cols * layer.format.bits / 8}, ui8,
          quant::packCodes(layer.codes, layer.format.bits));
    if (!scales || layer.scales != baseScales)
      scales = createConstant<float>(op, layerName + ".scales",
                                     {layer.rows, groups}, f32, layer.scales);
    Value zeroPoints;
    if (!layer.zeros.empty())
      zeroPoints =
          createConstant<float>(op, layerName + ".zero_points",
                                {layer.rows, groups}, f32, layer.zeros);
    if (entry.report.lossy)
      emitRemark(op->getLoc())
          << "qaf-merge-adapters: layer '" << layerName
          << "' merged with loss: max relative weight error "
          << entry.report.maxRelativeError() << ", mean relative weight error "
          << entry.report.meanRelativeError();
    OpBuilder builder(replaced);
    // The layer's format after the merge (a lossy one re-quantizes a
    // NormalFloat base as affine codes).
    auto merged = QLinearOp::create(
        builder, op->getLoc(), replaced->getResult(0).getType(), input, codes,
        scales, zeroPoints, getQuantFormatAttr(context, layer.format));
    replaced->getResult(0).replaceAllUsesWith(merged.getOutput());
    eraseWithDeadConstants(erased);
    return success();
  }

  /// keep-adapters: Δy = (x · first) · second as two onnx.MatMul, added
  /// to the quantized layer as before.
  LogicalResult keepAsFloatMatMuls(AdapterOpInterface adapter,
                                   const AdapterMergeValues &values,
                                   const quant::QuantizedMatrix &layer,
                                   StringRef layerName, LayerEntry &entry) {
    Operation *op = adapter.getOperation();
    std::vector<float> first, second;
    if (llvm::Error error = adapter.getFloatFactors(values, layer.rows,
                                                    layer.cols, first, second))
      return op->emitOpError("cannot keep the adapter: ")
             << llvm::toString(std::move(error));
    int64_t inner = static_cast<int64_t>(first.size()) / layer.cols;
    Type f32 = Float32Type::get(op->getContext());
    std::string prefix = (layerName + "." + entry.method).str();
    Value down = createConstant<float>(op, prefix + "_down",
                                       {layer.cols, inner}, f32, first);
    Value up = createConstant<float>(op, prefix + "_up", {inner, layer.rows},
                                     f32, second);
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    SmallVector<int64_t> hiddenShape(resultType.getShape());
    hiddenShape.back() = inner;
    OpBuilder builder(op);
    Value hidden = onnx::MatMulOp::create(
        builder, op->getLoc(),
        RankedTensorType::get(hiddenShape, resultType.getElementType()),
        adapter.getAdapterInput(), down);
    Value delta =
        onnx::MatMulOp::create(builder, op->getLoc(), resultType, hidden, up);
    op->getResult(0).replaceAllUsesWith(delta);
    entry.kept = true;
    eraseWithDeadConstants({op});
    return success();
  }

  /// Erases `ops` (users first) and the constants only they read.
  static void eraseWithDeadConstants(ArrayRef<Operation *> ops) {
    llvm::SetVector<Operation *> producers;
    for (Operation *op : ops)
      for (Value operand : op->getOperands())
        if (auto constant = operand.getDefiningOp<onnx::ConstantOp>())
          producers.insert(constant);
    for (Operation *op : ops)
      op->erase();
    for (Operation *producer : producers)
      if (producer->use_empty())
        producer->erase();
  }

  LogicalResult writeReport(Location loc, ArrayRef<LayerEntry> entries,
                            const quant::MergeReport &overall) {
    llvm::Expected<std::unique_ptr<AtomicFile>> file =
        AtomicFile::create(report);
    if (!file)
      return emitError(loc) << "qaf-merge-adapters: cannot write the report: "
                            << llvm::toString(file.takeError());
    {
      llvm::json::OStream json((*file)->os(), 2);
      auto errors = [&](const quant::MergeReport &merged) {
        json.attribute("max_relative_error", merged.maxRelativeError());
        json.attribute("mean_relative_error", merged.meanRelativeError());
      };
      json.object([&] {
        llvm::StringSet<> methods;
        for (const LayerEntry &entry : entries)
          methods.insert(entry.method);
        json.attributeArray("methods", [&] {
          for (const auto &method : methods)
            json.value(method.getKey());
        });
        json.attribute("checkpoint", checkpoint.getValue());
        json.attribute("layers_merged", static_cast<int64_t>(llvm::count_if(
                                            entries, [](const LayerEntry &e) {
                                              return !e.kept;
                                            })));
        json.attribute("codes_moved", overall.codesMoved);
        json.attributeArray("layers", [&] {
          for (const LayerEntry &entry : entries)
            json.object([&] {
              json.attribute("name", entry.name);
              json.attribute("method", entry.method);
              json.attribute("merge",
                             entry.kept ? "kept-adapter" : entry.merge);
              json.attribute("weights", entry.codes);
              json.attribute("codes_moved", entry.report.codesMoved);
              json.attribute("zero_points_moved", entry.report.zeroPointsMoved);
              if (entry.report.lossy)
                errors(entry.report);
            });
        });
        if (overall.lossy)
          json.attributeObject("lossy_overall", [&] { errors(overall); });
      });
    }
    (*file)->os() << "\n";
    if (llvm::Error error = (*file)->commit())
      return emitError(loc) << "qaf-merge-adapters: cannot write the report: "
                            << llvm::toString(std::move(error));
    return success();
  }
};

} // namespace
