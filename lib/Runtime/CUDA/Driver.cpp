//===- Driver.cpp - load the CUDA driver API at run time ------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include <dlfcn.h>

namespace qaf::cuda {

bool DriverAPI::load(const std::string &path, std::string &error) {
  dlerror();
  // Local: the driver's symbols must not satisfy anything else's references.
  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    error = "cannot load '" + path + "' (" +
            (reason ? reason : "unknown dlopen error") + ")";
    return false;
  }
  std::string missing;
#define QAF_RESOLVE(member, symbol, required, ...)                             \
  member = reinterpret_cast<std::add_pointer_t<__VA_ARGS__>>(                  \
      dlsym(library, #symbol));                                                \
  if (!member && required)                                                     \
    missing += std::string(missing.empty() ? "" : ", ") + #symbol;
  QAF_CUDA_DRIVER_FUNCTIONS(QAF_RESOLVE)
#undef QAF_RESOLVE
  if (missing.empty())
    return true;
  // The library stays loaded (unloading a driver that may have started
  // threads is unsafe), but none of it is used.
  *this = DriverAPI();
  error = "'" + path + "' is not a usable CUDA driver: it does not define " +
          missing;
  return false;
}

std::string DriverAPI::describe(CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  if (getErrorName)
    getErrorName(result, &name);
  if (getErrorString)
    getErrorString(result, &text);
  std::string description =
      name ? std::string(name) : "CUDA error " + std::to_string(result);
  if (text)
    description += std::string(" (") + text + ")";
  return description;
}

} // namespace qaf::cuda
