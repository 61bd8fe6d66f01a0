//===- NpyTest.cpp - numpy .npy reading and writing -----------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Npy.h"

#include "RuntimeTestSupport.h"

#include "llvm/Support/Endian.h"

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

class NpyTest : public TempDirTest {
protected:
  /// A .npy file of the given version with `dict` as its header, padded as
  /// numpy pads it, followed by `data`.
  static std::string makeNpy(unsigned major, StringRef dict, StringRef data) {
    size_t prefix = 6 + 2 + (major == 1 ? 2 : 4);
    std::string header = dict.str();
    size_t total = prefix + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::string file = "\x93NUMPY";
    file += static_cast<char>(major);
    file += '\0';
    char length[4];
    support::endian::write32le(length, header.size());
    file.append(length, major == 1 ? 2 : 4);
    return file + header + data.str();
  }

  static std::string parseError(StringRef contents) {
    Expected<HostTensor> tensor =
        parseNpy(MemoryBuffer::getMemBufferCopy(contents), "test.npy");
    return messageOf(tensor);
  }
};

/// A tensor of `dtype` and `shape` whose bytes count up from 1.
HostTensor makeCountingTensor(DType dtype, ArrayRef<int64_t> shape) {
  HostTensor tensor = HostTensor::allocate(dtype, shape);
  for (size_t i = 0; i < tensor.getNumBytes(); ++i)
    tensor.getMutableData()[i] =
        dtype == DType::Bool ? char(i % 2) : char(i + 1);
  return tensor;
}

class NpyRoundTripTest : public NpyTest,
                         public ::testing::WithParamInterface<DType> {};

TEST_P(NpyRoundTripTest, WritesWhatItReads) {
  for (SmallVector<int64_t> shape :
       {SmallVector<int64_t>{}, {5}, {2, 3}, {2, 1, 3}, {0, 4}}) {
    HostTensor tensor = makeCountingTensor(GetParam(), shape);
    std::string path = pathOf("t.npy");
    ASSERT_EQ(messageOf(writeNpyFile(path, tensor)), "");
    // The data starts on a 64-byte boundary, as numpy writes it.
    std::string contents = readFile(path);
    EXPECT_EQ((contents.size() - tensor.getNumBytes()) % 64, 0u);
    Expected<HostTensor> read = readNpyFile(path);
    ASSERT_TRUE(bool(read)) << toString(read.takeError());
    EXPECT_EQ(read->describe(), tensor.describe());
    EXPECT_EQ(StringRef(read->getData(), read->getNumBytes()),
              StringRef(tensor.getData(), tensor.getNumBytes()));
  }
}

INSTANTIATE_TEST_SUITE_P(AllNumpyDTypes, NpyRoundTripTest,
                         ::testing::Values(DType::Float32, DType::Float16,
                                           DType::Float64, DType::Int8,
                                           DType::Int16, DType::Int32,
                                           DType::Int64, DType::UInt8,
                                           DType::UInt16, DType::UInt32,
                                           DType::UInt64, DType::Bool),
                         [](const ::testing::TestParamInfo<DType> &info) {
                           return getDTypeName(info.param).str();
                         });

TEST_F(NpyTest, HeaderIsWhatNumpyWrites) {
  HostTensor tensor = HostTensor::allocate(DType::Float32, {2, 3});
  std::string path = pathOf("t.npy");
  ASSERT_EQ(messageOf(writeNpyFile(path, tensor)), "");
  std::string contents = readFile(path);
  EXPECT_EQ(StringRef(contents).take_front(8),
            StringRef("\x93NUMPY\x01\x00", 8));
  EXPECT_CONTAINS(
      contents, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  EXPECT_EQ(contents[contents.size() - 24 - 1], '\n');

  ASSERT_EQ(messageOf(writeNpyFile(
                path, HostTensor::allocate(DType::Bool, ArrayRef<int64_t>{7}))),
            "");
  EXPECT_CONTAINS(readFile(path), "'descr': '|b1', 'fortran_order': False, "
                                  "'shape': (7,), }");
  ASSERT_EQ(messageOf(writeNpyFile(
                path, HostTensor::allocate(DType::Int64, ArrayRef<int64_t>{}))),
            "");
  EXPECT_CONTAINS(readFile(path), "'shape': (), }");
}

TEST_F(NpyTest, HugeHeadersUseVersionTwo) {
  // 30000 unit dimensions need a header beyond version 1.0's 64 KiB.
  HostTensor tensor =
      HostTensor::allocate(DType::Float32, SmallVector<int64_t>(30000, 1));
  std::memcpy(tensor.getMutableData(), "\x01\x02\x03\x04", 4);
  std::string path = pathOf("wide.npy");
  ASSERT_EQ(messageOf(writeNpyFile(path, tensor)), "");
  std::string contents = readFile(path);
  EXPECT_EQ(contents[6], 2);
  EXPECT_EQ((contents.size() - 4) % 64, 0u);
  Expected<HostTensor> read = readNpyFile(path);
  ASSERT_TRUE(bool(read)) << toString(read.takeError());
  EXPECT_EQ(read->getRank(), 30000);
  EXPECT_EQ(StringRef(read->getData(), 4), "\x01\x02\x03\x04");
}

TEST_F(NpyTest, ReadsVersionsOneTwoAndThree) {
  std::string data(8, '\0');
  data[0] = 1;
  data[4] = 2;
  for (unsigned major : {1u, 2u, 3u}) {
    Expected<HostTensor> tensor = parseNpy(
        MemoryBuffer::getMemBufferCopy(makeNpy(
            major, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
            data)),
        "v.npy");
    ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
    EXPECT_EQ(tensor->describe(), "int32[2]");
    EXPECT_EQ(valuesOf<int32_t>(tensor->getBytes()),
              (std::vector<int32_t>{1, 2}));
  }
}

TEST_F(NpyTest, AcceptsHeaderVariantsNumpyProduces) {
  // Key order, double quotes, no trailing comma, Python 2 long integers,
  // native byte order, a one-byte type with '<'.
  for (StringRef dict :
       {"{'shape': (2, 2), 'fortran_order': False, 'descr': '<u1'}",
        "{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (2, 2)}",
        "{'descr': '=u1', 'fortran_order': False, 'shape': (2L, 2L), }",
        "{'descr': '>u1', 'fortran_order': False, 'shape': (2,2,), }"}) {
    Expected<HostTensor> tensor = parseNpy(
        MemoryBuffer::getMemBufferCopy(makeNpy(1, dict, "abcd")), "v.npy");
    ASSERT_TRUE(bool(tensor))
        << dict.str() << ": " << toString(tensor.takeError());
    EXPECT_EQ(tensor->describe(), "uint8[2, 2]") << dict.str();
  }
  // Fortran order is C order when at most one dimension exceeds 1.
  Expected<HostTensor> column = parseNpy(
      MemoryBuffer::getMemBufferCopy(makeNpy(
          1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }",
          std::string(8, '\0'))),
      "v.npy");
  EXPECT_TRUE(bool(column)) << toString(column.takeError());
}

TEST_F(NpyTest, RefusesWhatQafCannotRepresent) {
  auto withDict = [&](StringRef dict, size_t dataBytes) {
    return parseError(makeNpy(1, dict, std::string(dataBytes, '\0')));
  };
  EXPECT_CONTAINS(
      withDict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
               24),
      "test.npy: Fortran-order arrays are not supported");
  EXPECT_CONTAINS(
      withDict("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8),
      "big-endian dtype '>f4' is not supported");
  EXPECT_CONTAINS(
      withDict("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16),
      "object arrays ('|O') are not supported");
  EXPECT_CONTAINS(
      withDict("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", 24),
      "string dtype '<U3' is not supported");
  EXPECT_CONTAINS(
      withDict("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16),
      "unsupported dtype '<c8'");
  EXPECT_CONTAINS(
      withDict("{'descr': '<V2', 'fortran_order': False, 'shape': (2,), }", 4),
      "bfloat16 has no numpy dtype");
  EXPECT_CONTAINS(withDict("{'descr': [('a', '<f4')], 'fortran_order': "
                           "False, 'shape': (2,), }",
                           8),
                  "structured dtypes");
}

TEST_F(NpyTest, MalformedFiles) {
  EXPECT_CONTAINS(parseError("PK\x03\x04 a zip"), "not a .npy file");
  EXPECT_CONTAINS(parseError("\x93NUMPY"), "truncated .npy header");
  EXPECT_CONTAINS(parseError(StringRef("\x93NUMPY\x04\x00", 8)),
                  "unsupported .npy version 4.0");
  std::string whole =
      makeNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
              std::string(24, '\0'));
  EXPECT_EQ(parseError(whole), "");
  EXPECT_CONTAINS(
      parseError(StringRef(whole).drop_back(1)),
      "truncated: the data is 23 bytes, but float32[2, 3] needs 24");
  EXPECT_CONTAINS(parseError(whole + "x"),
                  "the data is 25 bytes, but float32[2, 3] needs 24");
  EXPECT_CONTAINS(parseError(StringRef(whole).take_front(30)),
                  "truncated: the header length is");
  auto withDict = [&](StringRef dict) {
    return parseError(makeNpy(1, dict, ""));
  };
  EXPECT_CONTAINS(withDict("[1, 2]"), "the header is not a Python dict");
  EXPECT_CONTAINS(withDict("{'descr': '<f4', 'shape': (0,), }"),
                  "the header lacks 'fortran_order'");
  EXPECT_CONTAINS(
      withDict("{'descr': '<f4', 'fortran_order': 0, 'shape': (0,), }"),
      "fortran_order is neither True nor False");
  EXPECT_CONTAINS(
      withDict("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"),
      "the shape must list non-negative integers");
  EXPECT_CONTAINS(withDict("{'descr': '<f4', 'fortran_order': False, 'shape': "
                           "(99999999999999999999,), }"),
                  "is too large");
  EXPECT_CONTAINS(withDict("{'descr': '<f4', 'fortran_order': False, 'shape': "
                           "(4294967296, 4294967296), }"),
                  "is too large");
  EXPECT_CONTAINS(withDict("{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (0,), 'extra': 1}"),
                  "unknown header key 'extra'");
}

TEST_F(NpyTest, BFloat16IsRefusedAndCanBeWidened) {
  HostTensor half = HostTensor::allocate(DType::BFloat16, {2});
  // 1.5 and -2 in bfloat16.
  uint16_t bits[2] = {0x3fc0, 0xc000};
  std::memcpy(half.getMutableData(), bits, sizeof(bits));
  std::string path = pathOf("h.npy");
  EXPECT_CONTAINS(messageOf(writeNpyFile(path, half)),
                  "bfloat16 has no numpy dtype");
  EXPECT_TRUE(listFolder().empty());
  HostTensor wide = widenBFloat16ToFloat32(half);
  EXPECT_EQ(wide.describe(), "float32[2]");
  EXPECT_EQ(valuesOf<float>(wide.getBytes()), (std::vector<float>{1.5f, -2}));
}

TEST_F(NpyTest, MissingFileNamesIt) {
  Expected<HostTensor> tensor = readNpyFile(pathOf("absent.npy"));
  std::string message = messageOf(tensor);
  EXPECT_CONTAINS(message, "cannot read '");
  EXPECT_CONTAINS(message, "absent.npy");
}

} // namespace
