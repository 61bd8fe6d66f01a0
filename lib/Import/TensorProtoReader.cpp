//===- TensorProtoReader.cpp - ONNX TensorProto files -> host tensors -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Import/TensorProtoReader.h"
#include "qaf/Support/Error.h"

#include "TensorProtoDecoding.h"

#include "qaf/dialects/onnx/ONNXTypes.h"

#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <memory>

using namespace llvm;
namespace ox = qaf::onnx;

namespace qaf {

namespace {
/// The runtime dtype of an ONNX data type code.
std::optional<DType> getDTypeOfDataType(int32_t dataType) {
  switch (static_cast<ox::DataType>(dataType)) {
  case ox::DataType::Float:
    return DType::Float32;
  case ox::DataType::Float16:
    return DType::Float16;
  case ox::DataType::BFloat16:
    return DType::BFloat16;
  case ox::DataType::Double:
    return DType::Float64;
  case ox::DataType::Int8:
    return DType::Int8;
  case ox::DataType::Int16:
    return DType::Int16;
  case ox::DataType::Int32:
    return DType::Int32;
  case ox::DataType::Int64:
    return DType::Int64;
  case ox::DataType::UInt8:
    return DType::UInt8;
  case ox::DataType::UInt16:
    return DType::UInt16;
  case ox::DataType::UInt32:
    return DType::UInt32;
  case ox::DataType::UInt64:
    return DType::UInt64;
  case ox::DataType::Bool:
    return DType::Bool;
  default:
    return std::nullopt;
  }
}

} // namespace

Expected<HostTensor> parseTensorProto(StringRef bytes, StringRef sourceName,
                                      std::string *name) {
  auto fail = [&](const Twine &message) {
    return makeError(sourceName + ": " + message);
  };
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return fail("larger than protobuf's 2 GiB limit");
  ::onnx::TensorProto tensor;
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()),
      static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  if (!tensor.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return fail("not a valid ONNX TensorProto: the protobuf does not parse "
                "(truncated or not a tensor?)");
  if (name)
    *name = tensor.name();

  std::optional<DType> dtype = getDTypeOfDataType(tensor.data_type());
  if (!dtype)
    return fail("element type " + ox::getDataTypeName(tensor.data_type()) +
                " is not supported (supported: numeric types and BOOL of 8 "
                "bits or more)");
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL)
    return fail("external data is not supported in a tensor file");
  if (tensor.has_segment())
    return fail("segmented tensors are not supported");
  SmallVector<int64_t, 4> shape(tensor.dims().begin(), tensor.dims().end());
  Expected<int64_t> count = getCheckedNumElements(shape, *dtype, sourceName);
  if (!count)
    return count.takeError();
  size_t expected = size_t(*count) * getDTypeSize(*dtype);

  if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != expected)
      return fail("raw_data has " + Twine(tensor.raw_data().size()) +
                  " bytes, " + getDTypeName(*dtype) + formatShape(shape) +
                  " needs " + Twine(expected));
    auto owned =
        std::make_shared<std::string>(std::move(*tensor.mutable_raw_data()));
    const char *data = owned->data();
    return HostTensor::borrow(*dtype, shape, data, std::move(owned));
  }
  auto data = std::make_shared<std::vector<char>>();
  if (Error error = decodeTypedTensorValues(
          tensor, *count, 8 * getDTypeSize(*dtype), expected, *data))
    return fail("the tensor " + toString(std::move(error)));
  const char *start = data->data();
  return HostTensor::borrow(*dtype, shape, start, std::move(data));
}

Expected<HostTensor> readTensorProtoFile(StringRef path, std::string *name) {
  Expected<std::unique_ptr<MemoryBuffer>> buffer = readTensorFile(path);
  if (!buffer)
    return buffer.takeError();
  return parseTensorProto((*buffer)->getBuffer(), path, name);
}

} // namespace qaf
