//===- ONNXTypesTest.cpp - ONNX data type codes <-> MLIR types ------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/onnx/ONNXTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <functional>
#include <string>

using namespace mlir;
using qaf::onnx::DataType;

namespace {

std::string printType(Type type) {
  if (!type)
    return "<null>";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

struct SupportedCode {
  DataType code;
  const char *name;
  /// The MLIR type the code maps to.
  std::function<Type(MLIRContext *)> makeType;
  /// Bits per element in ONNX storage.
  unsigned storageBits;
};

Type signless(MLIRContext *context, unsigned width) {
  return IntegerType::get(context, width);
}
Type unsignedInt(MLIRContext *context, unsigned width) {
  return IntegerType::get(context, width, IntegerType::Unsigned);
}

/// Every code qaf supports, with the type the header documents for it.
const SupportedCode kSupportedCodes[] = {
    {DataType::Float, "FLOAT",
     [](MLIRContext *c) { return Float32Type::get(c); }, 32},
    {DataType::UInt8, "UINT8", [](MLIRContext *c) { return unsignedInt(c, 8); },
     8},
    {DataType::Int8, "INT8", [](MLIRContext *c) { return signless(c, 8); }, 8},
    {DataType::UInt16, "UINT16",
     [](MLIRContext *c) { return unsignedInt(c, 16); }, 16},
    {DataType::Int16, "INT16", [](MLIRContext *c) { return signless(c, 16); },
     16},
    {DataType::Int32, "INT32", [](MLIRContext *c) { return signless(c, 32); },
     32},
    {DataType::Int64, "INT64", [](MLIRContext *c) { return signless(c, 64); },
     64},
    {DataType::Bool, "BOOL", [](MLIRContext *c) { return signless(c, 1); }, 8},
    {DataType::Float16, "FLOAT16",
     [](MLIRContext *c) { return Float16Type::get(c); }, 16},
    {DataType::Double, "DOUBLE",
     [](MLIRContext *c) { return Float64Type::get(c); }, 64},
    {DataType::UInt32, "UINT32",
     [](MLIRContext *c) { return unsignedInt(c, 32); }, 32},
    {DataType::UInt64, "UINT64",
     [](MLIRContext *c) { return unsignedInt(c, 64); }, 64},
    {DataType::BFloat16, "BFLOAT16",
     [](MLIRContext *c) { return BFloat16Type::get(c); }, 16},
    {DataType::Float8E4M3FN, "FLOAT8E4M3FN",
     [](MLIRContext *c) { return Float8E4M3FNType::get(c); }, 8},
    {DataType::Float8E4M3FNUZ, "FLOAT8E4M3FNUZ",
     [](MLIRContext *c) { return Float8E4M3FNUZType::get(c); }, 8},
    {DataType::Float8E5M2, "FLOAT8E5M2",
     [](MLIRContext *c) { return Float8E5M2Type::get(c); }, 8},
    {DataType::Float8E5M2FNUZ, "FLOAT8E5M2FNUZ",
     [](MLIRContext *c) { return Float8E5M2FNUZType::get(c); }, 8},
    {DataType::UInt4, "UINT4", [](MLIRContext *c) { return unsignedInt(c, 4); },
     4},
    {DataType::Int4, "INT4", [](MLIRContext *c) { return signless(c, 4); }, 4},
    {DataType::UInt2, "UINT2", [](MLIRContext *c) { return unsignedInt(c, 2); },
     2},
    {DataType::Int2, "INT2", [](MLIRContext *c) { return signless(c, 2); }, 2},
};

class ONNXTypesTest : public ::testing::TestWithParam<SupportedCode> {
protected:
  MLIRContext context;
};

TEST_P(ONNXTypesTest, CodeMapsToDocumentedType) {
  const SupportedCode &param = GetParam();
  Type expected = param.makeType(&context);
  Type actual =
      qaf::onnx::getElementType(&context, static_cast<int32_t>(param.code));
  EXPECT_EQ(actual, expected) << param.name << ": got " << printType(actual)
                              << ", expected " << printType(expected);
}

TEST_P(ONNXTypesTest, TypeMapsBackToCode) {
  const SupportedCode &param = GetParam();
  std::optional<int32_t> code =
      qaf::onnx::getDataType(param.makeType(&context));
  ASSERT_TRUE(code.has_value()) << param.name;
  EXPECT_EQ(*code, static_cast<int32_t>(param.code)) << param.name;
}

TEST_P(ONNXTypesTest, NameAndStorageWidth) {
  const SupportedCode &param = GetParam();
  EXPECT_EQ(qaf::onnx::getDataTypeName(static_cast<int32_t>(param.code)),
            param.name);
  EXPECT_EQ(qaf::onnx::getStorageBitWidth(param.makeType(&context)),
            param.storageBits)
      << param.name;
}

INSTANTIATE_TEST_SUITE_P(
    SupportedCodes, ONNXTypesTest, ::testing::ValuesIn(kSupportedCodes),
    [](const ::testing::TestParamInfo<SupportedCode> &info) {
      return std::string(info.param.name);
    });

TEST(ONNXTypesUnsupportedTest, CodesWithoutQafTypeGiveNull) {
  MLIRContext context;
  for (int32_t code : {
           static_cast<int32_t>(DataType::Undefined),
           static_cast<int32_t>(DataType::String),
           static_cast<int32_t>(DataType::Complex64),
           static_cast<int32_t>(DataType::Complex128),
           static_cast<int32_t>(DataType::Float4E2M1),
           static_cast<int32_t>(DataType::Float8E8M0),
           -1,
           27,
           1000,
       })
    EXPECT_FALSE(qaf::onnx::getElementType(&context, code))
        << "code " << code << " gave "
        << printType(qaf::onnx::getElementType(&context, code));
}

TEST(ONNXTypesUnsupportedTest, TypesWithoutOnnxCodeGiveNone) {
  MLIRContext context;
  Builder builder(&context);
  Type types[] = {
      // qaf spells signed integers signless: `si8` is not INT8.
      IntegerType::get(&context, 8, IntegerType::Signed),
      // Unsigned 1-bit is not BOOL; odd widths have no ONNX code.
      unsignedInt(&context, 1),
      signless(&context, 3),
      signless(&context, 128),
      builder.getIndexType(),
      Float80Type::get(&context),
      FloatTF32Type::get(&context),
      ComplexType::get(Float32Type::get(&context)),
      builder.getNoneType(),
  };
  for (Type type : types)
    EXPECT_FALSE(qaf::onnx::getDataType(type).has_value()) << printType(type);
}

TEST(ONNXTypesUnsupportedTest, RoundTripOverEveryCode) {
  // Whatever code maps to a type maps back to itself.
  MLIRContext context;
  for (int32_t code = -2; code < 64; ++code) {
    Type type = qaf::onnx::getElementType(&context, code);
    if (!type)
      continue;
    EXPECT_EQ(qaf::onnx::getDataType(type), std::optional<int32_t>(code))
        << "code " << code << " -> " << printType(type);
  }
}

TEST(ONNXTypesUnsupportedTest, NamesOfUnsupportedCodes) {
  EXPECT_EQ(qaf::onnx::getDataTypeName(8), "STRING");
  EXPECT_EQ(qaf::onnx::getDataTypeName(14), "COMPLEX64");
  EXPECT_EQ(qaf::onnx::getDataTypeName(0), "UNDEFINED");
  EXPECT_EQ(qaf::onnx::getDataTypeName(-1), "UNKNOWN");
  EXPECT_EQ(qaf::onnx::getDataTypeName(27), "UNKNOWN");
}

} // namespace
