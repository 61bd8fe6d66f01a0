//===- Phase.cpp - the phases of a compilation ----------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Target/Phase.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

namespace qaf {

llvm::ArrayRef<PhaseInfo> getPhaseTable() {
  static const PhaseInfo table[] = {
      {Phase::ONNX, "onnx", "the onnx dialect as imported"},
      {Phase::Outlined, "outlined",
       "weights outlined into entry point arguments, still onnx/qaf ops"},
      {Phase::Linalg, "linalg", "linalg, tensor and arith on tensors, fused"},
      {Phase::Loops, "loops", "buffers, kernel calls and parallel loops"},
      {Phase::LLVM, "llvm", "the LLVM dialect"},
      {Phase::LLVMIR, "llvm-ir", "LLVM IR text (.ll)"},
      {Phase::Object, "object", "an object file (.o)"},
      {Phase::Artifact, "artifact",
       "an artifact folder: library, weights, manifest"},
  };
  return table;
}

llvm::StringRef getPhaseName(Phase phase) {
  const PhaseInfo &info = getPhaseTable()[static_cast<size_t>(phase)];
  assert(info.phase == phase && "the phase table follows the enum's order");
  return info.name;
}

std::optional<Phase> parsePhase(llvm::StringRef name) {
  for (const PhaseInfo &info : getPhaseTable())
    if (info.name == name)
      return info.phase;
  return std::nullopt;
}

std::string getPhaseNameList() {
  return llvm::join(
      llvm::map_range(getPhaseTable(),
                      [](const PhaseInfo &info) { return info.name.str(); }),
      ", ");
}

void addPhaseNames(mlir::detail::PassOptions::Option<Phase> &option) {
  for (const PhaseInfo &info : getPhaseTable())
    option.getParser().addLiteralOption(info.name, info.phase,
                                        info.description);
}

} // namespace qaf
