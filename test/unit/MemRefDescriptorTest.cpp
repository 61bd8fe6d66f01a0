//===- MemRefDescriptorTest.cpp - descriptors of the entry point ABI ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/MemRefDescriptor.h"

#include "RuntimeTestSupport.h"

#include <cstdlib>

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

/// The documented layout, for comparison with the flat words.
struct MemRef2 {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
};

TEST(MemRefDescriptorTest, ContiguousDescriptorHasRowMajorStrides) {
  float data[24];
  int64_t words[getMemRefDescriptorWords(3)];
  writeContiguousMemRefDescriptor(words, data, {2, 3, 4});
  EXPECT_EQ(words[0], reinterpret_cast<int64_t>(data));
  EXPECT_EQ(words[1], reinterpret_cast<int64_t>(data));
  EXPECT_EQ(words[2], 0);
  EXPECT_EQ(ArrayRef<int64_t>(words + 3, 3), ArrayRef<int64_t>({2, 3, 4}));
  EXPECT_EQ(ArrayRef<int64_t>(words + 6, 3), ArrayRef<int64_t>({12, 4, 1}));

  // A scalar is pointers and offset only.
  int64_t scalarWords[getMemRefDescriptorWords(0)];
  writeContiguousMemRefDescriptor(scalarWords, data, {});
  EXPECT_EQ(getMemRefDescriptorWords(0), 3u);
  EXPECT_EQ(scalarWords[1], reinterpret_cast<int64_t>(data));
}

TEST(MemRefDescriptorTest, ArgumentsFollowTheAbi) {
  float weight[4], input[6];
  EntryPointArguments arguments({2, 0});
  arguments.addOperand(weight, {4});
  arguments.addOperand(input, {2, 3});
  void **args = arguments.getArgs();

  // args[1 + i]: weights, then inputs, each a descriptor.
  const MemRef2 *inputDescriptor = static_cast<const MemRef2 *>(args[2]);
  EXPECT_EQ(inputDescriptor->aligned, input);
  EXPECT_EQ(inputDescriptor->sizes[0], 2);
  EXPECT_EQ(inputDescriptor->sizes[1], 3);
  EXPECT_EQ(inputDescriptor->strides[0], 3);
  EXPECT_EQ(inputDescriptor->strides[1], 1);
  EXPECT_EQ(static_cast<const int64_t *>(args[1])[1],
            reinterpret_cast<int64_t>(weight));

  // args[0]: the results back to back, as a callee writes them.
  MemRef2 *first = static_cast<MemRef2 *>(args[0]);
  first->aligned = input;
  first->sizes[0] = 7;
  int64_t *second = reinterpret_cast<int64_t *>(first + 1);
  second[1] = reinterpret_cast<int64_t>(weight);
  ASSERT_EQ(arguments.getNumResults(), 2u);
  EXPECT_EQ(arguments.getResult(0).getAligned(), input);
  EXPECT_EQ(arguments.getResult(0).getSizes()[0], 7);
  EXPECT_EQ(arguments.getResult(1).getAligned(), weight);
  EXPECT_EQ(arguments.getResult(1).getRank(), 0);
}

TEST(MemRefDescriptorTest, ContiguityIgnoresUnitDims) {
  int64_t words[getMemRefDescriptorWords(2)] = {0, 0, 0, 1, 4, 99, 1};
  EXPECT_TRUE(MemRefDescriptorView(words, 2).isContiguous());
  int64_t transposed[getMemRefDescriptorWords(2)] = {0, 0, 0, 4, 2, 1, 4};
  EXPECT_FALSE(MemRefDescriptorView(transposed, 2).isContiguous());
}

/// A malloc'd buffer holding `values`, owned by a free()ing shared_ptr.
std::shared_ptr<const void> mallocCopy(const std::vector<float> &values,
                                       float *&data) {
  data = static_cast<float *>(std::malloc(values.size() * sizeof(float)));
  std::memcpy(data, values.data(), values.size() * sizeof(float));
  return std::shared_ptr<const void>(
      data, [](const void *p) { std::free(const_cast<void *>(p)); });
}

TEST(MemRefDescriptorTest, ContiguousResultIsBorrowedWithItsOffset) {
  float *data;
  std::shared_ptr<const void> owner = mallocCopy({9, 1, 2, 3, 4, 5, 6}, data);
  int64_t words[] = {reinterpret_cast<int64_t>(data),
                     reinterpret_cast<int64_t>(data),
                     1,
                     2,
                     3,
                     3,
                     1};
  Expected<HostTensor> tensor = makeResultTensor(
      MemRefDescriptorView(words, 2), DType::Float32, owner, "output 'y'");
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(tensor->describe(), "float32[2, 3]");
  EXPECT_EQ(tensor->getData(), reinterpret_cast<const char *>(data + 1));
  EXPECT_EQ(valuesOf<float>(tensor->getBytes()),
            (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // The tensor shares ownership of the allocation.
  EXPECT_EQ(owner.use_count(), 2);
}

TEST(MemRefDescriptorTest, StridedResultIsGatheredRowMajor) {
  float *data;
  // A [2, 3] array viewed transposed as [3, 2].
  std::shared_ptr<const void> owner = mallocCopy({1, 2, 3, 4, 5, 6}, data);
  int64_t words[] = {reinterpret_cast<int64_t>(data),
                     reinterpret_cast<int64_t>(data),
                     0,
                     3,
                     2,
                     1,
                     3};
  Expected<HostTensor> tensor = makeResultTensor(
      MemRefDescriptorView(words, 2), DType::Float32, owner, "output 'y'");
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(tensor->describe(), "float32[3, 2]");
  EXPECT_EQ(valuesOf<float>(tensor->getBytes()),
            (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // The copy does not keep the allocation.
  EXPECT_EQ(owner.use_count(), 1);
}

TEST(MemRefDescriptorTest, BadResultSizesAreErrors) {
  float value = 0;
  int64_t negative[] = {0, reinterpret_cast<int64_t>(&value), 0, -3, 1};
  Expected<HostTensor> tensor = makeResultTensor(
      MemRefDescriptorView(negative, 1), DType::Float32, nullptr, "output 'y'");
  EXPECT_EQ(messageOf(tensor),
            "output 'y': negative dimension -3 in shape [-3]");
  int64_t huge[] = {
      0, reinterpret_cast<int64_t>(&value), 0, 1LL << 40, 1LL << 40, 1LL << 40,
      1};
  tensor = makeResultTensor(MemRefDescriptorView(huge, 2), DType::Float32,
                            nullptr, "output 'y'");
  EXPECT_CONTAINS(messageOf(tensor), "output 'y': shape");
  int64_t null[] = {0, 0, 0, 2, 1};
  tensor = makeResultTensor(MemRefDescriptorView(null, 1), DType::Float32,
                            nullptr, "output 'y'");
  EXPECT_EQ(messageOf(tensor),
            "output 'y': a null data pointer for 2 elements");
  // An empty result may have no memory at all.
  int64_t empty[] = {0, 0, 0, 0, 1};
  tensor = makeResultTensor(MemRefDescriptorView(empty, 1), DType::Float32,
                            nullptr, "output 'y'");
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(tensor->describe(), "float32[0]");
}

} // namespace
