//===- AtomicFile.h - write files so readers never see half of one -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_SUPPORT_ATOMICFILE_H
#define QAF_SUPPORT_ATOMICFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace qaf {

/// A file written under a temporary name beside its destination, flushed to
/// disk (fsync) and renamed over the destination by `commit()`. Destroying an
/// uncommitted file removes the temporary, so an error or a crash between
/// the two never leaves a half-written file at the destination. The
/// temporary stays locked while its writer lives, so that the temporaries
/// of a writer killed outright (SIGKILL) are removed by the next `create`
/// for the same destination. A destination that is a device or a pipe
/// (`/dev/null`) is written directly.
class AtomicFile {
public:
  /// Removes stale `<path>.tmp-XXXXXX` files, then creates and locks one in
  /// the destination's folder.
  static llvm::Expected<std::unique_ptr<AtomicFile>>
  create(llvm::StringRef path);
  ~AtomicFile();

  llvm::raw_fd_ostream &os() { return *stream; }
  const std::string &getPath() const { return path; }

  /// Flushes, fsyncs and renames into place. Fails if any write failed.
  llvm::Error commit();

private:
  AtomicFile(std::string path, std::string tempPath, int fd);
  std::string path, tempPath;
  int fd;
  std::unique_ptr<llvm::raw_fd_ostream> stream;
  bool committed = false;
};

} // namespace qaf

#endif // QAF_SUPPORT_ATOMICFILE_H
