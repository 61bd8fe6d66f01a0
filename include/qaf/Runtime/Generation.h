//===- Generation.h - token generation with a compiled decoder --*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Autoregressive generation with an artifact's `infer` entry point. A
// decoder exported with its cache (optimum's text-generation-with-past:
// inputs input_ids, attention_mask, position_ids and
// past_key_values.{i}.key/value [batch, kv_heads, past, head_dim]; outputs
// logits and present.{i}.key/value [batch, kv_heads, past + new, head_dim])
// runs the prompt once (prefill), then one token per call with the cache.
// A decoder without a cache recomputes the whole sequence for every token.
//
// The cache is the runtime's. When the compiler wrote the present outputs
// into the past inputs' buffers (`written_into`, lib/Compiler/
// CacheInPlace.cpp), the runtime allocates one buffer [batch, kv_heads,
// prompt + new tokens, head_dim] per cache input before the prompt, and each
// call reads the past there and writes only its new positions after it: no copy
// of the past per token. Otherwise each call's present outputs (fresh buffers
// the entry point allocated, the past copied into them) become the next call's
// past inputs as they are.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_GENERATION_H
#define QAF_RUNTIME_GENERATION_H

#include "qaf/Runtime/Artifact.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace qaf {

/// One cache tensor: the past input and the present output it becomes.
struct CacheSlot {
  /// Index in the entry point's inputs and outputs.
  size_t input;
  size_t output;
};

/// The inputs and outputs of a decoder entry point, found by the names
/// optimum's exporter gives them.
struct DecoderSignature {
  const EntryPoint *entry = nullptr;
  size_t inputIds = 0;
  std::optional<size_t> attentionMask;
  std::optional<size_t> positionIds;
  size_t logits = 0;
  int64_t vocabularySize = 0;
  /// past_key_values.X paired with present.X; empty without a cache.
  std::vector<CacheSlot> cache;
  /// Whether the entry point writes present.X into past_key_values.X's
  /// buffer (and takes the past length as kCacheLengthInput).
  bool cacheInPlace = false;

  bool hasCache() const { return !cache.empty(); }
};

/// Finds the decoder signature of `entry`, or says what is missing or
/// malformed (naming the input or output): an `input_ids` input of int32 or
/// int64 [batch, sequence], a `logits` output [batch, sequence, vocab] of
/// float32, and for each `past_key_values.X` a `present.X` of the same
/// dtype, rank 4, with the same static head count and head size.
llvm::Expected<DecoderSignature> findDecoderSignature(const EntryPoint &entry);

/// How the next token is chosen from the logits.
struct SamplingOptions {
  /// 0: greedy (the first largest logit).
  double temperature = 0;
  /// Keep the k most likely tokens (0: all).
  int64_t topK = 0;
  /// Keep the smallest set of most likely tokens whose probability is at
  /// least p (1: all).
  double topP = 1;
  uint64_t seed = 0;
};

/// Refuses a negative temperature, a negative top-k, or a top-p outside
/// (0, 1], naming the option.
llvm::Error checkSamplingOptions(const SamplingOptions &options);

/// Chooses tokens from rows of logits. Sampling draws from one
/// std::mt19937_64 seeded once, so a seed gives the same tokens every run.
class TokenSampler {
public:
  explicit TokenSampler(const SamplingOptions &options)
      : options(options), engine(options.seed) {}
  int64_t next(llvm::ArrayRef<float> logits);

private:
  SamplingOptions options;
  std::mt19937_64 engine;
};

struct GenerationOptions {
  int64_t maxNewTokens = 16;
  /// The longest sequence (prompt and generated tokens) the cache holds.
  int64_t maxLength = 2048;
  SamplingOptions sampling;
};

struct GenerationResult {
  /// Per row of the prompt: the generated tokens.
  std::vector<std::vector<int64_t>> tokens;
  /// Tokens (all rows) and seconds of the prompt's call and of the calls
  /// after it.
  int64_t prefillTokens = 0;
  double prefillSeconds = 0;
  int64_t decodeTokens = 0;
  double decodeSeconds = 0;
};

/// Generates `options.maxNewTokens` tokens after `prompt` (int32 or int64,
/// [batch, length] or [length]) with entry point `signature.entry` of
/// `artifact`. Errors name the option or input: an empty prompt, a token
/// id outside the vocabulary, a prompt longer than `options.maxLength`, or
/// more new tokens than the cache has room for.
llvm::Expected<GenerationResult> generate(Artifact &artifact,
                                          const DecoderSignature &signature,
                                          const HostTensor &prompt,
                                          const GenerationOptions &options);

} // namespace qaf

#endif // QAF_RUNTIME_GENERATION_H
