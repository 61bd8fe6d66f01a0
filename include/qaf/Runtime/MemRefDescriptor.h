//===- MemRefDescriptor.h - memref descriptors of the entry ABI -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// An entry point `void qaf_entry_<name>(void **args)` (docs/artifact-abi.md)
// takes memref descriptors: `{allocated, aligned, offset, sizes[r],
// strides[r]}`, all fields 8 bytes. `args[0]` points to the results (the
// outputs' descriptors back to back), `args[1 + i]` to the descriptor of
// weight i, then of each input.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_MEMREFDESCRIPTOR_H
#define QAF_RUNTIME_MEMREFDESCRIPTOR_H

#include "qaf/Runtime/HostTensor.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace qaf {

/// 8-byte words in a descriptor of rank `rank`.
constexpr size_t getMemRefDescriptorWords(int64_t rank) { return 3 + 2 * rank; }

/// Fills `words` (getMemRefDescriptorWords(shape.size()) of them) with the
/// descriptor of a contiguous row-major array at `data`: allocated = aligned
/// = data, offset 0, row-major strides.
void writeContiguousMemRefDescriptor(llvm::MutableArrayRef<int64_t> words,
                                     const void *data,
                                     llvm::ArrayRef<int64_t> shape);

/// Reads a descriptor stored in 8-byte words.
class MemRefDescriptorView {
public:
  MemRefDescriptorView(const int64_t *words, int64_t rank)
      : words(words), rank(rank) {}

  void *getAllocated() const { return reinterpret_cast<void *>(words[0]); }
  void *getAligned() const { return reinterpret_cast<void *>(words[1]); }
  int64_t getOffset() const { return words[2]; }
  int64_t getRank() const { return rank; }
  llvm::ArrayRef<int64_t> getSizes() const { return {words + 3, size_t(rank)}; }
  llvm::ArrayRef<int64_t> getStrides() const {
    return {words + 3 + rank, size_t(rank)};
  }
  /// Whether the strides are those of a row-major array of the sizes (the
  /// stride of a dimension of size 1 does not matter).
  bool isContiguous() const;

private:
  const int64_t *words;
  int64_t rank;
};

/// The tensor a result descriptor describes. `allocation` owns
/// `getAllocated()` (it frees it once the last tensor using it is gone): a
/// contiguous result borrows it, a strided one is copied into a fresh
/// tensor. Fails, naming `what`, on negative or oversized sizes.
llvm::Expected<HostTensor>
makeResultTensor(const MemRefDescriptorView &descriptor, DType dtype,
                 std::shared_ptr<const void> allocation, llvm::StringRef what);

/// The `void **args` of one entry point call: descriptors of the operands
/// (weights, then inputs) and room for the results.
class EntryPointArguments {
public:
  /// Room for results of the given ranks, in manifest order.
  explicit EntryPointArguments(llvm::ArrayRef<int64_t> resultRanks);

  /// Appends the descriptor of a contiguous operand.
  void addOperand(const void *data, llvm::ArrayRef<int64_t> shape);

  /// The argument array: valid until this object is changed or destroyed.
  void **getArgs();

  size_t getNumResults() const { return resultOffsets.size(); }
  /// The descriptor the callee wrote for result `index`.
  MemRefDescriptorView getResult(size_t index) const;

private:
  std::vector<int64_t> resultWords;
  std::vector<size_t> resultOffsets;
  std::vector<int64_t> resultRanks;
  std::vector<std::vector<int64_t>> operandWords;
  std::vector<void *> args;
};

} // namespace qaf

#endif // QAF_RUNTIME_MEMREFDESCRIPTOR_H
