//===- Allocator.h - buffers of generated CPU code (C API) ------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The allocation functions that generated CPU code calls for its buffers
// (memref.alloc / memref.dealloc, lowered with MLIR's generic allocation
// functions; docs/artifact-abi.md, "CPU kernels"). A training step allocates
// and frees the same large temporaries (activations, logits, gradients) every
// step; from malloc each came back as fresh pages from the kernel (page faults
// and zeroing, ~15 % of a step). Here a freed large block is kept for the next
// request of its size class instead.
//
// Every block is a genuine malloc allocation (posix_memalign for the large
// ones), so a buffer that leaves the library as an entry point's output is
// still freed by its caller with free(), as the ABI says. The cache never
// makes the process hold more than an eighth over the most that was live at
// once: a request the cache cannot serve first releases cached blocks,
// oldest first, until live plus cached plus the new block fit in that bound
// (see Allocator.cpp). Thread-safe.
// QAF_ALLOC_CACHE=0 in the environment turns the cache off (plain malloc and
// free), for comparisons.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_CPU_ALLOCATOR_H
#define QAF_RUNTIME_CPU_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The smallest size class. Requests from a page under it go through the
/// cache; smaller ones are plain malloc (glibc serves those from its own
/// bins without faults).
#define QAF_ALLOC_CACHED_MIN_BYTES ((size_t)64 * 1024)
/// Alignment of the cached blocks (a cache line, and enough for AVX-512).
#define QAF_ALLOC_CACHED_ALIGNMENT 64

/// malloc's contract: at least `size` bytes aligned for any object, or NULL.
void *_mlir_memref_to_llvm_alloc(size_t size);
/// aligned_alloc's contract (for `use-aligned-alloc` lowerings).
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
/// free's contract, for a block of either function above (or NULL).
void _mlir_memref_to_llvm_free(void *block);

/// Counters of the cache since the process started (or the last
/// qaf_alloc_release_cache); for tests and benchmarks.
typedef struct QafAllocStats {
  uint64_t hits;          ///< Cached requests served from the cache.
  uint64_t misses;        ///< Cached requests that allocated a new block.
  uint64_t evictions;     ///< Cached blocks released to make room.
  uint64_t liveBytes;     ///< Bytes of cached-size blocks handed out now.
  uint64_t mostLiveBytes; ///< The most of them at once; liveBytes +
                          ///< cachedBytes stay within 9/8 of it.
  uint64_t cachedBytes;   ///< Bytes held in the cache now (free blocks).
  uint64_t cachedBlocks;  ///< Blocks held in the cache now.
} QafAllocStats;
void qaf_alloc_stats(QafAllocStats *stats);

/// Frees every cached block and zeroes the counters.
void qaf_alloc_release_cache(void);

/// The size class of a cached request: the size rounded up to one of four
/// steps per power of two, in whole pages (at most 25 % more). Exposed for
/// tests.
size_t qaf_alloc_size_class(size_t size);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // QAF_RUNTIME_CPU_ALLOCATOR_H
