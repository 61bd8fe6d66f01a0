//===- MatmulForms.cpp - the matmul forms every target's kernels take -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/MatmulForms.h"

#include "mlir/IR/AffineExpr.h"

using namespace mlir;

namespace qaf {
namespace {

/// The map reading loops `first` and `second` (0 = m, 1 = n, 2 = k) after
/// the batch loops, which it reads first.
AffineMap getOperandMap(MLIRContext *context, unsigned batchDims,
                        unsigned first, unsigned second) {
  SmallVector<AffineExpr> results;
  for (unsigned d = 0; d < batchDims; ++d)
    results.push_back(getAffineDimExpr(d, context));
  results.push_back(getAffineDimExpr(batchDims + first, context));
  results.push_back(getAffineDimExpr(batchDims + second, context));
  return AffineMap::get(batchDims + 3, 0, results, context);
}

} // namespace

SmallVector<AffineMap, 3> getMatmulMaps(MLIRContext *context,
                                        unsigned batchDims, MatmulForm form) {
  return {form.transposeA ? getOperandMap(context, batchDims, 2, 0)
                          : getOperandMap(context, batchDims, 0, 2),
          form.transposeB ? getOperandMap(context, batchDims, 1, 2)
                          : getOperandMap(context, batchDims, 2, 1),
          getOperandMap(context, batchDims, 0, 1)};
}

std::optional<MatmulForm> getMatmulForm(ArrayRef<AffineMap> maps,
                                        unsigned batchDims) {
  if (maps.size() != 3)
    return std::nullopt;
  MLIRContext *context = maps[0].getContext();
  for (bool transposeA : {false, true})
    for (bool transposeB : {false, true}) {
      MatmulForm form{transposeA, transposeB};
      if (ArrayRef<AffineMap>(getMatmulMaps(context, batchDims, form)) == maps)
        return form;
    }
  return std::nullopt;
}

} // namespace qaf
