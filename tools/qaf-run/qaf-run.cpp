//===- qaf-run.cpp - run compiled qaf artifacts ---------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `qaf-run infer <artifact> --input name=x.npy` runs an entry point of a
// compiled artifact (`--entry`, default `infer`) on tensors from .npy or
// ONNX TensorProto (.pb) files and writes each output as <name>.npy;
// `qaf-run info <artifact>` prints the manifest, every entry point;
// `qaf-run verify <artifact>` checks the manifest against the library and
// every tensor file's content hash. Every error
// is one message naming the file or input, and exit status 1.
//
//===----------------------------------------------------------------------===//

#include "qaf/Import/TensorProtoReader.h"
#include "qaf/Runtime/Artifact.h"
#include "qaf/Runtime/Manifest.h"
#include "qaf/Runtime/Npy.h"

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

using namespace llvm;

namespace {

cl::OptionCategory category("qaf-run options");

cl::SubCommand
    inferCommand("infer", "Run an entry point of an artifact on input tensors");
cl::SubCommand infoCommand("info", "Print the manifest of an artifact");
cl::SubCommand verifyCommand(
    "verify", "Check an artifact's files: the manifest against the library, "
              "and the weights' and parameters' content hashes");

/// The subcommands, for the message about an unknown one.
constexpr StringLiteral kSubcommands[] = {"infer", "info", "verify"};

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
                               cl::cat(category));
cl::opt<int>
    numThreads("threads",
               cl::desc("OpenMP threads (default: $QAF_NUM_THREADS, else "
                        "$OMP_NUM_THREADS, else all cores)"),
               cl::sub(inferCommand), cl::cat(category));
cl::opt<unsigned> repeat(
    "repeat",
    cl::desc("Time this many runs (after the warm-up runs) and print the "
             "timing"),
    cl::init(0), cl::sub(inferCommand), cl::cat(category));
cl::opt<unsigned> warmup("warmup",
                         cl::desc("Untimed runs before the timed ones (with "
                                  "--repeat)"),
                         cl::init(1), cl::sub(inferCommand), cl::cat(category));
cl::opt<bool> noVerifyWeights(
    "no-verify-weights",
    cl::desc("Skip hashing the weights file on load (qaf-run verify checks it "
             "on demand)"),
    cl::sub(inferCommand), cl::cat(category));

// info
cl::opt<std::string> infoArtifact(cl::Positional, cl::desc("<artifact-dir>"),
                                  cl::Required, cl::sub(infoCommand),
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

Error makeError(const Twine &message) {
  return make_error<StringError>(message, inconvertibleErrorCode());
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

int runInfer() {
  qaf::ArtifactOptions options;
  if (numThreads.getNumOccurrences())
    options.numThreads = numThreads;
  options.verifyContent = !noVerifyWeights;
  Expected<std::unique_ptr<qaf::Artifact>> artifact =
      qaf::Artifact::load(inferArtifact, options);
  if (!artifact)
    return reportError(artifact.takeError());
  const qaf::EntryPoint *entry =
      (*artifact)->getManifest().findEntryPoint(entryName);
  if (!entry)
    return reportError(makeError(
        "artifact '" + inferArtifact + "' has no entry point '" + entryName +
        "' (it has " + (*artifact)->getManifest().listEntryPoints() + ")"));
  Expected<std::vector<qaf::NamedTensor>> inputs = readInputs(*entry);
  if (!inputs)
    return reportError(inputs.takeError());

  unsigned runs = repeat ? warmup + repeat : 1;
  std::vector<double> milliseconds;
  std::vector<qaf::NamedTensor> outputs;
  for (unsigned run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    Expected<std::vector<qaf::NamedTensor>> result =
        (*artifact)->run(entryName, *inputs);
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
    if (std::optional<int> threads = (*artifact)->getNumThreads())
      outs() << *threads;
    else
      outs() << "1 (no OpenMP)";
    outs() << "\n";
  }
  return 0;
}

int runInfo() {
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
  return 0;
}

/// Loads the artifact (which checks the manifest against the library) and
/// compares every tensor file's content hash with the library's, one line
/// per file.
int runVerify() {
  qaf::ArtifactOptions options;
  options.verifyContent = false;
  options.numThreads = 1;
  Expected<std::unique_ptr<qaf::Artifact>> artifact =
      qaf::Artifact::load(verifyArtifact, options);
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
  for (cl::SubCommand *sub : {&cl::SubCommand::getTopLevel(), &inferCommand,
                              &infoCommand, &verifyCommand})
    cl::HideUnrelatedOptions(category, *sub);
  cl::ParseCommandLineOptions(argc, argv,
                              "qaf-run: run compiled qaf artifacts\n");
  if (inferCommand)
    return runInfer();
  if (infoCommand)
    return runInfo();
  if (verifyCommand)
    return runVerify();
  errs() << "qaf-run: missing subcommand (known: "
         << join(std::begin(kSubcommands), std::end(kSubcommands), ", ")
         << ")\n";
  return 1;
}
