//===- BitPackingTest.cpp - sub-byte packing ------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Support/BitPacking.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <random>
#include <vector>

using qaf::getPackedSize;
using qaf::packBits;
using qaf::unpackBits;

namespace {

using Bytes = std::vector<uint8_t>;

/// Two's-complement codes as the uint8 values packBits takes.
Bytes codesOf(std::initializer_list<int> values) {
  Bytes codes;
  for (int value : values)
    codes.push_back(static_cast<uint8_t>(value));
  return codes;
}

//===----------------------------------------------------------------------===//
// The layout, against bytes computed by hand from the ONNX spec ("the first
// element is stored in the 4 LSB, the second in the 4 MSB"; for 2-bit types
// the first element is in the 2 LSB).
//===----------------------------------------------------------------------===//

TEST(BitPackingTest, Int4FirstElementInLowNibble) {
  // INT4 [1, -2, 7, -8, 3]: nibbles 0x1 0xE | 0x7 0x8 | 0x3 (0x0 padding).
  EXPECT_EQ(packBits(codesOf({1, -2, 7, -8, 3}), 4), (Bytes{0xE1, 0x87, 0x03}));
}

TEST(BitPackingTest, UInt4FirstElementInLowNibble) {
  // UINT4 [1, 2, 15, 0]: 0x21, 0x0F.
  EXPECT_EQ(packBits(codesOf({1, 2, 15, 0}), 4), (Bytes{0x21, 0x0F}));
}

TEST(BitPackingTest, TwoBitFirstElementInLowestBits) {
  // [0, 1, 2, 3] -> 0b11'10'01'00; [3, 2] -> 0b0000'10'11.
  EXPECT_EQ(packBits(codesOf({0, 1, 2, 3, 3, 2}), 2), (Bytes{0xE4, 0x0B}));
  // INT2 [-2, -1, 0, 1]: codes 2, 3, 0, 1 -> 0b01'00'11'10.
  EXPECT_EQ(packBits(codesOf({-2, -1, 0, 1}), 2), (Bytes{0x4E}));
}

TEST(BitPackingTest, OneBitFirstElementInLowestBit) {
  // Elements 0, 2, 3, 7 set -> 0b1000'1101; element 8 -> bit 0 of byte 1.
  EXPECT_EQ(packBits(codesOf({1, 0, 1, 1, 0, 0, 0, 1, 1}), 1),
            (Bytes{0x8D, 0x01}));
}

TEST(BitPackingTest, EightBitIsIdentity) {
  Bytes values{0, 1, 0x7F, 0x80, 0xFF};
  EXPECT_EQ(packBits(values, 8), values);
  EXPECT_EQ(unpackBits(values, values.size(), 8, /*signExtend=*/false), values);
}

TEST(BitPackingTest, HighBitsOfValuesAreIgnored) {
  // Only the low `bits` bits of a value are stored: 0x1F packs as 0xF.
  EXPECT_EQ(packBits(Bytes{0x1F, 0xF0}, 4), (Bytes{0x0F}));
  // Low 2 bits 2, 1, 0, 3 -> 0b11'00'01'10.
  EXPECT_EQ(packBits(Bytes{0xFE, 0xFD, 0xFC, 0xFB}, 2), (Bytes{0xC6}));
}

TEST(BitPackingTest, TrailingBitsOfLastByteAreZero) {
  EXPECT_EQ(packBits(Bytes{0xF}, 4), (Bytes{0x0F}));
  EXPECT_EQ(packBits(Bytes{3, 3, 3}, 2), (Bytes{0x3F}));
  EXPECT_EQ(packBits(Bytes{1}, 1), (Bytes{0x01}));
}

TEST(BitPackingTest, EmptyInput) {
  EXPECT_TRUE(packBits(Bytes{}, 4).empty());
  EXPECT_TRUE(unpackBits(Bytes{}, 0, 4, /*signExtend=*/true).empty());
}

TEST(BitPackingTest, PackedSize) {
  EXPECT_EQ(getPackedSize(0, 4), 0u);
  EXPECT_EQ(getPackedSize(1, 4), 1u);
  EXPECT_EQ(getPackedSize(2, 4), 1u);
  EXPECT_EQ(getPackedSize(3, 4), 2u);
  EXPECT_EQ(getPackedSize(5, 2), 2u);
  EXPECT_EQ(getPackedSize(8, 1), 1u);
  EXPECT_EQ(getPackedSize(9, 1), 2u);
  EXPECT_EQ(getPackedSize(3, 8), 3u);
}

//===----------------------------------------------------------------------===//
// Unpacking and sign extension
//===----------------------------------------------------------------------===//

TEST(BitPackingTest, UnpackInt4SignExtends) {
  Bytes packed{0xE1, 0x87, 0x03};
  EXPECT_EQ(unpackBits(packed, 5, 4, /*signExtend=*/true),
            codesOf({1, -2, 7, -8, 3}));
}

TEST(BitPackingTest, UnpackUInt4ZeroExtends) {
  Bytes packed{0xE1, 0x87, 0x03};
  EXPECT_EQ(unpackBits(packed, 5, 4, /*signExtend=*/false),
            (Bytes{1, 14, 7, 8, 3}));
}

TEST(BitPackingTest, UnpackInt2SignExtends) {
  // Codes 0, 1, 2, 3 are 0, 1, -2, -1 in two's complement.
  EXPECT_EQ(unpackBits(Bytes{0xE4}, 4, 2, /*signExtend=*/true),
            codesOf({0, 1, -2, -1}));
  EXPECT_EQ(unpackBits(Bytes{0xE4}, 4, 2, /*signExtend=*/false),
            (Bytes{0, 1, 2, 3}));
}

TEST(BitPackingTest, UnpackOneBitSignExtends) {
  // A 1-bit two's-complement code is 0 or -1.
  EXPECT_EQ(unpackBits(Bytes{0x05}, 3, 1, /*signExtend=*/true),
            codesOf({-1, 0, -1}));
  EXPECT_EQ(unpackBits(Bytes{0x05}, 3, 1, /*signExtend=*/false),
            (Bytes{1, 0, 1}));
}

TEST(BitPackingTest, UnpackIgnoresPaddingBits) {
  // The high nibble of the last byte is padding, whatever it holds.
  EXPECT_EQ(unpackBits(Bytes{0x21, 0xF3}, 3, 4, /*signExtend=*/false),
            (Bytes{1, 2, 3}));
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

class BitPackingRoundTripTest : public ::testing::TestWithParam<unsigned> {};

TEST_P(BitPackingRoundTripTest, UnsignedCodesSurvive) {
  unsigned bits = GetParam();
  uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
  std::mt19937 rng(bits);
  // Every count up to a few bytes, so each position in a byte ends a tensor.
  for (size_t count = 0; count <= 40; ++count) {
    Bytes values(count);
    for (uint8_t &value : values)
      value = static_cast<uint8_t>(rng()) & mask;
    Bytes packed = packBits(values, bits);
    ASSERT_EQ(packed.size(), getPackedSize(count, bits));
    EXPECT_EQ(unpackBits(packed, count, bits, /*signExtend=*/false), values)
        << count << " codes of " << bits << " bits";
  }
}

TEST_P(BitPackingRoundTripTest, SignedCodesSurvive) {
  unsigned bits = GetParam();
  int lowest = -(1 << (bits - 1)), highest = (1 << (bits - 1)) - 1;
  // Every representable value, in a tensor whose length is not a multiple of
  // the codes per byte.
  Bytes values;
  for (int value = lowest; value <= highest; ++value)
    values.push_back(static_cast<uint8_t>(value));
  values.push_back(static_cast<uint8_t>(lowest));
  Bytes packed = packBits(values, bits);
  EXPECT_EQ(unpackBits(packed, values.size(), bits, /*signExtend=*/true),
            values);
}

INSTANTIATE_TEST_SUITE_P(Widths, BitPackingRoundTripTest,
                         ::testing::Values(1u, 2u, 4u, 8u),
                         [](const ::testing::TestParamInfo<unsigned> &info) {
                           return std::to_string(info.param) + "bit";
                         });

} // namespace
