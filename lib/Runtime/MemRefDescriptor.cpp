//===- MemRefDescriptor.cpp - memref descriptors of the entry ABI ---------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/MemRefDescriptor.h"

#include "llvm/ADT/SmallVector.h"

#include <cassert>
#include <cstring>

using namespace llvm;

namespace qaf {

void writeContiguousMemRefDescriptor(MutableArrayRef<int64_t> words,
                                     const void *data,
                                     ArrayRef<int64_t> shape) {
  int64_t rank = shape.size();
  assert(words.size() == getMemRefDescriptorWords(rank) && "descriptor size");
  words[0] = reinterpret_cast<int64_t>(data);
  words[1] = reinterpret_cast<int64_t>(data);
  words[2] = 0;
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    words[3 + d] = shape[d];
    words[3 + rank + d] = stride;
    stride *= shape[d];
  }
}

bool MemRefDescriptorView::isContiguous() const {
  int64_t expected = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    int64_t size = getSizes()[d];
    if (size != 1 && getStrides()[d] != expected)
      return false;
    expected *= size;
  }
  return true;
}

Expected<HostTensor> makeResultTensor(const MemRefDescriptorView &descriptor,
                                      DType dtype,
                                      std::shared_ptr<const void> allocation,
                                      StringRef what) {
  ArrayRef<int64_t> sizes = descriptor.getSizes();
  Expected<int64_t> count = getCheckedNumElements(sizes, dtype, what);
  if (!count)
    return count.takeError();
  if (*count == 0)
    return HostTensor::allocate(dtype, sizes);
  if (!descriptor.getAligned())
    return createStringError("%s: a null data pointer for %lld elements",
                             what.str().c_str(), (long long)*count);
  size_t elementSize = getDTypeSize(dtype);
  const char *base = static_cast<const char *>(descriptor.getAligned()) +
                     descriptor.getOffset() * int64_t(elementSize);
  if (descriptor.isContiguous())
    return HostTensor::borrow(dtype, sizes, base, std::move(allocation));

  // Gather a strided result into row-major order, one element at a time:
  // results are rarely strided, and then small.
  HostTensor copy = HostTensor::allocate(dtype, sizes);
  char *to = copy.getMutableData();
  ArrayRef<int64_t> strides = descriptor.getStrides();
  int64_t rank = sizes.size();
  SmallVector<int64_t, 4> index(rank, 0);
  for (int64_t i = 0; i < *count; ++i) {
    int64_t from = 0;
    for (int64_t d = 0; d < rank; ++d)
      from += index[d] * strides[d];
    std::memcpy(to + i * elementSize, base + from * int64_t(elementSize),
                elementSize);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
  return copy;
}

EntryPointArguments::EntryPointArguments(ArrayRef<int64_t> resultRanks)
    : resultRanks(resultRanks.begin(), resultRanks.end()) {
  size_t words = 0;
  for (int64_t rank : resultRanks) {
    resultOffsets.push_back(words);
    words += getMemRefDescriptorWords(rank);
  }
  // At least one word, so that args[0] is a valid pointer even for an entry
  // point without results.
  resultWords.assign(std::max<size_t>(words, 1), 0);
}

void EntryPointArguments::addOperand(const void *data,
                                     ArrayRef<int64_t> shape) {
  std::vector<int64_t> &words =
      operandWords.emplace_back(getMemRefDescriptorWords(shape.size()), 0);
  writeContiguousMemRefDescriptor(words, data, shape);
}

void **EntryPointArguments::getArgs() {
  args.clear();
  args.push_back(resultWords.data());
  for (std::vector<int64_t> &words : operandWords)
    args.push_back(words.data());
  return args.data();
}

MemRefDescriptorView EntryPointArguments::getResult(size_t index) const {
  return MemRefDescriptorView(resultWords.data() + resultOffsets[index],
                              resultRanks[index]);
}

} // namespace qaf
