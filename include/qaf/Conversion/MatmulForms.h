//===- MatmulForms.h - the matmul forms every target's kernels take -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// linalg.matmul and linalg.batch_matmul read each operand plainly or
// transposed, as their indexing maps say: A at (m, k) or (k, m), B at (k, n)
// or (n, k), C at (m, n), after one batch dim for batch_matmul. These four
// forms are what qaf-recognize-matmuls produces and what the kernels take.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_MATMULFORMS_H
#define QAF_CONVERSION_MATMULFORMS_H

#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace qaf {

/// Which operands a matmul reads transposed: A stored as [K, M], B as [N, K].
struct MatmulForm {
  bool transposeA = false;
  bool transposeB = false;
};

/// The indexing maps (A, B, C) of a matmul in `form` over `batchDims` batch
/// loops followed by m, n and k.
llvm::SmallVector<mlir::AffineMap, 3>
getMatmulMaps(mlir::MLIRContext *context, unsigned batchDims, MatmulForm form);

/// The form of a matmul's (batchDims = 0) or batch_matmul's (1) maps; none
/// when they broadcast an operand or read anything else.
std::optional<MatmulForm> getMatmulForm(llvm::ArrayRef<mlir::AffineMap> maps,
                                        unsigned batchDims);

} // namespace qaf

#endif // QAF_CONVERSION_MATMULFORMS_H
