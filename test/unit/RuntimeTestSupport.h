//===- RuntimeTestSupport.h - shared helpers of the runtime tests -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_TEST_UNIT_RUNTIMETESTSUPPORT_H
#define QAF_TEST_UNIT_RUNTIMETESTSUPPORT_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cstring>
#include <string>
#include <vector>

namespace qaf::testing {

/// A fresh folder, removed with everything in it after the test.
class TempDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qaf-runtime-test", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string pathOf(llvm::StringRef name) const {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }

  static void writeFile(llvm::StringRef path, llvm::StringRef contents) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec) << ec.message();
    os << contents;
  }

  static std::string readFile(llvm::StringRef path) {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return "<unreadable: " + buffer.getError().message() + ">";
    return (*buffer)->getBuffer().str();
  }

  /// The names in the test folder.
  std::vector<std::string> listFolder() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    llvm::sort(names);
    return names;
  }

  llvm::SmallString<256> dir;
};

/// The message of an error ("" for success), consuming it.
inline std::string messageOf(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : "";
}

/// The message of a failed Expected ("" if it holds a value).
template <typename T> std::string messageOf(llvm::Expected<T> &value) {
  return value ? "" : llvm::toString(value.takeError());
}

/// The raw bytes of a vector of values.
template <typename T> llvm::ArrayRef<char> bytesOf(const std::vector<T> &v) {
  return {reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T)};
}

/// `count` values of a tensor's bytes, as T.
template <typename T> std::vector<T> valuesOf(llvm::ArrayRef<char> bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

} // namespace qaf::testing

#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << (text) << "' does not contain '" << (part) << "'"

#endif // QAF_TEST_UNIT_RUNTIMETESTSUPPORT_H
