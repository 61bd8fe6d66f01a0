//===- TargetBackend.cpp - the registry of targets ------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Target/TargetBackend.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <vector>

using namespace mlir;

namespace qaf {

TargetBackend::~TargetBackend() = default;

static std::vector<TargetBackendInfo> &getRegistry() {
  static std::vector<TargetBackendInfo> registry;
  return registry;
}

void registerTargetBackend(StringRef name, StringRef description,
                           TargetBackendFactory create) {
  std::vector<TargetBackendInfo> &registry = getRegistry();
  // Registering twice (two tools' initialisation in one process) is
  // harmless: the first registration stands.
  if (llvm::any_of(registry, [&](const TargetBackendInfo &info) {
        return info.name == name;
      }))
    return;
  registry.push_back({name.str(), description.str(), std::move(create)});
}

ArrayRef<TargetBackendInfo> getRegisteredTargetBackends() {
  return getRegistry();
}

const TargetBackendInfo *lookupTargetBackend(StringRef name) {
  for (const TargetBackendInfo &info : getRegistry())
    if (info.name == name)
      return &info;
  return nullptr;
}

std::string getTargetBackendNameList() {
  return llvm::join(
      llvm::map_range(getRegistry(),
                      [](const TargetBackendInfo &info) { return info.name; }),
      ", ");
}

} // namespace qaf
