//===- SafeTensorsTest.cpp - .safetensors reading and writing -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/SafeTensors.h"

#include "RuntimeTestSupport.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

class SafeTensorsTest : public TempDirTest {
protected:
  /// A file from a JSON header (padded to 8 bytes) and data bytes.
  std::string makeFile(StringRef header, StringRef data) {
    std::string padded = header.str();
    padded.append((8 - padded.size() % 8) % 8, ' ');
    return makeFileWithLength(padded.size(), padded, data);
  }

  std::string makeFileWithLength(uint64_t length, StringRef header,
                                 StringRef data) {
    std::string file(8, '\0');
    support::endian::write64le(file.data(), length);
    return file + header.str() + data.str();
  }

  /// The error of parsing `contents` ("" when it parses).
  std::string parseError(StringRef contents) {
    Expected<std::unique_ptr<SafeTensorsFile>> file = SafeTensorsFile::parse(
        MemoryBuffer::getMemBufferCopy(contents), "test.safetensors");
    return messageOf(file);
  }
};

TEST_F(SafeTensorsTest, RoundTripKeepsNamesDTypesShapesBytesAndMetadata) {
  std::vector<float> matrix = {1, 2, 3, 4, 5, 6};
  std::vector<int8_t> codes = {-1, 2, -3};
  std::vector<int64_t> ids = {7, 1LL << 40};
  std::vector<uint16_t> halves = {0x3c00};
  std::vector<uint8_t> flags = {1, 0, 1, 1};
  std::vector<double> scalar = {2.5};
  std::vector<SafeTensorsEntry> entries = {
      {"model.layers.0.weight", DType::Float32, {2, 3}, bytesOf(matrix)},
      {"codes", DType::Int8, {3}, bytesOf(codes)},
      {"ids", DType::Int64, {2}, bytesOf(ids)},
      {"half", DType::BFloat16, {1}, bytesOf(halves)},
      {"mask", DType::Bool, {2, 2}, bytesOf(flags)},
      {"scalar", DType::Float64, {}, bytesOf(scalar)},
      {"empty", DType::Float16, {0, 5}, {}},
  };
  std::map<std::string, std::string> metadata = {{"qaf.fingerprint", "abc123"},
                                                 {"format", "pt"}};
  std::string path = pathOf("weights.safetensors");
  ASSERT_EQ(messageOf(writeSafeTensors(path, entries, metadata)), "");

  Expected<std::unique_ptr<SafeTensorsFile>> file = SafeTensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  EXPECT_EQ((*file)->getMetadata(), metadata);
  EXPECT_EQ((*file)->getTensors().size(), entries.size());
  for (const SafeTensorsEntry &entry : entries) {
    const SafeTensorInfo *info = (*file)->lookup(entry.name);
    ASSERT_NE(info, nullptr) << entry.name;
    EXPECT_EQ(info->dtype, entry.dtype) << entry.name;
    EXPECT_EQ(ArrayRef<int64_t>(info->shape), ArrayRef<int64_t>(entry.shape))
        << entry.name;
    ArrayRef<char> bytes = (*file)->getBytes(*info);
    EXPECT_EQ(StringRef(bytes.data(), bytes.size()),
              StringRef(entry.bytes.data(), entry.bytes.size()))
        << entry.name;
    // Every tensor is aligned to its element size inside the file.
    EXPECT_EQ(info->fileOffset % getDTypeSize(info->dtype), 0u) << entry.name;
  }
  EXPECT_EQ((*file)->lookup("missing"), nullptr);

  // The tensor view borrows the mapping and outlives the file object.
  HostTensor matrixTensor =
      (*file)->getTensor(*(*file)->lookup("model.layers.0.weight"));
  file->reset();
  EXPECT_EQ(matrixTensor.describe(), "float32[2, 3]");
  EXPECT_EQ(valuesOf<float>(matrixTensor.getBytes()), matrix);
}

TEST_F(SafeTensorsTest, HeaderIsPaddedSoDataStartsAligned) {
  std::vector<float> values = {1};
  std::string path = pathOf("w.safetensors");
  ASSERT_EQ(messageOf(writeSafeTensors(
                path, {{"a", DType::Float32, {1}, bytesOf(values)}}, {})),
            "");
  std::string contents = readFile(path);
  uint64_t headerLength = support::endian::read64le(contents.data());
  EXPECT_EQ(headerLength % 8, 0u);
  EXPECT_EQ(contents.size(), 8 + headerLength + 4);
  // Padding is spaces after the JSON, as the format specifies.
  StringRef header(contents.data() + 8, headerLength);
  EXPECT_TRUE(header.starts_with("{"));
  EXPECT_TRUE(bool(json::parse(header)));
  // No __metadata__ key without metadata.
  EXPECT_EQ(header.find("__metadata__"), StringRef::npos);
}

TEST_F(SafeTensorsTest, LargerElementsComeFirst) {
  std::vector<uint8_t> one = {1, 2, 3};
  std::vector<double> eight = {1.0};
  std::vector<uint16_t> two = {5};
  std::string path = pathOf("w.safetensors");
  ASSERT_EQ(messageOf(writeSafeTensors(
                path,
                {{"a_bytes", DType::UInt8, {3}, bytesOf(one)},
                 {"b_halves", DType::Float16, {1}, bytesOf(two)},
                 {"c_doubles", DType::Float64, {1}, bytesOf(eight)}},
                {})),
            "");
  Expected<std::unique_ptr<SafeTensorsFile>> file = SafeTensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  ArrayRef<SafeTensorInfo> tensors = (*file)->getTensors();
  ASSERT_EQ(tensors.size(), 3u);
  EXPECT_EQ(tensors[0].name, "c_doubles");
  EXPECT_EQ(tensors[1].name, "b_halves");
  EXPECT_EQ(tensors[2].name, "a_bytes");
}

TEST_F(SafeTensorsTest, WriterRefusesBadEntriesAndWritesNothing) {
  std::vector<float> values = {1, 2};
  std::string path = pathOf("w.safetensors");
  EXPECT_CONTAINS(messageOf(writeSafeTensors(
                      path, {{"a", DType::Float32, {3}, bytesOf(values)}}, {})),
                  "tensor 'a' has 8 bytes, but float32[3] needs 12");
  EXPECT_CONTAINS(
      messageOf(writeSafeTensors(path,
                                 {{"a", DType::Float32, {2}, bytesOf(values)},
                                  {"a", DType::Float32, {2}, bytesOf(values)}},
                                 {})),
      "duplicate tensor name 'a'");
  EXPECT_CONTAINS(
      messageOf(writeSafeTensors(
          path, {{"__metadata__", DType::Float32, {2}, bytesOf(values)}}, {})),
      "'__metadata__' is reserved");
  EXPECT_CONTAINS(messageOf(writeSafeTensors(
                      path, {{"", DType::Float32, {2}, bytesOf(values)}}, {})),
                  "empty name");
  EXPECT_CONTAINS(
      messageOf(writeSafeTensors(
          path, {{"a", DType::Float32, {-1}, bytesOf(values)}}, {})),
      "negative dimension");
  EXPECT_CONTAINS(
      messageOf(writeSafeTensors(pathOf("missing/w.safetensors"), {}, {})),
      "missing/w.safetensors");
  EXPECT_TRUE(listFolder().empty());
}

TEST_F(SafeTensorsTest, EmptyFileOfTensorsIsValid) {
  std::string path = pathOf("w.safetensors");
  ASSERT_EQ(messageOf(writeSafeTensors(path, {}, {})), "");
  Expected<std::unique_ptr<SafeTensorsFile>> file = SafeTensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  EXPECT_TRUE((*file)->getTensors().empty());
}

TEST_F(SafeTensorsTest, ReadsAHandWrittenFile) {
  std::string contents =
      makeFile(R"({"__metadata__":{"k":"v"},)"
               R"("b":{"dtype":"I16","shape":[2],"data_offsets":[4,8]},)"
               R"("a":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4]}})",
               StringRef("\x01\x02\x03\x04\x05\x00\x06\x00", 8));
  Expected<std::unique_ptr<SafeTensorsFile>> file = SafeTensorsFile::parse(
      MemoryBuffer::getMemBufferCopy(contents), "hand.safetensors");
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  EXPECT_EQ((*file)->getMetadata().at("k"), "v");
  HostTensor b = (*file)->getTensor(*(*file)->lookup("b"));
  EXPECT_EQ(b.describe(), "int16[2]");
  EXPECT_EQ(valuesOf<int16_t>(b.getBytes()), (std::vector<int16_t>{5, 6}));
}

TEST_F(SafeTensorsTest, TruncatedFiles) {
  EXPECT_CONTAINS(parseError(""), "too short for the 8-byte header length");
  EXPECT_CONTAINS(parseError("abc"), "test.safetensors: not a safetensors");
  std::string whole =
      makeFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
               std::string(8, '\0'));
  EXPECT_EQ(parseError(whole), "");
  // Cut in the data.
  EXPECT_CONTAINS(parseError(StringRef(whole).drop_back(3)),
                  "tensor 'a': data_offsets [0, 8) are outside the data (5 "
                  "bytes after the header");
  // Cut in the header.
  EXPECT_CONTAINS(parseError(StringRef(whole).take_front(20)),
                  "truncated: the header length is");
}

TEST_F(SafeTensorsTest, AbsurdHeaderLength) {
  EXPECT_CONTAINS(parseError(makeFileWithLength(uint64_t(1) << 62, "{}", "")),
                  "header length 4611686018427387904 is larger than the "
                  "104857600-byte limit");
  EXPECT_CONTAINS(parseError(makeFileWithLength(~uint64_t(0), "{}", "")),
                  "is larger than the");
}

TEST_F(SafeTensorsTest, OffsetsMustMatchTheShapeAndCoverTheData) {
  auto file = [&](StringRef tensors, size_t dataBytes) {
    return parseError(makeFile(tensors, std::string(dataBytes, '\0')));
  };
  EXPECT_CONTAINS(
      file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
      "tensor 'a': data_offsets [0, 8) hold 8 bytes, but float32[3] needs 12");
  EXPECT_CONTAINS(
      file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
      "are outside the data");
  EXPECT_CONTAINS(
      file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8),
      "data_offsets must be two non-negative integers");
  EXPECT_CONTAINS(
      file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
      "data_offsets must be two non-negative integers");
  // A hole between tensors.
  EXPECT_CONTAINS(
      file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
           R"("b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
           6),
      "tensor 'b' starts at data offset 4, expected 2 (a hole in the data)");
  // Overlapping tensors.
  EXPECT_CONTAINS(
      file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
           R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
           4),
      "(tensors overlap)");
  // Bytes after the last tensor.
  EXPECT_CONTAINS(
      file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 5),
      "trailing bytes after the last tensor");
}

TEST_F(SafeTensorsTest, MalformedHeaders) {
  EXPECT_CONTAINS(parseError(makeFile("{not json", "")),
                  "the header is not valid JSON");
  EXPECT_CONTAINS(parseError(makeFile("[1, 2]", "")),
                  "the header is not a JSON object");
  EXPECT_CONTAINS(
      parseError(makeFile(
          R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})",
          std::string(1, '\0'))),
      "tensor 'a': unsupported dtype 'F8_E4M3'");
  EXPECT_CONTAINS(
      parseError(makeFile(R"({"a":{"shape":[1],"data_offsets":[0,1]}})", "x")),
      "tensor 'a': missing dtype");
  EXPECT_CONTAINS(
      parseError(makeFile(
          R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "x")),
      "tensor 'a': the shape must list non-negative integers");
  EXPECT_CONTAINS(parseError(makeFile(R"({"a": 3})", "")),
                  "tensor 'a': expected an object");
  EXPECT_CONTAINS(parseError(makeFile(R"({"__metadata__":{"k":1}})", "")),
                  "__metadata__ entry 'k' is not a string");
  // A shape too large to be real (the element count would overflow).
  EXPECT_CONTAINS(
      parseError(makeFile(R"({"a":{"dtype":"F32","shape":[4294967296,)"
                          R"(4294967296],"data_offsets":[0,0]}})",
                          "")),
      "is too large");
}

TEST_F(SafeTensorsTest, DTypeNamesMatchTheFormat) {
  EXPECT_EQ(getSafeTensorsDTypeName(DType::BFloat16), "BF16");
  EXPECT_EQ(getSafeTensorsDTypeName(DType::Bool), "BOOL");
  for (DType dtype : getAllDTypes())
    EXPECT_EQ(parseSafeTensorsDTypeName(getSafeTensorsDTypeName(dtype)), dtype);
  EXPECT_EQ(parseSafeTensorsDTypeName("F8_E5M2"), std::nullopt);
}

} // namespace
