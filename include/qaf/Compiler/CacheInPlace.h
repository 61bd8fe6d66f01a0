//===- CacheInPlace.h - KV caches written into the caller's buffer -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A decoder exported with its KV cache takes the past keys and values as
// inputs and returns `present = Concat(past, new, axis=2)` as outputs,
// [batch, heads, past + new, head size]: compiled as written, every call
// copies the whole past into a fresh output. Instead, such an input becomes
// the caller's cache buffer [batch, heads, capacity, head size] whose
// first `qaf.cache_length` positions hold the past (the scalar input
// Manifest.h names kCacheLengthInput): the entry point reads the past in
// place, writes only the new positions after it, and attends over the
// buffer's first past + new positions. The present output is tied to the
// input (`writes_into`, stored in place like a training step's updated
// parameters) instead of returned, so a token costs no copy of the cache.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_COMPILER_CACHEINPLACE_H
#define QAF_COMPILER_CACHEINPLACE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

namespace qaf {

/// On a result of an entry point: the name (onnx.name) of the input whose
/// buffer the result is written into (the same buffer, grown by the new
/// positions), rather than returned.
inline constexpr llvm::StringLiteral kWritesIntoAttr = "qaf.writes_into";

/// Ties every result of `entry` that is `onnx.Concat(%input, %new)` along
/// axis 2 of rank-4 tensors, `%input` an input of the entry point (not a
/// weight), to that input as above, and adds the kCacheLengthInput scalar
/// input the ties share. Also ties the present key and value of a
/// com.microsoft.GroupQueryAttention the entry point returns, whose past key
/// and value are inputs only it reads, to those inputs (ORT GenAI's shared
/// past/present buffer: the op writes its new tokens into the buffer, each
/// row's past length given by its seqlens_k, onnx::kPresentInPastAttr).
/// Returns the number of ties; an entry point without either pattern is
/// left as it is.
unsigned writeCachesInPlace(mlir::func::FuncOp entry);

} // namespace qaf

#endif // QAF_COMPILER_CACHEINPLACE_H
