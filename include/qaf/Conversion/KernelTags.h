//===- KernelTags.h - linalg ops a target may hand to a kernel --*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The shared lowering (onnx/qaf -> linalg) tags some contractions with what
// they compute; a target with a library kernel for that computation (the
// CPU's lib/Runtime/CPU/Kernels) replaces the tagged op by a call after
// bufferization, and any other target runs the op's loops, which compute
// the same thing.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_KERNELTAGS_H
#define QAF_CONVERSION_KERNELTAGS_H

#include "llvm/ADT/StringRef.h"

namespace qaf {

/// On a linalg.generic contraction over loops (m, n, k) computing a
/// quantized linear layer
///   y[m, n] += x[m, k] · s[n, k/g] · ((q[n, k] + move[n, k]) − z[n, k/g]),
/// whose inputs are (x [M, K], scales [N, G], zeros [N, G], [moves [N, K] i8,]
/// codes [N, K·bits/8] bytes), codes packed `bits` (2, 3, 4 or 8) per code,
/// a bit stream with the first code in the lowest bits, groups of whole
/// bytes (group_size·bits a multiple of 8). The value is a dictionary
/// {bits: i64, group_size: i64, moves: bool}.
inline constexpr llvm::StringLiteral kQLinearKernelAttr = "qaf.qlinear_kernel";

} // namespace qaf

#endif // QAF_CONVERSION_KERNELTAGS_H
