//===- ArtifactCuda.cpp - run a compiled artifact on a CUDA device --------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The cuda half of qaf::Artifact (docs/artifact-abi.md, "CUDA target"): the
// entry points' memref descriptors hold device pointers, for weights,
// parameters, inputs and the results the generated code allocates with
// mgpuMemAlloc alike. Weights and parameters are uploaded once and stay on
// the device, and so does a KV cache written in place (ResidentCache): its
// buffers are uploaded by the first call that sees them and then only read
// and written there, so a decoding step copies nothing of the past. Each
// call copies its other inputs there and its results back, and frees the
// results with the allocator they came from.
//
//===----------------------------------------------------------------------===//

#include "ArtifactChecks.h"
#include "qaf/Runtime/Artifact.h"
#include "qaf/Runtime/MemRefDescriptor.h"
#include "qaf/Support/Error.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <cstdlib>

using namespace llvm;

namespace qaf {

/// The device copy of each buffer of a CacheBuffers, owned with it.
class ResidentCache {
public:
  struct Block {
    /// The host buffer the block copies (held, so that its memory cannot
    /// become another buffer's while the block stands for it).
    HostTensor host;
    void *device;
  };

  ResidentCache(CudaRuntime &cuda, const Artifact &owner)
      : cuda(cuda), owner(owner) {}
  ResidentCache(const ResidentCache &) = delete;
  ResidentCache &operator=(const ResidentCache &) = delete;
  ~ResidentCache() {
    for (const auto &block : blocks)
      cuda.free(block.getValue().device);
  }

  CudaRuntime &cuda;
  const Artifact &owner;
  StringMap<Block> blocks;
};

Artifact::~Artifact() {
  if (!cuda)
    return;
  for (const StringMap<void *> *buffers : {&deviceWeights, &deviceParameters})
    for (const auto &buffer : *buffers)
      cuda->free(buffer.getValue());
}

Error Artifact::openCudaDevice() {
  Expected<CudaRuntime &> runtime = CudaRuntime::get();
  if (!runtime)
    return runtime.takeError();
  std::string what = "artifact '" + directory + "'";
  Expected<CudaDeviceDescription> gpu = runtime->describeDevice(device.ordinal);
  if (!gpu)
    return makeError(what + " needs " + device.str() + ": " +
                     toString(gpu.takeError()));
  Expected<CudaDriverDescription> driver = runtime->probeDriver();
  if (!driver)
    return driver.takeError();
  if (Error error = checkCudaCompatibility(
          manifest.target, gpu->computeCapabilityMajor,
          gpu->computeCapabilityMinor, driver->driverVersion, what,
          device.str() + " (" + gpu->name + ")"))
    return error;
  if (Error error = runtime->selectDevice(device.ordinal))
    return error;
  cuda = &*runtime;
  return Error::success();
}

namespace {
/// `weight 'w' (float32[4])`: what an upload or allocation is for.
std::string describeTensor(StringRef role, const TensorSpec &spec) {
  return (role + " '" + spec.name + "' (" + spec.describe() + ")").str();
}
} // namespace

Error Artifact::uploadTensors() {
  auto upload = [&](StringMap<void *> &buffers, const TensorSpec &spec,
                    const HostTensor &tensor, StringRef role) -> Error {
    if (buffers.count(spec.name))
      return Error::success();
    cuda->setActivity(describeTensor(role, spec));
    Expected<void *> buffer = cuda->allocate(tensor.getNumBytes());
    if (!buffer)
      return buffer.takeError();
    buffers[spec.name] = *buffer;
    return cuda->copyToDevice(*buffer, tensor.getData(), tensor.getNumBytes());
  };
  for (LoadedEntryPoint &loaded : entryPoints) {
    const EntryPoint &entry = *loaded.entry;
    for (auto [spec, tensor] : zip_equal(entry.weights, loaded.weights)) {
      if (Error error = upload(deviceWeights, spec, tensor, "weight"))
        return error;
      loaded.deviceWeights.push_back(deviceWeights[spec.name]);
    }
    for (auto [spec, tensor] : zip_equal(entry.parameters, loaded.parameters)) {
      if (Error error = upload(deviceParameters, spec, tensor, "parameter"))
        return error;
      loaded.deviceParameters.push_back(deviceParameters[spec.name]);
    }
  }
  cuda->setActivity("");
  return cuda->synchronize();
}

Error Artifact::downloadParameters() {
  if (!cuda)
    return Error::success();
  for (const auto &buffer : deviceParameters) {
    HostTensor &host = parameters.find(buffer.getKey())->second;
    if (Error error = cuda->copyToHost(host.getMutableData(), buffer.getValue(),
                                       host.getNumBytes()))
      return makeError("cannot copy parameter '" + buffer.getKey() + "' from " +
                       device.str() + ": " + toString(std::move(error)));
  }
  return Error::success();
}

Error Artifact::uploadParameters() {
  if (!cuda)
    return Error::success();
  for (const auto &buffer : deviceParameters) {
    const HostTensor &host = parameters.find(buffer.getKey())->second;
    if (Error error = cuda->copyToDevice(buffer.getValue(), host.getData(),
                                         host.getNumBytes()))
      return makeError("cannot copy parameter '" + buffer.getKey() + "' to " +
                       device.str() + ": " + toString(std::move(error)));
  }
  return cuda->synchronize();
}

Expected<void *> Artifact::getResidentCacheBlock(CacheBuffers &cache,
                                                 StringRef name,
                                                 const HostTensor &buffer) {
  if (!cache.resident)
    cache.resident = std::make_shared<ResidentCache>(*cuda, *this);
  else if (&cache.resident->owner != this)
    return makeError("input '" + name +
                     "': the cache buffers are resident on the device of "
                     "another artifact (download them and start a new "
                     "cache)");
  ResidentCache::Block &block = cache.resident->blocks[name];
  if (block.device && block.host.getData() == buffer.getData() &&
      block.host.getNumBytes() == buffer.getNumBytes())
    return block.device;
  if (block.device)
    cuda->free(block.device);
  block = {buffer, nullptr};
  cuda->setActivity("cache buffer '" + name.str() + "' (" + buffer.describe() +
                    ")");
  Expected<void *> device = cuda->allocate(buffer.getNumBytes());
  if (!device)
    return device.takeError();
  block.device = *device;
  if (Error error = cuda->copyToDevice(block.device, buffer.getData(),
                                       buffer.getNumBytes()))
    return std::move(error);
  return block.device;
}

Error Artifact::downloadCache(CacheBuffers &cache) {
  if (!cuda || !cache.resident)
    return Error::success();
  for (const auto &entry : cache.resident->blocks) {
    const ResidentCache::Block &block = entry.getValue();
    auto buffer = cache.buffers.find(entry.getKey());
    if (!block.device || buffer == cache.buffers.end() ||
        buffer->second.getData() != block.host.getData())
      continue;
    if (Error error = cuda->copyToHost(buffer->second.getMutableData(),
                                       block.device, block.host.getNumBytes()))
      return makeError("cannot copy cache buffer '" + entry.getKey() +
                       "' from " + device.str() + ": " +
                       toString(std::move(error)));
  }
  return Error::success();
}

namespace {

/// Device blocks a call owns: freed when the call ends, however it ends.
class DeviceBlocks {
public:
  explicit DeviceBlocks(CudaRuntime &cuda) : cuda(cuda) {}
  ~DeviceBlocks() {
    for (void *block : blocks)
      cuda.free(block);
  }
  void add(void *block) { blocks.push_back(block); }

private:
  CudaRuntime &cuda;
  SmallVector<void *> blocks;
};

/// The elements a descriptor spans from its aligned pointer (offset
/// included); an error for negative sizes or strides.
Expected<int64_t> getDescriptorExtent(const MemRefDescriptorView &descriptor,
                                      DType dtype, StringRef what) {
  Expected<int64_t> count =
      getCheckedNumElements(descriptor.getSizes(), dtype, what);
  if (!count)
    return count.takeError();
  if (*count == 0)
    return 0;
  int64_t extent = descriptor.getOffset() + 1;
  for (auto [size, stride] :
       zip_equal(descriptor.getSizes(), descriptor.getStrides())) {
    if (stride < 0)
      return makeError(what + ": a negative stride");
    extent += (size - 1) * stride;
  }
  if (descriptor.getOffset() < 0 ||
      extent > kMaxTensorBytes / int64_t(getDTypeSize(dtype)))
    return makeError(what + ": the descriptor spans more memory than a " +
                     "tensor may have");
  return extent;
}

} // namespace

Expected<std::vector<NamedTensor>>
Artifact::callOnCudaDevice(const LoadedEntryPoint &loaded,
                           ArrayRef<HostTensor> inputs, DimBindings &bindings,
                           CacheBuffers *cache) {
  const EntryPoint &entry = *loaded.entry;
  auto [returned, resultRanks] = getReturnedOutputs(entry);
  EntryPointArguments arguments(resultRanks);
  DenseSet<const void *> operandPointers;
  for (auto [pointer, tensor] :
       zip_equal(loaded.deviceWeights, loaded.weights)) {
    arguments.addOperand(pointer, tensor.getShape());
    operandPointers.insert(pointer);
  }
  for (auto [pointer, tensor] :
       zip_equal(loaded.deviceParameters, loaded.parameters)) {
    arguments.addOperand(pointer, tensor.getShape());
    operandPointers.insert(pointer);
  }
  DeviceBlocks blocks(*cuda);
  std::vector<void *> inputBlocks;
  for (auto [spec, input] : zip_equal(entry.inputs, inputs)) {
    if (cache && cache->buffers.count(spec.name)) {
      Expected<void *> block = getResidentCacheBlock(*cache, spec.name, input);
      if (!block)
        return block.takeError();
      inputBlocks.push_back(*block);
      arguments.addOperand(*block, input.getShape());
      operandPointers.insert(*block);
      continue;
    }
    cuda->setActivity(describeTensor("input", spec));
    Expected<void *> block = cuda->allocate(input.getNumBytes());
    if (!block)
      return block.takeError();
    blocks.add(*block);
    inputBlocks.push_back(*block);
    if (Error error =
            cuda->copyToDevice(*block, input.getData(), input.getNumBytes()))
      return error;
    arguments.addOperand(*block, input.getShape());
    operandPointers.insert(*block);
  }
  // The generated code's streams do not wait for the default stream's
  // copies.
  if (Error error = cuda->synchronize())
    return error;

  std::string what = "entry point '" + entry.name + "'";
  cuda->clearError();
  cuda->setActivity(what);
  int32_t status = loaded.function(arguments.getArgs());
  Error deviceError = cuda->takeError();
  if (!deviceError)
    deviceError = cuda->synchronize();
  cuda->setActivity("");
  // Whatever happened, the results the code allocated are freed below: let
  // the device finish first (nothing runs while an error is pending).
  if (deviceError) {
    cuda->clearError();
    consumeError(cuda->synchronize());
    cuda->clearError();
  }
  std::optional<std::string> aliasedOutput;
  DenseSet<void *> resultBlocks;
  for (auto [i, output] : enumerate(returned)) {
    void *allocated = arguments.getResult(i).getAllocated();
    if (!allocated || resultBlocks.contains(allocated))
      continue;
    if (operandPointers.contains(allocated)) {
      aliasedOutput = output->name;
      continue;
    }
    resultBlocks.insert(allocated);
    blocks.add(allocated);
  }
  if (deviceError)
    return makeError(what + " failed on " + device.str() + ": " +
                     toString(std::move(deviceError)));
  if (status)
    return makeError(what + " failed (status " + Twine(status) +
                     "): " + lastError());
  if (aliasedOutput)
    return makeError(what + " returned output '" + *aliasedOutput +
                     "' in the memory of a weight, parameter or input (the "
                     "ABI wants a fresh mgpuMemAlloc allocation): the "
                     "library is broken");

  Expected<std::vector<NamedTensor>> outputs = collectOutputs(
      entry, returned, bindings,
      [&](size_t i, const TensorSpec &output,
          StringRef outputWhat) -> Expected<HostTensor> {
        MemRefDescriptorView descriptor = arguments.getResult(i);
        Expected<int64_t> extent =
            getDescriptorExtent(descriptor, output.dtype, outputWhat);
        if (!extent)
          return extent.takeError();
        // The span the descriptor covers, copied to the host; the descriptor
        // rebased onto the copy.
        size_t elementSize = getDTypeSize(output.dtype);
        int64_t offset = descriptor.getOffset();
        size_t bytes = (*extent - (*extent ? offset : 0)) * elementSize;
        std::shared_ptr<void> host(std::malloc(std::max<size_t>(bytes, 1)),
                                   std::free);
        if (!host)
          return makeError(outputWhat + ": cannot allocate " + Twine(bytes) +
                           " bytes of host memory");
        if (bytes)
          if (Error error = cuda->copyToHost(
                  host.get(),
                  static_cast<const char *>(descriptor.getAligned()) +
                      offset * elementSize,
                  bytes))
            return makeError(outputWhat + ": " + toString(std::move(error)));
        std::vector<int64_t> words(
            getMemRefDescriptorWords(descriptor.getRank()));
        words[0] = words[1] = reinterpret_cast<int64_t>(host.get());
        llvm::copy(descriptor.getSizes(), words.begin() + 3);
        llvm::copy(descriptor.getStrides(),
                   words.begin() + 3 + descriptor.getRank());
        return makeResultTensor(
            MemRefDescriptorView(words.data(), descriptor.getRank()),
            output.dtype, host, outputWhat);
      });
  if (!outputs)
    return outputs.takeError();
  // Outputs written into their inputs' buffers (a KV cache) come back into
  // the caller's buffers, unless those stay on the device.
  for (const TensorSpec &output : entry.outputs) {
    if (output.writtenInto.empty() ||
        (cache && cache->buffers.count(output.writtenInto)))
      continue;
    for (auto [i, spec] : enumerate(entry.inputs))
      if (spec.name == output.writtenInto)
        if (Error error =
                cuda->copyToHost(inputs[i].getMutableData(), inputBlocks[i],
                                 inputs[i].getNumBytes()))
          return error;
  }
  return outputs;
}

} // namespace qaf
