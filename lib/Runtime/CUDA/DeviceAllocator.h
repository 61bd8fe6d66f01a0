//===- DeviceAllocator.h - a caching allocator of device memory -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// cuMemAlloc and cuMemFree are slow (cuMemFree synchronizes the device),
// and a compiled training step allocates its temporaries on every call, so
// freed blocks are kept and handed out again. Sizes are rounded (512-byte
// multiples below 1 MiB, 128 KiB multiples above) so that the same
// temporaries of the next step find their blocks; a request takes the
// smallest cached block that fits and wastes at most a quarter of it.
//
// A block freed on a stream may still be in use by work queued there: the
// free records an event on that stream, and a later allocation for another
// stream makes its stream wait for the event first (stream order makes a
// reuse on the same stream safe). When the driver runs out of memory, the
// cached blocks are given back (after synchronizing) and the allocation
// retried once.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_RUNTIME_CUDA_DEVICEALLOCATOR_H
#define QAF_LIB_RUNTIME_CUDA_DEVICEALLOCATOR_H

#include "Driver.h"

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

namespace qaf::cuda {

class DeviceAllocator {
public:
  /// The size a request of `bytes` is rounded up to.
  static size_t roundSize(size_t bytes);

  /// A block of at least `bytes` for work on `stream`, or the driver's error
  /// (CUDA_ERROR_OUT_OF_MEMORY after the cache was given back). The
  /// driver's context must be current.
  CUresult allocate(const DriverAPI &driver, size_t bytes, CUstream stream,
                    CUdeviceptr &block);

  /// Takes back a block of `allocate`, to be reused after the work queued on
  /// `stream` (null: the caller synchronized). Returns false when the block
  /// is not one this allocator handed out.
  bool free(const DriverAPI &driver, CUdeviceptr block, CUstream stream);

  /// Gives every cached block back to the driver (after synchronizing).
  void releaseCached(const DriverAPI &driver);

  uint64_t getLiveBytes() const { return liveBytes; }
  uint64_t getLiveBlocks() const { return live.size(); }
  uint64_t getCachedBytes() const { return cachedBytes; }
  uint64_t getCachedBlocks() const { return cached.size(); }
  uint64_t getDriverAllocations() const { return driverAllocations; }

private:
  struct CachedBlock {
    CUdeviceptr pointer = 0;
    /// Recorded on `stream` when the block was freed there; null when it
    /// was freed with nothing queued.
    CUevent freed = nullptr;
    CUstream stream = nullptr;
  };

  /// By rounded size.
  std::multimap<size_t, CachedBlock> cached;
  /// Handed-out blocks and their rounded sizes.
  std::unordered_map<CUdeviceptr, size_t> live;
  /// Events of reused blocks, for the next free on a stream.
  std::vector<CUevent> spareEvents;
  uint64_t liveBytes = 0;
  uint64_t cachedBytes = 0;
  uint64_t driverAllocations = 0;
};

} // namespace qaf::cuda

#endif // QAF_LIB_RUNTIME_CUDA_DEVICEALLOCATOR_H
