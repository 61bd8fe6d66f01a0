//===- DeviceAllocator.cpp - a caching allocator of device memory ---------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "DeviceAllocator.h"

namespace qaf::cuda {

namespace {
constexpr size_t kSmallGranule = 512;
constexpr size_t kLargeGranule = 128 << 10;
constexpr size_t kLargeThreshold = 1 << 20;

size_t roundUp(size_t value, size_t granule) {
  return (value + granule - 1) / granule * granule;
}
} // namespace

size_t DeviceAllocator::roundSize(size_t bytes) {
  if (bytes == 0)
    return kSmallGranule;
  return bytes < kLargeThreshold ? roundUp(bytes, kSmallGranule)
                                 : roundUp(bytes, kLargeGranule);
}

CUresult DeviceAllocator::allocate(const DriverAPI &driver, size_t bytes,
                                   CUstream stream, CUdeviceptr &block) {
  size_t size = roundSize(bytes);
  auto found = cached.lower_bound(size);
  if (found != cached.end() && found->first - size <= found->first / 4) {
    CachedBlock reused = found->second;
    size = found->first;
    cached.erase(found);
    cachedBytes -= size;
    if (reused.freed) {
      // Work queued before the free on another stream may still use it.
      if (reused.stream != stream)
        if (CUresult result = driver.streamWaitEvent(stream, reused.freed, 0))
          return result;
      spareEvents.push_back(reused.freed);
    }
    block = reused.pointer;
    live[block] = size;
    liveBytes += size;
    return CUDA_SUCCESS;
  }
  CUresult result = driver.memAlloc(&block, size);
  if (result == CUDA_ERROR_OUT_OF_MEMORY && !cached.empty()) {
    releaseCached(driver);
    result = driver.memAlloc(&block, size);
  }
  if (result != CUDA_SUCCESS)
    return result;
  ++driverAllocations;
  live[block] = size;
  liveBytes += size;
  return CUDA_SUCCESS;
}

bool DeviceAllocator::free(const DriverAPI &driver, CUdeviceptr block,
                           CUstream stream) {
  auto found = live.find(block);
  if (found == live.end())
    return false;
  size_t size = found->second;
  live.erase(found);
  liveBytes -= size;
  CachedBlock freed{block, nullptr, stream};
  if (stream) {
    CUevent event = nullptr;
    if (!spareEvents.empty()) {
      event = spareEvents.back();
      spareEvents.pop_back();
    } else if (driver.eventCreate(&event, CU_EVENT_DISABLE_TIMING)) {
      event = nullptr;
    }
    // Without an event the block must not be reused before the stream is
    // done: give it back to the driver (cuMemFree waits for the device).
    if (!event || driver.eventRecord(event, stream)) {
      if (event)
        spareEvents.push_back(event);
      driver.memFree(block);
      return true;
    }
    freed.freed = event;
  }
  cached.emplace(size, freed);
  cachedBytes += size;
  return true;
}

void DeviceAllocator::releaseCached(const DriverAPI &driver) {
  if (cached.empty())
    return;
  driver.ctxSynchronize();
  for (auto &[size, block] : cached) {
    if (block.freed)
      spareEvents.push_back(block.freed);
    driver.memFree(block.pointer);
  }
  cached.clear();
  cachedBytes = 0;
}

} // namespace qaf::cuda
