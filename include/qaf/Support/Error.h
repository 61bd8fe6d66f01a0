//===- Error.h - qaf's string errors ----------------------------*- C++ -*-===//
//
// One way to make the llvm::Error that qaf's libraries and tools return for
// bad input: a message, no error code (callers print it, nobody matches on
// it).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_SUPPORT_ERROR_H
#define QAF_SUPPORT_ERROR_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

namespace qaf {

/// An llvm::Error carrying `message` (unlike llvm::createStringError, whose
/// printf-style overload would take a lone message as a format string).
inline llvm::Error makeError(const llvm::Twine &message) {
  return llvm::make_error<llvm::StringError>(message,
                                             llvm::inconvertibleErrorCode());
}

} // namespace qaf

#endif // QAF_SUPPORT_ERROR_H
