//===- AttachAdapters.cpp - trainable adapters, initialised as no-ops -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Initialisations are ../shared/METHODS.md's; each adapter's output-side
// factor starts at zero, so the adapted model computes exactly what the
// model it was attached to computed (the tests compare logits bit for bit).
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"
#include "PassOptions.h"

#include "llvm/Support/Regex.h"
#include "llvm/Support/xxhash.h"

#include <cmath>
#include <random>

namespace qaf {
#define GEN_PASS_DEF_ATTACHADAPTERSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

enum class Method { LoTA, LoRA, QALoRA, QAHiRA, QBaRA, L4Q };

std::optional<Method> parseMethod(StringRef name) {
  return llvm::StringSwitch<std::optional<Method>>(name)
      .Case("lota", Method::LoTA)
      .Case("lora", Method::LoRA)
      .Case("qalora", Method::QALoRA)
      .Case("qahira", Method::QAHiRA)
      .Case("qbara", Method::QBaRA)
      .Case("l4q", Method::L4Q)
      .Default(std::nullopt);
}

/// Draws for one layer: seeded by the pass seed and the layer's name.
class Initializer {
public:
  Initializer(uint64_t seed, StringRef layerName)
      : engine(seed ^ llvm::xxh3_64bits(layerName)) {}

  /// U(−bound, bound), bound = 1/sqrt(fanIn): PyTorch's kaiming_uniform_
  /// with a = sqrt(5), what LoRA uses for A.
  std::vector<float> kaimingUniform(int64_t count, int64_t fanIn) {
    return uniform(count, 1.0 / std::sqrt(static_cast<double>(fanIn)));
  }
  /// U(−bound, bound), bound = sqrt(6 / (fanIn + fanOut)).
  std::vector<float> xavierUniform(int64_t count, int64_t fanIn,
                                   int64_t fanOut) {
    return uniform(count, std::sqrt(6.0 / static_cast<double>(fanIn + fanOut)));
  }
  /// sign(N)·[|N| > 0.75·mean|N|] of a normal draw N (the scale of a
  /// Kaiming-normal draw does not change the result).
  std::vector<int8_t> ternaryNormal(int64_t count) {
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> draws(count);
    double meanAbs = 0;
    for (double &draw : draws) {
      draw = normal(engine);
      meanAbs += std::fabs(draw);
    }
    meanAbs /= static_cast<double>(count);
    std::vector<int8_t> ternary(count);
    for (auto [value, draw] : llvm::zip_equal(ternary, draws))
      value = std::fabs(draw) > 0.75 * meanAbs ? (draw > 0 ? 1 : -1) : 0;
    return ternary;
  }

private:
  std::vector<float> uniform(int64_t count, double bound) {
    std::uniform_real_distribution<double> distribution(-bound, bound);
    std::vector<float> values(count);
    for (float &value : values)
      value = static_cast<float>(distribution(engine));
    return values;
  }

  std::mt19937_64 engine;
};

struct AttachAdaptersPass
    : qaf::impl::AttachAdaptersPassBase<AttachAdaptersPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<Method> parsed = parseMethod(method);
    if (!parsed) {
      emitError(module.getLoc())
          << "qaf-attach-adapters: unknown method '" << method
          << "' (lota, lora, qalora, qahira, qbara or l4q)";
      return signalPassFailure();
    }
    constexpr StringLiteral pass = "qaf-attach-adapters";
    Location loc = module.getLoc();
    if (failed(checkAtLeastOption(loc, pass, "rank", rank, 1)) ||
        failed(checkPositiveOption(loc, pass, "alpha", alpha)) ||
        failed(checkNonNegativeOption(loc, pass, "omega", omega)) ||
        failed(checkAtLeastOption(loc, pass, "pool", pool, 1)) ||
        failed(checkAtLeastOption(loc, pass, "repeat-out", repeatOut, 1)))
      return signalPassFailure();
    if (*parsed == Method::L4Q)
      return attachL4Q(module);
    llvm::Regex includeRegex(include), excludeRegex(exclude);
    std::string regexError;
    if ((!include.empty() && !includeRegex.isValid(regexError)) ||
        (!exclude.empty() && !excludeRegex.isValid(regexError))) {
      emitError(module.getLoc())
          << "qaf-attach-adapters: bad regex: " << regexError;
      return signalPassFailure();
    }
    SmallVector<QLinearOp> layers;
    module.walk([&](QLinearOp layer) {
      std::string name = getLayerName(layer);
      if ((include.empty() || includeRegex.match(name)) &&
          (exclude.empty() || !excludeRegex.match(name)))
        layers.push_back(layer);
    });
    if (layers.empty()) {
      emitError(module.getLoc())
          << "qaf-attach-adapters: no qaf.qlinear layer to adapt (method "
          << method << " adapts quantized layers: run qaf-quantize-weights "
          << "first, or check include/exclude)";
      return signalPassFailure();
    }
    for (QLinearOp layer : layers)
      if (failed(attach(*parsed, layer)))
        return signalPassFailure();
  }

  /// The original weight's name: the codes blob without ".qcodes".
  static std::string getLayerName(QLinearOp layer) {
    Operation *codes = layer.getCodes().getDefiningOp();
    if (!codes)
      return "layer";
    return StringRef(getWeightName(codes, "layer"))
        .rsplit(".qcodes")
        .first.str();
  }

  LogicalResult attach(Method kind, QLinearOp layer) {
    OpBuilder builder(layer);
    Location loc = layer.getLoc();
    MLIRContext *context = &getContext();
    std::string name = getLayerName(layer);
    Initializer init(seed, name);
    QuantFormatAttr format = layer.getFormat();
    auto codesType = cast<RankedTensorType>(layer.getCodes().getType());
    int64_t n = codesType.getShape()[0];
    int64_t k = codesType.getShape()[1] * 8 / format.getBits();
    int64_t group = format.getGroupSize();
    Type f32 = Float32Type::get(context);
    Type i8 = IntegerType::get(context, 8);
    auto type = cast<RankedTensorType>(layer.getType());
    double scale = alpha / static_cast<double>(rank);
    auto zeros = [](int64_t count) { return std::vector<float>(count, 0.0f); };
    // A rank above the layer's smaller side adds parameters and no
    // expressiveness (LoftQ refuses it too); QA-HiRA has no rank.
    if (kind != Method::QAHiRA && rank > std::min(n, k))
      return layer.emitOpError("cannot take an adapter of rank ")
             << static_cast<int64_t>(rank) << ": it exceeds min(" << n << ", "
             << k << ") of weight '" << name << "'";

    if (kind == Method::LoTA) {
      if (!format.hasZeroPoints())
        return layer.emitOpError("cannot take a LoTA-QAF adapter: nf weights "
                                 "have no integer codes to move (quantize "
                                 "with scheme=asym or sym)");
      double threshold = omega > 0 ? omega : 0.75 * static_cast<double>(rank);
      if (threshold >= static_cast<double>(rank))
        return layer.emitOpError("LoTA-QAF threshold omega ")
               << threshold << " must be below the rank "
               << static_cast<int64_t>(rank);
      Value a = createBlobConstant<int8_t>(builder, name + ".lota_A", {rank, k},
                                           i8, init.ternaryNormal(rank * k));
      Value b =
          createBlobConstant<int8_t>(builder, name + ".lota_B", {n, rank}, i8,
                                     std::vector<int8_t>(n * rank, 0));
      Value adapted = LoTALinearOp::create(builder, loc, type, layer.getInput(),
                                           layer.getCodes(), layer.getScales(),
                                           layer.getZeroPoints(), a, b, format,
                                           builder.getF64FloatAttr(threshold))
                          .getOutput();
      layer.replaceAllUsesWith(adapted);
      layer.erase();
      return success();
    }

    Value delta;
    switch (kind) {
    case Method::LoRA: {
      Value a =
          createBlobConstant<float>(builder, name + ".lora_A", {rank, k}, f32,
                                    init.kaimingUniform(rank * k, k));
      Value b = createBlobConstant<float>(builder, name + ".lora_B", {n, rank},
                                          f32, zeros(n * rank));
      delta = LoRAOp::create(builder, loc, type, layer.getInput(), a, b,
                             builder.getF64FloatAttr(scale));
      break;
    }
    case Method::QALoRA: {
      int64_t pooled = k / group;
      Value a = createBlobConstant<float>(
          builder, name + ".qalora_A", {rank, pooled}, f32,
          init.xavierUniform(rank * pooled, pooled, rank));
      Value b = createBlobConstant<float>(builder, name + ".qalora_B",
                                          {n, rank}, f32, zeros(n * rank));
      delta = QALoRAOp::create(builder, loc, type, layer.getInput(), a, b,
                               builder.getI64IntegerAttr(group),
                               builder.getF64FloatAttr(scale));
      break;
    }
    case Method::QAHiRA: {
      if (repeatOut < 1 || n % repeatOut != 0)
        return layer.emitOpError("QA-HiRA repeat-out ")
               << static_cast<int64_t>(repeatOut)
               << " does not divide the output dimension " << n;
      int64_t rows = n / repeatOut, pooled = k / group;
      Value m =
          createBlobConstant<float>(builder, name + ".qahira_M", {rows, pooled},
                                    f32, zeros(rows * pooled));
      delta = QAHiRAOp::create(builder, loc, type, layer.getInput(), m,
                               builder.getI64IntegerAttr(group),
                               builder.getI64IntegerAttr(repeatOut),
                               builder.getF64FloatAttr(alpha));
      break;
    }
    case Method::QBaRA: {
      if (pool < 1 || k % pool != 0 || n % pool != 0)
        return layer.emitOpError("Q-BaRA pool ")
               << static_cast<int64_t>(pool)
               << " must divide the input dimension " << k
               << " and the output dimension " << n;
      int64_t inner = pool * rank;
      Value a = createBlobConstant<float>(
          builder, name + ".qbara_A", {inner, k / pool}, f32,
          init.kaimingUniform(inner * (k / pool), k / pool));
      Value b = createBlobConstant<float>(builder, name + ".qbara_B",
                                          {n / pool, inner}, f32,
                                          zeros((n / pool) * inner));
      delta = QBaRAOp::create(builder, loc, type, layer.getInput(), a, b,
                              builder.getI64IntegerAttr(pool),
                              builder.getF64FloatAttr(scale));
      break;
    }
    default:
      llvm_unreachable("handled above");
    }
    // y = base + Δy, after the base so its users move to the sum.
    builder.setInsertionPointAfter(layer);
    Value base = layer.getOutput();
    auto sum = onnx::AddOp::create(builder, loc, type, base, delta);
    base.replaceAllUsesExcept(sum.getC(), sum);
    return success();
  }

  void attachL4Q(ModuleOp module) {
    if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
      emitError(module.getLoc())
          << "qaf-attach-adapters: L4Q bits must be 2, 3, 4 or 8, not "
          << static_cast<unsigned>(bits);
      return signalPassFailure();
    }
    if (failed(checkAtLeastOption(module.getLoc(), "qaf-attach-adapters",
                                  "group-size", groupSize, 1)))
      return signalPassFailure();
    FailureOr<std::vector<LinearLayer>> layers =
        selectLinearLayers(module, include, exclude, "qaf-attach-adapters");
    if (failed(layers))
      return signalPassFailure();
    if (layers->empty())
      warnNoLayerSelected(module.getLoc(), "qaf-attach-adapters", include,
                          exclude, "linear layer");
    Type f32 = Float32Type::get(&getContext());
    for (LinearLayer &layer : *layers) {
      if (rank > std::min(layer.n, layer.k)) {
        layer.op->emitError()
            << "cannot attach L4Q to weight '" << layer.name << "': rank "
            << static_cast<int64_t>(rank) << " exceeds min(" << layer.n << ", "
            << layer.k << ")";
        return signalPassFailure();
      }
      if (groupSize <= 0 || layer.k % groupSize != 0) {
        layer.op->emitError()
            << "cannot attach L4Q to weight '" << layer.name << "': group size "
            << static_cast<int64_t>(groupSize)
            << " does not divide the input dimension " << layer.k;
        return signalPassFailure();
      }
      std::string error;
      FailureOr<quant::MatrixView> view = getWeightView(layer, error);
      if (failed(view)) {
        layer.op->emitError()
            << "cannot read weight '" << layer.name << "': " << error;
        return signalPassFailure();
      }
      if (layer.outputMajor) {
        // qaf.l4q_linear reads W0 in MatMul layout [K, N], in place.
        layer.op->emitError() << "cannot attach L4Q to weight '" << layer.name
                              << "': it is stored [N, K] (Gemm transB = 1)";
        return signalPassFailure();
      }
      Initializer init(seed, layer.name);
      OpBuilder builder(layer.op);
      int64_t groups = layer.k / groupSize;
      Value a = createBlobConstant<float>(
          builder, layer.name + ".l4q_A", {rank, layer.k}, f32,
          init.kaimingUniform(rank * layer.k, layer.k));
      Value b = createBlobConstant<float>(builder, layer.name + ".l4q_B",
                                          {layer.n, rank}, f32,
                                          std::vector<float>(layer.n * rank));
      Value scales = createBlobConstant<float>(
          builder, layer.name + ".l4q_scales", {layer.n, groups}, f32,
          quant::computeL4QScales(*view, bits, groupSize));
      Value offsets = createBlobConstant<float>(
          builder, layer.name + ".l4q_offsets", {layer.n, groups}, f32,
          std::vector<float>(layer.n * groups));
      Value output =
          L4QLinearOp::create(
              builder, layer.op->getLoc(), getLayerResultType(layer),
              layer.getInput(), layer.weight.getOutput(), a, b, scales, offsets,
              builder.getI64IntegerAttr(bits),
              builder.getI64IntegerAttr(groupSize),
              builder.getF64FloatAttr(alpha / static_cast<double>(rank)))
              .getOutput();
      replaceLinearLayer(layer, output);
    }
  }
};

} // namespace
