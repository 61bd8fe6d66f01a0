//===- TensorProtoReaderTest.cpp - ONNX TensorProto files -----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Import/TensorProtoReader.h"

#include "RuntimeTestSupport.h"

#include <onnx/onnx_pb.h>

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

Expected<HostTensor> parse(const ::onnx::TensorProto &proto,
                           std::string *name = nullptr) {
  return parseTensorProto(proto.SerializeAsString(), "t.pb", name);
}

::onnx::TensorProto makeProto(int32_t dataType, ArrayRef<int64_t> dims) {
  ::onnx::TensorProto proto;
  proto.set_name("t");
  proto.set_data_type(dataType);
  for (int64_t dim : dims)
    proto.add_dims(dim);
  return proto;
}

TEST(TensorProtoReaderTest, RawData) {
  ::onnx::TensorProto proto = makeProto(::onnx::TensorProto::FLOAT, {2, 2});
  std::vector<float> values = {1, 2, 3, 4};
  proto.set_raw_data(values.data(), 16);
  std::string name;
  Expected<HostTensor> tensor = parse(proto, &name);
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(name, "t");
  EXPECT_EQ(tensor->describe(), "float32[2, 2]");
  EXPECT_EQ(valuesOf<float>(tensor->getBytes()), values);
}

TEST(TensorProtoReaderTest, TypedFields) {
  ::onnx::TensorProto floats = makeProto(::onnx::TensorProto::FLOAT, {3});
  for (float v : {1.5f, -2.f, 0.f})
    floats.add_float_data(v);
  Expected<HostTensor> tensor = parse(floats);
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(valuesOf<float>(tensor->getBytes()),
            (std::vector<float>{1.5f, -2.f, 0.f}));

  // float16 travels as its bits in int32_data.
  ::onnx::TensorProto halves = makeProto(::onnx::TensorProto::FLOAT16, {2});
  halves.add_int32_data(0x3c00);
  halves.add_int32_data(0xc000);
  tensor = parse(halves);
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(tensor->describe(), "float16[2]");
  EXPECT_EQ(valuesOf<uint16_t>(tensor->getBytes()),
            (std::vector<uint16_t>{0x3c00, 0xc000}));

  ::onnx::TensorProto flags = makeProto(::onnx::TensorProto::BOOL, {3});
  for (int v : {1, 0, 1})
    flags.add_int32_data(v);
  tensor = parse(flags);
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(tensor->describe(), "bool[3]");
  EXPECT_EQ(valuesOf<uint8_t>(tensor->getBytes()),
            (std::vector<uint8_t>{1, 0, 1}));

  ::onnx::TensorProto wide = makeProto(::onnx::TensorProto::UINT32, {1});
  wide.add_uint64_data(4000000000u);
  tensor = parse(wide);
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(valuesOf<uint32_t>(tensor->getBytes()),
            (std::vector<uint32_t>{4000000000u}));

  ::onnx::TensorProto ids = makeProto(::onnx::TensorProto::INT64, {});
  ids.add_int64_data(-7);
  tensor = parse(ids);
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(tensor->describe(), "int64[]");
  EXPECT_EQ(valuesOf<int64_t>(tensor->getBytes()), (std::vector<int64_t>{-7}));
}

TEST(TensorProtoReaderTest, ErrorsNameTheFile) {
  ::onnx::TensorProto short_ = makeProto(::onnx::TensorProto::FLOAT, {4});
  short_.add_float_data(1);
  Expected<HostTensor> tensor = parse(short_);
  EXPECT_EQ(messageOf(tensor),
            "t.pb: the tensor holds 1 values, its shape needs 4");

  ::onnx::TensorProto raw = makeProto(::onnx::TensorProto::INT32, {4});
  raw.set_raw_data(std::string(3, '\0'));
  tensor = parse(raw);
  EXPECT_EQ(messageOf(tensor), "t.pb: raw_data has 3 bytes, int32[4] needs 16");

  ::onnx::TensorProto strings = makeProto(::onnx::TensorProto::STRING, {1});
  strings.add_string_data("a");
  tensor = parse(strings);
  EXPECT_CONTAINS(messageOf(tensor), "t.pb: element type STRING is not "
                                     "supported");

  ::onnx::TensorProto nibbles = makeProto(22 /* INT4 */, {2});
  tensor = parse(nibbles);
  EXPECT_CONTAINS(messageOf(tensor), "element type INT4 is not supported");

  ::onnx::TensorProto external = makeProto(::onnx::TensorProto::FLOAT, {1});
  external.set_data_location(::onnx::TensorProto::EXTERNAL);
  tensor = parse(external);
  EXPECT_EQ(messageOf(tensor),
            "t.pb: external data is not supported in a tensor file");

  ::onnx::TensorProto negative = makeProto(::onnx::TensorProto::FLOAT, {-1});
  tensor = parse(negative);
  EXPECT_CONTAINS(messageOf(tensor), "t.pb: negative dimension -1");

  tensor = parseTensorProto("\xff\xff\xff\xff", "bad.pb");
  EXPECT_CONTAINS(messageOf(tensor), "bad.pb: not a valid ONNX TensorProto");

  tensor = readTensorProtoFile("/nonexistent/input_0.pb");
  EXPECT_EQ(messageOf(tensor), "cannot read '/nonexistent/input_0.pb': No "
                               "such file or directory");
}

TEST(TensorProtoReaderTest, ReadsTheBackendTestData) {
  std::string path =
      QAF_TEST_ONNX_NODE_DATA "/test_add/test_data_set_0/input_0.pb";
  if (!sys::fs::exists(path))
    GTEST_SKIP() << "no ONNX backend test data (Debian: libonnx-testdata)";
  std::string name;
  Expected<HostTensor> tensor = readTensorProtoFile(path, &name);
  ASSERT_TRUE(bool(tensor)) << toString(tensor.takeError());
  EXPECT_EQ(name, "x");
  EXPECT_EQ(tensor->describe(), "float32[3, 4, 5]");
}

} // namespace
