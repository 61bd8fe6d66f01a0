//===- HostTensor.h - the runtime's tensor in host memory -------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A dense row-major tensor in host memory: an element type, a shape and the
// bytes. The bytes are either owned (allocated here, or a `malloc`'d result
// of generated code) or borrowed from something kept alive beside them (a
// memory-mapped file). Copies of a HostTensor share the bytes.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_HOSTTENSOR_H
#define QAF_RUNTIME_HOSTTENSOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace qaf {

/// Element types of runtime tensors. Names follow numpy (`float32`, `bool`),
/// as in the artifact manifest.
enum class DType : uint8_t {
  Float32,
  Float16,
  BFloat16,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  UInt8,
  UInt16,
  UInt32,
  UInt64,
  Bool,
};

/// Every DType, in declaration order.
llvm::ArrayRef<DType> getAllDTypes();

/// The numpy name of a dtype (`float32`, `bfloat16`, `bool`).
llvm::StringRef getDTypeName(DType dtype);

/// The dtype of a numpy name, if qaf supports it.
std::optional<DType> parseDTypeName(llvm::StringRef name);

/// Bytes per element (`bool` is one byte).
size_t getDTypeSize(DType dtype);

/// Largest byte size a tensor may have: larger shapes are corrupt input (and
/// multiplying their dims could overflow).
constexpr int64_t kMaxTensorBytes = int64_t(1) << 46;

/// The element count of `shape`, or an error naming `what` when a dim is
/// negative or the tensor would exceed kMaxTensorBytes.
llvm::Expected<int64_t> getCheckedNumElements(llvm::ArrayRef<int64_t> shape,
                                              DType dtype,
                                              llvm::StringRef what);

/// `[2, 3, 4]`; `[]` for a scalar.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

class HostTensor {
public:
  /// An empty float32 tensor of shape [0].
  HostTensor() = default;

  /// Owned, zero-filled storage aligned to kAlignment bytes. The shape must
  /// have been validated (getCheckedNumElements).
  static HostTensor allocate(DType dtype, llvm::ArrayRef<int64_t> shape);

  /// Bytes owned elsewhere; `keepAlive` (may be null) holds them alive for
  /// as long as any copy of the tensor exists.
  static HostTensor borrow(DType dtype, llvm::ArrayRef<int64_t> shape,
                           const void *data,
                           std::shared_ptr<const void> keepAlive);

  /// Takes a `malloc` allocation (released with `free(allocation)`) whose
  /// elements start at `data` (inside the allocation).
  static HostTensor adoptMalloc(DType dtype, llvm::ArrayRef<int64_t> shape,
                                void *allocation, const void *data);

  DType getDType() const { return dtype; }
  llvm::ArrayRef<int64_t> getShape() const { return shape; }
  int64_t getRank() const { return shape.size(); }
  int64_t getNumElements() const;
  size_t getNumBytes() const { return getNumElements() * getDTypeSize(dtype); }

  const char *getData() const { return data; }
  llvm::ArrayRef<char> getBytes() const { return {data, getNumBytes()}; }
  /// Writable bytes; only tensors made by `allocate` are writable.
  char *getMutableData() const;
  bool isWritable() const { return writable; }

  /// `float32[2, 4]`.
  std::string describe() const;

  /// Alignment of `allocate`d storage: a cache line, enough for any vector
  /// load generated code may use.
  static constexpr size_t kAlignment = 64;

private:
  DType dtype = DType::Float32;
  llvm::SmallVector<int64_t, 4> shape = {0};
  const char *data = nullptr;
  std::shared_ptr<const void> storage;
  bool writable = false;
};

/// A float32 tensor holding the values of a bfloat16 one (exact: bfloat16 is
/// the upper half of float32). numpy has no bfloat16, so `.npy` files carry
/// such tensors widened.
HostTensor widenBFloat16ToFloat32(const HostTensor &tensor);

/// The whole file at `path` (memory-mapped where the system allows, so
/// tensors can borrow from it); the error names the file.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readTensorFile(llvm::StringRef path);

} // namespace qaf

#endif // QAF_RUNTIME_HOSTTENSOR_H
