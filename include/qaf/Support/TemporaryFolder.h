//===- TemporaryFolder.h - one process's intermediate files -----*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A compile's intermediate files (the object code of a model's parts, the
// object linked into the library) live in a folder of their own in the
// system's temporary folder, never in the artifact folder. The folder is
// removed when the compile ends, successfully or not; its files on a
// signal LLVM handles; and a folder left by a killed compile (SIGKILL, a
// crash) by the next compile: the owner holds a lock on it while it runs,
// and the kernel releases the lock when the owner dies.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_SUPPORT_TEMPORARYFOLDER_H
#define QAF_SUPPORT_TEMPORARYFOLDER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace qaf {

/// The prefix of qaf-compile's folders.
constexpr llvm::StringLiteral kCompileFolderPrefix = "qaf-compile";

class TemporaryFolder {
public:
  /// Removes the `<prefix>-*` folders of dead processes from the system's
  /// temporary folder, then creates and locks `<prefix>-XXXXXX` there.
  static llvm::Expected<std::unique_ptr<TemporaryFolder>>
  create(llvm::StringRef prefix);

  /// Removes the folder and everything in it.
  ~TemporaryFolder();

  TemporaryFolder(const TemporaryFolder &) = delete;
  TemporaryFolder &operator=(const TemporaryFolder &) = delete;

  llvm::StringRef path() const { return folder; }

  /// The path of a file `name` in the folder, removed on a signal.
  std::string file(llvm::StringRef name);

private:
  TemporaryFolder(std::string folder, int lock)
      : folder(std::move(folder)), lock(lock) {}

  std::string folder;
  /// The folder's descriptor, holding its lock.
  int lock;
  std::vector<std::string> files;
};

} // namespace qaf

#endif // QAF_SUPPORT_TEMPORARYFOLDER_H
