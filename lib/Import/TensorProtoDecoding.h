//===- TensorProtoDecoding.h - TensorProto value fields -> bytes -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Private to lib/Import: shared by the model importer and the standalone
// TensorProto reader, so that both decode the typed value fields the same
// way.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_IMPORT_TENSORPROTODECODING_H
#define QAF_LIB_IMPORT_TENSORPROTODECODING_H

#include "llvm/Support/Error.h"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <vector>

namespace qaf {

/// Converts the typed value fields of `tensor` (float_data, int32_data,
/// int64_data, ...) to ONNX's raw little-endian layout: `count` elements of
/// `bits` bits each, `storageBytes` in all. Sub-byte codes (bits < 8) arrive
/// packed, one byte per int32_data entry, and stay packed. `data` is resized
/// only once the field is known to hold what the shape declares: a
/// malformed tensor may declare terabytes and hold nothing. Fails with
/// "holds N values, its shape needs M".
llvm::Error decodeTypedTensorValues(const ::onnx::TensorProto &tensor,
                                    int64_t count, unsigned bits,
                                    size_t storageBytes,
                                    std::vector<char> &data);

} // namespace qaf

#endif // QAF_LIB_IMPORT_TENSORPROTODECODING_H
