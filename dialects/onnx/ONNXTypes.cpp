//===- ONNXTypes.cpp - ONNX data types <-> MLIR types ---------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/onnx/ONNXTypes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <limits>

using namespace mlir;

namespace qaf::onnx {

Type getElementType(MLIRContext *context, int64_t dataType) {
  if (dataType < std::numeric_limits<int32_t>::min() ||
      dataType > std::numeric_limits<int32_t>::max())
    return {};
  auto signless = [&](unsigned width) {
    return IntegerType::get(context, width);
  };
  auto unsignedInt = [&](unsigned width) {
    return IntegerType::get(context, width, IntegerType::Unsigned);
  };
  switch (static_cast<DataType>(dataType)) {
  case DataType::Float:
    return Float32Type::get(context);
  case DataType::UInt8:
    return unsignedInt(8);
  case DataType::Int8:
    return signless(8);
  case DataType::UInt16:
    return unsignedInt(16);
  case DataType::Int16:
    return signless(16);
  case DataType::Int32:
    return signless(32);
  case DataType::Int64:
    return signless(64);
  case DataType::Bool:
    return signless(1);
  case DataType::Float16:
    return Float16Type::get(context);
  case DataType::Double:
    return Float64Type::get(context);
  case DataType::UInt32:
    return unsignedInt(32);
  case DataType::UInt64:
    return unsignedInt(64);
  case DataType::BFloat16:
    return BFloat16Type::get(context);
  case DataType::Float8E4M3FN:
    return Float8E4M3FNType::get(context);
  case DataType::Float8E4M3FNUZ:
    return Float8E4M3FNUZType::get(context);
  case DataType::Float8E5M2:
    return Float8E5M2Type::get(context);
  case DataType::Float8E5M2FNUZ:
    return Float8E5M2FNUZType::get(context);
  case DataType::UInt4:
    return unsignedInt(4);
  case DataType::Int4:
    return signless(4);
  case DataType::UInt2:
    return unsignedInt(2);
  case DataType::Int2:
    return signless(2);
  default:
    return {};
  }
}

std::optional<int32_t> getDataType(Type type) {
  auto code = [](DataType t) { return static_cast<int32_t>(t); };
  if (type.isF32())
    return code(DataType::Float);
  if (type.isF16())
    return code(DataType::Float16);
  if (type.isBF16())
    return code(DataType::BFloat16);
  if (type.isF64())
    return code(DataType::Double);
  if (isa<Float8E4M3FNType>(type))
    return code(DataType::Float8E4M3FN);
  if (isa<Float8E4M3FNUZType>(type))
    return code(DataType::Float8E4M3FNUZ);
  if (isa<Float8E5M2Type>(type))
    return code(DataType::Float8E5M2);
  if (isa<Float8E5M2FNUZType>(type))
    return code(DataType::Float8E5M2FNUZ);
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType)
    return std::nullopt;
  bool isUnsigned = intType.isUnsigned();
  if (intType.isSigned())
    return std::nullopt; // qaf spells signed integers signless
  switch (intType.getWidth()) {
  case 1:
    return isUnsigned ? std::nullopt : std::optional(code(DataType::Bool));
  case 2:
    return code(isUnsigned ? DataType::UInt2 : DataType::Int2);
  case 4:
    return code(isUnsigned ? DataType::UInt4 : DataType::Int4);
  case 8:
    return code(isUnsigned ? DataType::UInt8 : DataType::Int8);
  case 16:
    return code(isUnsigned ? DataType::UInt16 : DataType::Int16);
  case 32:
    return code(isUnsigned ? DataType::UInt32 : DataType::Int32);
  case 64:
    return code(isUnsigned ? DataType::UInt64 : DataType::Int64);
  default:
    return std::nullopt;
  }
}

llvm::StringRef getDataTypeName(int64_t dataType) {
  static const char *const names[] = {
      "UNDEFINED",      "FLOAT",         "UINT8",       "INT8",
      "UINT16",         "INT16",         "INT32",       "INT64",
      "STRING",         "BOOL",          "FLOAT16",     "DOUBLE",
      "UINT32",         "UINT64",        "COMPLEX64",   "COMPLEX128",
      "BFLOAT16",       "FLOAT8E4M3FN",  "FLOAT8E4M3FNUZ",
      "FLOAT8E5M2",     "FLOAT8E5M2FNUZ", "UINT4",      "INT4",
      "FLOAT4E2M1",     "FLOAT8E8M0",    "UINT2",       "INT2"};
  if (dataType < 0 || dataType >= static_cast<int64_t>(std::size(names)))
    return "UNKNOWN";
  return names[dataType];
}

unsigned getStorageBitWidth(Type elementType) {
  unsigned width = elementType.getIntOrFloatBitWidth();
  return width == 1 ? 8 : width;
}

} // namespace qaf::onnx
