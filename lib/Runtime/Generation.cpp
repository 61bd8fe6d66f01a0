//===- Generation.cpp - token generation with a compiled decoder ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Generation.h"
#include "qaf/Support/Error.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

using namespace llvm;

namespace qaf {

namespace {

constexpr StringLiteral kInputIds = "input_ids";
constexpr StringLiteral kAttentionMask = "attention_mask";
constexpr StringLiteral kPositionIds = "position_ids";
constexpr StringLiteral kLogits = "logits";
/// optimum's cache names: past_key_values.<i>.key is fed back from
/// present.<i>.key.
constexpr StringLiteral kPastPrefix = "past_key_values.";
constexpr StringLiteral kPresentPrefix = "present.";

/// `0.9`, `-1`, `1e-06`: a command line value as people write it.
std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

bool isIndexType(DType dtype) {
  return dtype == DType::Int32 || dtype == DType::Int64;
}

std::optional<size_t> findTensor(ArrayRef<TensorSpec> specs, StringRef name) {
  for (auto [i, spec] : enumerate(specs))
    if (spec.name == name)
      return i;
  return std::nullopt;
}

/// An int32 or int64 tensor [rows, columns] with `value(row, column)`.
template <typename ValueFn>
HostTensor makeIndexTensor(DType dtype, int64_t rows, int64_t columns,
                           ValueFn value) {
  HostTensor tensor = HostTensor::allocate(dtype, {rows, columns});
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t column = 0; column < columns; ++column) {
      int64_t each = value(row, column);
      int64_t index = row * columns + column;
      if (dtype == DType::Int32)
        reinterpret_cast<int32_t *>(tensor.getMutableData())[index] = each;
      else
        reinterpret_cast<int64_t *>(tensor.getMutableData())[index] = each;
    }
  return tensor;
}

/// Checks one rank-2 index input (`input_ids`, `attention_mask`,
/// `position_ids`).
Error checkIndexInput(const TensorSpec &spec) {
  if (!isIndexType(spec.dtype) || spec.getRank() != 2)
    return makeError("input '" + spec.name + "' is " + spec.describe() +
                     ": generation fills it as int32 or int64 [batch, "
                     "sequence]");
  return Error::success();
}

} // namespace

Expected<DecoderSignature> findDecoderSignature(const EntryPoint &entry) {
  DecoderSignature signature;
  signature.entry = &entry;
  std::optional<size_t> inputIds = findTensor(entry.inputs, kInputIds);
  if (!inputIds)
    return makeError("entry point '" + entry.name + "' has no input '" +
                     kInputIds + "': it is not a decoder generation can run");
  signature.inputIds = *inputIds;
  signature.attentionMask = findTensor(entry.inputs, kAttentionMask);
  signature.positionIds = findTensor(entry.inputs, kPositionIds);
  for (std::optional<size_t> index :
       {inputIds, signature.attentionMask, signature.positionIds})
    if (index)
      if (Error error = checkIndexInput(entry.inputs[*index]))
        return std::move(error);

  std::optional<size_t> logits = findTensor(entry.outputs, kLogits);
  if (!logits)
    return makeError("entry point '" + entry.name + "' has no output '" +
                     kLogits + "': it is not a decoder generation can run");
  const TensorSpec &logitsSpec = entry.outputs[*logits];
  if (logitsSpec.dtype != DType::Float32 || logitsSpec.getRank() != 3 ||
      !logitsSpec.shape[2].isStatic())
    return makeError("output 'logits' is " + logitsSpec.describe() +
                     ": generation reads float32 [batch, sequence, vocab] "
                     "with a static vocabulary size");
  signature.logits = *logits;
  signature.vocabularySize = logitsSpec.shape[2].size;

  signature.cacheInPlace = entry.hasOutputsWrittenIntoInputs();
  for (auto [i, spec] : enumerate(entry.inputs)) {
    StringRef name = spec.name;
    if (i == *inputIds || i == signature.attentionMask ||
        i == signature.positionIds ||
        (signature.cacheInPlace && name == kCacheLengthInput))
      continue;
    if (!name.starts_with(kPastPrefix))
      return makeError("input '" + name +
                       "' is none of input_ids, attention_mask, position_ids "
                       "or past_key_values.*: generation cannot fill it");
    std::string presentName =
        (kPresentPrefix + name.drop_front(kPastPrefix.size())).str();
    std::optional<size_t> present = findTensor(entry.outputs, presentName);
    if (!present)
      return makeError("input '" + name + "' has no output '" + presentName +
                       "' to take its next value from");
    const TensorSpec &presentSpec = entry.outputs[*present];
    auto hasHeadsAndSize = [](const TensorSpec &each) {
      return each.getRank() == 4 && each.shape[1].isStatic() &&
             each.shape[3].isStatic();
    };
    if (!hasHeadsAndSize(spec) || !hasHeadsAndSize(presentSpec) ||
        presentSpec.dtype != spec.dtype ||
        !(presentSpec.shape[1] == spec.shape[1]) ||
        !(presentSpec.shape[3] == spec.shape[3]) ||
        (signature.cacheInPlace && presentSpec.writtenInto != name))
      return makeError(
          "cache input '" + name + "' (" + spec.describe() + ") and output '" +
          presentName + "' (" + presentSpec.describe() +
          ") are not [batch, heads, length, head size] of one "
          "dtype with the same static heads and head size" +
          (signature.cacheInPlace ? ", the output written into the input"
                                  : ""));
    signature.cache.push_back({i, *present});
  }
  return signature;
}

Error checkSamplingOptions(const SamplingOptions &options) {
  if (!(options.temperature >= 0) || !std::isfinite(options.temperature))
    return makeError("--temperature " + formatNumber(options.temperature) +
                     ": must be 0 (greedy) or positive");
  if (options.topK < 0)
    return makeError("--top-k " + Twine(options.topK) +
                     ": must be 0 (all tokens) or positive");
  if (!(options.topP > 0 && options.topP <= 1))
    return makeError("--top-p " + formatNumber(options.topP) +
                     ": must be in (0, 1]");
  return Error::success();
}

int64_t TokenSampler::next(ArrayRef<float> logits) {
  // Greedy: the first largest logit, as numpy's argmax.
  if (options.temperature == 0)
    return std::max_element(logits.begin(), logits.end()) - logits.begin();
  // Candidates from the most likely down; the order of equal logits is the
  // token order, so a seed gives the same draw everywhere.
  std::vector<int64_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  size_t kept = order.size();
  if (options.topK > 0)
    kept = std::min<size_t>(kept, options.topK);
  std::vector<double> weights(kept);
  double largest = logits[order.front()];
  double total = 0;
  for (size_t i = 0; i < kept; ++i) {
    weights[i] = std::exp((logits[order[i]] - largest) / options.temperature);
    total += weights[i];
  }
  if (options.topP < 1) {
    double cumulative = 0;
    for (size_t i = 0; i < kept; ++i) {
      cumulative += weights[i] / total;
      if (cumulative >= options.topP) {
        kept = i + 1;
        break;
      }
    }
    weights.resize(kept);
  }
  std::discrete_distribution<size_t> distribution(weights.begin(),
                                                  weights.end());
  return order[distribution(engine)];
}

namespace {

/// The state of one generation: the tokens so far and the cache.
class GenerationLoop {
public:
  /// A cache written in place gets its buffers of `capacity` positions
  /// here, once.
  GenerationLoop(Artifact &artifact, const DecoderSignature &signature,
                 std::vector<std::vector<int64_t>> rows, int64_t capacity)
      : artifact(artifact), signature(signature), entry(*signature.entry),
        rows(std::move(rows)) {
    for (const CacheSlot &slot : signature.cache) {
      const TensorSpec &past = entry.inputs[slot.input];
      int64_t length = signature.cacheInPlace ? capacity : 0;
      HostTensor buffer =
          HostTensor::allocate(past.dtype, {getBatch(), past.shape[1].size,
                                            length, past.shape[3].size});
      if (signature.cacheInPlace)
        buffers.buffers[past.name] = buffer;
      else
        cache.push_back(buffer);
    }
  }

  /// Runs the entry point on the tokens not seen yet (with the cache), or
  /// on all tokens (without one), and returns per row the logits of the
  /// last position.
  Expected<std::vector<std::vector<float>>> step();

  std::vector<std::vector<int64_t>> &getRows() { return rows; }
  int64_t getBatch() const { return rows.size(); }
  int64_t getLength() const { return rows.front().size(); }

private:
  std::vector<NamedTensor> makeInputs(int64_t first) const;

  Artifact &artifact;
  const DecoderSignature &signature;
  const EntryPoint &entry;
  std::vector<std::vector<int64_t>> rows;
  /// A cache written in place: the buffers, and the positions they hold.
  CacheBuffers buffers;
  /// Otherwise, per cache slot its value after the last call (of length 0
  /// before the first).
  std::vector<HostTensor> cache;
  /// Tokens the cache covers.
  int64_t cached = 0;
};

std::vector<NamedTensor> GenerationLoop::makeInputs(int64_t first) const {
  int64_t batch = getBatch(), length = getLength();
  int64_t fed = length - first;
  std::vector<NamedTensor> inputs;
  const TensorSpec &ids = entry.inputs[signature.inputIds];
  inputs.push_back({ids.name, makeIndexTensor(ids.dtype, batch, fed,
                                              [&](int64_t r, int64_t c) {
                                                return rows[r][first + c];
                                              })});
  if (signature.attentionMask) {
    const TensorSpec &mask = entry.inputs[*signature.attentionMask];
    // The mask spans the cached tokens and the new ones.
    inputs.push_back(
        {mask.name, makeIndexTensor(mask.dtype, batch, length,
                                    [](int64_t, int64_t) { return 1; })});
  }
  if (signature.positionIds) {
    const TensorSpec &positions = entry.inputs[*signature.positionIds];
    inputs.push_back(
        {positions.name,
         makeIndexTensor(positions.dtype, batch, fed,
                         [&](int64_t, int64_t c) { return first + c; })});
  }
  // runWithCache passes the buffers of a cache written in place.
  if (!signature.cacheInPlace)
    for (auto [slot, value] : zip_equal(signature.cache, cache))
      inputs.push_back({entry.inputs[slot.input].name, value});
  return inputs;
}

Expected<std::vector<std::vector<float>>> GenerationLoop::step() {
  int64_t first = signature.hasCache() ? cached : 0;
  Expected<std::vector<NamedTensor>> outputs =
      signature.cacheInPlace
          ? artifact.runWithCache(entry.name, makeInputs(first), buffers)
          : artifact.run(entry.name, makeInputs(first));
  if (!outputs)
    return outputs.takeError();
  // Outputs written in place are not returned: the others keep their order.
  auto findOutput = [&](size_t index) -> const HostTensor & {
    size_t returned = 0;
    for (size_t i = 0; i < index; ++i)
      returned += entry.outputs[i].writtenInto.empty();
    return (*outputs)[returned].tensor;
  };
  // The present outputs are the next call's past as they are: buffers the
  // entry point allocated, handed on without a copy.
  if (!signature.cacheInPlace)
    for (auto [slot, value] : zip_equal(signature.cache, cache))
      value = findOutput(slot.output);
  int64_t held = signature.cacheInPlace
                     ? buffers.length
                     : (cache.empty() ? getLength() : cache[0].getShape()[2]);
  if (held != getLength())
    return makeError("the model's cache holds " + Twine(held) +
                     " positions after a call on " + Twine(getLength()) +
                     " tokens: it does not grow by the tokens it is given");
  cached = getLength();

  const HostTensor &logits = findOutput(signature.logits);
  int64_t positions = logits.getShape()[1], vocabulary = logits.getShape()[2];
  const float *values = reinterpret_cast<const float *>(logits.getData());
  std::vector<std::vector<float>> last;
  for (int64_t row = 0; row < getBatch(); ++row) {
    const float *rowLast =
        values + (row * positions + positions - 1) * vocabulary;
    last.emplace_back(rowLast, rowLast + vocabulary);
  }
  return last;
}

/// The prompt as rows of token ids, checked against the vocabulary.
Expected<std::vector<std::vector<int64_t>>> readPrompt(const HostTensor &prompt,
                                                       int64_t vocabularySize) {
  if (!isIndexType(prompt.getDType()) || prompt.getRank() < 1 ||
      prompt.getRank() > 2)
    return makeError("--prompt-ids: the prompt is " + prompt.describe() +
                     ": expected int32 or int64 token ids [length] or "
                     "[batch, length]");
  int64_t batch = prompt.getRank() == 2 ? prompt.getShape()[0] : 1;
  int64_t length = prompt.getShape().back();
  if (batch < 1 || length < 1)
    return makeError("--prompt-ids: the prompt " + prompt.describe() +
                     " holds no token");
  std::vector<std::vector<int64_t>> rows(batch);
  for (int64_t row = 0; row < batch; ++row)
    for (int64_t column = 0; column < length; ++column) {
      int64_t index = row * length + column;
      int64_t id =
          prompt.getDType() == DType::Int32
              ? reinterpret_cast<const int32_t *>(prompt.getData())[index]
              : reinterpret_cast<const int64_t *>(prompt.getData())[index];
      if (id < 0 || id >= vocabularySize)
        return makeError("--prompt-ids: token id " + Twine(id) +
                         " at position " + Twine(column) + " of row " +
                         Twine(row) + " is outside the vocabulary [0, " +
                         Twine(vocabularySize) + ")");
      rows[row].push_back(id);
    }
  return rows;
}

} // namespace

Expected<GenerationResult> generate(Artifact &artifact,
                                    const DecoderSignature &signature,
                                    const HostTensor &prompt,
                                    const GenerationOptions &options) {
  if (Error error = checkSamplingOptions(options.sampling))
    return std::move(error);
  if (options.maxNewTokens < 1)
    return makeError("--max-new-tokens " + Twine(options.maxNewTokens) +
                     ": must be at least 1");
  if (options.maxLength < 1)
    return makeError("--max-length " + Twine(options.maxLength) +
                     ": must be at least 1");
  Expected<std::vector<std::vector<int64_t>>> rows =
      readPrompt(prompt, signature.vocabularySize);
  if (!rows)
    return rows.takeError();
  int64_t promptLength = rows->front().size();
  if (promptLength > options.maxLength)
    return makeError("--prompt-ids: the prompt has " + Twine(promptLength) +
                     " tokens, more than the " + Twine(options.maxLength) +
                     " positions of the cache (--max-length)");
  if (promptLength + options.maxNewTokens > options.maxLength)
    return makeError("--max-new-tokens " + Twine(options.maxNewTokens) +
                     ": the prompt's " + Twine(promptLength) +
                     " tokens and the new ones need " +
                     Twine(promptLength + options.maxNewTokens) +
                     " positions, more than the " + Twine(options.maxLength) +
                     " of the cache (--max-length)");

  // The cache holds at most --max-length positions; the buffers get what
  // this generation needs.
  GenerationLoop loop(artifact, signature, std::move(*rows),
                      promptLength + options.maxNewTokens);
  TokenSampler sampler(options.sampling);
  GenerationResult result;
  result.tokens.resize(loop.getBatch());
  using Clock = std::chrono::steady_clock;
  for (int64_t generated = 0; generated < options.maxNewTokens; ++generated) {
    int64_t fed = signature.hasCache() && generated > 0 ? 1 : loop.getLength();
    auto start = Clock::now();
    Expected<std::vector<std::vector<float>>> logits = loop.step();
    double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    if (!logits)
      return logits.takeError();
    if (generated == 0) {
      result.prefillTokens = loop.getBatch() * fed;
      result.prefillSeconds = seconds;
    } else {
      result.decodeTokens += loop.getBatch();
      result.decodeSeconds += seconds;
    }
    for (auto [row, rowLogits] : enumerate(*logits)) {
      int64_t token = sampler.next(rowLogits);
      loop.getRows()[row].push_back(token);
      result.tokens[row].push_back(token);
    }
  }
  return result;
}

} // namespace qaf
