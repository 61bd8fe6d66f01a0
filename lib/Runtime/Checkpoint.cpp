//===- Checkpoint.cpp - training checkpoints ------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Checkpoint.h"
#include "qaf/Support/Error.h"

#include "qaf/Runtime/SafeTensors.h"
#include "qaf/Support/AtomicFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <map>

using namespace llvm;

namespace qaf {

namespace {

// The metadata keys besides kFingerprintMetadataKey.
constexpr StringLiteral kLayoutKey = "qaf.checkpoint.layout";
constexpr StringLiteral kStepKey = "qaf.checkpoint.step";
constexpr StringLiteral kSamplerKey = "qaf.checkpoint.sampler";

constexpr StringLiteral kCheckpointPrefix = "step-";
constexpr StringLiteral kCheckpointExtension = ".safetensors";

std::string joinPath(StringRef folder, StringRef name) {
  SmallString<256> path(folder);
  sys::path::append(path, name);
  return std::string(path);
}

std::string describeTensor(StringRef name, DType dtype,
                           ArrayRef<int64_t> shape) {
  return name.str() + ": " + getDTypeName(dtype).str() + formatShape(shape);
}

/// The checkpoint files in `folder` (`step-*.safetensors`) and the
/// temporaries of checkpoints whose writer was killed
/// (`step-*.safetensors.tmp-*`, qaf::AtomicFile's names).
std::vector<std::string> listCheckpointFiles(StringRef folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (sys::fs::directory_iterator it(folder, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = sys::path::filename(it->path());
    if (name.starts_with(kCheckpointPrefix) &&
        (name.ends_with(kCheckpointExtension) ||
         name.contains((kCheckpointExtension + ".tmp-").str())))
      names.push_back(name.str());
  }
  return names;
}

} // namespace

std::string describeCheckpointLayout(ArrayRef<NamedTensor> tensors) {
  return join(map_range(tensors,
                        [](const NamedTensor &each) {
                          return describeTensor(each.name,
                                                each.tensor.getDType(),
                                                each.tensor.getShape());
                        }),
              "; ");
}

Expected<std::string> saveCheckpoint(StringRef folder,
                                     ArrayRef<NamedTensor> tensors,
                                     const CheckpointState &state,
                                     StringRef artifactFingerprint) {
  if (std::error_code ec = sys::fs::create_directories(folder))
    return makeError("cannot create checkpoint folder '" + folder +
                     "': " + ec.message());
  std::string previous;
  if (Expected<std::string> latest = findLatestCheckpoint(folder))
    previous = sys::path::filename(*latest).str();
  else
    consumeError(latest.takeError());

  std::string name = (kCheckpointPrefix +
                      formatv("{0:d8}", static_cast<uint64_t>(state.step)) +
                      kCheckpointExtension)
                         .str();
  std::string path = joinPath(folder, name);
  std::vector<SafeTensorsEntry> entries;
  for (const NamedTensor &each : tensors)
    entries.push_back({each.name, each.tensor.getDType(),
                       SmallVector<int64_t, 4>(each.tensor.getShape()),
                       each.tensor.getBytes()});
  std::map<std::string, std::string> metadata = {
      {kFingerprintMetadataKey.str(), artifactFingerprint.str()},
      {kLayoutKey.str(), describeCheckpointLayout(tensors)},
      {kStepKey.str(), std::to_string(state.step)},
      {kSamplerKey.str(), state.sampler.str()}};
  if (Error error = writeSafeTensors(path, entries, metadata))
    return makeError(
        "checkpoint at step " + Twine(state.step) +
        " not saved (the previous one is kept): " + toString(std::move(error)));

  // `latest` moves only once the checkpoint it names is on disk.
  std::string latestPath = joinPath(folder, kLatestCheckpointFile);
  Expected<std::unique_ptr<AtomicFile>> latest = AtomicFile::create(latestPath);
  if (!latest)
    return latest.takeError();
  (*latest)->os() << name << "\n";
  if (Error error = (*latest)->commit())
    return makeError(
        "checkpoint at step " + Twine(state.step) + " written, but '" +
        latestPath +
        "' still names the previous one: " + toString(std::move(error)));

  // One process trains into a folder: any other temporary is a leftover.
  for (const std::string &old : listCheckpointFiles(folder))
    if (old != name && old != previous)
      sys::fs::remove(joinPath(folder, old));
  return path;
}

Expected<std::string> findLatestCheckpoint(StringRef folder) {
  std::string latestPath = joinPath(folder, kLatestCheckpointFile);
  Expected<std::unique_ptr<MemoryBuffer>> latest = readTensorFile(latestPath);
  if (!latest)
    return makeError("no checkpoint in '" + folder +
                     "': " + toString(latest.takeError()));
  StringRef name = (*latest)->getBuffer().trim();
  if (!name.starts_with(kCheckpointPrefix) ||
      !name.ends_with(kCheckpointExtension) ||
      name.find_first_of("/\\") != StringRef::npos)
    return makeError(latestPath + ": '" + name +
                     "' is not the name of a checkpoint file (corrupt)");
  return joinPath(folder, name);
}

Expected<CheckpointState> restoreCheckpoint(StringRef folder,
                                            ArrayRef<NamedTensor> tensors,
                                            StringRef artifactFingerprint) {
  Expected<std::string> path = findLatestCheckpoint(folder);
  if (!path)
    return path.takeError();
  Expected<std::unique_ptr<SafeTensorsFile>> file =
      SafeTensorsFile::open(*path);
  if (!file)
    return makeError("checkpoint " + toString(file.takeError()));
  const std::map<std::string, std::string> &metadata = (*file)->getMetadata();
  auto lookup = [&](StringLiteral key) -> Expected<std::string> {
    auto it = metadata.find(key.str());
    if (it == metadata.end())
      return makeError(*path + ": no '" + key +
                       "' in its __metadata__: not a qaf checkpoint");
    return it->second;
  };
  Expected<std::string> fingerprint = lookup(kFingerprintMetadataKey);
  if (!fingerprint)
    return fingerprint.takeError();
  if (*fingerprint != artifactFingerprint)
    return makeError(*path +
                     ": the checkpoint belongs to the artifact with "
                     "fingerprint '" +
                     *fingerprint + "', not to this one ('" +
                     artifactFingerprint + "'): another model or method");

  // Another method or rank shows as tensors missing, extra or reshaped.
  for (const NamedTensor &each : tensors) {
    const SafeTensorInfo *info = (*file)->lookup(each.name);
    if (!info)
      return makeError(*path + ": the checkpoint has no tensor '" + each.name +
                       "' (" +
                       describeTensor(each.name, each.tensor.getDType(),
                                      each.tensor.getShape()) +
                       " in the artifact): another method or rank");
    if (info->dtype != each.tensor.getDType() ||
        ArrayRef<int64_t>(info->shape) != each.tensor.getShape())
      return makeError(*path + ": tensor '" + each.name + "' is " +
                       getDTypeName(info->dtype) + formatShape(info->shape) +
                       " in the checkpoint, but " +
                       getDTypeName(each.tensor.getDType()) +
                       formatShape(each.tensor.getShape()) +
                       " in the artifact: another method, rank or shape");
  }
  if ((*file)->getTensors().size() != tensors.size()) {
    for (const SafeTensorInfo &info : (*file)->getTensors())
      if (none_of(tensors, [&](const NamedTensor &each) {
            return each.name == info.name;
          }))
        return makeError(*path + ": the checkpoint has tensor '" + info.name +
                         "', which the artifact does not: another method or "
                         "rank");
  }

  CheckpointState state;
  Expected<std::string> step = lookup(kStepKey);
  if (!step)
    return step.takeError();
  if (StringRef(*step).getAsInteger(10, state.step) || state.step < 0)
    return makeError(*path + ": step '" + *step + "' is not a step number");
  Expected<std::string> sampler = lookup(kSamplerKey);
  if (!sampler)
    return sampler.takeError();
  Expected<SamplerState> samplerState =
      SamplerState::parse(*sampler, (*path + ": " + kSamplerKey).str());
  if (!samplerState)
    return samplerState.takeError();
  state.sampler = *samplerState;

  for (const NamedTensor &each : tensors) {
    ArrayRef<char> bytes = (*file)->getBytes(*(*file)->lookup(each.name));
    std::memcpy(each.tensor.getMutableData(), bytes.data(), bytes.size());
  }
  return state;
}

} // namespace qaf
