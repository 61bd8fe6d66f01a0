//===- ErrorChannel.h - errors reported by generated code -------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// How a compiled model reports a failed run-time check (docs/artifact-abi.md,
// "Calling an entry point"). Linked into every model.so with the kernels.
//
// Each packed entry point `int32_t qaf_entry_<name>(void **args)` brackets
// its call with qaf_call_begin/qaf_call_end: calls into one library are
// serialized (they use every OpenMP thread anyway), so the one error slot
// below belongs to the call in progress. A check that fails, on any thread
// and inside a parallel region too, records its message with
// qaf_report_error (the first one wins, under a lock) and returns; the
// generated code then skips the work the check guards. qaf_call_end copies
// the message to the calling thread, where qaf_last_error reads it.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_CPU_ERRORCHANNEL_H
#define QAF_RUNTIME_CPU_ERRORCHANNEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes an entry point returns.
enum {
  QAF_STATUS_OK = 0,
  /// An input the model cannot run on: an index out of range, sizes that do
  /// not broadcast, a reshape or contraction of mismatched sizes.
  QAF_STATUS_INVALID_INPUT = 1,
  /// A buffer could not be allocated.
  QAF_STATUS_OUT_OF_MEMORY = 2,
};

/// Records a failed check of the call in progress unless one is recorded
/// already. `format` is the message, in which `{0}`, `{1}` and `{2}` stand
/// for `v0`, `v1` and `v2` in decimal. Thread-safe; never aborts.
void qaf_report_error(int32_t code, const char *format, int64_t v0, int64_t v1,
                      int64_t v2);

/// Whether a check of the call in progress failed (1) or not (0): how
/// generated code skips the work after a failure on another thread, or in
/// a region it cannot carry a flag out of. Thread-safe, lock-free.
int32_t qaf_check_failed(void);

/// Starts a call: waits for any other call into this library to end, then
/// clears the error slot.
void qaf_call_begin(void);

/// Ends the call started by qaf_call_begin: returns the recorded status
/// (QAF_STATUS_OK when no check failed) and keeps its message for
/// qaf_last_error on the calling thread.
int32_t qaf_call_end(void);

/// The message of the last failed call on this thread ("" after a call that
/// succeeded). Valid until the thread's next call.
const char *qaf_last_error(void);

/// Frees `count` output allocations of a failed call, each distinct non-null
/// pointer once (outputs may share one allocation).
void qaf_discard_outputs(void **allocated, int64_t count);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // QAF_RUNTIME_CPU_ERRORCHANNEL_H
