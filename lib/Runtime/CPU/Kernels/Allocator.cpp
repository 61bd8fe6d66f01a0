//===- Allocator.cpp - caching allocator for generated CPU code -----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Large blocks freed by generated code are kept, by size class, for the next
// request of that class: a training step repeats the same allocations every
// step, so from the second step on they are served without a system call,
// a page fault or the kernel zeroing a page.
//
// Bound: the bytes held, live plus cached blocks, never exceed the most that
// were live at once (`mostLive`, what plain malloc would hold at its peak)
// plus an eighth. A hit or a free only moves a block between live and
// cached. A miss first raises `mostLive` to live + the new block if that is
// more, then releases cached blocks, oldest first, until live + cached + the
// new block fit in the bound (with an empty cache they do). Once a first step
// has run, `mostLive` is that step's peak, and a later step's blocks stay
// cached as far as they fit below the bound.
//
// A block's size class is read back from malloc_usable_size on free, so the
// cache needs no table of live blocks, and a block freed with plain free()
// (an entry point's output, freed by the runtime) is simply gone; it stays
// counted live, an overestimate that only grows, so the cache only holds less
// than the bound allows.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Allocator.h"

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace {

/// Requests from here go to the cache. A page under the smallest class, so
/// that a plain malloc block (a smaller request, with malloc's few bytes of
/// slack) is always smaller than every cached block.
constexpr size_t kCachedRequestMin = QAF_ALLOC_CACHED_MIN_BYTES - 4096;

/// The cache may hold 1/kSlackDivisor more than the most that was live at
/// once. Without slack a step's largest blocks could not stay cached: right
/// after the peak (logits and their gradient live), any new temporary beside
/// the cached logits would exceed it.
constexpr uint64_t kSlackDivisor = 8;

/// Four size classes per power of two.
constexpr unsigned kClassesPerDoublingLog2 = 2;

unsigned floorLog2(size_t value) {
  return 63 - static_cast<unsigned>(__builtin_clzll(value));
}

/// The class step at `size`: a quarter of the power of two below it (at
/// least 16 KiB above QAF_ALLOC_CACHED_MIN_BYTES, more than malloc's slack
/// past a requested size, so usable sizes map back to their class).
size_t classStep(size_t size) {
  return (size_t{1} << floorLog2(size)) >> kClassesPerDoublingLog2;
}

/// The largest class not above `usable` (usable >= the cached minimum).
size_t floorClass(size_t usable) {
  size_t step = classStep(usable);
  return usable / step * step;
}

struct CachedBlock {
  void *block;
  size_t sizeClass;
};

class BlockCache {
public:
  ~BlockCache() {
    // QAF_ALLOC_STATS=1: how well the cache served this process.
    if (const char *report = std::getenv("QAF_ALLOC_STATS");
        report && report[0] == '1')
      std::fprintf(stderr,
                   "qaf allocator: %llu hits, %llu misses, %llu evictions; "
                   "most held %llu bytes; %llu blocks (%llu bytes) cached at "
                   "exit\n",
                   static_cast<unsigned long long>(hits),
                   static_cast<unsigned long long>(misses),
                   static_cast<unsigned long long>(evictions),
                   static_cast<unsigned long long>(mostLiveBytes),
                   static_cast<unsigned long long>(cached.size()),
                   static_cast<unsigned long long>(cachedBytes));
    releaseAll();
  }

  /// A block of at least `size` bytes (>= kCachedRequestMin) aligned to
  /// `alignment` (a power of two, at least QAF_ALLOC_CACHED_ALIGNMENT).
  void *allocate(size_t size, size_t alignment) {
    size_t sizeClass = qaf_alloc_size_class(size);
    std::lock_guard<std::mutex> lock(mutex);
    if (void *block = takeCached(sizeClass, alignment))
      return block;
    ++misses;
    mostLiveBytes = std::max(mostLiveBytes, liveBytes + sizeClass);
    uint64_t bound = mostLiveBytes + mostLiveBytes / kSlackDivisor;
    releaseOldestWhile(
        [&] { return liveBytes + cachedBytes + sizeClass > bound; });
    void *block = nullptr;
    if (posix_memalign(&block, alignment, sizeClass) != 0)
      return nullptr;
    // What release() will count it as (malloc's slack never reaches the
    // next class).
    liveBytes += floorClass(malloc_usable_size(block));
    mostLiveBytes = std::max(mostLiveBytes, liveBytes);
    return block;
  }

  /// Whether `block` came from allocate(): a plain malloc block (a request
  /// under kCachedRequestMin) is never as large as the smallest class.
  static bool isCachedBlock(void *block) {
    return malloc_usable_size(block) >= QAF_ALLOC_CACHED_MIN_BYTES;
  }

  void release(void *block) {
    size_t sizeClass = floorClass(malloc_usable_size(block));
    std::lock_guard<std::mutex> lock(mutex);
    liveBytes -= std::min(liveBytes, sizeClass);
    cached.push_back({block, sizeClass});
    cachedBytes += sizeClass;
  }

  QafAllocStats stats() {
    std::lock_guard<std::mutex> lock(mutex);
    return {hits,          misses,      evictions,    liveBytes,
            mostLiveBytes, cachedBytes, cached.size()};
  }

  void releaseAll() {
    std::lock_guard<std::mutex> lock(mutex);
    releaseOldestWhile([] { return true; });
    hits = misses = evictions = 0;
    liveBytes = mostLiveBytes = 0;
  }

private:
  /// The most recently freed block of `sizeClass` aligned to `alignment`,
  /// or null. Only that class: a larger block would serve a smaller request
  /// at the cost of the larger one's next request (a step's requests repeat).
  void *takeCached(size_t sizeClass, size_t alignment) {
    for (size_t i = cached.size(); i-- > 0;) {
      if (cached[i].sizeClass != sizeClass ||
          reinterpret_cast<uintptr_t>(cached[i].block) % alignment != 0)
        continue;
      ++hits;
      void *block = cached[i].block;
      cached.erase(cached.begin() + static_cast<ptrdiff_t>(i));
      cachedBytes -= sizeClass;
      liveBytes += sizeClass;
      mostLiveBytes = std::max(mostLiveBytes, liveBytes);
      return block;
    }
    return nullptr;
  }

  /// Frees the oldest cached blocks while `wanted()` and any is left.
  template <typename Predicate> void releaseOldestWhile(Predicate wanted) {
    size_t count = 0;
    while (count < cached.size() && wanted()) {
      std::free(cached[count].block);
      cachedBytes -= cached[count].sizeClass;
      ++count;
    }
    cached.erase(cached.begin(),
                 cached.begin() + static_cast<ptrdiff_t>(count));
    evictions += count;
  }

  std::mutex mutex;
  /// Oldest freed first. A training step caches tens to hundreds of blocks,
  /// so a linear scan costs far less than the buffers' use.
  std::vector<CachedBlock> cached;
  uint64_t cachedBytes = 0;
  /// Blocks handed out and not given back. A block that leaves as an
  /// output and is freed with plain free() stays counted: an overestimate
  /// that only grows, so the cache stays within the bound (it holds less).
  uint64_t liveBytes = 0;
  uint64_t mostLiveBytes = 0;
  uint64_t hits = 0, misses = 0, evictions = 0;
};

BlockCache &blockCache() {
  static BlockCache cache;
  return cache;
}

bool cacheEnabled() {
  static const bool enabled = [] {
    const char *setting = std::getenv("QAF_ALLOC_CACHE");
    return !setting || !(setting[0] == '0' && setting[1] == '\0');
  }();
  return enabled;
}

} // namespace

extern "C" {

size_t qaf_alloc_size_class(size_t size) {
  if (size < QAF_ALLOC_CACHED_MIN_BYTES)
    size = QAF_ALLOC_CACHED_MIN_BYTES;
  size_t step = classStep(size);
  return (size + step - 1) / step * step;
}

void *_mlir_memref_to_llvm_alloc(size_t size) {
  if (size < kCachedRequestMin || !cacheEnabled())
    return std::malloc(size);
  return blockCache().allocate(size, QAF_ALLOC_CACHED_ALIGNMENT);
}

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  if (size >= kCachedRequestMin && cacheEnabled())
    return blockCache().allocate(
        size, std::max<size_t>(alignment, QAF_ALLOC_CACHED_ALIGNMENT));
  void *block = nullptr;
  if (alignment < sizeof(void *))
    alignment = sizeof(void *);
  if (posix_memalign(&block, alignment, size) != 0)
    return nullptr;
  return block;
}

void _mlir_memref_to_llvm_free(void *block) {
  if (!block)
    return;
  if (!cacheEnabled() || !BlockCache::isCachedBlock(block)) {
    std::free(block);
    return;
  }
  blockCache().release(block);
}

void qaf_alloc_stats(QafAllocStats *stats) { *stats = blockCache().stats(); }

void qaf_alloc_release_cache(void) { blockCache().releaseAll(); }

} // extern "C"
