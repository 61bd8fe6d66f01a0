//===- DataMovementUtils.h - reshaping helpers of the lowering --*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Reshapes that the data movement, linear algebra and quantization patterns
// share (implemented in DataMovement.cpp): views that keep the verifier's
// static/dynamic bookkeeping right.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_CONVERSION_ONNXTOLINALG_DATAMOVEMENTUTILS_H
#define QAF_LIB_CONVERSION_ONNXTOLINALG_DATAMOVEMENTUTILS_H

#include "LoweringPattern.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qaf {

/// `tensor.expand_shape` of `source` by `groups` into `outputSizes` (static
/// where they are attributes). The source is first cast so that each
/// collapsed dim is static exactly when its group is, as the verifier wants.
mlir::Value expandShape(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::Value source,
                        llvm::ArrayRef<mlir::ReassociationIndices> groups,
                        llvm::ArrayRef<mlir::OpFoldResult> outputSizes);

/// Reshapes `source` (row-major element order) into `resultType`, whose
/// sizes are `sizes` (its static dims win). The first `knownPrefix` dims are
/// known to equal the source's. Only collapse/expand views: never a copy,
/// and right for any sizes with the same element count.
mlir::Value reshapeTensor(mlir::OpBuilder &builder, mlir::Location loc,
                          mlir::Value source, mlir::RankedTensorType resultType,
                          llvm::ArrayRef<mlir::OpFoldResult> sizes,
                          int64_t knownPrefix);

} // namespace qaf

#endif // QAF_LIB_CONVERSION_ONNXTOLINALG_DATAMOVEMENTUTILS_H
