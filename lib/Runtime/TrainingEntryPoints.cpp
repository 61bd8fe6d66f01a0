//===- TrainingEntryPoints.cpp - what qaf-run expects of training code ----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/TrainingEntryPoints.h"
#include "qaf/Support/Error.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace llvm;

namespace qaf {

namespace {

const TensorSpec *findSpec(ArrayRef<TensorSpec> specs, StringRef name) {
  for (const TensorSpec &spec : specs)
    if (spec.name == name)
      return &spec;
  return nullptr;
}

std::string listNames(ArrayRef<TensorSpec> specs) {
  if (specs.empty())
    return "none";
  return join(
      map_range(specs, [](const TensorSpec &spec) { return spec.name; }), ", ");
}

/// Checks the conventional tensors of one side (inputs or outputs): each
/// required one is there with an allowed dtype and rank, and nothing else.
struct ExpectedTensor {
  StringLiteral name;
  SmallVector<DType, 2> dtypes;
  int64_t rank;
  bool optional = false;
};

Error checkSide(const EntryPoint &entry, ArrayRef<TensorSpec> specs,
                StringRef side, ArrayRef<ExpectedTensor> expected) {
  auto prefix = [&] {
    return "entry point '" + entry.name +
           "' does not follow qaf-run's training convention "
           "(include/qaf/Runtime/TrainingEntryPoints.h): ";
  };
  for (const ExpectedTensor &each : expected) {
    const TensorSpec *spec = findSpec(specs, each.name);
    if (!spec) {
      if (each.optional)
        continue;
      return makeError(prefix() + "it has no " + side + " '" + each.name +
                       "' (its " + side + "s: " + listNames(specs) + ")");
    }
    std::string allowed =
        join(map_range(each.dtypes,
                       [](DType dtype) { return getDTypeName(dtype).str(); }),
             "|");
    if (!is_contained(each.dtypes, spec->dtype) || spec->getRank() != each.rank)
      return makeError(prefix() + side + " '" + each.name + "' is " +
                       spec->describe() + ", expected " + allowed +
                       " of rank " + Twine(each.rank));
  }
  for (const TensorSpec &spec : specs)
    if (none_of(expected, [&](const ExpectedTensor &each) {
          return each.name == spec.name;
        }))
      return makeError(prefix() + "unexpected " + side + " '" + spec.name +
                       "' " + spec.describe());
  return Error::success();
}

} // namespace

Expected<TrainingEntryPoint> checkTrainingEntryPoint(const Manifest &manifest,
                                                     StringRef name,
                                                     int64_t batch,
                                                     int64_t seqLen) {
  const EntryPoint *entry = manifest.findEntryPoint(name);
  if (!entry)
    return makeError("the artifact has no entry point '" + name +
                     "': compile with --emit=train" +
                     (name == training::kEvalStep ? " or --emit=eval" : "") +
                     " (it has " + manifest.listEntryPoints() + ")");
  bool isTrain = name == training::kTrainStep;
  SmallVector<DType, 2> ids = {DType::Int32, DType::Int64};
  SmallVector<ExpectedTensor> inputs = {{training::kInputIds, ids, 2},
                                        {training::kLabels, ids, 2}};
  SmallVector<ExpectedTensor> outputs;
  if (isTrain) {
    inputs.push_back({training::kStep, {DType::Int64}, 0});
    inputs.push_back({training::kLearningRate, {DType::Float32}, 0, true});
    outputs.push_back({training::kLoss, {DType::Float32}, 0});
    outputs.push_back({training::kLearningRate, {DType::Float32}, 0, true});
  } else {
    outputs.push_back(
        {training::kLossSum, {DType::Float32, DType::Float64}, 0});
    outputs.push_back({training::kTokenCount, ids, 0});
  }
  if (Error error = checkSide(*entry, entry->inputs, "input", inputs))
    return std::move(error);
  if (Error error = checkSide(*entry, entry->outputs, "output", outputs))
    return std::move(error);

  TrainingEntryPoint result;
  result.entry = entry;
  const TensorSpec *inputIds = findSpec(entry->inputs, training::kInputIds);
  const TensorSpec *labels = findSpec(entry->inputs, training::kLabels);
  if (labels->dtype != inputIds->dtype || !(labels->shape == inputIds->shape))
    return makeError("entry point '" + name + "': labels " +
                     labels->describe() + " differ from input_ids " +
                     inputIds->describe() +
                     " (they must have the same dtype and shape)");
  result.idType = inputIds->dtype;
  const char *dimNames[] = {"the batch size (--batch)",
                            "the sequence length (--seq-len)"};
  int64_t runSizes[] = {batch, seqLen};
  for (int i = 0; i < 2; ++i) {
    const ManifestDim &dim = inputIds->shape[i];
    if (dim.isStatic() && dim.size != runSizes[i])
      return makeError("entry point '" + name + "' takes input_ids " +
                       inputIds->describe() + ": " + dimNames[i] + " must be " +
                       Twine(dim.size) + ", not " + Twine(runSizes[i]));
  }
  result.takesLearningRate =
      findSpec(entry->inputs, training::kLearningRate) != nullptr;
  result.returnsLearningRate =
      findSpec(entry->outputs, training::kLearningRate) != nullptr;
  return result;
}

Expected<int64_t> getVocabularySize(const Manifest &manifest) {
  for (const EntryPoint &entry : manifest.entryPoints)
    if (const TensorSpec *logits = findSpec(entry.outputs, training::kLogits)) {
      if (logits->getRank() == 0 || !logits->shape.back().isStatic())
        return makeError("entry point '" + entry.name + "' returns logits " +
                         logits->describe() +
                         ": the vocabulary size (its last dimension) is not "
                         "static");
      return logits->shape.back().size;
    }
  return makeError("no entry point of the artifact returns 'logits' (it has " +
                   manifest.listEntryPoints() +
                   "): the vocabulary size that token ids are checked "
                   "against is unknown");
}

} // namespace qaf
