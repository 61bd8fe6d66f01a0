//===- ElementsBytes.cpp - the bytes behind an ElementsAttr ---------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Support/ElementsBytes.h"

#include "qaf/Support/BitPacking.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace qaf {

FailureOr<ArrayRef<char>> getElementsBytes(ElementsAttr value,
                                           std::vector<char> &storage,
                                           SubByteLayout layout,
                                           std::string &error) {
  auto type = cast<ShapedType>(value.getType());
  Type elementType = type.getElementType();
  if (!elementType.isIntOrFloat()) {
    error = "unsupported element type";
    return failure();
  }
  int64_t count = type.getNumElements();
  unsigned width = elementType.getIntOrFloatBitWidth();
  bool subByte = width > 1 && width < 8;
  auto pack = [&](ArrayRef<uint8_t> codes) -> ArrayRef<char> {
    if (layout == SubByteLayout::BytePerElement) {
      storage.assign(codes.begin(), codes.end());
    } else {
      std::vector<uint8_t> packed = packBits(codes, width);
      storage.assign(packed.begin(), packed.end());
    }
    return storage;
  };

  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob) {
      error = "its data is not available (elided from text IR?)";
      return failure();
    }
    ArrayRef<char> bytes = blob->getData();
    size_t expected = count * llvm::divideCeil(width, 8);
    if (bytes.size() != expected) {
      error = "it holds " + std::to_string(bytes.size()) +
              " bytes, its type needs " + std::to_string(expected);
      return failure();
    }
    if (!subByte)
      return bytes;
    return pack(ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
  }

  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense) {
    error = "unsupported attribute kind";
    return failure();
  }
  if (width == 1) {
    storage.clear();
    for (bool flag : dense.getValues<bool>())
      storage.push_back(flag ? 1 : 0);
    return ArrayRef<char>(storage);
  }
  if (subByte) {
    std::vector<uint8_t> codes;
    codes.reserve(count);
    for (const APInt &code : dense.getValues<APInt>())
      codes.push_back(static_cast<uint8_t>(code.getZExtValue()));
    return pack(codes);
  }
  if (dense.isSplat()) {
    ArrayRef<char> element = dense.getRawData();
    storage.clear();
    storage.reserve(element.size() * count);
    for (int64_t i = 0; i < count; ++i)
      storage.insert(storage.end(), element.begin(), element.end());
    return ArrayRef<char>(storage);
  }
  return dense.getRawData();
}

} // namespace qaf
