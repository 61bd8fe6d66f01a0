//===- AllocatorTest.cpp - the caching allocator of generated CPU code ----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qaf/Runtime/CPU/Allocator.h: size classes, reuse of freed large blocks,
// alignment, blocks that leave through plain free() (entry point outputs),
// the bound on held memory (never more than the most live at once) under a
// random trace, and many threads allocating, writing and freeing at once.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Allocator.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace {

constexpr size_t kKiB = 1024, kMiB = 1024 * 1024;

QafAllocStats stats() {
  QafAllocStats result;
  qaf_alloc_stats(&result);
  return result;
}

bool isAligned(const void *pointer, size_t alignment) {
  return reinterpret_cast<uintptr_t>(pointer) % alignment == 0;
}

class AllocatorTest : public ::testing::Test {
protected:
  void SetUp() override { qaf_alloc_release_cache(); }
  void TearDown() override { qaf_alloc_release_cache(); }
};

TEST_F(AllocatorTest, SizeClassesAreFourPerDoublingInWholePages) {
  std::set<size_t> classesIn1To2MiB;
  size_t previous = 0;
  for (size_t size = QAF_ALLOC_CACHED_MIN_BYTES; size <= 64 * kMiB;
       size += 3 * kKiB + 7) {
    size_t sizeClass = qaf_alloc_size_class(size);
    EXPECT_GE(sizeClass, size);
    EXPECT_LE(sizeClass, size + size / 4) << size;
    EXPECT_EQ(sizeClass % 4096, 0u) << size;
    EXPECT_GE(sizeClass, previous) << "classes must grow with the size";
    previous = sizeClass;
    if (size > kMiB && size <= 2 * kMiB)
      classesIn1To2MiB.insert(sizeClass);
  }
  EXPECT_EQ(classesIn1To2MiB, (std::set<size_t>{1280 * kKiB, 1536 * kKiB,
                                                1792 * kKiB, 2048 * kKiB}));
  // A class is its own class.
  EXPECT_EQ(qaf_alloc_size_class(1536 * kKiB), 1536 * kKiB);
}

TEST_F(AllocatorTest, FreedLargeBlockIsReused) {
  void *first = _mlir_memref_to_llvm_alloc(3 * kMiB);
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, 3 * kMiB);
  _mlir_memref_to_llvm_free(first);
  EXPECT_EQ(stats().cachedBlocks, 1u);
  // Same class (3 MiB - 1 KiB rounds up to 3 MiB).
  void *second = _mlir_memref_to_llvm_alloc(3 * kMiB - kKiB);
  EXPECT_EQ(second, first);
  QafAllocStats after = stats();
  EXPECT_EQ(after.hits, 1u);
  EXPECT_EQ(after.misses, 1u);
  EXPECT_EQ(after.cachedBlocks, 0u);
  _mlir_memref_to_llvm_free(second);
}

TEST_F(AllocatorTest, OnlyTheSameClassIsReused) {
  void *big = _mlir_memref_to_llvm_alloc(4 * kMiB);
  _mlir_memref_to_llvm_free(big);
  // Another class: a new block, and the 4 MiB one released to make room
  // (4 MiB was the most live).
  void *smaller = _mlir_memref_to_llvm_alloc(3 * kMiB);
  QafAllocStats after = stats();
  EXPECT_EQ(after.hits, 0u);
  EXPECT_EQ(after.misses, 2u);
  EXPECT_EQ(after.evictions, 1u);
  EXPECT_EQ(after.cachedBytes, 0u);
  _mlir_memref_to_llvm_free(smaller);
  // Under the bound (4 MiB + an eighth) with a 2 MiB block live, the cached
  // 3 MiB one goes; 2 MiB and 1 MiB then fit, and stay cached.
  void *first = _mlir_memref_to_llvm_alloc(2 * kMiB);
  void *second = _mlir_memref_to_llvm_alloc(kMiB);
  _mlir_memref_to_llvm_free(first);
  _mlir_memref_to_llvm_free(second);
  after = stats();
  EXPECT_EQ(after.evictions, 2u);
  EXPECT_EQ(after.cachedBytes, 3 * kMiB);
  EXPECT_EQ(after.mostLiveBytes, 4 * kMiB);
}

TEST_F(AllocatorTest, SmallRequestsBypassTheCache) {
  for (size_t size : {size_t{1}, size_t{1000}, QAF_ALLOC_CACHED_MIN_BYTES / 2,
                      QAF_ALLOC_CACHED_MIN_BYTES - 4097}) {
    void *small = _mlir_memref_to_llvm_alloc(size);
    ASSERT_NE(small, nullptr);
    EXPECT_TRUE(isAligned(small, alignof(std::max_align_t)));
    _mlir_memref_to_llvm_free(small);
  }
  QafAllocStats after = stats();
  EXPECT_EQ(after.hits + after.misses, 0u);
  EXPECT_EQ(after.cachedBlocks, 0u);
  _mlir_memref_to_llvm_free(nullptr);
}

TEST_F(AllocatorTest, Alignment) {
  std::vector<void *> blocks;
  for (size_t size : {QAF_ALLOC_CACHED_MIN_BYTES, 100 * kKiB + 3, 5 * kMiB + 1})
    blocks.push_back(_mlir_memref_to_llvm_alloc(size));
  for (void *block : blocks) {
    EXPECT_TRUE(isAligned(block, QAF_ALLOC_CACHED_ALIGNMENT)) << block;
    _mlir_memref_to_llvm_free(block);
  }
  // Reused blocks keep it.
  for (size_t i = 0; i < blocks.size(); ++i)
    blocks[i] = _mlir_memref_to_llvm_alloc(
        qaf_alloc_size_class(i == 0   ? QAF_ALLOC_CACHED_MIN_BYTES
                             : i == 1 ? 100 * kKiB
                                      : 5 * kMiB + 1));
  EXPECT_EQ(stats().hits, 3u);
  for (void *block : blocks) {
    EXPECT_TRUE(isAligned(block, QAF_ALLOC_CACHED_ALIGNMENT)) << block;
    _mlir_memref_to_llvm_free(block);
  }
  // Stricter alignments than the cache's are honoured.
  for (size_t alignment : {size_t{16}, size_t{4096}, size_t{64 * kKiB}})
    for (size_t size : {size_t{64}, 2 * kMiB}) {
      void *block = _mlir_memref_to_llvm_aligned_alloc(alignment, size);
      ASSERT_NE(block, nullptr);
      EXPECT_TRUE(isAligned(block, alignment)) << alignment << " " << size;
      std::memset(block, 0, size);
      _mlir_memref_to_llvm_free(block);
    }
}

TEST_F(AllocatorTest, BlocksFreedWithPlainFree) {
  // An entry point's output leaves the library and its caller frees it with
  // free() (docs/artifact-abi.md): every block must be a malloc block.
  void *output = _mlir_memref_to_llvm_alloc(2 * kMiB);
  ASSERT_NE(output, nullptr);
  std::memset(output, 7, 2 * kMiB);
  std::free(output);
  void *reused = _mlir_memref_to_llvm_alloc(2 * kMiB);
  _mlir_memref_to_llvm_free(reused);
  void *again = _mlir_memref_to_llvm_alloc(2 * kMiB);
  std::free(again);
  EXPECT_EQ(stats().cachedBlocks, 0u);
}

TEST_F(AllocatorTest, HeldBytesNeverExceedTheMostLiveAtOnce) {
  // A random trace; the bytes held (live blocks plus the cache) must stay
  // within 9/8 of the largest live total seen so far, live blocks counted by
  // the class of their request.
  std::mt19937_64 random(7);
  std::uniform_int_distribution<size_t> sizes(QAF_ALLOC_CACHED_MIN_BYTES,
                                              24 * kMiB);
  struct Live {
    void *block;
    size_t sizeClass;
  };
  std::vector<Live> live;
  size_t liveBytes = 0, mostLive = 0;
  for (int step = 0; step < 4000; ++step) {
    bool allocate = live.empty() || (live.size() < 24 && random() % 2 == 0);
    if (allocate) {
      size_t size = sizes(random);
      void *block = _mlir_memref_to_llvm_alloc(size);
      ASSERT_NE(block, nullptr);
      static_cast<char *>(block)[size - 1] = 1;
      live.push_back({block, qaf_alloc_size_class(size)});
    } else {
      size_t index = random() % live.size();
      _mlir_memref_to_llvm_free(live[index].block);
      live.erase(live.begin() + static_cast<ptrdiff_t>(index));
    }
    liveBytes = 0;
    for (const Live &entry : live)
      liveBytes += entry.sizeClass;
    mostLive = std::max(mostLive, liveBytes);
    QafAllocStats now = stats();
    ASSERT_EQ(now.mostLiveBytes, mostLive) << step;
    ASSERT_LE(now.cachedBytes + liveBytes, mostLive + mostLive / 8) << step;
    ASSERT_EQ(now.liveBytes, liveBytes) << step;
  }
  for (const Live &entry : live)
    _mlir_memref_to_llvm_free(entry.block);
  QafAllocStats after = stats();
  EXPECT_GT(after.hits, 0u);
  EXPECT_LE(after.cachedBytes, mostLive + mostLive / 8);
}

TEST_F(AllocatorTest, RepeatedStepIsServedFromTheCache) {
  // A training step: the forward keeps an activation per layer and frees a
  // temporary; the backward frees them in reverse with temporaries of its
  // own; the loss's logits and their gradient are the largest blocks. Right
  // after the peak, a temporary beside the cached logits needs the slack.
  const std::vector<size_t> activations = {600 * kKiB, 1536 * kKiB, 2304 * kKiB,
                                           600 * kKiB};
  const std::vector<size_t> temporaries = {128 * kKiB, 2304 * kKiB, 700 * kKiB,
                                           1536 * kKiB};
  auto touch = [](size_t size) {
    void *block = _mlir_memref_to_llvm_alloc(size);
    std::memset(block, 0, size);
    return block;
  };
  auto runStep = [&] {
    std::vector<void *> kept;
    for (size_t i = 0; i < activations.size(); ++i) {
      void *temporary = touch(temporaries[i]);
      kept.push_back(touch(activations[i]));
      _mlir_memref_to_llvm_free(temporary);
    }
    // The peak: the logits and their gradient live at once.
    void *logits = touch(50 * kMiB);
    void *logitsGradient = touch(50 * kMiB);
    _mlir_memref_to_llvm_free(logits);
    for (size_t i = activations.size(); i-- > 0;) {
      void *gradient = touch(temporaries[i]);
      if (i + 1 == activations.size())
        _mlir_memref_to_llvm_free(logitsGradient);
      _mlir_memref_to_llvm_free(kept[i]);
      _mlir_memref_to_llvm_free(gradient);
    }
  };
  runStep();
  QafAllocStats first = stats();
  EXPECT_LE(first.cachedBytes, first.mostLiveBytes + first.mostLiveBytes / 8);
  for (int step = 0; step < 5; ++step)
    runStep();
  QafAllocStats later = stats();
  EXPECT_EQ(later.misses, first.misses) << "steps after the first must hit";
  EXPECT_EQ(later.hits - first.hits,
            5 * (2 * temporaries.size() + activations.size() + 2));
  EXPECT_EQ(later.mostLiveBytes, first.mostLiveBytes);
  EXPECT_EQ(later.liveBytes, 0u);
}

TEST_F(AllocatorTest, ConcurrentThreadsNeverShareABlock) {
  constexpr int kThreads = 8, kRounds = 300;
  std::atomic<int> corrupted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &corrupted] {
      std::mt19937 random(t);
      std::vector<std::pair<unsigned char *, size_t>> held;
      for (int round = 0; round < kRounds; ++round) {
        size_t size = QAF_ALLOC_CACHED_MIN_BYTES / 2 + random() % (3 * kMiB);
        auto *block =
            static_cast<unsigned char *>(_mlir_memref_to_llvm_alloc(size));
        if (!block) {
          ++corrupted;
          continue;
        }
        unsigned char mark = static_cast<unsigned char>(t * 31 + round);
        std::memset(block, mark, size);
        held.push_back({block, size});
        if (held.size() > 3 || random() % 3 == 0) {
          auto [old, oldSize] = held.front();
          unsigned char expected = old[0];
          for (size_t i = 0; i < oldSize; i += 4093)
            if (old[i] != expected)
              ++corrupted;
          if (old[oldSize - 1] != expected)
            ++corrupted;
          _mlir_memref_to_llvm_free(old);
          held.erase(held.begin());
        }
      }
      for (auto [block, size] : held)
        _mlir_memref_to_llvm_free(block);
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(corrupted.load(), 0);
  QafAllocStats after = stats();
  EXPECT_GT(after.hits, 0u);
}

} // namespace
