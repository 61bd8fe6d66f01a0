//===- Artifact.cpp - load and run a compiled CPU artifact ----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Artifact.h"
#include "ArtifactChecks.h"
#include "qaf/Support/Error.h"

#include "qaf/Runtime/MemRefDescriptor.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Threading.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

using namespace llvm;

namespace qaf {

namespace {

constexpr StringLiteral kFingerprintSymbol = "qaf_artifact_fingerprint";
constexpr StringLiteral kABISymbol = "qaf_artifact_abi";
/// The most OpenMP threads a run may ask for: far above any machine's
/// cores, far below the count at which the OpenMP runtime aborts.
/// Longest description read from the library (a C string, like the
/// fingerprint).
constexpr size_t kMaxABILength = 64 << 20;
/// Longest fingerprint read from the library: the symbol is a C string, and
/// a corrupt one must not send the reader through the whole address space.
constexpr size_t kMaxFingerprintLength = 4096;

/// The fingerprint a weights or parameters file records in its metadata.
Expected<std::string> getFingerprint(const SafeTensorsFile &file) {
  const std::map<std::string, std::string> &metadata = file.getMetadata();
  auto it = metadata.find(kFingerprintMetadataKey.str());
  if (it == metadata.end())
    return makeError(file.getPath() + ": no '" + kFingerprintMetadataKey +
                     "' in its __metadata__: it was not written for a qaf "
                     "artifact");
  return it->second;
}

std::string listNames(ArrayRef<TensorSpec> specs) {
  std::string names;
  for (const TensorSpec &spec : specs)
    names += (names.empty() ? "" : ", ") + spec.name;
  return names.empty() ? "none" : names;
}

/// `tensor`, or a copy of it in aligned storage when its bytes do not start
/// on an element boundary (generated code assumes they do).
HostTensor alignForCall(const HostTensor &tensor) {
  size_t alignment = getDTypeSize(tensor.getDType());
  if (reinterpret_cast<uintptr_t>(tensor.getData()) % alignment == 0)
    return tensor;
  HostTensor copy = HostTensor::allocate(tensor.getDType(), tensor.getShape());
  std::memcpy(copy.getMutableData(), tensor.getData(), tensor.getNumBytes());
  return copy;
}

} // namespace

Error checkShape(const TensorSpec &spec, ArrayRef<int64_t> shape,
                 StringRef what, DimBindings &bindings,
                 StringMap<std::string> &boundBy) {
  if (int64_t(shape.size()) != spec.getRank())
    return makeError(what + ": rank " + Twine(shape.size()) + " (shape " +
                     formatShape(shape) + "), expected rank " +
                     Twine(spec.getRank()) + " (" + spec.describe() + ")");
  for (auto [d, dim] : enumerate(spec.shape)) {
    int64_t size = shape[d];
    if (dim.isStatic()) {
      if (size != dim.size)
        return makeError(what + ": dimension " + Twine(d) + " is " +
                         Twine(size) + ", expected " + Twine(dim.size) + " (" +
                         spec.describe() + ", got shape " + formatShape(shape) +
                         ")");
      continue;
    }
    if (!dim.isNamed())
      continue;
    auto [it, inserted] = bindings.try_emplace(dim.symbol, size);
    if (inserted) {
      boundBy[dim.symbol] = what.str();
      continue;
    }
    if (it->second != size)
      return makeError(what + ": dimension " + Twine(d) + " ('" + dim.symbol +
                       "') is " + Twine(size) + ", but " + boundBy[dim.symbol] +
                       " bound '" + dim.symbol + "' to " + Twine(it->second));
  }
  return Error::success();
}

Expected<std::vector<NamedTensor>> collectOutputs(
    const EntryPoint &entry, ArrayRef<const TensorSpec *> returned,
    DimBindings &bindings,
    function_ref<Expected<HostTensor>(size_t, const TensorSpec &, StringRef)>
        makeTensor) {
  std::vector<NamedTensor> outputs;
  StringMap<std::string> boundBy;
  for (const auto &binding : bindings)
    boundBy[binding.getKey()] = "the inputs";
  for (auto [i, output] : enumerate(returned)) {
    std::string what =
        "output '" + output->name + "' of entry point '" + entry.name + "'";
    Expected<HostTensor> tensor = makeTensor(i, *output, what);
    if (!tensor)
      return tensor.takeError();
    if (Error error =
            checkShape(*output, tensor->getShape(), what, bindings, boundBy))
      return makeError("the library returned a shape its manifest does not "
                       "allow: " +
                       toString(std::move(error)));
    outputs.push_back({output->name, std::move(*tensor)});
  }
  return outputs;
}

ReturnedOutputs getReturnedOutputs(const EntryPoint &entry) {
  ReturnedOutputs returned;
  for (const TensorSpec &output : entry.outputs)
    if (output.writtenInto.empty()) {
      returned.specs.push_back(&output);
      returned.ranks.push_back(output.getRank());
    }
  return returned;
}

std::optional<int64_t> evaluateDimSymbol(StringRef symbol,
                                         const DimBindings &bindings) {
  if (auto it = bindings.find(symbol); it != bindings.end())
    return it->second;
  if (!symbol.contains('+'))
    return std::nullopt;
  SmallVector<StringRef> terms;
  symbol.split(terms, '+');
  int64_t sum = 0;
  for (StringRef term : terms) {
    term = term.trim();
    int64_t value = 0;
    if (term.getAsInteger(10, value)) {
      auto it = bindings.find(term);
      if (term.empty() || it == bindings.end())
        return std::nullopt;
      value = it->second;
    }
    sum += value;
  }
  return sum;
}

namespace {
/// The dimensions of `specs` named by a sum of names (`past_sequence_length
/// + sequence_length`) must be that sum of the sizes bound to the names: an
/// attention mask as long as the past and the new tokens together.
Error checkDimSums(ArrayRef<TensorSpec> specs,
                   ArrayRef<const HostTensor *> tensors,
                   const DimBindings &bindings,
                   const StringMap<std::string> &boundBy) {
  for (auto [spec, tensor] : zip_equal(specs, tensors)) {
    if (!tensor)
      continue;
    for (auto [d, dim] : enumerate(spec.shape)) {
      if (!dim.isNamed() || !StringRef(dim.symbol).contains('+'))
        continue;
      DimBindings terms = bindings;
      terms.erase(dim.symbol);
      std::optional<int64_t> sum = evaluateDimSymbol(dim.symbol, terms);
      int64_t size = tensor->getShape()[d];
      if (!sum || *sum == size)
        continue;
      SmallVector<StringRef> names;
      StringRef(dim.symbol).split(names, '+');
      std::string values, sources;
      for (StringRef name : names) {
        name = name.trim();
        auto bound = terms.find(name);
        values +=
            (values.empty() ? "" : " + ") +
            (bound == terms.end() ? name.str() : std::to_string(bound->second));
        if (auto source = boundBy.find(name); source != boundBy.end())
          sources += (sources.empty() ? "" : ", ") + name.str() + " from " +
                     source->second;
      }
      return makeError("input '" + spec.name + "': dimension " + Twine(d) +
                       " ('" + dim.symbol + "') is " + Twine(size) + ", but " +
                       dim.symbol + " = " + values + " = " + Twine(*sum) +
                       " (" + sources + ")");
    }
  }
  return Error::success();
}
} // namespace

Error checkEntryPointInputs(const EntryPoint &entry,
                            ArrayRef<NamedTensor> inputs,
                            DimBindings &bindings) {
  // The past length of a cache written in place is the runtime's to give.
  bool runtimeGivesLength = entry.hasOutputsWrittenIntoInputs();
  auto isGivenByCaller = [&](const TensorSpec &spec) {
    return !runtimeGivesLength || spec.name != kCacheLengthInput;
  };
  StringMap<const NamedTensor *> given;
  for (const NamedTensor &input : inputs) {
    bool known = any_of(entry.inputs, [&](const TensorSpec &spec) {
      return spec.name == input.name && isGivenByCaller(spec);
    });
    if (!known)
      return makeError("unknown input '" + input.name + "': entry point '" +
                       entry.name + "' takes " + listNames(entry.inputs));
    if (!given.try_emplace(input.name, &input).second)
      return makeError("input '" + input.name + "' is given twice");
  }
  StringMap<std::string> boundBy;
  std::vector<const HostTensor *> tensors;
  for (const TensorSpec &spec : entry.inputs) {
    if (!isGivenByCaller(spec)) {
      tensors.push_back(nullptr);
      continue;
    }
    auto it = given.find(spec.name);
    if (it == given.end())
      return makeError("missing input '" + spec.name + "' (" + spec.describe() +
                       ") of entry point '" + entry.name + "'");
    const HostTensor &tensor = it->second->tensor;
    tensors.push_back(&tensor);
    std::string what = "input '" + spec.name + "'";
    if (tensor.getDType() != spec.dtype)
      return makeError(what + ": dtype " + getDTypeName(tensor.getDType()) +
                       ", expected " + getDTypeName(spec.dtype) + " (" +
                       spec.describe() + ")");
    if (Error error =
            checkShape(spec, tensor.getShape(), what, bindings, boundBy))
      return error;
  }
  return checkDimSums(entry.inputs, tensors, bindings, boundBy);
}

std::string Artifact::pathOf(StringRef file) const {
  SmallString<256> path(directory);
  sys::path::append(path, file);
  return std::string(path);
}

Expected<std::unique_ptr<Artifact>>
Artifact::load(StringRef dir, const ArtifactOptions &options) {
  if (!sys::fs::is_directory(dir))
    return makeError("artifact '" + dir + "' is not a folder (expected " +
                     "manifest.json, model.so and weights.safetensors in it)");
  std::unique_ptr<Artifact> artifact(new Artifact());
  artifact->directory = dir.str();
  Expected<Manifest> manifest =
      readManifestFile(artifact->pathOf("manifest.json"));
  if (!manifest)
    return manifest.takeError();
  artifact->manifest = std::move(*manifest);
  if (Error error = artifact->checkTarget(options.device))
    return std::move(error);
  if (Error error = artifact->checkFilesInsideFolder())
    return std::move(error);

  Expected<std::unique_ptr<SafeTensorsFile>> weights =
      SafeTensorsFile::open(artifact->pathOf(artifact->manifest.weights));
  if (!weights)
    return weights.takeError();
  artifact->weights = std::move(*weights);
  if (!artifact->manifest.parameters.empty()) {
    Expected<std::unique_ptr<SafeTensorsFile>> parameters =
        SafeTensorsFile::open(artifact->pathOf(artifact->manifest.parameters));
    if (!parameters)
      return parameters.takeError();
    artifact->parametersFile = std::move(*parameters);
  }

  if (artifact->device.kind == TargetKind::CUDA)
    if (Error error = artifact->openCudaDevice())
      return std::move(error);
  if (Error error = artifact->openLibrary())
    return std::move(error);
  // Nothing of a library that fails the checks has run yet (no OpenMP
  // threads exist), so it can be unloaded.
  Error error = artifact->checkFingerprints();
  if (!error)
    error = artifact->checkLibraryABI();
  if (!error && artifact->parametersFile)
    error = artifact->copyParameters(*artifact->parametersFile);
  if (!error)
    error = artifact->bindEntryPoints();
  if (!error && options.verifyContent)
    error = artifact->checkWeightsContent();
  if (!error && artifact->cuda)
    error = artifact->uploadTensors();
  if (!error)
    error = artifact->setThreads(options);
  if (error) {
    dlclose(artifact->library);
    return std::move(error);
  }
  return artifact;
}

Error Artifact::checkFilesInsideFolder() const {
  // The manifest's parser refused absolute paths and '..'; what remains is
  // a symbolic link inside the folder that points out of it.
  SmallString<256> root;
  if (std::error_code ec = sys::fs::real_path(directory, root))
    return makeError("cannot resolve artifact folder '" + directory +
                     "': " + ec.message());
  for (StringRef file :
       {StringRef(manifest.library), StringRef(manifest.weights),
        StringRef(manifest.parameters)}) {
    if (file.empty())
      continue;
    std::string path = pathOf(file);
    SmallString<256> resolved;
    // A missing file is reported by whoever opens it.
    if (sys::fs::real_path(path, resolved))
      continue;
    StringRef relative = resolved;
    if (!relative.consume_front(root) ||
        !(relative.empty() || sys::path::is_separator(relative.front())))
      return makeError("'" + path + "' resolves to '" + resolved +
                       "', outside the artifact folder '" + directory +
                       "': an artifact's files must be inside it");
  }
  return Error::success();
}

Error Artifact::checkTarget(const std::optional<DeviceSpec> &requested) {
  const TargetDescription &target = manifest.target;
  device.kind = target.kind;
  if (!requested)
    return Error::success();
  device = *requested;
  if (requested->kind == target.kind)
    return Error::success();
  // Never the CPU artifact for a GPU request or the other way round: the
  // user would measure or train something else than they asked for.
  std::string what = getTargetKindName(target.kind).str();
  if (!target.arch.empty())
    what += " " + target.arch;
  return makeError(
      "artifact '" + directory + "' is compiled for " + what + " (" +
      getBinaryKindName(target.binary) + "): it cannot run on " +
      requested->str() + " (compile the model with --target=" +
      getTargetKindName(requested->kind) + ", or run it with --device " +
      (target.kind == TargetKind::CPU ? "cpu" : "cuda:<N>") + ")");
}

Error Artifact::openLibrary() {
  std::string path = pathOf(manifest.library);
  // dlopen searches the library path for a name without a slash: make sure
  // the artifact's own file is the one loaded.
  SmallString<256> absolute(path);
  if (std::error_code ec = sys::fs::make_absolute(absolute))
    return createStringError(ec, "cannot resolve '%s': %s", path.c_str(),
                             ec.message().c_str());
  if (!sys::fs::exists(absolute))
    return makeError("cannot read '" + path + "': No such file or directory");
  dlerror();
  // A cuda library's constructor loads its kernels through qaf's CUDA
  // runtime, which keeps the first error for the runtime to report.
  if (cuda)
    cuda->clearError();
  library = dlopen(absolute.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    return makeError("cannot load '" + path +
                     "': " + (reason ? reason : "unknown dlopen error"));
  }
  if (!cuda)
    return Error::success();
  if (Error error = cuda->takeError()) {
    cuda->clearError();
    dlclose(library);
    library = nullptr;
    return makeError("cannot load the kernels of '" + path + "' on " +
                     device.str() + ": " + toString(std::move(error)));
  }
  return Error::success();
}

Error Artifact::checkFingerprints() {
  std::string libraryPath = pathOf(manifest.library);
  std::string manifestPath = pathOf("manifest.json");
  const char *symbol =
      static_cast<const char *>(dlsym(library, kFingerprintSymbol.data()));
  if (!symbol)
    return makeError(libraryPath + ": does not define " + kFingerprintSymbol +
                     ": it is not a qaf artifact library");
  std::string libraryFingerprint(symbol,
                                 strnlen(symbol, kMaxFingerprintLength));
  // (file, fingerprint), the manifest's first.
  SmallVector<std::pair<std::string, std::string>> fingerprints = {
      {manifestPath, manifest.fingerprint}, {libraryPath, libraryFingerprint}};
  for (const SafeTensorsFile *file : {weights.get(), parametersFile.get()}) {
    if (!file)
      continue;
    Expected<std::string> fingerprint = getFingerprint(*file);
    if (!fingerprint)
      return fingerprint.takeError();
    fingerprints.push_back({file->getPath(), *fingerprint});
  }
  if (all_of(fingerprints, [&](const auto &each) {
        return each.second == manifest.fingerprint;
      }))
    return Error::success();
  std::string list;
  for (const auto &[path, fingerprint] : fingerprints)
    list += (list.empty() ? "'" : ", '") + path + "' has '" + fingerprint + "'";
  return makeError("artifact '" + directory +
                   "' was built for another model/weights: the fingerprints "
                   "differ: " +
                   list);
}

Error Artifact::checkLibraryABI() {
  std::string libraryPath = pathOf(manifest.library);
  const char *symbol =
      static_cast<const char *>(dlsym(library, kABISymbol.data()));
  if (!symbol)
    return makeError(libraryPath + ": does not define " + kABISymbol +
                     " (its description of itself): it was compiled by an "
                     "older qaf-compile; recompile the model");
  Expected<LibraryABI> abi =
      parseLibraryABI(StringRef(symbol, strnlen(symbol, kMaxABILength)),
                      libraryPath + ": " + kABISymbol.str());
  if (!abi)
    return abi.takeError();
  if (Error mismatch = checkManifestMatchesLibrary(manifest, *abi, libraryPath))
    return mismatch;
  libraryABI = std::move(*abi);
  return Error::success();
}

namespace {
/// Hashes the tensors `specs` name in `file` (in their order) as the
/// compiler did for `recorded`.
ContentCheck checkContent(const SafeTensorsFile &file,
                          ArrayRef<TensorSpec> specs, StringRef recorded) {
  std::vector<ArrayRef<char>> tensors;
  for (const TensorSpec &spec : specs)
    if (const SafeTensorInfo *info = file.lookup(spec.name))
      tensors.push_back(file.getBytes(*info));
  return {file.getPath(), recorded.str(), hashTensorContents(tensors)};
}

/// The library's tensors, in its order: the hashes cover every entry point
/// it was compiled with, also those a manifest leaves out.
Manifest getCompiledTensors(const LibraryABI &abi) {
  Manifest compiled;
  compiled.entryPoints = abi.entryPoints;
  return compiled;
}
} // namespace

Error Artifact::checkWeightsContent() const {
  // The parameters file is left out: its values are the parameters'
  // starting point, which a trained checkpoint may replace.
  ContentCheck check =
      checkContent(*weights, getCompiledTensors(libraryABI).getAllWeights(),
                   libraryABI.weightsHash);
  if (check.matches())
    return Error::success();
  return makeError(check.path + ": its content hash is " + check.actual +
                   ", but the library recorded " + check.recorded +
                   " when it was compiled: the weights were changed or "
                   "belong to another model");
}

std::vector<ContentCheck> Artifact::verifyContent() const {
  Manifest compiled = getCompiledTensors(libraryABI);
  std::vector<ContentCheck> checks = {
      checkContent(*weights, compiled.getAllWeights(), libraryABI.weightsHash)};
  if (parametersFile)
    checks.push_back(checkContent(*parametersFile, compiled.getAllParameters(),
                                  libraryABI.parametersHash));
  return checks;
}

Error Artifact::copyParameters(const SafeTensorsFile &file) {
  // Check everything before changing anything.
  std::vector<std::pair<const TensorSpec *, const SafeTensorInfo *>> sources;
  StringSet<> seen;
  for (const EntryPoint &entry : manifest.entryPoints)
    for (const TensorSpec &spec : entry.parameters) {
      if (!seen.insert(spec.name).second)
        continue;
      const SafeTensorInfo *info = file.lookup(spec.name);
      if (!info)
        return makeError(file.getPath() + ": no tensor '" + spec.name +
                         "' (a parameter of entry point '" + entry.name + "')");
      std::vector<int64_t> shape = spec.getStaticShape();
      if (info->dtype != spec.dtype ||
          ArrayRef<int64_t>(info->shape) != ArrayRef<int64_t>(shape))
        return makeError(file.getPath() + ": parameter '" + spec.name +
                         "' is " + getDTypeName(info->dtype) +
                         formatShape(info->shape) + ", but entry point '" +
                         entry.name + "' expects " + spec.describe());
      sources.push_back({&spec, info});
    }
  for (auto [spec, info] : sources) {
    // Private writable memory: entry points update parameters in place, and
    // the file stays as it was until saveParameters replaces it.
    auto [it, inserted] = parameters.try_emplace(spec->name);
    if (inserted)
      it->second = HostTensor::allocate(spec->dtype, spec->getStaticShape());
    ArrayRef<char> bytes = file.getBytes(*info);
    std::memcpy(it->second.getMutableData(), bytes.data(), bytes.size());
  }
  return Error::success();
}

std::optional<HostTensor> Artifact::getParameter(StringRef name) const {
  auto it = parameters.find(name);
  if (it == parameters.end())
    return std::nullopt;
  return it->second;
}

Error Artifact::saveParameters(StringRef path) {
  if (parameters.empty())
    return makeError("artifact '" + directory + "' has no parameters to save");
  if (Error error = downloadParameters())
    return error;
  std::vector<SafeTensorsEntry> entries;
  for (const TensorSpec &spec : manifest.getAllParameters()) {
    const HostTensor &buffer = parameters.find(spec.name)->second;
    entries.push_back({spec.name, spec.dtype,
                       SmallVector<int64_t, 4>(buffer.getShape()),
                       buffer.getBytes()});
  }
  return writeSafeTensors(
      path, entries, {{kFingerprintMetadataKey.str(), manifest.fingerprint}});
}

Error Artifact::loadParameters(StringRef path) {
  if (parameters.empty())
    return makeError("artifact '" + directory + "' has no parameters to load");
  Expected<std::unique_ptr<SafeTensorsFile>> file = SafeTensorsFile::open(path);
  if (!file)
    return file.takeError();
  Expected<std::string> fingerprint = getFingerprint(**file);
  if (!fingerprint)
    return fingerprint.takeError();
  if (*fingerprint != manifest.fingerprint)
    return makeError(path +
                     ": its parameters belong to the artifact with "
                     "fingerprint '" +
                     *fingerprint + "', but artifact '" + directory +
                     "' has '" + manifest.fingerprint + "'");
  if (Error error = copyParameters(**file))
    return error;
  return uploadParameters();
}

Error Artifact::bindEntryPoints() {
  std::string libraryPath = pathOf(manifest.library);
  lastError =
      reinterpret_cast<LastErrorFunction>(dlsym(library, "qaf_last_error"));
  if (!lastError)
    return makeError(libraryPath +
                     ": does not define qaf_last_error (a library compiled "
                     "before entry points returned a status: recompile it)");
  for (const EntryPoint &entry : manifest.entryPoints) {
    LoadedEntryPoint loaded;
    loaded.entry = &entry;
    loaded.function =
        reinterpret_cast<EntryFunction>(dlsym(library, entry.symbol.c_str()));
    if (!loaded.function)
      return makeError(libraryPath + ": does not define " + entry.symbol +
                       " (entry point '" + entry.name + "' of the manifest)");
    for (const TensorSpec &spec : entry.weights) {
      const SafeTensorInfo *info = weights->lookup(spec.name);
      if (!info)
        return makeError(weights->getPath() + ": no tensor '" + spec.name +
                         "' (a weight of entry point '" + entry.name + "')");
      std::vector<int64_t> shape = spec.getStaticShape();
      if (info->dtype != spec.dtype ||
          ArrayRef<int64_t>(info->shape) != ArrayRef<int64_t>(shape))
        return makeError(weights->getPath() + ": weight '" + spec.name +
                         "' is " + getDTypeName(info->dtype) +
                         formatShape(info->shape) + ", but entry point '" +
                         entry.name + "' expects " + spec.describe());
      loaded.weights.push_back(alignForCall(weights->getTensor(*info)));
    }
    for (const TensorSpec &spec : entry.parameters)
      loaded.parameters.push_back(parameters.find(spec.name)->second);
    entryPoints.push_back(std::move(loaded));
  }
  return Error::success();
}

/// The thread limit on any machine: 4 times the hardware threads, at least
/// this many.
static constexpr unsigned kMinThreadLimit = 256;

Error Artifact::setThreads(const ArtifactOptions &options) {
  using SetNumThreads = void (*)(int);
  using GetMaxThreads = int (*)();
  auto setNumThreads =
      reinterpret_cast<SetNumThreads>(dlsym(library, "omp_set_num_threads"));
  auto getMaxThreads =
      reinterpret_cast<GetMaxThreads>(dlsym(library, "omp_get_max_threads"));

  std::optional<int> requested = options.numThreads;
  if (requested && *requested < 1)
    return makeError("the thread count must be at least 1, not " +
                     Twine(*requested));
  std::string source; // where the count came from, for errors
  if (!requested) {
    if (std::optional<std::string> text =
            sys::Process::GetEnv(kNumThreadsVariable)) {
      int count = 0;
      if (StringRef(*text).trim().getAsInteger(10, count) || count < 1)
        return makeError(kNumThreadsVariable + "='" + *text +
                         "' is not a positive integer");
      source = (kNumThreadsVariable + "='" + *text + "': ").str();
      requested = count;
    }
  }
  // Far more threads than the machine has only slow a run down, and libomp
  // aborts the process when it cannot create them: refuse here instead.
  unsigned hardwareThreads =
      std::max(hardware_concurrency().compute_thread_count(), 1u);
  unsigned maxThreads = std::max(4 * hardwareThreads, kMinThreadLimit);
  if (requested && static_cast<unsigned>(*requested) > maxThreads)
    return makeError(source + "the thread count " + Twine(*requested) +
                     " is too large: at most " + Twine(maxThreads) +
                     " (this machine has " + Twine(hardwareThreads) +
                     " hardware threads)");
  bool ompDefault = !requested && sys::Process::GetEnv("OMP_NUM_THREADS");
  if (!requested && !ompDefault)
    requested = hardware_concurrency().compute_thread_count();

  if (!setNumThreads) {
    // Code without OpenMP runs on the calling thread.
    numThreads = std::nullopt;
    return Error::success();
  }
  if (requested)
    setNumThreads(*requested);
  numThreads = getMaxThreads ? getMaxThreads() : requested.value_or(1);
  return Error::success();
}

Expected<const Artifact::LoadedEntryPoint *>
Artifact::findLoadedEntryPoint(StringRef name) const {
  auto found = find_if(entryPoints, [&](const LoadedEntryPoint &loaded) {
    return loaded.entry->name == name;
  });
  if (found == entryPoints.end())
    return makeError("artifact '" + directory + "' has no entry point '" +
                     name + "' (it has " + manifest.listEntryPoints() + ")");
  return &*found;
}

namespace {
/// `inputs` by name, in the order of `entry`'s inputs; `extra` supplies
/// what `inputs` leaves out.
std::vector<HostTensor>
orderInputs(const EntryPoint &entry, ArrayRef<NamedTensor> inputs,
            function_ref<HostTensor(const TensorSpec &)> extra) {
  std::vector<HostTensor> ordered;
  for (const TensorSpec &spec : entry.inputs) {
    const NamedTensor *input = find_if(inputs, [&](const NamedTensor &each) {
      return each.name == spec.name;
    });
    ordered.push_back(input != inputs.end() ? input->tensor : extra(spec));
  }
  return ordered;
}
} // namespace

Expected<std::vector<NamedTensor>> Artifact::run(StringRef entryName,
                                                 ArrayRef<NamedTensor> inputs) {
  Expected<const LoadedEntryPoint *> found = findLoadedEntryPoint(entryName);
  if (!found)
    return found.takeError();
  const EntryPoint &entry = *(*found)->entry;
  DimBindings bindings;
  if (Error error = checkEntryPointInputs(entry, inputs, bindings))
    return std::move(error);
  if (!entry.hasOutputsWrittenIntoInputs())
    return call(**found, orderInputs(entry, inputs, nullptr), bindings);

  // The caches' past in buffers with room for exactly the present, which
  // are then the present outputs.
  CacheBuffers cache;
  std::optional<int64_t> pastLength;
  std::vector<NamedTensor> otherInputs;
  StringMap<const TensorSpec *> writtenInto;
  for (const TensorSpec &output : entry.outputs)
    if (!output.writtenInto.empty())
      writtenInto[output.writtenInto] = &output;
  for (const NamedTensor &input : inputs) {
    auto tie = writtenInto.find(input.name);
    if (tie == writtenInto.end()) {
      otherInputs.push_back(input);
      continue;
    }
    const TensorSpec &output = *tie->second;
    ArrayRef<int64_t> past = input.tensor.getShape();
    if (pastLength && *pastLength != past[2])
      return makeError("input '" + input.name + "': its past holds " +
                       Twine(past[2]) + " positions, another cache input's " +
                       Twine(*pastLength) +
                       ": the caches must be equally long");
    pastLength = past[2];
    std::optional<int64_t> total =
        output.shape[2].isNamed()
            ? evaluateDimSymbol(output.shape[2].symbol, bindings)
            : std::nullopt;
    if (!total || *total < past[2])
      return makeError("output '" + output.name + "' (" + output.describe() +
                       "): its length cannot be told from the inputs");
    HostTensor buffer = HostTensor::allocate(
        input.tensor.getDType(), {past[0], past[1], *total, past[3]});
    size_t rowBytes = past[3] * getDTypeSize(input.tensor.getDType());
    for (int64_t block = 0; block < past[0] * past[1]; ++block)
      std::memcpy(buffer.getMutableData() + block * *total * rowBytes,
                  input.tensor.getData() + block * past[2] * rowBytes,
                  past[2] * rowBytes);
    cache.buffers[input.name] = buffer;
  }
  cache.length = pastLength.value_or(0);
  Expected<std::vector<NamedTensor>> returned =
      runWithCache(entryName, otherInputs, cache);
  if (!returned)
    return returned.takeError();
  if (Error error = downloadCache(cache))
    return std::move(error);
  std::vector<NamedTensor> outputs;
  auto next = returned->begin();
  for (const TensorSpec &output : entry.outputs)
    outputs.push_back(
        output.writtenInto.empty()
            ? std::move(*next++)
            : NamedTensor{output.name, cache.buffers[output.writtenInto]});
  return outputs;
}

Expected<std::vector<NamedTensor>>
Artifact::runWithCache(StringRef entryName, ArrayRef<NamedTensor> inputs,
                       CacheBuffers &cache) {
  Expected<const LoadedEntryPoint *> found = findLoadedEntryPoint(entryName);
  if (!found)
    return found.takeError();
  const EntryPoint &entry = *(*found)->entry;
  if (!entry.hasOutputsWrittenIntoInputs())
    return makeError("entry point '" + entryName +
                     "' writes no output into a cache input");
  // Each buffer stands for its past (the first `length` positions) in the
  // checks of the inputs.
  std::vector<NamedTensor> checked(inputs.begin(), inputs.end());
  for (const TensorSpec &output : entry.outputs) {
    if (output.writtenInto.empty())
      continue;
    auto buffer = cache.buffers.find(output.writtenInto);
    if (buffer == cache.buffers.end())
      return makeError("no cache buffer for input '" + output.writtenInto +
                       "'");
    const HostTensor &tensor = buffer->second;
    if (tensor.getRank() != 4 || !tensor.isWritable() ||
        tensor.getShape()[2] < cache.length)
      return makeError("input '" + output.writtenInto + "': the cache buffer " +
                       tensor.describe() +
                       " is not a writable [batch, heads, capacity, head "
                       "size] holding the past's " +
                       Twine(cache.length) + " positions");
    SmallVector<int64_t, 4> past(tensor.getShape());
    past[2] = cache.length;
    checked.push_back(
        {output.writtenInto, HostTensor::borrow(tensor.getDType(), past,
                                                tensor.getData(), nullptr)});
  }
  DimBindings bindings;
  if (Error error = checkEntryPointInputs(entry, checked, bindings))
    return std::move(error);
  std::optional<int64_t> total;
  for (const TensorSpec &output : entry.outputs) {
    if (output.writtenInto.empty())
      continue;
    std::optional<int64_t> length =
        output.shape[2].isNamed()
            ? evaluateDimSymbol(output.shape[2].symbol, bindings)
            : std::nullopt;
    if (!length || *length < cache.length || (total && *total != *length))
      return makeError("output '" + output.name + "' (" + output.describe() +
                       "): its length cannot be told from the inputs");
    total = length;
    int64_t capacity = cache.buffers[output.writtenInto].getShape()[2];
    if (*length > capacity)
      return makeError("input '" + output.writtenInto + "': the cache holds " +
                       Twine(capacity) + " positions, the call needs " +
                       Twine(*length) + " (the past's " + Twine(cache.length) +
                       " and " + Twine(*length - cache.length) + " new)");
  }
  HostTensor length = HostTensor::allocate(DType::Int64, {});
  *reinterpret_cast<int64_t *>(length.getMutableData()) = cache.length;
  Expected<std::vector<NamedTensor>> outputs =
      call(**found,
           orderInputs(entry, inputs,
                       [&](const TensorSpec &spec) {
                         return spec.name == kCacheLengthInput
                                    ? length
                                    : cache.buffers[spec.name];
                       }),
           bindings, &cache);
  if (outputs)
    cache.length = *total;
  return outputs;
}

Expected<std::vector<NamedTensor>>
Artifact::call(const LoadedEntryPoint &loaded, ArrayRef<HostTensor> inputs,
               DimBindings &bindings, CacheBuffers *cache) {
  if (cuda)
    return callOnCudaDevice(loaded, inputs, bindings, cache);
  const EntryPoint &entry = *loaded.entry;
  auto [returned, resultRanks] = getReturnedOutputs(entry);
  // Operands: weights, parameters, inputs, each in manifest order.
  EntryPointArguments arguments(resultRanks);
  DenseSet<const void *> operandPointers;
  for (ArrayRef<HostTensor> tensors :
       {ArrayRef(loaded.weights), ArrayRef(loaded.parameters)})
    for (const HostTensor &tensor : tensors) {
      arguments.addOperand(tensor.getData(), tensor.getShape());
      operandPointers.insert(tensor.getData());
    }
  // `callInputs` keeps aligned copies alive.
  std::vector<HostTensor> callInputs;
  for (const HostTensor &input : inputs) {
    callInputs.push_back(alignForCall(input));
    arguments.addOperand(callInputs.back().getData(),
                         callInputs.back().getShape());
    operandPointers.insert(callInputs.back().getData());
  }

  // A failed check leaves no outputs: the entry point freed them.
  if (int32_t status = loaded.function(arguments.getArgs()))
    return makeError("entry point '" + entry.name + "' failed (status " +
                     Twine(status) + "): " + lastError());

  // Take ownership of every distinct allocation before checking anything,
  // so that an error below frees them all exactly once.
  DenseMap<void *, std::shared_ptr<const void>> allocations;
  std::optional<std::string> aliasedOutput;
  for (auto [i, output] : enumerate(returned)) {
    void *allocated = arguments.getResult(i).getAllocated();
    if (!allocated || allocations.count(allocated))
      continue;
    if (operandPointers.contains(allocated)) {
      // Not ours to free: the ABI says outputs are fresh allocations.
      aliasedOutput = output->name;
      continue;
    }
    allocations[allocated] = std::shared_ptr<const void>(
        allocated, [](const void *p) { std::free(const_cast<void *>(p)); });
  }
  if (aliasedOutput)
    return makeError("entry point '" + entry.name + "' returned output '" +
                     *aliasedOutput +
                     "' in the memory of a weight, parameter or input (the ABI "
                     "wants a "
                     "fresh malloc allocation): the library is broken");

  return collectOutputs(
      entry, returned, bindings,
      [&](size_t i, const TensorSpec &output, StringRef what) {
        MemRefDescriptorView descriptor = arguments.getResult(i);
        return makeResultTensor(descriptor, output.dtype,
                                allocations.lookup(descriptor.getAllocated()),
                                what);
      });
}

} // namespace qaf
