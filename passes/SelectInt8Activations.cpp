//===- SelectInt8Activations.cpp - layers whose products round x to int8 --===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// ONNX Runtime honours a MatMulNBits' accuracy_level: at 4 it rounds the
// activations to int8 (per block of features) and sums integer products. qaf
// computes the exact float product unless this pass marks the layer, so that
// a user asks for ORT's arithmetic (and its speed) explicitly and the
// default stays comparable with the float model.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"

#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

namespace qaf {
#define GEN_PASS_DEF_SELECTINT8ACTIVATIONSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

/// The lowest MatMulNBits accuracy_level at which ONNX Runtime rounds the
/// activations to int8.
constexpr int64_t kInt8AccuracyLevel = 4;

struct SelectInt8ActivationsPass
    : qaf::impl::SelectInt8ActivationsPassBase<SelectInt8ActivationsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (layers != "file" && layers != "all") {
      emitError(getOperation().getLoc())
          << "qaf-select-int8-activations: unknown layers '" << layers
          << "' (file or all)";
      return signalPassFailure();
    }
    bool all = layers == "all";
    getOperation().walk([&](QLinearOp layer) {
      auto level = layer->getAttrOfType<IntegerAttr>(kOrtAccuracyLevelAttr);
      if (all || (level && level.getInt() >= kInt8AccuracyLevel))
        layer->setAttr(kInt8ActivationsAttr, UnitAttr::get(&getContext()));
    });
  }
};

} // namespace
