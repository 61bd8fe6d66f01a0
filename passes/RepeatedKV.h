//===- RepeatedKV.h - grouped-query attention's repeat_kv -------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Exporters write grouped-query attention's repeat_kv as
// Reshape(Expand(Unsqueeze(kv, [2]), [b, g, n, t, d]), [b, g·n, t, d]);
// qaf-share-grouped-kv and qaf-fuse-attention read kv itself instead.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_PASSES_REPEATEDKV_H
#define QAF_PASSES_REPEATEDKV_H

#include "mlir/IR/Value.h"

#include <cstdint>
#include <optional>

namespace qaf {

/// A repeat_kv: the key/value heads `kv` [b, g, t, d] and the repeat count n
/// of `repeated` = Reshape(Expand(Unsqueeze(kv, [2]), ...)) [b, g·n, t, d].
struct RepeatedKV {
  mlir::Value kv;
  int64_t groups, repeats;
};

/// The static dimension `d` of `value`'s ranked type, or nothing.
std::optional<int64_t> staticDim(mlir::Value value, unsigned d);

/// `repeated` as a repeat_kv of static head counts, or nothing.
std::optional<RepeatedKV> matchRepeatedKV(mlir::Value repeated);

} // namespace qaf

#endif // QAF_PASSES_REPEATEDKV_H
