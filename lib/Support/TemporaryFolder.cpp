//===- TemporaryFolder.cpp - one process's intermediate files -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Support/TemporaryFolder.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llvm;

namespace qaf {

/// Opens `folder` and takes its lock without waiting: -1 when another live
/// process holds it (or the folder is gone).
static int tryLockFolder(StringRef folder) {
  int fd = ::open(folder.str().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Removes the folders `<prefix>-*` in `parent` whose lock is free: their
/// process died without removing them.
static void removeAbandoned(StringRef parent, StringRef prefix) {
  std::error_code ec;
  std::string stem = (prefix + "-").str();
  for (sys::fs::directory_iterator entry(parent, ec), end; !ec && entry != end;
       entry.increment(ec)) {
    StringRef name = sys::path::filename(entry->path());
    if (!name.starts_with(stem) ||
        entry->type() != sys::fs::file_type::directory_file)
      continue;
    int fd = tryLockFolder(entry->path());
    if (fd < 0)
      continue;
    sys::fs::remove_directories(entry->path(), /*IgnoreErrors=*/true);
    ::close(fd);
  }
}

Expected<std::unique_ptr<TemporaryFolder>>
TemporaryFolder::create(StringRef prefix) {
  SmallString<256> parent;
  sys::path::system_temp_directory(/*ErasedOnReboot=*/true, parent);
  removeAbandoned(parent, prefix);
  // A folder another compile's clean-up removes between its creation and
  // its lock is made again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    SmallString<256> model(parent), folder;
    sys::path::append(model, prefix);
    if (std::error_code ec = sys::fs::createUniqueDirectory(model, folder))
      return createStringError(ec, "cannot create a temporary folder: %s",
                               ec.message().c_str());
    int fd = tryLockFolder(folder);
    struct stat opened, named;
    if (fd >= 0 && ::fstat(fd, &opened) == 0 &&
        ::stat(folder.c_str(), &named) == 0 && opened.st_ino == named.st_ino &&
        opened.st_dev == named.st_dev)
      return std::unique_ptr<TemporaryFolder>(
          new TemporaryFolder(std::string(folder), fd));
    if (fd >= 0)
      ::close(fd);
  }
  return createStringError(std::errc::resource_unavailable_try_again,
                           "cannot create a temporary folder in %s",
                           parent.c_str());
}

TemporaryFolder::~TemporaryFolder() {
  sys::fs::remove_directories(folder, /*IgnoreErrors=*/true);
  for (const std::string &path : files)
    sys::DontRemoveFileOnSignal(path);
  ::close(lock);
}

std::string TemporaryFolder::file(StringRef name) {
  SmallString<256> path(folder);
  sys::path::append(path, name);
  sys::RemoveFileOnSignal(path);
  files.push_back(std::string(path));
  return files.back();
}

} // namespace qaf
