//===- BitPacking.h - sub-byte integer packing ------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The one packing rule qaf uses everywhere (ONNX INT4/INT2 tensors,
// MatMulNBits weights, qaf's own quantized weights): codes of `bits` bits are
// packed little end first, so element i of a byte lives in bits
// [i*bits, (i+1)*bits).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_SUPPORT_BITPACKING_H
#define QAF_SUPPORT_BITPACKING_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace qaf {

/// Bytes needed for `count` codes of `bits` bits (bits in {1, 2, 4, 8}).
inline size_t getPackedSize(size_t count, unsigned bits) {
  size_t perByte = 8 / bits;
  return (count + perByte - 1) / perByte;
}

/// Packs the low `bits` bits of each value; trailing bits of the last byte
/// are zero.
std::vector<uint8_t> packBits(llvm::ArrayRef<uint8_t> values, unsigned bits);

/// Unpacks `count` codes of `bits` bits. With `signExtend`, codes are
/// two's-complement and widened with their sign.
std::vector<uint8_t> unpackBits(llvm::ArrayRef<uint8_t> packed, size_t count,
                                unsigned bits, bool signExtend);

} // namespace qaf

#endif // QAF_SUPPORT_BITPACKING_H
