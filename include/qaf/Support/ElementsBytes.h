//===- ElementsBytes.h - the bytes behind an ElementsAttr -------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_SUPPORT_ELEMENTSBYTES_H
#define QAF_SUPPORT_ELEMENTSBYTES_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace qaf {

/// How sub-byte integers (i2, i4) are laid out in the bytes.
enum class SubByteLayout {
  /// Packed little end first, as ONNX stores INT4/INT2.
  Packed,
  /// One element per byte.
  BytePerElement,
};

/// The row-major bytes of a dense or dense_resource constant, in the layout
/// files use: little-endian, `i1` one byte per element, sub-byte integers as
/// `layout` says. Returns a view of the attribute's own storage when it
/// already has that layout (blobs, non-splat dense data), else fills
/// `storage` and views it. `error` says why it failed (elided blob, ...).
mlir::FailureOr<llvm::ArrayRef<char>>
getElementsBytes(mlir::ElementsAttr value, std::vector<char> &storage,
                 SubByteLayout layout, std::string &error);

} // namespace qaf

#endif // QAF_SUPPORT_ELEMENTSBYTES_H
