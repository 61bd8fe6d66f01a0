//===- TokenData.h - token files and the training batch sampler -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Token files hold the ids a causal language model trains or is evaluated
// on, read memory-mapped and validated once at load:
//
// - the flat qaf format (`.bin`, README "Token files"), little-endian:
//     bytes 0-7    magic "QAFTOKEN"
//     bytes 8-11   uint32 version (1)
//     bytes 12-15  uint32 bytes per id: 2 (uint16) or 4 (uint32)
//     bytes 16-23  uint64 id count N
//     bytes 24-    N ids, nothing after them;
// - `.npy`: int32, int64, uint16 or uint32, 1-D or 2-D (read row-major as
//   one stream).
//
// The sampler cuts the stream into non-overlapping windows of seq_len + 1
// tokens (window k starts at token k * (seq_len + 1)); a window gives one
// row of input ids (its first seq_len tokens) and of labels (its last
// seq_len: the ids shifted by one). Windows are taken in file order or, in
// shuffled mode, in a fresh permutation per pass over the file, drawn from
// a seeded xoshiro256** generator; the sampler's whole state (generator,
// pass, cursor) is a few integers that a checkpoint saves and restores.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_TOKENDATA_H
#define QAF_RUNTIME_TOKENDATA_H

#include "qaf/Runtime/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qaf {

/// The flat token file's magic bytes and version.
constexpr llvm::StringLiteral kTokenFileMagic = "QAFTOKEN";
constexpr uint32_t kTokenFileVersion = 1;
constexpr size_t kTokenFileHeaderBytes = 24;

/// A validated token file: every id is in [0, vocabularySize).
class TokenData {
public:
  /// Opens a `.npy` file, or the flat format otherwise, and checks every id
  /// against `vocabularySize`. Errors name the file and, for a bad id, its
  /// position (`token 17` or, in a 2-D array, `[1, 5]`).
  static llvm::Expected<TokenData> open(llvm::StringRef path,
                                        int64_t vocabularySize);

  /// Writes ids in the flat format atomically, as uint16 when
  /// `bytesPerId` is 2 (every id must fit) and uint32 when it is 4.
  static llvm::Error writeFlat(llvm::StringRef path,
                               llvm::ArrayRef<int64_t> ids,
                               unsigned bytesPerId);

  const std::string &getPath() const { return path; }
  int64_t size() const { return count; }
  /// The id at `index` (< size()).
  int64_t operator[](int64_t index) const;

private:
  TokenData() = default;
  std::string path;
  /// The mapped file (or the .npy tensor borrowing it) that `ids` points
  /// into.
  std::shared_ptr<const void> storage;
  /// Where the ids start, their dtype and count.
  const char *ids = nullptr;
  DType dtype = DType::UInt32;
  int64_t count = 0;
};

/// The sampler's generator: xoshiro256** (Blackman and Vigna), seeded by
/// splitmix64, so a seed gives the same stream on every platform.
class TokenRNG {
public:
  explicit TokenRNG(uint64_t seed = 0);
  uint64_t next();
  /// Uniform in [0, bound), without modulo bias.
  uint64_t below(uint64_t bound);
  std::array<uint64_t, 4> state;
};

/// How the sampler orders the windows of each pass.
enum class WindowOrder : uint8_t { Sequential, Shuffled };

/// Everything a checkpoint needs to resume the sampler.
struct SamplerState {
  /// The generator before drawing the current pass's permutation.
  std::array<uint64_t, 4> rng = {};
  /// Completed passes over the file, and windows taken in this one.
  int64_t pass = 0;
  int64_t cursor = 0;

  /// `pass cursor rng0 rng1 rng2 rng3`, decimal.
  std::string str() const;
  /// Parses str()'s text; errors name `what`.
  static llvm::Expected<SamplerState> parse(llvm::StringRef text,
                                            llvm::StringRef what);
  bool operator==(const SamplerState &other) const {
    return rng == other.rng && pass == other.pass && cursor == other.cursor;
  }
};

/// One training or evaluation batch: ids and labels, `[batch, seqLen]`.
struct TokenBatch {
  HostTensor inputIds;
  HostTensor labels;
};

class BatchSampler {
public:
  /// Fails, naming the file, when it holds fewer than
  /// batch * (seqLen + 1) tokens.
  static llvm::Expected<BatchSampler>
  create(std::shared_ptr<const TokenData> data, int64_t batch, int64_t seqLen,
         WindowOrder order, uint64_t seed);

  /// The next batch as tensors of `idType` (int32 or int64); passes over
  /// the file continue without end.
  TokenBatch next(DType idType);

  const SamplerState &getState() const { return state; }
  /// Resumes from a saved state; fails when the state cannot belong to
  /// this file and window size (cursor past the windows).
  llvm::Error setState(const SamplerState &saved);

  int64_t getNumWindows() const { return numWindows; }
  int64_t getBatch() const { return batch; }
  int64_t getSeqLen() const { return seqLen; }

  /// Writes window `window`'s ids and labels into row `row` of `out`
  /// (tensors of `[rows, seqLen]`).
  void fillRow(int64_t window, int64_t row, TokenBatch &out) const;

private:
  BatchSampler() = default;
  /// Draws this pass's permutation from a copy of the saved generator.
  void startPass();

  std::shared_ptr<const TokenData> data;
  int64_t batch = 0, seqLen = 0, numWindows = 0;
  WindowOrder order = WindowOrder::Sequential;
  SamplerState state;
  std::vector<int64_t> permutation;
  /// The generator after this pass's draws: the next pass starts there.
  std::array<uint64_t, 4> rngAfterShuffle = {};
};

/// Allocates an empty batch of `rows` x `seqLen` ids of `idType`.
TokenBatch allocateTokenBatch(DType idType, int64_t rows, int64_t seqLen);

} // namespace qaf

#endif // QAF_RUNTIME_TOKENDATA_H
