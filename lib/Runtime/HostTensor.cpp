//===- HostTensor.cpp - the runtime's tensor in host memory ---------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/HostTensor.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>
#include <cstdlib>
#include <cstring>

using namespace llvm;

namespace qaf {

namespace {
struct DTypeInfo {
  DType dtype;
  StringLiteral name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::Float32, "float32", 4},   {DType::Float16, "float16", 2},
    {DType::BFloat16, "bfloat16", 2}, {DType::Float64, "float64", 8},
    {DType::Int8, "int8", 1},         {DType::Int16, "int16", 2},
    {DType::Int32, "int32", 4},       {DType::Int64, "int64", 8},
    {DType::UInt8, "uint8", 1},       {DType::UInt16, "uint16", 2},
    {DType::UInt32, "uint32", 4},     {DType::UInt64, "uint64", 8},
    {DType::Bool, "bool", 1},
};

const DTypeInfo &getInfo(DType dtype) {
  const DTypeInfo &info = kDTypes[static_cast<size_t>(dtype)];
  assert(info.dtype == dtype && "kDTypes is in declaration order");
  return info;
}
} // namespace

ArrayRef<DType> getAllDTypes() {
  static const SmallVector<DType> all = [] {
    SmallVector<DType> dtypes;
    for (const DTypeInfo &info : kDTypes)
      dtypes.push_back(info.dtype);
    return dtypes;
  }();
  return all;
}

StringRef getDTypeName(DType dtype) { return getInfo(dtype).name; }

std::optional<DType> parseDTypeName(StringRef name) {
  for (const DTypeInfo &info : kDTypes)
    if (info.name == name)
      return info.dtype;
  return std::nullopt;
}

size_t getDTypeSize(DType dtype) { return getInfo(dtype).size; }

Expected<int64_t> getCheckedNumElements(ArrayRef<int64_t> shape, DType dtype,
                                        StringRef what) {
  int64_t maxElements = kMaxTensorBytes / getDTypeSize(dtype);
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return createStringError("%s: negative dimension %lld in shape %s",
                               what.str().c_str(), (long long)dim,
                               formatShape(shape).c_str());
    if (dim != 0 && count > maxElements / dim)
      return createStringError("%s: shape %s of %s is too large",
                               what.str().c_str(), formatShape(shape).c_str(),
                               getDTypeName(dtype).str().c_str());
    count *= dim;
  }
  return count;
}

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text;
  raw_string_ostream os(text);
  os << '[';
  interleaveComma(shape, os);
  os << ']';
  return text;
}

HostTensor HostTensor::allocate(DType dtype, ArrayRef<int64_t> shape) {
  HostTensor tensor;
  tensor.dtype = dtype;
  tensor.shape.assign(shape.begin(), shape.end());
  size_t bytes = tensor.getNumBytes();
  // aligned_alloc wants a multiple of the alignment, and a non-zero size so
  // that an empty tensor still has a distinct, freeable address.
  size_t rounded = alignTo(std::max<size_t>(bytes, 1), kAlignment);
  void *memory = std::aligned_alloc(kAlignment, rounded);
  if (!memory)
    report_bad_alloc_error("cannot allocate a host tensor");
  std::memset(memory, 0, rounded);
  tensor.storage = std::shared_ptr<const void>(
      memory, [](const void *p) { std::free(const_cast<void *>(p)); });
  tensor.data = static_cast<const char *>(memory);
  tensor.writable = true;
  return tensor;
}

HostTensor HostTensor::borrow(DType dtype, ArrayRef<int64_t> shape,
                              const void *data,
                              std::shared_ptr<const void> keepAlive) {
  HostTensor tensor;
  tensor.dtype = dtype;
  tensor.shape.assign(shape.begin(), shape.end());
  tensor.data = static_cast<const char *>(data);
  tensor.storage = std::move(keepAlive);
  return tensor;
}

HostTensor HostTensor::adoptMalloc(DType dtype, ArrayRef<int64_t> shape,
                                   void *allocation, const void *data) {
  HostTensor tensor;
  tensor.dtype = dtype;
  tensor.shape.assign(shape.begin(), shape.end());
  tensor.data = static_cast<const char *>(data);
  tensor.storage = std::shared_ptr<const void>(
      allocation, [](const void *p) { std::free(const_cast<void *>(p)); });
  return tensor;
}

int64_t HostTensor::getNumElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

char *HostTensor::getMutableData() const {
  assert(writable && "only allocated tensors are writable");
  return const_cast<char *>(data);
}

std::string HostTensor::describe() const {
  return (getDTypeName(dtype) + formatShape(shape)).str();
}

HostTensor widenBFloat16ToFloat32(const HostTensor &tensor) {
  assert(tensor.getDType() == DType::BFloat16 && "widens bfloat16 only");
  HostTensor wide = HostTensor::allocate(DType::Float32, tensor.getShape());
  const char *from = tensor.getData();
  char *to = wide.getMutableData();
  for (int64_t i = 0, e = tensor.getNumElements(); i < e; ++i) {
    uint16_t half;
    std::memcpy(&half, from + 2 * i, 2);
    uint32_t bits = uint32_t(half) << 16;
    std::memcpy(to + 4 * i, &bits, 4);
  }
  return wide;
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readTensorFile(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "cannot read '%s': %s",
                                   path.str().c_str(),
                                   buffer.getError().message().c_str());
  return std::move(*buffer);
}

} // namespace qaf
