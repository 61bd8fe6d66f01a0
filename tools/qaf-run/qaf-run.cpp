//===- qaf-run.cpp - run compiled qaf artifacts ---------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `qaf-run infer <artifact> --input name=x.npy` runs an entry point of a
// compiled artifact (`--entry`, default `infer`) on tensors from .npy or
// ONNX TensorProto (.pb) files and writes each output as <name>.npy;
// `qaf-run info <artifact>` prints the manifest, every entry point;
// `qaf-run verify <artifact>` checks the manifest against the library and
// every tensor file's content hash; `qaf-run train` fine-tunes with the
// artifact's train_step on a token file, with checkpoints, and `qaf-run
// eval` prints the perplexity of eval_step on one (the training convention:
// include/qaf/Runtime/TrainingEntryPoints.h); `qaf-run generate` generates
// tokens with a decoder's infer entry point, with its KV cache when it has
// one (include/qaf/Runtime/Generation.h). `--device cpu|cuda:N` says where
// to run (default: where the artifact's target runs); an artifact never
// runs on a device of another kind than its target's. Every error is one
// message naming the file or input, and exit status 1.
//
//===----------------------------------------------------------------------===//

#include "qaf/Import/TensorProtoReader.h"
#include "qaf/Runtime/Artifact.h"
#include "qaf/Runtime/Checkpoint.h"
#include "qaf/Runtime/CudaDevice.h"
#include "qaf/Runtime/Generation.h"
#include "qaf/Runtime/Manifest.h"
#include "qaf/Runtime/Npy.h"
#include "qaf/Runtime/TokenData.h"
#include "qaf/Runtime/TrainingEntryPoints.h"
#include "qaf/Runtime/TrainingLog.h"
#include "qaf/Support/Error.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>

using namespace llvm;

using qaf::makeError;

namespace {

cl::OptionCategory category("qaf-run options");

cl::SubCommand
    inferCommand("infer", "Run an entry point of an artifact on input tensors");
cl::SubCommand infoCommand(
    "info", "Print the manifest of an artifact and, for a cuda artifact, the "
            "GPU and whether it can run it (a GPU alone: info --device "
            "cuda:N)");
cl::SubCommand verifyCommand(
    "verify", "Check an artifact's files: the manifest against the library, "
              "and the weights' and parameters' content hashes");

cl::SubCommand
    trainCommand("train",
                 "Fine-tune an artifact compiled with --emit=train on a token "
                 "file, with checkpoints");
cl::SubCommand evalCommand(
    "eval", "Print the perplexity of an artifact compiled with --emit=train "
            "or --emit=eval on a token file");
cl::SubCommand generateCommand(
    "generate", "Generate tokens after a prompt with a decoder's entry point "
                "(with its KV cache when it has one)");

/// The subcommands, for the message about an unknown one.
constexpr StringLiteral kSubcommands[] = {"infer", "info", "verify",
                                          "train", "eval", "generate"};

// infer
cl::opt<std::string> inferArtifact(cl::Positional, cl::desc("<artifact-dir>"),
                                   cl::Required, cl::sub(inferCommand),
                                   cl::cat(category));
cl::list<std::string>
    positionalInputs(cl::Positional,
                     cl::desc("<input files, bound in manifest order>"),
                     cl::sub(inferCommand), cl::cat(category));
cl::list<std::string> inputOptions(
    "input",
    cl::desc("An input tensor file (.npy, or ONNX TensorProto .pb): "
             "`name=file`, or `file` alone to bind the next unnamed input in "
             "manifest order"),
    cl::value_desc("[name=]file"), cl::sub(inferCommand), cl::cat(category));
cl::opt<std::string>
    outputDir("output-dir",
              cl::desc("Write each output as <output name>.npy here (created "
                       "if missing)"),
              cl::value_desc("dir"), cl::sub(inferCommand), cl::cat(category));
cl::opt<std::string> entryName("entry", cl::desc("The entry point to run"),
                               cl::init("infer"), cl::sub(inferCommand),
                               cl::sub(generateCommand), cl::cat(category));
cl::opt<int>
    numThreads("threads",
               cl::desc("OpenMP threads (default: $QAF_NUM_THREADS, else "
                        "$OMP_NUM_THREADS, else all cores)"),
               cl::sub(inferCommand), cl::sub(trainCommand),
               cl::sub(evalCommand), cl::sub(generateCommand),
               cl::cat(category));
cl::opt<unsigned> repeat(
    "repeat",
    cl::desc("Time this many runs (after the warm-up runs) and print the "
             "timing"),
    cl::init(0), cl::sub(inferCommand), cl::cat(category));
cl::opt<unsigned> warmup("warmup",
                         cl::desc("Untimed runs before the timed ones (with "
                                  "--repeat)"),
                         cl::init(1), cl::sub(inferCommand), cl::cat(category));
cl::opt<std::string> deviceName(
    "device",
    cl::desc("Where to run: cpu or cuda:<N> (default: where the artifact's "
             "target runs, cuda:0 for a cuda artifact). info: the device to "
             "describe; it fails when the device does not answer"),
    cl::value_desc("cpu|cuda:N"), cl::sub(inferCommand), cl::sub(trainCommand),
    cl::sub(evalCommand), cl::sub(generateCommand), cl::sub(verifyCommand),
    cl::sub(infoCommand), cl::cat(category));
cl::opt<bool> noVerifyWeights(
    "no-verify-weights",
    cl::desc("Skip hashing the weights file on load (qaf-run verify checks it "
             "on demand)"),
    cl::sub(inferCommand), cl::sub(generateCommand), cl::cat(category));

cl::opt<std::string> checkpointToLoad(
    "ckpt",
    cl::desc("Run with the trained parameters of the newest checkpoint in "
             "this folder (qaf-run train --ckpt-dir)"),
    cl::value_desc("dir"), cl::sub(inferCommand), cl::sub(evalCommand),
    cl::sub(generateCommand), cl::cat(category));

// train and eval
cl::opt<std::string> trainArtifact(cl::Positional, cl::desc("<artifact-dir>"),
                                   cl::Required, cl::sub(trainCommand),
                                   cl::sub(evalCommand), cl::cat(category));
cl::opt<std::string>
    dataFile("data",
             cl::desc("Token ids: the flat qaf format or .npy (README, "
                      "\"Token files\"; scripts/tokenize_text.py writes them)"),
             cl::value_desc("file"), cl::Required, cl::sub(trainCommand),
             cl::sub(evalCommand), cl::cat(category));
cl::opt<int64_t> batchSize("batch", cl::desc("Sequences per step"), cl::init(1),
                           cl::sub(trainCommand), cl::sub(evalCommand),
                           cl::cat(category));
cl::opt<int64_t> seqLen("seq-len", cl::desc("Tokens per sequence"),
                        cl::Required, cl::sub(trainCommand),
                        cl::sub(evalCommand), cl::cat(category));
cl::opt<int64_t> totalSteps(
    "steps",
    cl::desc("The step to train to, counted from the start: --resume "
             "continues to the same end"),
    cl::Required, cl::sub(trainCommand), cl::cat(category));
cl::opt<double> learningRate(
    "lr",
    cl::desc("The learning rate, for an artifact whose train_step takes one "
             "(others have their schedule compiled in)"),
    cl::sub(trainCommand), cl::cat(category));
cl::opt<uint64_t> seed("seed",
                       cl::desc("Seeds the order of the training windows "
                                "(train), the sampling (generate)"),
                       cl::init(0), cl::sub(trainCommand),
                       cl::sub(generateCommand), cl::cat(category));
cl::opt<bool> sequentialOrder(
    "sequential",
    cl::desc("Take the training windows in file order instead of a shuffled "
             "order per pass"),
    cl::sub(trainCommand), cl::cat(category));
cl::opt<std::string> checkpointFolder(
    "ckpt-dir",
    cl::desc("Write checkpoints here (and read them with --resume)"),
    cl::value_desc("dir"), cl::Required, cl::sub(trainCommand),
    cl::cat(category));
cl::opt<int64_t> checkpointEvery(
    "ckpt-every",
    cl::desc("Checkpoint every this many steps (0: only at the end)"),
    cl::init(0), cl::sub(trainCommand), cl::cat(category));
cl::opt<bool> resume("resume",
                     cl::desc("Continue from the newest checkpoint in "
                              "--ckpt-dir"),
                     cl::sub(trainCommand), cl::cat(category));
cl::opt<std::string> logFile("log",
                             cl::desc("Append one JSON line per step here"),
                             cl::value_desc("file"), cl::sub(trainCommand),
                             cl::cat(category));

// generate
cl::opt<std::string> generateArtifact(cl::Positional,
                                      cl::desc("<artifact-dir>"), cl::Required,
                                      cl::sub(generateCommand),
                                      cl::cat(category));
cl::opt<std::string> promptIds(
    "prompt-ids",
    cl::desc("The prompt's token ids: .npy of int32 or int64, [length] or "
             "[batch, length]"),
    cl::value_desc("file"), cl::Required, cl::sub(generateCommand),
    cl::cat(category));
cl::opt<int64_t> maxNewTokens("max-new-tokens",
                              cl::desc("Tokens to generate after the prompt"),
                              cl::init(16), cl::sub(generateCommand),
                              cl::cat(category));
cl::opt<int64_t>
    maxLength("max-length",
              cl::desc("Positions the cache holds: the prompt and the new "
                       "tokens together"),
              cl::init(qaf::GenerationOptions().maxLength),
              cl::sub(generateCommand), cl::cat(category));
cl::opt<double> temperature("temperature",
                            cl::desc("Sampling temperature (0: greedy)"),
                            cl::init(0), cl::sub(generateCommand),
                            cl::cat(category));
cl::opt<int64_t> topK("top-k",
                      cl::desc("Sample among the k most likely tokens (0: "
                               "all)"),
                      cl::init(0), cl::sub(generateCommand), cl::cat(category));
cl::opt<double> topP("top-p",
                     cl::desc("Sample among the most likely tokens whose "
                              "probability adds up to p (1: all)"),
                     cl::init(1), cl::sub(generateCommand), cl::cat(category));

// info
cl::opt<std::string> infoArtifact(cl::Positional, cl::desc("[artifact-dir]"),
                                  cl::Optional, cl::sub(infoCommand),
                                  cl::cat(category));
cl::opt<bool> verbose(
    "verbose",
    cl::desc("List every weight of every entry point and the target features"),
    cl::sub(infoCommand), cl::cat(category));
// verify
cl::opt<std::string> verifyArtifact(cl::Positional, cl::desc("<artifact-dir>"),
                                    cl::Required, cl::sub(verifyCommand),
                                    cl::cat(category));

cl::alias verboseShort("v", cl::desc("Alias for --verbose"),
                       cl::aliasopt(verbose), cl::cat(category));

int reportError(Error error) {
  errs() << "qaf-run: " << toString(std::move(error)) << "\n";
  return 1;
}

/// The artifact options every subcommand that loads one shares: --threads
/// and --device.
Expected<qaf::ArtifactOptions> getArtifactOptions() {
  qaf::ArtifactOptions options;
  if (numThreads.getNumOccurrences())
    options.numThreads = numThreads;
  if (deviceName.getNumOccurrences()) {
    Expected<qaf::DeviceSpec> device = qaf::parseDeviceSpec(deviceName);
    if (!device)
      return makeError("--device: " + toString(device.takeError()));
    options.device = *device;
  }
  return options;
}

/// Reads a tensor file by its extension.
Expected<qaf::HostTensor> readTensorFile(StringRef path) {
  StringRef extension = sys::path::extension(path);
  if (extension == ".npy")
    return qaf::readNpyFile(path);
  if (extension == ".pb")
    return qaf::readTensorProtoFile(path);
  return makeError("'" + path +
                   "': unknown tensor file type (expected .npy or .pb)");
}

/// An input argument: `name=file` or a bare file, with its place on the
/// command line.
struct InputArgument {
  unsigned position;
  std::string name;
  std::string path;
};

/// Binds the input arguments to the entry point's inputs: named ones by
/// name, the others in manifest order to the inputs not named.
Expected<std::vector<qaf::NamedTensor>>
readInputs(const qaf::EntryPoint &entry) {
  std::vector<InputArgument> arguments;
  auto isInputName = [&](StringRef name) {
    return any_of(entry.inputs, [&](const qaf::TensorSpec &spec) {
      return spec.name == name;
    });
  };
  for (auto [i, value] : enumerate(inputOptions)) {
    InputArgument argument{inputOptions.getPosition(i), "", value};
    auto [name, path] = StringRef(value).split('=');
    if (!path.empty() || StringRef(value).contains('=')) {
      if (isInputName(name)) {
        argument.name = name.str();
        argument.path = path.str();
      } else if (!sys::fs::exists(value)) {
        std::string names;
        for (const qaf::TensorSpec &spec : entry.inputs)
          names += (names.empty() ? "" : ", ") + spec.name;
        return makeError("--input " + value + ": entry point '" + entry.name +
                         "' has no input '" + name + "' (its inputs: " +
                         (names.empty() ? "none" : names) + ")");
      }
    }
    arguments.push_back(std::move(argument));
  }
  for (auto [i, value] : enumerate(positionalInputs))
    arguments.push_back({positionalInputs.getPosition(i), "", value});
  llvm::sort(arguments, [](const InputArgument &a, const InputArgument &b) {
    return a.position < b.position;
  });

  StringSet<> named;
  for (const InputArgument &argument : arguments)
    if (!argument.name.empty())
      named.insert(argument.name);
  std::vector<const qaf::TensorSpec *> unnamedSlots;
  for (const qaf::TensorSpec &spec : entry.inputs)
    if (!named.contains(spec.name))
      unnamedSlots.push_back(&spec);
  size_t nextSlot = 0;
  for (InputArgument &argument : arguments) {
    if (!argument.name.empty())
      continue;
    if (nextSlot == unnamedSlots.size())
      return makeError("too many inputs: '" + argument.path +
                       "' has no input of entry point '" + entry.name +
                       "' left to bind to (it takes " +
                       Twine(entry.inputs.size()) + ")");
    argument.name = unnamedSlots[nextSlot++]->name;
  }

  std::vector<qaf::NamedTensor> inputs;
  for (const InputArgument &argument : arguments) {
    Expected<qaf::HostTensor> tensor = readTensorFile(argument.path);
    if (!tensor)
      return makeError("input '" + argument.name +
                       "': " + toString(tensor.takeError()));
    inputs.push_back({argument.name, std::move(*tensor)});
  }
  return inputs;
}

/// A file name for an output: ONNX names may hold `/` or `:`.
std::string getOutputFileName(StringRef outputName, StringSet<> &taken) {
  std::string base;
  for (char c : outputName)
    base += (isAlnum(c) || c == '.' || c == '_' || c == '-') ? c : '_';
  if (base.empty() || base.front() == '.')
    base.insert(0, "output");
  std::string name = base;
  for (int suffix = 1; !taken.insert(name).second; ++suffix)
    name = base + "_" + std::to_string(suffix);
  return name + ".npy";
}

/// Every parameter of the artifact's buffers: what a checkpoint holds.
Expected<std::vector<qaf::NamedTensor>>
getCheckpointTensors(const qaf::Artifact &artifact) {
  std::vector<qaf::NamedTensor> tensors;
  for (const qaf::TensorSpec &spec : artifact.getManifest().getAllParameters())
    tensors.push_back({spec.name, *artifact.getParameter(spec.name)});
  if (tensors.empty())
    return makeError("artifact '" + artifact.getDirectory() +
                     "' has no parameters: there is nothing to checkpoint");
  return tensors;
}

/// Replaces the artifact's parameters (on its device too) with the newest
/// checkpoint in `folder`.
Expected<qaf::CheckpointState> restoreInto(qaf::Artifact &artifact,
                                           StringRef folder) {
  Expected<std::vector<qaf::NamedTensor>> tensors =
      getCheckpointTensors(artifact);
  if (!tensors)
    return tensors.takeError();
  Expected<qaf::CheckpointState> state = qaf::restoreCheckpoint(
      folder, *tensors, artifact.getManifest().fingerprint);
  if (!state)
    return state.takeError();
  if (Error error = artifact.uploadParameters())
    return std::move(error);
  return state;
}

/// An artifact loaded for `infer` or `generate`: the `--threads` and
/// `--no-verify-weights` options applied, the `--ckpt` checkpoint (if any)
/// restored into its parameters, and the `--entry` entry point found.
struct LoadedEntry {
  std::unique_ptr<qaf::Artifact> artifact;
  const qaf::EntryPoint *entry = nullptr;
};

Expected<LoadedEntry> loadEntry(StringRef artifactPath) {
  Expected<qaf::ArtifactOptions> options = getArtifactOptions();
  if (!options)
    return options.takeError();
  options->verifyContent = !noVerifyWeights;
  Expected<std::unique_ptr<qaf::Artifact>> artifact =
      qaf::Artifact::load(artifactPath, *options);
  if (!artifact)
    return artifact.takeError();
  if (!checkpointToLoad.empty())
    if (Expected<qaf::CheckpointState> state =
            restoreInto(**artifact, checkpointToLoad);
        !state)
      return state.takeError();
  const qaf::EntryPoint *entry =
      (*artifact)->getManifest().findEntryPoint(entryName);
  if (!entry)
    return makeError("artifact '" + artifactPath + "' has no entry point '" +
                     entryName + "' (it has " +
                     (*artifact)->getManifest().listEntryPoints() + ")");
  return LoadedEntry{std::move(*artifact), entry};
}

int runInfer() {
  Expected<LoadedEntry> loaded = loadEntry(inferArtifact);
  if (!loaded)
    return reportError(loaded.takeError());
  std::unique_ptr<qaf::Artifact> &artifact = loaded->artifact;
  const qaf::EntryPoint *entry = loaded->entry;
  Expected<std::vector<qaf::NamedTensor>> inputs = readInputs(*entry);
  if (!inputs)
    return reportError(inputs.takeError());

  unsigned runs = repeat ? warmup + repeat : 1;
  std::vector<double> milliseconds;
  std::vector<qaf::NamedTensor> outputs;
  for (unsigned run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    Expected<std::vector<qaf::NamedTensor>> result =
        artifact->run(entryName, *inputs);
    auto stop = std::chrono::steady_clock::now();
    if (!result)
      return reportError(result.takeError());
    if (repeat && run >= warmup)
      milliseconds.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
    outputs = std::move(*result);
  }

  if (!outputDir.empty())
    if (std::error_code ec = sys::fs::create_directories(outputDir))
      return reportError(makeError("cannot create output folder '" + outputDir +
                                   "': " + ec.message()));
  StringSet<> takenNames;
  for (const qaf::NamedTensor &output : outputs) {
    outs() << output.name << ": " << output.tensor.describe();
    if (!outputDir.empty()) {
      SmallString<256> path(outputDir);
      sys::path::append(path, getOutputFileName(output.name, takenNames));
      qaf::HostTensor written = output.tensor;
      if (written.getDType() == qaf::DType::BFloat16)
        written = qaf::widenBFloat16ToFloat32(written);
      if (Error error = qaf::writeNpyFile(path, written))
        return reportError(std::move(error));
      outs() << " -> " << path;
      if (written.getDType() != output.tensor.getDType())
        outs() << " (widened to float32: numpy has no bfloat16)";
    }
    outs() << "\n";
  }

  if (repeat) {
    std::vector<double> sorted = milliseconds;
    llvm::sort(sorted);
    double mean = 0;
    for (double each : sorted)
      mean += each / sorted.size();
    double median =
        sorted.size() % 2
            ? sorted[sorted.size() / 2]
            : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
    outs() << "time: " << repeat << " runs (after " << warmup
           << " warm-up), mean " << format("%.3f", mean) << " ms, median "
           << format("%.3f", median) << " ms, min "
           << format("%.3f", sorted.front()) << " ms, threads ";
    if (std::optional<int> threads = artifact->getNumThreads())
      outs() << *threads;
    else
      outs() << "1 (no OpenMP)";
    outs() << "\n";
  }
  return 0;
}

int runGenerate() {
  Expected<qaf::HostTensor> prompt = qaf::readNpyFile(promptIds);
  if (!prompt)
    return reportError(prompt.takeError());
  Expected<LoadedEntry> loaded = loadEntry(generateArtifact);
  if (!loaded)
    return reportError(loaded.takeError());
  std::unique_ptr<qaf::Artifact> &artifact = loaded->artifact;
  const qaf::EntryPoint *entry = loaded->entry;
  Expected<qaf::DecoderSignature> signature = qaf::findDecoderSignature(*entry);
  if (!signature)
    return reportError(makeError("artifact '" + generateArtifact +
                                 "': " + toString(signature.takeError())));
  if (!signature->hasCache())
    errs() << "qaf-run: warning: entry point '" << entry->name << "' of '"
           << generateArtifact
           << "' has no KV cache (no past_key_values.* inputs): every new "
              "token recomputes the whole sequence\n";

  qaf::GenerationOptions generation;
  generation.maxNewTokens = maxNewTokens;
  generation.maxLength = maxLength;
  generation.sampling.temperature = temperature;
  generation.sampling.topK = topK;
  generation.sampling.topP = topP;
  generation.sampling.seed = seed;
  Expected<qaf::GenerationResult> result =
      qaf::generate(*artifact, *signature, *prompt, generation);
  if (!result)
    return reportError(result.takeError());
  for (auto [row, tokens] : enumerate(result->tokens)) {
    outs() << "generated[" << row << "]:";
    for (int64_t token : tokens)
      outs() << " " << token;
    outs() << "\n";
  }
  auto printRate = [](StringRef what, int64_t tokens, double seconds) {
    outs() << what << ": " << tokens << " tokens in "
           << format("%.3f", seconds * 1e3) << " ms ("
           << format("%.1f", seconds > 0 ? tokens / seconds : 0.0)
           << " tokens/s)\n";
  };
  printRate("prefill", result->prefillTokens, result->prefillSeconds);
  printRate(signature->hasCache() ? "decode" : "decode (recomputed)",
            result->decodeTokens, result->decodeSeconds);
  return 0;
}

/// What train and eval share before the first step: the manifest checked
/// against the convention (before anything is loaded, so an inference
/// artifact is refused at once), the token file, the loaded artifact.
struct TrainingSetup {
  qaf::TrainingEntryPoint entry;
  std::shared_ptr<const qaf::TokenData> data;
  std::unique_ptr<qaf::Artifact> artifact;
};

Expected<TrainingSetup> setUpTraining(StringRef entryName) {
  if (!sys::fs::is_directory(trainArtifact))
    return makeError("artifact '" + trainArtifact + "' is not a folder");
  SmallString<256> manifestPath(trainArtifact);
  sys::path::append(manifestPath, "manifest.json");
  Expected<qaf::Manifest> manifest = qaf::readManifestFile(manifestPath);
  if (!manifest)
    return manifest.takeError();
  TrainingSetup setup;
  Expected<qaf::TrainingEntryPoint> entry =
      qaf::checkTrainingEntryPoint(*manifest, entryName, batchSize, seqLen);
  if (!entry)
    return entry.takeError();
  if (entryName == qaf::training::kTrainStep) {
    if (entry->takesLearningRate && !learningRate.getNumOccurrences())
      return makeError(
          "entry point 'train_step' takes the learning rate: give --lr");
    if (!entry->takesLearningRate && learningRate.getNumOccurrences())
      return makeError(
          "--lr: this artifact's train_step has its learning rate schedule "
          "compiled in (qaf-compile ... lr=): recompile to change it");
  }
  Expected<int64_t> vocabularySize = qaf::getVocabularySize(*manifest);
  if (!vocabularySize)
    return vocabularySize.takeError();
  Expected<qaf::TokenData> data =
      qaf::TokenData::open(dataFile, *vocabularySize);
  if (!data)
    return data.takeError();
  setup.data = std::make_shared<qaf::TokenData>(std::move(*data));

  Expected<qaf::ArtifactOptions> options = getArtifactOptions();
  if (!options)
    return options.takeError();
  Expected<std::unique_ptr<qaf::Artifact>> artifact =
      qaf::Artifact::load(trainArtifact, *options);
  if (!artifact)
    return artifact.takeError();
  setup.artifact = std::move(*artifact);
  // The entry point the loaded manifest owns (the same checks passed).
  setup.entry = *entry;
  setup.entry.entry =
      setup.artifact->getManifest().findEntryPoint(entry->entry->name);
  return setup;
}

qaf::HostTensor makeScalar(qaf::DType dtype, double value) {
  qaf::HostTensor scalar = qaf::HostTensor::allocate(dtype, {});
  if (dtype == qaf::DType::Int64)
    *reinterpret_cast<int64_t *>(scalar.getMutableData()) = value;
  else
    *reinterpret_cast<float *>(scalar.getMutableData()) = value;
  return scalar;
}

/// The value of a scalar output of any dtype the convention allows.
double readScalar(const qaf::HostTensor &tensor) {
  switch (tensor.getDType()) {
  case qaf::DType::Float32:
    return *reinterpret_cast<const float *>(tensor.getData());
  case qaf::DType::Float64:
    return *reinterpret_cast<const double *>(tensor.getData());
  case qaf::DType::Int32:
    return *reinterpret_cast<const int32_t *>(tensor.getData());
  default:
    return *reinterpret_cast<const int64_t *>(tensor.getData());
  }
}

const qaf::HostTensor *findOutput(ArrayRef<qaf::NamedTensor> outputs,
                                  StringRef name) {
  for (const qaf::NamedTensor &output : outputs)
    if (output.name == name)
      return &output.tensor;
  return nullptr;
}

int runTrain() {
  if (checkpointEvery < 0)
    return reportError(makeError("--ckpt-every must be 0 or more"));
  if (totalSteps < 1)
    return reportError(makeError("--steps must be at least 1"));
  Expected<TrainingSetup> setup = setUpTraining(qaf::training::kTrainStep);
  if (!setup)
    return reportError(setup.takeError());
  qaf::Artifact &artifact = *setup->artifact;
  Expected<qaf::BatchSampler> sampler =
      qaf::BatchSampler::create(setup->data, batchSize, seqLen,
                                sequentialOrder ? qaf::WindowOrder::Sequential
                                                : qaf::WindowOrder::Shuffled,
                                seed);
  if (!sampler)
    return reportError(sampler.takeError());
  Expected<std::vector<qaf::NamedTensor>> tensors =
      getCheckpointTensors(artifact);
  if (!tensors)
    return reportError(tensors.takeError());

  int64_t step = 0;
  std::string lastCheckpoint;
  if (resume) {
    Expected<qaf::CheckpointState> state =
        restoreInto(artifact, checkpointFolder);
    if (!state)
      return reportError(state.takeError());
    if (Error error = sampler->setState(state->sampler))
      return reportError(std::move(error));
    step = state->step;
    lastCheckpoint = cantFail(qaf::findLatestCheckpoint(checkpointFolder));
    if (step > totalSteps)
      return reportError(makeError(lastCheckpoint + " is at step " +
                                   Twine(step) + ", past --steps " +
                                   Twine(totalSteps)));
    outs() << "resumed from " << lastCheckpoint << " (step " << step << ")\n";
  } else if (Expected<std::string> existing =
                 qaf::findLatestCheckpoint(checkpointFolder)) {
    return reportError(
        makeError("checkpoint folder '" + checkpointFolder +
                  "' already holds " + *existing +
                  ": pass --resume to continue it, or choose another "
                  "folder"));
  } else {
    consumeError(existing.takeError());
  }

  Expected<std::unique_ptr<qaf::TrainingLog>> log =
      qaf::TrainingLog::create(outs(), logFile, step, totalSteps);
  if (!log)
    return reportError(log.takeError());
  // Ends the progress line before the error.
  auto stopWithError = [&](Error error) {
    (*log)->finish();
    return reportError(std::move(error));
  };
  auto start = std::chrono::steady_clock::now();
  int64_t tokensPerStep = batchSize * seqLen;
  for (++step; step <= totalSteps; ++step) {
    qaf::TokenBatch batch = sampler->next(setup->entry.idType);
    std::vector<qaf::NamedTensor> inputs = {
        {qaf::training::kInputIds.str(), batch.inputIds},
        {qaf::training::kLabels.str(), batch.labels},
        {qaf::training::kStep.str(), makeScalar(qaf::DType::Int64, step)}};
    if (setup->entry.takesLearningRate)
      inputs.push_back({qaf::training::kLearningRate.str(),
                        makeScalar(qaf::DType::Float32, learningRate)});
    auto stepStart = std::chrono::steady_clock::now();
    Expected<std::vector<qaf::NamedTensor>> outputs =
        artifact.run(qaf::training::kTrainStep, inputs);
    if (!outputs)
      return stopWithError(outputs.takeError());
    auto now = std::chrono::steady_clock::now();
    qaf::StepRecord record;
    record.step = step;
    record.loss = readScalar(*findOutput(*outputs, qaf::training::kLoss));
    if (setup->entry.takesLearningRate)
      record.learningRate = learningRate;
    if (const qaf::HostTensor *rate =
            findOutput(*outputs, qaf::training::kLearningRate))
      record.learningRate = readScalar(*rate);
    record.tokensPerSecond =
        tokensPerStep /
        std::max(std::chrono::duration<double>(now - stepStart).count(), 1e-9);
    record.elapsedSeconds = std::chrono::duration<double>(now - start).count();
    (*log)->record(record);
    if (!std::isfinite(record.loss))
      return stopWithError(makeError(
          "the loss is " + Twine(std::isnan(record.loss) ? "NaN" : "infinite") +
          " at step " + Twine(step) + ": training stopped; " +
          (lastCheckpoint.empty()
               ? Twine("no checkpoint was written")
               : "the last good checkpoint is " + lastCheckpoint)));
    if (step == totalSteps ||
        (checkpointEvery > 0 && step % checkpointEvery == 0)) {
      // On a GPU the parameters' current values are on the device.
      if (Error error = artifact.downloadParameters())
        return stopWithError(std::move(error));
      Expected<std::string> saved = qaf::saveCheckpoint(
          checkpointFolder, *tensors, {step, sampler->getState()},
          artifact.getManifest().fingerprint);
      if (!saved)
        return stopWithError(saved.takeError());
      lastCheckpoint = *saved;
      (*log)->note("checkpoint: " + lastCheckpoint);
    }
  }
  (*log)->finish();
  outs() << "trained to step " << totalSteps << "; checkpoint "
         << (lastCheckpoint.empty() ? "none" : lastCheckpoint) << "\n";
  return 0;
}

int runEval() {
  Expected<TrainingSetup> setup = setUpTraining(qaf::training::kEvalStep);
  if (!setup)
    return reportError(setup.takeError());
  qaf::Artifact &artifact = *setup->artifact;
  if (!checkpointToLoad.empty())
    if (Expected<qaf::CheckpointState> state =
            restoreInto(artifact, checkpointToLoad);
        !state)
      return reportError(state.takeError());
  Expected<qaf::BatchSampler> sampler = qaf::BatchSampler::create(
      setup->data, batchSize, seqLen, qaf::WindowOrder::Sequential, /*seed=*/0);
  if (!sampler)
    return reportError(sampler.takeError());
  // Every whole window once, in file order; a last, smaller batch only when
  // the batch dimension is not static.
  const qaf::TensorSpec &ids = setup->entry.entry->inputs.front();
  bool staticBatch = ids.shape.front().isStatic();
  double lossSum = 0;
  int64_t tokenCount = 0;
  int64_t windows = sampler->getNumWindows();
  for (int64_t first = 0; first < windows; first += batchSize) {
    int64_t rows = std::min<int64_t>(batchSize, windows - first);
    if (rows < batchSize && staticBatch) {
      outs() << "note: the last " << rows
             << " window(s) are left out: eval_step's batch dimension is "
                "static ("
             << batchSize << ")\n";
      break;
    }
    qaf::TokenBatch batch =
        qaf::allocateTokenBatch(setup->entry.idType, rows, seqLen);
    for (int64_t row = 0; row < rows; ++row)
      sampler->fillRow(first + row, row, batch);
    Expected<std::vector<qaf::NamedTensor>> outputs =
        artifact.run(qaf::training::kEvalStep,
                     {{qaf::training::kInputIds.str(), batch.inputIds},
                      {qaf::training::kLabels.str(), batch.labels}});
    if (!outputs)
      return reportError(outputs.takeError());
    lossSum += readScalar(*findOutput(*outputs, qaf::training::kLossSum));
    tokenCount += readScalar(*findOutput(*outputs, qaf::training::kTokenCount));
  }
  if (tokenCount <= 0)
    return reportError(
        makeError("eval_step counted no tokens in '" + dataFile + "'"));
  double meanLoss = lossSum / tokenCount;
  outs() << "loss: " << format("%.6f", meanLoss) << "\n";
  outs() << "perplexity: " << format("%.6f", std::exp(meanLoss)) << "\n";
  outs() << "tokens: " << tokenCount << "\n";
  return 0;
}

/// Prints CUDA device `ordinal` and its driver (`device:` and `driver:`
/// lines), or returns why there is none ("no CUDA driver ...", "no CUDA
/// device ...").
Error printCudaDevice(int ordinal) {
  std::string label = "cuda:" + std::to_string(ordinal);
  Expected<qaf::CudaRuntime &> runtime = qaf::CudaRuntime::get();
  if (!runtime)
    return runtime.takeError();
  Expected<qaf::CudaDeviceDescription> device =
      runtime->describeDevice(ordinal);
  if (!device)
    return device.takeError();
  qaf::CudaDriverDescription driver = cantFail(runtime->probeDriver());
  outs() << "device: " << label << ": " << device->describe() << "\n";
  outs() << "driver: CUDA " << qaf::formatCudaVersion(driver.driverVersion)
         << " (" << driver.driverPath << "), " << driver.deviceCount
         << " device" << (driver.deviceCount == 1 ? "" : "s") << "\n";
  return Error::success();
}

/// Prints the manifest of an artifact and, for a cuda artifact (or with
/// --device cuda:N), the GPU and whether it can run the artifact's code;
/// without an artifact, only the device of --device. Fails when the
/// --device given does not answer.
int runInfo() {
  std::optional<qaf::DeviceSpec> device;
  if (deviceName.getNumOccurrences()) {
    Expected<qaf::DeviceSpec> parsed = qaf::parseDeviceSpec(deviceName);
    if (!parsed)
      return reportError(
          makeError("--device: " + toString(parsed.takeError())));
    device = *parsed;
  }
  if (infoArtifact.empty()) {
    if (!device)
      return reportError(
          makeError("info: give an artifact folder, or --device cuda:<N> to "
                    "describe a GPU"));
    if (device->kind == qaf::TargetKind::CPU) {
      outs() << "device: cpu\n";
      return 0;
    }
    if (Error error = printCudaDevice(device->ordinal))
      return reportError(std::move(error));
    return 0;
  }
  SmallString<256> manifestPath(infoArtifact);
  sys::path::append(manifestPath, "manifest.json");
  if (!sys::fs::is_directory(infoArtifact))
    return reportError(
        makeError("artifact '" + infoArtifact + "' is not a folder"));
  Expected<qaf::Manifest> manifest = qaf::readManifestFile(manifestPath);
  if (!manifest)
    return reportError(manifest.takeError());
  outs() << "artifact: " << infoArtifact << "\n";
  qaf::printManifest(outs(), *manifest, verbose);
  const qaf::TargetDescription &target = manifest->target;
  if (!device && target.kind == qaf::TargetKind::CUDA)
    device = qaf::DeviceSpec{qaf::TargetKind::CUDA, 0};
  if (!device || device->kind == qaf::TargetKind::CPU)
    return 0;
  if (Error error = printCudaDevice(device->ordinal)) {
    // Only a device asked for by name makes info fail.
    if (deviceName.getNumOccurrences())
      return reportError(std::move(error));
    outs() << "device: " << device->str() << ": " << toString(std::move(error))
           << "\n";
    return 0;
  }
  if (target.kind == qaf::TargetKind::CUDA) {
    qaf::CudaRuntime &runtime = cantFail(qaf::CudaRuntime::get());
    qaf::CudaDeviceDescription gpu =
        cantFail(runtime.describeDevice(device->ordinal));
    Error compatible = qaf::checkCudaCompatibility(
        target, gpu.computeCapabilityMajor, gpu.computeCapabilityMinor,
        cantFail(runtime.probeDriver()).driverVersion, "the artifact",
        device->str());
    outs() << "runs on " << device->str() << ": "
           << (compatible ? "no: " + toString(std::move(compatible))
                          : std::string("yes"))
           << "\n";
  }
  return 0;
}

/// Loads the artifact (which checks the manifest against the library) and
/// compares every tensor file's content hash with the library's, one line
/// per file.
int runVerify() {
  Expected<qaf::ArtifactOptions> options = getArtifactOptions();
  if (!options)
    return reportError(options.takeError());
  options->verifyContent = false;
  options->numThreads = 1;
  Expected<std::unique_ptr<qaf::Artifact>> artifact =
      qaf::Artifact::load(verifyArtifact, *options);
  if (!artifact)
    return reportError(artifact.takeError());
  outs() << "artifact: " << verifyArtifact << "\n";
  outs() << "manifest: matches the library\n";
  bool allMatch = true;
  for (const qaf::ContentCheck &check : (*artifact)->verifyContent()) {
    outs() << check.path << ": ";
    if (check.matches()) {
      outs() << "ok (" << check.actual << ")\n";
      continue;
    }
    allMatch = false;
    outs() << "MISMATCH: content hash " << check.actual
           << ", the library recorded " << check.recorded << "\n";
  }
  if (allMatch)
    return 0;
  errs() << "qaf-run: artifact '" << verifyArtifact
         << "': files differ from what was compiled (a parameters file "
            "differs also when trained values replaced the initial ones)\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM initLLVM(argc, argv);
  // Checked before the command line parser, whose message for a stray word
  // would not say which subcommands exist.
  if (argc < 2 ||
      (argv[1][0] != '-' && !is_contained(kSubcommands, StringRef(argv[1])))) {
    errs() << "qaf-run: "
           << (argc < 2 ? std::string("missing subcommand")
                        : "unknown subcommand '" + std::string(argv[1]) + "'")
           << " (known: "
           << join(std::begin(kSubcommands), std::end(kSubcommands), ", ")
           << "; see qaf-run --help)\n";
    return 1;
  }
  for (cl::SubCommand *sub :
       {&cl::SubCommand::getTopLevel(), &inferCommand, &infoCommand,
        &verifyCommand, &trainCommand, &evalCommand, &generateCommand})
    cl::HideUnrelatedOptions(category, *sub);
  cl::ParseCommandLineOptions(argc, argv,
                              "qaf-run: run compiled qaf artifacts\n");
  if (inferCommand)
    return runInfer();
  if (infoCommand)
    return runInfo();
  if (verifyCommand)
    return runVerify();
  if (trainCommand)
    return runTrain();
  if (evalCommand)
    return runEval();
  if (generateCommand)
    return runGenerate();
  errs() << "qaf-run: missing subcommand (known: "
         << join(std::begin(kSubcommands), std::end(kSubcommands), ", ")
         << ")\n";
  return 1;
}
