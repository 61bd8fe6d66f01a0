//===- SafeTensors.cpp - .safetensors weight files ------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/SafeTensors.h"
#include "qaf/Support/Error.h"

#include "qaf/Support/AtomicFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"

#include <algorithm>

using namespace llvm;

namespace qaf {

namespace {
struct SafeTensorsDTypeName {
  DType dtype;
  StringLiteral name;
};

constexpr SafeTensorsDTypeName kSafeTensorsDTypeNames[] = {
    {DType::Float32, "F32"}, {DType::Float16, "F16"}, {DType::BFloat16, "BF16"},
    {DType::Float64, "F64"}, {DType::Int8, "I8"},     {DType::Int16, "I16"},
    {DType::Int32, "I32"},   {DType::Int64, "I64"},   {DType::UInt8, "U8"},
    {DType::UInt16, "U16"},  {DType::UInt32, "U32"},  {DType::UInt64, "U64"},
    {DType::Bool, "BOOL"},
};

constexpr uint64_t kHeaderLengthBytes = 8;
constexpr StringLiteral kMetadataKey = "__metadata__";

} // namespace

StringRef getSafeTensorsDTypeName(DType dtype) {
  for (const SafeTensorsDTypeName &entry : kSafeTensorsDTypeNames)
    if (entry.dtype == dtype)
      return entry.name;
  llvm_unreachable("every DType has a safetensors name");
}

std::optional<DType> parseSafeTensorsDTypeName(StringRef name) {
  for (const SafeTensorsDTypeName &entry : kSafeTensorsDTypeNames)
    if (entry.name == name)
      return entry.dtype;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::open(StringRef path) {
  Expected<std::unique_ptr<MemoryBuffer>> buffer = readTensorFile(path);
  if (!buffer)
    return buffer.takeError();
  return parse(std::move(*buffer), path);
}

Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::parse(std::unique_ptr<MemoryBuffer> buffer,
                       StringRef sourceName) {
  auto fail = [&](const Twine &message) {
    return makeError(sourceName + ": " + message);
  };
  StringRef bytes = buffer->getBuffer();
  uint64_t fileSize = bytes.size();
  if (fileSize < kHeaderLengthBytes)
    return fail("not a safetensors file: " + Twine(fileSize) +
                " bytes, too short for the 8-byte header length");
  uint64_t headerSize = support::endian::read64le(bytes.data());
  if (headerSize > kMaxSafeTensorsHeaderBytes)
    return fail("not a safetensors file: header length " + Twine(headerSize) +
                " is larger than the " + Twine(kMaxSafeTensorsHeaderBytes) +
                "-byte limit (corrupt or not safetensors)");
  if (headerSize > fileSize - kHeaderLengthBytes)
    return fail("truncated: the header length is " + Twine(headerSize) +
                " bytes but only " + Twine(fileSize - kHeaderLengthBytes) +
                " follow it");
  StringRef headerText = bytes.substr(kHeaderLengthBytes, headerSize);
  uint64_t dataStart = kHeaderLengthBytes + headerSize;
  uint64_t dataSize = fileSize - dataStart;

  Expected<json::Value> header = json::parse(headerText);
  if (!header)
    return fail("the header is not valid JSON: " +
                toString(header.takeError()));
  const json::Object *root = header->getAsObject();
  if (!root)
    return fail("the header is not a JSON object");

  std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->path = sourceName.str();
  for (const auto &[key, value] : *root) {
    StringRef name = key;
    if (name == kMetadataKey) {
      const json::Object *metadata = value.getAsObject();
      if (!metadata)
        return fail("__metadata__ is not an object of strings");
      for (const auto &[metaKey, metaValue] : *metadata) {
        std::optional<StringRef> text = metaValue.getAsString();
        if (!text)
          return fail("__metadata__ entry '" + StringRef(metaKey) +
                      "' is not a string");
        file->metadata[metaKey.str()] = text->str();
      }
      continue;
    }
    auto failTensor = [&](const Twine &message) {
      return fail("tensor '" + name + "': " + message);
    };
    const json::Object *entry = value.getAsObject();
    if (!entry)
      return failTensor("expected an object with dtype, shape and "
                        "data_offsets");
    std::optional<StringRef> dtypeName = entry->getString("dtype");
    if (!dtypeName)
      return failTensor("missing dtype");
    std::optional<DType> dtype = parseSafeTensorsDTypeName(*dtypeName);
    if (!dtype)
      return failTensor("unsupported dtype '" + *dtypeName + "'");

    SafeTensorInfo info;
    info.name = name.str();
    info.dtype = *dtype;
    const json::Array *shape = entry->getArray("shape");
    if (!shape)
      return failTensor("missing shape");
    for (const json::Value &dim : *shape) {
      std::optional<int64_t> size = dim.getAsInteger();
      if (!size || *size < 0)
        return failTensor("the shape must list non-negative integers");
      info.shape.push_back(*size);
    }
    Expected<int64_t> count = getCheckedNumElements(
        info.shape, info.dtype, ("tensor '" + name + "'").str());
    if (!count)
      return fail(toString(count.takeError()));

    const json::Array *offsets = entry->getArray("data_offsets");
    std::optional<int64_t> begin, end;
    if (offsets && offsets->size() == 2) {
      begin = (*offsets)[0].getAsInteger();
      end = (*offsets)[1].getAsInteger();
    }
    if (!begin || !end || *begin < 0 || *end < 0)
      return failTensor("data_offsets must be two non-negative integers");
    if (*begin > *end || uint64_t(*end) > dataSize)
      return failTensor("data_offsets [" + Twine(*begin) + ", " + Twine(*end) +
                        ") are outside the data (" + Twine(dataSize) +
                        " bytes after the header; truncated or corrupt)");
    uint64_t expected = uint64_t(*count) * getDTypeSize(info.dtype);
    if (uint64_t(*end - *begin) != expected)
      return failTensor("data_offsets [" + Twine(*begin) + ", " + Twine(*end) +
                        ") hold " + Twine(*end - *begin) + " bytes, but " +
                        getDTypeName(info.dtype) + formatShape(info.shape) +
                        " needs " + Twine(expected));
    info.fileOffset = dataStart + *begin;
    info.numBytes = expected;
    file->tensors.push_back(std::move(info));
  }

  // The data must be covered exactly, without holes or overlaps (the format
  // forbids both: a hole could hide a second file inside this one).
  llvm::sort(file->tensors,
             [](const SafeTensorInfo &a, const SafeTensorInfo &b) {
               return std::tie(a.fileOffset, a.numBytes, a.name) <
                      std::tie(b.fileOffset, b.numBytes, b.name);
             });
  uint64_t covered = dataStart;
  for (const SafeTensorInfo &tensor : file->tensors) {
    if (tensor.fileOffset != covered)
      return fail("tensor '" + tensor.name + "' starts at data offset " +
                  Twine(tensor.fileOffset - dataStart) + ", expected " +
                  Twine(covered - dataStart) +
                  (tensor.fileOffset < covered ? " (tensors overlap)"
                                               : " (a hole in the data)"));
    covered += tensor.numBytes;
  }
  if (covered != fileSize)
    return fail("the data is " + Twine(dataSize) + " bytes but the tensors " +
                "cover " + Twine(covered - dataStart) +
                " (trailing bytes after the last tensor)");

  for (auto [i, tensor] : enumerate(file->tensors))
    file->indexByName[tensor.name] = i;
  file->buffer = std::move(buffer);
  return file;
}

const SafeTensorInfo *SafeTensorsFile::lookup(StringRef name) const {
  auto it = indexByName.find(name);
  return it == indexByName.end() ? nullptr : &tensors[it->second];
}

ArrayRef<char> SafeTensorsFile::getBytes(const SafeTensorInfo &tensor) const {
  return {buffer->getBufferStart() + tensor.fileOffset, tensor.numBytes};
}

HostTensor SafeTensorsFile::getTensor(const SafeTensorInfo &tensor) const {
  return HostTensor::borrow(tensor.dtype, tensor.shape, getBytes(tensor).data(),
                            buffer);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Error writeSafeTensors(StringRef path, ArrayRef<SafeTensorsEntry> tensors,
                       const std::map<std::string, std::string> &metadata) {
  auto fail = [&](const Twine &message) {
    return makeError("cannot write '" + path + "': " + message);
  };
  StringSet<> names;
  for (const SafeTensorsEntry &tensor : tensors) {
    if (tensor.name.empty())
      return fail("a tensor has an empty name");
    if (tensor.name == kMetadataKey)
      return fail("'__metadata__' is reserved and cannot name a tensor");
    if (!names.insert(tensor.name).second)
      return fail("duplicate tensor name '" + tensor.name + "'");
    Expected<int64_t> count = getCheckedNumElements(
        tensor.shape, tensor.dtype, "tensor '" + tensor.name + "'");
    if (!count)
      return fail(toString(count.takeError()));
    uint64_t expected = uint64_t(*count) * getDTypeSize(tensor.dtype);
    if (tensor.bytes.size() != expected)
      return fail("tensor '" + tensor.name + "' has " +
                  Twine(tensor.bytes.size()) + " bytes, but " +
                  getDTypeName(tensor.dtype) + formatShape(tensor.shape) +
                  " needs " + Twine(expected));
  }

  // Larger elements first, so that every tensor starts aligned to its own
  // element size (each size is a multiple of the next smaller one).
  std::vector<const SafeTensorsEntry *> order;
  for (const SafeTensorsEntry &tensor : tensors)
    order.push_back(&tensor);
  llvm::sort(order, [](const SafeTensorsEntry *a, const SafeTensorsEntry *b) {
    size_t sizeA = getDTypeSize(a->dtype), sizeB = getDTypeSize(b->dtype);
    if (sizeA != sizeB)
      return sizeA > sizeB;
    return a->name < b->name;
  });

  json::Object header;
  if (!metadata.empty()) {
    json::Object metadataObject;
    for (const auto &[key, value] : metadata)
      metadataObject[key] = value;
    header[kMetadataKey] = std::move(metadataObject);
  }
  uint64_t offset = 0;
  for (const SafeTensorsEntry *tensor : order) {
    json::Array shape(tensor->shape);
    header[tensor->name] = json::Object{
        {"dtype", getSafeTensorsDTypeName(tensor->dtype)},
        {"shape", std::move(shape)},
        {"data_offsets", json::Array{offset, offset + tensor->bytes.size()}}};
    offset += tensor->bytes.size();
  }
  std::string headerText;
  raw_string_ostream(headerText) << json::Value(std::move(header));
  headerText.append(alignTo(headerText.size(), 8) - headerText.size(), ' ');

  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  raw_ostream &os = (*file)->os();
  char length[kHeaderLengthBytes];
  support::endian::write64le(length, headerText.size());
  os.write(length, sizeof(length));
  os << headerText;
  for (const SafeTensorsEntry *tensor : order)
    os.write(tensor->bytes.data(), tensor->bytes.size());
  return (*file)->commit();
}

} // namespace qaf
