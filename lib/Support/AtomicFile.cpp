//===- AtomicFile.cpp - write files so readers never see half of one ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Support/AtomicFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llvm;

namespace qaf {

/// The length of the random part of a temporary's name (`.tmp-XXXXXX`).
static constexpr size_t kTemporarySuffixLength = 6;

/// Removes the temporaries `<destination>.tmp-XXXXXX` of writers that died
/// before committing (SIGKILL, a crash: no destructor or signal handler
/// ran). A live writer holds a lock on its temporary, which the kernel
/// releases when the writer dies, so a temporary whose lock is free is
/// stale.
static void removeStaleTemporaries(StringRef destination) {
  StringRef parent = sys::path::parent_path(destination);
  std::string prefix = (sys::path::filename(destination) + ".tmp-").str();
  std::error_code ec;
  for (sys::fs::directory_iterator entry(parent.empty() ? "." : parent, ec),
       end;
       !ec && entry != end; entry.increment(ec)) {
    StringRef name = sys::path::filename(entry->path());
    if (!name.starts_with(prefix) ||
        name.size() != prefix.size() + kTemporarySuffixLength)
      continue;
    int fd = ::open(entry->path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
      continue;
    struct stat locked, named;
    // Unlinked only while locked, and only when the name still is the file
    // that was locked.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &locked) == 0 &&
        ::lstat(entry->path().c_str(), &named) == 0 &&
        locked.st_ino == named.st_ino && locked.st_dev == named.st_dev)
      ::unlink(entry->path().c_str());
    ::close(fd);
  }
}

Expected<std::unique_ptr<AtomicFile>> AtomicFile::create(StringRef path) {
  // Writing through a symbolic link replaces the file it points to, not the
  // link (as writing in place would).
  SmallString<256> destination(path);
  if (sys::fs::is_symlink_file(path)) {
    SmallString<256> target;
    if (!sys::fs::real_path(path, target))
      destination = target;
  }
  // A device or a pipe (`-o /dev/null`) is written directly: renaming a
  // file over it would replace the device.
  sys::fs::file_status status;
  if (!sys::fs::status(destination, status) &&
      status.type() != sys::fs::file_type::regular_file &&
      status.type() != sys::fs::file_type::directory_file) {
    int fd = -1;
    if (std::error_code ec = sys::fs::openFileForWrite(
            destination, fd, sys::fs::CD_OpenExisting, sys::fs::OF_None))
      return createStringError(ec, "cannot write '%s': %s", path.str().c_str(),
                               ec.message().c_str());
    return std::unique_ptr<AtomicFile>(
        new AtomicFile(std::string(destination), "", fd));
  }
  removeStaleTemporaries(destination);
  SmallString<256> model(destination);
  model += ".tmp-" + std::string(kTemporarySuffixLength, '%');
  int fd = -1;
  SmallString<256> tempPath;
  // The temporary is locked for as long as this process lives. Another
  // writer's removeStaleTemporaries may unlink it between its creation and
  // the lock; a new one is made then.
  while (true) {
    if (std::error_code ec = sys::fs::createUniqueFile(model, fd, tempPath))
      return createStringError(ec, "cannot create a file beside '%s': %s",
                               path.str().c_str(), ec.message().c_str());
    // A file system without locks leaves the temporary unlocked (and other
    // writers never find it stale).
    struct stat status;
    if (::flock(fd, LOCK_EX) != 0 || ::fstat(fd, &status) != 0 ||
        status.st_nlink > 0)
      break;
    ::close(fd);
  }
  // An interrupted tool (Ctrl-C, a fatal error) leaves no temporary behind.
  sys::RemoveFileOnSignal(tempPath);
  return std::unique_ptr<AtomicFile>(
      new AtomicFile(std::string(destination), std::string(tempPath), fd));
}

AtomicFile::AtomicFile(std::string path, std::string tempPath, int fd)
    : path(std::move(path)), tempPath(std::move(tempPath)), fd(fd),
      stream(std::make_unique<raw_fd_ostream>(fd, /*shouldClose=*/true)) {}

AtomicFile::~AtomicFile() {
  if (committed)
    return;
  stream->clear_error();
  stream.reset();
  if (tempPath.empty())
    return;
  sys::fs::remove(tempPath);
  sys::DontRemoveFileOnSignal(tempPath);
}

Error AtomicFile::commit() {
  stream->flush();
  if (stream->has_error())
    return createStringError(stream->error(), "cannot write '%s': %s",
                             path.c_str(), stream->error().message().c_str());
  if (tempPath.empty()) {
    stream->close();
    committed = true;
    return stream->has_error()
               ? createStringError(stream->error(), "cannot write '%s'",
                                   path.c_str())
               : Error::success();
  }
  if (::fsync(fd) != 0)
    return createStringError(std::error_code(errno, std::generic_category()),
                             "cannot flush '%s' to disk", path.c_str());
  stream->close();
  if (stream->has_error())
    return createStringError(stream->error(), "cannot close '%s'",
                             path.c_str());
  if (std::error_code ec = sys::fs::rename(tempPath, path))
    return createStringError(ec, "cannot rename '%s' to '%s': %s",
                             tempPath.c_str(), path.c_str(),
                             ec.message().c_str());
  sys::DontRemoveFileOnSignal(tempPath);
  committed = true;
  return Error::success();
}

} // namespace qaf
