//===- ONNXModelAttrs.h - how a ModelProto's metadata lives in IR -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// An imported model is a module holding one function, `@main_graph`. What the
// ModelProto says beside the graph is kept in these attributes so that export
// writes it back.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_ONNX_ONNXMODELATTRS_H
#define QAF_DIALECTS_ONNX_ONNXMODELATTRS_H

#include "llvm/ADT/StringRef.h"

namespace qaf::onnx {

/// The function an imported graph becomes.
inline constexpr llvm::StringLiteral kMainGraphName = "main_graph";

// Module attributes.
inline constexpr llvm::StringLiteral kIrVersionAttr = "onnx.ir_version";
/// Dictionary from domain ("ai.onnx" for the default one) to opset version.
inline constexpr llvm::StringLiteral kOpsetImportAttr = "onnx.opset_import";
inline constexpr llvm::StringLiteral kProducerNameAttr = "onnx.producer_name";
inline constexpr llvm::StringLiteral kProducerVersionAttr =
    "onnx.producer_version";
inline constexpr llvm::StringLiteral kModelDomainAttr = "onnx.domain";
inline constexpr llvm::StringLiteral kModelVersionAttr = "onnx.model_version";
inline constexpr llvm::StringLiteral kDocStringAttr = "onnx.doc_string";
inline constexpr llvm::StringLiteral kGraphNameAttr = "onnx.graph_name";
/// Dictionary of the model's metadata_props.
inline constexpr llvm::StringLiteral kMetadataPropsAttr = "onnx.metadata_props";
/// Present when the model's weights came from external data files, so that
/// export writes them the same way by default.
inline constexpr llvm::StringLiteral kExternalDataAttr = "onnx.external_data";

// Function argument and result attributes.
/// The graph input or output name.
inline constexpr llvm::StringLiteral kValueNameAttr = "onnx.name";
/// One string per dimension: its symbolic name (dim_param), "" if none.
inline constexpr llvm::StringLiteral kDimParamsAttr = "onnx.dim_params";

// Attributes qaf adds to ops (never exported).
/// On a com.microsoft.GroupQueryAttention whose past_key/past_value are the
/// caller's cache buffers (qaf::writeCachesInPlace): each buffer holds at
/// least total_sequence_length positions, and present is that buffer with
/// the new tokens written in, not a copy.
inline constexpr llvm::StringLiteral kPresentInPastAttr =
    "qaf.present_in_past";

/// The dictionary key of the default domain in `onnx.opset_import`.
inline constexpr llvm::StringLiteral kDefaultDomainKey = "ai.onnx";
inline constexpr llvm::StringLiteral kMicrosoftDomain = "com.microsoft";

} // namespace qaf::onnx

#endif // QAF_DIALECTS_ONNX_ONNXMODELATTRS_H
