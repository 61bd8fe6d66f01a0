//===- BitPacking.cpp - sub-byte integer packing --------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Support/BitPacking.h"

#include <cassert>

namespace qaf {

std::vector<uint8_t> packBits(llvm::ArrayRef<uint8_t> values, unsigned bits) {
  assert((bits == 1 || bits == 2 || bits == 4 || bits == 8) && "bad width");
  unsigned perByte = 8 / bits;
  uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
  std::vector<uint8_t> packed(getPackedSize(values.size(), bits), 0);
  for (size_t i = 0, e = values.size(); i != e; ++i)
    packed[i / perByte] |=
        static_cast<uint8_t>((values[i] & mask) << ((i % perByte) * bits));
  return packed;
}

std::vector<uint8_t> unpackBits(llvm::ArrayRef<uint8_t> packed, size_t count,
                                unsigned bits, bool signExtend) {
  assert((bits == 1 || bits == 2 || bits == 4 || bits == 8) && "bad width");
  assert(packed.size() >= getPackedSize(count, bits) && "short input");
  unsigned perByte = 8 / bits;
  unsigned mask = (1u << bits) - 1;
  unsigned signBit = 1u << (bits - 1);
  std::vector<uint8_t> values(count);
  for (size_t i = 0; i != count; ++i) {
    unsigned code = (packed[i / perByte] >> ((i % perByte) * bits)) & mask;
    if (signExtend && (code & signBit))
      code |= ~mask;
    values[i] = static_cast<uint8_t>(code);
  }
  return values;
}

} // namespace qaf
