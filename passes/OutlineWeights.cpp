//===- OutlineWeights.cpp - weights become entry point arguments ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

namespace qaf {
#define GEN_PASS_DEF_OUTLINEWEIGHTSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

struct OutlineWeightsPass
    : qaf::impl::OutlineWeightsPassBase<OutlineWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(qaf::onnx::kMainGraphName);
    if (!func) {
      module.emitError() << "no @" << qaf::onnx::kMainGraphName
                         << " function to compile";
      return signalPassFailure();
    }
    if (module.lookupSymbol(entry)) {
      module.emitError() << "the module already has a symbol @" << entry;
      return signalPassFailure();
    }

    func.setSymName(entry);
    // The training steps that --qaf-build-training adds are entry points of
    // the same artifact: their weights are outlined alike (the same names
    // and values as the forward's, so the artifact holds each once).
    for (auto other : module.getOps<func::FuncOp>())
      if (other != func && other.isPublic() && !other.isExternal())
        outlineFunction(other);
    outlineFunction(func);
  }

private:
  void outlineFunction(func::FuncOp func) {
    SmallVector<qaf::onnx::ConstantOp> weights;
    func.walk([&](qaf::onnx::ConstantOp constant) {
      ElementsAttr value = constant.getValue();
      if (isa<DenseResourceElementsAttr>(value) ||
          value.getNumElements() > maxInlineElements)
        weights.push_back(constant);
    });

    // Weights lead, in program order, with names made unique.
    Block &body = func.getBody().front();
    llvm::StringSet<> usedNames;
    SmallVector<DictionaryAttr> weightAttrs;
    Builder builder(&getContext());
    for (auto [index, constant] : llvm::enumerate(weights)) {
      std::string name =
          qaf::getWeightName(constant, "weight_" + std::to_string(index));
      std::string unique = name;
      for (unsigned suffix = 1; !usedNames.insert(unique).second; ++suffix)
        unique = name + "_" + std::to_string(suffix);
      BlockArgument arg =
          body.insertArgument(index, constant.getType(), constant.getLoc());
      constant.getOutput().replaceAllUsesWith(arg);
      weightAttrs.push_back(builder.getDictionaryAttr({
          builder.getNamedAttr(qaf::kWeightNameAttr,
                               builder.getStringAttr(unique)),
          builder.getNamedAttr(qaf::kWeightValueAttr, constant.getValue()),
      }));
      constant.erase();
    }

    SmallVector<DictionaryAttr> argAttrs(weightAttrs);
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      argAttrs.push_back(func.getArgAttrDict(i)
                             ? func.getArgAttrDict(i)
                             : builder.getDictionaryAttr({}));
    SmallVector<DictionaryAttr> resultAttrs;
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      resultAttrs.push_back(func.getResultAttrDict(i)
                                ? func.getResultAttrDict(i)
                                : builder.getDictionaryAttr({}));
    func.setFunctionType(builder.getFunctionType(
        body.getArgumentTypes(), func.getFunctionType().getResults()));
    func.setAllArgAttrs(argAttrs);
    func.setAllResultAttrs(resultAttrs);
  }
};

} // namespace
