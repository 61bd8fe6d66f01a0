//===- ONNXTypes.h - ONNX data types <-> MLIR types -------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The one place that maps ONNX `TensorProto.DataType` codes to MLIR element
// types and back. Signed integers are signless (`i8`), unsigned ones are
// `ui8`, BOOL is `i1`; INT4/UINT4 (22/21) and INT2/UINT2 (26/25) are `i4`,
// `ui4`, `i2`, `ui2`.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_ONNX_ONNXTYPES_H
#define QAF_DIALECTS_ONNX_ONNXTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace qaf::onnx {

/// ONNX TensorProto.DataType codes (onnx.proto; numbered past the 1.12
/// schema that Debian ships, which is why they are spelled out here).
enum class DataType : int32_t {
  Undefined = 0,
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  UInt32 = 12,
  UInt64 = 13,
  Complex64 = 14,
  Complex128 = 15,
  BFloat16 = 16,
  Float8E4M3FN = 17,
  Float8E4M3FNUZ = 18,
  Float8E5M2 = 19,
  Float8E5M2FNUZ = 20,
  UInt4 = 21,
  Int4 = 22,
  Float4E2M1 = 23,
  Float8E8M0 = 24,
  UInt2 = 25,
  Int2 = 26,
};

/// The MLIR element type of an ONNX data type code, or a null type when qaf
/// does not support it (strings, complex numbers, unknown codes). The code
/// is taken as an attribute holds it (64 bits), so that no value out of
/// int32's range wraps onto a valid code.
mlir::Type getElementType(mlir::MLIRContext *context, int64_t dataType);

/// The ONNX data type code of an MLIR element type, if it has one.
std::optional<int32_t> getDataType(mlir::Type elementType);

/// The ONNX name of a data type code ("FLOAT", "INT4", ...), for messages.
llvm::StringRef getDataTypeName(int64_t dataType);

/// Bits per element in ONNX storage (4 for INT4, 1 byte = 8 for BOOL).
unsigned getStorageBitWidth(mlir::Type elementType);

} // namespace qaf::onnx

#endif // QAF_DIALECTS_ONNX_ONNXTYPES_H
