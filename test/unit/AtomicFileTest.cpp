//===- AtomicFileTest.cpp - atomic file writes ----------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Support/AtomicFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

using namespace llvm;
using qaf::AtomicFile;

namespace {

class AtomicFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(sys::fs::createUniqueDirectory("qaf-atomic-file-test", dir));
  }
  void TearDown() override { sys::fs::remove_directories(dir); }

  std::string pathOf(StringRef name) {
    SmallString<256> path(dir);
    sys::path::append(path, name);
    return std::string(path);
  }

  /// The names in the test folder, sorted.
  std::vector<std::string> listFolder() {
    std::vector<std::string> names;
    std::error_code ec;
    for (sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec))
      names.push_back(sys::path::filename(it->path()).str());
    EXPECT_FALSE(ec);
    llvm::sort(names);
    return names;
  }

  static void writeFile(StringRef path, StringRef contents) {
    std::error_code ec;
    raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << contents;
  }

  /// Commits, and returns the error message ("" on success).
  static std::string commit(AtomicFile &file) {
    if (Error error = file.commit())
      return toString(std::move(error));
    return "";
  }

  static std::string readFile(StringRef path) {
    auto buffer = MemoryBuffer::getFile(path);
    if (!buffer)
      return "<unreadable: " + buffer.getError().message() + ">";
    return (*buffer)->getBuffer().str();
  }

  SmallString<256> dir;
};

TEST_F(AtomicFileTest, CommitCreatesTheFile) {
  std::string path = pathOf("model.onnx");
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  EXPECT_EQ((*file)->getPath(), path);
  (*file)->os() << "weights";
  ASSERT_EQ(commit(**file), "");
  file->reset();
  EXPECT_EQ(readFile(path), "weights");
  EXPECT_EQ(listFolder(), std::vector<std::string>{"model.onnx"});
}

TEST_F(AtomicFileTest, CommitReplacesTheDestination) {
  std::string path = pathOf("model.onnx");
  writeFile(path, "old contents, longer than the new ones");
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  (*file)->os() << "new";
  // Until the commit, readers see the old file.
  EXPECT_EQ(readFile(path), "old contents, longer than the new ones");
  ASSERT_EQ(commit(**file), "");
  EXPECT_EQ(readFile(path), "new");
  file->reset();
  EXPECT_EQ(listFolder(), std::vector<std::string>{"model.onnx"});
}

TEST_F(AtomicFileTest, WritesGoToATemporaryBesideTheDestination) {
  std::string path = pathOf("model.onnx");
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  std::vector<std::string> names = listFolder();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_TRUE(StringRef(names[0]).starts_with("model.onnx.tmp-")) << names[0];
}

TEST_F(AtomicFileTest, RemovesTheTemporariesOfDeadWritersOnly) {
  std::string path = pathOf("model.onnx");
  // A writer killed outright leaves its temporary unlocked; a live one (this
  // test, standing in for another process) holds its lock. Another
  // destination's temporary is not this file's.
  writeFile(pathOf("model.onnx.tmp-dead01"), "partial");
  writeFile(pathOf("model.onnx.tmp-live01"), "partial");
  writeFile(pathOf("other.onnx.tmp-dead02"), "partial");
  int live = ::open(pathOf("model.onnx.tmp-live01").c_str(), O_RDONLY);
  ASSERT_GE(live, 0);
  ASSERT_EQ(::flock(live, LOCK_EX), 0);
  // flock locks belong to the open file: a second open in this process
  // cannot take it either, as another process could not.
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  (*file)->os() << "new";
  ASSERT_EQ(commit(**file), "");
  file->reset();
  ::close(live);
  EXPECT_EQ(listFolder(),
            std::vector<std::string>({"model.onnx", "model.onnx.tmp-live01",
                                      "other.onnx.tmp-dead02"}));
}

TEST_F(AtomicFileTest, UncommittedFileLeavesDestinationUntouched) {
  std::string path = pathOf("model.onnx");
  writeFile(path, "old");
  {
    Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
    ASSERT_TRUE(bool(file)) << toString(file.takeError());
    (*file)->os() << "half-written";
    (*file)->os().flush();
    EXPECT_EQ(listFolder().size(), 2u);
  }
  EXPECT_EQ(readFile(path), "old");
  // The temporary is gone too.
  EXPECT_EQ(listFolder(), std::vector<std::string>{"model.onnx"});
}

TEST_F(AtomicFileTest, WritingThroughASymbolicLinkReplacesItsTarget) {
  std::string target = pathOf("model.mlirbc"), link = pathOf("link.mlirbc");
  writeFile(target, "old");
  ASSERT_FALSE(sys::fs::create_link("model.mlirbc", link));
  auto file = AtomicFile::create(link);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  (*file)->os() << "new";
  EXPECT_EQ(commit(**file), "");
  EXPECT_TRUE(sys::fs::is_symlink_file(link));
  EXPECT_EQ(readFile(target), "new");
  EXPECT_EQ(listFolder(),
            (std::vector<std::string>{"link.mlirbc", "model.mlirbc"}));
}

TEST_F(AtomicFileTest, ADeviceIsWrittenDirectly) {
  // Renaming a temporary over /dev/null would replace the device.
  sys::fs::file_status before;
  if (sys::fs::status("/dev/null", before) ||
      before.type() != sys::fs::file_type::character_file)
    GTEST_SKIP() << "/dev/null is not a device on this machine";
  auto file = AtomicFile::create("/dev/null");
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  (*file)->os() << "discarded";
  EXPECT_EQ(commit(**file), "");
  sys::fs::file_status status;
  ASSERT_FALSE(sys::fs::status("/dev/null", status));
  EXPECT_EQ(status.type(), sys::fs::file_type::character_file);
}

TEST_F(AtomicFileTest, UncommittedFileCreatesNothing) {
  {
    Expected<std::unique_ptr<AtomicFile>> file =
        AtomicFile::create(pathOf("model.onnx"));
    ASSERT_TRUE(bool(file)) << toString(file.takeError());
    (*file)->os() << "discarded";
  }
  EXPECT_TRUE(listFolder().empty());
}

TEST_F(AtomicFileTest, MissingFolderFailsCleanly) {
  std::string path = pathOf("missing/folder/model.onnx");
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  ASSERT_FALSE(bool(file));
  std::string message = toString(file.takeError());
  EXPECT_NE(message.find("missing/folder/model.onnx"), std::string::npos)
      << message;
  EXPECT_TRUE(listFolder().empty());
}

TEST_F(AtomicFileTest, LargeWritesArriveWhole) {
  std::string path = pathOf("weights.data");
  std::string contents(3 << 20, '\0');
  for (size_t i = 0; i < contents.size(); ++i)
    contents[i] = static_cast<char>(i * 131 + (i >> 13));
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  (*file)->os().write(contents.data(), contents.size());
  ASSERT_EQ(commit(**file), "");
  EXPECT_TRUE(readFile(path) == contents);
}

} // namespace
