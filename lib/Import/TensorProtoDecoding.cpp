//===- TensorProtoDecoding.cpp - TensorProto value fields -> bytes --------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TensorProtoDecoding.h"

#include "qaf/dialects/onnx/ONNXTypes.h"

#include <cstring>

using namespace llvm;
namespace ox = qaf::onnx;

namespace qaf {

Error decodeTypedTensorValues(const ::onnx::TensorProto &tensor, int64_t count,
                              unsigned bits, size_t storageBytes,
                              std::vector<char> &data) {
  auto mismatch = [&](size_t found) {
    return createStringError("holds %zu values, its shape needs %lld", found,
                             static_cast<long long>(count));
  };
  auto copyValues = [&](const auto &field, auto convert) -> Error {
    if (static_cast<int64_t>(field.size()) != count)
      return mismatch(field.size());
    data.resize(storageBytes);
    using Stored = decltype(convert(*field.begin()));
    for (int64_t i = 0; i < count; ++i) {
      Stored value = convert(field.Get(i));
      std::memcpy(data.data() + i * sizeof(Stored), &value, sizeof(Stored));
    }
    return Error::success();
  };
  switch (static_cast<ox::DataType>(tensor.data_type())) {
  case ox::DataType::Float:
    return copyValues(tensor.float_data(), [](float v) { return v; });
  case ox::DataType::Double:
    return copyValues(tensor.double_data(), [](double v) { return v; });
  case ox::DataType::Int64:
    return copyValues(tensor.int64_data(), [](int64_t v) { return v; });
  case ox::DataType::UInt64:
    return copyValues(tensor.uint64_data(), [](uint64_t v) { return v; });
  case ox::DataType::UInt32:
    return copyValues(tensor.uint64_data(),
                      [](uint64_t v) { return static_cast<uint32_t>(v); });
  case ox::DataType::Int32:
    return copyValues(tensor.int32_data(), [](int32_t v) { return v; });
  default:
    break;
  }
  // Everything else travels in int32_data: 16-bit types (float16, bfloat16,
  // int16, uint16) and bytes as their values, sub-byte codes packed.
  if (bits == 16)
    return copyValues(tensor.int32_data(),
                      [](int32_t v) { return static_cast<uint16_t>(v); });
  if (bits == 8)
    return copyValues(tensor.int32_data(),
                      [](int32_t v) { return static_cast<uint8_t>(v); });
  if (static_cast<size_t>(tensor.int32_data_size()) != storageBytes)
    return mismatch(tensor.int32_data_size() * (8 / bits));
  data.resize(storageBytes);
  for (size_t i = 0; i < storageBytes; ++i)
    data[i] = static_cast<char>(tensor.int32_data(i));
  return Error::success();
}

} // namespace qaf
