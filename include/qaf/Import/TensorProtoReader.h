//===- TensorProtoReader.h - ONNX TensorProto files -> host tensors -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A serialized ONNX TensorProto (`.pb`), the format of the inputs and
// outputs of ONNX's backend tests (`test_data_set_0/input_0.pb`). Decoded
// here, beside the model importer, because only lib/Import and lib/Export
// touch protobuf; the runtime gets a HostTensor.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_IMPORT_TENSORPROTOREADER_H
#define QAF_IMPORT_TENSORPROTOREADER_H

#include "qaf/Runtime/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace qaf {

/// Reads a binary TensorProto file: raw_data or the typed value fields, of
/// any dtype HostTensor has. Errors name the file: not a TensorProto, an
/// unsupported element type (strings, complex, float8, sub-byte), external
/// or segmented data, or values that do not fill the shape. `name`, when
/// given, receives the tensor's own name (may be empty).
llvm::Expected<HostTensor> readTensorProtoFile(llvm::StringRef path,
                                               std::string *name = nullptr);

/// Decodes serialized TensorProto bytes; errors start with `sourceName`.
llvm::Expected<HostTensor> parseTensorProto(llvm::StringRef bytes,
                                            llvm::StringRef sourceName,
                                            std::string *name = nullptr);

} // namespace qaf

#endif // QAF_IMPORT_TENSORPROTOREADER_H
