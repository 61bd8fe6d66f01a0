//===- Artifact.h - load and run a compiled CPU artifact --------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// An artifact folder (docs/artifact-abi.md) holds manifest.json, model.so,
// weights.safetensors and, when entry points have parameters,
// parameters.safetensors. Loading reads the manifest, refuses a target this
// runtime cannot run and files outside the folder, opens the library,
// checks that the files agree on the fingerprint and the manifest with the
// library's description of itself, maps the weights (read-only) and copies
// the parameters into writable buffers, checking every tensor of every entry
// point against the manifest, verifies the files' content hashes, and sets
// the OpenMP thread count. Running checks the inputs
// against the manifest, calls the entry point (which may update its
// parameters in place) and takes ownership of its outputs.
//
// A cuda artifact runs on a CUDA device (`cuda:N`): loading also checks
// that the device can run its code (architecture, driver version), loads
// qaf's CUDA runtime library before the model.so (whose constructor loads
// the kernels), and uploads the weights and parameters once; they stay on
// the device between calls, and so does a KV cache written in place
// (CacheBuffers). Each call copies its other inputs to the device and the
// outputs back (include/qaf/Runtime/CudaDevice.h).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_ARTIFACT_H
#define QAF_RUNTIME_ARTIFACT_H

#include "qaf/Runtime/CudaDevice.h"
#include "qaf/Runtime/HostTensor.h"
#include "qaf/Runtime/Manifest.h"
#include "qaf/Runtime/SafeTensors.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qaf {

/// The environment variable that sets the thread count when no explicit
/// count is given.
constexpr llvm::StringLiteral kNumThreadsVariable = "QAF_NUM_THREADS";

/// The `__metadata__` key under which the weights, parameters and
/// checkpoint files record the fingerprint of the artifact they belong to.
constexpr llvm::StringLiteral kFingerprintMetadataKey = "qaf.fingerprint";

struct ArtifactOptions {
  /// OpenMP threads. Unset: `QAF_NUM_THREADS`, else `OMP_NUM_THREADS` (left
  /// to the OpenMP runtime), else every core this process may run on.
  std::optional<int> numThreads;
  /// Whether loading hashes the weights file and compares it with the hash
  /// the library recorded at compile time (xxh3: about 0.12 s per 500 MB
  /// in memory).
  /// The parameters file is a starting point that training may replace:
  /// only `verifyContent` (qaf-run verify) checks it.
  bool verifyContent = true;
  /// Where to run. Unset: where the artifact's target runs (cuda:0 for a
  /// cuda artifact). An artifact is never run on a device of another kind
  /// than its target's: that is an error.
  std::optional<DeviceSpec> device;
};

/// The content check of one tensor file: the hash its library recorded at
/// compile time and the hash of what the file holds now.
struct ContentCheck {
  std::string path;
  std::string recorded;
  std::string actual;
  bool matches() const { return recorded == actual; }
};

/// A tensor with the name of the input or output it is.
struct NamedTensor {
  std::string name;
  HostTensor tensor;
};

/// The symbolic dimension sizes of one call (`batch` = 2).
using DimBindings = llvm::StringMap<int64_t>;

/// Checks `inputs` against the inputs of `entry` and binds its symbolic
/// dimensions. Errors name the input and, for shapes, the dimension: a
/// missing, unknown or repeated input, a wrong dtype or rank, a static
/// dimension of another size, a symbolic one bound to two sizes, or one
/// named by a sum (`past_sequence_length + sequence_length`) whose terms
/// are bound to sizes that add up to another. The kCacheLengthInput scalar
/// is the runtime's to give, not the caller's.
llvm::Error checkEntryPointInputs(const EntryPoint &entry,
                                  llvm::ArrayRef<NamedTensor> inputs,
                                  DimBindings &bindings);

/// The size of dimension name `symbol` under `bindings`: its binding, or
/// for a sum of names and integers (`past_sequence_length + 1`) the sum of
/// its terms' values; nullopt when a name is not bound.
std::optional<int64_t> evaluateDimSymbol(llvm::StringRef symbol,
                                         const DimBindings &bindings);

/// The device copies of a CacheBuffers' buffers (defined with the CUDA
/// half of Artifact).
class ResidentCache;

/// A decoder's KV cache that the caller keeps between calls of an entry
/// point whose outputs are written into its inputs (`written_into`): per
/// such input a buffer [batch, heads, capacity, head size] whose first
/// `length` positions (axis 2) hold the past.
struct CacheBuffers {
  llvm::StringMap<HostTensor> buffers;
  int64_t length = 0;
  /// On a CUDA device, each buffer's device copy, which the calls read and
  /// write instead of the host buffer: the first call that sees a buffer
  /// uploads it, later calls copy nothing of the cache, and the host
  /// buffers are current only after Artifact::downloadCache. Null on the
  /// CPU and before the first call.
  std::shared_ptr<ResidentCache> resident;
};

class Artifact {
public:
  /// Loads the artifact in folder `dir`. The library stays loaded for the
  /// life of the process: unloading an OpenMP runtime whose worker threads
  /// still exist is unsafe.
  static llvm::Expected<std::unique_ptr<Artifact>>
  load(llvm::StringRef dir, const ArtifactOptions &options = {});
  ~Artifact();

  /// Where the artifact runs.
  const DeviceSpec &getDevice() const { return device; }

  const Manifest &getManifest() const { return manifest; }
  const std::string &getDirectory() const { return directory; }

  /// Hashes the weights file and (when there is one) the parameters file
  /// and compares each with the hash the library recorded.
  std::vector<ContentCheck> verifyContent() const;

  /// The OpenMP thread count in effect, or nullopt when the library does not
  /// use OpenMP.
  std::optional<int> getNumThreads() const { return numThreads; }

  /// Runs entry point `entryName` on `inputs` (in any order, by name) and
  /// returns its outputs in manifest order. The entry point may update its
  /// parameters; later calls of any entry point see the new values.
  llvm::Expected<std::vector<NamedTensor>>
  run(llvm::StringRef entryName, llvm::ArrayRef<NamedTensor> inputs);

  /// Runs an entry point whose outputs are written into its cache inputs
  /// with the caller's buffers (passed as they are, never copied) in place
  /// of those inputs, which `inputs` leaves out: the call reads the past
  /// from them and writes the new positions after it, `cache.length` grows
  /// by those, and only the other outputs are returned. Errors name the
  /// input: a buffer missing, of another dtype, batch, head count or head
  /// size, or without room for the new positions.
  llvm::Expected<std::vector<NamedTensor>>
  runWithCache(llvm::StringRef entryName, llvm::ArrayRef<NamedTensor> inputs,
               CacheBuffers &cache);

  /// On a CUDA device: copies the device copy of each of `cache`'s buffers
  /// into the host buffer (on the CPU there is one buffer and nothing to
  /// do).
  llvm::Error downloadCache(CacheBuffers &cache);

  /// The writable buffer of parameter `name` (shared with every entry point
  /// that names it), or nullopt when there is no such parameter. On a CUDA
  /// device this is the host copy: current after downloadParameters, and
  /// what uploadParameters sends back.
  std::optional<HostTensor> getParameter(llvm::StringRef name) const;

  /// On a CUDA device: copies every parameter's device value into its host
  /// buffer (before saving a checkpoint), or every host buffer to the
  /// device (after restoring one). On the CPU there is one buffer and
  /// nothing to do.
  llvm::Error downloadParameters();
  llvm::Error uploadParameters();

  /// Writes every parameter's current value to a safetensors file at `path`
  /// (temporary file, fsync, rename), with the artifact's fingerprint in
  /// its metadata, so that only this artifact loads it back.
  llvm::Error saveParameters(llvm::StringRef path);

  /// Replaces every parameter's value with the tensor of that name in the
  /// safetensors file at `path` (written by saveParameters for this
  /// artifact: the fingerprints must agree, and every parameter must be
  /// there with its dtype and shape). Nothing changes when it fails.
  llvm::Error loadParameters(llvm::StringRef path);

private:
  /// `int32_t qaf_entry_<name>(void **args)`: 0, or the status of a failed
  /// run-time check whose message `qaf_last_error` returns.
  using EntryFunction = int32_t (*)(void **);
  using LastErrorFunction = const char *(*)();

  struct LoadedEntryPoint {
    const EntryPoint *entry;
    EntryFunction function;
    /// Per manifest weight: the mapped (or, when misaligned, copied) tensor.
    std::vector<HostTensor> weights;
    /// Per manifest parameter: its buffer in `parameters`.
    std::vector<HostTensor> parameters;
    /// On a CUDA device, the device copies of `weights` and `parameters`.
    std::vector<void *> deviceWeights;
    std::vector<void *> deviceParameters;
  };

  Artifact() = default;
  llvm::Expected<const LoadedEntryPoint *>
  findLoadedEntryPoint(llvm::StringRef name) const;
  /// Calls `loaded` with `inputs` (one per manifest input, in its order,
  /// checked) and returns the outputs it returns, each checked against its
  /// manifest shape under `bindings`.
  /// `cache`, when given, holds the buffers among `inputs` that the call
  /// writes in place.
  llvm::Expected<std::vector<NamedTensor>>
  call(const LoadedEntryPoint &loaded, llvm::ArrayRef<HostTensor> inputs,
       DimBindings &bindings, CacheBuffers *cache = nullptr);
  /// Every file the manifest names resolves (symbolic links included) to a
  /// file inside the artifact folder; checked before anything is opened.
  llvm::Error checkFilesInsideFolder() const;
  /// Refuses a target of another kind than `requested`, and sets `device`.
  llvm::Error checkTarget(const std::optional<DeviceSpec> &requested);
  /// Loads qaf's CUDA runtime, checks that `device` can run the code and
  /// selects it (before the library is opened).
  llvm::Error openCudaDevice();
  /// Copies every weight and parameter to the device, once.
  llvm::Error uploadTensors();
  /// `call` on a CUDA device: inputs copied there (`cache`'s buffers only
  /// when not yet resident), outputs copied back.
  llvm::Expected<std::vector<NamedTensor>>
  callOnCudaDevice(const LoadedEntryPoint &loaded,
                   llvm::ArrayRef<HostTensor> inputs, DimBindings &bindings,
                   CacheBuffers *cache);
  /// The device copy of `cache`'s buffer `name` (`buffer`), uploaded when
  /// the cache has none yet or the buffer was replaced.
  llvm::Expected<void *> getResidentCacheBlock(CacheBuffers &cache,
                                               llvm::StringRef name,
                                               const HostTensor &buffer);
  /// Reads the library's description of itself and refuses a manifest that
  /// disagrees with it.
  llvm::Error checkLibraryABI();
  /// Refuses a weights file whose content hash differs from the library's.
  llvm::Error checkWeightsContent() const;
  llvm::Error openLibrary();
  llvm::Error checkFingerprints();
  /// Allocates a buffer per parameter and fills it from `file`; `file`
  /// names the tensors that are missing or of another type.
  llvm::Error copyParameters(const SafeTensorsFile &file);
  llvm::Error bindEntryPoints();
  llvm::Error setThreads(const ArtifactOptions &options);
  std::string pathOf(llvm::StringRef file) const;

  std::string directory;
  Manifest manifest;
  DeviceSpec device;
  /// qaf's CUDA runtime, on a CUDA device; null on the CPU.
  CudaRuntime *cuda = nullptr;
  /// On a CUDA device, the device copy of each weight and parameter.
  llvm::StringMap<void *> deviceWeights;
  llvm::StringMap<void *> deviceParameters;
  void *library = nullptr;
  LibraryABI libraryABI;
  std::unique_ptr<SafeTensorsFile> weights;
  /// The parameters file as loaded (null without parameters): its
  /// fingerprint is checked with the others.
  std::unique_ptr<SafeTensorsFile> parametersFile;
  /// One writable buffer per parameter of the manifest.
  llvm::StringMap<HostTensor> parameters;
  std::vector<LoadedEntryPoint> entryPoints;
  /// The library's qaf_last_error: the message of a failed call.
  LastErrorFunction lastError = nullptr;
  std::optional<int> numThreads;
};

} // namespace qaf

#endif // QAF_RUNTIME_ARTIFACT_H
