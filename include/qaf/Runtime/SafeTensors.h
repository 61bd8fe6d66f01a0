//===- SafeTensors.h - .safetensors weight files ----------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The safetensors format (huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON mapping each tensor name to its dtype,
// shape and `data_offsets` [begin, end) relative to the data that follows the
// header, and an optional `__metadata__` map of strings. The data is one
// contiguous buffer without holes. Artifacts keep their weights in this
// format; the reader memory-maps the file and never copies a tensor.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_SAFETENSORS_H
#define QAF_RUNTIME_SAFETENSORS_H

#include "qaf/Runtime/HostTensor.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qaf {

/// The safetensors name of a dtype (`F32`, `BF16`, `BOOL`).
llvm::StringRef getSafeTensorsDTypeName(DType dtype);

/// The dtype of a safetensors name, if qaf supports it.
std::optional<DType> parseSafeTensorsDTypeName(llvm::StringRef name);

/// Largest header a reader accepts, as the reference implementation does:
/// beyond it, the length field is garbage.
constexpr uint64_t kMaxSafeTensorsHeaderBytes = 100 << 20;

/// One tensor of an open file.
struct SafeTensorInfo {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  /// Where the bytes start, from the start of the file.
  uint64_t fileOffset;
  uint64_t numBytes;
};

/// A validated, memory-mapped safetensors file.
class SafeTensorsFile {
public:
  /// Maps and validates the file at `path`.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  open(llvm::StringRef path);

  /// Validates a file held in `buffer`; errors name `sourceName`.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef sourceName);

  const std::string &getPath() const { return path; }

  /// The tensors, in the order of their data in the file.
  llvm::ArrayRef<SafeTensorInfo> getTensors() const { return tensors; }

  /// The tensor called `name`, or null.
  const SafeTensorInfo *lookup(llvm::StringRef name) const;

  /// The bytes of a tensor, inside the mapping.
  llvm::ArrayRef<char> getBytes(const SafeTensorInfo &tensor) const;

  /// A tensor borrowing the mapping; it keeps the file mapped.
  HostTensor getTensor(const SafeTensorInfo &tensor) const;

  /// `__metadata__` (empty when the file has none).
  const std::map<std::string, std::string> &getMetadata() const {
    return metadata;
  }

private:
  SafeTensorsFile() = default;

  std::string path;
  std::shared_ptr<llvm::MemoryBuffer> buffer;
  std::vector<SafeTensorInfo> tensors;
  llvm::StringMap<size_t> indexByName;
  std::map<std::string, std::string> metadata;
};

/// A tensor to write: its bytes stay owned by the caller until the write
/// returns.
struct SafeTensorsEntry {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  /// Row-major, little-endian, `bool` one byte per element.
  llvm::ArrayRef<char> bytes;
};

/// Writes a safetensors file atomically (qaf::AtomicFile). The header is
/// padded with spaces to a multiple of 8 bytes, so the data starts 8-byte
/// aligned; tensors are laid out by decreasing element size, then by name,
/// as the reference implementation does, so every tensor is aligned to its
/// element size. Fails, writing nothing, on an empty or duplicate name, a
/// name `__metadata__`, or bytes whose size does not match the shape.
llvm::Error
writeSafeTensors(llvm::StringRef path, llvm::ArrayRef<SafeTensorsEntry> tensors,
                 const std::map<std::string, std::string> &metadata);

} // namespace qaf

#endif // QAF_RUNTIME_SAFETENSORS_H
