//===- TokenData.cpp - token files and the training batch sampler ---------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/TokenData.h"
#include "qaf/Support/Error.h"

#include "qaf/Runtime/Npy.h"
#include "qaf/Support/AtomicFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/EndianStream.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace llvm;

namespace qaf {

namespace {

int64_t readId(const char *ids, DType dtype, int64_t index) {
  using namespace support::endian;
  switch (dtype) {
  case DType::UInt16:
    return read16le(ids + 2 * index);
  case DType::UInt32:
    return read32le(ids + 4 * index);
  case DType::Int32:
    return static_cast<int32_t>(read32le(ids + 4 * index));
  default:
    return static_cast<int64_t>(read64le(ids + 8 * index));
  }
}

/// `token 17`, or `[1, 5]` in a 2-D array of `rowLength` columns.
std::string describePosition(int64_t index, int64_t rowLength) {
  if (rowLength == 0)
    return "token " + std::to_string(index);
  return "[" + std::to_string(index / rowLength) + ", " +
         std::to_string(index % rowLength) + "]";
}

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

} // namespace

Expected<TokenData> TokenData::open(StringRef path, int64_t vocabularySize) {
  TokenData data;
  data.path = path.str();
  // Set for a 2-D .npy: positions are named by row and column.
  int64_t rowLength = 0;
  if (sys::path::extension(path) == ".npy") {
    Expected<HostTensor> tensor = readNpyFile(path);
    if (!tensor)
      return tensor.takeError();
    DType dtype = tensor->getDType();
    if (dtype != DType::Int32 && dtype != DType::Int64 &&
        dtype != DType::UInt16 && dtype != DType::UInt32)
      return makeError(path + ": token ids are " + getDTypeName(dtype) +
                       ", expected int32, int64, uint16 or uint32");
    if (tensor->getRank() != 1 && tensor->getRank() != 2)
      return makeError(path + ": token ids have shape " +
                       formatShape(tensor->getShape()) +
                       ", expected one or two dimensions");
    if (tensor->getRank() == 2)
      rowLength = tensor->getShape()[1];
    data.dtype = dtype;
    data.count = tensor->getNumElements();
    // The tensor borrows the mapped file and keeps it alive.
    data.ids = tensor->getData();
    data.storage = std::make_shared<HostTensor>(std::move(*tensor));
  } else {
    Expected<std::unique_ptr<MemoryBuffer>> file = readTensorFile(path);
    if (!file)
      return file.takeError();
    StringRef bytes = (*file)->getBuffer();
    if (bytes.size() < kTokenFileHeaderBytes ||
        !bytes.starts_with(kTokenFileMagic))
      return makeError(path + ": not a qaf token file (no '" + kTokenFileMagic +
                       "' header; token files are .npy or the flat format "
                       "of the README)");
    using namespace support::endian;
    uint32_t version = read32le(bytes.data() + 8);
    if (version != kTokenFileVersion)
      return makeError(path + ": token file version " + Twine(version) +
                       " is not supported (this runtime reads version " +
                       Twine(kTokenFileVersion) + ")");
    uint32_t width = read32le(bytes.data() + 12);
    if (width != 2 && width != 4)
      return makeError(path + ": " + Twine(width) +
                       " bytes per id is not supported (2: uint16, 4: "
                       "uint32)");
    uint64_t count = read64le(bytes.data() + 16);
    uint64_t dataBytes = bytes.size() - kTokenFileHeaderBytes;
    if (count > dataBytes / width || count * width != dataBytes)
      return makeError(path + ": the header says " + Twine(count) + " ids of " +
                       Twine(width) + " bytes, but " + Twine(dataBytes) +
                       " bytes follow it (truncated or corrupt)");
    data.dtype = width == 2 ? DType::UInt16 : DType::UInt32;
    data.count = count;
    data.ids = bytes.data() + kTokenFileHeaderBytes;
    data.storage = std::shared_ptr<const MemoryBuffer>(std::move(*file));
  }
  for (int64_t i = 0; i < data.count; ++i) {
    int64_t id = readId(data.ids, data.dtype, i);
    if (id < 0 || id >= vocabularySize)
      return makeError(path + ": " + describePosition(i, rowLength) +
                       " is id " + Twine(id) + ", outside the vocabulary [0, " +
                       Twine(vocabularySize) + ")");
  }
  return data;
}

Error TokenData::writeFlat(StringRef path, ArrayRef<int64_t> ids,
                           unsigned bytesPerId) {
  if (bytesPerId != 2 && bytesPerId != 4)
    return makeError("token ids are 2 or 4 bytes, not " + Twine(bytesPerId));
  uint64_t limit = bytesPerId == 2 ? UINT16_MAX : UINT32_MAX;
  for (auto [i, id] : llvm::enumerate(ids))
    if (id < 0 || static_cast<uint64_t>(id) > limit)
      return makeError(path + ": token " + Twine(i) + " is id " + Twine(id) +
                       ", which does not fit in " + Twine(bytesPerId) +
                       " bytes");
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  raw_ostream &os = (*file)->os();
  support::endian::Writer writer(os, endianness::little);
  os << kTokenFileMagic;
  writer.write<uint32_t>(kTokenFileVersion);
  writer.write<uint32_t>(bytesPerId);
  writer.write<uint64_t>(ids.size());
  for (int64_t id : ids) {
    if (bytesPerId == 2)
      writer.write<uint16_t>(id);
    else
      writer.write<uint32_t>(id);
  }
  return (*file)->commit();
}

int64_t TokenData::operator[](int64_t index) const {
  return readId(ids, dtype, index);
}

TokenRNG::TokenRNG(uint64_t seed) {
  for (uint64_t &word : state)
    word = splitmix64(seed);
}

uint64_t TokenRNG::next() {
  uint64_t result = rotl(state[1] * 5, 7) * 9;
  uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

uint64_t TokenRNG::below(uint64_t bound) {
  // Rejects the top partial range so every value is equally likely.
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t value;
  do
    value = next();
  while (value >= limit);
  return value % bound;
}

std::string SamplerState::str() const {
  std::string text = std::to_string(pass) + " " + std::to_string(cursor);
  for (uint64_t word : rng)
    text += " " + std::to_string(word);
  return text;
}

Expected<SamplerState> SamplerState::parse(StringRef text, StringRef what) {
  SmallVector<StringRef, 6> fields;
  text.split(fields, ' ', -1, /*KeepEmpty=*/false);
  SamplerState state;
  bool ok = fields.size() == 6 && !fields[0].getAsInteger(10, state.pass) &&
            !fields[1].getAsInteger(10, state.cursor) && state.pass >= 0 &&
            state.cursor >= 0;
  for (size_t i = 0; ok && i < 4; ++i)
    ok = !fields[2 + i].getAsInteger(10, state.rng[i]);
  if (!ok)
    return makeError(what + ": '" + text +
                     "' is not a sampler state (pass, cursor and four "
                     "generator words)");
  return state;
}

TokenBatch allocateTokenBatch(DType idType, int64_t rows, int64_t seqLen) {
  return {HostTensor::allocate(idType, {rows, seqLen}),
          HostTensor::allocate(idType, {rows, seqLen})};
}

Expected<BatchSampler>
BatchSampler::create(std::shared_ptr<const TokenData> data, int64_t batch,
                     int64_t seqLen, WindowOrder order, uint64_t seed) {
  if (batch < 1 || seqLen < 1)
    return makeError("the batch size and sequence length must be at least 1 "
                     "(batch " +
                     Twine(batch) + ", sequence length " + Twine(seqLen) + ")");
  int64_t needed = batch * (seqLen + 1);
  if (data->size() < needed)
    return makeError(data->getPath() + ": " + Twine(data->size()) +
                     " tokens are fewer than one batch needs (batch " +
                     Twine(batch) + " x (sequence length " + Twine(seqLen) +
                     " + 1) = " + Twine(needed) + ")");
  BatchSampler sampler;
  sampler.data = std::move(data);
  sampler.batch = batch;
  sampler.seqLen = seqLen;
  sampler.numWindows = sampler.data->size() / (seqLen + 1);
  sampler.order = order;
  sampler.state.rng = TokenRNG(seed).state;
  sampler.startPass();
  return sampler;
}

void BatchSampler::startPass() {
  permutation.resize(numWindows);
  for (int64_t i = 0; i < numWindows; ++i)
    permutation[i] = i;
  TokenRNG rng;
  rng.state = state.rng;
  rngAfterShuffle = state.rng;
  if (order != WindowOrder::Shuffled)
    return;
  // Fisher-Yates, written out: std::shuffle's draws differ between
  // standard libraries.
  for (int64_t i = numWindows - 1; i > 0; --i)
    std::swap(permutation[i], permutation[rng.below(i + 1)]);
  rngAfterShuffle = rng.state;
}

void BatchSampler::fillRow(int64_t window, int64_t row, TokenBatch &out) const {
  int64_t start = window * (seqLen + 1);
  for (int64_t t = 0; t < seqLen; ++t) {
    int64_t id = (*data)[start + t], label = (*data)[start + t + 1];
    int64_t index = row * seqLen + t;
    if (out.inputIds.getDType() == DType::Int32) {
      reinterpret_cast<int32_t *>(out.inputIds.getMutableData())[index] = id;
      reinterpret_cast<int32_t *>(out.labels.getMutableData())[index] = label;
    } else {
      reinterpret_cast<int64_t *>(out.inputIds.getMutableData())[index] = id;
      reinterpret_cast<int64_t *>(out.labels.getMutableData())[index] = label;
    }
  }
}

TokenBatch BatchSampler::next(DType idType) {
  TokenBatch out = allocateTokenBatch(idType, batch, seqLen);
  for (int64_t row = 0; row < batch; ++row) {
    if (state.cursor == numWindows) {
      // The next pass's permutation comes from where this one's left the
      // generator.
      state.rng = rngAfterShuffle;
      ++state.pass;
      state.cursor = 0;
      startPass();
    }
    fillRow(permutation[state.cursor++], row, out);
  }
  return out;
}

Error BatchSampler::setState(const SamplerState &saved) {
  if (saved.cursor > numWindows)
    return makeError("the saved data position (window " + Twine(saved.cursor) +
                     ") is past the " + Twine(numWindows) + " windows of '" +
                     data->getPath() + "' at sequence length " + Twine(seqLen) +
                     ": another data file or sequence length?");
  state = saved;
  startPass();
  return Error::success();
}

} // namespace qaf
