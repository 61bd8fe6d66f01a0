//===- ErrorChannel.cpp - errors reported by generated code ---------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/ErrorChannel.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#define QAF_API extern "C" __attribute__((visibility("default")))

namespace {

/// Room for a node name and a few numbers; longer messages are cut.
constexpr size_t kMessageCapacity = 1024;

/// One call at a time runs in a library (qaf_call_begin), so one slot.
std::mutex callMutex;
std::mutex slotMutex;
/// Written under slotMutex; read without it by qaf_check_failed, which
/// generated code calls once per loop iteration.
std::atomic<int32_t> slotCode{QAF_STATUS_OK};
char slotMessage[kMessageCapacity];

thread_local char lastError[kMessageCapacity];

/// `format` with `{i}` replaced by values[i] (i in 0..2), cut to fit.
void formatMessage(char *out, size_t capacity, const char *format,
                   const int64_t values[3]) {
  size_t used = 0;
  auto append = [&](const char *text, size_t length) {
    size_t room = capacity - 1 - used;
    size_t taken = length < room ? length : room;
    std::memcpy(out + used, text, taken);
    used += taken;
  };
  for (const char *p = format; *p; ++p) {
    if (p[0] == '{' && p[1] >= '0' && p[1] <= '2' && p[2] == '}') {
      char number[24];
      int length =
          std::snprintf(number, sizeof number, "%" PRId64, values[p[1] - '0']);
      append(number, static_cast<size_t>(length));
      p += 2;
      continue;
    }
    append(p, 1);
  }
  out[used] = '\0';
}

} // namespace

QAF_API void qaf_report_error(int32_t code, const char *format, int64_t v0,
                              int64_t v1, int64_t v2) {
  std::lock_guard<std::mutex> lock(slotMutex);
  if (slotCode != QAF_STATUS_OK)
    return;
  const int64_t values[3] = {v0, v1, v2};
  formatMessage(slotMessage, kMessageCapacity, format, values);
  slotCode.store(code == QAF_STATUS_OK ? QAF_STATUS_INVALID_INPUT : code,
                 std::memory_order_release);
}

QAF_API int32_t qaf_check_failed(void) {
  return slotCode.load(std::memory_order_acquire) != QAF_STATUS_OK;
}

QAF_API void qaf_call_begin(void) {
  callMutex.lock();
  std::lock_guard<std::mutex> lock(slotMutex);
  slotCode.store(QAF_STATUS_OK, std::memory_order_release);
  slotMessage[0] = '\0';
}

QAF_API int32_t qaf_call_end(void) {
  int32_t code;
  {
    std::lock_guard<std::mutex> lock(slotMutex);
    code = slotCode.load(std::memory_order_acquire);
    std::memcpy(lastError, slotMessage, kMessageCapacity);
  }
  callMutex.unlock();
  return code;
}

QAF_API const char *qaf_last_error(void) { return lastError; }

QAF_API void qaf_discard_outputs(void **allocated, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    bool seen = false;
    for (int64_t j = 0; j < i && !seen; ++j)
      seen = allocated[j] == allocated[i];
    if (!seen)
      std::free(allocated[i]);
  }
}
