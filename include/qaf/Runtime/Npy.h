//===- Npy.h - numpy .npy tensor files --------------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The `.npy` format (numpy.lib.format), versions 1.0, 2.0 and 3.0: a magic
// string, a version, a header length and a Python dict literal with
// `descr`, `fortran_order` and `shape`, then the raw elements. qaf reads and
// writes little-endian, C-order arrays of the dtypes in HostTensor.h except
// bfloat16, which numpy does not have (see widenBFloat16ToFloat32).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_NPY_H
#define QAF_RUNTIME_NPY_H

#include "qaf/Runtime/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>

namespace qaf {

/// Reads a `.npy` file; the tensor borrows the file's (mapped) bytes.
llvm::Expected<HostTensor> readNpyFile(llvm::StringRef path);

/// Parses a `.npy` file held in `buffer`, which the tensor keeps alive.
/// Errors start with `sourceName` and say what is unsupported (Fortran
/// order, big-endian, object or structured dtypes) or malformed.
llvm::Expected<HostTensor> parseNpy(std::unique_ptr<llvm::MemoryBuffer> buffer,
                                    llvm::StringRef sourceName);

/// Writes `tensor` as a `.npy` file atomically: version 1.0 (2.0 when the
/// header needs more than 64 KiB), data aligned to 64 bytes. bfloat16 is
/// refused: numpy cannot read it.
llvm::Error writeNpyFile(llvm::StringRef path, const HostTensor &tensor);

} // namespace qaf

#endif // QAF_RUNTIME_NPY_H
